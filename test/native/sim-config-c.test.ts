// tools/sim-config-c.ts: a SimConfig printed as a C initializer header. What a C program that
// includes the header hands sim_create (test/native/sim_config_dump.c prints every field) must be,
// field by field, what the SimConfig says, read the way the addon's parser reads it
// (native/addon/sim_config.c); and the printer refuses what it does not know rather than drop it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT as root } from '../../codegen/paths.js';
import type { SimConfig, SimRegionConfig } from '../../runtime/src/native.js';
import { BENCH_DEVICE } from '../../tools/bench.js';
import { simConfigToC } from '../../tools/sim-config-c.js';
import { standardConfig } from './helpers.js';

const CC = process.env.CC ?? 'gcc';
let work: string;
let seq = 0;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'vfio-sim-config-c-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The struct sim_config the header defines, as sim_config_dump.c prints it. */
function dump(config: SimConfig): unknown {
  const dir = mkdtempSync(join(work, `case${seq++}-`));
  writeFileSync(join(dir, 'dumped.h'), simConfigToC(config, 'dumped'));
  const exe = join(dir, 'dump');
  const build = spawnSync(CC, ['-std=gnu11', '-Wall', '-Wextra', '-Werror', '-I', dir, '-I', join(root, 'native/src'),
    join(root, 'test/native/sim_config_dump.c'), '-o', exe], { encoding: 'utf8' });
  expect(build.status, build.stderr).toBe(0);
  const run = spawnSync(exe, { encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout);
}

// enum sim_region_kind (native/src/sim.h) and the addon's defaults, written out here
const KIND = { none: 0, memory: 1, io: 2, config: 3 } as const;
const DEFAULT_VENDOR = 0x1b36;
const DEFAULT_DEVICE = 0x0005;

/** What the addon's parser makes of a SimConfig, in sim_config_dump.c's shape. */
function expected(c: SimConfig): unknown {
  const region = (r: SimRegionConfig) => ({
    size: String(r.size), kind: KIND[r.kind], readable: Number(r.readable), writable: Number(r.writable), mmap: Number(r.mmap),
    supported_attrs: r.supportedAttrs,
    nr_sparse: r.sparse?.length ?? 0,
    sparse_null: Number(!r.sparse?.length),
    sparse: (r.sparse ?? []).map((a) => ({ offset: String(a.offset), size: String(a.size) })),
    has_type: Number(r.type !== undefined), type: r.type?.type ?? 0, subtype: r.type?.subtype ?? 0,
    msix_mappable: Number(r.msixMappable ?? false), prefetchable: Number(r.prefetchable ?? false),
  });
  return {
    nr_regions: c.regions.length, num_irqs: c.numIrqs, max_subregions: c.maxSubregions, shm_dir: c.shmDir ?? null,
    vendor_id: c.vendorId ?? DEFAULT_VENDOR, device_id: c.deviceId ?? DEFAULT_DEVICE, class_code: c.classCode ?? 0,
    msi: c.msi ?? 0, msix: c.msix ?? 0, no_reset: c.reset === false ? 1 : 0,
    // enum sim_model (native/src/sim.h): SIM_MODEL_NONE 0, SIM_MODEL_E1000E 1
    model: c.model === 'e1000e' ? 1 : 0,
    iommu: c.iommu === undefined ? null
      : { dma_limit: c.iommu.dmaLimit ?? 0, ranges: c.iommu.iovaRanges.map((r) => ({ start: String(r.start), end: String(r.end) })) },
    regions: c.regions.map(region),
  };
}

const mem = (over: Partial<SimRegionConfig> = {}): SimRegionConfig =>
  ({ size: 0x10000n, kind: 'memory', readable: true, writable: true, mmap: true, supportedAttrs: 0, ...over });

describe('simConfigToC', () => {
  it('the standard test device: the header compiles and holds every field of standardConfig()', () => {
    const c = standardConfig();
    const got = dump(c);
    expect(got).toEqual(expected(c));
    // and what the sanitizer driver's known answers lean on, written out
    expect(got).toMatchObject({ nr_regions: 9, num_irqs: 5, max_subregions: 6, shm_dir: null });
    expect((got as { regions: unknown[] }).regions[2]).toMatchObject({
      size: '65536', supported_attrs: 1, nr_sparse: 2, msix_mappable: 1,
      sparse: [{ offset: '0', size: '16384' }, { offset: '32768', size: '32768' }],
    });
  });

  it('the bench device: the header compiles and holds every field of BENCH_DEVICE', () => {
    const got = dump(BENCH_DEVICE);
    expect(got).toEqual(expected(BENCH_DEVICE));
    expect(got).toMatchObject({ nr_regions: 1, num_irqs: 1, max_subregions: 4096 });
  });

  it('every field, set and unset, at the edges of its C type', () => {
    const c: SimConfig = {
      regions: [
        mem({ size: 1n << 40n, supportedAttrs: 0xffffffff, prefetchable: true, msixMappable: false, sparse: [] }),
        mem({ sparse: [{ offset: 0n, size: 0x1000n }, { offset: 0x2000n, size: 0x1000n }, { offset: 0xf000n, size: 0x1000n }], msixMappable: true }),
        mem({ size: 0xffffffffffffffffn, type: { type: 0xffffffff, subtype: 0 }, readable: false, writable: false, mmap: false }),
        { size: 8n, kind: 'io', readable: true, writable: false, mmap: false, supportedAttrs: 0, type: { type: 1, subtype: 2 } },
        { size: 4096n, kind: 'config', readable: true, writable: true, mmap: false, supportedAttrs: 0 },
        { size: 0n, kind: 'none', readable: false, writable: false, mmap: false, supportedAttrs: 0, prefetchable: undefined },
      ],
      numIrqs: 0xffffffff,
      msi: 32,
      msix: 2048,
      reset: false,
      iommu: { iovaRanges: [{ start: 0n, end: 0xfffffn }, { start: 1n << 40n, end: 0xffffffffffffffffn }], dmaLimit: 0xffffffff },
      maxSubregions: 0,
      shmDir: '/dev/shm/a "quoted" \\ dir??=\n\there',
      vendorId: 0xffff,
      deviceId: 0,
      classCode: 0xffffff,
      model: 'e1000e',
    };
    expect(dump(c)).toEqual(expected(c));
    expect(dump({ regions: [], numIrqs: 0, maxSubregions: 1 })).toEqual(
      { nr_regions: 0, num_irqs: 0, max_subregions: 1, shm_dir: null, vendor_id: 0x1b36, device_id: 5, class_code: 0,
        msi: 0, msix: 0, no_reset: 0, model: 0, iommu: null, regions: [] });
  });

  it('refuses a field it does not know, at every level, naming it', () => {
    const base = standardConfig();
    const withRegion = (r: object): SimConfig => ({ ...base, regions: [r as SimRegionConfig] });
    const cases: [string, unknown, RegExp][] = [
      ['config', { ...base, maxMappings: 3 }, /config\.maxMappings is not a field the C printer knows/],
      ['config, undefined', { ...base, futureField: undefined }, /config\.futureField is not a field/],
      ['config, a symbol', { ...base, [Symbol('x')]: 1 }, /config\.Symbol\(x\) is not a field/],
      ['region', withRegion(mem({ cacheable: true } as Partial<SimRegionConfig>)), /config\.regions\[0\]\.cacheable is not a field/],
      ['sparse area', withRegion(mem({ sparse: [{ offset: 0n, size: 4096n, prot: 1 } as never] })), /config\.regions\[0\]\.sparse\[0\]\.prot is not a field/],
      ['type', withRegion(mem({ type: { type: 1, subtype: 2, version: 1 } as never })), /config\.regions\[0\]\.type\.version is not a field/],
    ];
    for (const [what, c, msg] of cases) expect(() => simConfigToC(c as SimConfig, 'x'), what).toThrow(msg);
  });

  it('refuses values it cannot print as their C type', () => {
    const base = standardConfig();
    const withRegion = (over: object): SimConfig => ({ ...base, regions: [{ ...mem(), ...over } as SimRegionConfig] });
    const cases: [string, unknown, RegExp][] = [
      ['size a number', withRegion({ size: 4096 }), /regions\[0\]\.size must be a bigint/],
      ['size 2n ** 64n', withRegion({ size: 1n << 64n }), /regions\[0\]\.size must be a bigint/],
      ['size negative', withRegion({ size: -1n }), /regions\[0\]\.size must be a bigint/],
      ['kind', withRegion({ kind: 'rom' }), /regions\[0\]\.kind must be one of/],
      ['kind from the prototype', withRegion({ kind: 'toString' }), /regions\[0\]\.kind must be one of/],
      ['readable missing', withRegion({ readable: undefined }), /regions\[0\]\.readable must be a boolean/],
      ['mmap 1', withRegion({ mmap: 1 }), /regions\[0\]\.mmap must be a boolean/],
      ['msixMappable null', withRegion({ msixMappable: null }), /regions\[0\]\.msixMappable must be a boolean or absent/],
      ['supportedAttrs 2 ** 32', withRegion({ supportedAttrs: 2 ** 32 }), /supportedAttrs must be an integer in \[0, 4294967295\]/],
      ['supportedAttrs 0.5', withRegion({ supportedAttrs: 0.5 }), /supportedAttrs must be an integer/],
      ['sparse not an array', withRegion({ sparse: {} }), /regions\[0\]\.sparse must be an array/],
      ['sparse area offset', withRegion({ sparse: [{ offset: 0, size: 1n }] }), /sparse\[0\]\.offset must be a bigint/],
      ['type subtype', withRegion({ type: { type: 1 } }), /type\.subtype must be an integer/],
      ['region null', { ...base, regions: [null] }, /regions\[0\] must be an object/],
      ['regions not an array', { ...base, regions: {} }, /config\.regions must be an array/],
      ['numIrqs -1', { ...base, numIrqs: -1 }, /config\.numIrqs must be an integer/],
      ['maxSubregions missing', { ...base, maxSubregions: undefined }, /config\.maxSubregions must be an integer/],
      ['vendorId 0x10000', { ...base, vendorId: 0x10000 }, /config\.vendorId must be an integer in \[0, 65535\]/],
      ['classCode 2 ** 24', { ...base, classCode: 2 ** 24 }, /config\.classCode must be an integer in \[0, 16777215\]/],
      ['model rtl8139', { ...base, model: 'rtl8139' as 'e1000e' }, /config\.model must be one of e1000e or absent/],
      ['shmDir a number', { ...base, shmDir: 1 }, /config\.shmDir must be a string/],
      ['shmDir with a NUL', { ...base, shmDir: '/tmp/a\0b' }, /config\.shmDir must not contain a NUL/],
    ];
    for (const [what, c, msg] of cases) expect(() => simConfigToC(c as SimConfig, 'x'), what).toThrow(msg);
    expect(() => simConfigToC(base, 'not an identifier')).toThrow(/is not a C identifier/);
    expect(() => simConfigToC(base, '9lives')).toThrow(/is not a C identifier/);
  });
});
