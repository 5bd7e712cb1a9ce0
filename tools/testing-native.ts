import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ROOT } from '../runtime/src/paths.js';

/**
 * The test/bench-only native module (native/testing/, built next to the addon as vfio_testing.node).
 * Only tools/bench.ts, examples' bench code, test/kernel/bench-guest.mjs and tests load it; nothing an application uses
 * imports this file, and the production addon (native.ts) has none of these entry points.
 *
 * The MMIO calls take a raw mapping address (`Mapping.address`, `WasmWindow.address`) and its length
 * in bytes, and TRUST the address: pass only a live mapping of at least `length` bytes. Every offset
 * is checked against `length` (and for natural alignment of the absolute address); a wrong kind of
 * argument throws a TypeError, a value out of range a RangeError.
 */
export interface TestingNative {
  /**
   * The native C accessor: runs a program of 16-byte records { u8 op; u8 width; u16 pad; u32 offset;
   * u64 value } (little-endian) on the mapping; reads (and flushes) leave their value in the record.
   * Ops: 1 write, 2 read, 3 burst64 (followed by its 64 source bytes; 64-byte aligned), 4 wmb,
   * 5 flush (a 32-bit read at offset), 6 mb.
   */
  mmioExec(address: bigint, length: number, program: Uint8Array): void;
  /**
   * Native baseline loops (ns per iteration) on [address + offset, + 64) (64-byte aligned) and a
   * doorbell at doorbellAddress + doorbellOffset (4-byte aligned): op 0 write32, 1 read32, 2 burst64,
   * 3 sfence + doorbell write32, 4 locked add on a stack word + doorbell, 5 mfence + doorbell, 6 write64.
   */
  mmioBench(address: bigint, length: number, offset: number, op: number, iterations: number, doorbellAddress: bigint, doorbellLength: number, doorbellOffset: number): number;
  /** An empty Node-API call: the floor of any addon call. */
  floorEmpty(): undefined;
  /**
   * Reads an fd (an integer in [0, 2^31)) and a Uint8Array the way the addon's ioctl reads its
   * arguments, without a system call; returns fd + bytes.length.
   */
  floorIntBytes(fd: number, bytes: Uint8Array): number;
  /**
   * `iterations` calls of ioctl(fd, request, buf) in C on a 64-byte stack buffer (argsz 32, index 0 at
   * offset 8): ns per call, and the errno of the last call (0 if it succeeded). A request whose
   * encoded size exceeds 64 bytes is refused.
   */
  ioctlLoop(fd: number, request: number, iterations: number): { ns: number; errno: number };
  /**
   * The real-device baselines of test/kernel/bench-guest.mjs, on an fd the production addon opened
   * (found in /proc/self/fd), each stopping at the first error (its errno; 0 when none):
   * `iterations` of Device.region(index)'s system calls in C (GET_REGION_INFO with argsz 256, then
   * the generated walker over the chain, if any; `flags` is the region's).
   */
  regionInfoLoop(fd: number, index: number, iterations: number): { ns: number; errno: number; flags: number };
  /** createSubregion + map + unmap's system calls in C: FEATURE_SUBREGION SET, the new region's info, mmap, munmap. */
  subregionLoop(fd: number, parent: number, offset: bigint, size: bigint, attrs: number, iterations: number): { ns: number; errno: number };
  /** VFIO_IOMMU_MAP_DMA of all of `bytes` (page-aligned) at `iova`, read and write, then VFIO_IOMMU_UNMAP_DMA of it, on a type1 container fd. */
  dmaLoop(containerFd: number, bytes: Uint8Array, iova: bigint, iterations: number): { ns: number; errno: number };
  /** IOMMU_IOAS_MAP (FIXED_IOVA, read and write) of all of `bytes` at `iova`, then IOMMU_IOAS_UNMAP of it, on an iommufd fd with one IOAS (errno ENOENT: none). */
  ioasLoop(iommufd: number, bytes: Uint8Array, iova: bigint, iterations: number): { ns: number; errno: number };
}

const MODULE = resolve(ROOT, 'native/build/Release/vfio_testing.node');

let cached: TestingNative | undefined;

/** Loads native/build/Release/vfio_testing.node once. */
export function testingNative(): TestingNative {
  if (cached) return cached;
  if (!existsSync(MODULE)) throw new Error('the test/bench native module is not built: run `node native/build.mjs` (or `npm install`)');
  cached = createRequire(import.meta.url)(MODULE) as TestingNative;
  return cached;
}
