import { describe, expect, it } from 'vitest';
import { openDevice, type Device, type Mapping, type RegionInfo } from '../../runtime/src/device.js';
import { native } from '../../runtime/src/native.js';
import { IVSHMEM_SIM } from '../../runtime/src/sim-presets.js';
import * as B from '../../runtime/src/generated/vfio-subregion.js';
import { loadMemtypeVectors, type MemtypeExpect, type MemtypeRegionRef, type MemtypeScenario } from '../vectors.js';

/**
 * The memory-type scenarios of spec/vectors/memtype.json (mmap rule one-memtype-per-page,
 * REGION_ATTRS SET rule not-mapped) through the device API against the simulator's ivshmem-like
 * preset. Every answer comes from the vector file: the errno, and the rule the simulator names.
 * After every step the simulator's record of its page tables must have one type per page.
 */

const { device, scenarios } = loadMemtypeVectors();
const WC = B.VfioRegionAttr.VFIO_REGION_ATTR_WC;

describe('the scenario device', () => {
  it('is what IVSHMEM_SIM simulates', () => {
    expect(device.page_size).toBe(native().pageSize);
    const dev = openDevice({ simulator: IVSHMEM_SIM });
    try {
      for (const r of device.regions) {
        const info = dev.region(r.index);
        expect(info.size, `region ${r.index} size`).toBe(BigInt(r.size));
        expect((info.flags & B.VfioRegionInfoFlags.VFIO_REGION_INFO_FLAG_MMAP) !== 0, `region ${r.index} mmap`).toBe(r.mmap);
        expect(dev.regionAttrs(r.index).supported, `region ${r.index} supported attrs`).toBe(r.supported_attrs);
        expect(IVSHMEM_SIM.regions[r.index]!.prefetchable === true, `region ${r.index} prefetchable`).toBe(r.prefetchable);
      }
      // No other region can be mapped: a scenario touches only the regions the vector file describes.
      for (const info of dev.regions()) {
        if (device.regions.some((r) => r.index === info.index)) continue;
        expect(info.flags & B.VfioRegionInfoFlags.VFIO_REGION_INFO_FLAG_MMAP, `region ${info.index}`).toBe(0);
      }
    } finally {
      dev.close();
    }
  });
  it('covers both sides of each rule', () => {
    const steps = scenarios.flatMap((s) => s.steps);
    const refused = (rule: string) => steps.some((st) => 'expect' in st && typeof st.expect === 'object' && 'rule' in st.expect && st.expect.rule === rule);
    expect(refused('one-memtype-per-page')).toBe(true);
    expect(refused('not-mapped')).toBe(true);
    expect(steps.some((st) => st.op === 'map' && st.expect === 'ok')).toBe(true);
    expect(steps.some((st) => st.op === 'set' && st.expect === 'ok')).toBe(true);
    // Every mmap rule of the spec has a scenario that reaches it.
    for (const r of B.MmapRules) expect(refused(r.rule), r.rule).toBe(true);
  });
});

/** Runs one step's call and compares its outcome with the vector: ok, or the errno and the rule. */
function outcome<T>(what: string, expect_: MemtypeExpect, call: () => T): T | null {
  let value: T;
  try {
    value = call();
  } catch (e) {
    const err = e as { code?: string; rule?: string; message?: string };
    expect(expect_, `${what}: refused with ${err.code} (${err.rule ?? 'no rule'}): ${err.message}`).not.toBe('ok');
    expect({ errno: err.code, rule: err.rule }, what).toEqual(expect_);
    return null;
  }
  expect(expect_, `${what}: succeeded`).toBe('ok');
  return value;
}

/** The simulator's page tables: no page of a BAR mapped with two memory types. */
function checkOneTypePerPage(dev: Device, what: string): void {
  const pages = new Map<string, number>();
  const ps = BigInt(native().pageSize);
  for (const m of dev.simMappings()) {
    const r = dev.region(m.index);
    const bar = r.subregion?.parent ?? r.index;
    const start = (r.subregion?.offset ?? 0n) + m.offset;
    for (let p = start; p < start + BigInt(m.length); p += ps) {
      const key = `${bar}:${p}`;
      const type = m.attrs & WC;
      const prev = pages.get(key);
      expect(prev === undefined || prev === type, `${what}: BAR ${bar} page 0x${p.toString(16)} has two memory types`).toBe(true);
      pages.set(key, type);
    }
  }
}

function run(s: MemtypeScenario): void {
  const dev = openDevice({ simulator: IVSHMEM_SIM });
  const regions = new Map<string, RegionInfo>();
  const mappings = new Map<string, Mapping>();
  const region = (ref: MemtypeRegionRef, what: string): number => {
    if (typeof ref === 'number') return ref;
    const r = regions.get(ref);
    if (r === undefined) throw new Error(`${what}: no subregion named ${ref} (a vector error)`);
    return r.index;
  };
  try {
    s.steps.forEach((st, i) => {
      const what = `${s.name} step ${i + 1} (${JSON.stringify(st)})`;
      switch (st.op) {
        case 'create': {
          const r = outcome(what, st.expect, () => dev.createSubregion({ parent: st.parent, offset: BigInt(st.offset), size: BigInt(st.size), attrs: st.attrs }));
          if (r !== null) {
            expect(r.subregion, what).toEqual({ parent: st.parent, offset: BigInt(st.offset) });
            expect(r.attrs, what).toBe(st.attrs);
            if (st.as !== undefined) regions.set(st.as, r);
          }
          break;
        }
        case 'map': {
          const index = region(st.region, what);
          const before = dev.simMappings().length;
          const m = outcome(what, st.expect, () => dev.map(index, { offset: BigInt(st.offset), length: st.length }));
          if (m === null) {
            expect(dev.simMappings().length, `${what}: a refused mmap maps nothing`).toBe(before);
            break;
          }
          // What the mapping reports is what its page tables got.
          const rec = dev.simMappings().find((x) => x.address === m.address);
          expect(rec, what).toBeDefined();
          expect(m.attrs, what).toBe(rec!.attrs);
          expect(m.attrs, what).toBe(dev.regionAttrs(index).attrs);
          if (st.as !== undefined) mappings.set(st.as, m);
          break;
        }
        case 'unmap': {
          const m = mappings.get(st.mapping);
          if (m === undefined) throw new Error(`${what}: no mapping named ${st.mapping} (a vector error)`);
          m.unmap();
          mappings.delete(st.mapping);
          break;
        }
        case 'set':
          outcome(what, st.expect, () => dev.setRegionAttrs(region(st.region, what), st.attrs));
          break;
        case 'get': {
          const got = dev.regionAttrs(region(st.region, what));
          expect(got.attrs, what).toBe(st.expect.attrs);
          if (st.expect.supported !== undefined) expect(got.supported, what).toBe(st.expect.supported);
          // REGION_INFO's CAP_ATTRS says the same.
          expect(dev.region(region(st.region, what)).attrs, what).toBe(st.expect.attrs);
          break;
        }
      }
      checkOneTypePerPage(dev, what);
    });
  } finally {
    dev.close();
  }
}

describe('memory-type scenarios (spec/vectors/memtype.json) against the simulator', () => {
  it.each(scenarios.map((s) => [s.name, s] as const))('%s', (_name, s) => run(s));
});
