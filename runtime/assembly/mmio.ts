// The hand-written part of the AssemblyScript MMIO accessor (the generated part is
// ./generated/vfio-subregion.ts: Region, the read/write accessors of every width the spec lists,
// burst64, the ordering points wmb/flush and the host-call path, all from the spec's "mmio" section).
//
// What this adds:
//   - window_reserve(): page-aligned room in linear memory where the host maps a window. It comes
//     from the heap (never freed, never touched by the allocator or the GC), so it always lies inside
//     the memory's current size, as a window must. The 16 bytes below it hold the reservation record
//     the host checks before it maps anything there (WINDOW_MAGIC, the address, the bytes reserved,
//     the bytes the host mapped): a window anywhere else would overwrite the guest's own memory.
//   - window(): the Region of a mapped window, refused when wider than what the host mapped.
//   - fence(): the cheapest correct store fence. Where the host says a locked read-modify-write is a
//     store fence for write-combined memory (x86: a LOCK instruction drains the WC buffers and orders
//     every earlier store, Intel SDM vol. 3 §11.3.1 and §8.2.2), it is one `i32.atomic.rmw.add` of 0 on
//     a scratch word of this module's own static data, never on a window; everywhere else it is the
//     host's wmb() (sfence / dmb oshst). Atomics never target a window.
//   - burst(): whole aligned 64-byte bursts over a range, with clear errors for a misaligned or short one.
//   - dma_alloc(): page-aligned buffers of the guest's own memory mapped for DMA by the host's device,
//     with the IOVA the device reaches them at (descriptor rings, packet buffers); irq_enable(): the
//     host then calls the guest's export interrupt(vector, count) from its event loop. A guest on the
//     host's thread cannot block waiting for an interrupt, so it keeps its state in linear memory and
//     does the completion work in that export.
//
// Compile with --enable simd (bursts) and --enable threads (the locked fence): extend ./asconfig.json.

import { Region, MMIO_BURST_BYTES, wmb, flush } from "./generated/vfio-subregion";

/**
 * true once the host vouches (set_inline_fence) that a locked read-modify-write on ordinary memory is
 * a store fence for the device's write-combined mappings (x86-64); false makes fence() call the
 * host's wmb(). A global set by an export, not an imported global, so that components (whose core
 * modules import only functions) work the same way.
 */
let INLINE_FENCE: bool = false;

/** The host calls this (re-export it from the entry file) when the locked fence is valid on its CPU. */
export function set_inline_fence(on: bool): void { INLINE_FENCE = on; }

/** The fence's scratch word: this module's static data, a cache line of its own, never a window. */
const FENCE_WORD: usize = memory.data(64, 64);

/** Store fence before a doorbell: see the file comment. `window` is the window being ordered. */
// @ts-ignore: decorator
@inline export function fence(window: usize): void {
  if (INLINE_FENCE) atomic.add<u32>(FENCE_WORD, 0);
  else wmb(window);
}

/** Read-to-flush through the host (one 32-bit read of the window's first word, never merged). */
// @ts-ignore: decorator
@inline export function flush_window(window: usize): void { flush(window); }

/**
 * Reserves `bytes` of linear memory aligned to `align` (a power of two: the host's page size) for a
 * window, and returns its address. The host maps the region there with MAP_FIXED; until it does, the
 * range is ordinary zeroed memory.
 */
export function window_reserve(bytes: usize, align: usize): usize {
  if (align < 16 || (align & (align - 1)) != 0) throw new RangeError("window alignment must be a power of two of at least 16");
  const raw = heap.alloc(bytes + align + 16);
  const at = (raw + 16 + align - 1) & ~(align - 1);
  memory.fill(at, 0, bytes);
  store<u32>(at - 16, WINDOW_MAGIC);
  store<u32>(at - 12, <u32>at);
  store<u32>(at - 8, <u32>bytes);
  store<u32>(at - 4, 0);
  return at;
}

/** First word of a reservation record ("vfwn"): the 16 bytes below a reserved window's address. */
export const WINDOW_MAGIC: u32 = 0x6e776676;

/** Error text of window(); the host matches on it. */
export const WINDOW_UNMAPPED = "MMIO window: no window is mapped at this address";
export const WINDOW_TOO_WIDE = "MMIO window: wider than what the host mapped there";

/**
 * The Region of the window the host mapped at `at` (from window_reserve), `bytes` wide. Throws a
 * RangeError when nothing is mapped there or the host mapped fewer bytes: a Region wider than its
 * mapping would reach plain memory past the window.
 */
export function window(at: usize, bytes: usize): Region {
  if (at < 16 || load<u32>(at - 16) != WINDOW_MAGIC || load<u32>(at - 12) != <u32>at || load<u32>(at - 4) == 0) throw new RangeError(WINDOW_UNMAPPED);
  if (bytes > <usize>load<u32>(at - 4)) throw new RangeError(WINDOW_TOO_WIDE);
  return new Region(at, bytes);
}

/** Error text of burst(); the host matches on it. */
export const BURST_MISALIGNED = "MMIO burst: destination is not 64-byte aligned";
export const BURST_SHORT = "MMIO burst: length is not a whole number of 64-byte blocks";

/**
 * Writes `bytes` from src to the window at offset as whole 64-byte bursts, in order. Refuses (throws
 * a RangeError) a destination that is not 64-byte aligned, a length that is not a multiple of 64 (a
 * short burst would be split into partial WC flushes), and a range outside the window.
 */
export function burst(win: Region, offset: usize, src: usize, bytes: usize): void {
  if (((win.base + offset) & <usize>(MMIO_BURST_BYTES - 1)) != 0) throw new RangeError(BURST_MISALIGNED);
  if (bytes == 0 || (bytes & <usize>(MMIO_BURST_BYTES - 1)) != 0) throw new RangeError(BURST_SHORT);
  win.check(offset, bytes, <usize>MMIO_BURST_BYTES);
  for (let k: usize = 0; k < bytes; k += <usize>MMIO_BURST_BYTES) win.burst64(offset + k, src + k);
}

/**
 * Asks the host to map the window it grants as `slot` (host-defined: for nic-tx 0 is the register
 * block, 1 the TX push buffer) at `at` (from window_reserve), exactly `bytes` long. Returns 0, or a
 * positive errno. For guests that run as commands (WASI _start) and so must request their windows
 * themselves. The import names are the WIT interface's (runtime/wit/vfio-subregion.wit), so the
 * same core module is a plain module, a WASI command and a component's core.
 */
@external("vfio:subregion/mmio@0.1.0", "map-window")
export declare function map_window(slot: u32, at: usize, bytes: usize): i32;

/** Reserves and maps the window the host grants as `slot`; returns its Region, or throws. */
export function map_region(slot: u32, bytes: usize, align: usize): Region {
  const at = window_reserve(bytes, align);
  const err = map_window(slot, at, bytes);
  if (err != 0) throw new RangeError("MMIO window: the host refused slot " + slot.toString() + " (errno " + err.toString() + ")");
  return window(at, bytes);
}

/**
 * Maps `bytes` of this guest's memory from `at` (both page-aligned) for DMA by the host's device.
 * Returns the IOVA, or a negative errno. The host keeps the mapping until dma_unmap or its own end.
 */
@external("vfio:subregion/mmio@0.1.0", "dma-map")
export declare function dma_map(at: usize, bytes: usize): i64;

/** Unmaps what dma_map mapped at `at`. Returns 0, or a positive errno. */
@external("vfio:subregion/mmio@0.1.0", "dma-unmap")
export declare function dma_unmap(at: usize): i32;

/**
 * Asks the host to deliver vectors [start, start + count) of the device's IRQ `index` (2: MSI-X on
 * vfio-pci): it calls the guest's export `interrupt(vector: u32, count: u32)` for each. Returns 0, or
 * a positive errno.
 */
@external("vfio:subregion/mmio@0.1.0", "irq-enable")
export declare function irq_enable(index: u32, start: u32, count: u32): i32;

/** A buffer of the guest's memory the device reaches: [at, at + bytes) in linear memory is [iova, iova + bytes) to the device. */
export class DmaBuffer {
  constructor(public at: usize, public bytes: usize, public iova: u64) {}

  /** The device's address of byte `offset` of the buffer (bounds-checked). */
  addr(offset: usize): u64 {
    if (offset >= this.bytes) throw new RangeError("DMA buffer: offset past the end");
    return this.iova + <u64>offset;
  }
}

/**
 * A zeroed DMA buffer of `bytes` (rounded up to `align`, the host's page size) from the heap, never
 * freed, mapped for the host's device. Throws a RangeError naming the errno when the host refuses.
 */
export function dma_alloc(bytes: usize, align: usize): DmaBuffer {
  if (align < 16 || (align & (align - 1)) != 0) throw new RangeError("DMA alignment must be a power of two of at least 16");
  const size = (bytes + align - 1) & ~(align - 1);
  const raw = heap.alloc(size + align);
  const at = (raw + align - 1) & ~(align - 1);
  memory.fill(at, 0, size);
  const iova = dma_map(at, size);
  if (iova < 0) throw new RangeError("DMA buffer: the host refused (errno " + (-iova).toString() + ")");
  return new DmaBuffer(at, size, <u64>iova);
}
