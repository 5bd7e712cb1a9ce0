// The native addon's handle surface against the simulated device and kernel fds: every call, every
// refusal (a negative errno, or a TypeError/RangeError naming the argument), and the lifetime rules
// (munmap and close revoke in place and detach, dropped handles are released by the collector,
// nothing leaks). Expected errnos come from os.constants.errno, never from the addon. Whatever would
// kill the process if the addon got it wrong runs in a child process.
import { spawnSync } from 'node:child_process';
import {
  closeSync, existsSync, ftruncateSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, readlinkSync, rmSync, statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ROOT } from '../../codegen/paths.js';
import { native, type DeviceHandle, type MappingHandle, type NativeAddon } from '../../runtime/src/native.js';
import { hex, loadVectors } from '../vectors.js';
import {
  ATTR_WC, CAP_ATTRS, CAP_MSIX_MAPPABLE, CAP_SPARSE_MMAP, CAP_SUBREGION, CAP_TYPE, FEATURE_GET,
  FEATURE_PROBE, FEATURE_REGION_ATTRS, FEATURE_SET, FEATURE_SUBREGION, FLAG_CAPS, FLAG_MMAP,
  FLAG_READ, FLAG_WRITE, GENERIC_IOC, KiB, VFIO_DEVICE_FEATURE, VFIO_DEVICE_GET_INFO,
  VFIO_DEVICE_GET_REGION_INFO, VFIO_GET_API_VERSION, createSubregion, deviceInfo, expectArgError, expectErrno,
  feature, getRegionInfo, mapped, neg, openFds, parseRegionInfo, regionAttrs, regionInfoBuf, regionOffset,
  standardConfig, subregionPayload, thrown, u32s, view, walkCaps,
} from './helpers.js';

const ADDON = resolve(ROOT, 'native/build/Release/vfio_native.node');
const FIONREAD = 0x541b;

let n: NativeAddon;
let shmDir: string;
let dev: DeviceHandle;

beforeAll(() => {
  n = native();
  // the contract's shmDir is a tmpfs: /dev/shm where there is one
  shmDir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'vfio-native-test-'));
});
afterAll(() => rmSync(shmDir, { recursive: true, force: true }));

/** Each test gets a fresh device with its memory in shmDir (unnamed O_TMPFILE files). */
beforeEach(() => {
  dev = n.simCreate(standardConfig({ shmDir }));
});
afterEach(() => n.close(dev));

const ps = () => BigInt(n.pageSize);
const rw = () => n.PROT_READ | n.PROT_WRITE;

/** Lines of /proc/self/maps that map memory of this test's shmDir devices. */
const shmMaps = () => readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.includes(shmDir)).length;
/** The /proc/self/maps line covering `address`, if any. */
function mapsLine(address: bigint): string | undefined {
  return readFileSync('/proc/self/maps', 'utf8').split('\n').find((l) => {
    const m = /^([0-9a-f]+)-([0-9a-f]+) /.exec(l);
    return m !== null && BigInt(`0x${m[1]}`) <= address && address < BigInt(`0x${m[2]}`);
  });
}

/** The lib here has no WebAssembly typings: just what these tests use. */
interface Memory { readonly buffer: ArrayBuffer }
const WA = (globalThis as unknown as { WebAssembly: { Memory: { new (d: { initial: number }): Memory; prototype: object } } }).WebAssembly;

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const gc = (): void => {
  const f = (globalThis as { gc?: () => void }).gc;
  if (!f) throw new Error('these tests need --expose-gc (vitest.config.ts passes it)');
  f();
};
/** Collects garbage and lets the deferred finalizers run, until `done` or 20 rounds. */
async function collect(done: () => boolean = () => false): Promise<void> {
  for (let i = 0; i < 20 && !done(); i++) {
    gc();
    await tick();
  }
}

/** A byte of the device, through pread (independent of any mapping). */
function byteAt(d: DeviceHandle, offset: bigint): number {
  const b = new Uint8Array(1);
  expect(n.pread(d, b, offset)).toBe(1);
  return b[0]!;
}

/**
 * Runs `body` in a fresh node with the addon as `n` and a small simulated device config as `cfg`
 * (BAR0 1 MiB read-write mmap-able with WC, BAR1 16 KiB read-only mmap-able); `body` fills `out`,
 * which comes back as JSON. The child must exit 0, without a signal.
 */
function child(body: string): Record<string, unknown> {
  const script = [
    "import { createRequire } from 'node:module';",
    `const n = createRequire(import.meta.url)(${JSON.stringify(ADDON)});`,
    // as runtime/src/native.ts does when it loads the addon
    "n.init(...(await import('node:vm')).runInNewContext('[Object.getOwnPropertyDescriptor(WebAssembly.Memory.prototype, \"buffer\").get, Uint8Array]'));",
    "const mem = (size, o = {}) => ({ size, kind: 'memory', readable: true, writable: true, mmap: true, supportedAttrs: 0, ...o });",
    'const cfg = { regions: [mem(1n << 20n, { supportedAttrs: 1 }), mem(16384n, { writable: false })], numIrqs: 1, maxSubregions: 4 };',
    'const out = {};',
    'const code = (f) => { try { f(); return null; } catch (e) { return e.code ?? e.constructor.name; } };',
    'const settle = async () => { for (let i = 0; i < 10; i++) { globalThis.gc(); await new Promise((r) => setImmediate(r)); } };',
    body,
    'process.stdout.write(JSON.stringify(out));',
  ].join('\n');
  const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  expect({ status: r.status, signal: r.signal }, `${r.stdout}\n${r.stderr}`).toEqual({ status: 0, signal: null });
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe.skipIf(!GENERIC_IOC)('native addon: simulated device', () => {
  it('exports the contract surface; handles are opaque objects, distinct per device', () => {
    for (const f of [
      'open', 'adoptFd', 'openGroupDevice', 'openCdevDevice', 'simCreate', 'ioctl', 'ioctlValue', 'pread', 'pwrite', 'lastRule', 'close',
      'mmap', 'wasmMap', 'munmap', 'mmioRead', 'mmioWrite', 'copyFrom', 'wmb', 'mb', 'rmb', 'simMappings', 'simBacking', 'stats',
    ] as const) {
      expect(typeof n[f], f).toBe('function');
    }
    expect(n.pageSize).toBeGreaterThanOrEqual(4096);
    expect(n.pageSize & (n.pageSize - 1)).toBe(0);
    expect(n.PROT_READ).toBe(1);
    expect(n.PROT_WRITE).toBe(2);
    expect(typeof dev).toBe('object');
    expect(dev).not.toBeNull();
    expect(Object.keys(dev)).toEqual([]);
    const other = n.simCreate(standardConfig());
    expect(other).not.toBe(dev);
    n.close(other);
    // the fences ignore their arguments (they can be wasm imports directly)
    expect(n.wmb(1, 'x')).toBeUndefined();
    expect(n.mb()).toBeUndefined();
    expect(n.rmb({})).toBeUndefined();
  });

  describe('ioctl: only the spec table, on a private copy', () => {
    it('GET_INFO reports a vfio-pci device with its regions and irqs', () => {
      const b = u32s(20, 0, 0, 0, 0xffffffff);
      expect(n.ioctl(dev, VFIO_DEVICE_GET_INFO, b)).toBe(0);
      const dv = view(b);
      expect(dv.getUint32(0, true)).toBe(20);
      expect(dv.getUint32(4, true)).toBe(3); // VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET
      expect(dv.getUint32(8, true)).toBe(9);
      expect(dv.getUint32(12, true)).toBe(5);
      expect(dv.getUint32(16, true)).toBe(0); // cap_offset
    });
    it('accepts the pre-cap_offset argsz (16) and leaves cap_offset alone, like the kernel', () => {
      const b = u32s(16, 0, 0, 0, 0x12345678);
      expect(n.ioctl(dev, VFIO_DEVICE_GET_INFO, b)).toBe(0);
      expect(view(b).getUint32(8, true)).toBe(9);
      expect(view(b).getUint32(16, true)).toBe(0x12345678);
    });
    it('a short argsz is -EINVAL; an arg shorter than the struct never reaches the device (RangeError)', () => {
      expect(n.ioctl(dev, VFIO_DEVICE_GET_INFO, u32s(15, 0, 0, 0, 0))).toBe(neg('EINVAL'));
      expectArgError(() => n.ioctl(dev, VFIO_DEVICE_GET_INFO, new Uint8Array(8)), RangeError, /arg \(8 bytes\).*VFIO_DEVICE_GET_INFO/);
      // 16 bytes hold the kernel's minsz but not the 20-byte struct the spec proves
      expectArgError(() => n.ioctl(dev, VFIO_DEVICE_GET_INFO, u32s(16, 0, 0, 0)), RangeError, /arg/);
    });
    it('refuses requests outside the spec table with a RangeError naming the request: FIONREAD, 0, a container\'s GET_API_VERSION, unknown', () => {
      for (const req of [FIONREAD, 0, VFIO_GET_API_VERSION, 0x3b99]) {
        const arg = new Uint8Array(64).fill(0xa5);
        expectArgError(() => n.ioctl(dev, req, arg), RangeError, new RegExp(`request 0x${req.toString(16)}\\b`));
        expect(arg.every((x) => x === 0xa5), `request 0x${req.toString(16)} touched arg`).toBe(true);
      }
    });
    it('refuses an argsz larger than arg (RangeError), and leaves arg as it was', () => {
      const b = regionInfoBuf(2, 200, 40);
      const copy = b.slice();
      expectArgError(() => n.ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, b), RangeError, /argsz/);
      expect(b).toEqual(copy);
      expectArgError(() => n.ioctl(dev, VFIO_DEVICE_FEATURE, u32s(12, FEATURE_PROBE | FEATURE_SET | FEATURE_SUBREGION)), RangeError, /VFIO_DEVICE_FEATURE/);
      expectArgError(() => n.ioctl(dev, VFIO_DEVICE_FEATURE, new Uint8Array(4)), RangeError, /arg \(4 bytes\)/);
    });
    it('a valid GET_REGION_INFO writes the reply back into arg, and nothing outside it', () => {
      const whole = new Uint8Array(16 + 32 + 16).fill(0x77);
      const arg = whole.subarray(16, 48);
      arg.set(regionInfoBuf(1));
      expect(n.ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, arg)).toBe(0);
      expect(parseRegionInfo(arg)).toEqual({
        argsz: 32, flags: FLAG_READ | FLAG_WRITE | FLAG_MMAP, index: 1, capOffset: 0, size: 64n * KiB, offset: 1n << 40n,
      });
      expect([...whole.subarray(0, 16), ...whole.subarray(48)].every((x) => x === 0x77)).toBe(true);
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
        const { info } = getRegionInfo(n, dev, index);
        expect(info, `region ${index}`).toMatchObject({ index, size, flags, offset: regionOffset(index) });
      }
    });
    it('asks for a larger buffer when the chain does not fit, then returns it', () => {
      const b = regionInfoBuf(2, 32, 32);
      view(b).setUint32(12, 0xabcd, true);
      expect(n.ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, b)).toBe(0);
      const small = parseRegionInfo(b);
      expect(small.flags & FLAG_CAPS).toBe(FLAG_CAPS);
      expect(small.capOffset).toBe(0);
      // sparse: 16 + 2 * 16, msix: 8
      expect(small.argsz).toBe(32 + 48 + 8);
      const big = regionInfoBuf(2, small.argsz);
      expect(n.ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, big)).toBe(0);
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
      expect(n.ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, b)).toBe(0);
      expect(parseRegionInfo(b).argsz).toBe(128);
      const caps = walkCaps(b);
      expect(caps.map((c) => c.id)).toEqual([CAP_TYPE]);
      expect([view(b).getUint32(40, true), view(b).getUint32(44, true)]).toEqual([0x8086, 3]);
      expect([...b.subarray(48)].every((x) => x === 0xee)).toBe(true);
    });
    it('refuses argsz < 32 and a missing index (-EINVAL), and a short arg (RangeError)', () => {
      expect(n.ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, regionInfoBuf(0, 31, 32))).toBe(neg('EINVAL'));
      expect(n.ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, regionInfoBuf(9))).toBe(neg('EINVAL'));
      expectArgError(() => n.ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, new Uint8Array(16)), RangeError, /arg \(16 bytes\)/);
    });
  });

  describe('VFIO_DEVICE_FEATURE', () => {
    const probe = (flags: number) => n.ioctl(dev, VFIO_DEVICE_FEATURE, feature(flags, new Uint8Array(0)));
    it('PROBE: SUBREGION supports SET, REGION_ATTRS GET and SET', () => {
      expect(probe(FEATURE_PROBE | FEATURE_SET | FEATURE_SUBREGION)).toBe(0);
      expect(probe(FEATURE_PROBE | FEATURE_GET | FEATURE_SUBREGION)).toBe(neg('EINVAL'));
      expect(probe(FEATURE_PROBE | FEATURE_GET | FEATURE_SET | FEATURE_REGION_ATTRS)).toBe(0);
      expect(probe(FEATURE_PROBE | FEATURE_GET | FEATURE_REGION_ATTRS)).toBe(0);
      expect(probe(FEATURE_PROBE | FEATURE_REGION_ATTRS)).toBe(0);
      expect(probe(FEATURE_PROBE | FEATURE_SET | 99)).toBe(neg('ENOTTY'));
    });
    it('core checks: argsz, unknown flags, GET|SET, no op', () => {
      expect(n.ioctl(dev, VFIO_DEVICE_FEATURE, feature(FEATURE_GET | FEATURE_REGION_ATTRS, u32s(0, 0, 0, 0), 7))).toBe(neg('EINVAL'));
      expect(probe(FEATURE_GET | FEATURE_REGION_ATTRS | (1 << 20))).toBe(neg('EINVAL'));
      expect(probe(FEATURE_GET | FEATURE_SET | FEATURE_REGION_ATTRS)).toBe(neg('EINVAL'));
      expect(probe(FEATURE_REGION_ATTRS)).toBe(neg('EINVAL'));
    });
    it('a payload shorter than the struct is -EINVAL', () => {
      expect(n.ioctl(dev, VFIO_DEVICE_FEATURE, feature(FEATURE_GET | FEATURE_REGION_ATTRS, u32s(0, 0, 0)))).toBe(neg('EINVAL'));
      const sub = subregionPayload({ parent: 0, offset: 0n, size: ps(), attrs: 0 });
      expect(n.ioctl(dev, VFIO_DEVICE_FEATURE, feature(FEATURE_SET | FEATURE_SUBREGION, sub.subarray(0, 28)))).toBe(neg('EINVAL'));
    });
  });

  describe('subregions', () => {
    it('creates a WC window of BAR0 with the next index, described by REGION_INFO', () => {
      const idx = createSubregion(n, dev, 0, 64n * KiB, 64n * KiB, ATTR_WC);
      expect(idx).toBe(9);
      expect(deviceInfo(n, dev).numRegions).toBe(10);
      const { info, buf } = getRegionInfo(n, dev, idx);
      expect(info).toMatchObject({ index: 9, size: 64n * KiB, offset: regionOffset(9), capOffset: 32, argsz: 32 + 24 + 16 });
      expect(info.flags).toBe(FLAG_READ | FLAG_WRITE | FLAG_MMAP | FLAG_CAPS);
      const caps = walkCaps(buf);
      expect(caps.map((c) => c.id)).toEqual([CAP_SUBREGION, CAP_ATTRS]);
      const dv = view(buf);
      expect(dv.getUint32(40, true)).toBe(0); // parent_index
      expect(dv.getUint32(44, true)).toBe(0); // reserved
      expect(dv.getBigUint64(48, true)).toBe(64n * KiB);
      expect(dv.getUint32(56 + 8, true)).toBe(ATTR_WC);
      expect(regionAttrs(n, dev, idx)).toEqual({ attrs: ATTR_WC, supported: 0 });
      // a UC window has only the SUBREGION cap
      const uc = createSubregion(n, dev, 1, 0n, ps(), 0);
      expect(uc).toBe(10);
      expect(walkCaps(getRegionInfo(n, dev, uc).buf).map((c) => c.id)).toEqual([CAP_SUBREGION]);
    });
    it('refuses what the validators refuse, with their errnos', () => {
      const create = (parent: number, offset: bigint, size: bigint, attrs: number, flags = 0) =>
        n.ioctl(dev, VFIO_DEVICE_FEATURE, feature(FEATURE_SET | FEATURE_SUBREGION, subregionPayload({ flags, parent, offset, size, attrs })));
      expect(create(0, 0n, ps(), 0, 1)).toBe(neg('EINVAL')); // flags
      expect(create(0, 0n, ps(), 2)).toBe(neg('EINVAL')); // unknown attr
      expect(create(42, 0n, ps(), 0)).toBe(neg('EINVAL')); // no parent
      expect(create(6, 0n, ps(), 0)).toBe(neg('EINVAL')); // ROM: not mmap-able
      expect(create(1, 0n, ps(), ATTR_WC)).toBe(neg('EOPNOTSUPP'));
      expect(create(0, 0n, 0n, 0)).toBe(neg('EINVAL'));
      expect(create(0, 1n, ps(), 0)).toBe(neg('EINVAL'));
      expect(create(0, 0n, ps() + 1n, 0)).toBe(neg('EINVAL'));
      expect(create(0, 1024n * KiB, ps(), 0)).toBe(neg('EINVAL'));
      expect(create(0, ps(), 0xffffffffffffffffn - ps() + 1n, 0)).toBe(neg('EINVAL')); // overflow
      const sub = createSubregion(n, dev, 0, 0n, ps(), 0);
      expect(create(sub, 0n, ps(), 0)).toBe(neg('EINVAL')); // parent is a subregion
      for (let i = 1; i < 6; i++) createSubregion(n, dev, 0, 0n, ps(), 0); // the standard device holds 6
      expect(create(0, 0n, ps(), 0)).toBe(neg('ENOSPC'));
      expect(deviceInfo(n, dev).numRegions).toBe(9 + 6);
    });
    it('a device may claim unknown attribute bits; requests carrying them are still -EINVAL', () => {
      const cfg = standardConfig({ shmDir });
      cfg.regions[1] = { ...cfg.regions[1]!, supportedAttrs: 3 };
      const d = n.simCreate(cfg);
      try {
        expect(regionAttrs(n, d, 1)).toEqual({ attrs: 0, supported: 3 });
        const req = feature(FEATURE_SET | FEATURE_SUBREGION, subregionPayload({ parent: 1, offset: 0n, size: ps(), attrs: 2 }));
        expect(n.ioctl(d, VFIO_DEVICE_FEATURE, req)).toBe(neg('EINVAL'));
        expect(createSubregion(n, d, 1, 0n, ps(), ATTR_WC)).toBe(9);
      } finally {
        n.close(d);
      }
    });
    it('REGION_ATTRS: GET, SET before mapping, -EBUSY while mapped, -EINVAL on a subregion', () => {
      expect(regionAttrs(n, dev, 0)).toEqual({ attrs: 0, supported: ATTR_WC });
      expect(regionAttrs(n, dev, 4)).toEqual({ attrs: 0, supported: 0 });
      const set = (index: number, attrs: number, supported = 0) =>
        n.ioctl(dev, VFIO_DEVICE_FEATURE, feature(FEATURE_SET | FEATURE_REGION_ATTRS, u32s(0, index, attrs, supported)));
      expect(set(0, ATTR_WC)).toBe(0);
      expect(regionAttrs(n, dev, 0).attrs).toBe(ATTR_WC);
      // BAR0 now reports CAPS with an ATTRS cap
      const { info, buf } = getRegionInfo(n, dev, 0);
      expect(info.flags & FLAG_CAPS).toBe(FLAG_CAPS);
      expect(walkCaps(buf).map((c) => c.id)).toEqual([CAP_ATTRS]);
      const m = mapped(n.mmap(dev, regionOffset(0), n.pageSize, n.PROT_READ));
      expect(n.simMappings(dev)[0]!.attrs).toBe(ATTR_WC);
      expect(set(0, 0)).toBe(neg('EBUSY'));
      n.munmap(m.handle);
      // the revoked mapping no longer counts as mapped
      expect(set(0, 0)).toBe(0);
      expect(getRegionInfo(n, dev, 0).info.flags & FLAG_CAPS).toBe(0);
      expect(set(1, ATTR_WC)).toBe(neg('EOPNOTSUPP'));
      expect(set(6, 0)).toBe(neg('EINVAL'));
      expect(set(0, 0, 1)).toBe(neg('EINVAL'));
      expect(set(99, 0)).toBe(neg('EINVAL'));
      const sub = createSubregion(n, dev, 0, 0n, ps(), ATTR_WC);
      expect(set(sub, 0)).toBe(neg('EINVAL'));
      expect(n.ioctl(dev, VFIO_DEVICE_FEATURE, feature(FEATURE_GET | FEATURE_REGION_ATTRS, u32s(1, 0, 0, 0)))).toBe(neg('EINVAL'));
      expect(n.ioctl(dev, VFIO_DEVICE_FEATURE, feature(FEATURE_GET | FEATURE_REGION_ATTRS, u32s(0, 99, 0, 0)))).toBe(neg('EINVAL'));
    });
  });

  describe('lastRule', () => {
    const createReq = (offset: bigint) => feature(FEATURE_SET | FEATURE_SUBREGION, subregionPayload({ parent: 0, offset, size: ps(), attrs: 0 }));
    it('names the validator rule behind a refused subregion create, and is null after a later successful call', () => {
      expect(n.lastRule(dev)).toBeNull();
      expect(n.ioctl(dev, VFIO_DEVICE_FEATURE, createReq(1024n * KiB))).toBe(neg('EINVAL'));
      expect(n.lastRule(dev)).toBe('within-parent');
      expect(n.lastRule(dev)).toBe('within-parent'); // reading it changes nothing
      expect(n.pread(dev, new Uint8Array(4), regionOffset(0))).toBe(4);
      expect(n.lastRule(dev)).toBeNull();
      expect(n.ioctl(dev, VFIO_DEVICE_FEATURE, createReq(1024n * KiB))).toBe(neg('EINVAL'));
      expect(n.ioctl(dev, VFIO_DEVICE_FEATURE, createReq(0n))).toBe(0);
      expect(n.lastRule(dev)).toBeNull();
    });
    it('names not-mapped for REGION_ATTRS while mapped and one-memtype-per-page for mmap; other refusals name none', () => {
      const m = mapped(n.mmap(dev, regionOffset(0), n.pageSize, n.PROT_READ));
      expect(n.ioctl(dev, VFIO_DEVICE_FEATURE, feature(FEATURE_SET | FEATURE_REGION_ATTRS, u32s(0, 0, ATTR_WC, 0)))).toBe(neg('EBUSY'));
      expect(n.lastRule(dev)).toBe('not-mapped');
      const wc = createSubregion(n, dev, 0, 0n, ps(), ATTR_WC);
      expect(n.mmap(dev, regionOffset(wc), n.pageSize, n.PROT_READ)).toBe(neg('EBUSY'));
      expect(n.lastRule(dev)).toBe('one-memtype-per-page');
      n.munmap(m.handle);
      expect(n.mmap(dev, regionOffset(6), n.pageSize, n.PROT_READ)).toBe(neg('EINVAL')); // ROM: no rule
      expect(n.lastRule(dev)).toBeNull();
      expect(n.ioctl(dev, VFIO_DEVICE_GET_INFO, u32s(15, 0, 0, 0, 0))).toBe(neg('EINVAL'));
      expect(n.lastRule(dev)).toBeNull();
      expect(n.pread(dev, new Uint8Array(1), regionOffset(50))).toBe(neg('EINVAL'));
      expect(n.lastRule(dev)).toBeNull();
    });
    it('an argument error is no refusal of the device and leaves the rule as it was; a host device never names one', () => {
      expect(n.ioctl(dev, VFIO_DEVICE_FEATURE, createReq(1024n * KiB))).toBe(neg('EINVAL'));
      expectArgError(() => n.ioctl(dev, FIONREAD, new Uint8Array(8)), RangeError, /request/);
      expectArgError(() => n.mmap(dev, 0n, 0, 1), RangeError, /length/);
      expect(n.lastRule(dev)).toBe('within-parent');
      const f = n.open('/dev/null');
      try {
        expect(n.ioctl(f, VFIO_DEVICE_GET_REGION_INFO, regionInfoBuf(0))).toBe(neg('ENOTTY'));
        expect(n.lastRule(f)).toBeNull();
      } finally {
        n.close(f);
      }
    });
  });

  describe('pread / pwrite', () => {
    it('round-trips BAR memory, I/O ports and config space', () => {
      for (const [index, off] of [[0, 0x1234n], [4, 0x10n], [7, 0x40n]] as const) {
        const data = Uint8Array.from({ length: 16 }, (_, i) => i * 7 + index);
        expect(n.pwrite(dev, data, regionOffset(index) + off)).toBe(16);
        const back = new Uint8Array(16);
        expect(n.pread(dev, back, regionOffset(index) + off)).toBe(16);
        expect(back).toEqual(data);
      }
    });
    it('large offsets: a 4 GiB I/O region and a 64 GiB mmap-able BAR (sparse memfd backing)', () => {
      const cfg = standardConfig();
      cfg.regions[4] = { ...cfg.regions[4]!, size: 1n << 32n };
      cfg.regions[0] = { ...cfg.regions[0]!, size: 1n << 36n };
      const d = n.simCreate(cfg);
      try {
        expect(getRegionInfo(n, d, 0).info.size).toBe(1n << 36n);
        expect(n.pwrite(d, Uint8Array.of(0x11, 0x22), regionOffset(4) + (1n << 32n) - 2n)).toBe(2);
        const b = new Uint8Array(4);
        expect(n.pread(d, b, regionOffset(4) + (1n << 32n) - 2n)).toBe(2);
        expect([...b]).toEqual([0x11, 0x22, 0, 0]);
        const m = mapped(n.mmap(d, regionOffset(0) + (1n << 36n) - ps(), n.pageSize, rw()));
        new Uint8Array(m.buffer!)[n.pageSize - 1] = 0x33;
        expect(byteAt(d, regionOffset(0) + (1n << 36n) - 1n)).toBe(0x33);
        // and the other way round, far from the first page
        expect(n.pwrite(d, Uint8Array.of(0x44), regionOffset(0) + (1n << 36n) - ps())).toBe(1);
        expect(n.mmioRead(m.handle, 0, 8)).toBe(0x44);
        expect(n.pread(d, b, regionOffset(0) + (1n << 36n))).toBe(neg('EINVAL'));
        expect(n.mmap(d, regionOffset(0) + (1n << 36n), n.pageSize, rw())).toBe(neg('EINVAL'));
      } finally {
        n.close(d);
      }
    });
    it('clips at the region end and refuses a start at or past it', () => {
      expect(n.pread(dev, new Uint8Array(64), regionOffset(7) + 240n)).toBe(16);
      expect(n.pread(dev, new Uint8Array(1), regionOffset(7) + 256n)).toBe(neg('EINVAL'));
      expect(n.pwrite(dev, new Uint8Array(1), regionOffset(0) + 1024n * KiB)).toBe(neg('EINVAL'));
      expect(n.pread(dev, new Uint8Array(1), regionOffset(3))).toBe(neg('EINVAL')); // unimplemented BAR
      expect(n.pread(dev, new Uint8Array(1), regionOffset(50))).toBe(neg('EINVAL'));
      expect(n.pread(dev, new Uint8Array(1), 0xffffffffffffffffn)).toBe(neg('EINVAL'));
    });
    it('refuses a write to a read-only region', () => {
      expect(n.pwrite(dev, new Uint8Array(4), regionOffset(6))).toBe(neg('EINVAL'));
      expect(n.pwrite(dev, new Uint8Array(4), regionOffset(5))).toBe(neg('EINVAL'));
      expect(n.pread(dev, new Uint8Array(4), regionOffset(6))).toBe(4);
    });
    it('a subregion reads and writes its parent at its offset', () => {
      const sub = createSubregion(n, dev, 0, 128n * KiB, 64n * KiB, ATTR_WC);
      expect(n.pwrite(dev, Uint8Array.of(1, 2, 3, 4), regionOffset(0) + 128n * KiB + 8n)).toBe(4);
      const b = new Uint8Array(4);
      expect(n.pread(dev, b, regionOffset(sub) + 8n)).toBe(4);
      expect([...b]).toEqual([1, 2, 3, 4]);
      expect(n.pwrite(dev, Uint8Array.of(9, 9), regionOffset(sub) + 64n * KiB - 2n)).toBe(2);
      expect(n.pread(dev, b, regionOffset(0) + 192n * KiB - 2n)).toBe(4);
      expect([...b]).toEqual([9, 9, 0, 0]);
      expect(n.pread(dev, b, regionOffset(sub) + 64n * KiB)).toBe(neg('EINVAL'));
    });
    it('a zero-length buffer transfers nothing', () => {
      expect(n.pread(dev, new Uint8Array(0), regionOffset(0))).toBe(0);
      expect(n.pwrite(dev, new Uint8Array(0), regionOffset(0))).toBe(0);
    });
  });

  describe('mmap', () => {
    it('maps BAR memory: writes show in pread and in the backing, which opens through /proc/<pid>/fd/<n>', () => {
      const m = mapped(n.mmap(dev, regionOffset(0) + ps(), 2 * n.pageSize, rw()));
      expect(m.buffer!.byteLength).toBe(2 * n.pageSize);
      expect(typeof m.address).toBe('bigint');
      expect(m.address % ps()).toBe(0n);
      expect(mapsLine(m.address)).toContain(shmDir);
      const u8 = new Uint8Array(m.buffer!);
      u8.set([0xde, 0xad, 0xbe, 0xef], 16);
      const b = new Uint8Array(4);
      expect(n.pread(dev, b, regionOffset(0) + ps() + 16n)).toBe(4);
      expect([...b]).toEqual([0xde, 0xad, 0xbe, 0xef]);
      // and the other way round
      expect(n.pwrite(dev, Uint8Array.of(7), regionOffset(0) + ps() + 100n)).toBe(1);
      expect(u8[100]).toBe(7);
      const back = n.simBacking(dev, 0)!;
      const [, pid, fdNo] = /^\/proc\/(\d+)\/fd\/(\d+)$/.exec(back.path) ?? [];
      expect(Number(pid)).toBe(process.pid);
      expect(Number(fdNo)).toBeGreaterThan(2);
      expect(back).toMatchObject({ offset: 0n, size: 1024n * KiB });
      // an unnamed file in shmDir: nothing there to see or leak
      expect(readlinkSync(back.path)).toMatch(new RegExp(`^${escapeRe(shmDir)}/#\\d+ \\(deleted\\)$`));
      expect(readdirSync(shmDir)).toEqual([]);
      const f = openSync(back.path, 'r');
      const fb = Buffer.alloc(4);
      readSync(f, fb, 0, 4, n.pageSize + 16);
      closeSync(f);
      expect([...fb]).toEqual([0xde, 0xad, 0xbe, 0xef]);
      n.munmap(m.handle);
    });
    it('a WC subregion mapping sees the parent bytes at its offset; attrs per mapping', () => {
      const sub = createSubregion(n, dev, 0, 256n * KiB, 64n * KiB, ATTR_WC);
      const bar = mapped(n.mmap(dev, regionOffset(0), 256 * 1024, rw()));
      const win = mapped(n.mmap(dev, regionOffset(sub) + ps(), n.pageSize, rw()));
      const winU8 = new Uint8Array(win.buffer!);
      expect(n.pwrite(dev, Uint8Array.of(0x5a), regionOffset(0) + 256n * KiB + ps() + 5n)).toBe(1);
      expect(winU8[5]).toBe(0x5a);
      winU8[6] = 0xa5;
      expect(byteAt(dev, regionOffset(0) + 256n * KiB + ps() + 6n)).toBe(0xa5);
      const maps = n.simMappings(dev);
      expect(maps).toHaveLength(2);
      expect(maps[0]).toEqual({ index: 0, offset: 0n, length: 256 * 1024, attrs: 0, prot: 3, address: bar.address });
      expect(maps[1]).toEqual({ index: sub, offset: ps(), length: n.pageSize, attrs: ATTR_WC, prot: 3, address: win.address });
      expect(n.simBacking(dev, sub)).toEqual({ path: n.simBacking(dev, 0)!.path, offset: 256n * KiB, size: 64n * KiB });
      n.munmap(win.handle);
      n.munmap(bar.handle);
      expect(n.simMappings(dev)).toEqual([]);
    });
    it('a read-only mapping has no buffer; mmioRead and copyFrom read it', () => {
      const data = Uint8Array.of(0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88);
      expect(n.pwrite(dev, data, regionOffset(1) + 8n)).toBe(8);
      const m = mapped(n.mmap(dev, regionOffset(1), n.pageSize, n.PROT_READ));
      expect(m.buffer).toBeNull();
      expect(n.simMappings(dev)).toMatchObject([{ index: 1, prot: n.PROT_READ, address: m.address }]);
      expect(n.mmioRead(m.handle, 8, 8)).toBe(0x11);
      expect(n.mmioRead(m.handle, 8, 16)).toBe(0x2211);
      expect(n.mmioRead(m.handle, 8, 32)).toBe(0x44332211);
      expect(n.mmioRead(m.handle, 8, 64)).toBe(0x8877665544332211n);
      const dst = new Uint8Array(10).fill(0xff);
      n.copyFrom(m.handle, 7, dst);
      expect([...dst]).toEqual([0, ...data, 0]);
      // the page is mapped read-only: what the kernel says, not what the addon says
      expect(mapsLine(m.address)).toMatch(/^[0-9a-f]+-[0-9a-f]+ r--s /);
      n.munmap(m.handle);
    });
    it('mmioRead and mmioWrite on a writable mapping: one access of each width, through to the device', () => {
      const m = mapped(n.mmap(dev, regionOffset(1), n.pageSize, rw()));
      n.mmioWrite(m.handle, 0, 32, 0xdeadbeef);
      n.mmioWrite(m.handle, 8, 64, 0x0102030405060708n);
      n.mmioWrite(m.handle, 16, 16, 0xabcd);
      n.mmioWrite(m.handle, 18, 8, 0xef);
      const b = new Uint8Array(20);
      expect(n.pread(dev, b, regionOffset(1))).toBe(20);
      expect(hex(b)).toBe('efbeadde' + '00000000' + '0807060504030201' + 'cdab' + 'ef' + '00');
      expect(n.mmioRead(m.handle, n.pageSize - 8, 64)).toBe(0n);
      n.munmap(m.handle);
    });
    it('munmap revokes: the buffer detaches, the handle refuses with ERR_UNMAPPED, munmap again is a no-op', () => {
      const m = mapped(n.mmap(dev, regionOffset(1), n.pageSize, rw()));
      const u8 = new Uint8Array(m.buffer!);
      u8[0] = 1;
      n.munmap(m.handle);
      expect(m.buffer!.byteLength).toBe(0);
      expect(u8.length).toBe(0);
      expect(u8[0]).toBeUndefined();
      expect(thrown(() => n.mmioRead(m.handle, 0, 8))).toMatchObject({ code: 'ERR_UNMAPPED' });
      expect(thrown(() => n.copyFrom(m.handle, 0, new Uint8Array(1)))).toMatchObject({ code: 'ERR_UNMAPPED' });
      expect(n.munmap(m.handle)).toBeUndefined();
      expect(n.simMappings(dev)).toEqual([]);
      // revoked in place: the range is still ours, but anonymous memory, no longer the device's
      const line = mapsLine(m.address);
      expect(line).toBeDefined();
      expect(line).not.toContain(shmDir);
      // the device kept the byte; a new mapping of it sees it
      const m2 = mapped(n.mmap(dev, regionOffset(1), n.pageSize, n.PROT_READ));
      expect(n.mmioRead(m2.handle, 0, 8)).toBe(1);
      n.munmap(m2.handle);
    });
    it('refuses non-mmap regions, ranges past the end and unaligned offsets with -EINVAL, mapping nothing', () => {
      expect(n.mmap(dev, regionOffset(6), n.pageSize, n.PROT_READ)).toBe(neg('EINVAL')); // ROM
      expect(n.mmap(dev, regionOffset(7), n.pageSize, rw())).toBe(neg('EINVAL')); // config
      expect(n.mmap(dev, regionOffset(4), n.pageSize, rw())).toBe(neg('EINVAL')); // io
      expect(n.mmap(dev, regionOffset(3), n.pageSize, rw())).toBe(neg('EINVAL')); // none
      expect(n.mmap(dev, regionOffset(1), 64 * 1024 + 1, rw())).toBe(neg('EINVAL'));
      expect(n.mmap(dev, regionOffset(1) + 64n * KiB, n.pageSize, rw())).toBe(neg('EINVAL'));
      expect(n.mmap(dev, regionOffset(1) + 60n * KiB, 8 * 1024, rw())).toBe(neg('EINVAL'));
      expect(n.mmap(dev, regionOffset(1) + 16n, n.pageSize, rw())).toBe(neg('EINVAL'));
      expect(n.mmap(dev, regionOffset(5), n.pageSize, rw())).toBe(neg('EINVAL')); // read-only BAR
      expect(n.mmap(dev, regionOffset(42), n.pageSize, rw())).toBe(neg('EINVAL'));
      expect(n.simMappings(dev)).toEqual([]);
      expect(shmMaps()).toBe(0);
    });
    it('one memory type per page: an uncached map over a mapped WC window is -EBUSY and maps nothing', () => {
      const sub = createSubregion(n, dev, 0, 256n * KiB, 64n * KiB, ATTR_WC);
      const win = mapped(n.mmap(dev, regionOffset(sub) + ps(), n.pageSize, rw()));
      expect(n.mmap(dev, regionOffset(0), 1024 * 1024, rw())).toBe(neg('EBUSY'));
      expect(n.lastRule(dev)).toBe('one-memtype-per-page');
      expect(n.simMappings(dev)).toHaveLength(1);
      expect(shmMaps()).toBe(1);
      // the same pages through a UC window: refused too; the pages next to the mapped one: fine
      const uc = createSubregion(n, dev, 0, 256n * KiB, 64n * KiB, 0);
      expect(n.mmap(dev, regionOffset(uc) + ps(), n.pageSize, rw())).toBe(neg('EBUSY'));
      n.munmap(mapped(n.mmap(dev, regionOffset(uc), n.pageSize, rw())).handle);
      n.munmap(mapped(n.mmap(dev, regionOffset(uc) + 2n * ps(), n.pageSize, rw())).handle);
      n.munmap(win.handle);
      n.munmap(mapped(n.mmap(dev, regionOffset(0), 1024 * 1024, rw())).handle);
    });
    it.skipIf(native().pageSize !== 4096)(`a window of a sparse BAR reports its own SPARSE_MMAP, byte for byte as the capchain vectors say${native().pageSize !== 4096 ? ' (skipped: the vectors are for 4 KiB pages)' : ''}`, () => {
      const cases = loadVectors().capchain;
      const straddling = createSubregion(n, dev, 2, 8n * KiB, 32n * KiB, 0);
      const inHole = createSubregion(n, dev, 2, 16n * KiB, 16n * KiB, 0);
      for (const [name, index] of [['subregion-of-sparse-bar', straddling], ['subregion-inside-sparse-hole', inHole]] as const) {
        const c = cases.find((x) => x.name === name)!;
        const buf = regionInfoBuf(index, c.buffer.length / 2);
        expect(n.ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, buf)).toBe(0);
        expect(hex(buf), name).toBe(c.buffer);
      }
      // mmap of a window follows its areas, exactly as on the parent
      n.munmap(mapped(n.mmap(dev, regionOffset(straddling), 8 * 1024, rw())).handle);
      n.munmap(mapped(n.mmap(dev, regionOffset(straddling) + 24n * KiB, 8 * 1024, rw())).handle);
      expect(n.mmap(dev, regionOffset(straddling) + 8n * KiB, n.pageSize, rw())).toBe(neg('EINVAL'));
      expect(n.mmap(dev, regionOffset(straddling), 16 * 1024, rw())).toBe(neg('EINVAL'));
      expect(n.mmap(dev, regionOffset(inHole), n.pageSize, rw())).toBe(neg('EINVAL'));
      expect(n.mmap(dev, regionOffset(2) + 16n * KiB, n.pageSize, rw())).toBe(neg('EINVAL'));
    });
    it('respects sparse areas, for the region and for windows of it', () => {
      n.munmap(mapped(n.mmap(dev, regionOffset(2), 16 * 1024, rw())).handle);
      n.munmap(mapped(n.mmap(dev, regionOffset(2) + 32n * KiB, 32 * 1024, rw())).handle);
      expect(n.mmap(dev, regionOffset(2) + 16n * KiB, n.pageSize, rw())).toBe(neg('EINVAL'));
      expect(n.mmap(dev, regionOffset(2), 32 * 1024, rw())).toBe(neg('EINVAL'));
      const sub = createSubregion(n, dev, 2, 0n, 64n * KiB, 0);
      n.munmap(mapped(n.mmap(dev, regionOffset(sub), n.pageSize, rw())).handle);
      expect(n.mmap(dev, regionOffset(sub) + 16n * KiB, n.pageSize, rw())).toBe(neg('EINVAL'));
    });
  });

  describe('wasm windows', () => {
    it('maps a region over linear memory: wasm-visible bytes are the device, windows are counted, munmap puts zero pages back', () => {
      const mem = new WA.Memory({ initial: 2 });
      const lin = new Uint8Array(mem.buffer);
      lin.fill(0x99, 65536, 65536 + n.pageSize);
      expect(n.pwrite(dev, Uint8Array.of(0x42), regionOffset(0) + 3n)).toBe(1);
      const before = n.stats().windows;
      const w = mapped(n.wasmMap(dev, regionOffset(0), n.pageSize, mem, 65536));
      expect(n.stats().windows).toBe(before + 1);
      expect(mapsLine(w.address)).toContain(shmDir);
      expect(lin[65536 + 3]).toBe(0x42);
      lin[65536 + 4] = 0x43;
      expect(byteAt(dev, regionOffset(0) + 4n)).toBe(0x43);
      expect(n.mmioRead(w.handle, 3, 8)).toBe(0x42);
      expect(n.simMappings(dev)).toMatchObject([{ index: 0, prot: 3, address: w.address }]);
      n.munmap(w.handle);
      expect(n.stats().windows).toBe(before);
      expect(n.simMappings(dev)).toEqual([]);
      // zero pages in place (not the 0x99 that was there, not the device); the device kept its bytes
      expect(lin.subarray(65536, 65536 + n.pageSize).every((x) => x === 0)).toBe(true);
      expect(mem.buffer.byteLength).toBe(2 * 65536);
      expect(byteAt(dev, regionOffset(0) + 4n)).toBe(0x43);
      lin[65536] = 1; // ordinary memory again
      expect(lin[65536]).toBe(1);
    });
    it('an overlapping window is refused with EBUSY and leaves the memory as it was', () => {
      const mem = new WA.Memory({ initial: 1 });
      const lin = new Uint8Array(mem.buffer);
      const w = mapped(n.wasmMap(dev, regionOffset(0), 2 * n.pageSize, mem, 0));
      const windows = n.stats().windows;
      lin[n.pageSize] = 0x5c;
      // The contract (runtime/src/native.ts) says -EBUSY; the addon throws an Error with code EBUSY
      // and a note instead (test/mmio/window.test.ts relies on the note). Either way: refused.
      const r = (() => {
        try {
          return n.wasmMap(dev, regionOffset(1), n.pageSize, mem, n.pageSize);
        } catch (e) {
          return e as Error & { code?: string; errno?: number };
        }
      })();
      if (typeof r === 'number') expect(r).toBe(neg('EBUSY'));
      else expect(r).toMatchObject({ code: 'EBUSY', errno: -neg('EBUSY') });
      expect(n.stats().windows).toBe(windows);
      expect(lin[n.pageSize]).toBe(0x5c);
      expect(byteAt(dev, regionOffset(0) + ps())).toBe(0x5c);
      expect(n.simMappings(dev)).toHaveLength(1);
      n.munmap(w.handle);
    });
    it('refuses a look-alike memory (TypeError) and a window off the page grid or outside the memory (RangeError)', () => {
      const windows = n.stats().windows;
      const mem = new WA.Memory({ initial: 1 });
      const fake = Object.create(WA.Memory.prototype) as Memory;
      Object.defineProperty(fake, 'buffer', { value: new ArrayBuffer(65536) });
      expectArgError(() => n.wasmMap(dev, regionOffset(0), n.pageSize, fake, 0), TypeError, /memory/);
      expectArgError(() => n.wasmMap(dev, regionOffset(0), n.pageSize, new ArrayBuffer(65536), 0), TypeError, /memory/);
      expectArgError(() => n.wasmMap(dev, regionOffset(0), n.pageSize, mem, 100), RangeError, /page-aligned/);
      expectArgError(() => n.wasmMap(dev, regionOffset(0), 100, mem, 0), RangeError, /page-aligned/);
      expectArgError(() => n.wasmMap(dev, regionOffset(0), n.pageSize, mem, 65536), RangeError, /inside the memory/);
      expect(n.wasmMap(dev, regionOffset(6), n.pageSize, mem, 0)).toBe(neg('EINVAL')); // ROM
      expect(n.stats().windows).toBe(windows);
    });
  });

  describe('argument checking', () => {
    const good = () => expect(deviceInfo(n, dev).numRegions).toBe(9);
    type Kind = typeof TypeError | typeof RangeError;
    // writable, so that even a broken check could not store into a read-only page (past-the-end
    // accesses, which could fault, are tried in a child process below)
    const mappingHandle = (): MappingHandle => mapped(n.mmap(dev, regionOffset(0), n.pageSize, rw())).handle;
    const any = <T>(v: unknown) => v as T;
    const cases: [string, Kind, RegExp, () => unknown][] = [
      ['device number', TypeError, /device/, () => n.ioctl(any(3), VFIO_DEVICE_GET_INFO, new Uint8Array(20))],
      ['device string', TypeError, /device/, () => n.pread(any('3'), new Uint8Array(1), 0n)],
      ['device NaN', TypeError, /device/, () => n.pwrite(any(NaN), new Uint8Array(1), 0n)],
      ['device bigint', TypeError, /device/, () => n.close(any(3n))],
      ['device plain object', TypeError, /device/, () => n.mmap(any({}), 0n, 4096, 1)],
      ['device null', TypeError, /device/, () => n.lastRule(any(null))],
      ['device missing', TypeError, /device/, () => (n.close as unknown as () => void)()],
      ['device a mapping handle', TypeError, /device/, () => n.ioctl(any(mappingHandle()), VFIO_DEVICE_GET_INFO, new Uint8Array(20))],
      ['mapping a device handle', TypeError, /mapping/, () => n.munmap(any(dev))],
      ['mapping number', TypeError, /mapping/, () => n.munmap(any(1))],
      ['mapping string', TypeError, /mapping/, () => n.mmioRead(any('1'), 0, 8)],
      ['mapping object', TypeError, /mapping/, () => n.copyFrom(any({}), 0, new Uint8Array(1))],
      ['request negative', RangeError, /request/, () => n.ioctl(dev, -1, new Uint8Array(20))],
      ['request > u32', RangeError, /request/, () => n.ioctl(dev, 2 ** 32 + VFIO_DEVICE_GET_INFO, new Uint8Array(20))],
      ['request fraction', RangeError, /request/, () => n.ioctl(dev, VFIO_DEVICE_GET_INFO + 0.5, new Uint8Array(20))],
      ['request string', TypeError, /request/, () => n.ioctl(dev, any('15211'), new Uint8Array(20))],
      ['request FIONREAD', RangeError, /request 0x541b/, () => n.ioctl(dev, FIONREAD, new Uint8Array(20))],
      ['request 0', RangeError, /request 0x0\b/, () => n.ioctl(dev, 0, new Uint8Array(20))],
      ['arg Uint16Array', TypeError, /arg/, () => n.ioctl(dev, VFIO_DEVICE_GET_INFO, any(new Uint16Array(10)))],
      ['arg ArrayBuffer', TypeError, /arg/, () => n.ioctl(dev, VFIO_DEVICE_GET_INFO, any(new ArrayBuffer(20)))],
      ['arg missing', TypeError, /arg/, () => (n.ioctl as unknown as (a: DeviceHandle, b: number) => number)(dev, VFIO_DEVICE_GET_INFO)],
      ['offset number', TypeError, /offset/, () => n.pread(dev, new Uint8Array(1), any(0))],
      ['offset negative', RangeError, /offset/, () => n.pread(dev, new Uint8Array(1), -1n)],
      ['offset 2^64', RangeError, /offset/, () => n.pwrite(dev, new Uint8Array(1), 2n ** 64n)],
      ['offset string', TypeError, /offset/, () => n.mmap(dev, any('0'), 4096, 1)],
      ['length 0', RangeError, /length/, () => n.mmap(dev, 0n, 0, 1)],
      ['length negative', RangeError, /length/, () => n.mmap(dev, 0n, -4096, 1)],
      ['length NaN', RangeError, /length/, () => n.mmap(dev, 0n, NaN, 1)],
      ['length unsafe', RangeError, /length/, () => n.mmap(dev, 0n, 2 ** 53, 1)],
      ['length bigint', TypeError, /length/, () => n.mmap(dev, 0n, any(4096n), 1)],
      ['prot write-only', RangeError, /prot/, () => n.mmap(dev, 0n, 4096, 2)],
      ['prot none', RangeError, /prot/, () => n.mmap(dev, 0n, 4096, 0)],
      ['prot exec', RangeError, /prot/, () => n.mmap(dev, 0n, 4096, 5)],
      ['prot string', TypeError, /prot/, () => n.mmap(dev, 0n, 4096, any('r'))],
      ['buf string', TypeError, /buf/, () => n.pwrite(dev, any('abc'), 0n)],
      ['buf DataView', TypeError, /buf/, () => n.pread(dev, any(new DataView(new ArrayBuffer(4))), 0n)],
      ['mmio width 12', RangeError, /width/, () => n.mmioRead(mappingHandle(), 0, 12)],
      ['mmio width string', TypeError, /width/, () => n.mmioRead(mappingHandle(), 0, any('8'))],
      ['mmio offset unaligned', RangeError, /aligned/, () => n.mmioRead(mappingHandle(), 2, 32)],
      ['mmio offset negative', RangeError, /offset/, () => n.mmioRead(mappingHandle(), -8, 8)],
      ['mmio value too wide', RangeError, /value/, () => n.mmioWrite(mappingHandle(), 0, 8, 256)],
      ['mmio value negative', RangeError, /value/, () => n.mmioWrite(mappingHandle(), 0, 32, -1)],
      ['mmio value bigint > 2^64', RangeError, /value/, () => n.mmioWrite(mappingHandle(), 0, 64, 2n ** 64n)],
      ['copyFrom dst', TypeError, /dst/, () => n.copyFrom(mappingHandle(), 0, any([0]))],
      ['open path number', TypeError, /path/, () => n.open(any(1))],
      ['open path NUL', RangeError, /path/, () => n.open('/dev/null\0x')],
      ['adoptFd string', TypeError, /fd/, () => n.adoptFd(any('0'))],
      ['adoptFd negative', RangeError, /fd/, () => n.adoptFd(-1)],
      ['adoptFd > int32', RangeError, /fd/, () => n.adoptFd(2 ** 31)],
      ['openGroupDevice name', TypeError, /deviceName/, () => n.openGroupDevice('/dev/null', '/dev/null', any(undefined))],
      ['openCdevDevice path', TypeError, /cdevPath/, () => n.openCdevDevice(any(null), '/dev/iommu')],
      ['simBacking index', RangeError, /index/, () => n.simBacking(dev, -1)],
      ['simMappings device', TypeError, /device/, () => n.simMappings(any(undefined))],
      ['simCreate config', TypeError, /config/, () => n.simCreate(any(null))],
      ['simCreate regions', TypeError, /config\.regions/, () => n.simCreate({ ...standardConfig(), regions: any({}) })],
      ['simCreate size number', TypeError, /config\.regions\[0\]\.size/, () => n.simCreate({ ...standardConfig(), regions: [{ ...standardConfig().regions[0]!, size: any(4096) }] })],
      ['simCreate kind', RangeError, /config\.regions\[0\]\.kind/, () => n.simCreate({ ...standardConfig(), regions: [{ ...standardConfig().regions[0]!, kind: any('rom') }] })],
      ['simCreate mmap io', RangeError, /config\.regions\[0\]/, () => n.simCreate({ ...standardConfig(), regions: [{ ...standardConfig().regions[4]!, mmap: true }] })],
      ['simCreate sparse outside', RangeError, /config\.regions\[0\]\.sparse\[0\]/, () => n.simCreate({ ...standardConfig(), regions: [{ ...standardConfig().regions[1]!, sparse: [{ offset: 0n, size: 1n << 20n }] }] })],
      ['simCreate readable', TypeError, /config\.regions\[0\]\.readable/, () => n.simCreate({ ...standardConfig(), regions: [{ ...standardConfig().regions[1]!, readable: any(1) }] })],
      ['simCreate numIrqs', RangeError, /config\.numIrqs/, () => n.simCreate({ ...standardConfig(), numIrqs: -1 })],
      ['simCreate attrs', RangeError, /supportedAttrs/, () => n.simCreate({ ...standardConfig(), regions: [{ ...standardConfig().regions[0]!, supportedAttrs: 2 ** 32 }] })],
      ['simCreate shmDir', TypeError, /config\.shmDir/, () => n.simCreate({ ...standardConfig(), shmDir: any(1) })],
    ];
    it.each(cases)('%s → %o, naming the argument; nothing leaks and the device stays usable', (_name, kind, name, fn) => {
      const fds = openFds();
      const devices = n.stats().openDevices;
      expectArgError(fn, kind, name);
      expect(openFds()).toBe(fds);
      expect(n.stats().openDevices).toBe(devices);
      good();
    });
    it('an argsz larger than the buffer never reaches the kernel either', () => {
      const f = n.open('/dev/null');
      try {
        expectArgError(() => n.ioctl(f, VFIO_DEVICE_GET_REGION_INFO, regionInfoBuf(0, 4096, 32)), RangeError, /argsz/);
        expectArgError(() => n.ioctl(f, VFIO_DEVICE_GET_REGION_INFO, new Uint8Array(2)), RangeError, /arg/);
        expectArgError(() => n.ioctl(f, FIONREAD, new Uint8Array(8)), RangeError, /request/);
        // /dev/null answers a VFIO ioctl with ENOTTY: the call did reach the kernel
        expect(n.ioctl(f, VFIO_DEVICE_GET_REGION_INFO, regionInfoBuf(0))).toBe(neg('ENOTTY'));
      } finally {
        n.close(f);
      }
    });
  });

  describe('lifetime', () => {
    it('close is idempotent; every call on a closed device is -EBADF, and the simulator-only ones throw ERR_DEVICE_CLOSED', () => {
      const d = n.simCreate(standardConfig({ shmDir }));
      const devices = n.stats().openDevices;
      n.close(d);
      expect(n.stats().openDevices).toBe(devices - 1);
      expect(n.close(d)).toBeUndefined();
      expect(n.stats().openDevices).toBe(devices - 1);
      expect(n.ioctl(d, VFIO_DEVICE_GET_INFO, u32s(20, 0, 0, 0, 0))).toBe(neg('EBADF'));
      expect(n.pread(d, new Uint8Array(1), 0n)).toBe(neg('EBADF'));
      expect(n.pwrite(d, new Uint8Array(1), 0n)).toBe(neg('EBADF'));
      expect(n.mmap(d, 0n, n.pageSize, n.PROT_READ)).toBe(neg('EBADF'));
      expect(n.wasmMap(d, 0n, n.pageSize, new WA.Memory({ initial: 1 }), 0)).toBe(neg('EBADF'));
      expect(n.lastRule(d)).toBeNull();
      expect(thrown(() => n.simMappings(d))).toMatchObject({ code: 'ERR_DEVICE_CLOSED' });
      expect(thrown(() => n.simBacking(d, 0))).toMatchObject({ code: 'ERR_DEVICE_CLOSED' });
      // argument checks still come first
      expectArgError(() => n.pread(d, new Uint8Array(1), -1n), RangeError, /offset/);
    });
    it('close revokes every mapping in place and closes the memory; no file ever appears in shmDir', () => {
      const fds = openFds();
      const d = n.simCreate(standardConfig({ shmDir }));
      // every implemented region has its memory: BAR0, 1, 2, 4, 5, ROM, config; none of it named
      expect(openFds()).toBe(fds + 7);
      expect(readdirSync(shmDir)).toEqual([]);
      const sub = createSubregion(n, d, 0, ps(), ps(), ATTR_WC);
      const m1 = mapped(n.mmap(d, regionOffset(0), n.pageSize, rw()));
      const m2 = mapped(n.mmap(d, regionOffset(sub), n.pageSize, rw()));
      const m3 = mapped(n.mmap(d, regionOffset(5), n.pageSize, n.PROT_READ));
      expect(shmMaps()).toBe(3);
      new Uint8Array(m1.buffer!)[0] = 1;
      const backing = n.simBacking(d, 0)!.path;
      const ino = statSync(backing).ino;
      const f = openSync(backing, 'r');
      const b = Buffer.alloc(1);
      readSync(f, b, 0, 1, 0);
      closeSync(f);
      expect(b[0]).toBe(1);
      n.close(d);
      expect(m1.buffer!.byteLength).toBe(0);
      expect(m2.buffer!.byteLength).toBe(0);
      for (const m of [m1, m2, m3]) expect(thrown(() => n.mmioRead(m.handle, 0, 8))).toMatchObject({ code: 'ERR_UNMAPPED' });
      expect(shmMaps()).toBe(0);
      for (const m of [m1, m2, m3]) expect(mapsLine(m.address)).toBeDefined(); // anonymous pages until collected
      expect(openFds()).toBe(fds);
      // the /proc path no longer reaches that memory (the number may have been reused: then by another file)
      expect(existsSync(backing) ? statSync(backing).ino : -1).not.toBe(ino);
      expect(readdirSync(shmDir)).toEqual([]);
      expect(n.munmap(m1.handle)).toBeUndefined(); // already revoked: a no-op
    });
    it('many devices and mappings come and go without leaking fds, devices or files', () => {
      const fds = openFds();
      const devices = n.stats().openDevices;
      for (let i = 0; i < 20; i++) {
        const d = n.simCreate(standardConfig({ shmDir }));
        for (let k = 0; k < 4; k++) mapped(n.mmap(d, regionOffset(0) + BigInt(k) * ps(), n.pageSize, k & 1 ? n.PROT_READ : rw()));
        n.close(d);
      }
      expect(openFds()).toBe(fds);
      expect(n.stats().openDevices).toBe(devices);
      expect(readdirSync(shmDir)).toEqual([]);
      expect(shmMaps()).toBe(0);
    });
    it('by default the memory is memfds: simBacking is /proc/<pid>/fd/<n> of a memfd', () => {
      const d = n.simCreate(standardConfig());
      try {
        const { path } = n.simBacking(d, 0)!;
        expect(path).toMatch(new RegExp(`^/proc/${process.pid}/fd/\\d+$`));
        expect(readlinkSync(path)).toBe('/memfd:vfio-sim (deleted)');
        expect(n.simBacking(d, 7)).toBeNull(); // config space: not memory
        expect(n.simBacking(d, 4)).toBeNull(); // I/O ports: not memory
        expect(n.simBacking(d, 99)).toBeNull();
        // sealed: nobody can shrink it under a mapping
        const f = openSync(path, 'r+');
        try {
          expect(() => ftruncateSync(f, 0)).toThrow(expect.objectContaining({ code: 'EPERM' }));
        } finally {
          closeSync(f);
        }
      } finally {
        n.close(d);
      }
    });
    it('a missing shmDir is an errno error and leaks nothing', () => {
      const fds = openFds();
      const devices = n.stats().openDevices;
      expectErrno(() => n.simCreate(standardConfig({ shmDir: join(shmDir, 'missing') })), 'ENOENT', 'simCreate');
      expect(openFds()).toBe(fds);
      expect(n.stats().openDevices).toBe(devices);
    });
    it('simMappings and simBacking refuse a device that is not simulated', () => {
      const f = n.open('/dev/null');
      try {
        expectArgError(() => n.simMappings(f), TypeError, /simulated/);
        expectArgError(() => n.simBacking(f, 0), TypeError, /simulated/);
      } finally {
        n.close(f);
      }
    });
  });

  describe('collection (finalizers run deferred: gc, then the event loop)', () => {
    it('a revoked mapping is released once its handle and buffer are collected', async () => {
      await collect();
      const ranges = n.stats().ranges;
      const address = (() => {
        const m = mapped(n.mmap(dev, regionOffset(1), n.pageSize, rw()));
        new Uint8Array(m.buffer!)[0] = 0x5a;
        expect(n.stats().ranges).toBe(ranges + 1);
        n.munmap(m.handle);
        expect(m.buffer!.byteLength).toBe(0);
        expect(thrown(() => n.mmioRead(m.handle, 0, 8))).toMatchObject({ code: 'ERR_UNMAPPED' });
        expect(n.stats().ranges).toBe(ranges + 1); // revoked, still reachable
        return m.address;
      })();
      expect(mapsLine(address)).not.toContain(shmDir);
      await collect(() => n.stats().ranges === ranges);
      expect(n.stats().ranges).toBe(ranges);
      expect(byteAt(dev, regionOffset(1))).toBe(0x5a);
    });
    it('a dropped live mapping, read-write or read-only, is revoked and released, and the device memory is left alone', async () => {
      await collect();
      const ranges = n.stats().ranges;
      // a pattern over the first 128 bytes: a finalizer that took the pages for its own bookkeeping would change it
      const pattern = Uint8Array.from({ length: 128 }, (_, i) => (i * 37 + 1) & 0xff);
      expect(n.pwrite(dev, pattern, regionOffset(0))).toBe(128);
      expect(n.pwrite(dev, pattern, regionOffset(5))).toBe(neg('EINVAL')); // read-only BAR: no pattern there
      (() => {
        const a = mapped(n.mmap(dev, regionOffset(0), n.pageSize, rw()));
        const b = mapped(n.mmap(dev, regionOffset(0) + ps(), n.pageSize, n.PROT_READ));
        const c = mapped(n.mmap(dev, regionOffset(5), n.pageSize, n.PROT_READ));
        expect([a, b, c].every((m) => m.handle !== undefined)).toBe(true);
        expect(n.stats().ranges).toBe(ranges + 3);
      })();
      expect(n.simMappings(dev)).toHaveLength(3);
      await collect(() => n.stats().ranges === ranges);
      expect(n.stats().ranges).toBe(ranges);
      expect(n.simMappings(dev)).toEqual([]);
      expect(shmMaps()).toBe(0);
      const back = new Uint8Array(128);
      expect(n.pread(dev, back, regionOffset(0))).toBe(128);
      expect(back).toEqual(pattern);
    });
    it('a mapping keeps its device alive after the device handle is dropped; both go once collected', async () => {
      await collect();
      const devices = n.stats().openDevices;
      const fds = openFds();
      let handle: MappingHandle | undefined = (() => {
        const d = n.simCreate(standardConfig({ shmDir }));
        expect(n.pwrite(d, Uint8Array.of(0x7e), regionOffset(0) + 9n)).toBe(1);
        return mapped(n.mmap(d, regionOffset(0), n.pageSize, n.PROT_READ)).handle;
      })();
      await collect();
      expect(n.mmioRead(handle, 9, 8)).toBe(0x7e);
      expect(n.stats().openDevices).toBe(devices + 1);
      expect(openFds()).toBe(fds + 7);
      handle = undefined;
      await collect(() => n.stats().openDevices === devices && openFds() === fds);
      expect(n.stats().openDevices).toBe(devices);
      expect(openFds()).toBe(fds);
    });
  });

  describe('in a child process (what would kill the process if the addon got it wrong)', () => {
    it('read-only and revoked mappings refuse stores and loads with ERR_READ_ONLY / ERR_UNMAPPED', () => {
      const out = child(`
        const d = n.simCreate(cfg);
        n.pwrite(d, Uint8Array.of(1, 2, 3, 4), 8192n);
        const ro = n.mmap(d, 8192n, 4096, n.PROT_READ);
        out.roBuffer = ro.buffer;
        out.roWrite = [8, 16, 32, 64].map((w) => code(() => n.mmioWrite(ro.handle, 0, w, w === 64 ? 1n : 1)));
        out.roRead = n.mmioRead(ro.handle, 0, 32);
        const m = n.mmap(d, 0n, 4096, n.PROT_READ | n.PROT_WRITE);
        const stale = new Uint8Array(m.buffer);
        n.munmap(m.handle);
        out.unmappedRead = code(() => n.mmioRead(m.handle, 0, 8));
        out.unmappedWrite = code(() => n.mmioWrite(m.handle, 0, 8, 1));
        out.unmappedCopy = code(() => n.copyFrom(m.handle, 0, new Uint8Array(8)));
        stale[0] = 1; // detached: a no-op
        out.stale = [stale.length, stale[0] ?? null];
        await settle(); // the buffer may go; the handle holds the range
        out.afterGc = code(() => n.mmioRead(m.handle, 0, 64));
        const c = n.mmap(d, 0n, 4096, n.PROT_READ | n.PROT_WRITE);
        n.close(d);
        await settle();
        out.afterClose = [code(() => n.mmioWrite(c.handle, 0, 32, 1)), code(() => n.mmioRead(ro.handle, 0, 8)), c.buffer.byteLength];
        out.oob = [code(() => n.mmioWrite(c.handle, 4096, 8, 1)), code(() => n.mmioRead(c.handle, 4095, 16))];
      `);
      expect(out).toEqual({
        roBuffer: null,
        roWrite: ['ERR_READ_ONLY', 'ERR_READ_ONLY', 'ERR_READ_ONLY', 'ERR_READ_ONLY'],
        roRead: 0x04030201,
        unmappedRead: 'ERR_UNMAPPED', unmappedWrite: 'ERR_UNMAPPED', unmappedCopy: 'ERR_UNMAPPED',
        stale: [0, null],
        afterGc: 'ERR_UNMAPPED',
        afterClose: ['ERR_UNMAPPED', 'ERR_UNMAPPED', 0],
        oob: ['ERR_UNMAPPED', 'ERR_UNMAPPED'],
      });
    });
    it('out-of-range MMIO on a live mapping is a RangeError before any access', () => {
      const out = child(`
        const d = n.simCreate(cfg);
        const m = n.mmap(d, 0n, 4096, n.PROT_READ | n.PROT_WRITE);
        out.codes = [
          code(() => n.mmioWrite(m.handle, 4096, 8, 1)), code(() => n.mmioWrite(m.handle, 4088, 64, 2n ** 63n + 5n)),
          code(() => n.mmioWrite(m.handle, 4092, 64, 1n)), code(() => n.mmioRead(m.handle, 2 ** 52, 8)),
          code(() => n.copyFrom(m.handle, 4000, new Uint8Array(97))),
        ];
        n.mmioWrite(m.handle, 4088, 64, 2n ** 63n + 5n);
        const b = new Uint8Array(8); n.pread(d, b, 4088n);
        out.last = [...b];
      `);
      expect(out).toEqual({
        codes: ['ERR_OUT_OF_RANGE', null, 'ERR_OUT_OF_RANGE', 'ERR_OUT_OF_RANGE', 'ERR_OUT_OF_RANGE'],
        last: [5, 0, 0, 0, 0, 0, 0, 0x80],
      });
    });
    it('a thread-pool job filling a buffer that is unmapped (or whose device is closed) under it finishes into ordinary memory', () => {
      const out = child(`
        const { randomFill } = await import('node:crypto');
        const d = n.simCreate(cfg);
        const results = [];
        for (let i = 0; i < 8; i++) {
          const m = n.mmap(d, BigInt(i) * 65536n, 65536, n.PROT_READ | n.PROT_WRITE);
          const done = new Promise((r) => randomFill(new Uint8Array(m.buffer), (err) => r(err ? err.code : 'ok')));
          if (i === 7) n.close(d); else n.munmap(m.handle);
          results.push(await done);
          await settle();
        }
        await settle();
        out.results = results;
        out.stats = n.stats();
      `);
      expect(out).toEqual({ results: Array(8).fill('ok'), stats: { openDevices: 0, ranges: 0, windows: 0, dmaMappings: 0, dmaBuffers: 0, eventfds: 0 } });
    });
    it('exits cleanly with devices, mappings, windows and revoked mappings still around, reachable or not', () => {
      const out = child(`
        globalThis.keep = [];
        for (let i = 0; i < 3; i++) {
          const d = n.simCreate(cfg);
          const mem = new WebAssembly.Memory({ initial: 1 });
          keep.push(n.mmap(d, 0n, 4096, n.PROT_READ | n.PROT_WRITE), n.mmap(d, 1n << 40n, 4096, n.PROT_READ));
          keep.push(n.wasmMap(d, 8192n, 8192, mem, 16384), mem);
          const gone = n.mmap(d, 4096n, 4096, n.PROT_READ | n.PROT_WRITE);
          keep.push(gone.buffer);
          n.munmap(gone.handle);
          n.mmap(d, 1n << 40n, 4096, n.PROT_READ); // dropped
          if (i === 1) keep.push(d);                 // reachable, or only through its mappings
          if (i === 2) n.close(d);
        }
        new Uint8Array(keep[0].buffer)[0] = 1;
        out.stats = n.stats();
      `);
      expect(out).toEqual({ stats: { openDevices: 2, ranges: 12, windows: 2, dmaMappings: 0, dmaBuffers: 0, eventfds: 0 } });
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

  it('open, pwrite, pread and close a regular file; mmap only of a file sealed against shrinking (a store past the end of a shrunk file would be SIGBUS)', () => {
    const p = join(dir, 'f');
    writeFileSync(p, Buffer.alloc(2 * n.pageSize));
    const f = n.open(p);
    const b = new Uint8Array(3);
    try {
      expect(n.pwrite(f, Uint8Array.of(9, 1, 2, 3), BigInt(n.pageSize))).toBe(4);
      expect(n.pread(f, b, BigInt(n.pageSize) + 1n)).toBe(3);
      expect([...b]).toEqual([1, 2, 3]);
      expect(n.mmap(f, BigInt(n.pageSize), n.pageSize, n.PROT_READ | n.PROT_WRITE)).toBe(neg('EPERM'));
      expect(n.mmap(f, 0n, n.pageSize, n.PROT_READ)).toBe(neg('EPERM'));
      expect(n.lastRule(f)).toBeNull();
      expect(n.pread(f, b, 1n << 63n)).toBe(neg('EINVAL'));
      expect(n.pread(f, b, 2n * BigInt(n.pageSize))).toBe(0); // end of file
    } finally {
      n.close(f);
    }
    n.close(f);
    expect(n.pread(f, b, 0n)).toBe(neg('EBADF'));
    // a simulator's memfd (sealed) through its /proc path: read-write and read-only, inside it only
    const sim = n.simCreate(standardConfig());
    const back = n.simBacking(sim, 0)!;
    const mf = n.open(back.path);
    try {
      const m = mapped(n.mmap(mf, back.offset + BigInt(n.pageSize), n.pageSize, n.PROT_READ | n.PROT_WRITE));
      new Uint8Array(m.buffer!)[0] = 9;
      new Uint8Array(m.buffer!)[1] = 1;
      expect(n.pread(sim, b, BigInt(n.pageSize))).toBe(3);
      expect([...b]).toEqual([9, 1, 0]);
      n.munmap(m.handle);
      expect(m.buffer!.byteLength).toBe(0);
      const ro = mapped(n.mmap(mf, back.offset + BigInt(n.pageSize), n.pageSize, n.PROT_READ));
      expect(ro.buffer).toBeNull();
      expect(n.mmioRead(ro.handle, 0, 16)).toBe(0x0109);
      n.munmap(ro.handle);
      expect(n.mmap(mf, 1n, n.pageSize, n.PROT_READ)).toBe(neg('EINVAL'));
      expect(n.mmap(mf, back.offset + back.size, n.pageSize, n.PROT_READ)).toBe(neg('EINVAL'));
    } finally {
      n.close(mf);
      n.close(sim);
    }
    expect(readFileSync(p)[n.pageSize]).toBe(9);
  });
  it('a regular file refuses an ioctl of the spec with -ENOTTY', () => {
    const p = join(dir, 'g');
    writeFileSync(p, 'x');
    const f = n.open(p);
    try {
      expect(n.ioctl(f, VFIO_DEVICE_GET_INFO, u32s(20, 0, 0, 0, 0))).toBe(neg('ENOTTY'));
    } finally {
      n.close(f);
    }
  });
  it('adoptFd works on a duplicate: closing the original fd, even reusing its number, does not affect the handle', () => {
    const p = join(dir, 'adopt');
    const q = join(dir, 'other');
    writeFileSync(p, 'adopted file');
    writeFileSync(q, 'other file!!');
    const fds = openFds();
    const fd = openSync(p, 'r+');
    const h = n.adoptFd(fd);
    expect(openFds()).toBe(fds + 2);
    closeSync(fd);
    // the lowest free number is the one just closed: the other file takes it
    const reused = openSync(q, 'r');
    try {
      expect(reused).toBe(fd);
      const b = new Uint8Array(12);
      expect(n.pread(h, b, 0n)).toBe(12);
      expect(Buffer.from(b).toString()).toBe('adopted file');
      expect(n.pwrite(h, Buffer.from('A'), 0n)).toBe(1);
      expect(readFileSync(p, 'utf8')).toBe('Adopted file');
      expect(readFileSync(q, 'utf8')).toBe('other file!!');
    } finally {
      closeSync(reused);
    }
    n.close(h);
    expect(openFds()).toBe(fds);
    expect(n.pread(h, new Uint8Array(1), 0n)).toBe(neg('EBADF'));
  });
  it('adoptFd of a closed fd throws EBADF; closing the handle leaves the caller its fd', () => {
    const p = join(dir, 'keep');
    writeFileSync(p, 'still mine');
    const fd = openSync(p, 'r');
    try {
      n.close(n.adoptFd(fd));
      const b = Buffer.alloc(10);
      expect(readSync(fd, b, 0, 10, 0)).toBe(10);
      expect(b.toString()).toBe('still mine');
    } finally {
      closeSync(fd);
    }
    expectErrno(() => n.adoptFd(fd), 'EBADF', 'fcntl');
  });
  it('open of a missing file is ENOENT with code, errno, syscall and the path', () => {
    const e = thrown(() => n.open('/nonexistent/vfio'));
    expect(e).toMatchObject({ code: 'ENOENT', errno: 2, syscall: 'open' });
    expect(e.message).toBe('open(/nonexistent/vfio): ENOENT (No such file or directory)');
  });
  it('openGroupDevice fails cleanly at each step and closes what it opened', () => {
    const fds = openFds();
    expectErrno(() => n.openGroupDevice('/nonexistent/vfio', '/dev/null', 'x'), 'ENOENT', 'open');
    // /dev/null answers VFIO_GET_API_VERSION with ENOTTY
    const e = thrown(() => n.openGroupDevice('/dev/null', '/dev/null', '0000:00:00.0'));
    expect(e).toMatchObject({ code: 'ENOTTY', errno: 25, syscall: 'ioctl' });
    expect(e.message).toMatch(/^openGroupDevice: .*VFIO_GET_API_VERSION/);
    expect(openFds()).toBe(fds);
  });
  it('openCdevDevice fails cleanly and closes what it opened', () => {
    const fds = openFds();
    expectErrno(() => n.openCdevDevice('/nonexistent/vfio0', '/dev/null'), 'ENOENT', 'open');
    expectErrno(() => n.openCdevDevice('/dev/null', '/nonexistent/iommu'), 'ENOENT', 'open');
    const e = thrown(() => n.openCdevDevice('/dev/null', '/dev/null'));
    expect(e).toMatchObject({ code: 'ENOTTY', syscall: 'ioctl' });
    expect(e.message).toMatch(/VFIO_DEVICE_BIND_IOMMUFD/);
    expect(openFds()).toBe(fds);
  });
  it.skipIf(!existsSync('/dev/vfio/vfio'))(`opens /dev/vfio/vfio${existsSync('/dev/vfio/vfio') ? '' : ' (skipped: there is no /dev/vfio/vfio here)'}`, () => {
    try {
      n.close(n.open('/dev/vfio/vfio'));
    } catch (e) {
      expect((e as { code?: string }).code).toMatch(/EACCES|EPERM/);
    }
  });
});
