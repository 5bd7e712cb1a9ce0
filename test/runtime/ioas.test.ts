// DMA through a simulated iommufd IOAS (SimConfig.iommufd: a cdev bound to /dev/iommu). The answers
// are iommufd's, written out by hand from drivers/iommu/iommufd/ioas.c and io_pagetable.c (7.2),
// never read back from the code under test.
import { describe, expect, it } from 'vitest';
import type { Device } from '../../runtime/src/device.js';
import { native } from '../../runtime/src/native.js';
import { DEFAULT_SIM } from '../../runtime/src/sim-presets.js';
import { refusal, withSim } from './sim.js';
import { IommuIoasMap, IommuIoasUnmap, ioctlNumber, VfioIommuType1DmaMap } from '../../runtime/src/generated/vfio-subregion.js';

interface Memory { readonly buffer: ArrayBuffer }
const WA = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number; maximum: number }) => Memory } }).WebAssembly;
const IOAS_SIM = { ...DEFAULT_SIM, iommufd: true };
// errnos (asm-generic): EINVAL 22, EEXIST 17, ENOENT 2, EFAULT 14, EOPNOTSUPP 95, EOVERFLOW 75, ENOTTY 25
const E = { EINVAL: 22, EEXIST: 17, ENOENT: 2, EFAULT: 14, EOPNOTSUPP: 95, EOVERFLOW: 75, ENOTTY: 25 };

const withIoas = <T>(fn: (dev: Device) => T): T => withSim(fn, IOAS_SIM);

describe('the simulated iommufd IOAS', () => {
  it('is an iommufd handle whose IOMMU_IOAS_IOVA_RANGES gives the x86 holes and 4 KiB alignment', () => {
    withIoas((dev) => {
      const io = dev.iommu();
      expect(io.kind).toBe('iommufd');
      const info = io.info();
      expect(info.ranges).toEqual([{ start: 0n, end: 0xfedfffffn }, { start: 0xfef00000n, end: 0xffffffffffffn }]);
      expect(info.pageSize).toBe(0x1000n);
      expect(info.dmaAvailable).toBeNull();
    });
  });

  it('maps a Memory range and an allocBuffer: the device reads and writes through them; unmap faults again', () => {
    withIoas((dev) => {
      const mem = new WA.Memory({ initial: 2, maximum: 4 });
      const io = dev.iommu();
      const m = io.map(mem, { offset: 0x10000, length: 0x2000 });
      expect(m.iova).toBe(0x1000n);
      new Uint8Array(mem.buffer).set([1, 2, 3], 0x10100);
      expect(dev.simDmaRead(0x1100n, 3)).toEqual(new Uint8Array([1, 2, 3]));
      const buf = io.allocBuffer(0x1000);
      const b = io.map(buf, { write: false });
      expect(b.iova).toBe(0x3000n);
      new Uint8Array(buf)[5] = 0x77;
      expect(dev.simDmaRead(0x3005n, 1)).toEqual(new Uint8Array([0x77]));
      expect(dev.simDmaWrite(0x3005n, new Uint8Array([1]))).toBe(false); // READABLE only
      expect(dev.simDmaStats().dmaMappings).toBe(2);
      m.unmap();
      b.unmap();
      expect(dev.simDmaRead(0x1100n, 1)).toBeNull();
      expect(dev.simDmaStats().dmaMappings).toBe(0);
    });
  });

  it('refuses as iommufd does: unaligned EINVAL, overlapping EEXIST, outside the ranges EINVAL, nothing mapped ENOENT', () => {
    withIoas((dev) => {
      const io = dev.iommu();
      const buf = io.allocBuffer(0x4000);
      expect(refusal(() => io.map(buf, { iova: 0x10800n, length: 0x1000 })).errno).toBe(E.EINVAL);
      expect(refusal(() => io.map(buf, { offset: 0x800, length: 0x1000, iova: 0x10000n })).errno).toBe(E.EINVAL);
      io.map(buf, { iova: 0x10000n, length: 0x2000 });
      const e = refusal(() => io.map(buf, { iova: 0x11000n, length: 0x1000 }));
      expect([e.errno, e.operation]).toEqual([E.EEXIST, 'dmaMap']);
      expect(e.message).toContain('overlaps the mapping at [0x10000, +0x2000)');
      expect(refusal(() => io.map(buf, { iova: 0xfee00000n, length: 0x1000 })).errno).toBe(E.EINVAL);
      const h = native().iommuHandle(dev.handle);
      try {
        // nothing at 0x40000, and [0x10000, +0x1000) would split the mapping: both ENOENT
        expect(native().dmaUnmap(h, IommuIoasUnmap.encode({ ioas_id: 0, iova: 0x40000n, length: 0x1000n }))).toBe(-E.ENOENT);
        expect(native().dmaUnmap(h, IommuIoasUnmap.encode({ ioas_id: 0, iova: 0x10000n, length: 0x1000n }))).toBe(-E.ENOENT);
        // the raw ioctl: an address nothing vouched for is EFAULT, unknown flags EOPNOTSUPP, another IOAS ENOENT
        const MAP = ioctlNumber('IOMMU_IOAS_MAP', 'x86_64');
        const raw = (v: Partial<Parameters<typeof IommuIoasMap.encode>[0]>): number =>
          native().ioctl(h, MAP, IommuIoasMap.encode({ flags: 7, ioas_id: 2, __reserved: 0, user_va: 0x100000n, length: 0x1000n, iova: 0x80000n, ...v }));
        expect(raw({})).toBe(-E.EFAULT);
        expect(raw({ flags: 8 | 7 })).toBe(-E.EOPNOTSUPP);
        expect(raw({ ioas_id: 3 })).toBe(-E.ENOENT);
        expect(raw({ flags: 1 })).toBe(-E.EINVAL);
        // type1's ioctls are not an iommufd's
        expect(() => native().ioctl(h, ioctlNumber('VFIO_IOMMU_MAP_DMA', 'x86_64'), VfioIommuType1DmaMap.encode({ flags: 3, vaddr: 0n, iova: 0n, size: 0x1000n }))).toThrow(RangeError);
      } finally {
        native().close(h);
      }
    });
  });

  it('gives every DMA mapping back on close', () => {
    const before = native().stats();
    withIoas((dev) => {
      const io = dev.iommu();
      io.map(io.allocBuffer(0x2000));
      io.map(new WA.Memory({ initial: 1, maximum: 1 }));
      expect(native().stats().dmaMappings).toBe(before.dmaMappings + 2);
    });
    expect(native().stats().dmaMappings).toBe(before.dmaMappings);
  });
});
