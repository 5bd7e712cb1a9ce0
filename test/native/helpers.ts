// Helpers for the native addon tests: a standard simulated device, the VFIO structs as bytes, and
// errno assertions.
import { readdirSync } from 'node:fs';
import { constants } from 'node:os';
import { expect } from 'vitest';
import type { DeviceHandle, MappingHandle, NativeAddon, SimConfig, SimRegionConfig } from '../../runtime/src/native.js';

/** -errno as the addon returns it, from the OS's own table (never from the addon). */
export const neg = (code: keyof typeof constants.errno): number => -constants.errno[code];

// Request numbers on the generic ioctl encoding (x86, arm64, riscv, s390); the addon tests run on the
// build machine, and ppc/mips would need the other encoding (see runtime/src/generated).
export const GENERIC_IOC = process.arch !== 'ppc64' && process.arch !== 'mips' && process.arch !== 'mipsel';
export const VFIO_DEVICE_GET_INFO = 0x3b6b;
export const VFIO_DEVICE_GET_REGION_INFO = 0x3b6c;
/** A container ioctl (_IO(VFIO_TYPE, VFIO_BASE + 0)): never one of a device fd. */
export const VFIO_GET_API_VERSION = 0x3b64;
export const VFIO_DEVICE_FEATURE = 0x3b75;

export const FEATURE_GET = 1 << 16;
export const FEATURE_SET = 1 << 17;
export const FEATURE_PROBE = 1 << 18;
export const FEATURE_SUBREGION = 15;
export const FEATURE_REGION_ATTRS = 16;

export const FLAG_READ = 1;
export const FLAG_WRITE = 2;
export const FLAG_MMAP = 4;
export const FLAG_CAPS = 8;

export const CAP_SPARSE_MMAP = 1;
export const CAP_TYPE = 2;
export const CAP_MSIX_MAPPABLE = 3;
export const CAP_SUBREGION = 6;
export const CAP_ATTRS = 7;

export const ATTR_WC = 1;
export const KiB = 1024n;

/** Region offset in the device fd (what REGION_INFO reports; index << 40). */
export const regionOffset = (index: number): bigint => BigInt(index) << 40n;

const mem = (size: bigint, over: Partial<SimRegionConfig> = {}): SimRegionConfig => ({
  size, kind: 'memory', readable: true, writable: true, mmap: true, supportedAttrs: 0, ...over,
});
const none: SimRegionConfig = { size: 0n, kind: 'none', readable: false, writable: false, mmap: false, supportedAttrs: 0 };

/**
 * The standard test device, defined here only: the addon tests create it through simCreate, and the
 * sanitizer driver (test/native/sim_driver.c) gets the same device as a C initializer that
 * tools/sim-config-c.ts prints from this object (sanitizers.test.ts writes it).
 *
 * BAR0: 1 MiB, WC allowed. BAR1: 64 KiB, no attributes. BAR2: 64 KiB, WC allowed, with sparse areas
 * and the MSI-X mappable cap. BAR3: unimplemented. BAR4: I/O ports. BAR5: 16 KiB read-only with a
 * type cap. ROM: 64 KiB readable, not mmap-able. CONFIG: 256 bytes. VGA: none. At most 6 subregions.
 */
export function standardConfig(over: Partial<SimConfig> = {}): SimConfig {
  return {
    regions: [
      mem(1024n * KiB, { supportedAttrs: ATTR_WC }),
      mem(64n * KiB),
      mem(64n * KiB, {
        supportedAttrs: ATTR_WC,
        sparse: [{ offset: 0n, size: 16n * KiB }, { offset: 32n * KiB, size: 32n * KiB }],
        msixMappable: true,
      }),
      none,
      { size: 256n, kind: 'io', readable: true, writable: true, mmap: false, supportedAttrs: 0 },
      mem(16n * KiB, { writable: false, type: { type: 0x8086, subtype: 3 } }),
      mem(64n * KiB, { writable: false, mmap: false }),
      { size: 256n, kind: 'config', readable: true, writable: true, mmap: false, supportedAttrs: 0 },
      none,
    ],
    numIrqs: 5,
    msi: 1,
    msix: 4,
    maxSubregions: 6,
    ...over,
  };
}

export function u32s(...v: number[]): Uint8Array {
  const b = new Uint8Array(v.length * 4);
  const dv = new DataView(b.buffer);
  v.forEach((x, i) => dv.setUint32(i * 4, x >>> 0, true));
  return b;
}

export const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

export interface RegionInfo { argsz: number; flags: number; index: number; capOffset: number; size: bigint; offset: bigint; }

export function regionInfoBuf(index: number, argsz = 32, len = Math.max(argsz, 32)): Uint8Array {
  const b = new Uint8Array(len);
  const dv = view(b);
  dv.setUint32(0, argsz, true);
  dv.setUint32(8, index, true);
  return b;
}

export function parseRegionInfo(b: Uint8Array): RegionInfo {
  const dv = view(b);
  return {
    argsz: dv.getUint32(0, true), flags: dv.getUint32(4, true), index: dv.getUint32(8, true),
    capOffset: dv.getUint32(12, true), size: dv.getBigUint64(16, true), offset: dv.getBigUint64(24, true),
  };
}

export interface Cap { at: number; id: number; version: number; next: number; }

/** Walks a capability chain (asserting it is well-formed: forward, 8-byte aligned, in bounds). */
export function walkCaps(b: Uint8Array): Cap[] {
  const dv = view(b);
  const caps: Cap[] = [];
  let at = dv.getUint32(12, true);
  while (at) {
    expect(at % 8).toBe(0);
    expect(at + 8).toBeLessThanOrEqual(b.length);
    const cap = { at, id: dv.getUint16(at, true), version: dv.getUint16(at + 2, true), next: dv.getUint32(at + 4, true) };
    caps.push(cap);
    if (cap.next) expect(cap.next).toBeGreaterThan(at);
    at = cap.next;
  }
  return caps;
}

/** GET_REGION_INFO with the two-call dance; returns the info and the full reply. */
export function getRegionInfo(n: NativeAddon, dev: DeviceHandle, index: number): { info: RegionInfo; buf: Uint8Array } {
  let buf = regionInfoBuf(index);
  expect(n.ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, buf), `GET_REGION_INFO ${index}`).toBe(0);
  let info = parseRegionInfo(buf);
  if ((info.flags & FLAG_CAPS) && info.capOffset === 0 && info.argsz > 32) {
    buf = regionInfoBuf(index, info.argsz);
    expect(n.ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, buf), `GET_REGION_INFO ${index}, argsz ${info.argsz}`).toBe(0);
    info = parseRegionInfo(buf);
  }
  return { info, buf };
}

export function deviceInfo(n: NativeAddon, dev: DeviceHandle): { flags: number; numRegions: number; numIrqs: number } {
  const b = u32s(20, 0, 0, 0, 0);
  expect(n.ioctl(dev, VFIO_DEVICE_GET_INFO, b)).toBe(0);
  const dv = view(b);
  return { flags: dv.getUint32(4, true), numRegions: dv.getUint32(8, true), numIrqs: dv.getUint32(12, true) };
}

/** A VFIO_DEVICE_FEATURE request with a payload. */
export function feature(flags: number, payload: Uint8Array, argsz = 8 + payload.length): Uint8Array {
  const b = new Uint8Array(8 + payload.length);
  const dv = view(b);
  dv.setUint32(0, argsz, true);
  dv.setUint32(4, flags, true);
  b.set(payload, 8);
  return b;
}

export function subregionPayload(p: { flags?: number; parent: number; offset: bigint; size: bigint; attrs: number }): Uint8Array {
  const b = new Uint8Array(32);
  const dv = view(b);
  dv.setUint32(0, p.flags ?? 0, true);
  dv.setUint32(4, p.parent, true);
  dv.setBigUint64(8, p.offset, true);
  dv.setBigUint64(16, p.size, true);
  dv.setUint32(24, p.attrs, true);
  dv.setUint32(28, 0xdeadbeef, true);
  return b;
}

/** Creates a subregion; returns its index. */
export function createSubregion(n: NativeAddon, dev: DeviceHandle, parent: number, offset: bigint, size: bigint, attrs: number): number {
  const req = feature(FEATURE_SET | FEATURE_SUBREGION, subregionPayload({ parent, offset, size, attrs }));
  expect(n.ioctl(dev, VFIO_DEVICE_FEATURE, req)).toBe(0);
  return view(req).getUint32(8 + 28, true);
}

export function regionAttrs(n: NativeAddon, dev: DeviceHandle, index: number): { attrs: number; supported: number } {
  const req = feature(FEATURE_GET | FEATURE_REGION_ATTRS, u32s(0, index, 0, 0));
  expect(n.ioctl(dev, VFIO_DEVICE_FEATURE, req)).toBe(0);
  const dv = view(req);
  return { attrs: dv.getUint32(16, true), supported: dv.getUint32(20, true) };
}

/** Runs fn and returns what it threw (failing when it throws nothing). */
export function thrown(fn: () => unknown): Error & { code?: string; errno?: number; syscall?: string } {
  try {
    fn();
  } catch (e) {
    return e as Error & { code?: string; errno?: number; syscall?: string };
  }
  throw new Error('expected the call to throw');
}

/** A mapping the call made (failing on -errno). */
export function mapped<T extends { handle: MappingHandle }>(r: T | number): T {
  if (typeof r === 'number') throw new Error(`expected a mapping, got ${r}`);
  return r;
}

/** Asserts fn throws the TypeError/RangeError of the addon's argument checks, naming the argument. */
export function expectArgError(fn: () => unknown, kind: typeof TypeError | typeof RangeError, name: RegExp): void {
  const e = thrown(fn);
  expect(e.constructor, e.message).toBe(kind);
  expect(e.code).toBe(kind === TypeError ? 'ERR_INVALID_ARG_TYPE' : 'ERR_OUT_OF_RANGE');
  expect(e.message).toMatch(name);
}

/** Asserts fn throws the errno `code` (an open, which throws), with errno, syscall and message set. */
export function expectErrno(fn: () => unknown, code: string, syscall?: string): void {
  const e = thrown(fn);
  expect(e, e.message).toBeInstanceOf(Error);
  expect(e.constructor).toBe(Error);
  expect(e.code, e.message).toBe(code);
  expect(e.errno).toBe(constants.errno[code as keyof typeof constants.errno]);
  expect(e.message).toContain(code);
  if (syscall) expect(e.syscall).toBe(syscall);
}

export const openFds = (): number => readdirSync('/proc/self/fd').length;
