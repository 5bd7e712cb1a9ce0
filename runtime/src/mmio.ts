import { native } from './native.js';
import type { Device, RegionInfo, WasmMemory, WasmWindow, WindowOptions } from './device.js';

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
 *
 * Windows must be mapped before the guest touches them and unmapped before the device goes away
 * (Device.close() does it first).
 */
export class MmioHost {
  readonly #windows: WasmWindow[] = [];
  #memory: WasmMemory | undefined;

  /** Whether a locked read-modify-write is a valid store fence for WC memory here (x86: yes). */
  static readonly inlineFence = process.arch === 'x64' || process.arch === 'ia32';

  /** The guest's memory, once instantiated (the imports need no memory before the first map). */
  bind(memory: WasmMemory): void {
    if (this.#memory !== undefined && this.#memory !== memory) throw new Error('MmioHost is bound to another memory');
    this.#memory = memory;
  }

  get memory(): WasmMemory {
    if (this.#memory === undefined) throw new Error('MmioHost: no memory bound yet (call bind(memory) after instantiating)');
    return this.#memory;
  }

  /** Maps (part of) a region at linear address options.at (page-aligned, inside the memory). */
  map(device: Device, region: number | RegionInfo, options: WindowOptions): WasmWindow {
    const w = device.mapInto(this.memory, region, options);
    this.#windows.push(w);
    return w;
  }

  get windows(): readonly WasmWindow[] {
    return this.#windows.filter((w) => w.mapped);
  }

  /** Unmaps every window this host mapped. Idempotent. */
  unmapAll(): void {
    for (const w of this.#windows) w.unmap();
    this.#windows.length = 0;
  }

  /** The window holding [addr, addr + bytes); throws a RangeError (a trap for the guest) otherwise. */
  window(addr: number, bytes: number): WasmWindow {
    const a = addr >>> 0;
    for (const w of this.#windows) if (w.contains(a, bytes)) return w;
    throw new RangeError(`MMIO host access of ${bytes} byte(s) at 0x${a.toString(16)}: not inside a mapped window`);
  }

  /** The "vfio" import module. */
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
    };
  }
}

interface WasmInstance { exports: Record<string, unknown> }
const WA = (globalThis as unknown as { WebAssembly: { instantiate(b: Uint8Array, i: object): Promise<{ instance: WasmInstance }> } }).WebAssembly;

/**
 * Instantiates an AssemblyScript MMIO guest with env.abort (a RangeError carrying the guest's message)
 * and the host's "vfio" imports, and binds the host to the guest's exported memory.
 */
export async function instantiateGuest(binary: Uint8Array, host: MmioHost, extra: Record<string, Record<string, unknown>> = {}): Promise<Record<string, unknown>> {
  let mem: { buffer: ArrayBuffer } | undefined;
  const str = (p: number): string => {
    if (p === 0 || mem === undefined) return '';
    const v = new DataView(mem.buffer);
    const n = v.getUint32(p - 4, true);
    let s = '';
    for (let i = 0; i < n; i += 2) s += String.fromCharCode(v.getUint16(p + i, true));
    return s;
  };
  const { instance } = await WA.instantiate(binary, {
    env: { abort: (m: number, f: number, l: number, c: number) => { throw new RangeError(`${str(m >>> 0)} (${str(f >>> 0)}:${l}:${c})`); }, ...(extra.env ?? {}) },
    vfio: host.imports(),
    ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== 'env')),
  });
  const ex = instance.exports;
  mem = ex.memory as { buffer: ArrayBuffer };
  host.bind(ex.memory as never);
  return ex;
}

