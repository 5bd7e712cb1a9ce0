import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { openDevice, type Device, type Mapping, type RegionInfo } from '../../runtime/src/device.js';
import { native, type SimConfig } from '../../runtime/src/native.js';
import { errnoName } from '../../runtime/src/errors.js';
import { ABSENT } from '../../runtime/src/sim-presets.js';
import * as B from '../../runtime/src/generated/vfio-subregion.js';
import { big, loadVectors, type DeviceV, type VUint } from '../vectors.js';

/**
 * Three-way agreement: every validation vector through the TypeScript API against the simulator
 * (which runs the generated C validators) gives the vector's answer, which the TypeScript and C
 * validators give too (test/ts, test/c). Then random requests: the simulator never crashes, never
 * makes a region outside its parent, and always agrees with the TypeScript validators.
 */

const vectors = loadVectors();
const { VfioRegionInfoFlags: RF, VfioDeviceFeatureFlags: FF, VfioDeviceFeatureId: FEAT } = B;
const num = (v: VUint | boolean | undefined): number => Number(big(v as VUint));
const FEATURE = B.ioctlNumber('VFIO_DEVICE_FEATURE', 'x86_64');

/** Why a vector device cannot be built as a simulator, or null when it can. */
function unsupported(d: DeviceV): string | null {
  if (num(d.page_size) !== native().pageSize) return `page size ${num(d.page_size)}`;
  if (big(d.region_span) !== 1n << 40n) return `region_span ${d.region_span}`;
  if (d.regions.some((r) => big(r.size) > 1n << 32n)) return 'a region larger than 4 GiB';
  if (num(d.nr_subregions) !== d.regions.filter((r) => r.is_subregion).length) return 'nr_subregions differs from the subregions listed';
  return null;
}

/** Builds the vector's device state in the simulator: fixed regions from config, then subregions, attributes and mappings through the API. */
function simulate(d: DeviceV): Device {
  const fixed = d.regions.filter((r) => !r.is_subregion);
  const config: SimConfig = {
    regions: fixed.map((r) => {
      const flags = num(r.flags);
      const mmap = (flags & RF.VFIO_REGION_INFO_FLAG_MMAP) !== 0;
      return {
        size: big(r.size),
        kind: big(r.size) === 0n ? 'none' : mmap ? 'memory' : 'io',
        readable: (flags & RF.VFIO_REGION_INFO_FLAG_READ) !== 0,
        writable: (flags & RF.VFIO_REGION_INFO_FLAG_WRITE) !== 0,
        mmap,
        supportedAttrs: num(r.supported_attrs),
      };
    }),
    numIrqs: 1,
    maxSubregions: num(d.max_subregions),
  };
  const dev = openDevice({ simulator: config });
  d.regions.forEach((r, i) => {
    if (r.is_subregion) {
      const made = dev.createSubregion({ parent: num(r.parent_index), offset: big(r.parent_offset ?? 0), size: big(r.size), attrs: num(r.attrs) });
      expect(made.index).toBe(i);
    } else if (num(r.attrs) !== 0) dev.setRegionAttrs(i, num(r.attrs));
  });
  d.regions.forEach((r, i) => { if (r.mapped) dev.map(i, { length: native().pageSize }); });
  return dev;
}

/** Sends a feature payload exactly as given (reserved members included) and returns the errno name or the reply payload. */
function rawFeature(dev: Device, flags: number, payload: Uint8Array): { errno: string } | { reply: Uint8Array } {
  const buf = B.VfioDeviceFeature.encode({ argsz: 8 + payload.length, flags, data: payload });
  const r = native().ioctl(dev.handle, FEATURE, buf);
  if (r < 0) return { errno: errnoName(-r) };
  return { reply: buf.subarray(8) };
}

describe('validation vectors through the TypeScript API against the simulator', () => {
  for (const c of vectors.validation.cases) {
    const d = vectors.validation.devices[c.device]!;
    const why = unsupported(d);
    it.skipIf(why !== null)(`${c.name}${why !== null ? ` (skipped: the simulator cannot model ${why})` : ''}`, () => {
      const dev = simulate(d);
      try {
        const req = c.request;
        if (c.op === 'subregion_create') {
          const payload = B.VfioDeviceFeatureSubregion.encode({
            flags: num(req.flags), parent_index: num(req.parent_index), offset: big(req.offset!), size: big(req.size!), attrs: num(req.attrs), index: num(req.index),
          }, { raw: true });
          const r = rawFeature(dev, FF.VFIO_DEVICE_FEATURE_SET | FEAT.VFIO_DEVICE_FEATURE_SUBREGION, payload);
          if ('errno' in c.expect) { expect(r).toEqual({ errno: c.expect.errno }); return; }
          expect('reply' in r).toBe(true);
          const out = B.VfioDeviceFeatureSubregion.decode((r as { reply: Uint8Array }).reply, { raw: true });
          const e = c.expect.effects;
          expect(out.index).toBe(num(e['req.index']));
          const info = dev.region(out.index);
          expect(info.size).toBe(big(e['new.size'] as VUint));
          expect(info.flags).toBe(num(e['new.flags']));
          expect(info.attrs).toBe(num(e['new.attrs']));
          expect(info.subregion).toEqual({ parent: num(e['new.parent_index']), offset: big(e['new.parent_offset'] as VUint) });
          expect(dev.info().numRegions).toBe(d.regions.length + 1);
          return;
        }
        const op = c.op === 'region_attrs_get' ? FF.VFIO_DEVICE_FEATURE_GET : FF.VFIO_DEVICE_FEATURE_SET;
        const payload = B.VfioDeviceFeatureRegionAttrs.encode({ flags: num(req.flags), index: num(req.index), attrs: num(req.attrs), supported: num(req.supported) }, { raw: true });
        const r = rawFeature(dev, op | FEAT.VFIO_DEVICE_FEATURE_REGION_ATTRS, payload);
        if ('errno' in c.expect) { expect(r).toEqual({ errno: c.expect.errno }); return; }
        const out = B.VfioDeviceFeatureRegionAttrs.decode((r as { reply: Uint8Array }).reply, { raw: true });
        const e = c.expect.effects;
        if (c.op === 'region_attrs_get') {
          expect({ attrs: out.attrs, supported: out.supported }).toEqual({ attrs: num(e['req.attrs']), supported: num(e['req.supported']) });
        } else {
          expect(dev.regionAttrs(num(req.index)).attrs).toBe(num(e['region.attrs']));
          expect(dev.region(num(req.index)).attrs).toBe(num(e['region.attrs']));
        }
      } finally {
        dev.close();
      }
    });
  }
});

/** A live mapping as the test models it: the BAR pages it claims and the memory type it gives them. */
interface Claim { mapping: Mapping; bar: number; start: bigint; end: bigint; wc: boolean }

/** The BAR a region's pages belong to and where in it the region lies. */
function pagesOf(r: RegionInfo): { bar: number; start: bigint; end: bigint } {
  const start = r.subregion?.offset ?? 0n;
  return { bar: r.subregion?.parent ?? r.index, start, end: start + r.size };
}

/**
 * The validator state, read back from the device through the API; `mapped` is the spec's: a live
 * mapping (from the test's own model) covers a page of the region, through any region.
 */
function stateOf(dev: Device, maxSubregions: number, live: Claim[]): B.VfioSubregionDeviceState {
  const regions = dev.regions();
  return {
    page_size: BigInt(native().pageSize),
    num_regions: regions.length,
    nr_subregions: regions.filter((r) => r.subregion !== null).length,
    max_subregions: maxSubregions,
    region_span: 1n << 40n,
    regions: regions.map((r) => {
      const a = dev.regionAttrs(r.index);
      const p = pagesOf(r);
      return {
        size: r.size, parent_offset: r.subregion?.offset ?? 0n, flags: r.flags, attrs: a.attrs, supported_attrs: a.supported,
        parent_index: r.subregion?.parent ?? 0, is_subregion: r.subregion !== null,
        mapped: live.some((c) => c.bar === p.bar && c.start < p.end && p.start < c.end),
      };
    }),
  };
}

describe('random requests against the simulator (fast-check)', () => {
  const page = BigInt(native().pageSize);
  const interesting = fc.oneof(
    fc.constantFrom(0n, page - 1n, page, 2n * page, 0x20000n, 0x40000n, 0x3f000n, (1n << 64n) - page, (1n << 64n) - 1n),
    fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    fc.bigInt({ min: 0n, max: 0x80n }).map((n) => n * page),
  );
  const op = fc.oneof(
    { arbitrary: fc.record({ kind: fc.constant('create' as const), flags: fc.constantFrom(0, 0, 0, 1, 0x80000000), parent: fc.integer({ min: 0, max: 12 }), offset: interesting, size: interesting, attrs: fc.constantFrom(0, 1, 1, 2, 3) }), weight: 2 },
    // Windows that fit, so mappings of both types meet on the same pages.
    { arbitrary: fc.record({ kind: fc.constant('create' as const), flags: fc.constant(0), parent: fc.constantFrom(0, 0, 2), offset: fc.integer({ min: 0, max: 0x10 }).map((n) => BigInt(n) * page), size: fc.integer({ min: 1, max: 8 }).map((n) => BigInt(n) * page), attrs: fc.constantFrom(0, 1) }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant('set' as const), index: fc.integer({ min: 0, max: 12 }), attrs: fc.constantFrom(0, 1, 2), supported: fc.constantFrom(0, 0, 1) }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant('map' as const), index: fc.oneof(fc.integer({ min: 0, max: 12 }), fc.constantFrom(0, 0, 2, 9, 9, 10, 10, 11, 12)), page: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0x10 }), fc.integer({ min: 0, max: 0x40 })), pages: fc.integer({ min: 1, max: 8 }) }), weight: 4 },
    { arbitrary: fc.record({ kind: fc.constant('unmap' as const), which: fc.nat() }), weight: 1 },
  );

  it('never crashes, never makes a region outside its parent, always agrees with the TypeScript validators and the memory-type model', () => {
    const config = simConfigDefault();
    let refusedBusy = 0;
    fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 25, size: 'max' }), (ops) => {
      const maxSubregions = 4;
      const dev = openDevice({ simulator: { ...config, maxSubregions } });
      const live: Claim[] = [];
      try {
        for (const o of ops) {
          const state = stateOf(dev, maxSubregions, live);
          if (o.kind === 'create') {
            const req = { flags: o.flags, parent_index: o.parent, offset: o.offset, size: o.size, attrs: o.attrs, index: 0 };
            const want = B.checkSubregionCreate(state, { ...req });
            const got = rawFeature(dev, FF.VFIO_DEVICE_FEATURE_SET | FEAT.VFIO_DEVICE_FEATURE_SUBREGION, B.VfioDeviceFeatureSubregion.encode(req, { raw: true }));
            if (!want.ok) { expect(got).toEqual({ errno: want.errno }); continue; }
            expect('reply' in got).toBe(true);
            const index = B.VfioDeviceFeatureSubregion.decode((got as { reply: Uint8Array }).reply).index;
            expect(index).toBe(state.num_regions);
            const made = dev.region(index);
            const parent = dev.region(o.parent);
            expect(made.subregion).toEqual({ parent: o.parent, offset: o.offset });
            expect(made.subregion!.offset + made.size <= parent.size).toBe(true);
          } else if (o.kind === 'set') {
            const req = { flags: 0, index: o.index, attrs: o.attrs, supported: o.supported };
            const want = B.checkRegionAttrsSet(state, { ...req });
            const got = rawFeature(dev, FF.VFIO_DEVICE_FEATURE_SET | FEAT.VFIO_DEVICE_FEATURE_REGION_ATTRS, B.VfioDeviceFeatureRegionAttrs.encode(req, { raw: true }));
            expect('errno' in got ? got : { ok: true }).toEqual(want.ok ? { ok: true } : { errno: want.errno });
          } else if (o.kind === 'map') {
            const r = state.regions[o.index];
            const offset = BigInt(o.page) * page;
            const length = o.pages * native().pageSize;
            const mappable = r !== undefined && (r.flags & RF.VFIO_REGION_INFO_FLAG_MMAP) !== 0 && r.size > 0n && offset + BigInt(length) <= r.size;
            if (!mappable) { expect(() => dev.map(o.index, { offset, length })).toThrow(); continue; }
            // What the spec says this mmap gets: EINVAL over a sparse hole of the BAR, EBUSY over pages of the other type, else a mapping.
            const bar = r.is_subregion ? r.parent_index : o.index;
            const start = r.parent_offset + offset;
            const end = start + BigInt(length);
            const wc = (r.attrs & B.VfioRegionAttr.VFIO_REGION_ATTR_WC) !== 0;
            const sparse = config.regions[bar]!.sparse;
            const want = sparse !== undefined && !sparse.some((a) => start >= a.offset && end <= a.offset + a.size) ? 'EINVAL'
              : live.some((c) => c.bar === bar && c.start < end && start < c.end && c.wc !== wc) ? 'EBUSY' : 'ok';
            let got: unknown = 'ok';
            let mapping: Mapping | null = null;
            try { mapping = dev.map(o.index, { offset, length }); } catch (e) { got = e; }
            if (want === 'ok') {
              expect(got).toBe('ok');
              expect(mapping!.attrs).toBe(r.attrs);
              live.push({ mapping: mapping!, bar, start, end, wc });
            } else {
              expect((got as { code?: string }).code).toBe(want);
              if (want === 'EBUSY') { expect((got as { rule?: string }).rule).toBe('one-memtype-per-page'); refusedBusy++; }
            }
            // The simulator's page tables: no page of a BAR with two types, each mapping with its region's attributes.
            const seen = dev.simMappings().map((m) => ({ m, p: pagesOf(dev.region(m.index)) }));
            for (const a of seen) for (const b of seen) {
              const [sa, sb] = [a.p.start + a.m.offset, b.p.start + b.m.offset];
              if (a.p.bar === b.p.bar && sa < sb + BigInt(b.m.length) && sb < sa + BigInt(a.m.length)) expect(a.m.attrs & 1, 'one type per page').toBe(b.m.attrs & 1);
            }
          } else if (live.length > 0) {
            const [c] = live.splice(o.which % live.length, 1);
            c!.mapping.unmap();
          }
        }
      } finally {
        dev.close();
      }
    }), { numRuns: 300, seed: 0x5eed });
    // The model is only worth something if the runs reach the rule.
    expect(refusedBusy).toBeGreaterThan(0);
  });
});

function simConfigDefault(): SimConfig {
  return {
    regions: [
      { size: 0x40000n, kind: 'memory', readable: true, writable: true, mmap: true, supportedAttrs: B.VfioRegionAttr.VFIO_REGION_ATTR_WC },
      { size: 0x4000n, kind: 'memory', readable: true, writable: true, mmap: true, supportedAttrs: 0 },
      { size: 0x2000n, kind: 'memory', readable: true, writable: true, mmap: true, supportedAttrs: 1, sparse: [{ offset: 0n, size: 0x1000n }] },
      { size: 0x100n, kind: 'io', readable: true, writable: true, mmap: false, supportedAttrs: 0 },
      ABSENT,
      ABSENT,
      { size: 0x10000n, kind: 'memory', readable: true, writable: false, mmap: false, supportedAttrs: 0 },
      { size: 0x1000n, kind: 'config', readable: true, writable: true, mmap: false, supportedAttrs: 0 },
      ABSENT,
    ],
    numIrqs: 1,
    maxSubregions: 4,
  };
}
