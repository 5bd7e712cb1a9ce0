import { describe, expect, it } from 'vitest';
import { loadSpec } from '../../codegen/load.js';
import type * as IR from '../../codegen/ir.js';
import * as B from '../../runtime/src/generated/vfio-subregion.js';
import { CodecError } from '../../runtime/src/codec-support.js';
import { pascal } from '../../codegen/emit/printer.js';
import { big, capchainIoctl, hex, loadVectors, unhex, type DeviceV, type VUint } from '../vectors.js';
import { unprefixed } from '../../codegen/emit/names.js';

const spec = loadSpec();
const vectors = loadVectors();
const structByName = new Map(spec.structs.map((s) => [s.name, s]));

interface Codec {
  size: number;
  encode(v: unknown, o?: { raw?: boolean }): Uint8Array;
  decode(b: Uint8Array, o?: { raw?: boolean; count?: number }): unknown;
}
const codec = (name: string) => (B as unknown as Record<string, Codec>)[pascal(name)]!;

/** Vector field values -> the bindings' value types (bigint for 64-bit members, Uint8Array for byte arrays). */
function toValue(s: IR.Struct, fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const m of s.members) {
    const v = fields[m.name];
    const one = (x: unknown): unknown =>
      m.type.kind === 'struct' ? toValue(m.type.struct, x as Record<string, unknown>) : m.type.kind === 'pointer' || m.type.size === 8 ? big(x as VUint) : Number(big(x as VUint));
    if (m.count === null) out[m.name] = one(v);
    else if (m.type.kind === 'int' && m.type.name === '__u8') out[m.name] = new Uint8Array((v as VUint[]).map((x) => Number(big(x))));
    else out[m.name] = (v as unknown[]).map(one);
  }
  return out;
}

describe('layout vectors (TypeScript codecs)', () => {
  it.each(vectors.layout.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const s = structByName.get(c.struct);
    expect(s, `struct ${c.struct} is in the spec`).toBeDefined();
    const cd = codec(c.struct);
    expect(cd.size).toBe(c.size);
    const value = toValue(s!, c.fields);
    expect(hex(cd.encode(value, { raw: true }))).toBe(c.bytes);
    const flex = s!.flexible;
    const count = flex !== null ? (c.fields[flex.name] as unknown[]).length : undefined;
    expect(cd.decode(unhex(c.bytes), { raw: true, count })).toEqual(value);
  });
});

describe('argsz filled in by the codecs (layout vectors of every struct an argsz ioctl takes)', () => {
  const roles = new Map(spec.ioctls.flatMap((x) => (x.arg !== null && x.argsz !== null ? [[x.arg.name, x.argsz.name] as const] : [])));
  const cases = vectors.layout.filter((c) => roles.has(c.struct));
  it('the vectors hold cases whose argsz is the whole encoding, and cases with another argsz', () => {
    expect(cases.some((c) => Number(big(c.fields[roles.get(c.struct)!] as VUint)) === c.bytes.length / 2)).toBe(true);
    expect(cases.some((c) => Number(big(c.fields[roles.get(c.struct)!] as VUint)) !== c.bytes.length / 2)).toBe(true);
  });
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const role = roles.get(c.struct)!;
    const value = toValue(structByName.get(c.struct)!, c.fields);
    const given = value[role] as number;
    const { [role]: _left, ...rest } = value;
    const cd = codec(c.struct);
    // The vector's argsz is independent truth: where it is the encoding's length, leaving it out gives the same bytes.
    if (given === c.bytes.length / 2) expect(hex(cd.encode(rest, { raw: true }))).toBe(c.bytes);
    else expect(hex(cd.encode(rest, { raw: true }))).not.toBe(c.bytes);
    // A given argsz is kept, whatever the encoding's length.
    expect(hex(cd.encode(value, { raw: true }))).toBe(c.bytes);
  });
});

describe('ioctl number vectors', () => {
  for (const c of vectors.ioctl) {
    const x = spec.ioctls.find((i) => i.name === c.name);
    if (x === undefined) continue;
    it(c.name, () => {
      for (const [arch, n] of Object.entries(c.numbers)) {
        expect(B.ioctlNumber(c.name as keyof typeof B.VfioIoctl, arch as B.Arch), `${c.name} on ${arch}`).toBe(Number(big(n)));
      }
    });
  }
  it('cover every ioctl of the spec', () => {
    for (const x of spec.ioctls) expect(vectors.ioctl.some((c) => c.name === x.name), x.name).toBe(true);
  });
});

const num = (v: VUint | boolean | undefined): number => Number(big(v as VUint));

/** The architecture a vector's data model names: the codecs and walkers take one (x86_64 for LP64, i386 for ILP32). */
const archOf = (model: 'lp64' | 'ilp32' | undefined): B.Arch => (model === 'ilp32' ? 'i386' : 'x86_64');

interface Reply { info: unknown; caps: { offset: number; header: { id: number; version: number; next: number }; value: unknown }[]; retry: number | null }

describe('capability chain vectors (parse<Info>Reply of the vector\'s ioctl)', () => {
  it.each(vectors.capchain.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const x = capchainIoctl(spec, c);
    const walk = (B as unknown as Record<string, (b: Uint8Array, o: { arch: B.Arch }) => Reply>)[`parse${pascal(unprefixed(spec, x.arg.name))}Reply`]!;
    const parse = (b: Uint8Array): Reply => walk(b, { arch: archOf(c.data_model) });
    const bytes = unhex(c.buffer);
    if ('error' in c.expect) {
      let err: unknown;
      try { parse(bytes); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(B.CapChainError);
      expect({ kind: (err as B.CapChainError).kind, at: (err as B.CapChainError).at }).toEqual({ kind: c.expect.error, at: c.expect.at });
      return;
    }
    const reply = parse(bytes);
    expect(reply.info).toEqual(toValue(x.arg, c.expect.info));
    if ('retry' in c.expect) {
      expect(reply.retry).toBe(c.expect.retry);
      expect(reply.caps).toEqual([]);
      return;
    }
    expect(reply.retry).toBeNull();
    expect(reply.caps.map((y) => ({ offset: y.offset, id: y.header.id, version: y.header.version, next: y.header.next })))
      .toEqual(c.expect.caps.map((y) => ({ offset: y.offset, id: y.id, version: y.version, next: y.next })));
    c.expect.caps.forEach((want, k) => {
      const got = reply.caps[k]!;
      if (want.body === undefined) { expect(got.value).toBeNull(); return; }
      expect(got.value).not.toBeNull();
      const s = spec.capabilities.find((cap) => cap.info === x && cap.id === want.id)!.struct!;
      // The payload is what follows the header; a header-only capability has none.
      const payload = s === x.chain.header ? [] : s.members.slice(1);
      const value = got.value as Record<string, unknown>;
      expect(Object.fromEntries(payload.map((m) => [m.name, value[m.name]]))).toEqual(toValue({ ...s, members: payload }, want.body));
    });
  });
});

function deviceState(d: DeviceV): B.VfioSubregionDeviceState {
  return {
    page_size: big(d.page_size), num_regions: d.regions.length, nr_subregions: num(d.nr_subregions), max_subregions: num(d.max_subregions),
    region_span: big(d.region_span),
    regions: d.regions.map((r) => ({
      size: big(r.size), parent_offset: big(r.parent_offset ?? 0), flags: num(r.flags), attrs: num(r.attrs),
      supported_attrs: num(r.supported_attrs), parent_index: num(r.parent_index ?? 0), is_subregion: r.is_subregion, mapped: r.mapped,
    })),
  };
}

type Op = { check: (d: B.VfioSubregionDeviceState, r: never) => B.CheckResult; apply: (d: B.VfioSubregionDeviceState, r: never) => unknown };
const OPS: Record<string, Op> = {
  subregion_create: { check: B.checkSubregionCreate, apply: B.applySubregionCreate },
  region_attrs_set: { check: B.checkRegionAttrsSet, apply: B.applyRegionAttrsSet },
  region_attrs_get: { check: B.checkRegionAttrsGet, apply: B.applyRegionAttrsGet },
};

describe('validation vectors (TypeScript validators)', () => {
  it('cover every validator and every rule of the spec', () => {
    for (const v of spec.validators) {
      for (const r of v.rules) {
        expect(vectors.validation.cases.some((c) => c.op === v.name && 'rule' in c.expect && c.expect.rule === r.name), `${v.name}/${r.name} refused`).toBe(true);
      }
      expect(vectors.validation.cases.some((c) => c.op === v.name && 'ok' in c.expect), `${v.name} accepted`).toBe(true);
    }
  });
  it.each(vectors.validation.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const op = OPS[c.op];
    expect(op, `validator ${c.op}`).toBeDefined();
    const v = spec.validators.find((x) => x.name === c.op)!;
    const dev = deviceState(vectors.validation.devices[c.device]!);
    const req = toValue(v.request, c.request) as never;
    const result = op!.check(dev, req);
    if ('errno' in c.expect) {
      expect(result).toEqual({ ok: false, errno: c.expect.errno, rule: c.expect.rule });
      return;
    }
    expect(result).toEqual({ ok: true });
    const created = op!.apply(dev, req) as Record<string, unknown> | undefined;
    for (const [key, want] of Object.entries(c.expect.effects)) {
      const [scope, field] = key.split('.') as [string, string];
      const holder: Record<string, unknown> =
        scope === 'req' ? req : scope === 'new' ? created! : (dev.regions[num((c.request as Record<string, VUint>).index)] as unknown as Record<string, unknown>);
      const got = holder[field];
      const expected = typeof want === 'boolean' ? want : typeof got === 'bigint' ? big(want) : num(want);
      expect(got, key).toEqual(expected);
    }
  });
});

describe('capability chains per data model', () => {
  const buffer = (name: string): Uint8Array => unhex(vectors.capchain.find((v) => v.name === name)!.buffer);
  it('the i386 vector fails under the LP64 layouts: its chain starts inside the 24-byte LP64 info struct', () => {
    expect(() => B.parseIommuType1InfoReply(buffer('type1-migration-i386'), { arch: 'x86_64' })).toThrow(/next points backwards \(offset 20\)/);
  });
  it('the LP64 vector read under i386\'s layouts gets pgsize_bitmap from the padding', () => {
    const cap = B.parseIommuType1InfoReply(buffer('type1-migration'), { arch: 'i386' }).caps[0]!;
    expect(cap.name).toBe('VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION');
    expect((cap.value as B.VfioIommuType1InfoCapMigration).pgsize_bitmap).not.toBe(0x1000n);
  });
});

describe('codec refusals', () => {
  it('a nonzero reserved member is refused unless raw', () => {
    const cap = { header: { id: 7, version: 1, next: 0 }, attrs: 1, reserved: 2 };
    expect(() => B.VfioRegionInfoCapAttrs.encode(cap)).toThrow(/vfio_region_info_cap_attrs\.reserved: reserved, must be zero/);
    expect(() => B.VfioRegionInfoCapAttrs.decode(B.VfioRegionInfoCapAttrs.encode(cap, { raw: true }))).toThrow(CodecError);
  });
  it('values out of range name the member', () => {
    const base = { flags: 0, parent_index: 0, offset: 0n, size: 4096n, attrs: 1, index: 0 };
    expect(() => B.VfioDeviceFeatureSubregion.encode({ ...base, offset: 1n << 64n })).toThrow(/vfio_device_feature_subregion\.offset: expected a bigint in \[0, 2\^64\)/);
    expect(() => B.VfioDeviceFeatureSubregion.encode({ ...base, offset: -1n })).toThrow(/offset/);
    expect(() => B.VfioDeviceFeatureSubregion.encode({ ...base, attrs: 2 ** 32 })).toThrow(/attrs: expected an integer in \[0, 2\^32\)/);
    expect(() => B.VfioDeviceFeatureSubregion.encode({ ...base, attrs: Number.NaN })).toThrow(/attrs/);
    expect(() => B.VfioDeviceFeatureSubregion.encode({ ...base, size: 4096 as unknown as bigint })).toThrow(/size: expected a bigint/);
  });
  it('a count that disagrees with the flexible array is refused', () => {
    const cap = { header: { id: 1, version: 1, next: 0 }, nr_areas: 3, reserved: 0, areas: [{ offset: 0n, size: 4096n }] };
    expect(() => B.VfioRegionInfoCapSparseMmap.encode(cap)).toThrow(/nr_areas: says 3 elements, areas has 1/);
  });
  it('a buffer too short to decode is refused with the member', () => {
    expect(() => B.VfioRegionInfo.decode(new Uint8Array(31))).toThrow(/vfio_region_info: needs 32 bytes/);
  });
});

describe('a flexible array counted in elements of another type (vfio_irq_set.data by its DATA flag)', () => {
  const F = B.VfioIrqSetFlags;
  const set = (flags: number, count: number, data: number[]): B.VfioIrqSet => ({ argsz: 20 + data.length, flags, index: 2, start: 0, count, data: new Uint8Array(data) });
  it('count eventfds are 4 bytes each, bools 1, none 0 (checked, not raw)', () => {
    const fds = [10, 0, 0, 0, 11, 0, 0, 0];
    expect(hex(B.VfioIrqSet.encode(set(F.VFIO_IRQ_SET_DATA_EVENTFD | F.VFIO_IRQ_SET_ACTION_TRIGGER, 2, fds)))).toBe('1c00000024000000020000000000000002000000' + '0a0000000b000000');
    expect(B.VfioIrqSet.encode(set(F.VFIO_IRQ_SET_DATA_BOOL | F.VFIO_IRQ_SET_ACTION_UNMASK, 3, [1, 0, 1])).length).toBe(23);
    expect(B.VfioIrqSet.encode(set(F.VFIO_IRQ_SET_DATA_NONE | F.VFIO_IRQ_SET_ACTION_TRIGGER, 4, [])).length).toBe(20);
  });
  it('refuses data that is not count elements of the flagged type, or flags without a data type', () => {
    expect(() => B.VfioIrqSet.encode(set(F.VFIO_IRQ_SET_DATA_EVENTFD | F.VFIO_IRQ_SET_ACTION_TRIGGER, 2, [10, 0, 0, 0]))).toThrow(/vfio_irq_set\.count.*says 2 elements of 4 bytes, data has 4 bytes/);
    expect(() => B.VfioIrqSet.encode(set(F.VFIO_IRQ_SET_DATA_NONE, 1, [1]))).toThrow(/says 1 elements of 0 bytes, data has 1 bytes/);
    expect(() => B.VfioIrqSet.encode(set(F.VFIO_IRQ_SET_ACTION_TRIGGER, 1, [1]))).toThrow(/vfio_irq_set\.flags.*sets none of VFIO_IRQ_SET_DATA_NONE, VFIO_IRQ_SET_DATA_BOOL, VFIO_IRQ_SET_DATA_EVENTFD/);
  });
});
