// MMIO probe guest (hand-written): thin exports over the accessor, for test/mmio/*.test.ts and the
// MMIO rows of `npm run bench` (tools/bench.ts).
import { Region, flush, wmb as host_wmb } from "./generated/vfio-subregion";
import { burst, fence } from "./mmio";
export { window_reserve, set_inline_fence } from "./mmio";

/** 64-byte-aligned staging data for bursts (ordinary memory). */
const SRC: usize = memory.data(4096, 64);
export function src(): usize { return SRC; }

let win: Region = new Region(0, 0);
export function bind(base: usize, size: usize): void { win = new Region(base, size); }

export function w8(o: usize, v: u8): void { win.write8(o, v); }
export function w16(o: usize, v: u16): void { win.write16(o, v); }
export function w32(o: usize, v: u32): void { win.write32(o, v); }
export function w64(o: usize, v: u64): void { win.write64(o, v); }
export function r8(o: usize): u8 { return win.read8(o); }
export function r16(o: usize): u16 { return win.read16(o); }
export function r32(o: usize): u32 { return win.read32(o); }
export function r64(o: usize): u64 { return win.read64(o); }
export function hw8(o: usize, v: u8): void { win.write8_host(o, v); }
export function hw16(o: usize, v: u16): void { win.write16_host(o, v); }
export function hw32(o: usize, v: u32): void { win.write32_host(o, v); }
export function hw64(o: usize, v: u64): void { win.write64_host(o, v); }
export function hr8(o: usize): u8 { return win.read8_host(o); }
export function hr16(o: usize): u16 { return win.read16_host(o); }
export function hr32(o: usize): u32 { return win.read32_host(o); }
export function hr64(o: usize): u64 { return win.read64_host(o); }
export function b64(o: usize, s: usize): void { win.burst64(o, s); }
export function bchecked(o: usize, s: usize, n: usize): void { burst(win, o, s, n); }
export function wmb(): void { fence(win.base); }
export function fl(): void { flush(win.base); }

/** Plain stores and loads at absolute linear addresses (to poke outside the windows). */
export function poke32(addr: usize, v: u32): void { store<u32>(addr, v); }
export function peek32(addr: usize): u32 { return load<u32>(addr); }

/** A clear-on-read register read twice through the host: must stay two reads. */
export function two_host_reads(o: usize): u32 { return win.read32_host(o) + win.read32_host(o); }
/** The same with plain loads: Binaryen merges them (why side-effect reads go through the host). */
export function two_plain_reads(o: usize): u32 { return win.read32(o) + win.read32(o); }

/** The bench loops: the same operations as the native baseline's, on the same mapping. */
export function loop_write32(o: usize, n: u32): void { const r = win; for (let i: u32 = 0; i < n; i++) r.write32(o, i); }
export function loop_write64(o: usize, n: u32): void { const r = win; for (let i: u32 = 0; i < n; i++) r.write64(o, <u64>i); }
export function loop_read32(o: usize, n: u32): u32 {
  const r = win;
  let s: u32 = 0;
  for (let i: u32 = 0; i < n; i++) s += r.read32(o + (<usize>(i & 15) << 2));
  return s;
}
export function loop_burst(o: usize, n: u32): void { const r = win; for (let i: u32 = 0; i < n; i++) r.burst64(o, SRC); }
export function loop_doorbell(db: Region, o: usize, n: u32): void { for (let i: u32 = 0; i < n; i++) { fence(db.base); db.write32(o, i); } }
export function loop_host_write32(o: usize, n: u32): void { for (let i: u32 = 0; i < n; i++) win.write32_host(o, i); }
export function loop_host_read32(o: usize, n: u32): u32 { let s: u32 = 0; for (let i: u32 = 0; i < n; i++) s += win.read32_host(o); return s; }
export function loop_doorbell_host_fence(o: usize, n: u32): void { for (let i: u32 = 0; i < n; i++) { host_wmb(win.base); win.write32(o, i); } }
export function doorbell_loop(o: usize, n: u32): void { loop_doorbell(win, o, n); }
