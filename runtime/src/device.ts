import { accessSync, constants, existsSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { basename } from 'node:path';
import * as abi from './generated/vfio-subregion.js';
import { native, type DeviceHandle, type MappingHandle, type SimConfig, type SimDmaStats, type SimModelStats, type SimMapping } from './native.js';
import { checkedIndex, checkedU32, checkedU64, checkedLength, checkedOptions } from './args.js';
import { argType, argValue, DeviceStateError, errnoName, VfioError } from './errors.js';
import { DEFAULT_SIM } from './sim-presets.js';
import { hostArch } from './codec-support.js';
import { Iommu } from './dma.js';
import { Interrupts } from './irq.js';

export { DeviceStateError, VfioError } from './errors.js';
export { DmaMapping, Iommu, type DmaMapOptions, type DmaSource, type IommuInfo, type IovaRange } from './dma.js';
export { Interrupts, type InterruptEvent } from './irq.js';

const osErrno = osConstants.errno;
const { VfioDeviceFeatureFlags: FF, VfioDeviceFeatureId: FEAT, VfioRegionInfoFlags: RF, VfioPciIrqIndex: PCI_IRQ } = abi;
// A host the bindings have no numbers for cannot reach a device anyway; the simulator takes x86_64's.
const ARCH = hostArch() ?? 'x86_64';
const IOCTL = {
  GET_INFO: abi.ioctlNumber('VFIO_DEVICE_GET_INFO', ARCH),
  GET_REGION_INFO: abi.ioctlNumber('VFIO_DEVICE_GET_REGION_INFO', ARCH),
  FEATURE: abi.ioctlNumber('VFIO_DEVICE_FEATURE', ARCH),
};
const GET_IRQ_INFO = abi.ioctlNumber('VFIO_DEVICE_GET_IRQ_INFO', ARCH);
const RESET = abi.ioctlNumber('VFIO_DEVICE_RESET', ARCH);
const HOT_RESET_INFO = abi.ioctlNumber('VFIO_DEVICE_GET_PCI_HOT_RESET_INFO', ARCH);

/** Where to find a device: the simulator (the default), a VFIO group, or an iommufd cdev. */
export type DeviceTarget =
  | { simulator: SimConfig }
  | { group: string; device: string }
  | { cdev: string }
  | string;

/** What `VFIO_DEVICE_GET_INFO` says. */
export interface DeviceInfo {
  flags: number;
  numRegions: number;
  numIrqs: number;
}

/** One region, decoded from `VFIO_DEVICE_GET_REGION_INFO` with its capability chain. */
export interface RegionInfo {
  index: number;
  size: bigint;
  /** VFIO_REGION_INFO_FLAG_* */
  flags: number;
  /** The region's offset in the device fd: the cookie read, write and mmap take. */
  offset: bigint;
  caps: abi.RegionInfoCapEntry[];
  /** Set when the region is a subregion (VFIO_REGION_INFO_CAP_SUBREGION). */
  subregion: { parent: number; offset: bigint } | null;
  /** VFIO_REGION_ATTR_* its mappings get (VFIO_REGION_INFO_CAP_ATTRS; 0 when absent). */
  attrs: number;
  /** Sparse mmap areas (VFIO_REGION_INFO_CAP_SPARSE_MMAP), or null when the whole region may be mapped. */
  sparse: { offset: bigint; size: bigint }[] | null;
  /** VFIO_REGION_INFO_CAP_TYPE, when present. */
  type: { type: number; subtype: number } | null;
}

/** What the kernel (or simulator) supports of the subregion ABI, from VFIO_DEVICE_FEATURE PROBE. */
export interface Support {
  subregion: boolean;
  regionAttrsGet: boolean;
  regionAttrsSet: boolean;
}

export interface SubregionRequest {
  parent: number;
  offset: bigint | number;
  size: bigint | number;
  /** VFIO_REGION_ATTR_* (default 0). */
  attrs?: number;
}

export interface MapOptions {
  /** Offset within the region (page-aligned; default 0). */
  offset?: bigint | number;
  /** Bytes to map (default: the rest of the region). */
  length?: number;
  /** PROT_READ | PROT_WRITE by default, as the region's flags allow. */
  prot?: number;
}

/** What `VFIO_DEVICE_GET_IRQ_INFO` says of one IRQ index. */
export interface IrqInfo {
  index: number;
  /** VFIO_IRQ_INFO_* (EVENTFD, MASKABLE, AUTOMASKED, NORESIZE) */
  flags: number;
  /** Vectors of the index (0: the device has none of this kind). */
  count: number;
}

/** One device a hot reset of this one affects (VFIO_DEVICE_GET_PCI_HOT_RESET_INFO). */
export interface HotResetDevice {
  /** Its IOMMU group, or with VFIO_PCI_HOT_RESET_FLAG_DEV_ID its iommufd device id. */
  groupId: number;
  /** Its PCI address, as 0000:01:00.0. */
  address: string;
}

/** What a Mapping or window shares with its Device: whether the device is closed. */
interface Owner { closed: boolean; source: string }

/** What of a region a mapping or window covers. */
interface MappedRange { region: number; offset: bigint; length: number }

/** Registers a new mapping or window with its device; returns what its unmap() calls. */
type Tracker = (obj: object, range: MappedRange) => () => void;

/** An errno thrown by the addon (opening, a window overlap) as a {@link VfioError} of `operation`. */
function rethrow(e: unknown, operation: string): never {
  const x = e as { errno?: unknown; syscall?: unknown; message?: unknown };
  if (e instanceof Error && !(e instanceof TypeError) && !(e instanceof RangeError) && typeof x.errno === 'number')
    throw new VfioError(operation, typeof x.syscall === 'string' ? x.syscall : 'unknown', x.errno, null, e.message);
  throw e;
}

/**
 * A live mapping of (part of) a region, with typed little-endian accessors. A read-only mapping
 * (prot PROT_READ) has no `bytes`: JavaScript cannot be kept from storing into a typed array, and a
 * store into a read-only page would kill the process; its reads go through the addon.
 */
export class Mapping {
  readonly region: number;
  readonly offset: bigint;
  readonly length: number;
  readonly prot: number;
  /**
   * VFIO_REGION_ATTR_* its page tables got: the region's attributes when it was mapped, read fresh
   * from REGION_INFO (a subregion's never change; a BAR's cannot change while it is mapped, rule
   * not-mapped), and never silently different (mmap rule one-memtype-per-page refuses instead).
   */
  readonly attrs: number;
  readonly #handle: MappingHandle;
  readonly #owner: Owner;
  readonly #writable: boolean;
  #address: bigint | undefined;
  /** The ArrayBuffer's views, made on first use: until then only the addon reaches the pages. */
  #view: DataView | null = null;
  #bytes: Uint8Array | null = null;
  #unmapped = false;
  readonly #untrack: () => void;

  /** @internal */
  constructor(owner: Owner, region: number, offset: bigint, length: number, prot: number, attrs: number, handle: MappingHandle, track: Tracker) {
    this.region = region;
    this.offset = offset;
    this.length = length;
    this.prot = prot;
    this.attrs = attrs;
    this.#handle = handle;
    this.#owner = owner;
    this.#writable = (prot & native().PROT_WRITE) !== 0;
    this.#untrack = track(this, { region, offset, length });
  }

  /** Process address of the mapping's first byte. */
  get address(): bigint {
    return (this.#address ??= native().mappingAddress(this.#handle));
  }

  get mapped(): boolean {
    return !this.#unmapped && !this.#owner.closed;
  }

  get writable(): boolean {
    return this.#writable;
  }

  /** The mapped bytes (writable mappings only). Throws once unmapped or the device is closed. */
  get bytes(): Uint8Array {
    this.#live();
    if (this.#bytes === null) this.#views();
    return this.#bytes!;
  }

  #live(): void {
    if (this.#unmapped || this.#owner.closed)
      throw new DeviceStateError('ERR_UNMAPPED', `mapping of region ${this.region} at +0x${this.offset.toString(16)} is unmapped${this.#owner.closed ? ` (device ${this.#owner.source} is closed)` : ''}`);
  }

  #readOnly(): never {
    throw new DeviceStateError('ERR_READ_ONLY', `mapping of region ${this.region} at +0x${this.offset.toString(16)} is read-only: it has no byte view and no write path`);
  }

  /** The views over the mapping's ArrayBuffer, which the addon hands out now (a live writable mapping only). */
  #views(): DataView {
    if (!this.#writable) this.#readOnly();
    const buffer = native().mappingBuffer(this.#handle) as ArrayBuffer;
    this.#bytes = new Uint8Array(buffer);
    return (this.#view = new DataView(buffer));
  }

  #at(off: number, width: number): number {
    this.#live();
    if (!Number.isInteger(off) || off < 0 || off + width > this.length || off % width !== 0)
      throw Object.assign(new RangeError(`offset: a ${width * 8}-bit access must be aligned and inside the ${this.length}-byte mapping, got ${String(off)}`), { code: 'ERR_OUT_OF_RANGE' });
    return off;
  }

  #w(off: number, width: number): DataView {
    this.#at(off, width);
    return this.#view ?? this.#views();
  }

  read8(off: number): number { return this.#writable ? this.#w(off, 1).getUint8(off) : native().mmioRead(this.#handle, this.#at(off, 1), 8); }
  read16(off: number): number { return this.#writable ? this.#w(off, 2).getUint16(off, true) : native().mmioRead(this.#handle, this.#at(off, 2), 16); }
  read32(off: number): number { return this.#writable ? this.#w(off, 4).getUint32(off, true) : native().mmioRead(this.#handle, this.#at(off, 4), 32); }
  read64(off: number): bigint { return this.#writable ? this.#w(off, 8).getBigUint64(off, true) : native().mmioRead(this.#handle, this.#at(off, 8), 64); }
  write8(off: number, v: number): void { this.#w(off, 1).setUint8(off, checkedU32(v, 'value', 0xff)); }
  write16(off: number, v: number): void { this.#w(off, 2).setUint16(off, checkedU32(v, 'value', 0xffff), true); }
  write32(off: number, v: number): void { this.#w(off, 4).setUint32(off, checkedU32(v, 'value'), true); }
  write64(off: number, v: bigint): void { this.#w(off, 8).setBigUint64(off, checkedU64(v, 'value'), true); }

  /** A copy of `length` bytes at `offset` (any mapping, read-only ones included). */
  read(offset: number, length: number): Uint8Array {
    this.#live();
    const len = checkedLength(length, 'length');
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + len > this.length)
      throw Object.assign(new RangeError(`offset: ${len} bytes at ${String(offset)} run past the ${this.length}-byte mapping`), { code: 'ERR_OUT_OF_RANGE' });
    const out = new Uint8Array(len);
    native().copyFrom(this.#handle, offset, out);
    return out;
  }

  /** @internal The addon's handle, for the host-call path. */
  get handle(): MappingHandle {
    this.#live();
    return this.#handle;
  }

  /**
   * Unmaps: the device pages are replaced in place by anonymous ones and `bytes` is detached, so
   * nothing that still holds the buffer (an async job) can fault or reach the device; the address
   * range is released once nothing references it. Idempotent.
   */
  unmap(): void {
    if (this.#unmapped) return;
    this.#unmapped = true;
    this.#view = null;
    this.#bytes = null;
    native().munmap(this.#handle);
    this.#untrack();
  }
}

/** What wasm windows need of a WebAssembly.Memory (the lib here has no WebAssembly typings). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}

export interface WindowOptions extends MapOptions {
  /** Where in linear memory: a page-aligned byte address inside the memory's current size. */
  at: number;
}

/**
 * A region window mapped into a WebAssembly.Memory: guest loads and stores at [base, base + size)
 * reach the region. It lives while this object or the Memory does (a running guest keeps its
 * window), until `unmap()` or the device's close, which put anonymous zero pages back, so the
 * guest's addresses turn into ordinary memory again (never a hole, never device memory).
 */
export class WasmWindow {
  readonly region: number;
  /** Offset within the region. */
  readonly offset: bigint;
  /** Linear-memory address of the window's first byte. */
  readonly base: number;
  readonly size: number;
  /** VFIO_REGION_ATTR_* the region's mappings get. */
  readonly attrs: number;
  readonly memory: WasmMemory;
  /** Process address of the window's first byte. */
  readonly address: bigint;
  readonly #handle: MappingHandle;
  readonly #owner: Owner;
  #unmapped = false;
  readonly #untrack: () => void;

  /** @internal */
  constructor(owner: Owner, region: number, offset: bigint, base: number, size: number, attrs: number, memory: WasmMemory, m: { handle: MappingHandle; address: bigint }, track: Tracker) {
    this.region = region;
    this.offset = offset;
    this.base = base;
    this.size = size;
    this.attrs = attrs;
    this.memory = memory;
    this.address = m.address;
    this.#handle = m.handle;
    this.#owner = owner;
    this.#untrack = track(this, { region, offset, length: size });
  }

  get mapped(): boolean { return !this.#unmapped && !this.#owner.closed; }

  /** @internal The addon's handle, for the host-call path (mmioRead/mmioWrite). Throws once unmapped. */
  get handle(): MappingHandle {
    if (!this.mapped) throw new DeviceStateError('ERR_UNMAPPED', `window of region ${this.region} at 0x${this.base.toString(16)} is unmapped`);
    return this.#handle;
  }

  /** Whether linear-memory bytes [addr, addr + bytes) lie inside the window. */
  contains(addr: number, bytes: number): boolean {
    return this.mapped && addr >= this.base && addr + bytes <= this.base + this.size;
  }

  /** Unmaps (anonymous zero pages replace the window). Idempotent. */
  unmap(): void {
    if (this.#unmapped) return;
    this.#unmapped = true;
    native().munmap(this.#handle);
    this.#untrack();
  }
}

/**
 * Bytes of the per-device argument buffer: every ioctl argument is encoded into it and decoded from it
 * in place, because allocating an ArrayBuffer per call would cost more than the call. It also holds a
 * REGION_INFO reply with its whole capability chain, so one call usually answers.
 */
const SCRATCH_BYTES = 4096;
/**
 * Bytes a region info asks for first: room for the usual capability chains, and no more, since the
 * device copies what argsz says each way. A longer chain gets the argsz retry.
 */
const REGION_INFO_BYTES = 256;
const NO_DATA = new Uint8Array(0);
/** A kernel does not say how many subregions it allows: ENOSPC itself says the limit was reached. */
const UNKNOWN_LIMIT = Number.MAX_SAFE_INTEGER;

/**
 * A little-endian u64 field decoded to a bigint, remembering the last value: a bigint is an immutable
 * heap value, so the same bits read again (a region's size and offset, asked for over and over) give
 * the same bigint back instead of a fresh allocation.
 */
class U64Field {
  #lo = 0;
  #hi = 0;
  #value = 0n;

  read(view: DataView, at: number): bigint {
    const lo = view.getUint32(at, true);
    const hi = view.getUint32(at + 4, true);
    if (lo !== this.#lo || hi !== this.#hi) {
      this.#value = view.getBigUint64(at, true);
      this.#lo = lo;
      this.#hi = hi;
    }
    return this.#value;
  }
}

/** The fields of a region `map` and `mapInto` need, copied when a device handed the info out. */
interface Issued { owner: Owner; index: number; offset: bigint; size: bigint; flags: number; attrs: number; subregion: boolean }

/**
 * A RegionInfo as a device hands it out: plain public fields, and a private copy of what mapping
 * trusts, which a caller cannot forge or change. The copy lives in private fields of the object
 * itself (no second object per region(): region() is a hot path).
 */
class IssuedRegion implements RegionInfo {
  index: number;
  size: bigint;
  flags: number;
  offset: bigint;
  caps: abi.RegionInfoCapEntry[];
  subregion: { parent: number; offset: bigint } | null = null;
  attrs = 0;
  sparse: { offset: bigint; size: bigint }[] | null = null;
  type: { type: number; subtype: number } | null = null;
  readonly #owner: Owner;
  readonly #index: number;
  readonly #offset: bigint;
  readonly #size: bigint;
  readonly #flags: number;
  readonly #attrs: number;
  readonly #subregion: boolean;

  constructor(owner: Owner, index: number, size: bigint, flags: number, offset: bigint, caps: abi.RegionInfoCapEntry[]) {
    this.index = index;
    this.size = size;
    this.flags = flags;
    this.offset = offset;
    this.caps = caps;
    if (caps.length !== 0) this.#decodeCaps(caps);
    this.#owner = owner;
    this.#index = index;
    this.#offset = offset;
    this.#size = size;
    this.#flags = flags;
    this.#attrs = this.attrs;
    this.#subregion = this.subregion !== null;
  }

  #decodeCaps(caps: abi.RegionInfoCapEntry[]): void {
    for (const c of caps) {
      switch (c.name) {
        case 'VFIO_REGION_INFO_CAP_SUBREGION': this.subregion = { parent: c.value.parent_index, offset: c.value.offset }; break;
        case 'VFIO_REGION_INFO_CAP_ATTRS': this.attrs = c.value.attrs; break;
        case 'VFIO_REGION_INFO_CAP_SPARSE_MMAP': this.sparse = c.value.areas.map((a) => ({ offset: a.offset, size: a.size })); break;
        case 'VFIO_REGION_INFO_CAP_TYPE': this.type = { type: c.value.type, subtype: c.value.subtype }; break;
        default: break;
      }
    }
  }

  /** What `owner` handed out as `r` (from the private copy), or undefined for anything else. */
  static issued(r: object, owner: Owner): Issued | undefined {
    if (!(#owner in r) || r.#owner !== owner) return undefined;
    return { owner, index: r.#index, offset: r.#offset, size: r.#size, flags: r.#flags, attrs: r.#attrs, subregion: r.#subregion };
  }
}

/**
 * An open VFIO device (real or simulated): the same interface for both. Dropped without `close()`,
 * it is closed when collected (its mappings keep it open while they are reachable).
 */
export class Device {
  /** 'simulator', or the path the device was opened from. */
  readonly source: string;
  readonly #handle: DeviceHandle;
  readonly #owner: Owner;
  readonly #sim: boolean;
  /**
   * What this device has mapped, for naming a kernel's refusals (rule not-mapped): an entry per live
   * mapping or window, gone at unmap() or when the object is collected. No reference to the objects
   * themselves, weak ones included (a WeakRef keeps its target alive to the end of the job).
   */
  readonly #live = new Set<MappedRange>();
  readonly #collected = new FinalizationRegistry<MappedRange>((r) => this.#live.delete(r));
  /** The ioctls this device issues, bound once to it and its argument area (the addon's bindIoctl). */
  readonly #calls: Record<keyof typeof IOCTL, () => number>;
  /** The device's own argument area (the addon's deviceScratch): the bound ioctls pass no typed array. */
  readonly #scratch: Uint8Array;
  readonly #view: DataView;
  /** The first REGION_INFO_BYTES of the scratch buffer: what a region info asks for first. */
  readonly #regionView: DataView;
  readonly #regionSize = new U64Field();
  readonly #regionOffset = new U64Field();
  #iommu: Iommu | null = null;
  readonly #irqs = new Set<Interrupts>();

  /** @internal */
  constructor(source: string, handle: DeviceHandle, simulated: boolean) {
    this.source = source;
    this.#handle = handle;
    this.#owner = { closed: false, source };
    this.#sim = simulated;
    const n = native();
    const scratch = n.deviceScratch(handle);
    this.#calls = { GET_INFO: n.bindIoctl(handle, IOCTL.GET_INFO), GET_REGION_INFO: n.bindIoctl(handle, IOCTL.GET_REGION_INFO), FEATURE: n.bindIoctl(handle, IOCTL.FEATURE) };
    this.#scratch = new Uint8Array(scratch);
    this.#view = new DataView(scratch);
    this.#regionView = new DataView(scratch, 0, REGION_INFO_BYTES);
  }

  get closed(): boolean {
    return this.#owner.closed;
  }

  /** @internal The addon's handle. Throws once closed. */
  get handle(): DeviceHandle {
    this.#open();
    return this.#handle;
  }

  #open(): void {
    if (this.#owner.closed) throw new DeviceStateError('ERR_DEVICE_CLOSED', `device ${this.source} is closed`);
  }

  /** ioctl on the scratch buffer, the refusal as a VfioError of `operation`; `rule` names the rule on a kernel. */
  #ioctl(operation: string, request: keyof typeof IOCTL, rule?: (errno: string) => string | null): number {
    this.#open();
    const r = this.#calls[request]();
    if (r < 0) throw this.#refused(operation, 'ioctl', -r, rule);
    return r;
  }

  #refused(operation: string, syscall: string, errno: number, rule?: (errno: string) => string | null): VfioError {
    let name = this.#sim ? native().lastRule(this.#handle) : null;
    if (name === null && !this.#sim && rule !== undefined) name = rule(errnoName(errno));
    return new VfioError(operation, syscall, errno, name);
  }

  info(): DeviceInfo {
    abi.VfioDeviceInfo.write(this.#view, 0, { flags: 0, num_regions: 0, num_irqs: 0, cap_offset: 0 });
    this.#ioctl('info', 'GET_INFO');
    const info = abi.VfioDeviceInfo.read(this.#view, 0, RAW);
    return { flags: info.flags, numRegions: info.num_regions, numIrqs: info.num_irqs };
  }

  /** `VFIO_DEVICE_GET_REGION_INFO` for one region; a chain too long for the scratch buffer gets the retry the argsz convention asks for. */
  region(index: number): RegionInfo {
    const idx = checkedIndex(index, 'index');
    const at = abi.VfioRegionInfo.offsets;
    let view = this.#regionView;
    let argsz = REGION_INFO_BYTES;
    for (let attempt = 0; attempt < 2; attempt++) {
      // the members the device reads; the rest are its answer
      view.setUint32(at.argsz, argsz, true);
      view.setUint32(at.flags, 0, true);
      view.setUint32(at.index, idx, true);
      view.setUint32(at.cap_offset, 0, true);
      if (argsz <= SCRATCH_BYTES) this.#ioctl('region', 'GET_REGION_INFO');
      else {
        const r = native().ioctl(this.handle, IOCTL.GET_REGION_INFO, new Uint8Array(view.buffer));
        if (r < 0) throw this.#refused('region', 'ioctl', -r);
      }
      const flags = view.getUint32(at.flags, true);
      // no capability chain (most BARs): nothing to walk
      if ((flags & RF.VFIO_REGION_INFO_FLAG_CAPS) === 0)
        return new IssuedRegion(this.#owner, idx, this.#regionSize.read(view, at.size), flags, this.#regionOffset.read(view, at.offset), []);
      const reply = abi.parseRegionInfoReply(view);
      if (reply.retry === null) return new IssuedRegion(this.#owner, idx, reply.info.size, reply.info.flags, reply.info.offset, reply.caps);
      argsz = reply.retry;
      // a longer chain: the rest of the scratch buffer, or a buffer of its own past that
      view = argsz <= SCRATCH_BYTES ? new DataView(this.#scratch.buffer, 0, argsz) : new DataView(new ArrayBuffer(argsz));
    }
    throw new VfioError('region', 'ioctl', abi.Errno.EINVAL, null, `VFIO_DEVICE_GET_REGION_INFO(index=${idx}): the device asked for a larger buffer twice`);
  }

  /**
   * Every region, index 0 .. num_regions - 1. vfio-pci counts the VGA region on every device and
   * refuses its info (EINVAL) on one without VGA: such a region is listed as unimplemented (size 0,
   * no flags), as the absent BARs are.
   */
  regions(): RegionInfo[] {
    return Array.from({ length: this.info().numRegions }, (_, i) => {
      try {
        return this.region(i);
      } catch (e) {
        if (i !== abi.VfioPciRegionIndex.VFIO_PCI_VGA_REGION_INDEX || !(e instanceof VfioError) || e.errno !== abi.Errno.EINVAL) throw e;
        return new IssuedRegion(this.#owner, i, 0n, 0, 0n, []);
      }
    });
  }

  /** VFIO_DEVICE_FEATURE with a payload encoded after the header; returns the payload as the kernel left it. */
  #feature<T>(operation: string, flags: number, codec: PayloadCodec<T>, payload: T, rule?: (errno: string) => string | null): T;
  #feature(operation: string, flags: number): number;
  #feature<T>(operation: string, flags: number, codec?: PayloadCodec<T>, payload?: T, rule?: (errno: string) => string | null): T | number {
    const r = this.#featureCall(flags, codec, payload);
    if (codec === undefined) return r;
    if (r < 0) throw this.#refused(operation, 'ioctl', -r, rule);
    return codec.read(this.#view, abi.VfioDeviceFeature.size, RAW);
  }

  /** VFIO_DEVICE_FEATURE with the payload encoded after the header: the ioctl's result, or -errno. */
  #featureCall<T>(flags: number, codec?: PayloadCodec<T>, payload?: T): number {
    const at = abi.VfioDeviceFeature.size;
    abi.VfioDeviceFeature.write(this.#view, 0, { argsz: at + (codec?.size ?? 0), flags, data: NO_DATA });
    if (codec !== undefined) codec.write(this.#view, at, payload as T);
    this.#open();
    return this.#calls.FEATURE();
  }


  #probe(feature: number, op: number): boolean {
    const r = this.#feature('support', FF.VFIO_DEVICE_FEATURE_PROBE | op | feature);
    if (r >= 0) return true;
    if (r === -abi.Errno.ENOTTY || r === -abi.Errno.EINVAL || r === -abi.Errno.EOPNOTSUPP) return false;
    throw this.#refused('support', 'ioctl', -r);
  }

  /** Which parts of the subregion ABI the device supports (VFIO_DEVICE_FEATURE PROBE). */
  support(): Support {
    return {
      subregion: this.#probe(FEAT.VFIO_DEVICE_FEATURE_SUBREGION, FF.VFIO_DEVICE_FEATURE_SET),
      regionAttrsGet: this.#probe(FEAT.VFIO_DEVICE_FEATURE_REGION_ATTRS, FF.VFIO_DEVICE_FEATURE_GET),
      regionAttrsSet: this.#probe(FEAT.VFIO_DEVICE_FEATURE_REGION_ATTRS, FF.VFIO_DEVICE_FEATURE_SET),
    };
  }

  /** A region's attributes and the attributes it supports (VFIO_DEVICE_FEATURE_REGION_ATTRS GET). */
  regionAttrs(index: number): { attrs: number; supported: number } {
    const req = { flags: 0, index: checkedIndex(index, 'index'), attrs: 0, supported: 0 };
    const out = this.#feature('regionAttrs', FF.VFIO_DEVICE_FEATURE_GET | FEAT.VFIO_DEVICE_FEATURE_REGION_ATTRS, abi.VfioDeviceFeatureRegionAttrs,
      req, (errno) => ruleOf(abi.checkRegionAttrsGet(this.#knownState(), req), errno));
    return { attrs: out.attrs, supported: out.supported };
  }

  /** Gives a whole region new attributes; refused (EBUSY, rule not-mapped) while it is mapped. */
  setRegionAttrs(index: number, attrs: number): void {
    const req = { flags: 0, index: checkedIndex(index, 'index'), attrs: checkedU32(attrs, 'attrs'), supported: 0 };
    this.#feature('setRegionAttrs', FF.VFIO_DEVICE_FEATURE_SET | FEAT.VFIO_DEVICE_FEATURE_REGION_ATTRS, abi.VfioDeviceFeatureRegionAttrs,
      req, (errno) => ruleOf(abi.checkRegionAttrsSet(this.#knownState(), req), errno));
  }

  /** Creates a subregion (VFIO_DEVICE_FEATURE_SUBREGION) and returns its region info. */
  createSubregion(request: SubregionRequest): RegionInfo {
    const r = checkedOptions<SubregionRequest>(request, 'request');
    if (request === undefined) throw argType('request', 'an object', request);
    const req = {
      flags: 0,
      parent_index: checkedIndex(r.parent, 'request.parent'),
      offset: checkedU64(r.offset, 'request.offset'),
      size: checkedU64(r.size, 'request.size'),
      attrs: r.attrs === undefined ? 0 : checkedU32(r.attrs, 'request.attrs'),
      index: 0,
    };
    const out = this.#feature('createSubregion', FF.VFIO_DEVICE_FEATURE_SET | FEAT.VFIO_DEVICE_FEATURE_SUBREGION, abi.VfioDeviceFeatureSubregion, req,
      (errno) => ruleOf(abi.checkSubregionCreate(this.#knownState(errno), req), errno));
    return this.region(out.index);
  }

  /**
   * The device as the validators see it, from what a kernel tells userspace (region info, region
   * attributes) and what this object knows (its own live mappings): how a kernel's bare errno is
   * given the rule behind it.
   */
  #knownState(errno?: string): abi.VfioSubregionDeviceState {
    const regions = this.regions();
    const live = [...this.#live];
    const barOf = (r: RegionInfo) => r.subregion !== null ? { bar: r.subregion.parent, start: r.subregion.offset } : { bar: r.index, start: 0n };
    const state = regions.map((r): abi.VfioSubregionRegionState => {
      let supported = 0;
      if (r.subregion === null && (r.flags & RF.VFIO_REGION_INFO_FLAG_MMAP) !== 0) {
        // not regionAttrs(): a refusal here must not name its rule from this very state again
        const q = { flags: 0, index: r.index, attrs: 0, supported: 0 };
        if (this.#featureCall(FF.VFIO_DEVICE_FEATURE_GET | FEAT.VFIO_DEVICE_FEATURE_REGION_ATTRS, abi.VfioDeviceFeatureRegionAttrs, q) >= 0)
          supported = abi.VfioDeviceFeatureRegionAttrs.read(this.#view, abi.VfioDeviceFeature.size, RAW).supported;
      }
      const { bar, start } = barOf(r);
      const mapped = live.some((m) => {
        const mr = regions[m.region];
        if (mr === undefined) return false;
        const o = barOf(mr);
        return o.bar === bar && (r.subregion === null || (o.start + m.offset < start + r.size && start < o.start + m.offset + BigInt(m.length)));
      });
      return {
        size: r.size, parent_offset: r.subregion?.offset ?? 0n, flags: r.flags, attrs: r.attrs, supported_attrs: supported,
        parent_index: r.subregion?.parent ?? 0, is_subregion: r.subregion !== null, mapped,
      };
    });
    const nrSub = regions.filter((r) => r.subregion !== null).length;
    return {
      page_size: BigInt(native().pageSize), num_regions: regions.length, nr_subregions: nrSub,
      max_subregions: errno === 'ENOSPC' ? nrSub : UNKNOWN_LIMIT, region_span: 1n << 40n, regions: state,
    };
  }

  readonly #tracker: Tracker = (obj, range) => this.#track(obj, range);

  /** Records a new mapping or window of `range`; returns what its unmap() calls. */
  #track(obj: object, range: MappedRange): () => void {
    this.#live.add(range);
    this.#collected.register(obj, range, range);
    return () => {
      this.#live.delete(range);
      this.#collected.unregister(range);
    };
  }


  /**
   * The region and the checked [offset, offset + length) of it that `map` and `mapInto` map. A
   * RegionInfo must be one this device returned: its fields are taken from the copy made then
   * (a subregion's attributes never change), and a BAR's info is read again, since REGION_ATTRS SET
   * may have changed its attributes since, and a mapping reports what its page tables got.
   */
  #mappable(region: unknown, options: { offset?: bigint | number; length?: number }): { r: Issued; offset: bigint; length: number } {
    let r: Issued | undefined;
    if (typeof region === 'number') r = IssuedRegion.issued(this.region(region), this.#owner);
    else if (typeof region === 'object' && region !== null) {
      const known = IssuedRegion.issued(region, this.#owner);
      if (known === undefined) throw argType('region', 'a region index or a RegionInfo this device returned', region);
      r = known.subregion ? known : IssuedRegion.issued(this.region(known.index), this.#owner);
    } else throw argType('region', 'a region index or a RegionInfo', region);
    if (r === undefined) throw new Error('unreachable: region() hands out IssuedRegion');
    const offset = options.offset === undefined ? 0n : checkedU64(options.offset, 'options.offset');
    if ((r.flags & RF.VFIO_REGION_INFO_FLAG_MMAP) === 0) throw new VfioError('map', 'mmap', abi.Errno.EINVAL, null, `region ${r.index} cannot be mmapped`);
    if (offset > r.size) throw argValue('options.offset', `0x${offset.toString(16)} is past the end of region ${r.index} (0x${r.size.toString(16)} bytes)`);
    const length = options.length !== undefined ? checkedLength(options.length, 'options.length') : Number(r.size - offset);
    if (length === 0) throw argValue('options.offset', `nothing of region ${r.index} is left to map at 0x${offset.toString(16)}`);
    if (BigInt(length) > r.size - offset) throw argValue('options.length', `0x${length.toString(16)} bytes at 0x${offset.toString(16)} run past the end of region ${r.index} (0x${r.size.toString(16)} bytes)`);
    return { r, offset, length };
  }

  /** Maps (part of) a region, given by index or by the info this device returned. The mapping lives until `unmap()` or `close()`. */
  map(region: number | RegionInfo, options?: MapOptions): Mapping {
    const o = checkedOptions<MapOptions>(options, 'options');
    const { r, offset, length } = this.#mappable(region, o);
    const n = native();
    const prot = o.prot === undefined
      ? (r.flags & RF.VFIO_REGION_INFO_FLAG_READ ? n.PROT_READ : 0) | (r.flags & RF.VFIO_REGION_INFO_FLAG_WRITE ? n.PROT_WRITE : 0)
      : checkedU32(o.prot, 'options.prot');
    if (prot !== n.PROT_READ && prot !== (n.PROT_READ | n.PROT_WRITE))
      throw argValue('options.prot', `must be PROT_READ or PROT_READ | PROT_WRITE${o.prot === undefined ? ` (region ${r.index} is not readable)` : `, got ${prot}`}`);
    let m;
    try {
      m = n.mmapHandle(this.handle, r.offset + offset, length, prot);
    } catch (e) {
      rethrow(e, 'map');
    }
    if (typeof m === 'number') {
      const errno = -m;
      throw this.#refused('map', 'mmap', errno, (code) => mmapRuleFor(code));
    }
    const mapping = new Mapping(this.#owner, r.index, offset, length, prot, r.attrs, m, this.#tracker);
    return mapping;
  }

  /**
   * Maps (part of) a region into a WebAssembly.Memory at linear address `options.at`: the data path
   * of a wasm driver (see runtime/src/mmio.ts). Offset and length must be page-aligned and inside the
   * region, the window inside the memory's current size and clear of every other window.
   */
  mapInto(memory: WasmMemory, region: number | RegionInfo, options: WindowOptions): WasmWindow {
    if (typeof memory !== 'object' || memory === null) throw argType('memory', 'a WebAssembly.Memory', memory);
    const o = checkedOptions<WindowOptions>(options, 'options');
    if (options === undefined) throw argType('options', 'an object with at', options);
    const at = checkedU32(o.at, 'options.at', Number.MAX_SAFE_INTEGER);
    const { r, offset, length } = this.#mappable(region, o);
    const n = native();
    if ((r.flags & RF.VFIO_REGION_INFO_FLAG_READ) === 0 || (r.flags & RF.VFIO_REGION_INFO_FLAG_WRITE) === 0)
      throw new VfioError('mapInto', 'mmap', abi.Errno.EINVAL, null, `region ${r.index} is not readable and writable: a wasm window must be both`);
    const ps = BigInt(n.pageSize);
    if (offset % ps !== 0n || BigInt(length) % ps !== 0n || at % n.pageSize !== 0)
      throw argValue('options', `a window must be page-aligned (${n.pageSize} bytes): offset 0x${offset.toString(16)}, length 0x${length.toString(16)}, at 0x${at.toString(16)}`);
    let m;
    try {
      m = n.wasmMap(this.handle, r.offset + offset, length, memory, at);
    } catch (e) {
      rethrow(e, 'mapInto');
    }
    if (typeof m === 'number') throw this.#refused('mapInto', 'mmap', -m, (code) => mmapRuleFor(code));
    const w = new WasmWindow(this.#owner, r.index, offset, at, length, r.attrs, memory, m, this.#tracker);
    return w;
  }

  /** The region's bounds for read/write: [offset, offset + length) must lie inside it. */
  #span(operation: string, index: number, offset: bigint | number, length: number): bigint {
    const r = this.region(checkedIndex(index, 'index'));
    const off = checkedU64(offset, 'offset');
    if (off > r.size || BigInt(length) > r.size - off)
      throw argValue('offset', `${length} bytes at 0x${off.toString(16)} run past the end of region ${r.index} (0x${r.size.toString(16)} bytes) in ${operation}`);
    return r.offset + off;
  }

  /** Reads `length` bytes of a region through the device; the whole range must lie inside the region. */
  read(index: number, offset: bigint | number, length: number): Uint8Array {
    const len = checkedLength(length, 'length');
    const at = this.#span('read', index, offset, len);
    const buf = new Uint8Array(len);
    this.#transfer('read', buf, at);
    return buf;
  }

  /** Writes `data` to a region through the device; the whole range must lie inside the region. */
  write(index: number, offset: bigint | number, data: Uint8Array): void {
    if (!(data instanceof Uint8Array)) throw argType('data', 'a Uint8Array', data);
    if (data.length === 0) return;
    this.#transfer('write', data, this.#span('write', index, offset, data.length));
  }

  /** pread/pwrite until every byte moved: a short transfer that stops is an EIO naming the count. */
  #transfer(operation: 'read' | 'write', buf: Uint8Array, at: bigint): void {
    const n = native();
    let done = 0;
    while (done < buf.length) {
      const part = buf.subarray(done);
      const r = operation === 'read' ? n.pread(this.handle, part, at + BigInt(done)) : n.pwrite(this.handle, part, at + BigInt(done));
      if (r < 0) throw this.#refused(operation, operation === 'read' ? 'pread' : 'pwrite', -r);
      if (r === 0) throw new VfioError(operation, operation === 'read' ? 'pread' : 'pwrite', osErrno.EIO, null, `short ${operation}: ${done} of ${buf.length} bytes`);
      done += r;
    }
  }

  /** For a simulated device: the simulator's record of live mappings and the attributes each got. */
  simMappings(): SimMapping[] {
    return native().simMappings(this.handle);
  }

  /** For a simulated device: the memory behind a memory region (a path that opens it while the device lives). */
  simBacking(index: number): { path: string; offset: bigint; size: bigint } | null {
    return native().simBacking(this.handle, checkedIndex(index, 'index'));
  }

  /**
   * The device's IOMMU (its VFIO container, or the simulator's): DMA mappings of WebAssembly.Memory
   * ranges and DMA buffers, at IOVAs inside the ranges it reports. One per device, closed with it.
   */
  iommu(): Iommu {
    this.#open();
    if (this.#iommu === null || this.#iommu.closed) {
      try {
        this.#iommu = new Iommu(native().iommuHandle(this.#handle));
      } catch (e) {
        rethrow(e, 'iommu');
      }
    }
    return this.#iommu;
  }

  /** `VFIO_DEVICE_GET_IRQ_INFO` of one IRQ index (VfioPciIrqIndex for vfio-pci). */
  irqInfo(index: number): IrqInfo {
    const idx = checkedIndex(index, 'index');
    const arg = abi.VfioIrqInfo.encode({ flags: 0, index: idx, count: 0 });
    const r = native().ioctl(this.handle, GET_IRQ_INFO, arg);
    if (r < 0) throw new VfioError('irqInfo', 'ioctl', -r, null, `VFIO_DEVICE_GET_IRQ_INFO: the device has no IRQ index ${idx} (${this.info().numIrqs} indexes)`);
    const info = abi.VfioIrqInfo.decode(arg);
    return { index: idx, flags: info.flags, count: info.count };
  }

  /**
   * Interrupts of an IRQ index as events: an eventfd per vector of [start, start + count) (default:
   * every vector of the index), signalled by the device and read on the event loop.
   */
  interrupts(index: number, options?: { start?: number; count?: number }): Interrupts {
    const o = checkedOptions<{ start?: number; count?: number }>(options, 'options');
    const info = this.irqInfo(index);
    const start = o.start === undefined ? 0 : checkedU32(o.start, 'options.start');
    const count = o.count === undefined ? Math.max(info.count - start, 0) : checkedU32(o.count, 'options.count');
    if (count === 0 || start + count > info.count)
      throw new VfioError('interrupts', 'ioctl', abi.Errno.EINVAL, null, `IRQ index ${info.index} has ${info.count} vector(s): [${start}, ${start + count}) is not a range of them`);
    const taken = [...this.#irqs].find((x) => x.index === info.index && x.start < start + count && start < x.start + x.count);
    if (taken !== undefined)
      throw new VfioError('interrupts', 'ioctl', abi.Errno.EBUSY, null, `vectors [${taken.start}, ${taken.start + taken.count}) of IRQ index ${info.index} have an open Interrupts: close it first (a second eventfd would take the vectors from it)`);
    let irqs: Interrupts;
    try {
      irqs = new Interrupts({ handle: () => this.handle, shared: (x) => [...this.#irqs].some((y) => y !== x && y.index === x.index) }, info.index, start, count);
    } catch (e) {
      const other = [...this.#irqs].find((x) => x.index !== info.index && x.index <= PCI_IRQ.VFIO_PCI_MSIX_IRQ_INDEX);
      if (e instanceof VfioError && e.code === 'EINVAL' && info.index <= PCI_IRQ.VFIO_PCI_MSIX_IRQ_INDEX && other !== undefined)
        throw new VfioError('interrupts', 'ioctl', e.errno, null, `IRQ index ${other.index} is active: INTx, MSI and MSI-X are used one at a time (close its interrupts first)`);
      throw e;
    }
    this.#irqs.add(irqs);
    irqs.once('close', () => this.#irqs.delete(irqs));
    return irqs;
  }

  /**
   * `VFIO_DEVICE_RESET`. DMA mappings and interrupt eventfds stay (they are the container's and
   * vfio's), as do mappings of the BARs; a device without VFIO_DEVICE_FLAGS_RESET refuses (EINVAL).
   */
  reset(): void {
    const r = native().ioctlValue(this.handle, RESET, 0);
    if (r < 0) throw new VfioError('reset', 'ioctl', -r, null, -r === abi.Errno.EINVAL ? 'VFIO_DEVICE_RESET: the device cannot be reset (no VFIO_DEVICE_FLAGS_RESET)' : undefined);
  }

  /** `VFIO_DEVICE_GET_PCI_HOT_RESET_INFO`: the devices a hot reset would affect (with the ENOSPC retry). */
  hotResetInfo(): { flags: number; devices: HotResetDevice[] } {
    let bytes = new Uint8Array(abi.VfioPciHotResetInfo.size + 8 * abi.VfioPciDependentDevice.size);
    for (let attempt = 0; attempt < 2; attempt++) {
      const view = new DataView(bytes.buffer);
      view.setUint32(abi.VfioPciHotResetInfo.offsets.argsz, bytes.length, true);
      const r = native().ioctl(this.handle, HOT_RESET_INFO, bytes);
      const count = view.getUint32(abi.VfioPciHotResetInfo.offsets.count, true);
      if (r === -abi.Errno.ENOSPC && attempt === 0) {
        bytes = new Uint8Array(abi.VfioPciHotResetInfo.size + count * abi.VfioPciDependentDevice.size);
        continue;
      }
      if (r < 0) throw new VfioError('hotResetInfo', 'ioctl', -r, null, -r === abi.Errno.ENODEV ? 'VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: neither a slot nor a bus reset is possible' : undefined);
      const devices: HotResetDevice[] = [];
      const hex = (v: number, w: number): string => v.toString(16).padStart(w, '0');
      for (let i = 0; i < count; i++) {
        const d = abi.VfioPciDependentDevice.read(view, abi.VfioPciHotResetInfo.size + i * abi.VfioPciDependentDevice.size);
        devices.push({ groupId: d.group_id ?? 0, address: `${hex(d.segment, 4)}:${hex(d.bus, 2)}:${hex(d.devfn >> 3, 2)}.${d.devfn & 7}` });
      }
      return { flags: view.getUint32(abi.VfioPciHotResetInfo.offsets.flags, true), devices };
    }
    throw new VfioError('hotResetInfo', 'ioctl', abi.Errno.ENOSPC, null, 'VFIO_DEVICE_GET_PCI_HOT_RESET_INFO asked for more room twice');
  }

  /** For a simulated device, what its device model does: DMA-read `length` bytes at an IOVA, or null for a DMA fault (counted in simDmaStats). */
  simDmaRead(iova: bigint | number, length: number): Uint8Array | null {
    const buf = new Uint8Array(checkedLength(length, 'length'));
    return native().simDma(this.handle, checkedU64(iova, 'iova'), buf, false) === 0 ? buf : null;
  }

  /** For a simulated device: DMA-write `data` at an IOVA; false for a DMA fault (nothing written; counted). */
  simDmaWrite(iova: bigint | number, data: Uint8Array): boolean {
    if (!(data instanceof Uint8Array)) throw argType('data', 'a Uint8Array', data);
    return native().simDma(this.handle, checkedU64(iova, 'iova'), data, true) === 0;
  }

  /**
   * For a simulated device: the device model raises vector `vector` of IRQ index `index`. True when
   * an eventfd was signalled; false when the vector has none (lost, as a real MSI would be) or INTx
   * is masked (delivered on unmask). A vector the device does not have is a VfioError (EINVAL).
   */
  simInterrupt(index: number, vector: number): boolean {
    const r = native().simInterrupt(this.handle, checkedU32(index, 'index'), checkedU32(vector, 'vector'));
    if (r === -abi.Errno.EINVAL) throw new VfioError('simInterrupt', 'eventfd', -r, null, `the device has no vector ${vector} of IRQ index ${index}`);
    return r === 0;
  }

  /** For a simulated device: its DMA and interrupt counters (faults included). */
  simDmaStats(): SimDmaStats {
    return native().simDmaStats(this.handle);
  }

  /**
   * For a simulated device with a device model (SimConfig.model): its counters, and with
   * `takeFrames` the frames it transmitted since the last take (the last 1024 at most, oldest first,
   * as on the wire without the FCS). null for a device without a model.
   */
  simModel(options: { takeFrames?: boolean } = {}): SimModelStats | null {
    return native().simModel(this.handle, options.takeFrames === true);
  }

  /**
   * Closes every interrupt set and the IOMMU (unmapping its DMA mappings), unmaps every wasm window
   * and mapping (windows first: a guest still holding one then reads zero pages, never a torn-down
   * BAR) and closes the device and its container/group/iommufd fds. Idempotent.
   */
  close(): void {
    if (this.#owner.closed) return;
    for (const irqs of [...this.#irqs]) irqs.close();
    this.#iommu?.close();
    this.#owner.closed = true;
    native().close(this.#handle);
  }

}

const RAW = { raw: true } as const;

/** The mmap rule of the spec that an errno of a refused mmap names, or null when none or several have it. */
export function mmapRuleFor(errno: string): abi.MmapRule | null {
  const rules = abi.MmapRules.filter((r) => r.errno === errno);
  return rules.length === 1 ? rules[0]!.rule : null;
}

/** The rule a validator found, when it refuses with the errno the device gave. */
function ruleOf(check: abi.CheckResult, errno: string): string | null {
  return !check.ok && check.errno === errno ? check.rule : null;
}

/** What #feature needs of a generated payload codec. */
interface PayloadCodec<T> {
  size: number;
  write(view: DataView, at: number, value: T): void;
  read(view: DataView, at: number, options: { raw: boolean }): T;
}


const PCI_ADDRESS = /^(?:([0-9a-f]{4}):)?([0-9a-f]{2}:[0-9a-f]{2}\.[0-7])$/i;

/**
 * A PCI address as sysfs spells it (`0000:01:00.0`, lower case), from that form or the short one
 * lspci prints (`01:00.0`: domain 0000); null when the text is not a PCI address.
 */
export function pciAddress(text: string): string | null {
  const m = PCI_ADDRESS.exec(text);
  return m === null ? null : `${(m[1] ?? '0000').toLowerCase()}:${m[2]!.toLowerCase()}`;
}

/** Opening failed before any device call: a VfioError of openDevice with the errno by name. */
function deviceError(code: string, message: string): VfioError {
  return new VfioError('openDevice', 'open', (osErrno as Record<string, number>)[code] ?? osErrno.EIO, null, message);
}

/**
 * Checks that `path` is a character device of the expected sysfs class ('vfio' for a group,
 * 'vfio-dev' for an iommufd cdev) before anything opens it, so a wrong path gets an answer that
 * names the path and what it is instead of an ioctl's ENOTTY.
 */
function checkCharDevice(path: string, subsystem: string): void {
  let st;
  try {
    st = statSync(path);
    accessSync(path, constants.R_OK | constants.W_OK);
  } catch (e) {
    const code = (e as { code?: string }).code ?? 'EIO';
    throw deviceError(code, code === 'ENOENT' ? `${path}: no such device` : code === 'EACCES' ? `${path}: permission denied (it needs read and write access)` : `${path}: ${code}`);
  }
  if (!st.isCharacterDevice()) throw deviceError('ENODEV', `${path} is not a VFIO device: it is not a character device`);
  const major = Number(st.rdev >> 8) & 0xfff;
  const minor = (Number(st.rdev) & 0xff) | ((Number(st.rdev) >> 12) & 0xfff00);
  let cls: string;
  try {
    cls = basename(readlinkSync(`/sys/dev/char/${major}:${minor}/subsystem`));
  } catch {
    cls = 'unknown';
  }
  if (cls !== subsystem) throw deviceError('ENODEV', `${path} is not a VFIO device: it is a ${cls} character device (${major}:${minor})`);
}

/** The driver a PCI device is bound to, per sysfs, or null when none is. */
function pciDriver(bdf: string): string | null {
  try {
    return basename(readlinkSync(`/sys/bus/pci/devices/${bdf}/driver`));
  } catch {
    return null;
  }
}

/**
 * The other devices of an IOMMU group that keep it from being viable, as "BDF (driver)": those bound
 * to a host driver. vfio drivers, pci-stub and pcieport manage DMA themselves and leave it viable.
 */
function groupHolders(bdf: string, group: string): string[] {
  let members: string[];
  try {
    members = readdirSync(`/sys/kernel/iommu_groups/${group}/devices`);
  } catch {
    return [];
  }
  return members.flatMap((d) => {
    const driver = d === bdf ? null : pciDriver(d);
    return driver === null || driver.startsWith('vfio') || driver === 'pci-stub' || driver === 'pcieport' ? [] : [`${d} (bound to ${driver})`];
  });
}

/**
 * A PCI address through its IOMMU group. Every refusal names the device and what to do about it:
 * a user meets these first (wrong driver, no /dev/vfio, permissions, a group someone else holds,
 * a group shared with a device on a host driver).
 */
function openPciDevice(bdf: string): Device {
  const sysfs = `/sys/bus/pci/devices/${bdf}`;
  const bind = `bind it to vfio-pci: echo vfio-pci > ${sysfs}/driver_override; echo ${bdf} > ${sysfs}/driver/unbind; echo ${bdf} > /sys/bus/pci/drivers_probe`;
  let group: string;
  try {
    group = basename(readlinkSync(`${sysfs}/iommu_group`));
  } catch (e) {
    const code = (e as { code?: string }).code ?? 'ENOENT';
    if (!existsSync(sysfs)) throw deviceError('ENODEV', `${bdf}: no such PCI device (lspci -D lists the addresses)`);
    throw deviceError(code, `${bdf}: no IOMMU group in sysfs: the IOMMU is off (boot with intel_iommu=on or amd_iommu=on) or the device is not behind one`);
  }
  const path = `/dev/vfio/${group}`;
  const driver = pciDriver(bdf);
  if (!existsSync('/dev/vfio')) throw deviceError('ENOENT', `${bdf}: /dev/vfio is missing: load vfio-pci (modprobe vfio-pci) and ${bind}`);
  if (!existsSync(path))
    throw deviceError('ENOENT', `${bdf}: ${path} is missing: the device is bound to ${driver ?? 'no driver'}, not to vfio-pci: ${bind}`);
  try {
    return openDevice({ group: path, device: bdf });
  } catch (e) {
    if (!(e instanceof VfioError)) throw e;
    // the host backend refuses a group whose status lacks VIABLE before SET_CONTAINER's bare EPERM
    const notViable = e.syscall === 'ioctl' && e.message.includes('VFIO_GROUP_GET_STATUS)');
    const holders = notViable ? groupHolders(bdf, group) : [];
    const why = notViable
      ? `IOMMU group ${group} is not viable: ${holders.length > 0 ? `${holders.join(', ')} share${holders.length === 1 ? 's' : ''} it` : 'another device of it is bound to a host driver'}; bind every device of /sys/kernel/iommu_groups/${group}/devices to vfio-pci or unbind it`
      : e.code === 'EACCES' || e.code === 'EPERM'
        ? `permission denied on ${path} (and /dev/vfio/vfio): run as root, or give this user read-write access to both (a udev rule, or chown)`
        : e.code === 'EBUSY' && e.syscall === 'open'
          ? `${path} is busy: another process holds the device's IOMMU group open, or its iommufd cdev (fuser -v ${path} /dev/vfio/devices/* names it); close it first`
          : `${e.message.replace(/^openDevice: /, '').replace(/ \([A-Z0-9]+\)$/, '')}${driver !== null && driver !== 'vfio-pci' ? ` (bound to ${driver})` : ''}`;
    throw new VfioError('openDevice', e.syscall, e.errno, null, `${bdf}: ${why}`);
  }
}

const IOMMUFD = '/dev/iommu';

/**
 * An iommufd cdev, bound to a new /dev/iommu context. As for a PCI address, every refusal names the
 * device and what to do: a kernel without IOMMUFD, permissions, the device open another way.
 */
function openCdevDevice(path: string): Device {
  checkCharDevice(path, 'vfio-dev');
  if (!existsSync(IOMMUFD))
    throw deviceError('ENOENT', `${path}: ${IOMMUFD} is missing: this kernel has no IOMMUFD (CONFIG_IOMMUFD; modprobe iommufd where it is a module); open the device by its PCI address (its VFIO group) instead`);
  try {
    return new Device(path, native().openCdevDevice(path, IOMMUFD), false);
  } catch (e) {
    const x = e as { errno?: unknown; syscall?: unknown; message?: unknown };
    if (!(e instanceof Error) || e instanceof TypeError || e instanceof RangeError || typeof x.errno !== 'number') throw e;
    const code = errnoName(x.errno);
    const bind = String(x.message).includes('VFIO_DEVICE_BIND_IOMMUFD');
    let group = 'its VFIO group';
    try {
      group = `its VFIO group (/dev/vfio/${basename(readlinkSync(`/sys/class/vfio-dev/${basename(path)}/device/iommu_group`))}, in this or another process)`;
    } catch {
      // no sysfs entry: the message names no group file
    }
    // the kernel refuses a second cdev bind with EINVAL and a cdev bind while the group is open with EBUSY
    const why = code === 'EACCES' || code === 'EPERM'
      ? `permission denied on ${path} or ${IOMMUFD}: run as root, or give this user read-write access to both (a udev rule, or chown)`
      : bind && code === 'EBUSY'
        ? `${path} is busy: the device is open through ${group}; close that first`
        : bind && code === 'EINVAL'
          ? `${path} is busy: the device is already open through its cdev (fuser -v ${path} names the process, or another Device of this one holds it); close that first`
          : String(x.message).replace(/^openCdevDevice: /, `${path}: `);
    throw new VfioError('openDevice', typeof x.syscall === 'string' ? x.syscall : 'unknown', x.errno, null, why);
  }
}

const TARGET = "'sim', a PCI address (0000:01:00.0 or 01:00.0), a /dev/vfio/devices/vfioN path, { simulator }, { group, device } or { cdev }";

/**
 * Opens a device. A string target is 'sim' (the default simulated NIC), a PCI address bound to
 * vfio-pci (its IOMMU group is looked up in sysfs), or a /dev/vfio/devices/vfioN cdev.
 */
export function openDevice(target: DeviceTarget = 'sim'): Device {
  const n = native();
  if (typeof target === 'string') {
    if (target === 'sim') return openDevice({ simulator: DEFAULT_SIM });
    if (target.startsWith('/dev/vfio/devices/')) return openDevice({ cdev: target });
    const pci = pciAddress(target);
    if (pci !== null) return openPciDevice(pci);
    throw argValue('target', `"${target}" is not ${TARGET}`);
  }
  if (typeof target !== 'object' || target === null || Array.isArray(target)) throw argType('target', TARGET, target);
  const t = target as { simulator?: unknown; group?: unknown; device?: unknown; cdev?: unknown };
  const kinds = ['simulator', 'group', 'cdev'].filter((k) => k in t);
  if (kinds.length !== 1) throw argValue('target', `expected exactly one of simulator, group (with device) or cdev, got ${kinds.length === 0 ? 'none' : kinds.join(' and ')}`);
  if (t.simulator !== undefined || 'simulator' in t) {
    if (typeof t.simulator !== 'object' || t.simulator === null) throw argType('target.simulator', 'a SimConfig object', t.simulator);
    try {
      return new Device('simulator', n.simCreate(t.simulator as SimConfig), true);
    } catch (e) {
      if (e instanceof TypeError || e instanceof RangeError) e.message = e.message.replace(/^config/, 'target.simulator');
      rethrow(e, 'openDevice');
    }
  }
  if ('cdev' in t) {
    if (typeof t.cdev !== 'string') throw argType('target.cdev', 'a path string', t.cdev);
    return openCdevDevice(t.cdev);
  }
  if (typeof t.group !== 'string') throw argType('target.group', 'a path string', t.group);
  if (typeof t.device !== 'string') throw argType('target.device', 'a PCI address string', t.device);
  checkCharDevice(t.group, 'vfio');
  try {
    return new Device(`${t.group} ${t.device}`, n.openGroupDevice('/dev/vfio/vfio', t.group, t.device), false);
  } catch (e) {
    rethrow(e, 'openDevice');
  }
}
