// DMA, interrupts and reset on the simulator (issue 13): the type1 IOMMU's answers are the kernel's
// (vfio_iommu_type1.c, vfio_pci_intrs.c of 6.1), written out here by hand, never read back from the
// code under test.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openDevice, type InterruptEvent } from '../../runtime/src/device.js';
import { native } from '../../runtime/src/native.js';
import { DEFAULT_SIM } from '../../runtime/src/sim-presets.js';
import { refusal, withSim } from './sim.js';
import { VfioIommuType1DmaMap, VfioIommuType1DmaUnmap, VfioIrqSet, VfioPciIrqIndex as IRQ, ioctlNumber } from '../../runtime/src/generated/vfio-subregion.js';

const PAGE = 4096;
const openFds = (): number => readdirSync('/proc/self/fd').length;
/** The lib here has no WebAssembly typings: just what these tests use. */
interface Memory { readonly buffer: ArrayBuffer; grow(pages: number): number }
const WA = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number; maximum: number }) => Memory } }).WebAssembly;
const memory = (pages: number, maximum = 16): Memory => new WA.Memory({ initial: pages, maximum });

describe('the simulated IOMMU', () => {
  it('reports x86 type1 geometry: 4 KiB, 2 MiB and 1 GiB pages, every IOVA below 2^48 but the MSI window, 65535 mappings', () => {
    withSim((dev) => {
      const info = dev.iommu().info();
      expect(info.pageSizes).toBe(0x1000n | 0x200000n | 0x40000000n);
      expect(info.pageSize).toBe(0x1000n);
      expect(info.ranges).toEqual([{ start: 0n, end: 0xfedfffffn }, { start: 0xfef00000n, end: 0xffffffffffffn }]);
      expect(info.dmaAvailable).toBe(65535);
    });
  });

  it('maps a range of a WebAssembly.Memory: the device reads what the guest wrote and writes where the guest reads', () => {
    withSim((dev) => {
      const mem = memory(2);
      const m = dev.iommu().map(mem, { offset: 0x10000, length: 0x2000 });
      expect(m.iova).toBe(0x1000n); // the first page after IOVA 0's
      expect(dev.iommu().info().dmaAvailable).toBe(65534);
      new Uint8Array(mem.buffer).set([0xde, 0xad, 0xbe, 0xef], 0x10ffe);
      expect(dev.simDmaRead(m.iova + 0xffen, 4)).toEqual(new Uint8Array([0xde, 0xad, 0xbe, 0xef]));
      expect(dev.simDmaWrite(m.iova + 0x1ff0n, new Uint8Array([1, 2, 3]))).toBe(true);
      expect([...new Uint8Array(mem.buffer, 0x11ff0, 3)]).toEqual([1, 2, 3]);
      // past the mapping: a fault, nothing moved, counted
      expect(dev.simDmaWrite(m.iova + 0x1ffen, new Uint8Array([9, 9, 9, 9]))).toBe(false);
      expect(new Uint8Array(mem.buffer, 0x11ffe, 2)).toEqual(new Uint8Array([0, 0]));
      expect(dev.simDmaStats()).toMatchObject({ reads: 1, writes: 1, faults: 1, lastFaultIova: 0x3000n, lastFaultWrite: true, dmaMappings: 1 });
      m.unmap();
      expect(dev.simDmaRead(m.iova, 1)).toBeNull();
      expect(dev.simDmaStats()).toMatchObject({ faults: 2, dmaMappings: 0 });
    });
  });

  it('DMA buffers, read-only mappings, an access spanning two mappings', () => {
    withSim((dev) => {
      const io = dev.iommu();
      const a = io.allocBuffer(2 * PAGE);
      const b = io.allocBuffer(PAGE);
      const ma = io.map(a, { iova: 0x100000n });
      const mb = io.map(b, { iova: 0x102000n, write: false });
      new Uint8Array(b).fill(7);
      expect(dev.simDmaRead(0x101ffen, 4)).toEqual(new Uint8Array([0, 0, 7, 7]));
      expect(dev.simDmaWrite(0x101ffen, new Uint8Array(4).fill(1))).toBe(false); // b is read-only to the device
      expect(new Uint8Array(a)[2 * PAGE - 1]).toBe(0);
      expect(dev.simDmaWrite(0x100000n, new Uint8Array([5]))).toBe(true);
      expect(new Uint8Array(a)[0]).toBe(5);
      expect(io.mappings()).toEqual([ma, mb]);
    });
  });

  it("refuses with type1's errnos, each naming the cause", () => {
    withSim((dev) => {
      const io = dev.iommu();
      const mem = memory(4);
      io.map(mem, { offset: 0, length: 0x2000, iova: 0x10000n });
      const overlap = refusal(() => io.map(mem, { offset: 0x2000, length: 0x1000, iova: 0x11000n }));
      expect(overlap).toMatchObject({ code: 'EEXIST', operation: 'dmaMap', syscall: 'ioctl', rule: null });
      expect(overlap.message).toBe('dmaMap: [0x11000, +0x1000) overlaps the mapping at [0x10000, +0x2000) (EEXIST)');
      const unaligned = refusal(() => io.map(mem, { offset: 0x800, length: 0x1000 }));
      expect(unaligned.code).toBe('EINVAL');
      expect(unaligned.message).toMatch(/must be multiples of the IOMMU page size \(0x1000\)/);
      expect(refusal(() => io.map(mem, { length: 0x1800 })).code).toBe('EINVAL');
      const msi = refusal(() => io.map(mem, { length: 0x1000, iova: 0xfee00000n }));
      expect(msi.code).toBe('EINVAL');
      expect(msi.message).toMatch(/is not inside one of the IOMMU's IOVA ranges \[0x0, 0xfedfffff\], \[0xfef00000, 0xffffffffffff\]/);
      expect(refusal(() => io.map(mem, { length: 0x1000, read: false, write: false })).message).toMatch(/neither read nor write/);
      expect(() => io.map(mem, { offset: 0x3f000, length: 0x2000 })).toThrow('options.length: 8192 bytes at 258048 run past the end of the 262144-byte source');
      expect(() => io.map(new ArrayBuffer(PAGE))).toThrow(/source must be a WebAssembly.Memory or an ArrayBuffer from dmaAlloc/);
      expect(() => io.map({ buffer: new ArrayBuffer(PAGE) })).toThrow(TypeError);
    });
  });

  it('allocates IOVAs only inside the configured ranges, and honours the DMA entry limit', () => {
    const config = { ...DEFAULT_SIM, iommu: { iovaRanges: [{ start: 0x100000n, end: 0x103fffn }], dmaLimit: 3 } };
    withSim((dev) => {
      const io = dev.iommu();
      expect(io.info()).toMatchObject({ ranges: [{ start: 0x100000n, end: 0x103fffn }], dmaAvailable: 3 });
      const mem = memory(1);
      const maps = [0, 1, 2].map((i) => io.map(mem, { offset: i * PAGE, length: PAGE }));
      expect(maps.map((m) => m.iova)).toEqual([0x100000n, 0x101000n, 0x102000n]);
      expect(refusal(() => io.map(mem, { offset: 3 * PAGE, length: PAGE })).message).toMatch(/DMA mapping limit is reached/);
      maps[1]!.unmap();
      expect(refusal(() => io.map(mem, { offset: 0, length: 2 * PAGE })).message).toBe('dmaMap: no free range of 0x2000 bytes left in the IOVA ranges [0x100000, 0x103fff] (ENOSPC)');
      expect(io.map(mem, { offset: 3 * PAGE, length: PAGE }).iova).toBe(0x101000n);
    }, config);
  });

  it('unmaps as type1 does: no split of a mapping (EINVAL), an empty range unmaps nothing (size 0)', () => {
    withSim((dev) => {
      const io = dev.iommu();
      io.map(memory(1), { length: 2 * PAGE, iova: 0x40000n });
      const container = native().iommuHandle(dev.handle);
      try {
        const unmap = (iova: bigint, size: bigint) => {
          const arg = VfioIommuType1DmaUnmap.encode({ argsz: 24, flags: 0, iova, size, data: new Uint8Array(0) });
          return { r: native().dmaUnmap(container, arg), size: VfioIommuType1DmaUnmap.decode(arg).size };
        };
        expect(unmap(0x41000n, 0x1000n)).toEqual({ r: -22, size: 0x1000n });
        expect(unmap(0x80000n, 0x1000n)).toEqual({ r: 0, size: 0n });
        expect(unmap(0x40000n, 0x10000n)).toEqual({ r: 0, size: 0x2000n });
        expect(dev.simDmaStats().dmaMappings).toBe(0);
        // the raw ioctl cannot map memory the addon did not vouch for: the simulator dereferences it
        const arg = VfioIommuType1DmaMap.encode({ argsz: 32, flags: 3, vaddr: 0x10000n, iova: 0x1000n, size: 0x1000n });
        expect(native().ioctl(container, ioctlNumber('VFIO_IOMMU_MAP_DMA', 'x64'), arg)).toBe(-14);
      } finally {
        native().close(container);
      }
    });
  });

  it('a Memory that grows keeps its address: the mapping stays valid and sees the grown buffer', () => {
    withSim((dev) => {
      const mem = memory(1, 64);
      const m = dev.iommu().map(mem, { offset: 0, length: PAGE });
      mem.grow(8);
      expect(dev.simDmaWrite(m.iova + 8n, new Uint8Array([0x5a]))).toBe(true);
      expect(new Uint8Array(mem.buffer)[8]).toBe(0x5a);
      const grown = dev.iommu().map(mem, { offset: 0x80000, length: PAGE });
      expect(dev.simDmaWrite(grown.iova, new Uint8Array([0xa5]))).toBe(true);
      expect(new Uint8Array(mem.buffer)[0x80000]).toBe(0xa5);
    });
  });
});

describe('interrupts', () => {
  it('reports the vectors of each index: INTx 1, MSI 1, MSI-X 8, ERR 1, REQ 1', () => {
    withSim((dev) => {
      // VFIO_IRQ_INFO_EVENTFD 1, MASKABLE 2, AUTOMASKED 4, NORESIZE 8
      expect([0, 1, 2, 3, 4].map((i) => dev.irqInfo(i))).toEqual([
        { index: 0, flags: 7, count: 1 }, { index: 1, flags: 9, count: 1 }, { index: 2, flags: 9, count: 8 },
        { index: 3, flags: 9, count: 1 }, { index: 4, flags: 9, count: 1 },
      ]);
      expect(refusal(() => dev.irqInfo(5)).message).toBe('irqInfo: VFIO_DEVICE_GET_IRQ_INFO: the device has no IRQ index 5 (5 indexes) (EINVAL)');
    });
  });

  it('MSI-X vectors as events and as an async iterator, without blocking the event loop', async () => {
    const dev = openDevice('sim');
    try {
      const irqs = dev.interrupts(IRQ.VFIO_PCI_MSIX_IRQ_INDEX);
      const seen: InterruptEvent[] = [];
      irqs.on('interrupt', (ev) => seen.push(ev));
      expect(dev.simDmaStats().eventfds).toBe(8);
      const it = irqs[Symbol.asyncIterator]();
      expect(dev.simInterrupt(2, 3)).toBe(true);
      expect(dev.simInterrupt(2, 3)).toBe(true); // an eventfd counts: one wake-up, count 2
      expect((await it.next()).value).toEqual({ vector: 3, count: 2 });
      let ticks = 0;
      const timer = setInterval(() => ticks++, 1);
      setTimeout(() => dev.simInterrupt(2, 7), 20);
      expect((await it.next()).value).toEqual({ vector: 7, count: 1 });
      clearInterval(timer);
      expect(ticks).toBeGreaterThan(3); // the loop kept running while waiting
      expect(seen).toEqual([{ vector: 3, count: 2 }, { vector: 7, count: 1 }]);
      irqs.close();
      expect(await it.next()).toEqual({ done: true, value: undefined });
      expect(dev.simDmaStats().eventfds).toBe(0);
      expect(dev.simInterrupt(2, 3)).toBe(false); // no eventfd now: lost
      expect(dev.simDmaStats().lostInterrupts).toBe(1);
    } finally {
      dev.close();
    }
    expect(native().stats().eventfds).toBe(0);
  });

  it('a part of an index: other vectors stay without eventfds; refusals name the index and vectors', async () => {
    const dev = openDevice('sim');
    try {
      const part = dev.interrupts(2, { start: 4, count: 2 });
      expect(dev.simInterrupt(2, 0)).toBe(false);
      expect(dev.simInterrupt(2, 5)).toBe(true);
      expect(await part.next()).toEqual({ vector: 5, count: 1 });
      expect(refusal(() => dev.interrupts(2, { start: 6, count: 3 })).message).toBe('interrupts: IRQ index 2 has 8 vector(s): [6, 9) is not a range of them (EINVAL)');
      expect(refusal(() => dev.interrupts(7)).code).toBe('EINVAL');
      expect(refusal(() => dev.interrupts(2, { start: 5, count: 1 })).message).toBe('interrupts: vectors [4, 6) of IRQ index 2 have an open Interrupts: close it first (a second eventfd would take the vectors from it) (EBUSY)');
      expect(refusal(() => dev.interrupts(IRQ.VFIO_PCI_MSI_IRQ_INDEX)).message).toMatch(/IRQ index 2 is active: INTx, MSI and MSI-X are used one at a time/);
      expect(() => dev.simInterrupt(2, 8)).toThrow(/the device has no vector 8 of IRQ index 2/);
      part.close();
      const msi = dev.interrupts(IRQ.VFIO_PCI_MSI_IRQ_INDEX);
      expect(dev.simInterrupt(1, 0)).toBe(true);
      expect(await msi.next()).toEqual({ vector: 0, count: 1 });
    } finally {
      dev.close(); // closes the MSI set too
    }
    expect(native().stats().eventfds).toBe(0);
  });

  it('the raw SET_IRQS refuses what is not an eventfd', () => {
    withSim((dev) => {
      const set = (fd: number) => native().ioctl(dev.handle, ioctlNumber('VFIO_DEVICE_SET_IRQS', 'x64'), VfioIrqSet.encode({
        argsz: 24, flags: 0x24, index: 2, start: 0, count: 1, data: new Uint8Array(new Int32Array([fd]).buffer),
      }));
      expect(set(1)).toBe(-22); // stdout: EINVAL
      expect(set(1_000_000)).toBe(-9); // EBADF
      expect(dev.simDmaStats().eventfds).toBe(0);
    });
  });
});

describe('reset', () => {
  it('VFIO_DEVICE_RESET keeps DMA mappings, BAR mappings and eventfds; hot reset names the device', async () => {
    const dev = openDevice('sim');
    try {
      const mem = memory(1);
      const m = dev.iommu().map(mem, { length: PAGE });
      const regs = dev.map(0, { length: PAGE });
      const irqs = dev.interrupts(2);
      dev.reset();
      regs.write32(0, 1);
      expect(dev.read(0, 0n, 4)).toEqual(new Uint8Array([1, 0, 0, 0]));
      expect(dev.simDmaWrite(m.iova, new Uint8Array([3]))).toBe(true);
      expect(new Uint8Array(mem.buffer)[0]).toBe(3);
      dev.simInterrupt(2, 0);
      expect(await irqs.next()).toEqual({ vector: 0, count: 1 });
      expect(dev.simDmaStats().resets).toBe(1);
      expect(dev.hotResetInfo()).toEqual({ flags: 0, devices: [{ groupId: 1, address: '0000:01:00.0' }] });
    } finally {
      dev.close();
    }
  });

  it('a device without VFIO_DEVICE_FLAGS_RESET refuses it by name', () => {
    withSim((dev) => {
      expect(dev.info().flags & 1).toBe(0);
      expect(refusal(() => dev.reset()).message).toBe('reset: VFIO_DEVICE_RESET: the device cannot be reset (no VFIO_DEVICE_FLAGS_RESET) (EINVAL)');
    }, { ...DEFAULT_SIM, reset: false });
  });
});

describe('lifetime', () => {
  it('close() unmaps every DMA mapping and closes every eventfd: fds and the addon books back to where they were', () => {
    const before = openFds();
    for (let i = 0; i < 50; i++) {
      const dev = openDevice('sim');
      dev.iommu().map(memory(1), { length: PAGE });
      dev.interrupts(2);
      dev.close();
    }
    expect(openFds()).toBe(before);
    expect(native().stats()).toMatchObject({ dmaMappings: 0, eventfds: 0 });
  });
});
