// nic-tx's driver as the core module of a WebAssembly component. Component exports must be single
// words here (AssemblyScript cannot export names containing '-'); the accessor already imports the
// host functions by the WIT interface's names (vfio:subregion/mmio@0.1.0), so nothing is renamed.
import { run as drive } from "../../nic-tx/assembly/driver";
import { window_reserve, set_inline_fence, fence } from "../../../runtime/assembly/mmio";
import { Region } from "../../../runtime/assembly/generated/vfio-subregion";

export function reserve(bytes: u32, align: u32): u32 { return <u32>window_reserve(bytes, align); }
export function setup(inline: bool): void { set_inline_fence(inline); }
export function run(regs: u32, regsSize: u32, push: u32, pushSize: u32, n: u32, batch: u32): i64 {
  return drive(regs, regsSize, push, pushSize, n, batch);
}

/**
 * The MMIO bench loops inside the component (npm run bench): op 0 write32, 1 burst64 (from a static
 * 64-byte block), 2 fence + doorbell write32; on the window at base (size bytes) at offset off.
 */
const SRC: usize = memory.data(64, 64);
export function bench(op: u32, base: u32, size: u32, off: u32, n: u32): void {
  const w = new Region(base, size);
  if (op == 0) for (let i: u32 = 0; i < n; i++) w.write32(off, i);
  else if (op == 1) for (let i: u32 = 0; i < n; i++) w.burst64(off, SRC);
  else for (let i: u32 = 0; i < n; i++) { fence(w.base); w.write32(off, i); }
}
