import type { SimConfig, SimRegionConfig } from '../runtime/src/native.js';

/**
 * A {@link SimConfig} printed as a C header of initializers for native/src/sim.h, so that a device is
 * written down once, in TypeScript, and C programs that drive the simulator directly (the sanitizer
 * driver test/native/sim_driver.c, the bench baseline native/bench/bench_sim.c) build the same one:
 *
 *   static const struct sim_sparse_area NAME_sparse2[] = { ... };   (one per region with areas)
 *   static const struct sim_region_config NAME_regions[] = { ... };
 *   static const struct sim_config NAME = { ... };
 *
 * Every field of struct sim_config and struct sim_region_config is written out, with the meaning the
 * addon's parser (native/addon/sim_config.c) gives the SimConfig: an absent optional boolean is 0, an
 * absent `type` is has_type 0, absent ids are SIM_DEFAULT_VENDOR / SIM_DEFAULT_DEVICE / class 0, an
 * absent shmDir is NULL (a caller may still set shm_dir on a copy).
 *
 * It refuses (throws) a key it does not know, at any level, and a value of the wrong type or out of
 * its C type's range: a field added to SimConfig cannot be dropped from the C side in silence. The
 * key lists below are typed against the interfaces, so adding a field there fails the typecheck here
 * first.
 */

const CONFIG_KEYS = {
  regions: true, numIrqs: true, msi: true, msix: true, reset: true, iommufd: true, iommu: true, maxSubregions: true, shmDir: true,
  vendorId: true, deviceId: true, classCode: true, model: true,
} as const satisfies Record<keyof SimConfig, true>;
const IOMMU_KEYS = { iovaRanges: true, dmaLimit: true } as const satisfies Record<keyof NonNullable<SimConfig['iommu']>, true>;
const RANGE_KEYS = { start: true, end: true } as const satisfies Record<keyof NonNullable<SimConfig['iommu']>['iovaRanges'][number], true>;
const REGION_KEYS = {
  size: true, kind: true, readable: true, writable: true, mmap: true, supportedAttrs: true,
  sparse: true, type: true, msixMappable: true, prefetchable: true,
} as const satisfies Record<keyof SimRegionConfig, true>;
const SPARSE_KEYS = { offset: true, size: true } as const satisfies Record<keyof NonNullable<SimRegionConfig['sparse']>[number], true>;
const TYPE_KEYS = { type: true, subtype: true } as const satisfies Record<keyof NonNullable<SimRegionConfig['type']>, true>;

const KINDS: Record<SimRegionConfig['kind'], string> = {
  memory: 'SIM_KIND_MEMORY', io: 'SIM_KIND_IO', config: 'SIM_KIND_CONFIG', none: 'SIM_KIND_NONE',
};

const MODELS: Record<NonNullable<SimConfig['model']>, string> = { e1000e: 'SIM_MODEL_E1000E' };

function model(v: unknown): string {
  if (v === undefined) return 'SIM_MODEL_NONE';
  if (typeof v !== 'string' || !Object.hasOwn(MODELS, v)) fail('config.model', `must be one of ${Object.keys(MODELS).join(', ')} or absent`);
  return MODELS[v as keyof typeof MODELS];
}

function fail(where: string, what: string): never {
  throw new Error(`simConfigToC: ${where} ${what}`);
}

function object(v: unknown, where: string, known: Record<string, true>): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(where, 'must be an object');
  for (const k of Reflect.ownKeys(v)) {
    if (typeof k !== 'string' || !Object.hasOwn(known, k)) {
      fail(`${where}.${String(k)}`, 'is not a field the C printer knows: teach tools/sim-config-c.ts (and struct sim_config) about it');
    }
  }
  return v as Record<string, unknown>;
}

const present = (o: Record<string, unknown>, k: string): boolean => o[k] !== undefined;

function u64(v: unknown, where: string): string {
  if (typeof v !== 'bigint' || v < 0n || v >= 1n << 64n) fail(where, 'must be a bigint in [0, 2n ** 64n)');
  return `UINT64_C(0x${v.toString(16)})`;
}

function uint(v: unknown, where: string, max: number): string {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) fail(where, `must be an integer in [0, ${max}]`);
  return `0x${v.toString(16)}u`;
}

function bool(v: unknown, where: string, optional: boolean): string {
  if (v === undefined && optional) return '0';
  if (typeof v !== 'boolean') fail(where, optional ? 'must be a boolean or absent' : 'must be a boolean');
  return v ? '1' : '0';
}

function cString(v: unknown, where: string): string {
  if (typeof v !== 'string') fail(where, 'must be a string');
  const bytes = Buffer.from(v, 'utf8');
  if (bytes.includes(0)) fail(where, 'must not contain a NUL');
  let s = '"';
  for (const b of bytes) {
    if (b === 0x22 || b === 0x5c) s += `\\${String.fromCharCode(b)}`;
    else if (b >= 0x20 && b < 0x7f && b !== 0x3f) s += String.fromCharCode(b); // '?': no trigraphs
    else s += `\\${b.toString(8).padStart(3, '0')}`;
  }
  return `${s}"`;
}

/** A SimConfig as a C header defining `name` (a C identifier); throws on what it cannot print. */
export function simConfigToC(config: SimConfig, name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) fail('name', `${JSON.stringify(name)} is not a C identifier`);
  const c = object(config, 'config', CONFIG_KEYS);
  if (!Array.isArray(c.regions)) fail('config.regions', 'must be an array');
  const arrays: string[] = [];
  const regions = (c.regions as unknown[]).map((raw, i) => {
    const at = `config.regions[${i}]`;
    const r = object(raw, at, REGION_KEYS);
    if (typeof r.kind !== 'string' || !Object.hasOwn(KINDS, r.kind)) fail(`${at}.kind`, `must be one of ${Object.keys(KINDS).join(', ')}`);
    let sparse = 'NULL';
    let nrSparse = 0;
    if (present(r, 'sparse')) {
      if (!Array.isArray(r.sparse)) fail(`${at}.sparse`, 'must be an array');
      const areas = (r.sparse as unknown[]).map((a, k) => {
        const o = object(a, `${at}.sparse[${k}]`, SPARSE_KEYS);
        return `\t{ .offset = ${u64(o.offset, `${at}.sparse[${k}].offset`)}, .size = ${u64(o.size, `${at}.sparse[${k}].size`)} },`;
      });
      nrSparse = areas.length;
      if (nrSparse) {
        sparse = `${name}_sparse${i}`;
        arrays.push(`static const struct sim_sparse_area ${sparse}[] = {\n${areas.join('\n')}\n};\n`);
      }
    }
    let type = { has: '0', type: '0x0u', subtype: '0x0u' };
    if (present(r, 'type')) {
      const t = object(r.type, `${at}.type`, TYPE_KEYS);
      type = { has: '1', type: uint(t.type, `${at}.type.type`, 0xffffffff), subtype: uint(t.subtype, `${at}.type.subtype`, 0xffffffff) };
    }
    return [
      `\t[${i}] = {`,
      `\t\t.size = ${u64(r.size, `${at}.size`)},`,
      `\t\t.kind = ${KINDS[r.kind as SimRegionConfig['kind']]},`,
      `\t\t.readable = ${bool(r.readable, `${at}.readable`, false)},`,
      `\t\t.writable = ${bool(r.writable, `${at}.writable`, false)},`,
      `\t\t.mmap = ${bool(r.mmap, `${at}.mmap`, false)},`,
      `\t\t.supported_attrs = ${uint(r.supportedAttrs, `${at}.supportedAttrs`, 0xffffffff)},`,
      `\t\t.nr_sparse = ${nrSparse}u,`,
      `\t\t.sparse = ${sparse},`,
      `\t\t.has_type = ${type.has},`,
      `\t\t.type = ${type.type},`,
      `\t\t.subtype = ${type.subtype},`,
      `\t\t.msix_mappable = ${bool(r.msixMappable, `${at}.msixMappable`, true)},`,
      `\t\t.prefetchable = ${bool(r.prefetchable, `${at}.prefetchable`, true)},`,
      '\t},',
    ].join('\n');
  });
  if (regions.length) arrays.push(`static const struct sim_region_config ${name}_regions[] = {\n${regions.join('\n')}\n};\n`);
  if (present(c, 'iommu')) {
    const io = object(c.iommu, 'config.iommu', IOMMU_KEYS);
    if (!Array.isArray(io.iovaRanges)) fail('config.iommu.iovaRanges', 'must be an array');
    const ranges = (io.iovaRanges as unknown[]).map((raw, k) => {
      const at = `config.iommu.iovaRanges[${k}]`;
      const o = object(raw, at, RANGE_KEYS);
      return `\t{ .start = ${u64(o.start, `${at}.start`)}, .end = ${u64(o.end, `${at}.end`)} },`;
    });
    arrays.push(`static const struct sim_iova_range ${name}_iova_ranges[] = {\n${ranges.join('\n')}\n};\n`);
    arrays.push(`static const struct sim_iommu_config ${name}_iommu = {\n\t.nr_ranges = ${ranges.length}u,\n\t.ranges = ${name}_iova_ranges,\n\t.dma_limit = ${present(io, 'dmaLimit') ? uint(io.dmaLimit, 'config.iommu.dmaLimit', 0xffffffff) : '0x0u'},\n};\n`);
  }
  const guard = `SIM_CONFIG_${name.toUpperCase()}_H`;
  return [
    '/* Generated by tools/sim-config-c.ts from a SimConfig: do not edit. */',
    `#ifndef ${guard}`,
    `#define ${guard}`,
    '',
    '#include <stddef.h>',
    '#include <stdint.h>',
    '#include "sim.h"',
    '',
    ...arrays,
    `static const struct sim_config ${name} = {`,
    `\t.nr_regions = ${regions.length}u,`,
    `\t.regions = ${regions.length ? `${name}_regions` : 'NULL'},`,
    `\t.num_irqs = ${uint(c.numIrqs, 'config.numIrqs', 0xffffffff)},`,
    `\t.msi = ${present(c, 'msi') ? uint(c.msi, 'config.msi', 32) : '0x0u'},`,
    `\t.msix = ${present(c, 'msix') ? uint(c.msix, 'config.msix', 2048) : '0x0u'},`,
    `\t.no_reset = ${present(c, 'reset') ? (bool(c.reset, 'config.reset', false) === '1' ? '0' : '1') : '0'},`,
    `\t.iommufd = ${bool(c.iommufd, 'config.iommufd', true)},`,
    `\t.iommu = ${present(c, 'iommu') ? `&${name}_iommu` : 'NULL'},`,
    `\t.max_subregions = ${uint(c.maxSubregions, 'config.maxSubregions', 0xffffffff)},`,
    `\t.shm_dir = ${present(c, 'shmDir') ? cString(c.shmDir, 'config.shmDir') : 'NULL'},`,
    `\t.vendor_id = ${present(c, 'vendorId') ? uint(c.vendorId, 'config.vendorId', 0xffff) : 'SIM_DEFAULT_VENDOR'},`,
    `\t.device_id = ${present(c, 'deviceId') ? uint(c.deviceId, 'config.deviceId', 0xffff) : 'SIM_DEFAULT_DEVICE'},`,
    `\t.class_code = ${present(c, 'classCode') ? uint(c.classCode, 'config.classCode', 0xffffff) : '0x0u'},`,
    `\t.model = ${model(c.model)},`,
    '};',
    '',
    `#endif /* ${guard} */`,
    '',
  ].join('\n');
}
