import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ROOT } from '../../codegen/paths.js';

/**
 * The native addon (native/, Node-API, C): real VFIO file descriptors and the simulated device behind
 * one fd-based surface. A simulated device is a real file descriptor too (an eventfd that reserves the
 * number), so `ioctl`, `pread`, `pwrite`, `mmap` and `close` take either kind.
 *
 * Every failure throws an Error whose `code` is the errno name ("EINVAL"), `errno` the number, and
 * whose message names the call and its arguments. A simulated device also names the rule of the spec
 * that refused the call, in `rule` ("within-parent", "not-mapped", "one-memtype-per-page"); a kernel
 * reports only the errno.
 */
export interface NativeAddon {
  /** open(2) with O_RDWR | O_CLOEXEC. */
  open(path: string): number;
  /**
   * The legacy group path: opens /dev/vfio/vfio, checks the API version, opens the group file, checks
   * it is viable, attaches it to the container, selects the type1 IOMMU and asks for the device fd.
   */
  openGroupDevice(containerPath: string, groupPath: string, deviceName: string): { container: number; group: number; device: number };
  /** The iommufd path: opens a /dev/vfio/devices/vfioN cdev, binds it to /dev/iommu and attaches an IOAS. */
  openCdevDevice(cdevPath: string, iommuPath: string): { iommufd: number; device: number };
  /** ioctl(2) with `arg` as the argument buffer (read and written in place). Returns ioctl's result. */
  ioctl(fd: number, request: number, arg: Uint8Array): number;
  /** pread(2) into `buf` at a 64-bit file offset; returns the bytes read. */
  pread(fd: number, buf: Uint8Array, offset: bigint): number;
  /** pwrite(2) from `buf` at a 64-bit file offset; returns the bytes written. */
  pwrite(fd: number, buf: Uint8Array, offset: bigint): number;
  /**
   * mmap(2) MAP_SHARED of `length` bytes at a 64-bit file offset. The ArrayBuffer views the mapping;
   * `munmap(id)` unmaps it and detaches the ArrayBuffer so later JS access sees an empty buffer,
   * never freed memory.
   */
  mmap(fd: number, offset: bigint, length: number, prot: number): { id: number; buffer: ArrayBuffer; address: bigint };
  munmap(id: number): void;
  /**
   * Maps `length` bytes of the fd at `offset` over bytes [at, at + length) of a WebAssembly.Memory's
   * linear memory with MAP_FIXED | MAP_SHARED (for a simulated device: of its backing file at the
   * region's offset), so plain wasm loads and stores there reach the region. `view` is a Uint8Array
   * over the whole of `memory.buffer` (it works for shared memories too); `at` and `length` must be
   * page-aligned and the window must lie inside the memory's current size (EINVAL otherwise), and not
   * overlap another window (EBUSY). prot must be PROT_READ | PROT_WRITE. The addon holds a strong
   * reference to the Memory until `munmap(id)`, which puts anonymous zero pages back over the range
   * (so the guest's addresses stay ordinary memory); closing a simulated device does the same first.
   */
  wasmMap(fd: number, offset: bigint, length: number, prot: number, memory: object, view: Uint8Array, at: number): { id: number; address: bigint };
  /** One volatile read of `width` bits at `offset` in a mapping or window (aligned, inside it): a number, or a bigint for 64. */
  mmioRead(id: number, offset: number, width: 8 | 16 | 32): number;
  mmioRead(id: number, offset: number, width: 64): bigint;
  mmioRead(id: number, offset: number, width: number): number | bigint;
  /** One volatile write of `width` bits (value a number, or a bigint). */
  mmioWrite(id: number, offset: number, width: number, value: number | bigint): void;
  /**
   * The native C accessor: runs a program of 16-byte records { u8 op; u8 width; u16 pad; u32 offset;
   * u64 value } on a mapping; reads leave their value in the record. Ops: 1 write, 2 read, 3 burst64
   * (followed by its 64 source bytes), 4 wmb, 5 flush (a 32-bit read at offset), 6 mb.
   */
  mmioExec(id: number, program: Uint8Array): void;
  /**
   * Native baseline loops on a mapping (ns per iteration): op 0 write32, 1 read32, 2 burst64, 3 sfence +
   * doorbell write32, 4 locked add on a stack word + doorbell, 5 mfence + doorbell, 6 write64.
   */
  mmioBench(id: number, offset: number, op: number, iterations: number, doorbellId: number, doorbellOffset: number): number;
  /** Store fence: sfence (x86), dmb oshst (arm64). Ignores its arguments, so it can be a wasm import directly. */
  wmb(...ignored: unknown[]): void;
  /** Full fence: mfence (x86), dmb osh (arm64). */
  mb(...ignored: unknown[]): void;
  /** Load fence: lfence (x86), dmb oshld (arm64). */
  rmb(...ignored: unknown[]): void;
  /** close(2); for a simulated device also tears down its mappings and regions. */
  close(fd: number): void;
  /** Creates a simulated vfio-pci device from a {@link SimConfig}; returns its fd. */
  simCreate(config: SimConfig): number;
  /** The live mappings of a simulated device and the attributes each got. */
  simMappings(fd: number): SimMapping[];
  /** The shared-memory file that backs a memory region of a simulated device (its path, and the offset of the region in it). */
  simBacking(fd: number, index: number): { path: string; offset: bigint; size: bigint } | null;
  /** Page size the native side uses (sysconf(_SC_PAGESIZE)). */
  pageSize: number;
  PROT_READ: number;
  PROT_WRITE: number;
}

/** One region of a simulated device, in region-index order (BAR0..5, ROM, CONFIG, VGA). */
export interface SimRegionConfig {
  /** Bytes; 0 for an unimplemented region. */
  size: bigint;
  /** 'memory' regions are backed by shared memory; 'io' and 'config' regions only by read/write. */
  kind: 'memory' | 'io' | 'config' | 'none';
  readable: boolean;
  writable: boolean;
  mmap: boolean;
  /** VFIO_REGION_ATTR_* bits the device allows on this region. */
  supportedAttrs: number;
  /** Sparse mmap areas; the region then reports VFIO_REGION_INFO_CAP_SPARSE_MMAP. */
  sparse?: { offset: bigint; size: bigint }[];
  /** A VFIO_REGION_INFO_CAP_TYPE to report. */
  type?: { type: number; subtype: number };
  /** Report VFIO_REGION_INFO_CAP_MSIX_MAPPABLE. */
  msixMappable?: boolean;
  /** A memory BAR whose config-space register has the prefetchable bit. */
  prefetchable?: boolean;
}

export interface SimConfig {
  regions: SimRegionConfig[];
  numIrqs: number;
  /** How many subregions the device may hold. */
  maxSubregions: number;
  /** Directory for the BAR backing files (default: /dev/shm). */
  shmDir?: string;
  /** PCI identity in the config region's header (defaults: 0x1b36, 0x0005, class 0). */
  vendorId?: number;
  deviceId?: number;
  /** base class << 16 | subclass << 8 | programming interface. */
  classCode?: number;
}

export interface SimMapping {
  /** The region the mapping was made from. */
  index: number;
  /** Offset within that region, and length. */
  offset: bigint;
  length: number;
  /** VFIO_REGION_ATTR_* the simulated page tables got. */
  attrs: number;
  prot: number;
  address: bigint;
}

const ADDON = resolve(ROOT, 'native/build/Release/vfio_native.node');

function addonPath(): string {
  if (existsSync(ADDON)) return ADDON;
  throw new Error('the native addon is not built: run `npm install` (it needs python3, make and a C compiler; see the README)');
}

let cached: NativeAddon | undefined;

/** Loads the addon once. */
export function native(): NativeAddon {
  cached ??= createRequire(import.meta.url)(addonPath()) as NativeAddon;
  return cached;
}
