import { describe, expect, it } from 'vitest';
import { Device, VfioError } from '../../runtime/src/device.js';
import { native, type SimConfig } from '../../runtime/src/native.js';
import * as B from '../../runtime/src/generated/vfio-subregion.js';
import { big, loadVectors, type DeviceV } from '../vectors.js';

/**
 * A kernel answers a refusal with an errno only; the device API names the rule by running the
 * generated validator on the state it knows (region info, region attributes, its own mappings).
 * Here the simulator plays the kernel: its handle is wrapped in a Device that is told it is not
 * simulated, so the simulator's own rule is never read, and every validation vector the public API
 * can express (flags and reserved members are the API's, always zero) must come back with the
 * vector's errno AND rule.
 */

const vectors = loadVectors();
const { VfioRegionInfoFlags: RF } = B;
const num = (v: unknown): number => Number(big(v as string));

/** The vector's device on the simulator, or why the simulator cannot be it. */
function kernelLike(d: DeviceV): Device | string {
  if (num(d.page_size) !== native().pageSize) return `the vector's page size ${num(d.page_size)} is not this host's`;
  if (big(d.region_span) !== 1n << 40n) return 'the simulator spaces regions 1 TiB apart, the vector does not';
  if (d.regions.some((r) => big(r.size) > 1n << 32n)) return 'the simulator has no region over 4 GiB';
  if (num(d.nr_subregions) !== d.regions.filter((r) => r.is_subregion).length) return 'the vector counts subregions it does not list';
  const config: SimConfig = {
    regions: d.regions.filter((r) => !r.is_subregion).map((r) => {
      const flags = num(r.flags);
      const mmap = (flags & RF.VFIO_REGION_INFO_FLAG_MMAP) !== 0;
      return {
        size: big(r.size), kind: big(r.size) === 0n ? 'none' : mmap ? 'memory' : 'io',
        readable: (flags & RF.VFIO_REGION_INFO_FLAG_READ) !== 0, writable: (flags & RF.VFIO_REGION_INFO_FLAG_WRITE) !== 0,
        mmap, supportedAttrs: num(r.supported_attrs),
      };
    }),
    numIrqs: 1,
    maxSubregions: num(d.max_subregions),
  };
  const dev = new Device('kernel-like', native().simCreate(config), false);
  d.regions.forEach((r, i) => {
    if (r.is_subregion) dev.createSubregion({ parent: num(r.parent_index), offset: big(r.parent_offset ?? 0), size: big(r.size), attrs: num(r.attrs) });
    else if (num(r.attrs) !== 0) dev.setRegionAttrs(i, num(r.attrs));
  });
  // mappings through this Device: what it knows of, as it would on a kernel
  d.regions.forEach((r, i) => { if (r.mapped) dev.map(i, { length: native().pageSize }); });
  return dev;
}

const expressible = (req: Record<string, unknown>): boolean => num(req.flags ?? 0) === 0 && num(req.supported ?? 0) === 0 && num(req.index ?? 0) < 2 ** 32;

describe('rules named from errno + known state, as on a kernel', () => {
  const cases = vectors.validation.cases.filter((c) => 'errno' in c.expect && expressible(c.request));
  it('covers refusals of every operation', () => {
    expect(new Set(cases.map((c) => c.op))).toEqual(new Set(['subregion_create', 'region_attrs_set', 'region_attrs_get']));
  });
  for (const c of cases) {
    const d = vectors.validation.devices[c.device]!;
    it(c.name, (ctx) => {
      const dev = kernelLike(d);
      if (typeof dev === 'string') { ctx.skip(dev); return; }
      const want = c.expect as { errno: string; rule: string };
      try {
        const req = c.request;
        const call = c.op === 'subregion_create'
          ? () => dev.createSubregion({ parent: num(req.parent_index), offset: big(req.offset as string), size: big(req.size as string), attrs: num(req.attrs) })
          : c.op === 'region_attrs_set' ? () => dev.setRegionAttrs(num(req.index), num(req.attrs)) : () => dev.regionAttrs(num(req.index));
        let err: unknown;
        try { call(); } catch (e) { err = e; }
        expect(err).toBeInstanceOf(VfioError);
        expect({ code: (err as VfioError).code, rule: (err as VfioError).rule }).toEqual({ code: want.errno, rule: want.rule });
      } finally {
        dev.close();
      }
    });
  }
});
