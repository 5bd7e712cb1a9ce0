import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mmapRuleFor, openDevice, type Device } from '../../runtime/src/device.js';
import { main as cli } from '../../cli/commands.js';
import { NIC_LAYOUT } from '../../runtime/src/sim-presets.js';
import { MmapRules, VfioRegionAttr, VfioRegionInfoFlags as RF } from '../../runtime/src/generated/vfio-subregion.js';

const WC = VfioRegionAttr.VFIO_REGION_ATTR_WC;
const openFds = (): number => readdirSync('/proc/self/fd').length;

/** A full collection before reading RSS (vitest.config.ts runs the workers with --expose-gc). */
function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc (vitest.config.ts sets it) so RSS readings are meaningful');
  gc();
}

function withSim<T>(fn: (dev: Device) => T): T {
  const dev = openDevice('sim');
  try {
    return fn(dev);
  } finally {
    dev.close();
  }
}

describe('the device API on the default simulated NIC', () => {
  it('lists the regions with decoded capabilities', () => {
    withSim((dev) => {
      const regions = dev.regions();
      expect(regions).toHaveLength(9);
      expect(regions[0]).toMatchObject({ index: 0, size: 0x40000n, flags: RF.VFIO_REGION_INFO_FLAG_READ | RF.VFIO_REGION_INFO_FLAG_WRITE | RF.VFIO_REGION_INFO_FLAG_MMAP, attrs: 0, subregion: null, sparse: null });
      expect(regions[2]!.sparse).toEqual([{ offset: 0n, size: 0x2000n }, { offset: 0x3000n, size: 0x1000n }]);
      expect(regions[2]!.caps.map((c) => c.name)).toEqual(['VFIO_REGION_INFO_CAP_SPARSE_MMAP', 'VFIO_REGION_INFO_CAP_MSIX_MAPPABLE']);
      expect(regions[1]!.size).toBe(0n);
      expect(dev.support()).toEqual({ subregion: true, regionAttrsGet: true, regionAttrsSet: true });
      expect(dev.regionAttrs(0)).toEqual({ attrs: 0, supported: WC });
      expect(dev.regionAttrs(7)).toEqual({ attrs: 0, supported: 0 });
    });
  });

  it('creates a WC subregion, maps it beside the UC registers, and the device sees both', () => {
    withSim((dev) => {
      const sub = dev.createSubregion({ parent: 0, offset: NIC_LAYOUT.txPush.offset, size: NIC_LAYOUT.txPush.size, attrs: WC });
      expect(sub).toMatchObject({ index: 9, size: NIC_LAYOUT.txPush.size, attrs: WC, subregion: { parent: 0, offset: NIC_LAYOUT.txPush.offset } });
      expect(sub.flags & RF.VFIO_REGION_INFO_FLAG_CAPS).not.toBe(0);
      expect(dev.info().numRegions).toBe(10);
      const regs = dev.map(0, { length: 0x1000 });
      const push = dev.map(sub);
      push.write64(0, 0x1122334455667788n);
      regs.write32(NIC_LAYOUT.doorbell, 0xcafe);
      expect(regs.attrs).toBe(0);
      expect(push.attrs).toBe(WC);
      // The parent BAR, read through the fd, shows what went through the subregion's mapping.
      expect(Buffer.from(dev.read(0, NIC_LAYOUT.txPush.offset, 8)).readBigUInt64LE(0)).toBe(0x1122334455667788n);
      const backing = dev.simBacking(0)!;
      const file = readFileSync(backing.path);
      expect(file.readUInt32LE(Number(backing.offset) + NIC_LAYOUT.doorbell)).toBe(0xcafe);
      expect(dev.simMappings().map((m) => ({ index: m.index, attrs: m.attrs }))).toEqual([{ index: 0, attrs: 0 }, { index: 9, attrs: WC }]);
    });
  });

  it('virtualizes config space: identity, BAR types and the sizing protocol', () => {
    withSim((dev) => {
      const h = Buffer.from(dev.read(7, 0, 0x40));
      expect([h.readUInt16LE(0), h.readUInt16LE(2), h.readUInt32LE(8) >>> 8]).toEqual([0x1b36, 0x0005, 0x020000]);
      // BAR0: 256 KiB prefetchable 32-bit memory; BAR2 16 KiB non-prefetchable; BAR4 256 I/O ports; BAR1/3/5 unimplemented.
      expect([0, 1, 2, 3, 4, 5].map((i) => h.readUInt32LE(0x10 + 4 * i) & 0xf)).toEqual([0x8, 0, 0, 0, 0x1, 0]);
      const size = (bar: number): number => {
        dev.write(7, 0x10 + 4 * bar, new Uint8Array([0xff, 0xff, 0xff, 0xff]));
        return Buffer.from(dev.read(7, 0x10 + 4 * bar, 4)).readUInt32LE(0);
      };
      expect(size(0)).toBe(0xfffc0008);
      expect(size(2)).toBe(0xffffc000);
      expect(size(4)).toBe(0xffffff01);
      expect(size(1)).toBe(0);
      expect(dev.regions()).toHaveLength(9);
    });
  });

  it('sets whole-region attributes only while the region is unmapped', () => {
    withSim((dev) => {
      dev.setRegionAttrs(0, WC);
      expect(dev.region(0).attrs).toBe(WC);
      const m = dev.map(0, { length: 0x1000 });
      expect(m.attrs).toBe(WC);
      expect(() => dev.setRegionAttrs(0, 0)).toThrow(expect.objectContaining({ code: 'EBUSY' }));
      m.unmap();
      dev.setRegionAttrs(0, 0);
      expect(dev.region(0).attrs).toBe(0);
    });
  });
});

describe('one memory type per page through the device API', () => {
  it('a refused map carries EBUSY and the rule, and the device stays usable', () => {
    withSim((dev) => {
      const sub = dev.createSubregion({ parent: 0, offset: NIC_LAYOUT.txPush.offset, size: NIC_LAYOUT.txPush.size, attrs: WC });
      const push = dev.map(sub);
      let err: (Error & { code?: string; rule?: string }) | undefined;
      try { dev.map(0); } catch (e) { err = e as Error & { code?: string; rule?: string }; }
      expect(err).toBeInstanceOf(Error);
      expect({ code: err!.code, rule: err!.rule }).toEqual({ code: 'EBUSY', rule: 'one-memtype-per-page' });
      expect(err!.message).toMatch(/rule one-memtype-per-page$/);
      expect(dev.simMappings().map((m) => m.address)).toEqual([push.address]);   // the refused one mapped nothing
      // SET of the BAR is refused while its window is mapped: not-mapped counts subregion mappings
      expect(() => dev.setRegionAttrs(0, WC)).toThrow(expect.objectContaining({ code: 'EBUSY', rule: 'not-mapped' }));
      const regs = dev.map(0, { length: Number(NIC_LAYOUT.registers.size) });
      expect([regs.attrs, push.attrs]).toEqual([0, WC]);
      push.unmap();
      regs.unmap();
      dev.setRegionAttrs(0, WC);
      expect(dev.map(0).attrs).toBe(WC);
    });
  });
  it('names the mmap rule from the errno alone, as it must for a kernel (which names no rule)', () => {
    expect(mmapRuleFor('EBUSY')).toBe('one-memtype-per-page');
    expect(mmapRuleFor('EINVAL')).toBeNull();
    expect(MmapRules.map((r) => r.rule)).toContain('one-memtype-per-page');
  });
  it('a mapping reports the attributes its page tables got, even from region info read before a SET', () => {
    withSim((dev) => {
      const before = dev.region(0);
      expect(before.attrs).toBe(0);
      dev.setRegionAttrs(0, WC);
      const m = dev.map(before, { length: 0x1000 });
      expect(m.attrs).toBe(WC);
      expect(dev.simMappings()[0]!.attrs).toBe(WC);
    });
  });
  it('a subregion of a sparse BAR reports the areas within it (SPARSE_MMAP), zero areas inside the hole', () => {
    withSim((dev) => {
      // BAR2: 16 KiB, areas [0, 0x2000) and [0x3000, 0x4000)
      const straddling = dev.createSubregion({ parent: 2, offset: 0x1000n, size: 0x3000n });
      expect(straddling.sparse).toEqual([{ offset: 0n, size: 0x1000n }, { offset: 0x2000n, size: 0x1000n }]);
      expect(straddling.caps.map((c) => c.name)).toEqual(['VFIO_REGION_INFO_CAP_SUBREGION', 'VFIO_REGION_INFO_CAP_SPARSE_MMAP']);
      const hole = dev.createSubregion({ parent: 2, offset: 0x2000n, size: 0x1000n });
      expect(hole.sparse).toEqual([]);
      expect(hole.flags & RF.VFIO_REGION_INFO_FLAG_MMAP).toBe(RF.VFIO_REGION_INFO_FLAG_MMAP);
      expect(() => dev.map(hole)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
      expect(() => dev.map(straddling)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
      dev.map(straddling, { offset: 0x2000n, length: 0x1000 }).unmap();
      // a window of a BAR without sparse areas reports none
      expect(dev.createSubregion({ parent: 0, offset: 0n, size: 0x1000n }).sparse).toBeNull();
    });
  });
  it('a BAR just under the 1 TiB of fd offsets its index owns: its last page is a window; a 1 TiB BAR is refused', () => {
    const size = (1n << 40n) - 0x1000n;
    const dev = openDevice({ simulator: { regions: [{ size, kind: 'memory', readable: true, writable: true, mmap: true, supportedAttrs: WC }], numIrqs: 1, maxSubregions: 2 } });
    try {
      const last = dev.createSubregion({ parent: 0, offset: size - 0x1000n, size: 0x1000n, attrs: WC });
      expect(last.subregion).toEqual({ parent: 0, offset: size - 0x1000n });
      const m = dev.map(last);
      m.write32(0, 0x600dcafe);
      expect(Buffer.from(dev.read(0, size - 0x1000n, 4)).readUInt32LE(0)).toBe(0x600dcafe);
      m.unmap();
    } finally {
      dev.close();
    }
    expect(() => openDevice({ simulator: { regions: [{ size: 1n << 40n, kind: 'memory', readable: true, writable: true, mmap: true, supportedAttrs: WC }], numIrqs: 1, maxSubregions: 2 } })).toThrow();
  });
});

describe('bad input: a clear error, never a crash, and the device stays usable', () => {
  it('a missing device path', () => {
    expect(() => openDevice({ cdev: '/dev/vfio/devices/vfio4242' })).toThrow(expect.objectContaining({ code: 'ENOENT', operation: 'openDevice', message: 'openDevice: /dev/vfio/devices/vfio4242: no such device (ENOENT)' }));
    expect(() => openDevice('0000:7f:1f.7')).toThrow(expect.objectContaining({ code: 'ENODEV', message: 'openDevice: 0000:7f:1f.7: no such PCI device (lspci -D lists the addresses) (ENODEV)' }));
    // the short form lspci prints means domain 0000, as sysfs spells it
    expect(() => openDevice('7F:1f.7')).toThrow(expect.objectContaining({ code: 'ENODEV', message: 'openDevice: 0000:7f:1f.7: no such PCI device (lspci -D lists the addresses) (ENODEV)' }));
    expect(() => openDevice('gpu0')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });

  it('a path that is not a VFIO device', () => {
    expect(() => openDevice({ cdev: '/dev/null' })).toThrow(expect.objectContaining({ code: 'ENODEV', message: 'openDevice: /dev/null is not a VFIO device: it is a mem character device (1:3) (ENODEV)' }));
    expect(() => openDevice({ group: tmpdir(), device: '0000:00:03.0' })).toThrow(expect.objectContaining({ code: 'ENODEV', message: expect.stringMatching(/not a character device/) }));
  });

  it('permission denied', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vfio-perm-'));
    chmodSync(dir, 0o755);
    const node = join(dir, 'vfio0');
    writeFileSync(node, '');
    chmodSync(node, 0o600);
    // As an unprivileged user (root would bypass the mode bits).
    const script = `import('${new URL('../../runtime/src/device.ts', import.meta.url).pathname.replace(/\.ts$/, '.js').replace('/runtime/', '/dist/runtime/')}')` +
      `.then((m) => { try { m.openDevice({ cdev: ${JSON.stringify(node)} }); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); } })`;
    const uid = process.getuid?.() ?? 0;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', ...(uid === 0 ? { uid: 65534, gid: 65534 } : {}) });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ code: 'EACCES', message: `openDevice: ${node}: permission denied (it needs read and write access) (EACCES)` });
  });

  it('double close and use after close', () => {
    const dev = openDevice('sim');
    const m = dev.map(0, { length: 0x1000 });
    dev.close();
    expect(dev.closed).toBe(true);
    expect(() => dev.close()).not.toThrow();
    expect(() => dev.regions()).toThrow(expect.objectContaining({ code: 'ERR_DEVICE_CLOSED', message: 'device simulator is closed' }));
    expect(() => dev.createSubregion({ parent: 0, offset: 0, size: 4096 })).toThrow(expect.objectContaining({ code: 'ERR_DEVICE_CLOSED' }));
    expect(m.mapped).toBe(false);
    expect(() => m.read32(0)).toThrow(expect.objectContaining({ code: 'ERR_UNMAPPED' }));
    expect(() => m.unmap()).not.toThrow();
  });

  it('mapping a region that cannot be mmapped, or past its end', () => {
    withSim((dev) => {
      expect(() => dev.map(7)).toThrow(expect.objectContaining({ code: 'EINVAL', operation: 'map', message: 'map: region 7 cannot be mmapped (EINVAL)' }));
      expect(() => dev.map(4)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
      expect(() => dev.map(0, { offset: 0x40000n, length: 0x1000 })).toThrow(/run past the end of region 0/);
      expect(() => dev.map(0, { offset: 0x41000n })).toThrow(/past the end of region 0/);
      expect(() => dev.map(2, { offset: 0x2000n, length: 0x1000 })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
      expect(() => dev.map(0, { offset: 1n, length: 0x1000 })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
      expect(dev.map(0, { length: 0x1000 }).read32(0)).toBe(0);
    });
  });

  it('arguments of the wrong kind from JS', () => {
    withSim((dev) => {
      const bad: [() => unknown, RegExp][] = [
        [() => dev.createSubregion({ parent: 0, offset: -4096, size: 4096 }), /request.offset: expected a non-negative safe integer or a bigint, got -4096/],
        [() => dev.createSubregion({ parent: 0, offset: 1n << 64n, size: 4096 }), /request.offset: expected a value in \[0, 2\^64\), got 18446744073709551616n/],
        [() => dev.createSubregion({ parent: 0, offset: Number.NaN, size: 4096 }), /request.offset: expected a non-negative safe integer or a bigint, got NaN/],
        [() => dev.createSubregion({ parent: 0, offset: '4096' as unknown as number, size: 4096 }), /request.offset: expected a bigint or a number, got "4096"/],
        [() => dev.createSubregion({ parent: -1, offset: 0, size: 4096 }), /request.parent: expected an integer in \[0, 4294967295\], got -1/],
        [() => dev.createSubregion({ parent: 0, offset: 0, size: 4096, attrs: 2 ** 32 }), /request.attrs: expected an integer/],
        [() => dev.region(Number.NaN), /index: expected an integer/],
        [() => dev.region('0' as unknown as number), /index: expected a number, got "0"/],
        [() => dev.map(0, { length: -1 }), /options.length: expected a positive safe integer, got -1/],
        [() => dev.map(0, { length: 0x1000 }).write32(0, 2 ** 32), /value: expected an integer in \[0, 4294967295\]/],
        [() => dev.map(0, { length: 0x1000 }).read32(4094), /must be aligned and inside the 4096-byte mapping/],
      ];
      for (const [fn, message] of bad) expect(fn).toThrow(message);
      // The kernel's own refusals arrive as errno codes.
      expect(() => dev.createSubregion({ parent: 0, offset: 0x1000n, size: 0x800n, attrs: WC })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
      expect(() => dev.createSubregion({ parent: 3, offset: 0, size: 4096 })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
      expect(() => dev.createSubregion({ parent: 2, offset: 0, size: 4096, attrs: WC })).toThrow(expect.objectContaining({ code: 'EOPNOTSUPP' }));
      // Still usable.
      const sub = dev.createSubregion({ parent: 0, offset: 0x1000n, size: 0x1000n, attrs: WC });
      expect(dev.region(sub.index).subregion).toEqual({ parent: 0, offset: 0x1000n });
    });
  });
});

describe('no leaks', () => {
  it('10,000 create/map/unmap cycles leave open fds and RSS flat', () => {
    const cycle = (dev: Device, i: number) => {
      const sub = dev.createSubregion({ parent: 0, offset: BigInt(i % 32) * 0x1000n, size: 0x1000n, attrs: i % 2 });
      const m = dev.map(sub);
      m.write32(0, i);
      m.unmap();
    };
    const run = (devices: number, perDevice: number) => {
      for (let d = 0; d < devices; d++) {
        const dev = openDevice({ simulator: { regions: [{ size: 0x40000n, kind: 'memory', readable: true, writable: true, mmap: true, supportedAttrs: WC }], numIrqs: 1, maxSubregions: perDevice } });
        for (let i = 0; i < perDevice; i++) cycle(dev, i);
        dev.close();
      }
    };
    run(2, 1000);
    collect();
    const fds = openFds();
    const rss = process.memoryUsage().rss;
    run(10, 1000);
    collect();
    expect(openFds()).toBe(fds);
    expect(process.memoryUsage().rss - rss).toBeLessThan(16 * 1024 * 1024);
  });
});

describe('info command', () => {
  const capture = async (...argv: string[]) => {
    let out = '';
    let err = '';
    const status = await cli(argv, { out: (s) => { out += s; }, err: (s) => { err += s; } });
    return { status, out, err };
  };

  it('shows the simulated device like lspci -vv', async () => {
    const r = await capture('info');
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/^Device: simulator, 9 regions, 5 IRQs$/m);
    expect(r.out).toMatch(/^\tPCI: \[1b36:0005\] class 020000$/m);
    expect(r.out).toMatch(/^Region 0 \(BAR0\): size 256K \[read write mmap\] at fd offset 0x0\n\tBAR: memory, 32-bit, prefetchable\n\tAttributes: UC \(supported: WC\)$/m);
    expect(r.out).toMatch(/^Region 4 \(BAR4\): size 256 \[read write\] at fd offset 0x40000000000\n\tBAR: I\/O ports$/m);
    expect(r.out).toMatch(/^\tCapability: sparse mmap: \[0x0, \+8K\] \[0x3000, \+4K\]$/m);
    expect(r.out).toMatch(/^Mappings: none$/m);
  });

  it('--json gives the same facts for scripts', async () => {
    const r = await capture('info', '--json');
    const report = JSON.parse(r.out) as { numRegions: number; regions: { index: number; size: string; supportedAttrs: number }[] };
    expect(report.numRegions).toBe(9);
    expect(report.regions[0]).toMatchObject({ index: 0, size: '0x40000', supportedAttrs: WC });
  });

  it('demo shows a subregion with its parent, offset and attributes, and the mappings', async () => {
    const r = await capture('demo');
    expect(r.out).toMatch(/the device model sees both/);
    expect(r.out).toMatch(/^Region 9 \(subregion\): size 128K \[read write mmap caps\] at fd offset 0x90000000000\n\tParent: region 0 at \+0x20000\n\tAttributes: WC/m);
    expect(r.out).toMatch(/^\tregion 9 \+0x0 128K WC$/m);
  });

  it('a device that cannot be opened exits 2 with the reason, as misuse does', async () => {
    const r = await capture('info', '--device', '/dev/vfio/devices/vfio77');
    expect(r).toMatchObject({ status: 2, err: 'vfio-subregion: cannot open /dev/vfio/devices/vfio77: no such device (ENOENT)\n' });
    const u = await capture('info', '--verbose');
    expect(u).toMatchObject({ status: 2, err: 'vfio-subregion: unknown option --verbose (options: --device, --json)\n' });
  });
});
