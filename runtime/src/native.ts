import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { resolve } from 'node:path';
import { ROOT } from './paths.js';
import type { VfioFdKinds } from './generated/vfio-subregion.js';

/** A kind of fd of the spec (VfioFdKinds): what a handle's ioctls are looked up by. */
export type VfioFdKind = (typeof VfioFdKinds)[number];

declare const deviceBrand: unique symbol;
declare const mappingBrand: unique symbol;
/** An open device as the addon holds it: real VFIO fds or a simulated device. Opaque and unforgeable. */
export interface DeviceHandle { readonly [deviceBrand]: true }
/** A mapping or wasm window as the addon holds it. Opaque and unforgeable. */
export interface MappingHandle { readonly [mappingBrand]: true }
declare const irqBrand: unique symbol;
/** An interrupt set (eventfds watched on the event loop) as the addon holds it. Opaque and unforgeable. */
export interface IrqHandle { readonly [irqBrand]: true }

/** What the addon reports about the resources it holds. */
export interface NativeStats {
  /** Devices of this thread not yet closed (closed explicitly, or collected). */
  openDevices: number;
  /** Mapping address ranges of the process not yet released (a revoked one is released once collected). */
  ranges: number;
  /** wasm windows of the process. */
  windows: number;
  /** DMA mappings made by dmaMap not yet unmapped (each keeps its memory alive), in the process. */
  dmaMappings: number;
  /** DMA buffers (dmaAlloc) whose memory is not yet released, in the process. */
  dmaBuffers: number;
  /** Interrupt eventfds the addon holds open, in the process. */
  eventfds: number;
}

/** A simulated device's DMA and interrupt counters (simDmaStats). */
export interface SimDmaStats {
  /** DMA reads and writes of guest memory that completed. */
  reads: number;
  writes: number;
  /** DMA accesses refused by the IOMMU (an unmapped IOVA, or one mapped without the permission): nothing moved. */
  faults: number;
  lastFaultIova: bigint;
  lastFaultWrite: boolean;
  /** VFIO_DEVICE_RESET calls that succeeded. */
  resets: number;
  /** Eventfd signals the device sent, and interrupts raised on vectors without an eventfd. */
  interrupts: number;
  lostInterrupts: number;
  /** Eventfds the device holds (SET_IRQS keeps a reference to each). */
  eventfds: number;
  /** Mappings in the container the device is attached to. */
  dmaMappings: number;
}

/** What a simulated device's model (SimConfig.model) has done (simModel). */
export interface SimModelStats {
  /** Frames transmitted (descriptor chains up to EOP) and their bytes, without the FCS. */
  frames: number;
  bytes: number;
  /** TX descriptors consumed. */
  descriptors: number;
  /** Descriptor or buffer fetches the IOMMU refused (each also a DMA fault in simDmaStats): TX stops at that descriptor. */
  faults: number;
  /** Tail writes ignored: TDLEN 0, or head or tail beyond the ring. */
  badRing: number;
  /** Frames dropped: longer than 2048 bytes, or with an extended descriptor. */
  dropped: number;
  /** Frames that fell out of the full log (it keeps the last 1024). */
  logLost: number;
  /** With takeFrames: the frames in the log, oldest first (the log is then empty). */
  log?: Uint8Array[];
}

/**
 * The native addon (native/addon/, Node-API, C): real VFIO devices and the simulated device behind
 * one handle-based surface (a backend ops table inside). Handles are type-tagged externals: a number
 * or another object cannot stand in for one, and a device's fds are the addon's own.
 *
 * Arguments of the wrong kind throw a TypeError (code ERR_INVALID_ARG_TYPE) and values out of range
 * a RangeError (ERR_OUT_OF_RANGE), before anything runs. The calls a device can refuse (ioctl,
 * pread, pwrite, mmap, wasmMap) return a negative errno instead of throwing; `lastRule` then names
 * the spec's rule when the simulator refused. Opening throws an Error with code, errno and syscall.
 *
 * Lifetime: dropped handles are released by the garbage collector (fds closed, ranges unmapped);
 * `munmap` and `close` revoke at once: the device pages are replaced by anonymous ones in place and
 * the ArrayBuffer is detached, and the address range itself is released when the last object that
 * could reach it is collected, so work already running on another thread never faults.
 */
export interface NativeAddon {
  /**
   * What the brand check of wasmMap calls: WebAssembly.Memory.prototype's `buffer` getter and a
   * Uint8Array constructor. `native()` passes them, taken from a fresh V8 context, when it loads
   * the addon; once per thread (a second call throws ERR_ALREADY_INITIALIZED).
   */
  init(memoryBufferGetter: (this: object) => ArrayBuffer | SharedArrayBuffer, uint8Array: Uint8ArrayConstructor): void;
  /**
   * open(2) with O_RDWR | O_CLOEXEC. `fdKind` (default `device`) is the spec's kind of the file
   * (VfioFdKinds): the handle takes the ioctls of that kind (and of the kinds it extends),
   * since one request number means other arguments on other kinds of fd.
   */
  open(path: string, fdKind?: VfioFdKind): DeviceHandle;
  /** A handle over a duplicate of `fd` (the caller still owns, and closes, its own); `fdKind` as for open. */
  adoptFd(fd: number, fdKind?: VfioFdKind): DeviceHandle;
  /**
   * The legacy group path: opens /dev/vfio/vfio, checks the API version, opens the group file, checks
   * it is viable, attaches it to the container, selects the type1 IOMMU and asks for the device fd.
   */
  openGroupDevice(containerPath: string, groupPath: string, deviceName: string): DeviceHandle;
  /** The iommufd path: opens a /dev/vfio/devices/vfioN cdev, binds it to /dev/iommu and attaches an IOAS. */
  openCdevDevice(cdevPath: string, iommuPath: string): DeviceHandle;
  /** Creates a simulated vfio-pci device from a {@link SimConfig}. */
  simCreate(config: SimConfig): DeviceHandle;
  /**
   * ioctl(2) with `arg` as the argument (read and written back). Only ioctls of the spec's table: a
   * request whose argument size the addon cannot prove is a RangeError, and so is an `arg` shorter
   * than the argument or than its argsz, an `arg` that is not exactly the integer a pointer-to-integer
   * request (SCALAR) points to, an `arg` without a NUL for a string request (STRING: the device gets
   * the bytes up to the first NUL), and a request whose argument is not a pointer (NONE, VALUE: use
   * {@link ioctlValue}). The device works on a private copy. Returns the result, or
   * -errno.
   */
  ioctl(device: DeviceHandle, request: number, arg: Uint8Array): number;
  /**
   * The device's own ioctl argument area: an ArrayBuffer of 4096 bytes, handed out once per device
   * (a second call throws ERR_INVALID_STATE). Its memory belongs to the device and lives until both
   * the device and the buffer are gone.
   */
  deviceScratch(device: DeviceHandle): ArrayBuffer;
  /**
   * `ioctl(device, request, new Uint8Array(deviceScratch(device)))` without a typed array to pass and
   * look into on every call (the runtime's hot path): the same checks, the same private copy.
   * ERR_INVALID_STATE before deviceScratch was called.
   */
  ioctlScratch(device: DeviceHandle, request: number): number;
  /**
   * `() => ioctlScratch(device, request)` with the device and the request checked once, here (a
   * RangeError for a request not in the spec's table): the call then converts no argument. The
   * function holds the device until it is collected.
   */
  bindIoctl(device: DeviceHandle, request: number): () => number;
  /**
   * ioctl(2) with an integer as the argument itself, for the requests of the spec's table whose
   * argument is not a pointer: kind NONE (no argument; `value` must be 0) and VALUE (an integer
   * passed by value; `value` must fit its type). Returns the result, or -errno. Any other request
   * is a RangeError (it takes a buffer: use {@link ioctl}); so is a value out of range. `ioctl`,
   * `ioctlScratch` and `bindIoctl` refuse NONE and VALUE requests with a RangeError naming this
   * function.
   */
  ioctlValue(device: DeviceHandle, request: number, value: number): number;
  /** pread(2) into `buf` at a 64-bit device offset: bytes read, or -errno. */
  pread(device: DeviceHandle, buf: Uint8Array, offset: bigint): number;
  /** pwrite(2) from `buf`: bytes written, or -errno. */
  pwrite(device: DeviceHandle, buf: Uint8Array, offset: bigint): number;
  /** The spec's rule behind the device's last refusal (the simulator names it; a kernel cannot), or null. */
  lastRule(device: DeviceHandle): string | null;
  /** The spec's kind of fd a handle is (what its ioctls are looked up by). */
  handleKind(handle: DeviceHandle): VfioFdKind;
  /** Revokes the device's windows, then its mappings, and closes it. Idempotent. */
  close(device: DeviceHandle): void;
  /**
   * mmap(2) MAP_SHARED of `length` bytes at a 64-bit device offset, prot PROT_READ or PROT_READ |
   * PROT_WRITE. A writable mapping comes with an ArrayBuffer over it; a read-only one with none (a
   * store from JS into it would kill the process): read it with mmioRead and copyFrom. A regular file
   * is mapped only when it is sealed against shrinking (a simulator's memfd, opened through
   * simBacking's path) and only inside it (-EPERM, -EINVAL): a store past its end would be SIGBUS.
   * Or -errno; past
   * 16,384 ranges not yet released in the process, the addon itself throws an Error with code ENOMEM.
   */
  mmap(device: DeviceHandle, offset: bigint, length: number, prot: number): { handle: MappingHandle; buffer: ArrayBuffer | null; address: bigint } | number;
  /**
   * Maps `length` bytes of the device at `offset` over bytes [at, at + length) of a WebAssembly.Memory
   * (brand-checked; shared ones too), MAP_FIXED | MAP_SHARED, read-write, so plain wasm loads and
   * stores there reach the region. `at` and `length` page-aligned and inside the memory's current
   * size (RangeError otherwise). A window overlapping another window of the process (any thread) is
   * the addon's refusal, not the device's: it throws an Error with code EBUSY. A refused map leaves
   * the memory's bytes as they were. The window lives while its handle or the Memory does.
   */
  wasmMap(device: DeviceHandle, offset: bigint, length: number, memory: object, at: number): { handle: MappingHandle; address: bigint } | number;
  /**
   * `mmap` without the ArrayBuffer: a mapping handle, or -errno. Until mappingBuffer hands a buffer
   * out, nothing outside the addon reaches the range, so unmapping releases it at once (no revoked
   * range waits for the garbage collector).
   */
  mmapHandle(device: DeviceHandle, offset: bigint, length: number, prot: number): MappingHandle | number;
  /**
   * The ArrayBuffer over a live writable mapping (the same one while it lives; made on the first
   * call), null for a read-only one; ERR_UNMAPPED once unmapped. From then on the mapping is revoked
   * as `mmap`'s are. A window's handle is a TypeError.
   */
  mappingBuffer(mapping: MappingHandle): ArrayBuffer | null;
  /** The process address of a mapping's or window's first byte. */
  mappingAddress(mapping: MappingHandle): bigint;
  /** Revokes a mapping or window (see above). Idempotent. */
  munmap(mapping: MappingHandle): void;
  /** One volatile read of `width` bits at `offset` (aligned, inside): a number, or a bigint for 64. */
  mmioRead(mapping: MappingHandle, offset: number, width: 8 | 16 | 32): number;
  mmioRead(mapping: MappingHandle, offset: number, width: 64): bigint;
  mmioRead(mapping: MappingHandle, offset: number, width: number): number | bigint;
  /** One volatile write of `width` bits (a number, or a bigint). ERR_READ_ONLY on a read-only mapping. */
  mmioWrite(mapping: MappingHandle, offset: number, width: number, value: number | bigint): void;
  /** Copies `dst.length` bytes of the mapping at `offset` into `dst`. */
  copyFrom(mapping: MappingHandle, offset: number, dst: Uint8Array): void;
  /** Store fence: sfence (x86), dmb oshst (arm64). Ignores its arguments, so it can be a wasm import directly. */
  wmb(...ignored: unknown[]): void;
  /** Full fence: mfence (x86), dmb osh (arm64). */
  mb(...ignored: unknown[]): void;
  /** Load fence: lfence (x86), dmb oshld (arm64). */
  rmb(...ignored: unknown[]): void;
  /** The live mappings of a simulated device and the attributes each got. */
  simMappings(device: DeviceHandle): SimMapping[];
  /** The memory behind a memory region of a simulated device: a path that opens it while the device lives (/proc/<pid>/fd/<n>), the region's offset in it and its size. */
  simBacking(device: DeviceHandle, index: number): { path: string; offset: bigint; size: bigint } | null;
  stats(): NativeStats;
  /**
   * A handle on the device's IOMMU: fd kind `type1_container` for a group's container (a duplicate
   * of its fd), `iommufd` for a cdev's iommufd (a duplicate, carrying the device's IOAS), or the
   * simulated IOMMU (either kind: SimConfig.iommufd).
   */
  iommuHandle(device: DeviceHandle): DeviceHandle;
  /** `length` bytes of zeroed, page-aligned memory the addon owns, for dmaMap: alive while the buffer or a mapping of it is. */
  dmaAlloc(length: number): ArrayBuffer;
  /**
   * Maps `source` (a WebAssembly.Memory, or an ArrayBuffer dmaAlloc returned) from byte `offset`
   * through the handle's kind: VFIO_IOMMU_MAP_DMA with `arg` the encoded struct
   * vfio_iommu_type1_dma_map (flags, iova, size), or IOMMU_IOAS_MAP with `arg` the encoded struct
   * iommu_ioas_map (flags, iova, length; FIXED_IOVA always). The addon writes the address (and the
   * IOAS). The mapping keeps the source alive until dmaUnmap or the handle's close. 0, or -errno.
   */
  dmaMap(container: DeviceHandle, source: object, offset: number, arg: Uint8Array): number;
  /**
   * VFIO_IOMMU_UNMAP_DMA with `arg` the encoded struct vfio_iommu_type1_dma_unmap, or IOMMU_IOAS_UNMAP
   * with the encoded struct iommu_ioas_unmap (the IOAS is the addon's); what was unmapped is written
   * back. 0, or -errno.
   */
  dmaUnmap(container: DeviceHandle, arg: Uint8Array): number;
  /**
   * IOMMU_IOAS_IOVA_RANGES on an iommufd handle: `arg` the encoded struct iommu_ioas_iova_ranges
   * (num_iovas and out_iova_alignment written back), `ranges` receives up to ranges.length / 16
   * struct iommu_iova_range. 0, or -errno (-EMSGSIZE: num_iovas says how many there are).
   */
  ioasIovaRanges(container: DeviceHandle, arg: Uint8Array, ranges: Uint8Array): number;
  /** A simulated device's DMA at an IOVA, into `buf` (write false) or from it: 0, or -EFAULT (a fault: nothing moved, counted). */
  simDma(device: DeviceHandle, iova: bigint, buf: Uint8Array, write: boolean): number;
  /** A simulated device raises interrupt `vector` of IRQ `index`: 0; -EINVAL (no such vector), -ENOENT (no eventfd: lost), -EAGAIN (INTx masked: pending). */
  simInterrupt(device: DeviceHandle, index: number, vector: number): number;
  simDmaStats(device: DeviceHandle): SimDmaStats;
  /** A simulated device's model counters, with its frame log when takeFrames (which empties it); null without a model. */
  simModel(device: DeviceHandle, takeFrames: boolean): SimModelStats | null;
  /** `count` eventfds watched on the event loop; `callback(vector, count)` when one is signalled (count: signals since the last call). */
  irqCreate(count: number, callback: (vector: number, count: number) => void): IrqHandle;
  /** VFIO_DEVICE_SET_IRQS with DATA_EVENTFD: `arg` the encoded struct vfio_irq_set (count = the set's), its data the set's eventfds. 0, or -errno. */
  irqSetEventfds(device: DeviceHandle, irq: IrqHandle, arg: Uint8Array): number;
  /** Whether an open set keeps the event loop alive (default true). */
  irqRef(irq: IrqHandle, ref: boolean): void;
  /** Stops watching and closes the eventfds. Idempotent. */
  irqClose(irq: IrqHandle): void;
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
  /** IRQ indexes (vfio-pci's five: INTx, MSI, MSI-X, ERR, REQ; fewer hides the later ones). */
  numIrqs: number;
  /** Vectors of the MSI index: a power of two up to 32, or 0 (default: no MSI capability). */
  msi?: number;
  /** Vectors of the MSI-X index: up to 2048, or 0 (default: no MSI-X capability). */
  msix?: number;
  /** Whether the device supports VFIO_DEVICE_RESET (default true; false: EINVAL). */
  reset?: boolean;
  /**
   * The simulated type1 IOMMU the device is attached to: the IOVA ranges VFIO_IOMMU_GET_INFO
   * reports (default: x86's, all of 48 bits but the MSI window 0xfee00000-0xfeefffff) and the DMA
   * entry limit (default 65535, as the kernel's dma_entry_limit).
   */
  iommu?: { iovaRanges: { start: bigint; end: bigint }[]; dmaLimit?: number };
  /**
   * The device is a cdev bound to an iommufd (default false): its IOMMU is an IOAS that takes
   * IOMMU_IOAS_IOVA_RANGES, _MAP and _UNMAP with iommufd's errnos (the same ranges; no entry limit).
   */
  iommufd?: boolean;
  /** How many subregions the device may hold. */
  maxSubregions: number;
  /**
   * A directory (a tmpfs) for the BAR memory, as unnamed O_TMPFILE files; by default memfds. Either
   * way it is allocated up front (ENOSPC then, never SIGBUS later) and vanishes with the process.
   */
  shmDir?: string;
  /** PCI identity in the config region's header (defaults: 0x1b36, 0x0005, class 0). */
  vendorId?: number;
  deviceId?: number;
  /** base class << 16 | subclass << 8 | programming interface. */
  classCode?: number;
  /**
   * A device model behind region 0 (native/src/sim_e1000e.c): 'e1000e', an 82574-like TX path whose
   * registers fill region 0's first 128 KiB. Its side-effect registers are reached through the
   * host-call MMIO path and read/write, not through plain loads and stores of a mapping.
   */
  model?: 'e1000e';
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

const require = createRequire(import.meta.url);

/** A build from source: the checkout's, or the install script's where no prebuilt addon loads. */
const BUILT = resolve(ROOT, 'native/build/Release/vfio_native.node');

/** The addon file: a build from source, else the prebuilt one node-gyp-build picks for this platform (prebuilds/). */
function addonPath(): string {
  if (existsSync(BUILT)) return BUILT;
  try {
    return (require('node-gyp-build') as { resolve(dir: string): string }).resolve(ROOT);
  } catch (e) {
    throw new Error(`the native addon is neither built nor prebuilt for this machine (${(e as Error).message.split('\n')[0]}): run \`npm rebuild vfio-subregion\` (in a checkout of this repository: \`npm install\`; it needs python3, make and a C compiler; see the README)`);
  }
}

let cached: NativeAddon | undefined;

/**
 * Loads the addon once per thread and gives it the brand check of wasmMap from a fresh context, so
 * that replacing WebAssembly.Memory.prototype's `buffer` getter here cannot fool it.
 */
export function native(): NativeAddon {
  if (cached === undefined) {
    const addon = require(addonPath()) as NativeAddon;
    const [getter, u8] = runInNewContext('[Object.getOwnPropertyDescriptor(WebAssembly.Memory.prototype, "buffer").get, Uint8Array]') as [never, Uint8ArrayConstructor];
    addon.init(getter, u8);
    cached = addon;
  }
  return cached;
}
