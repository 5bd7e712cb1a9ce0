// nic-tx as a WASI command (preview1, through @assemblyscript/wasi-shim): argv[1] is the number of
// descriptors. It reserves room for its two windows, asks the host to map them (vfio.map_window),
// runs the same driver and prints what it pushed.
import { run, DESC_BYTES } from "./driver";
import { window_reserve, map_window, set_inline_fence } from "../../../runtime/assembly/mmio";

const REGS: usize = 64 * 1024;
const PUSH: usize = 128 * 1024;
const PAGE: usize = 4096;

const n: u32 = process.argv.length > 1 ? <u32>I32.parseInt(process.argv[1]) : 100000;
const inline = process.env.has("VFIO_INLINE_FENCE") && process.env.get("VFIO_INLINE_FENCE") == "1";
set_inline_fence(inline);
const regs = window_reserve(REGS, PAGE);
const push = window_reserve(PUSH, PAGE);
let err = map_window(0, regs, REGS);
if (err == 0) err = map_window(1, push, PUSH);
if (err != 0) {
  console.error("nic-tx: the host refused a window: errno " + err.toString());
  process.exit(1);
}
const pushed = run(regs, REGS, push, PUSH, n, 32);
if (pushed < 0) {
  console.error("nic-tx: the device stopped consuming after " + (-1 - pushed).toString() + " descriptors");
  process.exit(1);
}
console.log("nic-tx (wasi): pushed " + pushed.toString() + " descriptors, " + (pushed * <i64>DESC_BYTES).toString() + " bytes");
