// ring-producer: the pattern to copy for any wasm producer feeding a device through a WC window.
// Variable-length records go into a ring of 64-byte slots in a write-combined window, always as
// whole 64-byte bursts (a record occupies 1..4 slots: a 8-byte header {u32 seq, u32 len} + payload,
// zero-padded); after a batch, one fence and one store of the new tail to a producer-index register
// in the uncached register block. The consumer's head comes back in another register, read through
// the host (never a plain load in a polling loop).

import { Region } from "../../../runtime/assembly/generated/vfio-subregion";
import { fence } from "../../../runtime/assembly/mmio";
export { window_reserve, set_inline_fence } from "../../../runtime/assembly/mmio";

export const TAIL_REG: u32 = 0x48;
export const HEAD_REG: u32 = 0x4c;
const SLOT: u32 = 64;
const STAGE: usize = memory.data(256, 64);

let regs: Region = new Region(0, 0);
let ring: Region = new Region(0, 0);
let tail: u32 = 0;   // slots produced (free-running)
let seq: u32 = 0;

export function init(regsBase: usize, regsSize: usize, ringBase: usize, ringSize: usize): void {
  regs = new Region(regsBase, regsSize);
  ring = new Region(ringBase, ringSize);
  tail = regs.read32_host(TAIL_REG);
}

/** Record n's payload length (1..248 bytes) and bytes: deterministic, so the consumer can check them. */
// @ts-ignore: decorator
@inline function payloadLen(n: u32): u32 { return 1 + (n * 37) % 248; }

/**
 * Produces up to `count` records; stops early when the ring lacks room for the next one. Publishes
 * the tail once at the end. Returns the records produced.
 */
export function produce(count: u32): u32 {
  const slots = <u32>(ring.size / SLOT);
  const head = regs.read32_host(HEAD_REG);
  let made: u32 = 0;
  while (made < count) {
    const len = payloadLen(seq);
    const need: u32 = (8 + len + SLOT - 1) / SLOT;
    const pos = tail % slots;
    if (tail + need - head > slots || pos + need > slots) {
      if (pos + need > slots && tail + (slots - pos) - head <= slots && tail - head < slots) {
        // pad to the end of the ring with an empty record so a record never wraps
        memory.fill(STAGE, 0, 64);
        store<u32>(STAGE, 0xffffffff);
        for (let k: u32 = pos; k < slots; k++) ring.burst64(<usize>k * SLOT, STAGE);
        tail += slots - pos;
        continue;
      }
      break;
    }
    memory.fill(STAGE, 0, <usize>need * SLOT);
    store<u32>(STAGE, seq);
    store<u32>(STAGE, len, 4);
    for (let i: u32 = 0; i < len; i++) store<u8>(STAGE + 8 + i, <u8>(seq + i * 7));
    for (let k: u32 = 0; k < need; k++) ring.burst64(<usize>(pos + k) * SLOT, STAGE + <usize>k * SLOT);
    tail += need;
    seq++;
    made++;
  }
  fence(ring.base);
  regs.write32(TAIL_REG, tail);
  return made;
}
