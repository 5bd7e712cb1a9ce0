import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpecError } from '../../codegen/diagnostics.js';
import { flattenSpec, loadSpec } from '../../codegen/load.js';
import type { Spec } from '../../codegen/ir.js';

const dir = mkdtempSync(join(tmpdir(), 'vfio-spec-'));
const pristine = JSON.stringify(flattenSpec(), null, 2);
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
/** Where an element is in the flattened spec (imports first), so the tests name elements, not positions. */
const index = (section: string, name: string): number => (JSON.parse(pristine) as Json)[section].findIndex((x: Json) => x.name === name);
const count = (section: string): number => (JSON.parse(pristine) as Json)[section].length;
const ATTR = index('flags', 'vfio_region_attr');
const SUB = index('features', 'VFIO_DEVICE_FEATURE_SUBREGION');
const RA = index('features', 'VFIO_DEVICE_FEATURE_REGION_ATTRS');
const SUBSTRUCT = index('structs', 'vfio_device_feature_subregion');

/** Writes a mutated copy of the real spec (or raw text) and returns every diagnostic its load gives. */
function refusals(mutate: ((spec: Json) => void) | string): string[] {
  const file = join(dir, 'spec.json');
  if (typeof mutate === 'string') writeFileSync(file, mutate);
  else {
    const spec = JSON.parse(pristine) as Json;
    spec.$schema = './schema/abi.schema.json';
    mutate(spec);
    writeFileSync(file, JSON.stringify(spec, null, 2));
  }
  try {
    loadSpec(file);
  } catch (e) {
    expect(e).toBeInstanceOf(SpecError);
    return (e as SpecError).message.split('\n');
  }
  return [];
}

const struct = (name: string, members: Json[]): Json => ({ name, doc: 'test struct', origin: { proposed: true }, members });
const u = (name: string, type: string, extra: Json = {}): Json => ({ name, type, doc: name, ...extra });

describe('the spec is accepted as written', () => {
  it('loads', () => expect(refusals(() => {})).toEqual([]));
});

describe('syntax and schema errors name file:line:column and the JSON pointer', () => {
  it('not JSON', () => {
    expect(refusals('{\n  "name": "x",\n  oops\n}')).toEqual([expect.stringMatching(/spec\.json:3:3: invalid JSON: /)]);
  });
  it('trailing comma', () => {
    expect(refusals('{"a": 1,}')[0]).toMatch(/spec\.json:1:9: invalid JSON/);
  });
  it('a key twice in one object (JSON.parse would silently keep the last), at every depth', () => {
    expect(refusals('{\n  "name": "x",\n  "doc": "d",\n  "name": "y"\n}')).toEqual([
      expect.stringMatching(/spec\.json:4:3: \/name: duplicate key "name"/),
    ]);
    const nested = pristine.replace('"constants": [', '"constants": [{ "name": "A_B", "value": 1, "value": 2, "doc": "d", "origin": { "proposed": true } },');
    expect(refusals(nested)).toEqual([expect.stringMatching(/spec\.json:\d+:\d+: \/constants\/0\/value: duplicate key "value"/)]);
    // the same key in two different objects is fine
    expect(refusals('{"a": {"k": 1}, "b": {"k": 2}}').join('\n')).not.toMatch(/duplicate/);
  });
  it('an unknown key', () => {
    const errs = refusals((s) => { s.structs[2].members[1].colour = 'red'; });
    expect(errs).toEqual([expect.stringMatching(/^.*spec\.json:\d+:\d+: \/structs\/2\/members\/1: unknown key "colour"$/)]);
  });
  it('the line and column point at the offending value', () => {
    const spec = JSON.parse(pristine) as Json;
    spec.$schema = './schema/abi.schema.json';
    spec.flags[0].bits[0].bit = 'zero';
    const text = JSON.stringify(spec, null, 2);
    const line = text.split('\n').findIndex((l) => l.includes('"bit": "zero"')) + 1;
    const errs = refusals(text);
    expect(errs).toEqual([expect.stringContaining(`spec.json:${line}:11: /flags/0/bits/0/bit: expected integer`)]);
  });
  it('a missing doc', () => {
    expect(refusals((s) => { delete s.validators[0].rules[3].doc; })).toEqual([expect.stringMatching(/\/validators\/0\/rules\/3: missing required key "doc"$/)]);
  });
  it('a wrong type deep inside a oneOf', () => {
    expect(refusals((s) => { s.ioctls[0].nr.offset = 'seven'; })).toEqual([expect.stringMatching(/\/ioctls\/0\/nr\/offset: expected integer$/)]);
  });
  it('an errno <asm-generic/errno.h> does not have; any it has is accepted (EEXIST)', () => {
    expect(refusals((s) => { s.validators[0].rules[0].errno = 'EWHATEVER'; })).toEqual([expect.stringMatching(/\/validators\/0\/rules\/0\/errno: unknown errno EWHATEVER: not a name of <asm-generic\/errno\.h>$/)]);
    expect(refusals((s) => { s.ioctls[0].errors[0].errno = 'eexist'; })[0]).toMatch(/\/ioctls\/0\/errors\/0\/errno: /);
    expect(refusals((s) => { s.validators[0].rules[0].errno = 'EEXIST'; })).toEqual([]);
  });
});

describe('the resolver refuses', () => {
  it('implicit padding', () => {
    const errs = refusals((s) => { s.structs.push(struct('bad', [u('a', '__u32'), u('b', '__aligned_u64')])); });
    expect(errs).toEqual([expect.stringMatching(/\/structs\/\d+\/members\/1: implicit padding: 4 byte\(s\) before bad\.b at offset 4/)]);
  });
  it('a 64-bit member whose offset differs between i386 and x86-64', () => {
    const errs = refusals((s) => { s.structs.push(struct('bad', [u('a', '__u32'), u('b', '__u64')])); });
    expect(errs).toContainEqual(expect.stringMatching(/\/structs\/\d+\/members\/1: bad\.b is at offset 8 on LP64 \(x86-64\) but 4 on ILP32 \(i386\); use __aligned_u64/));
  });
  it('a struct size that is not a multiple of its alignment', () => {
    const errs = refusals((s) => { s.structs.push(struct('bad', [u('a', '__aligned_u64'), u('b', '__u32')])); });
    expect(errs).toEqual([expect.stringMatching(/\/structs\/\d+: struct bad is 12 bytes on LP64 \(x86-64\), not a multiple of its 8-byte alignment/)]);
  });
  it('duplicate names', () => {
    const errs = refusals((s) => { s.constants.push({ ...s.constants[1] }); });
    expect(errs).toEqual([expect.stringMatching(new RegExp(`/constants/${count('constants')}/name: duplicate name VFIO_BASE \\(first defined at \\S+spec\\.json:\\d+:\\d+ /constants/1/name\\)`))]);
  });
  it('a name defined twice across kinds', () => {
    const errs = refusals((s) => { s.flags[ATTR].bits.push({ name: 'VFIO_BASE', bit: 5, doc: 'clash' }); });
    expect(errs).toEqual([expect.stringMatching(new RegExp(`/flags/${ATTR}/bits/1/name: duplicate name VFIO_BASE`))]);
  });
  it('dangling references', () => {
    expect(refusals((s) => { s.structs[4].members[0].type = 'struct nowhere'; })).toEqual([expect.stringMatching(/\/structs\/4\/members\/0\/type: unknown struct nowhere/)]);
    expect(refusals((s) => { s.capabilities[0].info = 'VFIO_NOPE'; })).toEqual([expect.stringMatching(/\/capabilities\/0\/info: unknown ioctl VFIO_NOPE/)]);
    expect(refusals((s) => { s.features[SUB].ops.set.validator = 'nope'; })).toEqual([expect.stringMatching(new RegExp(`/features/${SUB}/ops/set/validator: unknown validator nope`))]);
    expect(refusals((s) => { s.validators[0].rules[4].check.has = 'ghost.flags'; })).toEqual([expect.stringMatching(/\/validators\/0\/rules\/4\/check\/has: unknown name ghost/)]);
    expect(refusals((s) => { s.structs[SUBSTRUCT].members[4].flags = 'no_such_flags'; })).toEqual([expect.stringMatching(new RegExp(`/structs/${SUBSTRUCT}/members/4/flags: unknown flag set no_such_flags`))]);
  });
  it('overlapping flag bits', () => {
    const errs = refusals((s) => { s.flags[ATTR].bits.push({ name: 'VFIO_REGION_ATTR_UC', bit: 0, doc: 'clash' }); });
    expect(errs).toEqual([expect.stringMatching(new RegExp(`/flags/${ATTR}/bits/1/bit: VFIO_REGION_ATTR_UC: bit 0 overlaps VFIO_REGION_ATTR_WC`))]);
  });
  it('a bit beyond the word', () => {
    expect(refusals((s) => { s.flags[ATTR].bits[0].bit = 40; })).toEqual([expect.stringMatching(/bit 40 does not fit in a 32-bit word/)]);
  });
  it('two ioctls with one number on the same fd kind', () => {
    let at = 0;
    const errs = refusals((s) => { at = s.ioctls.push({ ...s.ioctls[1], name: 'VFIO_DEVICE_CLASH' }) - 1; });
    expect(errs).toEqual([expect.stringMatching(new RegExp(`/ioctls/${at}/nr: VFIO_DEVICE_CLASH has the same number as VFIO_DEVICE_GET_REGION_INFO on the device fd`))]);
  });
  it('two ioctls with one number on fd kinds that extend one another', () => {
    let at = 0;
    const errs = refusals((s) => { at = s.ioctls.push({ ...s.ioctls.find((x: Json) => x.name === 'VFIO_IOMMU_MAP_DMA'), name: 'VFIO_TYPE1_CLASH', fd: 'type1_container' }) - 1; });
    expect(errs).toEqual([expect.stringMatching(new RegExp(`/ioctls/${at}/nr: VFIO_TYPE1_CLASH \\(type1_container fd\\) has the same number as VFIO_IOMMU_MAP_DMA \\(iommu_container fd\\), and a type1_container fd accepts both$`))]);
  });
  it('fd kinds: a duplicate, an unknown kind extended, a cycle', () => {
    expect(refusals((s) => { s['fd-kinds'].push({ ...s['fd-kinds'][0] }); })).toEqual([expect.stringMatching(/\/fd-kinds\/\d+\/name: duplicate fd kind container/)]);
    expect(refusals((s) => { s['fd-kinds'][1].extends = 'nothing'; })).toEqual([expect.stringMatching(/\/fd-kinds\/1\/extends: unknown fd kind nothing$/)]);
    expect(refusals((s) => { s['fd-kinds'][0].extends = 'type1_container'; })).toContainEqual(expect.stringMatching(/\/fd-kinds\/0\/extends: fd kind container extends itself \(through type1_container\)$/));
  });
  it('the same number on another fd kind is fine', () => {
    expect(refusals((s) => { s.ioctls.push({ ...s.ioctls[1], name: 'VFIO_GROUP_THING', fd: 'group' }); })).toEqual([]);
  });
  it('elements of another type on a member that is not a counted flexible byte array, or chosen by a bit of another set', () => {
    const irqSet = (s: Json): { at: number; data: Json } => { const at = s.structs.findIndex((x: Json) => x.name === 'vfio_irq_set'); return { at, data: s.structs[at].members[5] }; };
    let at = 0;
    expect(refusals((s) => { const x = irqSet(s); at = x.at; x.data.type = '__u32'; })).toEqual([expect.stringMatching(new RegExp(`/structs/${at}/members/5/elements: vfio_irq_set.data: only a flexible __u8 array holds elements of another type$`))]);
    expect(refusals((s) => { const x = irqSet(s); at = x.at; x.data.elements.by = 'index'; })).toEqual([expect.stringMatching(new RegExp(`/structs/${at}/members/5/elements/by: index is not an earlier scalar member of struct vfio_irq_set that carries a flag set$`))]);
    expect(refusals((s) => { const x = irqSet(s); at = x.at; x.data.elements.types[1].flag = 'VFIO_DMA_MAP_FLAG_READ'; })).toEqual([expect.stringMatching(new RegExp(`/structs/${at}/members/5/elements/types/1/flag: VFIO_DMA_MAP_FLAG_READ is not a bit of vfio_irq_set_flags, the flag set of vfio_irq_set.flags$`))]);
    expect(refusals((s) => { const x = irqSet(s); at = x.at; delete s.structs[at].members[4].counts; })).toEqual([expect.stringMatching(new RegExp(`/structs/${at}/members/5/elements: vfio_irq_set.data is counted in elements of another type: a member must say it "counts" them$`))]);
  });
  it('a flexible array that is not last', () => {
    const errs = refusals((s) => { s.structs.push(struct('bad', [u('n', '__u32'), u('data', '__u8', { count: 'flexible' }), u('tail', '__u32')])); });
    expect(errs).toContainEqual(expect.stringMatching(/\/structs\/\d+\/members\/1\/count: flexible array data must be the last member of struct bad/));
  });
  it('duplicate feature numbers and capability ids', () => {
    expect(refusals((s) => { s.features[RA].number = 15; })).toEqual([expect.stringMatching(new RegExp(`/features/${RA}: feature number 15 is already used`))]);
    let at = 0;
    expect(refusals((s) => { at = s.capabilities.findIndex((c: Json) => c.name === 'VFIO_REGION_INFO_CAP_ATTRS'); s.capabilities[at].id = 6; })).toEqual([expect.stringMatching(new RegExp(`/capabilities/${at}: capability id 6 is already used`))]);
  });
  it('a proposed number that does not say whether it is provisional', () => {
    expect(refusals((s) => { delete s.features[SUB].provisional; })).toEqual([expect.stringMatching(new RegExp(`/features/${SUB}: a proposed element with a number must say whether the number is provisional`))]);
  });
  it('a rule on a boolean where a number is needed', () => {
    expect(refusals((s) => { s.validators[0].rules[0].check = { zero: 'dev.page_size' }; s.validators[0].rules[1].check = { zero: true }; }))
      .toEqual([expect.stringMatching(/\/validators\/0\/rules\/1\/check\/zero: expected a number, got a boolean/)]);
  });
  it('mmap rules: a duplicate name, an unknown key, a validator named mmap', () => {
    expect(refusals((s) => { s.mmap.rules.push({ ...s.mmap.rules[0] }); })).toEqual([expect.stringMatching(/\/mmap\/rules\/1: duplicate mmap rule one-memtype-per-page/)]);
    expect(refusals((s) => { s.mmap.rules[0].check = { zero: 'dev.page_size' }; })).toContainEqual(expect.stringMatching(/\/mmap\/rules\/0.*check/));
    expect(refusals((s) => { s.validators[2].name = 'mmap'; s.features[RA].ops.get.validator = 'mmap'; }))
      .toEqual([expect.stringMatching(/\/validators\/2\/name: a validator cannot be called mmap/)]);
  });
  it('the mmap section is optional', () => {
    expect(refusals((s) => { delete s.mmap; })).toEqual([]);
  });
  it('an ioctl whose argument size the spec cannot prove', () => {
    let at = 0;
    const irqInfo = (s: Json): Json => { at = s.ioctls.findIndex((x: Json) => x.name === 'VFIO_DEVICE_GET_IRQ_INFO'); return s.ioctls[at]; };
    expect(refusals((s) => { irqInfo(s).encoding = 'IOWR'; }))
      .toEqual([expect.stringMatching(new RegExp(`/ioctls/${at}/encoding: an ioctl with an argsz member is encoded _IO: the kernel reads argsz bytes, not the _IOC_SIZE of _IOWR$`))]);
    expect(refusals((s) => { delete irqInfo(s).argsz; }))
      .toEqual([expect.stringMatching(new RegExp(`/ioctls/${at}: the _IO number of VFIO_DEVICE_GET_IRQ_INFO carries no argument size: name the argsz member of struct vfio_irq_info, or encode it _IOR, _IOW or _IOWR$`))]);
    expect(refusals((s) => { delete s.ioctls[2].argsz; s.ioctls[2].encoding = 'IOR'; }))
      .toEqual([expect.stringMatching(/\/ioctls\/2\/arg: struct vfio_device_feature ends with a flexible array, so _IOR cannot give its size/)]);
  });
  it('an argument that is not a struct under a sized encoding, or with struct roles', () => {
    const ext = (s: Json): Json => s.ioctls.find((x: Json) => x.name === 'VFIO_CHECK_EXTENSION');
    expect(refusals((s) => { ext(s).encoding = 'IOW'; })).toEqual([expect.stringMatching(/spec\.json:\d+:\d+: \/ioctls\/3\/encoding: VFIO_CHECK_EXTENSION takes an integer by value, which has no size for _IOW to encode: encode it _IO$/)]);
    expect(refusals((s) => { s.ioctls[6].encoding = 'IOR'; })).toEqual([expect.stringMatching(/\/ioctls\/6\/encoding: VFIO_GROUP_GET_DEVICE_FD takes a string, which has no size/)]);
    expect(refusals((s) => { s.ioctls[7].encoding = 'IOWR'; })).toEqual([expect.stringMatching(/\/ioctls\/7\/encoding: VFIO_DEVICE_RESET takes no argument, which has no size/)]);
    expect(refusals((s) => { s.ioctls[6].argsz = 'argsz'; s.ioctls[6].outputs = ['argsz']; })).toEqual([
      expect.stringMatching(/\/ioctls\/6\/argsz: VFIO_GROUP_GET_DEVICE_FD has no argument struct, so it has no argsz member$/),
      expect.stringMatching(/\/ioctls\/6\/outputs: VFIO_GROUP_GET_DEVICE_FD has no argument struct, so it has no outputs member$/),
    ]);
    expect(refusals((s) => { s.ioctls[5].arg = { kind: 'pointer', type: 'long', doc: 'x' }; })).toContainEqual(expect.stringMatching(/spec\.json:\d+:\d+: \/ioctls\/5\/arg\/type: expected one of "__u8", .*"int", "unsigned int"$/));
  });
  it('a constant written as an OR of names that are not flag bits, enum values or earlier constants', () => {
    const or = (names: string[]): Json => ({ name: 'VFIO_TEST_OR', or: names, doc: 'Test.', origin: { upstream: '6.1' } });
    expect(refusals((s) => { s.constants.push(or(['VFIO_IRQ_SET_DATA_NONE', 'VFIO_NO_SUCH'])); })).toEqual([expect.stringMatching(/spec\.json:\d+:\d+: \/constants\/\d+\/or\/1: unknown flag bit, enum value or constant VFIO_NO_SUCH$/)]);
    expect(refusals((s) => { s.constants.push(or(['VFIO_IRQ_SET_DATA_NONE', 'VFIO_DEVICE_RESET'])); })).toEqual([expect.stringMatching(/\/constants\/\d+\/or\/1: unknown flag bit, enum value or constant VFIO_DEVICE_RESET$/)]);
    expect(refusals((s) => { s.constants.push(or(['VFIO_TYPE', 'VFIO_BASE'])); })).toEqual([expect.stringMatching(/\/constants\/\d+\/or\/0: VFIO_TYPE is a character constant$/)]);
    expect(refusals((s) => { s.constants.unshift(or(['VFIO_IRQ_SET_DATA_TYPE_MASK', 'VFIO_BASE'])); })).toEqual([expect.stringMatching(/\/constants\/0\/or\/0: VFIO_IRQ_SET_DATA_TYPE_MASK is an OR defined later \(at \/constants\/\d+\): an OR may name only earlier ones$/)]);
    expect(refusals((s) => { s.constants.push(or(['VFIO_IRQ_SET_DATA_TYPE_MASK', 'VFIO_PCI_NUM_REGIONS', 'VFIO_BASE'])); })).toEqual([]);
    expect(refusals((s) => { s.constants.push(or(['VFIO_BASE'])); })).toEqual([expect.stringMatching(/\/constants\/\d+/)]);
  });
  it('macro names: lower-case letters may follow the first character (VFIO_TYPE1v2_IOMMU), not start it', () => {
    const k = (name: string): Json => ({ name, value: 9, doc: 'Test.', origin: { upstream: '6.1' } });
    expect(refusals((s) => { s.constants.push(k('VFIO_SPAPR_TCEv2_IOMMU'), k('_VFIO_x')); s.ioctls[7].name = 'VFIO_DEVICE_RESETv2'; s.flags[0].bits[0].name = 'VFIO_DEVICE_FLAGS_RESETv1'; })).toEqual([]);
    expect(refusals((s) => { s.constants.push(k('vfio_TYPE')); })).toEqual([expect.stringMatching(/spec\.json:\d+:\d+: \/constants\/\d+\/name: expected a string matching \^\[A-Z_\]\[A-Za-z0-9_\]\*\$$/)]);
    expect(refusals((s) => { s.constants.push(k('VFIO_TYPE1v2_IOMMU')); })).toEqual([expect.stringMatching(/: duplicate name VFIO_TYPE1v2_IOMMU \(first defined at \S+spec\.json:\d+:\d+ \/(constants|enums)\/\d+(\/values\/\d+)?\/name\)$/)]);
  });
  it('an ioctl number from an enum member that is not one', () => {
    expect(refusals((s) => { s.ioctls[7].nr = { enum: 'VFIO_NO_SUCH' }; })).toEqual([expect.stringMatching(/\/ioctls\/7\/nr\/enum: unknown enum member VFIO_NO_SUCH$/)]);
    expect(refusals((s) => { s.ioctls[7].nr = { enum: 'VFIO_BASE' }; })).toEqual([expect.stringMatching(/\/ioctls\/7\/nr\/enum: unknown enum member VFIO_BASE \(it is not an enum member: write a constant as \{ "base": NAME, "offset": 0 \}\)$/)]);
    expect(refusals((s) => { s.ioctls[7].nr = { enum: 'VFIO_REGION_TYPE_PCI_VENDOR_TYPE' }; })).toEqual([expect.stringMatching(/\/ioctls\/7\/nr\/enum: ioctl number 2147483648 \(VFIO_REGION_TYPE_PCI_VENDOR_TYPE\) does not fit in 8 bits$/)]);
  });
  it('an effect on an input member', () => {
    expect(refusals((s) => { s.validators[0].effects[0].set = 'req.offset'; })).toEqual([expect.stringMatching(/\/validators\/0\/effects\/0\/set: vfio_device_feature_subregion\.offset is an input member/)]);
  });
});

describe('the ioctl argument table is lowered once', () => {
  function lowered(mutate: (spec: Json) => void): Spec {
    const spec = JSON.parse(pristine) as Json;
    spec.$schema = './schema/abi.schema.json';
    mutate(spec);
    const file = join(dir, 'lowered.json');
    writeFileSync(file, JSON.stringify(spec, null, 2));
    return loadSpec(file);
  }
  const regionInfo = (s: Json): Json => s.ioctls.find((x: Json) => x.name === 'VFIO_DEVICE_GET_REGION_INFO');
  const rows = (s: Spec): unknown[] => s.ioctlArgs.map((a) => [a.ioctl.name, a.kind, 'struct' in a ? a.struct.name : null, a.size, a.kind === 'argsz' ? a.argsz.offset : null]);

  it('from the spec as written: struct ioctls are argsz, at offset 0; the others by what their argument is', () => {
    const written = [
      'VFIO_DEVICE_GET_INFO', 'VFIO_DEVICE_GET_REGION_INFO', 'VFIO_DEVICE_FEATURE', 'VFIO_CHECK_EXTENSION', 'VFIO_SET_IOMMU', 'VFIO_GROUP_SET_CONTAINER', 'VFIO_GROUP_GET_DEVICE_FD',
      'VFIO_DEVICE_RESET', 'VFIO_GET_API_VERSION', 'VFIO_GROUP_UNSET_CONTAINER', 'VFIO_IOMMU_ENABLE', 'VFIO_IOMMU_DISABLE', 'VFIO_DEVICE_QUERY_GFX_PLANE', 'VFIO_EEH_PE_OP',
    ];
    expect(rows(lowered(() => {})).filter((r) => written.includes((r as unknown[])[0] as string))).toEqual([
      ['VFIO_DEVICE_GET_INFO', 'argsz', 'vfio_device_info', 20, 0],
      ['VFIO_DEVICE_GET_REGION_INFO', 'argsz', 'vfio_region_info', 32, 0],
      ['VFIO_DEVICE_FEATURE', 'argsz', 'vfio_device_feature', 8, 0],
      ['VFIO_CHECK_EXTENSION', 'value', null, 4, null],
      ['VFIO_SET_IOMMU', 'value', null, 4, null],
      ['VFIO_GROUP_SET_CONTAINER', 'scalar', null, 4, null],
      ['VFIO_GROUP_GET_DEVICE_FD', 'string', null, 0, null],
      ['VFIO_DEVICE_RESET', 'none', null, 0, null],
      ['VFIO_GET_API_VERSION', 'none', null, 0, null],
      ['VFIO_GROUP_UNSET_CONTAINER', 'none', null, 0, null],
      ['VFIO_IOMMU_ENABLE', 'none', null, 0, null],
      ['VFIO_IOMMU_DISABLE', 'none', null, 0, null],
      // sizeof on x86_64 (6.1): 60 bytes of members and 4 of tail padding; 12 bytes, then err aligned to 8
      ['VFIO_DEVICE_QUERY_GFX_PLANE', 'argsz', 'vfio_device_gfx_plane_info', 64, 0],
      ['VFIO_EEH_PE_OP', 'argsz', 'vfio_eeh_pe_op', 40, 0],
    ]);
  });
  it('a sized encoding without argsz is fixed', () => {
    const spec = lowered((s) => { s.ioctls.push({ ...regionInfo(s), name: 'VFIO_TEST_FIXED', nr: 42, encoding: 'IOW', arg: 'vfio_info_cap_header', origin: { proposed: true }, provisional: true, argsz: undefined, outputs: [], chain: undefined }); });
    expect(rows(spec).at(-1)).toEqual(['VFIO_TEST_FIXED', 'fixed', 'vfio_info_cap_header', 8, null]);
  });
  it('one entry per ioctl, with the fd kinds that accept it: one number may mean other arguments on other kinds', () => {
    const spec = lowered((s) => { s.ioctls.push({ ...regionInfo(s), name: 'VFIO_GROUP_THING', fd: 'group', arg: 'vfio_device_feature', outputs: [], chain: undefined }); });
    expect(spec.ioctlArgs).toHaveLength(spec.ioctls.length);
    const fds = (name: string): [string, string[]] => { const a = spec.ioctlArgs.find((x) => x.ioctl.name === name)!; return [a.kind, a.fds]; };
    expect(fds('VFIO_GROUP_THING')).toEqual(['argsz', ['group']]);
    expect(fds('VFIO_DEVICE_GET_REGION_INFO')).toEqual(['argsz', ['device']]);
    expect(fds('VFIO_CHECK_EXTENSION')).toEqual(['value', ['container', 'iommu_container', 'type1_container', 'spapr_container']]);
    expect(fds('VFIO_IOMMU_MAP_DMA')).toEqual(['argsz', ['iommu_container', 'type1_container', 'spapr_container']]);
    expect(fds('VFIO_IOMMU_GET_INFO')).toEqual(['argsz', ['type1_container']]);
  });
});

describe('the constructs <linux/iommufd.h> needs, misused', () => {
  const ioctlOf = (s: Json, name: string): Json => s.ioctls.find((x: Json) => x.name === name);
  it('an anonymous enum rendered as #defines has no C enum to leave untagged', () => {
    expect(refusals((s) => { s.enums[1].anonymous = true; })).toEqual([expect.stringMatching(/\/enums\/1\/anonymous: enum vfio_region_type is rendered as #defines, so it has no C enum to leave untagged/)]);
  });
  it('a flag set rendered as a C enum holds bits 0 to 30', () => {
    const errs = refusals((s) => { s.flags[ATTR].render = 'enum'; s.flags[ATTR].bits[0].bit = 31; });
    expect(errs).toEqual([expect.stringMatching(new RegExp(`/flags/${ATTR}/bits/0/bit: VFIO_REGION_ATTR_WC: bit 31 does not fit in a C enumerator \\(an int\\)`))]);
  });
  it('a little-endian member cannot carry flags, an enum value, a count or an address', () => {
    const errs = refusals((s) => { s.structs.push(struct('bad', [u('f', '__le32', { flags: 'vfio_region_attr' }), u('n', '__le32')])); });
    expect(errs).toEqual([expect.stringMatching(/\/structs\/\d+\/members\/0: bad\.f is __le32, a little-endian value C reads through le\*_to_cpu: .*declare it __u32/)]);
  });
  it('__aligned_le64 is 8-aligned on i386 too, __le64 is not', () => {
    expect(refusals((s) => { s.structs.push(struct('ok', [u('a', '__u32'), u('pad', '__u32', { padding: true }), u('b', '__aligned_le64')])); })).toEqual([]);
    expect(refusals((s) => { s.structs.push(struct('bad', [u('a', '__u32'), u('b', '__le64')])); }))
      .toContainEqual(expect.stringMatching(/bad\.b is at offset 8 on LP64 \(x86-64\) but 4 on ILP32 \(i386\)/));
  });
  it('the argsz role takes a __u32 at offset 0, whatever its name', () => {
    const errs = refusals((s) => { const a = s.structs.find((x: Json) => x.name === 'vfio_device_info'); a.members[0].type = '__le32'; });
    expect(errs).toEqual([expect.stringMatching(/\/ioctls\/\d+\/argsz: the argsz member must be a __u32 at offset 0/)]);
    expect(refusals((s) => { ioctlOf(s, 'VFIO_DEVICE_GET_INFO').argsz = 'flags'; })).toEqual([expect.stringMatching(/\/ioctls\/\d+\/argsz: the argsz member must be a __u32 at offset 0/)]);
  });
  it('points-to: on a 64-bit unsigned scalar, naming a struct and a count member, or a byte-count member', () => {
    const range = struct('range', [u('start', '__aligned_u64'), u('last', '__aligned_u64')]);
    const holder = (pointsTo: Json, type = '__aligned_u64'): Json => struct('holder', [u('num', '__u32'), u('len', '__u32'), u('addr', type, { 'points-to': pointsTo })]);
    expect(refusals((s) => { s.structs.push(range, holder({ struct: 'range', count: 'num' })); })).toEqual([]);
    expect(refusals((s) => { s.structs.push(holder({ bytes: 'len' })); })).toEqual([]);
    expect(refusals((s) => { s.structs.push(range, holder({ struct: 'range', count: 'num' }, '__u32')); }))
      .toEqual([expect.stringMatching(/\/structs\/\d+\/members\/2\/points-to: holder\.addr must be a scalar __u64 or __aligned_u64 to carry a user address/)]);
    expect(refusals((s) => { s.structs.push(holder({ struct: 'nowhere', count: 'num' })); })).toEqual([expect.stringMatching(/\/members\/2\/points-to\/struct: unknown struct nowhere/)]);
    expect(refusals((s) => { s.structs.push(range, holder({ struct: 'range', count: 'ghost' })); })).toEqual([expect.stringMatching(/\/members\/2\/points-to\/count: struct holder has no member ghost/)]);
    expect(refusals((s) => { s.structs.push(range, holder({ struct: 'range', count: 'addr' })); })).toEqual([expect.stringMatching(/\/members\/2\/points-to\/count: holder\.addr must be another scalar unsigned integer member/)]);
    expect(refusals((s) => { s.structs.push(range, holder({ struct: 'range', bytes: 'len' })); })).toEqual([expect.stringMatching(/\/members\/2\/points-to\/struct: holder\.addr points to bytes counted by len: "struct" goes with "count" instead/)]);
    expect(refusals((s) => { s.structs.push(range, holder({ struct: 'range' })); })).toContainEqual(expect.stringMatching(/\/members\/2\/points-to/));
  });
});

describe('errno names', () => {
  it('the generator knows every asm-generic errno, with the values this machine (x86_64 or arm64 Linux) has', async () => {
    const { ERRNO_VALUES } = await import('../../codegen/errno.js');
    const { constants } = await import('node:os');
    const host = constants.errno as Record<string, number>;
    for (const name of ['EPERM', 'EEXIST', 'EINVAL', 'ENOTTY', 'EOPNOTSUPP', 'EHWPOISON']) expect(ERRNO_VALUES).toHaveProperty(name);
    for (const [name, value] of Object.entries(ERRNO_VALUES)) if (name in host) expect([name, value]).toEqual([name, host[name]]);
  });
});
