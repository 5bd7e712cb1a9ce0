import { native } from './native.js';
import type { Device, DmaMapping, Interrupts, RegionInfo, WasmMemory, WasmWindow, WindowOptions } from './device.js';

/**
 * The import module of the host functions: the WIT interface (runtime/wit/vfio-subregion.wit), the
 * name the generated AssemblyScript accessor declares, so one core module is a plain module, a WASI
 * command and a component's core module without renaming.
 */
export const MMIO_INTERFACE = 'vfio:subregion/mmio@0.1.0';

/** First word of a guest's reservation record (runtime/assembly/mmio.ts window_reserve): "vfwn". */
export const WINDOW_MAGIC = 0x6e776676;

/** What a host grants for a window a guest asks for by slot (map-window): the device's region, from offset. */
export interface Grant { device: Device; region: number | RegionInfo; offset?: bigint | number }

export interface MmioHostOptions {
  /** The window granted as `slot`, or undefined (the guest gets EPERM). The host maps exactly the bytes asked for, or refuses. */
  grant?: (slot: number, bytes: number) => Grant | undefined;
  /** The device the guest's DMA (dma-map) and interrupts (irq-enable) are for; without one, both are EPERM. */
  device?: Device;
}


/**
 * The host side of a wasm driver's MMIO: the windows mapped into its linear memory (the data path:
 * plain wasm loads and stores) and the "vfio" import module the generated AssemblyScript accessor
 * declares (runtime/assembly/generated/vfio-subregion.ts):
 *
 * - wmb(window), flush(window): the spec's ordering points. wmb is the addon's native store fence
 *   (sfence on x86, dmb oshst on arm64), passed to wasm as the import itself, with no JS in between;
 *   flush is one 32-bit volatile read of the window's first word.
 * - read8..read64(addr), write8..write64(addr, value): the host-call path, one volatile access per call,
 *   only inside a window (any other address throws, which traps the guest).
 * - map-window(slot, at, bytes): the guest's request for the window options.grant gives as slot,
 *   mapped at its reservation `at`, exactly `bytes` long; 0 or a positive errno.
 * - dma-map(at, bytes), dma-unmap(at): [at, at + bytes) of the guest's memory mapped for DMA by
 *   options.device (its Iommu); the IOVA, or a negative errno.
 * - irq-enable(index, start, count): options.device's interrupts of those vectors, delivered by
 *   calling the guest's export interrupt(vector, count) from the event loop (a guest on this thread
 *   cannot block waiting; it does its completion work in that export).
 *
 * A window goes only where the guest reserved room for one (window_reserve: a reservation record in
 * the 16 bytes below it, with the bytes reserved); anywhere else would overwrite the guest's own
 * memory (its static data, its heap), so map() refuses it. The host writes the bytes it mapped into
 * the record, which the guest's window(at, bytes) checks: a Region wider than its mapping is refused
 * in the guest.
 *
 * Windows must be mapped before the guest touches them and unmapped before the device goes away
 * (Device.close() does it first).
 */
export class MmioHost {
  readonly #windows: WasmWindow[] = [];
  readonly #grant: MmioHostOptions['grant'];
  readonly #device: Device | undefined;
  readonly #dma = new Map<number, DmaMapping>();
  readonly #irqs: Interrupts[] = [];
  #memory: WasmMemory | undefined;
  #interrupt: ((vector: number, count: number) => void) | undefined;

  /** Whether a locked read-modify-write is a valid store fence for WC memory here (x86: yes). */
  static readonly inlineFence = process.arch === 'x64' || process.arch === 'ia32';

  /** The host's page size: the alignment of a window (window_reserve's align). */
  static get pageSize(): number { return native().pageSize; }

  constructor(options: MmioHostOptions = {}) {
    if (options.grant !== undefined && typeof options.grant !== 'function') throw new TypeError('MmioHost: options.grant must be a function (slot, bytes) => Grant | undefined');
    this.#grant = options.grant;
    this.#device = options.device;
  }

  /**
   * The guest's memory, once instantiated (the imports need no memory before the first map), and
   * its exports (interrupt(vector, count) receives the interrupts irq-enable asked for).
   */
  bind(memory: WasmMemory, exports?: Record<string, unknown>): void {
    if (this.#memory !== undefined && this.#memory !== memory) throw new Error('MmioHost is bound to another memory');
    this.#memory = memory;
    const f = exports?.interrupt;
    if (typeof f === 'function') this.#interrupt = f as (vector: number, count: number) => void;
  }

  get memory(): WasmMemory {
    if (this.#memory === undefined) throw new Error('MmioHost: no memory bound yet (call bind(memory) after instantiating)');
    return this.#memory;
  }

  /**
   * Maps (part of) a region at linear address options.at, which the guest reserved for at least the
   * window's bytes (window_reserve); throws a RangeError for any other address.
   */
  map(device: Device, region: number | RegionInfo, options: WindowOptions): WasmWindow {
    const memory = this.memory;
    const at = typeof options?.at === 'number' ? options.at : NaN;
    const reserved = reservation(memory, at);
    if (reserved === undefined) {
      throw new RangeError(`MmioHost: no window was reserved at 0x${at >>> 0 === at ? at.toString(16) : String(options?.at)} (the guest's window_reserve gives the address): mapping there would overwrite the guest's own memory`);
    }
    const info = typeof region === 'number' ? device.region(region) : region;
    const length = options.length ?? Number(info.size - BigInt(options.offset ?? 0));
    if (length > reserved) throw new RangeError(`MmioHost: the window at 0x${at.toString(16)} is 0x${length.toString(16)} bytes, but the guest reserved only 0x${reserved.toString(16)} there`);
    const w = device.mapInto(memory, region, options);
    new DataView(memory.buffer).setUint32(at - 4, w.size, true);
    this.#windows.push(w);
    return w;
  }

  get windows(): readonly WasmWindow[] {
    return this.#windows.filter((w) => w.mapped);
  }

  /**
   * Unmaps every window this host mapped (and says so in the guest's reservation records), every DMA
   * mapping it made and closes the interrupts it enabled. Idempotent.
   */
  unmapAll(): void {
    for (const irqs of this.#irqs.splice(0)) irqs.close();
    for (const m of this.#dma.values()) m.unmap();
    this.#dma.clear();
    for (const w of this.#windows) {
      w.unmap();
      new DataView(w.memory.buffer).setUint32(w.base - 4, 0, true);
    }
    this.#windows.length = 0;
  }

  /** The window holding [addr, addr + bytes); throws a RangeError (a trap for the guest) otherwise. */
  window(addr: number, bytes: number): WasmWindow {
    const a = addr >>> 0;
    for (const w of this.#windows) if (w.contains(a, bytes)) return w;
    throw new RangeError(`MMIO host access of ${bytes} byte(s) at 0x${a.toString(16)}: not inside a mapped window`);
  }

  /** The error of the last map-window the host refused, for the host's own diagnostics (the guest sees an errno). */
  lastRefusal: Error | undefined;

  /** map-window: 0, or the errno of the refusal. */
  #mapWindow(slot: number, at: number, bytes: number): number {
    const g = this.#grant?.(slot, bytes);
    if (g === undefined) {
      this.lastRefusal = new RangeError(`MmioHost: no window is granted as slot ${slot}`);
      return EPERM;
    }
    try {
      this.map(g.device, g.region, { at: at >>> 0, length: bytes >>> 0, ...(g.offset !== undefined ? { offset: g.offset } : {}) });
      return 0;
    } catch (e) {
      this.lastRefusal = e as Error;
      const errno = (e as { errno?: unknown }).errno;
      return typeof errno === 'number' && errno > 0 ? errno : EINVAL;
    }
  }

  /** dma-map: the IOVA, or -errno. */
  #dmaMap(at: number, bytes: number): bigint {
    if (this.#device === undefined) return BigInt(-EPERM);
    try {
      const m = this.#device.iommu().map(this.memory, { offset: at, length: bytes });
      this.#dma.set(at, m);
      return m.iova;
    } catch (e) {
      this.lastRefusal = e as Error;
      return BigInt(-errnoOf(e));
    }
  }

  /** dma-unmap: 0, or the errno. */
  #dmaUnmap(at: number): number {
    const m = this.#dma.get(at);
    if (m === undefined) return ENOENT;
    try {
      m.unmap();
      this.#dma.delete(at);
      return 0;
    } catch (e) {
      this.lastRefusal = e as Error;
      return errnoOf(e);
    }
  }

  /** irq-enable: 0, or the errno (ENOSYS: the guest exports no interrupt(vector, count)). */
  #irqEnable(index: number, start: number, count: number): number {
    if (this.#device === undefined) return EPERM;
    const deliver = this.#interrupt;
    if (deliver === undefined) {
      this.lastRefusal = new TypeError('MmioHost: the guest exports no interrupt(vector, count) to deliver interrupts to');
      return ENOSYS;
    }
    try {
      const irqs = this.#device.interrupts(index, { start, count });
      irqs.on('interrupt', (ev) => deliver(ev.vector, ev.count));
      this.#irqs.push(irqs);
      return 0;
    } catch (e) {
      this.lastRefusal = e as Error;
      return errnoOf(e);
    }
  }

  /** The host functions, by their WIT names: the import module MMIO_INTERFACE of a guest. */
  imports(): Record<string, (...a: never[]) => unknown> {
    const n = native();
    const rd = (width: 8 | 16 | 32) => (addr: number): number => { const w = this.window(addr, width / 8); return n.mmioRead(w.handle, (addr >>> 0) - w.base, width); };
    const wr = (width: 8 | 16 | 32) => (addr: number, v: number): void => { const w = this.window(addr, width / 8); n.mmioWrite(w.handle, (addr >>> 0) - w.base, width, v >>> 0); };
    return {
      wmb: n.wmb,
      flush: (addr: number): void => { const w = this.window(addr, 4); n.mmioRead(w.handle, (addr >>> 0) - w.base, 32); },
      read8: rd(8),
      read16: rd(16),
      read32: rd(32),
      read64: (addr: number): bigint => { const w = this.window(addr, 8); return n.mmioRead(w.handle, (addr >>> 0) - w.base, 64); },
      write8: wr(8),
      write16: wr(16),
      write32: wr(32),
      write64: (addr: number, v: bigint): void => { const w = this.window(addr, 8); n.mmioWrite(w.handle, (addr >>> 0) - w.base, 64, BigInt.asUintN(64, v)); },
      'map-window': (slot: number, at: number, bytes: number): number => this.#mapWindow(slot >>> 0, at >>> 0, bytes >>> 0),
      'dma-map': (at: number, bytes: number): bigint => this.#dmaMap(at >>> 0, bytes >>> 0),
      'dma-unmap': (at: number): number => this.#dmaUnmap(at >>> 0),
      'irq-enable': (index: number, start: number, count: number): number => this.#irqEnable(index >>> 0, start >>> 0, count >>> 0),
    };
  }
}

const EPERM = 1;
const ENOENT = 2;
const EINVAL = 22;
const ENOSYS = 38;

/** The errno of a refusal (a VfioError's), EINVAL for an argument error. */
function errnoOf(e: unknown): number {
  const errno = (e as { errno?: unknown }).errno;
  return typeof errno === 'number' && errno > 0 ? errno : EINVAL;
}

/** The bytes the guest reserved at `at` (its reservation record), or undefined where it reserved nothing. */
function reservation(memory: WasmMemory, at: number): number | undefined {
  if (!Number.isInteger(at) || at < 16 || at > memory.buffer.byteLength) return undefined;
  const v = new DataView(memory.buffer);
  if (v.getUint32(at - 16, true) !== WINDOW_MAGIC || v.getUint32(at - 12, true) !== at) return undefined;
  return v.getUint32(at - 8, true);
}

interface WasmInstance { exports: Record<string, unknown> }
const WA = (globalThis as unknown as { WebAssembly: { instantiate(b: Uint8Array, i: object): Promise<{ instance: WasmInstance }> } }).WebAssembly;

/** Import modules by name, each a record of host functions (and values). */
export type Imports = Record<string, Record<string, unknown>>;

/**
 * Instantiates an MMIO guest (a core module, or a WASI command: pass wasi_snapshot_preview1 in
 * extra and start it with `wasi.start({ exports })`) with env.abort (a RangeError carrying the
 * guest's message) and the host's functions under MMIO_INTERFACE, and binds the host to the
 * guest's exported memory. `extra` adds import modules; one of the same name is merged, its
 * entries replacing the defaults'. T types the guest's exports.
 */
export async function instantiateGuest<T extends object = Record<string, unknown>>(binary: Uint8Array, host: MmioHost, extra: Imports = {}): Promise<T & { memory: WasmMemory }> {
  let mem: { buffer: ArrayBuffer } | undefined;
  const str = (p: number): string => {
    if (p === 0 || mem === undefined) return '';
    const v = new DataView(mem.buffer);
    const n = v.getUint32(p - 4, true);
    let s = '';
    for (let i = 0; i < n; i += 2) s += String.fromCharCode(v.getUint16(p + i, true));
    return s;
  };
  const defaults: Imports = {
    env: { abort: (m: number, f: number, l: number, c: number) => { throw new RangeError(`${str(m >>> 0)} (${str(f >>> 0)}:${l}:${c})`); } },
    [MMIO_INTERFACE]: host.imports(),
  };
  const imports: Imports = { ...defaults };
  for (const [k, v] of Object.entries(extra)) imports[k] = { ...(defaults[k] ?? {}), ...v };
  const { instance } = await WA.instantiate(binary, imports);
  const ex = instance.exports;
  if (typeof ex.memory !== 'object' || ex.memory === null) throw new TypeError('instantiateGuest: the guest exports no memory (the host maps its windows there)');
  mem = ex.memory as { buffer: ArrayBuffer };
  host.bind(ex.memory as WasmMemory, ex);
  return ex as T & { memory: WasmMemory };
}
