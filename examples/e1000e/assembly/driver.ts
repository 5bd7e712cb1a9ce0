// e1000e: a TX driver for the Intel 82574 (e1000e) in AssemblyScript, run as a WASI command. It uses
// nothing but the guest interface (runtime/wit: map-window, dma-map, irq-enable, the host-call MMIO
// path), so the same module drives the simulator's model and a real device behind vfio-pci.
//
// _start: map BAR0 (window slot 0), reset the NIC (CTRL.RST, wait for it to clear), put a TX ring and
// its frame buffers in DMA-mapped linear memory, program TDBAL/TDBAH/TDLEN/TDH/TDT, TIPG and TCTL,
// route TX queue 0 to MSI-X vector 0 (IVAR) and unmask it (IMS), then fill the ring. Each frame is
// one descriptor (EOP | IFCS); every BATCH-th carries RS, and the tail is written once per BATCH.
// interrupt(): the host calls it for each MSI-X message; the driver reads ICR (which clears it),
// reclaims every batch whose RS descriptor has DD, refills the ring, and prints a summary after the
// last frame. Registers go through the host-call path (one volatile access each): ICR clears on read
// and a tail write starts DMA, so neither may be merged or dropped.
//
// Frame (FRAME_LEN bytes, FCS added by the NIC): destination 02:00:00:00:00:01, source the NIC's MAC
// (RAL0/RAH0), EtherType 0x88B5 (IEEE local experimental), a big-endian u32 sequence number, then
// byte i of the rest = (seq * 7 + i) & 0xff.

import { Region } from "../../../runtime/assembly/generated/vfio-subregion";
import { dma_alloc, irq_enable, map_region, DmaBuffer } from "../../../runtime/assembly/mmio";
import * as r from "./regs";

export const RING: u32 = 1024;
export const BATCH: u32 = 64;
export const FRAME_LEN: u32 = 64;
export const BUF_SIZE: u32 = 2048;
const PAGE: usize = 4096;
const BAR0: usize = 0x20000;

let regs: Region | null = null;
let ring: DmaBuffer | null = null;
let bufs: DmaBuffer | null = null;
let total: u32 = 0;        // frames to send
let queued: u32 = 0;       // frames handed to the NIC
let completed: u32 = 0;    // frames reclaimed (DD seen)
let tail: u32 = 0;         // next descriptor to fill
let clean: u32 = 0;        // next descriptor to reclaim
let interrupts: u32 = 0;
let tailWrites: u32 = 0;
let mac_lo: u32 = 0, mac_hi: u32 = 0;
let t0: f64 = 0, t1: f64 = 0;
let c0: u64 = 0, c1: u64 = 0;

/** WASI clock_time_get: CLOCKID_PROCESS_CPUTIME_ID (2) is the CPU time of the whole process. */
@external("wasi_snapshot_preview1", "clock_time_get")
declare function clock_time_get(id: u32, precision: u64, time: usize): u16;
const CLOCK_OUT: usize = memory.data(8, 8);
function cpu_now(): u64 {
  return clock_time_get(2, 1, CLOCK_OUT) == 0 ? load<u64>(CLOCK_OUT) : 0;
}

function fail(msg: string): void {
  console.error("e1000e: " + msg);
  process.exit(1);
}

/** Reset, then program the TX ring; 0, or fails with a message. */
function init(frames: u32): void {
  const reg = map_region(0, BAR0, PAGE);
  regs = reg;
  reg.write32_host(r.IMC, 0xffffffff);
  reg.write32_host(r.CTRL, reg.read32_host(r.CTRL) | r.CTRL_RST);
  let spins = 0;
  while ((reg.read32_host(r.CTRL) & r.CTRL_RST) != 0) {
    if (++spins > 1000000) fail("CTRL.RST did not clear");
  }
  reg.write32_host(r.IMC, 0xffffffff);
  reg.read32_host(r.ICR);
  if ((reg.read32_host(r.STATUS) & r.STATUS_LU) == 0) fail("no link (STATUS.LU clear)");
  mac_lo = reg.read32_host(r.RAL0);
  mac_hi = reg.read32_host(r.RAH0) & 0xffff;

  const rg = dma_alloc(RING * r.TXD_SIZE, PAGE);
  const bf = dma_alloc(RING * BUF_SIZE, PAGE);
  ring = rg;
  bufs = bf;
  for (let i: u32 = 0; i < RING; i++) store<u64>(rg.at + <usize>(i * r.TXD_SIZE), bf.iova + <u64>(i * BUF_SIZE));
  reg.write32_host(r.TDBAL, <u32>rg.iova);
  reg.write32_host(r.TDBAH, <u32>(rg.iova >> 32));
  reg.write32_host(r.TDLEN, RING * r.TXD_SIZE);
  reg.write32_host(r.TDH, 0);
  reg.write32_host(r.TDT, 0);
  reg.write32_host(r.TIPG, r.TIPG_DEFAULT);
  reg.write32_host(r.TCTL, r.TCTL_EN | r.TCTL_PSP | r.TCTL_CT_15 | r.TCTL_COLD_63);

  const err = irq_enable(r.MSIX, 0, 1);
  if (err != 0) fail("the host refused MSI-X vector 0 (errno " + err.toString() + ")");
  reg.write32_host(r.IVAR, (r.IVAR_VALID | 0) << r.IVAR_TXQ0_SHIFT);
  reg.write32_host(r.IMS, r.ICR_TXQ0 | r.ICR_TXDW);
  total = frames;
}

const IOTA: v128 = i8x16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
const SIXTEEN: v128 = i8x16.splat(16);

// @ts-ignore: decorator
@inline function build(buf: usize, seq: u32): void {
  store<u32>(buf, 0x00000002);                  // 02:00:00:00 (little-endian store of bytes 02 00 00 00)
  store<u16>(buf, 0x0100, 4);                   // :00:01
  store<u32>(buf, mac_lo, 6);
  store<u16>(buf, <u16>mac_hi, 10);
  store<u16>(buf, 0xb588, 12);                  // EtherType 0x88B5, big-endian
  store<u32>(buf, bswap<u32>(seq), 14);
  // the payload in 16-byte vectors of (base + i) & 0xff; the last one runs 2 bytes past the frame,
  // into the rest of its 2 KiB buffer
  let v = i8x16.add(i8x16.splat(<i8>(seq * 7)), IOTA);
  for (let i: usize = 18; i < <usize>FRAME_LEN; i += 16) {
    v128.store(buf + i, v);
    v = i8x16.add(v, SIXTEEN);
  }
}

/** Fills free descriptors with new frames, a tail write per BATCH. */
function refill(): void {
  const reg = regs!;
  const rg = ring!.at, bf = bufs!.at;
  while (queued < total && (tail + RING - clean) % RING + BATCH < RING) {
    let n: u32 = 0;
    while (n < BATCH && queued < total) {
      const d = rg + <usize>(tail * r.TXD_SIZE);
      build(bf + <usize>(tail * BUF_SIZE), queued);
      const last = n == BATCH - 1 || queued == total - 1;
      // length, cso 0, cmd, status 0 (DD clear), css 0, special 0
      store<u64>(d, <u64>FRAME_LEN | <u64>(r.TXD_CMD_EOP | r.TXD_CMD_IFCS | (last ? r.TXD_CMD_RS : 0)) << 24, 8);
      tail = (tail + 1) % RING;
      queued++;
      n++;
    }
    reg.write32_host(r.TDT, tail);
    tailWrites++;
  }
}

/** Reclaims every batch whose RS descriptor the NIC wrote back. */
function reclaim(): void {
  const rg = ring!.at;
  while (clean != tail) {
    // the batch ends at the first RS descriptor from `clean`
    let end = clean;
    while (end != tail && (load<u8>(rg + <usize>(end * r.TXD_SIZE), 11) & <u8>r.TXD_CMD_RS) == 0) end = (end + 1) % RING;
    if (end == tail) break;
    if ((load<u8>(rg + <usize>(end * r.TXD_SIZE), 12) & r.TXD_STAT_DD) == 0) break;
    const n = (end + RING - clean) % RING + 1;
    completed += n;
    clean = (end + 1) % RING;
  }
}

/** x with one decimal. */
function fixed1(x: f64): string { return (Math.round(x * 10) / 10).toString(); }

function summary(): void {
  const ms = t1 - t0;
  console.log("e1000e (wasm, WASI): " + total.toString() + " frames (" + (<u64>total * FRAME_LEN).toString() + " bytes) in " +
    fixed1(ms) + " ms: " + fixed1(ms * 1e6 / <f64>total) + " ns/frame; " + interrupts.toString() + " MSI-X interrupts, " + tailWrites.toString() + " tail writes");
}

/** The host calls this once per MSI-X message (count: the messages the eventfd coalesced). */
export function interrupt(vector: u32, count: u32): void {
  interrupts += count;
  regs!.read32_host(r.ICR);
  reclaim();
  refill();
  if (completed == total && t1 == 0) {
    t1 = performance.now();
    c1 = cpu_now();
    summary();
  }
}

/** Frames reclaimed so far (the host stops waiting when it reaches the count it asked for). */
export function done(): u32 { return completed; }
export function sent(): u32 { return queued; }
export function interrupts_taken(): u32 { return interrupts; }
export function tail_writes(): u32 { return tailWrites; }
/** Milliseconds from the first frame queued to the last one reclaimed (0 until then). */
export function elapsed_ms(): f64 { return t1 - t0; }
/** The process's CPU time over the same span, in ns (what the bench compares: load on other CPUs does not count). */
export function cpu_ns(): f64 { return <f64>(c1 - c0); }

const frames: u32 = process.argv.length > 1 ? <u32>I32.parseInt(process.argv[1]) : 1000;
init(frames);
t0 = performance.now();
c0 = cpu_now();
refill();
