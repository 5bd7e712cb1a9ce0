// nic-tx: a TX driver in AssemblyScript. It pushes descriptors through the write-combined TX push
// buffer of the simulated NIC's BAR0 (a subregion) and rings the doorbell in the uncached register
// block of the same BAR. Both are windows the host mapped into this module's linear memory, so every
// descriptor is one 64-byte burst of plain v128 stores, and every doorbell a plain store after a fence.
//
// Register block (UC): DOORBELL (0x40) = descriptors produced so far; TX_HEAD (0x44) = descriptors the
// device consumed, written by the device. TX_HEAD is polled through the host (read32_host): a plain
// load in a loop could be hoisted out of it by the optimiser.
//
// Descriptor (64 bytes): u64 buffer address, u32 length, u32 flags, u32 sequence number, then 10 u32
// payload words derived from the sequence, then a u32 checksum (xor of words 0..14 ^ 0xC0FFEE11).

import { Region } from "../../../runtime/assembly/generated/vfio-subregion";
import { fence } from "../../../runtime/assembly/mmio";
export { window_reserve, set_inline_fence } from "../../../runtime/assembly/mmio";

export const DOORBELL: u32 = 0x40;
export const TX_HEAD: u32 = 0x44;
export const DESC_BYTES: u32 = 64;
export const CHECK_MAGIC: u32 = 0xC0FFEE11;

/** The staging descriptor (ordinary linear memory, never a window). */
const STAGE: usize = memory.data(64, 64);

// @ts-ignore: decorator
@inline function build(seq: u32): void {
  const addr: u64 = 0x1_0000_0000 + (<u64>seq << 11);
  store<u64>(STAGE, addr, 0);
  store<u32>(STAGE, 60 + (seq & 0x3ff), 8);           // length
  store<u32>(STAGE, 0x8000_0001 | ((seq & 1) << 8), 12); // flags: EOP | (alternating) CSUM
  store<u32>(STAGE, seq, 16);
  let x: u32 = <u32>addr ^ <u32>(addr >> 32) ^ (60 + (seq & 0x3ff)) ^ (0x8000_0001 | ((seq & 1) << 8)) ^ seq;
  for (let k: u32 = 0; k < 10; k++) {
    const w = seq * 0x9E3779B1 + k;
    store<u32>(STAGE + 20 + (<usize>k << 2), w);
    x ^= w;
  }
  store<u32>(STAGE, x ^ CHECK_MAGIC, 60);
}

/**
 * Pushes n descriptors, ringing the doorbell every `batch` descriptors (and after the last one).
 * Returns n, or a negative number when the device stopped consuming (-1 - descriptors pushed).
 */
export function run(regsBase: usize, regsSize: usize, pushBase: usize, pushSize: usize, n: u32, batch: u32): i64 {
  const regs = new Region(regsBase, regsSize);
  const push = new Region(pushBase, pushSize);
  const slots = <u32>(pushSize / DESC_BYTES);
  let head: u32 = regs.read32_host(TX_HEAD);
  const start = head;
  for (let i: u32 = 0; i < n; i++) {
    const seq = start + i;
    if (seq - head >= slots) {
      let spins: u32 = 0;
      do {
        head = regs.read32_host(TX_HEAD);
        if (++spins == 0x40000000) return -1 - <i64>i;   // ~a minute of polling: the device is gone
      } while (seq - head > slots / 2);   // then refill half the ring: fewer (host-call) polls
    }
    build(seq);
    push.burst64(<usize>(seq % slots) * DESC_BYTES, STAGE);
    if ((i + 1) % batch == 0 || i + 1 == n) {
      fence(push.base);            // every descriptor store before the doorbell
      regs.write32(DOORBELL, seq + 1);
    }
  }
  return <i64>n;
}
