// The native addon's fd surface against the simulated device: every call, every error, and the
// lifetime rules (munmap detaches, close tears everything down, nothing leaks).
import { mkdtempSync, openSync, closeSync, readFileSync, readSync, readdirSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { native, type NativeAddon } from '../../runtime/src/native.js';
import { hex, loadVectors } from '../vectors.js';
import {
  ATTR_WC, CAP_ATTRS, CAP_MSIX_MAPPABLE, CAP_SPARSE_MMAP, CAP_SUBREGION, CAP_TYPE, FEATURE_GET,
  FEATURE_PROBE, FEATURE_REGION_ATTRS, FEATURE_SET, FEATURE_SUBREGION, FLAG_CAPS, FLAG_MMAP,
  FLAG_READ, FLAG_WRITE, GENERIC_IOC, KiB, VFIO_DEVICE_FEATURE, VFIO_DEVICE_GET_INFO,
  VFIO_DEVICE_GET_IRQ_INFO, VFIO_DEVICE_GET_REGION_INFO, createSubregion, deviceInfo, expectErrno,
  feature, getRegionInfo, openFds, parseRegionInfo, regionAttrs, regionInfoBuf, regionOffset,
  standardConfig, subregionPayload, thrown, u32s, view, walkCaps,
} from './helpers.js';

let n: NativeAddon;
let shmDir: string;
let fd: number;

beforeAll(() => {
  n = native();
  shmDir = mkdtempSync(join(tmpdir(), 'vfio-native-test-'));
});
afterAll(() => rmSync(shmDir, { recursive: true, force: true }));

/** Each test gets a fresh device with its backing files in shmDir. */
beforeEach(() => {
  fd = n.simCreate(standardConfig({ shmDir }));
});
afterEach(() => {
  try {
    n.close(fd);
  } catch {
    /* the test closed it */
  }
});

const ps = () => BigInt(n.pageSize);
/** Lines of /proc/self/maps that map a backing file of this test's devices. */
const shmMaps = () => readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.includes(shmDir)).length;

describe.skipIf(!GENERIC_IOC)('native addon: simulated device', () => {
  it('exports the contract surface', () => {
    for (const f of ['open', 'openGroupDevice', 'openCdevDevice', 'ioctl', 'pread', 'pwrite', 'mmap', 'munmap', 'close', 'simCreate', 'simMappings', 'simBacking'] as const) {
      expect(typeof n[f], f).toBe('function');
    }
    expect(n.pageSize).toBeGreaterThanOrEqual(4096);
    expect(n.pageSize & (n.pageSize - 1)).toBe(0);
    expect(n.PROT_READ).toBe(1);
    expect(n.PROT_WRITE).toBe(2);
    expect(fd).toBeGreaterThan(2);
  });

  describe('VFIO_DEVICE_GET_INFO / GET_IRQ_INFO', () => {
    it('reports a vfio-pci device with its regions and irqs', () => {
      const b = u32s(20, 0, 0, 0, 0xffffffff);
      expect(n.ioctl(fd, VFIO_DEVICE_GET_INFO, b)).toBe(0);
      const dv = view(b);
      expect(dv.getUint32(0, true)).toBe(20);
      expect(dv.getUint32(4, true)).toBe(2); // VFIO_DEVICE_FLAGS_PCI
      expect(dv.getUint32(8, true)).toBe(9);
      expect(dv.getUint32(12, true)).toBe(5);
      expect(dv.getUint32(16, true)).toBe(0); // cap_offset
    });
    it('accepts the pre-cap_offset argsz (16) and leaves cap_offset alone, like the kernel', () => {
      const b = u32s(16, 0, 0, 0, 0x12345678);
      n.ioctl(fd, VFIO_DEVICE_GET_INFO, b);
      expect(view(b).getUint32(8, true)).toBe(9);
      expect(view(b).getUint32(16, true)).toBe(0x12345678);
    });
    it('refuses a short argsz (EINVAL) and a short buffer (EFAULT)', () => {
      expectErrno(() => n.ioctl(fd, VFIO_DEVICE_GET_INFO, u32s(15, 0, 0, 0, 0)), 'EINVAL', 'ioctl');
      expectErrno(() => n.ioctl(fd, VFIO_DEVICE_GET_INFO, new Uint8Array(8)), 'EFAULT', 'ioctl');
    });
    it('GET_IRQ_INFO answers per index and refuses one past the end', () => {
      const b = u32s(16, 0, 0, 0);
      n.ioctl(fd, VFIO_DEVICE_GET_IRQ_INFO, b);
      expect(view(b).getUint32(4, true) & 1).toBe(1); // EVENTFD
      expect(view(b).getUint32(12, true)).toBe(1);
      expectErrno(() => n.ioctl(fd, VFIO_DEVICE_GET_IRQ_INFO, u32s(16, 0, 5, 0)), 'EINVAL');
    });
    it('an unknown request is ENOTTY, with the message naming the call', () => {
      const e = thrown(() => n.ioctl(fd, 0x3b99, new Uint8Array(64)));
      expect(e.code).toBe('ENOTTY');
      expect(e.errno).toBe(25);
      expect(e.syscall).toBe('ioctl');
      expect(e.message).toBe(`ioctl(fd=${fd}, 0x3b99): ENOTTY (Inappropriate ioctl for device)`);
    });
    it('error messages name the fd and request', () => {
      const e = thrown(() => n.ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, regionInfoBuf(99)));
      expect(e.message).toBe(`ioctl(fd=${fd}, 0x3b6c): EINVAL (Invalid argument)`);
    });
  });

  describe('VFIO_DEVICE_GET_REGION_INFO', () => {
    it('describes each fixed region: size, flags, offset index << 40', () => {
      const expected: [number, bigint, number][] = [
        [0, 1024n * KiB, FLAG_READ | FLAG_WRITE | FLAG_MMAP],
        [1, 64n * KiB, FLAG_READ | FLAG_WRITE | FLAG_MMAP],
        [2, 64n * KiB, FLAG_READ | FLAG_WRITE | FLAG_MMAP | FLAG_CAPS],
        [3, 0n, 0],
        [4, 256n, FLAG_READ | FLAG_WRITE],
        [5, 16n * KiB, FLAG_READ | FLAG_MMAP | FLAG_CAPS],
        [6, 64n * KiB, FLAG_READ],
        [7, 256n, FLAG_READ | FLAG_WRITE],
        [8, 0n, 0],
      ];
      for (const [index, size, flags] of expected) {
        const { info } = getRegionInfo(n, fd, index);
        expect(info, `region ${index}`).toMatchObject({ index, size, flags, offset: regionOffset(index) });
      }
    });
    it('asks for a larger buffer when the chain does not fit, then returns it', () => {
      const b = regionInfoBuf(2, 32, 32);
      view(b).setUint32(12, 0xabcd, true);
      expect(n.ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, b)).toBe(0);
      const small = parseRegionInfo(b);
      expect(small.flags & FLAG_CAPS).toBe(FLAG_CAPS);
      expect(small.capOffset).toBe(0);
      // sparse: 16 + 2 * 16, msix: 8
      expect(small.argsz).toBe(32 + 48 + 8);
      const big = regionInfoBuf(2, small.argsz);
      n.ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, big);
      expect(parseRegionInfo(big).capOffset).toBe(32);
      const caps = walkCaps(big);
      expect(caps.map((c) => [c.id, c.version, c.at])).toEqual([[CAP_SPARSE_MMAP, 1, 32], [CAP_MSIX_MAPPABLE, 1, 80]]);
      const dv = view(big);
      expect(dv.getUint32(40, true)).toBe(2); // nr_areas
      expect([dv.getBigUint64(48, true), dv.getBigUint64(56, true), dv.getBigUint64(64, true), dv.getBigUint64(72, true)])
        .toEqual([0n, 16n * KiB, 32n * KiB, 32n * KiB]);
    });
    it('a larger argsz than needed leaves the bytes after the chain alone', () => {
      const b = regionInfoBuf(5, 128);
      b.fill(0xee, 32);
      n.ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, b);
      expect(parseRegionInfo(b).argsz).toBe(128);
      const caps = walkCaps(b);
      expect(caps.map((c) => c.id)).toEqual([CAP_TYPE]);
      expect([view(b).getUint32(40, true), view(b).getUint32(44, true)]).toEqual([0x8086, 3]);
      expect([...b.subarray(48)].every((x) => x === 0xee)).toBe(true);
    });
    it('refuses argsz < 32, a missing index and a short buffer', () => {
      expectErrno(() => n.ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, regionInfoBuf(0, 31, 32)), 'EINVAL');
      expectErrno(() => n.ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, regionInfoBuf(9)), 'EINVAL');
      expectErrno(() => n.ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, new Uint8Array(16)), 'EFAULT');
      // argsz promises more than the buffer holds and the chain would be written there
      const b = regionInfoBuf(2, 200, 40);
      expectErrno(() => n.ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, b), 'EFAULT');
    });
  });

  describe('VFIO_DEVICE_FEATURE', () => {
    const probe = (flags: number) => n.ioctl(fd, VFIO_DEVICE_FEATURE, feature(flags, new Uint8Array(0)));
    it('PROBE: SUBREGION supports SET, REGION_ATTRS GET and SET', () => {
      expect(probe(FEATURE_PROBE | FEATURE_SET | FEATURE_SUBREGION)).toBe(0);
      expectErrno(() => probe(FEATURE_PROBE | FEATURE_GET | FEATURE_SUBREGION), 'EINVAL');
      expect(probe(FEATURE_PROBE | FEATURE_GET | FEATURE_SET | FEATURE_REGION_ATTRS)).toBe(0);
      expect(probe(FEATURE_PROBE | FEATURE_GET | FEATURE_REGION_ATTRS)).toBe(0);
      expect(probe(FEATURE_PROBE | FEATURE_REGION_ATTRS)).toBe(0);
      expectErrno(() => probe(FEATURE_PROBE | FEATURE_SET | 99), 'ENOTTY');
    });
    it('core checks: argsz, unknown flags, GET|SET, no op', () => {
      expectErrno(() => n.ioctl(fd, VFIO_DEVICE_FEATURE, feature(FEATURE_GET | FEATURE_REGION_ATTRS, u32s(0, 0, 0, 0), 7)), 'EINVAL');
      expectErrno(() => probe(FEATURE_GET | FEATURE_REGION_ATTRS | (1 << 20)), 'EINVAL');
      expectErrno(() => probe(FEATURE_GET | FEATURE_SET | FEATURE_REGION_ATTRS), 'EINVAL');
      expectErrno(() => probe(FEATURE_REGION_ATTRS), 'EINVAL');
      expectErrno(() => n.ioctl(fd, VFIO_DEVICE_FEATURE, new Uint8Array(4)), 'EFAULT');
    });
    it('a payload shorter than the struct is EINVAL', () => {
      expectErrno(() => n.ioctl(fd, VFIO_DEVICE_FEATURE, feature(FEATURE_GET | FEATURE_REGION_ATTRS, u32s(0, 0, 0))), 'EINVAL');
      const sub = subregionPayload({ parent: 0, offset: 0n, size: ps(), attrs: 0 });
      expectErrno(() => n.ioctl(fd, VFIO_DEVICE_FEATURE, feature(FEATURE_SET | FEATURE_SUBREGION, sub.subarray(0, 28))), 'EINVAL');
    });
  });

  describe('subregions', () => {
    it('creates a WC window of BAR0 with the next index, described by REGION_INFO', () => {
      const idx = createSubregion(n, fd, 0, 64n * KiB, 64n * KiB, ATTR_WC);
      expect(idx).toBe(9);
      expect(deviceInfo(n, fd).numRegions).toBe(10);
      const { info, buf } = getRegionInfo(n, fd, idx);
      expect(info).toMatchObject({ index: 9, size: 64n * KiB, offset: regionOffset(9), capOffset: 32, argsz: 32 + 24 + 16 });
      expect(info.flags).toBe(FLAG_READ | FLAG_WRITE | FLAG_MMAP | FLAG_CAPS);
      const caps = walkCaps(buf);
      expect(caps.map((c) => c.id)).toEqual([CAP_SUBREGION, CAP_ATTRS]);
      const dv = view(buf);
      expect(dv.getUint32(40, true)).toBe(0); // parent_index
      expect(dv.getUint32(44, true)).toBe(0); // reserved
      expect(dv.getBigUint64(48, true)).toBe(64n * KiB);
      expect(dv.getUint32(56 + 8, true)).toBe(ATTR_WC);
      expect(regionAttrs(n, fd, idx)).toEqual({ attrs: ATTR_WC, supported: 0 });
      // a UC window has only the SUBREGION cap
      const uc = createSubregion(n, fd, 1, 0n, ps(), 0);
      expect(uc).toBe(10);
      expect(walkCaps(getRegionInfo(n, fd, uc).buf).map((c) => c.id)).toEqual([CAP_SUBREGION]);
    });
    it('refuses what the validators refuse, with their errnos', () => {
      const create = (parent: number, offset: bigint, size: bigint, attrs: number, flags = 0) =>
        n.ioctl(fd, VFIO_DEVICE_FEATURE, feature(FEATURE_SET | FEATURE_SUBREGION, subregionPayload({ flags, parent, offset, size, attrs })));
      expectErrno(() => create(0, 0n, ps(), 0, 1), 'EINVAL'); // flags
      expectErrno(() => create(0, 0n, ps(), 2), 'EINVAL'); // unknown attr
      expectErrno(() => create(42, 0n, ps(), 0), 'EINVAL'); // no parent
      expectErrno(() => create(6, 0n, ps(), 0), 'EINVAL'); // ROM: not mmap-able
      expectErrno(() => create(1, 0n, ps(), ATTR_WC), 'EOPNOTSUPP');
      expectErrno(() => create(0, 0n, 0n, 0), 'EINVAL');
      expectErrno(() => create(0, 1n, ps(), 0), 'EINVAL');
      expectErrno(() => create(0, 0n, ps() + 1n, 0), 'EINVAL');
      expectErrno(() => create(0, 1024n * KiB, ps(), 0), 'EINVAL');
      expectErrno(() => create(0, ps(), 0xffffffffffffffffn - ps() + 1n, 0), 'EINVAL'); // overflow
      const sub = createSubregion(n, fd, 0, 0n, ps(), 0);
      expectErrno(() => create(sub, 0n, ps(), 0), 'EINVAL'); // parent is a subregion
      for (let i = 1; i < 4; i++) createSubregion(n, fd, 0, 0n, ps(), 0);
      expectErrno(() => create(0, 0n, ps(), 0), 'ENOSPC');
      expect(deviceInfo(n, fd).numRegions).toBe(13);
    });
    it('a device may claim unknown attribute bits; requests carrying them are still EINVAL', () => {
      const cfg = standardConfig({ shmDir });
      cfg.regions[1] = { ...cfg.regions[1]!, supportedAttrs: 3 };
      const dev = n.simCreate(cfg);
      try {
        expect(regionAttrs(n, dev, 1)).toEqual({ attrs: 0, supported: 3 });
        const req = feature(FEATURE_SET | FEATURE_SUBREGION, subregionPayload({ parent: 1, offset: 0n, size: ps(), attrs: 2 }));
        expectErrno(() => n.ioctl(dev, VFIO_DEVICE_FEATURE, req), 'EINVAL');
        expect(createSubregion(n, dev, 1, 0n, ps(), ATTR_WC)).toBe(9);
      } finally {
        n.close(dev);
      }
    });
    it('REGION_ATTRS: GET, SET before mapping, EBUSY while mapped, EINVAL on a subregion', () => {
      expect(regionAttrs(n, fd, 0)).toEqual({ attrs: 0, supported: ATTR_WC });
      expect(regionAttrs(n, fd, 4)).toEqual({ attrs: 0, supported: 0 });
      const set = (index: number, attrs: number, supported = 0) =>
        n.ioctl(fd, VFIO_DEVICE_FEATURE, feature(FEATURE_SET | FEATURE_REGION_ATTRS, u32s(0, index, attrs, supported)));
      expect(set(0, ATTR_WC)).toBe(0);
      expect(regionAttrs(n, fd, 0).attrs).toBe(ATTR_WC);
      // BAR0 now reports CAPS with an ATTRS cap
      const { info, buf } = getRegionInfo(n, fd, 0);
      expect(info.flags & FLAG_CAPS).toBe(FLAG_CAPS);
      expect(walkCaps(buf).map((c) => c.id)).toEqual([CAP_ATTRS]);
      const m = n.mmap(fd, regionOffset(0), n.pageSize, n.PROT_READ);
      expect(n.simMappings(fd)[0]!.attrs).toBe(ATTR_WC);
      expectErrno(() => set(0, 0), 'EBUSY');
      n.munmap(m.id);
      expect(set(0, 0)).toBe(0);
      expect(getRegionInfo(n, fd, 0).info.flags & FLAG_CAPS).toBe(0);
      expectErrno(() => set(1, ATTR_WC), 'EOPNOTSUPP');
      expectErrno(() => set(6, 0), 'EINVAL');
      expectErrno(() => set(0, 0, 1), 'EINVAL');
      expectErrno(() => set(99, 0), 'EINVAL');
      const sub = createSubregion(n, fd, 0, 0n, ps(), ATTR_WC);
      expectErrno(() => set(sub, 0), 'EINVAL');
      expectErrno(() => n.ioctl(fd, VFIO_DEVICE_FEATURE, feature(FEATURE_GET | FEATURE_REGION_ATTRS, u32s(1, 0, 0, 0))), 'EINVAL');
      expectErrno(() => n.ioctl(fd, VFIO_DEVICE_FEATURE, feature(FEATURE_GET | FEATURE_REGION_ATTRS, u32s(0, 99, 0, 0))), 'EINVAL');
    });
  });

  describe('pread / pwrite', () => {
    it('round-trips BAR memory, I/O ports and config space', () => {
      for (const [index, off] of [[0, 0x1234n], [4, 0x10n], [7, 0x40n]] as const) {
        const data = Uint8Array.from({ length: 16 }, (_, i) => i * 7 + index);
        expect(n.pwrite(fd, data, regionOffset(index) + off)).toBe(16);
        const back = new Uint8Array(16);
        expect(n.pread(fd, back, regionOffset(index) + off)).toBe(16);
        expect(back).toEqual(data);
      }
    });
    it('large I/O and memory regions cost nothing until written (sparse backing files)', () => {
      const cfg = standardConfig({ shmDir });
      cfg.regions[4] = { ...cfg.regions[4]!, size: 1n << 32n };
      cfg.regions[0] = { ...cfg.regions[0]!, size: 1n << 36n };
      const dev = n.simCreate(cfg);
      try {
        expect(n.pwrite(dev, Uint8Array.of(0x11, 0x22), regionOffset(4) + (1n << 32n) - 2n)).toBe(2);
        const b = new Uint8Array(4);
        expect(n.pread(dev, b, regionOffset(4) + (1n << 32n) - 2n)).toBe(2);
        expect([...b]).toEqual([0x11, 0x22, 0, 0]);
        const m = n.mmap(dev, regionOffset(0) + (1n << 36n) - ps(), n.pageSize, n.PROT_READ | n.PROT_WRITE);
        new Uint8Array(m.buffer)[n.pageSize - 1] = 0x33;
        n.pread(dev, b.subarray(0, 1), regionOffset(0) + (1n << 36n) - 1n);
        expect(b[0]).toBe(0x33);
      } finally {
        n.close(dev);
      }
    });
    it('clips at the region end and refuses a start at or past it', () => {
      expect(n.pread(fd, new Uint8Array(64), regionOffset(7) + 240n)).toBe(16);
      expectErrno(() => n.pread(fd, new Uint8Array(1), regionOffset(7) + 256n), 'EINVAL', 'pread');
      expectErrno(() => n.pwrite(fd, new Uint8Array(1), regionOffset(0) + 1024n * KiB), 'EINVAL', 'pwrite');
      expectErrno(() => n.pread(fd, new Uint8Array(1), regionOffset(3)), 'EINVAL'); // unimplemented BAR
      expectErrno(() => n.pread(fd, new Uint8Array(1), regionOffset(50)), 'EINVAL');
      expectErrno(() => n.pread(fd, new Uint8Array(1), 0xffffffffffffffffn), 'EINVAL');
    });
    it('refuses a write to a read-only region', () => {
      expectErrno(() => n.pwrite(fd, new Uint8Array(4), regionOffset(6)), 'EINVAL', 'pwrite');
      expectErrno(() => n.pwrite(fd, new Uint8Array(4), regionOffset(5)), 'EINVAL', 'pwrite');
      expect(n.pread(fd, new Uint8Array(4), regionOffset(6))).toBe(4);
    });
    it('a subregion reads and writes its parent at its offset', () => {
      const sub = createSubregion(n, fd, 0, 128n * KiB, 64n * KiB, ATTR_WC);
      n.pwrite(fd, Uint8Array.of(1, 2, 3, 4), regionOffset(0) + 128n * KiB + 8n);
      const b = new Uint8Array(4);
      n.pread(fd, b, regionOffset(sub) + 8n);
      expect([...b]).toEqual([1, 2, 3, 4]);
      n.pwrite(fd, Uint8Array.of(9, 9), regionOffset(sub) + 64n * KiB - 2n);
      n.pread(fd, b, regionOffset(0) + 192n * KiB - 2n);
      expect([...b]).toEqual([9, 9, 0, 0]);
      expectErrno(() => n.pread(fd, b, regionOffset(sub) + 64n * KiB), 'EINVAL');
    });
  });

  describe('mmap', () => {
    it('maps BAR memory: writes show in pread and in the backing file', () => {
      const m = n.mmap(fd, regionOffset(0) + ps(), 2 * n.pageSize, n.PROT_READ | n.PROT_WRITE);
      expect(m.buffer.byteLength).toBe(2 * n.pageSize);
      expect(typeof m.address).toBe('bigint');
      const u8 = new Uint8Array(m.buffer);
      u8.set([0xde, 0xad, 0xbe, 0xef], 16);
      const b = new Uint8Array(4);
      n.pread(fd, b, regionOffset(0) + ps() + 16n);
      expect([...b]).toEqual([0xde, 0xad, 0xbe, 0xef]);
      // and the other way round
      n.pwrite(fd, Uint8Array.of(7), regionOffset(0) + ps() + 100n);
      expect(u8[100]).toBe(7);
      const back = n.simBacking(fd, 0)!;
      expect(back.path.startsWith(shmDir + '/')).toBe(true);
      expect(back).toMatchObject({ offset: 0n, size: 1024n * KiB });
      const f = openSync(back.path, 'r');
      const fb = Buffer.alloc(4);
      readSync(f, fb, 0, 4, n.pageSize + 16);
      closeSync(f);
      expect([...fb]).toEqual([0xde, 0xad, 0xbe, 0xef]);
      n.munmap(m.id);
    });
    it('a WC subregion mapping sees the parent bytes at its offset; attrs per mapping', () => {
      const sub = createSubregion(n, fd, 0, 256n * KiB, 64n * KiB, ATTR_WC);
      const bar = n.mmap(fd, regionOffset(0), 256 * 1024, n.PROT_READ | n.PROT_WRITE);
      const win = n.mmap(fd, regionOffset(sub) + ps(), n.pageSize, n.PROT_READ | n.PROT_WRITE);
      const winU8 = new Uint8Array(win.buffer);
      n.pwrite(fd, Uint8Array.of(0x5a), regionOffset(0) + 256n * KiB + ps() + 5n);
      expect(winU8[5]).toBe(0x5a);
      winU8[6] = 0xa5;
      const b = new Uint8Array(1);
      n.pread(fd, b, regionOffset(0) + 256n * KiB + ps() + 6n);
      expect(b[0]).toBe(0xa5);
      const maps = n.simMappings(fd);
      expect(maps).toHaveLength(2);
      expect(maps[0]).toEqual({ index: 0, offset: 0n, length: 256 * 1024, attrs: 0, prot: 3, address: bar.address });
      expect(maps[1]).toEqual({ index: sub, offset: ps(), length: n.pageSize, attrs: ATTR_WC, prot: 3, address: win.address });
      expect(n.simBacking(fd, sub)).toEqual({ path: n.simBacking(fd, 0)!.path, offset: 256n * KiB, size: 64n * KiB });
      n.munmap(win.id);
      n.munmap(bar.id);
      expect(n.simMappings(fd)).toEqual([]);
    });
    it('munmap detaches the ArrayBuffer; a second munmap is EINVAL', () => {
      const m = n.mmap(fd, regionOffset(1), n.pageSize, n.PROT_READ | n.PROT_WRITE);
      const u8 = new Uint8Array(m.buffer);
      u8[0] = 1;
      n.munmap(m.id);
      expect(m.buffer.byteLength).toBe(0);
      expect(u8.length).toBe(0);
      expect(u8[0]).toBeUndefined();
      expectErrno(() => n.munmap(m.id), 'EINVAL', 'munmap');
      // the same address may come back: the new buffer works
      const m2 = n.mmap(fd, regionOffset(1), n.pageSize, n.PROT_READ);
      expect(new Uint8Array(m2.buffer)[0]).toBe(1);
      n.munmap(m2.id);
    });
    it('refuses non-mmap regions, ranges past the end, unaligned offsets and wrong prot', () => {
      const rw = n.PROT_READ | n.PROT_WRITE;
      expectErrno(() => n.mmap(fd, regionOffset(6), n.pageSize, n.PROT_READ), 'EINVAL', 'mmap'); // ROM
      expectErrno(() => n.mmap(fd, regionOffset(7), n.pageSize, rw), 'EINVAL'); // config
      expectErrno(() => n.mmap(fd, regionOffset(4), n.pageSize, rw), 'EINVAL'); // io
      expectErrno(() => n.mmap(fd, regionOffset(3), n.pageSize, rw), 'EINVAL'); // none
      expectErrno(() => n.mmap(fd, regionOffset(1), 64 * 1024 + 1, rw), 'EINVAL');
      expectErrno(() => n.mmap(fd, regionOffset(1) + 64n * KiB, n.pageSize, rw), 'EINVAL');
      expectErrno(() => n.mmap(fd, regionOffset(1) + 60n * KiB, 8 * 1024, rw), 'EINVAL');
      expectErrno(() => n.mmap(fd, regionOffset(1) + 16n, n.pageSize, rw), 'EINVAL');
      expectErrno(() => n.mmap(fd, regionOffset(5), n.pageSize, rw), 'EINVAL'); // read-only BAR
      expectErrno(() => n.mmap(fd, regionOffset(42), n.pageSize, rw), 'EINVAL');
      expect(n.simMappings(fd)).toEqual([]);
      const ro = n.mmap(fd, regionOffset(5), n.pageSize, n.PROT_READ);
      n.munmap(ro.id);
    });
    it('one memory type per page: an uncached map over a mapped WC window is EBUSY, naming the rule, and maps nothing', () => {
      const rw = n.PROT_READ | n.PROT_WRITE;
      const sub = createSubregion(n, fd, 0, 256n * KiB, 64n * KiB, ATTR_WC);
      const win = n.mmap(fd, regionOffset(sub) + ps(), n.pageSize, rw);
      const e = thrown(() => n.mmap(fd, regionOffset(0), 1024 * 1024, rw));
      expect({ code: e.code, rule: (e as { rule?: string }).rule, syscall: e.syscall }).toEqual({ code: 'EBUSY', rule: 'one-memtype-per-page', syscall: 'mmap' });
      expect(e.message).toMatch(/EBUSY \(Device or resource busy\): rule one-memtype-per-page$/);
      expect(n.simMappings(fd)).toHaveLength(1);
      // the same pages through a UC window: refused too; the pages next to the mapped one: fine
      const uc = createSubregion(n, fd, 0, 256n * KiB, 64n * KiB, 0);
      expectErrno(() => n.mmap(fd, regionOffset(uc) + ps(), n.pageSize, rw), 'EBUSY', 'mmap');
      n.munmap(n.mmap(fd, regionOffset(uc), n.pageSize, rw).id);
      n.munmap(n.mmap(fd, regionOffset(uc) + 2n * ps(), n.pageSize, rw).id);
      n.munmap(win.id);
      n.munmap(n.mmap(fd, regionOffset(0), 1024 * 1024, rw).id);
    });
    it('errors name the validator rule that refused a feature request; other errors name none', () => {
      const e = thrown(() => n.ioctl(fd, VFIO_DEVICE_FEATURE, feature(FEATURE_SET | FEATURE_SUBREGION, subregionPayload({ parent: 0, offset: 1024n * KiB, size: ps(), attrs: 0 }))));
      expect({ code: e.code, rule: (e as { rule?: string }).rule }).toEqual({ code: 'EINVAL', rule: 'within-parent' });
      const m = n.mmap(fd, regionOffset(0), n.pageSize, n.PROT_READ);
      const busy = thrown(() => n.ioctl(fd, VFIO_DEVICE_FEATURE, feature(FEATURE_SET | FEATURE_REGION_ATTRS, u32s(0, 0, ATTR_WC, 0))));
      expect({ code: busy.code, rule: (busy as { rule?: string }).rule }).toEqual({ code: 'EBUSY', rule: 'not-mapped' });
      n.munmap(m.id);
      expect('rule' in thrown(() => n.mmap(fd, regionOffset(6), n.pageSize, n.PROT_READ))).toBe(false);
      expect('rule' in thrown(() => n.ioctl(fd, 0x3b99, new Uint8Array(8)))).toBe(false);
    });
    it.skipIf(native().pageSize !== 4096)('a window of a sparse BAR reports its own SPARSE_MMAP, byte for byte as the capchain vectors say', () => {
      const rw = n.PROT_READ | n.PROT_WRITE;
      const cases = loadVectors().capchain;
      const straddling = createSubregion(n, fd, 2, 8n * KiB, 32n * KiB, 0);
      const inHole = createSubregion(n, fd, 2, 16n * KiB, 16n * KiB, 0);
      for (const [name, index] of [['subregion-of-sparse-bar', straddling], ['subregion-inside-sparse-hole', inHole]] as const) {
        const c = cases.find((x) => x.name === name)!;
        const buf = regionInfoBuf(index, c.buffer.length / 2);
        n.ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, buf);
        expect(hex(buf), name).toBe(c.buffer);
      }
      // mmap of a window follows its areas, exactly as on the parent
      n.munmap(n.mmap(fd, regionOffset(straddling), 8 * 1024, rw).id);
      n.munmap(n.mmap(fd, regionOffset(straddling) + 24n * KiB, 8 * 1024, rw).id);
      expectErrno(() => n.mmap(fd, regionOffset(straddling) + 8n * KiB, n.pageSize, rw), 'EINVAL');
      expectErrno(() => n.mmap(fd, regionOffset(straddling), 16 * 1024, rw), 'EINVAL');
      expectErrno(() => n.mmap(fd, regionOffset(inHole), n.pageSize, rw), 'EINVAL');
      expectErrno(() => n.mmap(fd, regionOffset(2) + 16n * KiB, n.pageSize, rw), 'EINVAL');
    });
    it('respects sparse areas, for the region and for windows of it', () => {
      const rw = n.PROT_READ | n.PROT_WRITE;
      n.munmap(n.mmap(fd, regionOffset(2), 16 * 1024, rw).id);
      n.munmap(n.mmap(fd, regionOffset(2) + 32n * KiB, 32 * 1024, rw).id);
      expectErrno(() => n.mmap(fd, regionOffset(2) + 16n * KiB, n.pageSize, rw), 'EINVAL');
      expectErrno(() => n.mmap(fd, regionOffset(2), 32 * 1024, rw), 'EINVAL');
      const sub = createSubregion(n, fd, 2, 0n, 64n * KiB, 0);
      n.munmap(n.mmap(fd, regionOffset(sub), n.pageSize, rw).id);
      expectErrno(() => n.mmap(fd, regionOffset(sub) + 16n * KiB, n.pageSize, rw), 'EINVAL');
    });
  });

  describe('argument checking', () => {
    const good = () => expect(deviceInfo(n, fd).numRegions).toBe(9);
    const cases: [string, 'TypeError' | 'RangeError', () => unknown][] = [
      ['fd string', 'TypeError', () => n.ioctl('3' as unknown as number, VFIO_DEVICE_GET_INFO, new Uint8Array(20))],
      ['fd negative', 'RangeError', () => n.ioctl(-1, VFIO_DEVICE_GET_INFO, new Uint8Array(20))],
      ['fd NaN', 'RangeError', () => n.pread(NaN, new Uint8Array(1), 0n)],
      ['fd fraction', 'RangeError', () => n.close(1.5)],
      ['fd > int32', 'RangeError', () => n.close(2 ** 31)],
      ['fd bigint', 'TypeError', () => n.close(3n as unknown as number)],
      ['request negative', 'RangeError', () => n.ioctl(fd, -1, new Uint8Array(20))],
      ['request > u32', 'RangeError', () => n.ioctl(fd, 2 ** 32, new Uint8Array(20))],
      ['arg not Uint8Array', 'TypeError', () => n.ioctl(fd, VFIO_DEVICE_GET_INFO, new Uint16Array(10) as unknown as Uint8Array)],
      ['arg ArrayBuffer', 'TypeError', () => n.ioctl(fd, VFIO_DEVICE_GET_INFO, new ArrayBuffer(20) as unknown as Uint8Array)],
      ['arg missing', 'TypeError', () => (n.ioctl as unknown as (a: number, b: number) => number)(fd, VFIO_DEVICE_GET_INFO)],
      ['offset number', 'TypeError', () => n.pread(fd, new Uint8Array(1), 0 as unknown as bigint)],
      ['offset negative', 'RangeError', () => n.pread(fd, new Uint8Array(1), -1n)],
      ['offset 2^64', 'RangeError', () => n.pwrite(fd, new Uint8Array(1), 2n ** 64n)],
      ['offset string', 'TypeError', () => n.mmap(fd, '0' as unknown as bigint, 4096, 1)],
      ['length 0', 'RangeError', () => n.mmap(fd, 0n, 0, 1)],
      ['length negative', 'RangeError', () => n.mmap(fd, 0n, -4096, 1)],
      ['length NaN', 'RangeError', () => n.mmap(fd, 0n, NaN, 1)],
      ['length unsafe', 'RangeError', () => n.mmap(fd, 0n, 2 ** 53, 1)],
      ['length bigint', 'TypeError', () => n.mmap(fd, 0n, 4096n as unknown as number, 1)],
      ['prot write-only', 'RangeError', () => n.mmap(fd, 0n, 4096, 2)],
      ['prot none', 'RangeError', () => n.mmap(fd, 0n, 4096, 0)],
      ['prot string', 'TypeError', () => n.mmap(fd, 0n, 4096, 'r' as unknown as number)],
      ['munmap id string', 'TypeError', () => n.munmap('1' as unknown as number)],
      ['munmap id negative', 'RangeError', () => n.munmap(-1)],
      ['buf string', 'TypeError', () => n.pwrite(fd, 'abc' as unknown as Uint8Array, 0n)],
      ['open path number', 'TypeError', () => n.open(1 as unknown as string)],
      ['open path NUL', 'RangeError', () => n.open('/dev/null\0x')],
      ['openGroupDevice name', 'TypeError', () => n.openGroupDevice('/dev/null', '/dev/null', undefined as unknown as string)],
      ['openCdevDevice path', 'TypeError', () => n.openCdevDevice(null as unknown as string, '/dev/iommu')],
      ['simBacking index', 'RangeError', () => n.simBacking(fd, -1)],
      ['simMappings fd', 'TypeError', () => n.simMappings(undefined as unknown as number)],
      ['simCreate config', 'TypeError', () => n.simCreate(null as unknown as ReturnType<typeof standardConfig>)],
      ['simCreate regions', 'TypeError', () => n.simCreate({ ...standardConfig(), regions: {} as never })],
      ['simCreate size number', 'TypeError', () => n.simCreate({ ...standardConfig(), regions: [{ ...standardConfig().regions[0]!, size: 4096 as unknown as bigint }] })],
      ['simCreate kind', 'RangeError', () => n.simCreate({ ...standardConfig(), regions: [{ ...standardConfig().regions[0]!, kind: 'rom' as 'io' }] })],
      ['simCreate mmap io', 'RangeError', () => n.simCreate({ ...standardConfig(), regions: [{ ...standardConfig().regions[4]!, mmap: true }] })],
      ['simCreate sparse outside', 'RangeError', () => n.simCreate({ ...standardConfig(), regions: [{ ...standardConfig().regions[1]!, sparse: [{ offset: 0n, size: 1n << 20n }] }] })],
      ['simCreate readable', 'TypeError', () => n.simCreate({ ...standardConfig(), regions: [{ ...standardConfig().regions[1]!, readable: 1 as unknown as boolean }] })],
      ['simCreate numIrqs', 'RangeError', () => n.simCreate({ ...standardConfig(), numIrqs: -1 })],
      ['simCreate attrs', 'RangeError', () => n.simCreate({ ...standardConfig(), regions: [{ ...standardConfig().regions[0]!, supportedAttrs: 2 ** 32 }] })],
    ];
    it.each(cases)('%s → %s, and the device stays usable', (_name, kind, fn) => {
      const before = openFds();
      const e = thrown(fn);
      expect(e.constructor.name, e.message).toBe(kind);
      expect(e.message.length).toBeGreaterThan(0);
      expect(openFds()).toBe(before);
      good();
    });
    it('an argsz larger than the buffer never reaches the kernel', () => {
      const f = n.open('/dev/null');
      try {
        expect(thrown(() => n.ioctl(f, VFIO_DEVICE_GET_REGION_INFO, regionInfoBuf(0, 4096, 32))).constructor).toBe(RangeError);
        expect(thrown(() => n.ioctl(f, VFIO_DEVICE_GET_REGION_INFO, new Uint8Array(2))).constructor).toBe(RangeError);
        expectErrno(() => n.ioctl(f, VFIO_DEVICE_GET_REGION_INFO, regionInfoBuf(0)), 'ENOTTY');
      } finally {
        n.close(f);
      }
    });
    it('messages name the argument', () => {
      expect(thrown(() => n.pread(fd, new Uint8Array(1), -1n)).message).toMatch(/offset/);
      expect(thrown(() => n.ioctl(-1, 0, new Uint8Array(1))).message).toMatch(/fd/);
      expect(thrown(() => n.mmap(fd, 0n, 0, 1)).message).toMatch(/length/);
      expect(thrown(() => n.ioctl(fd, 0, 'x' as unknown as Uint8Array)).message).toMatch(/arg/);
    });
  });

  describe('lifetime', () => {
    it('close tears down mappings (detached), regions and backing files; double close and use after close are EBADF', () => {
      const before = openFds();
      const filesBefore = readdirSync(shmDir).length;
      const dev = n.simCreate(standardConfig({ shmDir }));
      expect(readdirSync(shmDir).length).toBe(filesBefore + 7); // every implemented region: BAR0, 1, 2, 4, 5, ROM, config
      const sub = createSubregion(n, dev, 0, ps(), ps(), ATTR_WC);
      const m1 = n.mmap(dev, regionOffset(0), n.pageSize, n.PROT_READ | n.PROT_WRITE);
      const m2 = n.mmap(dev, regionOffset(sub), n.pageSize, n.PROT_READ | n.PROT_WRITE);
      expect(shmMaps()).toBe(2);
      new Uint8Array(m1.buffer)[0] = 1;
      const backing = n.simBacking(dev, 0)!.path;
      expect(existsSync(backing)).toBe(true);
      n.close(dev);
      expect(m1.buffer.byteLength).toBe(0);
      expect(m2.buffer.byteLength).toBe(0);
      expect(existsSync(backing)).toBe(false);
      expect(readdirSync(shmDir).length).toBe(filesBefore);
      expect(openFds()).toBe(before);
      expect(shmMaps()).toBe(0);
      expectErrno(() => n.close(dev), 'EBADF', 'close');
      expectErrno(() => n.ioctl(dev, VFIO_DEVICE_GET_INFO, u32s(20, 0, 0, 0, 0)), 'EBADF', 'ioctl');
      expectErrno(() => n.pread(dev, new Uint8Array(1), 0n), 'EBADF', 'pread');
      expectErrno(() => n.mmap(dev, 0n, n.pageSize, n.PROT_READ), 'EBADF', 'mmap');
      expectErrno(() => n.munmap(m1.id), 'EINVAL', 'munmap');
      expectErrno(() => n.simMappings(dev), 'EBADF');
      expectErrno(() => n.simBacking(dev, 0), 'EBADF');
    });
    it('many devices and mappings come and go without leaking fds or files', () => {
      const before = openFds();
      const filesBefore = readdirSync(shmDir).length;
      for (let i = 0; i < 20; i++) {
        const dev = n.simCreate(standardConfig({ shmDir }));
        for (let k = 0; k < 4; k++) n.mmap(dev, regionOffset(0) + BigInt(k) * ps(), n.pageSize, n.PROT_READ);
        n.close(dev);
      }
      expect(openFds()).toBe(before);
      expect(readdirSync(shmDir).length).toBe(filesBefore);
    });
    it('defaults the backing directory to /dev/shm', () => {
      const dev = n.simCreate(standardConfig());
      try {
        expect(n.simBacking(dev, 0)!.path).toMatch(/^\/dev\/shm\/vfio-sim-/);
        expect(n.simBacking(dev, 7)).toBeNull(); // config space: not memory
        expect(n.simBacking(dev, 99)).toBeNull();
      } finally {
        n.close(dev);
      }
    });
    it('a missing shmDir is an errno error and leaks nothing', () => {
      const before = openFds();
      expectErrno(() => n.simCreate(standardConfig({ shmDir: join(shmDir, 'missing') })), 'ENOENT');
      expect(openFds()).toBe(before);
    });
    it('simMappings and simBacking refuse a fd that is not a simulated device', () => {
      const f = n.open('/dev/null');
      try {
        expectErrno(() => n.simMappings(f), 'EBADF', 'simMappings');
      } finally {
        n.close(f);
      }
    });
  });
});

describe('native addon: kernel fds', () => {
  let dir: string;
  beforeAll(() => {
    n ??= native();
    dir = mkdtempSync(join(tmpdir(), 'vfio-native-kfd-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('open, pwrite, pread, mmap and close a regular file', () => {
    const p = join(dir, 'f');
    writeFileSync(p, Buffer.alloc(2 * n.pageSize));
    const f = n.open(p);
    try {
      expect(n.pwrite(f, Uint8Array.of(1, 2, 3), BigInt(n.pageSize) + 1n)).toBe(3);
      const b = new Uint8Array(3);
      expect(n.pread(f, b, BigInt(n.pageSize) + 1n)).toBe(3);
      expect([...b]).toEqual([1, 2, 3]);
      const m = n.mmap(f, BigInt(n.pageSize), n.pageSize, n.PROT_READ | n.PROT_WRITE);
      expect(new Uint8Array(m.buffer)[2]).toBe(2);
      new Uint8Array(m.buffer)[0] = 9;
      n.pread(f, b, BigInt(n.pageSize));
      expect(b[0]).toBe(9);
      n.munmap(m.id);
      expect(m.buffer.byteLength).toBe(0);
      expectErrno(() => n.pread(f, b, 1n << 63n), 'EINVAL', 'pread');
      expectErrno(() => n.mmap(f, 1n, n.pageSize, n.PROT_READ), 'EINVAL', 'mmap');
    } finally {
      n.close(f);
    }
    expectErrno(() => n.close(f), 'EBADF');
  });
  it('open of a missing file is ENOENT with code, errno, syscall and the path', () => {
    const e = thrown(() => n.open('/nonexistent/vfio'));
    expect(e).toMatchObject({ code: 'ENOENT', errno: 2, syscall: 'open' });
    expect(e.message).toBe('open(/nonexistent/vfio): ENOENT (No such file or directory)');
  });
  it('openGroupDevice fails cleanly at each step and closes what it opened', () => {
    const before = openFds();
    expectErrno(() => n.openGroupDevice('/nonexistent/vfio', '/dev/null', 'x'), 'ENOENT', 'open');
    // /dev/null answers VFIO_GET_API_VERSION with ENOTTY
    const e = thrown(() => n.openGroupDevice('/dev/null', '/dev/null', '0000:00:00.0'));
    expect(e.code).toBe('ENOTTY');
    expect(e.message).toMatch(/VFIO_GET_API_VERSION/);
    expect(openFds()).toBe(before);
  });
  it('openCdevDevice fails cleanly and closes what it opened', () => {
    const before = openFds();
    expectErrno(() => n.openCdevDevice('/nonexistent/vfio0', '/dev/null'), 'ENOENT', 'open');
    expectErrno(() => n.openCdevDevice('/dev/null', '/nonexistent/iommu'), 'ENOENT', 'open');
    const e = thrown(() => n.openCdevDevice('/dev/null', '/dev/null'));
    expect(e.code).toBe('ENOTTY');
    expect(e.message).toMatch(/VFIO_DEVICE_BIND_IOMMUFD/);
    expect(openFds()).toBe(before);
  });
  it.skipIf(!existsSync('/dev/vfio/vfio'))('opens /dev/vfio/vfio', () => {
    try {
      n.close(n.open('/dev/vfio/vfio'));
    } catch (e) {
      expect((e as { code?: string }).code).toMatch(/EACCES|EPERM/);
    }
  });
});
