import { accessSync, constants, readlinkSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import * as abi from './generated/vfio-subregion.js';
import { native, type SimConfig, type SimMapping } from './native.js';
import { checkedIndex, checkedU32, checkedU64, checkedLength } from './args.js';
import { DEFAULT_SIM } from './sim-presets.js';

const { VfioDeviceFeatureFlags: FF, VfioDeviceFeatureId: FEAT, VfioRegionInfoFlags: RF } = abi;
const ARCH: abi.Arch = process.arch === 'arm64' ? 'aarch64' : process.arch === 'ppc64' ? 'ppc64le' : process.arch === 'riscv64' ? 'riscv64' : process.arch === 's390x' ? 's390x' : 'x86_64';
const IOCTL = {
  GET_INFO: abi.ioctlNumber('VFIO_DEVICE_GET_INFO', ARCH),
  GET_REGION_INFO: abi.ioctlNumber('VFIO_DEVICE_GET_REGION_INFO', ARCH),
  FEATURE: abi.ioctlNumber('VFIO_DEVICE_FEATURE', ARCH),
};

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

/** An error of this API that is not a system call's: a closed device or mapping. */
export class DeviceStateError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'DeviceStateError';
    this.code = code;
  }
}

/** A live mapping of (part of) a region, with typed little-endian accessors. */
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
  readonly address: bigint;
  #id: number;
  #view: DataView | null;
  #bytes: Uint8Array | null;
  readonly #onUnmap: (m: Mapping) => void;

  /** @internal */
  constructor(region: number, offset: bigint, prot: number, attrs: number, m: { id: number; buffer: ArrayBuffer; address: bigint }, onUnmap: (m: Mapping) => void) {
    this.region = region;
    this.offset = offset;
    this.length = m.buffer.byteLength;
    this.prot = prot;
    this.attrs = attrs;
    this.address = m.address;
    this.#id = m.id;
    this.#view = new DataView(m.buffer);
    this.#bytes = new Uint8Array(m.buffer);
    this.#onUnmap = onUnmap;
  }

  get mapped(): boolean {
    return this.#view !== null;
  }

  /** The mapped bytes. Throws once unmapped. */
  get bytes(): Uint8Array {
    return this.#bytes ?? this.#gone();
  }

  #gone(): never {
    throw new DeviceStateError('ERR_UNMAPPED', `mapping of region ${this.region} at +0x${this.offset.toString(16)} is unmapped`);
  }

  #at(off: number, width: number): DataView {
    const view = this.#view ?? this.#gone();
    if (!Number.isInteger(off) || off < 0 || off + width > this.length || off % width !== 0)
      throw new RangeError(`offset ${off}: a ${width * 8}-bit access must be aligned and inside the ${this.length}-byte mapping`);
    return view;
  }

  read8(off: number): number { return this.#at(off, 1).getUint8(off); }
  read16(off: number): number { return this.#at(off, 2).getUint16(off, true); }
  read32(off: number): number { return this.#at(off, 4).getUint32(off, true); }
  read64(off: number): bigint { return this.#at(off, 8).getBigUint64(off, true); }
  write8(off: number, v: number): void { this.#at(off, 1).setUint8(off, checkedU32(v, 'value', 0xff)); }
  write16(off: number, v: number): void { this.#at(off, 2).setUint16(off, checkedU32(v, 'value', 0xffff), true); }
  write32(off: number, v: number): void { this.#at(off, 4).setUint32(off, checkedU32(v, 'value'), true); }
  write64(off: number, v: bigint): void { this.#at(off, 8).setBigUint64(off, checkedU64(v, 'value'), true); }

  /** Unmaps. Idempotent: a second call does nothing. */
  unmap(): void {
    if (this.#view === null) return;
    this.#view = null;
    this.#bytes = null;
    native().munmap(this.#id);
    this.#onUnmap(this);
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
 * reach the region. The addon holds the Memory alive until `unmap()`, which puts anonymous zero pages
 * back, so the guest's addresses turn into ordinary memory again (never a hole, never device memory).
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
  /** Process address of the window's first byte (what wasmMap returned), as Mapping.address. */
  readonly address: bigint;
  #id: number;
  readonly #onUnmap: (w: WasmWindow) => void;

  /** @internal */
  constructor(region: number, offset: bigint, base: number, size: number, attrs: number, memory: WasmMemory, id: number, address: bigint, onUnmap: (w: WasmWindow) => void) {
    this.region = region;
    this.offset = offset;
    this.base = base;
    this.size = size;
    this.attrs = attrs;
    this.memory = memory;
    this.address = address;
    this.#id = id;
    this.#onUnmap = onUnmap;
  }

  get mapped(): boolean { return this.#id !== 0; }

  /** The addon's id for the host-call path (mmioRead/mmioWrite/mmioExec). Throws once unmapped. */
  get id(): number {
    if (this.#id === 0) throw new DeviceStateError('ERR_UNMAPPED', `window of region ${this.region} at 0x${this.base.toString(16)} is unmapped`);
    return this.#id;
  }

  /** Whether linear-memory bytes [addr, addr + bytes) lie inside the window. */
  contains(addr: number, bytes: number): boolean {
    return this.#id !== 0 && addr >= this.base && addr + bytes <= this.base + this.size;
  }

  /** Unmaps (anonymous zero pages replace the window). Idempotent. */
  unmap(): void {
    if (this.#id === 0) return;
    const id = this.#id;
    this.#id = 0;
    native().munmap(id);
    this.#onUnmap(this);
  }
}

/**
 * Bytes of the per-device argument buffer: every ioctl argument is encoded into it and decoded from it
 * in place, because allocating an ArrayBuffer per call would cost more than the call. It also holds a
 * REGION_INFO reply with its whole capability chain, so one call usually answers.
 */
const SCRATCH_BYTES = 4096;
const NO_DATA = new Uint8Array(0);

/** An open VFIO device (real or simulated): the same interface for both. */
export class Device {
  /** 'simulator', or the path the device was opened from. */
  readonly source: string;
  #fd: number;
  readonly #extraFds: number[];
  readonly #mappings = new Set<Mapping>();
  readonly #windows = new Set<WasmWindow>();
  readonly #scratch = new Uint8Array(SCRATCH_BYTES);
  readonly #view = new DataView(this.#scratch.buffer);

  /** @internal */
  constructor(source: string, fd: number, extraFds: number[]) {
    this.source = source;
    this.#fd = fd;
    this.#extraFds = extraFds;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  /** The device fd (for the simulator: the fd the addon dispatches on). */
  get fd(): number {
    if (this.#fd < 0) throw new DeviceStateError('ERR_DEVICE_CLOSED', `device ${this.source} is closed`);
    return this.#fd;
  }

  info(): DeviceInfo {
    abi.VfioDeviceInfo.write(this.#view, 0, { argsz: abi.VfioDeviceInfo.size, flags: 0, num_regions: 0, num_irqs: 0, cap_offset: 0 });
    native().ioctl(this.fd, IOCTL.GET_INFO, this.#scratch);
    const info = abi.VfioDeviceInfo.read(this.#view, 0, RAW);
    return { flags: info.flags, numRegions: info.num_regions, numIrqs: info.num_irqs };
  }

  /** `VFIO_DEVICE_GET_REGION_INFO` for one region; a chain too long for the scratch buffer gets the retry the argsz convention asks for. */
  region(index: number): RegionInfo {
    const idx = checkedIndex(index, 'index');
    let view = this.#view;
    for (let attempt = 0; attempt < 2; attempt++) {
      abi.VfioRegionInfo.write(view, 0, { argsz: view.byteLength, flags: 0, index: idx, cap_offset: 0, size: 0n, offset: 0n });
      native().ioctl(this.fd, IOCTL.GET_REGION_INFO, new Uint8Array(view.buffer));
      const reply = abi.parseRegionInfoReply(view);
      if (reply.retry === null) return decodeRegion(idx, reply);
      view = new DataView(new ArrayBuffer(reply.retry));
    }
    throw new Error(`VFIO_DEVICE_GET_REGION_INFO(index=${idx}): the kernel asked for a larger buffer twice`);
  }

  /** Every region, index 0 .. num_regions - 1. */
  regions(): RegionInfo[] {
    return Array.from({ length: this.info().numRegions }, (_, i) => this.region(i));
  }

  /** VFIO_DEVICE_FEATURE with a payload encoded after the header; returns the payload as the kernel left it. */
  #feature<T>(flags: number, codec: PayloadCodec<T>, payload: T): T;
  #feature(flags: number): void;
  #feature<T>(flags: number, codec?: PayloadCodec<T>, payload?: T): T | void {
    const at = abi.VfioDeviceFeature.size;
    abi.VfioDeviceFeature.write(this.#view, 0, { argsz: at + (codec?.size ?? 0), flags, data: NO_DATA });
    if (codec !== undefined) codec.write(this.#view, at, payload as T);
    native().ioctl(this.fd, IOCTL.FEATURE, this.#scratch);
    if (codec !== undefined) return codec.read(this.#view, at, RAW);
  }

  #probe(feature: number, op: number): boolean {
    try {
      this.#feature(FF.VFIO_DEVICE_FEATURE_PROBE | op | feature);
      return true;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'ENOTTY' || code === 'EINVAL' || code === 'EOPNOTSUPP') return false;
      throw e;
    }
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
    const out = this.#feature(FF.VFIO_DEVICE_FEATURE_GET | FEAT.VFIO_DEVICE_FEATURE_REGION_ATTRS, abi.VfioDeviceFeatureRegionAttrs,
      { flags: 0, index: checkedIndex(index, 'index'), attrs: 0, supported: 0 });
    return { attrs: out.attrs, supported: out.supported };
  }

  /** Gives a whole region new attributes; refused (EBUSY) while it is mapped. */
  setRegionAttrs(index: number, attrs: number): void {
    this.#feature(FF.VFIO_DEVICE_FEATURE_SET | FEAT.VFIO_DEVICE_FEATURE_REGION_ATTRS, abi.VfioDeviceFeatureRegionAttrs,
      { flags: 0, index: checkedIndex(index, 'index'), attrs: checkedU32(attrs, 'attrs'), supported: 0 });
  }

  /** Creates a subregion (VFIO_DEVICE_FEATURE_SUBREGION) and returns its region info. */
  createSubregion(req: SubregionRequest): RegionInfo {
    const out = this.#feature(FF.VFIO_DEVICE_FEATURE_SET | FEAT.VFIO_DEVICE_FEATURE_SUBREGION, abi.VfioDeviceFeatureSubregion, {
      flags: 0,
      parent_index: checkedIndex(req.parent, 'parent'),
      offset: checkedU64(req.offset, 'offset'),
      size: checkedU64(req.size, 'size'),
      attrs: checkedU32(req.attrs ?? 0, 'attrs'),
      index: 0,
    });
    return this.region(out.index);
  }

  /**
   * The region and the checked [offset, offset + length) of it that `map` and `mapInto` map. Info
   * passed in is used as is for a subregion (its attributes are fixed at creation); a BAR's is read
   * again, since REGION_ATTRS SET may have changed its attributes since, and a mapping reports what
   * its page tables got.
   */
  #mappable(region: number | RegionInfo, options: { offset?: bigint | number; length?: number }): { r: RegionInfo; offset: bigint; length: number } {
    const r = typeof region === 'object' && region !== null ? (region.subregion !== null ? region : this.region(region.index)) : this.region(region);
    const offset = checkedU64(options.offset ?? 0, 'offset');
    if ((r.flags & RF.VFIO_REGION_INFO_FLAG_MMAP) === 0) throw Object.assign(new Error(`region ${r.index} cannot be mmapped`), { code: 'EINVAL' });
    if (offset > r.size) throw new RangeError(`offset 0x${offset.toString(16)} is past the end of region ${r.index} (0x${r.size.toString(16)} bytes)`);
    const length = options.length !== undefined ? checkedLength(options.length, 'length') : Number(r.size - offset);
    if (BigInt(length) > r.size - offset) throw new RangeError(`0x${length.toString(16)} bytes at 0x${offset.toString(16)} run past the end of region ${r.index} (0x${r.size.toString(16)} bytes)`);
    return { r, offset, length };
  }

  /** Maps (part of) a region, given by index or by the info already read. The mapping lives until `unmap()` or `close()`. */
  map(region: number | RegionInfo, options: MapOptions = {}): Mapping {
    const { r, offset, length } = this.#mappable(region, options);
    const n = native();
    const prot = options.prot ?? ((r.flags & RF.VFIO_REGION_INFO_FLAG_READ ? n.PROT_READ : 0) | (r.flags & RF.VFIO_REGION_INFO_FLAG_WRITE ? n.PROT_WRITE : 0));
    let m;
    try {
      m = n.mmap(this.fd, r.offset + offset, length, prot);
    } catch (e) {
      throw withMmapRule(e);
    }
    const mapping = new Mapping(r.index, offset, prot, r.attrs, m, (x) => this.#mappings.delete(x));
    this.#mappings.add(mapping);
    return mapping;
  }

  /**
   * Maps (part of) a region into a WebAssembly.Memory at linear address `options.at`: the data path
   * of a wasm driver (see runtime/src/mmio.ts). Offset and length must be page-aligned and inside the
   * region, the window inside the memory's current size.
   */
  mapInto(memory: WasmMemory, region: number | RegionInfo, options: WindowOptions): WasmWindow {
    const { r, offset, length } = this.#mappable(region, options);
    const n = native();
    if ((r.flags & RF.VFIO_REGION_INFO_FLAG_READ) === 0 || (r.flags & RF.VFIO_REGION_INFO_FLAG_WRITE) === 0)
      throw Object.assign(new Error(`region ${r.index} is not readable and writable: a wasm window must be both`), { code: 'EINVAL' });
    const ps = BigInt(n.pageSize);
    if (offset % ps !== 0n || BigInt(length) % ps !== 0n || options.at % n.pageSize !== 0)
      throw new RangeError(`a window must be page-aligned (${n.pageSize} bytes): offset 0x${offset.toString(16)}, length 0x${length.toString(16)}, at 0x${options.at.toString(16)}`);
    // No errno-based naming here: EBUSY is also the addon's own "overlaps another window" (the simulator names its rules itself).
    const m = n.wasmMap(this.fd, r.offset + offset, length, n.PROT_READ | n.PROT_WRITE, memory, new Uint8Array(memory.buffer), options.at);
    const w = new WasmWindow(r.index, offset, options.at, length, r.attrs, memory, m.id, m.address, (x) => this.#windows.delete(x));
    this.#windows.add(w);
    return w;
  }

  /** Live wasm windows made through this object. */
  get windows(): readonly WasmWindow[] {
    return [...this.#windows];
  }

  /** Reads bytes of a region through the device fd. */
  read(index: number, offset: bigint | number, length: number): Uint8Array {
    const r = this.region(index);
    const buf = new Uint8Array(checkedLength(length, 'length'));
    native().pread(this.fd, buf, r.offset + checkedU64(offset, 'offset'));
    return buf;
  }

  /** Writes bytes to a region through the device fd. */
  write(index: number, offset: bigint | number, data: Uint8Array): void {
    const r = this.region(index);
    native().pwrite(this.fd, data, r.offset + checkedU64(offset, 'offset'));
  }

  /** Live mappings made through this object. */
  get mappings(): readonly Mapping[] {
    return [...this.#mappings];
  }

  /** For a simulated device: the simulator's record of live mappings and the attributes each got. */
  simMappings(): SimMapping[] {
    return native().simMappings(this.fd);
  }

  /** For a simulated device: the shared-memory file behind a memory region. */
  simBacking(index: number): { path: string; offset: bigint; size: bigint } | null {
    return native().simBacking(this.fd, checkedIndex(index, 'index'));
  }

  /** Unmaps every wasm window and mapping (windows first: a guest still holding one then reads zero pages, never a torn-down BAR), closes the device fd and the container/group/iommufd fds. Idempotent. */
  close(): void {
    if (this.#fd < 0) return;
    for (const w of [...this.#windows]) w.unmap();
    for (const m of [...this.#mappings]) m.unmap();
    const n = native();
    const fd = this.#fd;
    this.#fd = -1;
    n.close(fd);
    for (const extra of this.#extraFds) n.close(extra);
  }
}

const RAW = { raw: true } as const;

/** The mmap rule of the spec that an errno of a refused mmap names, or null when none or several have it. */
export function mmapRuleFor(errno: string): abi.MmapRule | null {
  const rules = abi.MmapRules.filter((r) => r.errno === errno);
  return rules.length === 1 ? rules[0]!.rule : null;
}

/**
 * Names the mmap rule of the spec behind a refused mmap. The simulator names it itself (`rule` on
 * the error); a kernel gives only the errno, which names the rule when exactly one mmap rule has
 * that errno (EBUSY: one-memtype-per-page). The rule is also appended to the message.
 */
function withMmapRule(e: unknown): unknown {
  const err = e as { code?: unknown; rule?: unknown; message?: unknown };
  if (err === null || typeof err !== 'object' || typeof err.code !== 'string' || typeof err.rule === 'string') return e;
  const rule = mmapRuleFor(err.code);
  if (rule === null) return e;
  Object.assign(err, { rule });
  if (e instanceof Error) e.message += `: rule ${rule}`;
  return e;
}

/** What #feature needs of a generated payload codec. */
interface PayloadCodec<T> {
  size: number;
  write(view: DataView, at: number, value: T): void;
  read(view: DataView, at: number, options: { raw: boolean }): T;
}

function decodeRegion(index: number, reply: abi.RegionInfoReply): RegionInfo {
  const out: RegionInfo = {
    index, size: reply.info.size, flags: reply.info.flags, offset: reply.info.offset, caps: reply.caps,
    subregion: null, attrs: 0, sparse: null, type: null,
  };
  for (const c of reply.caps) {
    switch (c.name) {
      case 'VFIO_REGION_INFO_CAP_SUBREGION': out.subregion = { parent: c.value.parent_index, offset: c.value.offset }; break;
      case 'VFIO_REGION_INFO_CAP_ATTRS': out.attrs = c.value.attrs; break;
      case 'VFIO_REGION_INFO_CAP_SPARSE_MMAP': out.sparse = c.value.areas.map((a) => ({ offset: a.offset, size: a.size })); break;
      case 'VFIO_REGION_INFO_CAP_TYPE': out.type = { type: c.value.type, subtype: c.value.subtype }; break;
      default: break;
    }
  }
  return out;
}

const PCI_ADDRESS = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i;

function deviceError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
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

/**
 * Opens a device. A string target is 'sim' (the default simulated NIC), a PCI address bound to
 * vfio-pci (its IOMMU group is looked up in sysfs), or a /dev/vfio/devices/vfioN cdev.
 */
export function openDevice(target: DeviceTarget = 'sim'): Device {
  const n = native();
  if (typeof target === 'string') {
    if (target === 'sim') return openDevice({ simulator: DEFAULT_SIM });
    if (target.startsWith('/dev/vfio/devices/')) return openDevice({ cdev: target });
    if (PCI_ADDRESS.test(target)) {
      let group: string;
      try {
        group = basename(readlinkSync(`/sys/bus/pci/devices/${target}/iommu_group`));
      } catch (e) {
        throw deviceError((e as { code?: string }).code ?? 'ENOENT', `${target}: no IOMMU group in sysfs (is the device present and bound to vfio-pci?)`);
      }
      return openDevice({ group: `/dev/vfio/${group}`, device: target });
    }
    throw Object.assign(new TypeError(`device "${target}": expected 'sim', a PCI address (0000:01:00.0) or /dev/vfio/devices/vfioN`), { code: 'ERR_INVALID_ARG_VALUE' });
  }
  if ('simulator' in target) return new Device('simulator', n.simCreate(target.simulator), []);
  if ('cdev' in target) {
    checkCharDevice(target.cdev, 'vfio-dev');
    const fds = n.openCdevDevice(target.cdev, '/dev/iommu');
    return new Device(target.cdev, fds.device, [fds.iommufd]);
  }
  checkCharDevice(target.group, 'vfio');
  const fds = n.openGroupDevice('/dev/vfio/vfio', target.group, target.device);
  return new Device(`${target.group} ${target.device}`, fds.device, [fds.group, fds.container]);
}
