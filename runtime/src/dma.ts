import * as abi from './generated/vfio-subregion.js';
import { native, type DeviceHandle } from './native.js';
import { checkedLength, checkedOptions, checkedU64 } from './args.js';
import { argType, argValue, DeviceStateError, errnoName, VfioError } from './errors.js';
import { hostArch } from './codec-support.js';

const ARCH = hostArch() ?? 'x86_64';
/** An unmap's dirty bitmap: none. */
const NO_DATA = new Uint8Array(0);
const GET_INFO = abi.ioctlNumber('VFIO_IOMMU_GET_INFO', ARCH);
const { VfioDmaMapFlags: MF, IommufdIoasMapFlags: IF } = abi;
/** Bytes a VFIO_IOMMU_GET_INFO asks for first: the three capabilities with a few IOVA ranges. */
const INFO_BYTES = 256;
/** IOVA ranges an IOMMU_IOAS_IOVA_RANGES asks for first (an Intel IOMMU reports two). */
const IOAS_RANGES = 8;

/** An IOVA range the IOMMU can map: [start, end], end inclusive, as struct vfio_iova_range. */
export interface IovaRange {
  start: bigint;
  end: bigint;
}

/**
 * What VFIO_IOMMU_GET_INFO says, with its capability chain decoded; for an iommufd IOAS, what
 * IOMMU_IOAS_IOVA_RANGES says (flags 0, pageSizes the one bit of out_iova_alignment).
 */
export interface IommuInfo {
  /** VFIO_IOMMU_INFO_* */
  flags: number;
  /** The page sizes the IOMMU maps (a bit per size); the smallest is what everything must be aligned to. */
  pageSizes: bigint;
  /** The smallest page size. */
  pageSize: bigint;
  /** The IOVA ranges (VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE); without the capability, all of 64 bits. */
  ranges: IovaRange[];
  /** Mappings the container may still make (VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL), or null when not reported. */
  dmaAvailable: number | null;
}

/**
 * What an Iommu does through each kind of IOMMU handle: a type1 container (VFIO_IOMMU_GET_INFO,
 * VFIO_IOMMU_MAP_DMA, VFIO_IOMMU_UNMAP_DMA) or an iommufd IOAS (IOMMU_IOAS_IOVA_RANGES,
 * IOMMU_IOAS_MAP with FIXED_IOVA, IOMMU_IOAS_UNMAP). The addon fills in the address and the IOAS.
 */
interface IommuOps {
  what: string;
  mapName: string;
  unmapName: string;
  info(handle: DeviceHandle): IommuInfo;
  /** Bytes of the map and unmap structs. */
  mapSize: number;
  unmapSize: number;
  /** Writes the map and unmap structs in place (the addon copies them before the ioctl). */
  writeMap(view: DataView, iova: bigint, size: bigint, read: boolean, write: boolean): void;
  writeUnmap(view: DataView, iova: bigint, size: bigint): void;
}

const TYPE1: IommuOps = {
  what: 'the device\'s container',
  mapName: 'VFIO_IOMMU_MAP_DMA',
  unmapName: 'VFIO_IOMMU_UNMAP_DMA',
  info(handle) {
    let bytes = new Uint8Array(INFO_BYTES);
    for (let attempt = 0; attempt < 2; attempt++) {
      const view = new DataView(bytes.buffer);
      abi.VfioIommuType1Info.write(view, 0, { argsz: bytes.length, flags: 0, iova_pgsizes: 0n, cap_offset: 0 });
      const r = native().ioctl(handle, GET_INFO, bytes);
      if (r < 0) throw new VfioError('iommuInfo', 'ioctl', -r, null, `VFIO_IOMMU_GET_INFO: ${errnoName(-r)}`);
      const reply = abi.parseIommuType1InfoReply(bytes);
      if (reply.retry !== null) {
        bytes = new Uint8Array(reply.retry);
        continue;
      }
      const pageSizes = reply.info.iova_pgsizes;
      const info: IommuInfo = { flags: reply.info.flags, pageSizes, pageSize: pageSizes & -pageSizes, ranges: [{ start: 0n, end: (1n << 64n) - 1n }], dmaAvailable: null };
      for (const c of reply.caps) {
        if (c.name === 'VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE') info.ranges = c.value.iova_ranges.map((x) => ({ start: x.start, end: x.end }));
        else if (c.name === 'VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL') info.dmaAvailable = c.value.avail;
      }
      return info;
    }
    throw new VfioError('iommuInfo', 'ioctl', abi.Errno.EINVAL, null, 'VFIO_IOMMU_GET_INFO asked for a larger buffer twice');
  },
  mapSize: abi.VfioIommuType1DmaMap.size,
  unmapSize: abi.VfioIommuType1DmaUnmap.size,
  writeMap: (view, iova, size, read, write) => abi.VfioIommuType1DmaMap.write(view, 0, { flags: (read ? MF.VFIO_DMA_MAP_FLAG_READ : 0) | (write ? MF.VFIO_DMA_MAP_FLAG_WRITE : 0), vaddr: 0n, iova, size }),
  writeUnmap: (view, iova, size) => abi.VfioIommuType1DmaUnmap.write(view, 0, { flags: 0, iova, size, data: NO_DATA }),
};

const IOAS: IommuOps = {
  what: 'the device\'s IOAS',
  mapName: 'IOMMU_IOAS_MAP',
  unmapName: 'IOMMU_IOAS_UNMAP',
  info(handle) {
    let count = IOAS_RANGES;
    for (let attempt = 0; attempt < 2; attempt++) {
      const arg = abi.IommuIoasIovaRanges.encode({ ioas_id: 0, num_iovas: 0, __reserved: 0, allowed_iovas: 0n, out_iova_alignment: 0n });
      const ranges = new Uint8Array(count * abi.IommuIovaRange.size);
      const r = native().ioasIovaRanges(handle, arg, ranges);
      const reply = abi.IommuIoasIovaRanges.decode(arg);
      if (r === -abi.Errno.EMSGSIZE) {
        count = reply.num_iovas;
        continue;
      }
      if (r < 0) throw new VfioError('iommuInfo', 'ioctl', -r, null, `IOMMU_IOAS_IOVA_RANGES: ${errnoName(-r)}`);
      const list = Array.from({ length: reply.num_iovas }, (_, i) => abi.IommuIovaRange.decode(ranges.subarray(i * 16, i * 16 + 16)));
      const align = reply.out_iova_alignment;
      return { flags: 0, pageSizes: align, pageSize: align, ranges: list.map((x) => ({ start: x.start, end: x.last })), dmaAvailable: null };
    }
    throw new VfioError('iommuInfo', 'ioctl', abi.Errno.EMSGSIZE, null, 'IOMMU_IOAS_IOVA_RANGES reported more ranges twice');
  },
  mapSize: abi.IommuIoasMap.size,
  unmapSize: abi.IommuIoasUnmap.size,
  writeMap: (view, iova, length, read, write) => abi.IommuIoasMap.write(view, 0, {
    flags: IF.IOMMU_IOAS_MAP_FIXED_IOVA | (read ? IF.IOMMU_IOAS_MAP_READABLE : 0) | (write ? IF.IOMMU_IOAS_MAP_WRITEABLE : 0),
    ioas_id: 0, __reserved: 0, user_va: 0n, length, iova,
  }),
  writeUnmap: (view, iova, length) => abi.IommuIoasUnmap.write(view, 0, { ioas_id: 0, iova, length }),
};

const OPS: Partial<Record<string, IommuOps>> = { type1_container: TYPE1, iommufd: IOAS };

/** What a WebAssembly.Memory is to DMA: its buffer (the lib here has no WebAssembly typings). */
interface MemoryLike {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}

/** Memory that can be mapped for DMA: a WebAssembly.Memory, or a buffer from {@link Iommu.allocBuffer}. */
export type DmaSource = MemoryLike | ArrayBuffer;

export interface DmaMapOptions {
  /** Byte offset in the source (default 0): a multiple of the IOMMU page size. */
  offset?: number;
  /** Bytes to map (default: the rest of the source): a multiple of the IOMMU page size. */
  length?: number;
  /** The IOVA (default: the first free range of the IOMMU's IOVA ranges, from the second page on). */
  iova?: bigint | number;
  /** The device may read the memory (default true). */
  read?: boolean;
  /** The device may write the memory (default true). */
  write?: boolean;
}

/**
 * IOVAs handed out per IOVA range, first fit. IOVA 0's page is never handed out: a device that DMAs
 * to a zeroed descriptor then faults instead of hitting a live buffer.
 */
class IovaAllocator {
  readonly #used: IovaRange[] = [];

  constructor(readonly ranges: IovaRange[], readonly page: bigint) {}

  /** The first free, page-aligned IOVA of `size` bytes, or null. */
  alloc(size: bigint): bigint | null {
    for (const r of this.ranges) {
      let at = r.start < this.page ? this.page : (r.start + this.page - 1n) / this.page * this.page;
      for (const u of this.#used) {
        if (u.end < at) continue;
        if (at + size - 1n < u.start) break;
        at = (u.end + this.page) / this.page * this.page;
      }
      if (at + size - 1n <= r.end && at + size - 1n >= at) return at;
    }
    return null;
  }

  take(start: bigint, size: bigint): void {
    const u = { start, end: start + size - 1n };
    const i = this.#used.findIndex((x) => x.start > start);
    this.#used.splice(i < 0 ? this.#used.length : i, 0, u);
  }

  release(start: bigint): void {
    const i = this.#used.findIndex((x) => x.start === start);
    if (i >= 0) this.#used.splice(i, 1);
  }
}

/**
 * A range of process memory mapped for DMA: the device reaches `length` bytes of the source from
 * `offset` at IOVAs [iova, iova + length). The mapping keeps the source alive (a dropped Memory
 * stays mapped and valid) until `unmap()` or the Iommu's close.
 */
export class DmaMapping {
  readonly iova: bigint;
  readonly offset: number;
  readonly length: number;
  readonly source: DmaSource;
  #unmapped = false;
  readonly #unmap: (m: DmaMapping) => void;

  /** @internal */
  constructor(source: DmaSource, offset: number, length: number, iova: bigint, unmap: (m: DmaMapping) => void) {
    this.source = source;
    this.offset = offset;
    this.length = length;
    this.iova = iova;
    this.#unmap = unmap;
  }

  get mapped(): boolean {
    return !this.#unmapped;
  }

  /** Unmaps (VFIO_IOMMU_UNMAP_DMA or IOMMU_IOAS_UNMAP of exactly this range). Idempotent. */
  unmap(): void {
    if (this.#unmapped) return;
    this.#unmap(this);
    this.#unmapped = true;
  }

  /** @internal The IOMMU handle went: nothing left to unmap. */
  revoke(): void {
    this.#unmapped = true;
  }
}

/**
 * A device's IOMMU: its VFIO container (type1), its iommufd IOAS (a cdev), or the simulator's
 * (either). Maps process memory for DMA at IOVAs it allocates inside the ranges the IOMMU reports.
 * `close()` (or the device's) unmaps every mapping it made.
 */
export class Iommu {
  readonly #handle: DeviceHandle;
  readonly #ops: IommuOps;
  readonly #live = new Set<DmaMapping>();
  #info: IommuInfo | null = null;
  #iovas: IovaAllocator | null = null;
  #closed = false;
  // The ioctl arguments, written in place for each call (the addon copies them before the ioctl):
  // a fresh buffer per map and unmap cost more than the rest of the JavaScript side of a DMA map.
  readonly #mapArg: Uint8Array;
  readonly #mapView: DataView;
  readonly #unmapArg: Uint8Array;
  readonly #unmapView: DataView;

  /** @internal */
  constructor(handle: DeviceHandle) {
    this.#handle = handle;
    const ops = OPS[native().handleKind(handle)];
    if (ops === undefined) throw new TypeError(`an Iommu needs a type1_container or iommufd handle, not a ${native().handleKind(handle)} one`);
    this.#ops = ops;
    this.#mapArg = new Uint8Array(ops.mapSize);
    this.#mapView = new DataView(this.#mapArg.buffer);
    this.#unmapArg = new Uint8Array(ops.unmapSize);
    this.#unmapView = new DataView(this.#unmapArg.buffer);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** 'type1' (a VFIO container) or 'iommufd' (an IOAS). */
  get kind(): 'type1' | 'iommufd' {
    return this.#ops === IOAS ? 'iommufd' : 'type1';
  }

  #open(operation: string): void {
    if (this.#closed) throw new DeviceStateError('ERR_DEVICE_CLOSED', `${operation}: the IOMMU (${this.#ops.what}) is closed`);
  }

  /** VFIO_IOMMU_GET_INFO with the argsz retry for a longer chain; IOMMU_IOAS_IOVA_RANGES with the EMSGSIZE retry. */
  info(): IommuInfo {
    this.#open('iommuInfo');
    return this.#ops.info(this.#handle);
  }

  /** The IOVA allocator, from the first info() (the ranges do not change while the device is attached). */
  #allocator(): IovaAllocator {
    if (this.#iovas === null) {
      this.#info = this.info();
      this.#iovas = new IovaAllocator(this.#info.ranges, this.#info.pageSize === 0n ? 4096n : this.#info.pageSize);
    }
    return this.#iovas;
  }

  /**
   * `length` bytes of zeroed, page-aligned memory for DMA (an ArrayBuffer the addon owns: it stays
   * valid while the buffer or a mapping of it is alive).
   */
  allocBuffer(length: number): ArrayBuffer {
    return native().dmaAlloc(checkedLength(length, 'length'));
  }

  /**
   * Maps (part of) a WebAssembly.Memory or a buffer from {@link allocBuffer} for DMA. The offset and
   * length must be multiples of the IOMMU page size; the IOVA is allocated unless given.
   */
  map(source: DmaSource, options?: DmaMapOptions): DmaMapping {
    this.#open('dmaMap');
    if (typeof source !== 'object' || source === null) throw argType('source', 'a WebAssembly.Memory or a buffer from allocBuffer', source);
    const o = checkedOptions<DmaMapOptions>(options, 'options');
    const iovas = this.#allocator();
    const page = iovas.page;
    const total = source instanceof ArrayBuffer ? source.byteLength : sourceBytes(source);
    const offset = o.offset === undefined ? 0 : Number(checkedU64(o.offset, 'options.offset'));
    if (offset > total) throw argValue('options.offset', `${offset} is past the end of the ${total}-byte source`);
    const length = o.length === undefined ? total - offset : checkedLength(o.length, 'options.length');
    if (length === 0) throw argValue('options.offset', `nothing of the ${total}-byte source is left to map at ${offset}`);
    if (offset + length > total) throw argValue('options.length', `${length} bytes at ${offset} run past the end of the ${total}-byte source`);
    const read = o.read ?? true;
    const write = o.write ?? true;
    if (typeof read !== 'boolean') throw argType('options.read', 'a boolean', read);
    if (typeof write !== 'boolean') throw argType('options.write', 'a boolean', write);
    const size = BigInt(length);
    let iova: bigint;
    if (o.iova !== undefined) iova = checkedU64(o.iova, 'options.iova');
    else {
      const got = size % page === 0n ? iovas.alloc(size) : 0n;
      if (got === null) throw new VfioError('dmaMap', 'ioctl', abi.Errno.ENOSPC, null, `no free range of 0x${size.toString(16)} bytes left in the IOVA ranges ${showRanges(iovas.ranges)}`);
      iova = got;
    }
    this.#ops.writeMap(this.#mapView, iova, size, read, write);
    const r = native().dmaMap(this.#handle, source, offset, this.#mapArg);
    if (r < 0) throw new VfioError('dmaMap', 'ioctl', -r, null, mapCause(errnoName(-r), { iova, size, offset: BigInt(offset), access: read || write }, iovas, this.#live));
    iovas.take(iova, size);
    const m = new DmaMapping(source, offset, length, iova, (x) => this.#unmapOne(x));
    this.#live.add(m);
    return m;
  }

  #unmapOne(m: DmaMapping): void {
    this.#open('dmaUnmap');
    this.#ops.writeUnmap(this.#unmapView, m.iova, BigInt(m.length));
    const r = native().dmaUnmap(this.#handle, this.#unmapArg);
    if (r < 0) throw new VfioError('dmaUnmap', 'ioctl', -r, null, `${this.#ops.unmapName} of [0x${m.iova.toString(16)}, +0x${m.length.toString(16)}): ${errnoName(-r)}`);
    this.#live.delete(m);
    this.#iovas?.release(m.iova);
  }

  /** The live mappings this Iommu made. */
  mappings(): DmaMapping[] {
    return [...this.#live];
  }

  /** Unmaps every mapping and closes the IOMMU handle. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const m of this.#live) m.revoke();
    this.#live.clear();
    native().close(this.#handle);
  }
}

/** The byte length of a WebAssembly.Memory's buffer (the brand check is the addon's). */
function sourceBytes(source: object): number {
  const b = (source as { buffer?: unknown }).buffer;
  if (!(b instanceof ArrayBuffer) && !(typeof SharedArrayBuffer !== 'undefined' && b instanceof SharedArrayBuffer))
    throw argType('source', 'a WebAssembly.Memory or a buffer from allocBuffer', source);
  return b.byteLength;
}

const showRanges = (rs: IovaRange[]): string => rs.map((r) => `[0x${r.start.toString(16)}, 0x${r.end.toString(16)}]`).join(', ');

/**
 * Why a map was refused (type1's vfio_dma_do_map and iommufd's iopt_map_user_pages check the same
 * things, in nearly the same order), from what this side knows: the message names the cause, since
 * a kernel gives only the errno.
 */
function mapCause(errno: string, req: { iova: bigint; size: bigint; offset: bigint; access: boolean }, iovas: IovaAllocator, live: Set<DmaMapping>): string {
  const range = `[0x${req.iova.toString(16)}, +0x${req.size.toString(16)})`;
  const page = iovas.page;
  switch (errno) {
    case 'EINVAL':
      if ((req.iova | req.size | req.offset) % page !== 0n) return `${range} at source offset 0x${req.offset.toString(16)}: the IOVA, size and address must be multiples of the IOMMU page size (0x${page.toString(16)})`;
      if (!req.access) return `${range}: the device may neither read nor write it`;
      if (req.iova + req.size - 1n < req.iova) return `${range} wraps around the IOVA space`;
      if (!iovas.ranges.some((r) => req.iova >= r.start && req.iova + req.size - 1n <= r.end)) return `${range} is not inside one of the IOMMU's IOVA ranges ${showRanges(iovas.ranges)}`;
      return `${range}: refused (EINVAL)`;
    case 'EOVERFLOW': return `${range} wraps around the IOVA space`;
    case 'EEXIST': {
      const hit = [...live].find((m) => m.iova < req.iova + req.size && req.iova < m.iova + BigInt(m.length));
      return `${range} overlaps ${hit !== undefined ? `the mapping at [0x${hit.iova.toString(16)}, +0x${hit.length.toString(16)})` : 'a live mapping'}`;
    }
    case 'ENOSPC': return `${range}: the container's DMA mapping limit is reached (dma_entry_limit)`;
    case 'EFAULT': return `${range}: the memory could not be pinned`;
    case 'ENOMEM': return `${range}: the locked memory limit (RLIMIT_MEMLOCK) is reached`;
    case 'EOPNOTSUPP': return `${range}: DMA from a WebAssembly.Memory needs a 64-bit host`;
    default: return `${range}: refused (${errno})`;
  }
}
