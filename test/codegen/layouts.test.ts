/**
 * Layouts per data model: a struct marked "layout": "natural" is upstream's real layout, computed
 * for LP64 and ILP32 (i386) with implicit and tail padding recorded; user pointers are as wide as
 * the data model's; a proposed struct keeps the refusals. Expected numbers are the C compiler's for
 * the real <linux/vfio.h> 6.1 (gcc -m64 / -m32), written down here, not computed by the generator.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpecError } from '../../codegen/diagnostics.js';
import { flattenSpec, loadSpec } from '../../codegen/load.js';
import type { Spec } from '../../codegen/ir.js';
import { VfioBitmap, VfioIommuType1InfoCapMigration } from '../../runtime/src/generated/vfio-subregion.js';
import { CodecError, dataModelOf, hostArch } from '../../runtime/src/codec-support.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const dir = mkdtempSync(join(tmpdir(), 'spec-layouts-'));
const pristine = JSON.stringify(flattenSpec(), null, 2);
function load(mutate: (s: Json) => void): Spec | string[] {
  const s = JSON.parse(pristine) as Json;
  s.$schema = './schema/abi.schema.json';
  mutate(s);
  const file = join(dir, 'spec.json');
  writeFileSync(file, JSON.stringify(s, null, 2));
  try { return loadSpec(file); } catch (e) { if (e instanceof SpecError) return e.diagnostics.map((d) => `${d.line}:${d.column} ${d.pointer}: ${d.message}`); throw e; }
}

describe('natural layouts of upstream structs, per data model', () => {
  const spec = loadSpec();
  const s = (n: string) => spec.structs.find((x) => x.name === n)!;
  const offsets = (n: string, m: 'lp64' | 'ilp32') => Object.fromEntries(s(n).members.map((x) => [x.name, x.layouts[m].offset]));
  it('vfio_iommu_type1_info: 24 bytes on LP64 (4 of tail padding), 20 on i386', () => {
    const t = s('vfio_iommu_type1_info');
    expect([t.natural, t.uniform, t.layouts.lp64.size, t.layouts.ilp32.size, t.layouts.lp64.align, t.layouts.ilp32.align]).toEqual([true, false, 24, 20, 8, 4]);
    expect(t.layouts.lp64.holes).toEqual([{ offset: 20, size: 4, before: null }]);
    expect(t.layouts.ilp32.holes).toEqual([]);
    expect(offsets('vfio_iommu_type1_info', 'ilp32')).toEqual({ argsz: 0, flags: 4, iova_pgsizes: 8, cap_offset: 16 });
  });
  it('vfio_iommu_type1_info_cap_migration: pgsize_bitmap at 16 on LP64, 12 on i386', () => {
    expect(offsets('vfio_iommu_type1_info_cap_migration', 'lp64')).toEqual({ header: 0, flags: 8, pgsize_bitmap: 16, max_dirty_bitmap_size: 24 });
    expect(offsets('vfio_iommu_type1_info_cap_migration', 'ilp32')).toEqual({ header: 0, flags: 8, pgsize_bitmap: 12, max_dirty_bitmap_size: 20 });
    expect([s('vfio_iommu_type1_info_cap_migration').layouts.lp64.size, s('vfio_iommu_type1_info_cap_migration').layouts.ilp32.size]).toEqual([32, 28]);
    expect(s('vfio_iommu_type1_info_cap_migration').layouts.lp64.holes).toEqual([{ offset: 12, size: 4, before: 'pgsize_bitmap' }]);
  });
  it('vfio_bitmap: a user pointer, 8 bytes on LP64 and 4 on i386 (24 / 20)', () => {
    const d = s('vfio_bitmap').members[2]!;
    expect(d.type).toEqual({ kind: 'pointer', to: { kind: 'int', name: '__u64', size: 8, signed: false, aligned: false, littleEndian: false } });
    expect([d.layouts.lp64, d.layouts.ilp32]).toEqual([{ offset: 16, elementSize: 8, size: 8 }, { offset: 16, elementSize: 4, size: 4 }]);
    expect([s('vfio_bitmap').layouts.lp64.size, s('vfio_bitmap').layouts.ilp32.size]).toEqual([24, 20]);
  });
  it('the spec\'s proposed structs stay uniform', () => {
    expect(spec.structs.filter((x) => x.origin.kind === 'proposed' && !x.uniform).map((x) => x.name)).toEqual([]);
  });
  it('ioctl numbers encode each data model\'s size (_IOR of a natural struct)', () => {
    const r = load((j) => { j.ioctls.push({ name: 'VFIO_TEST_BITMAP', doc: 'test', origin: { upstream: '6.1' }, fd: 'container', type: 'VFIO_TYPE', nr: { base: 'VFIO_BASE', offset: 40 }, encoding: 'IOR', arg: 'vfio_bitmap', errors: [] }); });
    if (Array.isArray(r)) throw new Error(r.join('\n'));
    const n = r.ioctls.find((x) => x.name === 'VFIO_TEST_BITMAP')!.numbers;
    // _IOR(';', 140, 24 / 20 bytes): (2 << 30) | (size << 16) | (0x3b << 8) | 0x8c
    expect([n.x86_64, n.i386, n.aarch64, n.ppc64le]).toEqual([0x80183b8c, 0x80143b8c, 0x80183b8c, 0x40183b8c]);
  });
});

describe('refusals stay for proposed structs, with file:line:col and pointer', () => {
  const proposed = (members: Json[], extra: Json = {}): Json => ({ name: 'bad', doc: 'test', origin: { proposed: true }, members, ...extra });
  const m = (name: string, type: string): Json => ({ name, type, doc: name });
  it('"layout": "natural" on a proposed struct', () => {
    expect(load((j) => { j.structs.push(proposed([m('a', '__u32')], { layout: 'natural' })); })).toEqual([expect.stringMatching(/^\d+:\d+ \/structs\/\d+\/layout: struct bad is proposed: only an upstream struct may have "layout": "natural"/)]);
  });
  it('a pointer in a proposed struct (8 bytes on LP64, 4 on i386)', () => {
    expect(load((j) => { j.structs.push(proposed([m('p', '__u64 *')])); })).toContainEqual(expect.stringMatching(/^\d+:\d+ \/structs\/\d+\/members\/0: bad\.p takes 8 bytes on LP64 \(x86-64\) but 4 on ILP32 \(i386\)/));
  });
  it('an upstream struct with implicit padding but no "layout": "natural" is told how to say so', () => {
    expect(load((j) => { delete j.structs.find((x: Json) => x.name === 'vfio_iommu_type1_info_cap_migration').layout; })).toContainEqual(expect.stringMatching(/implicit padding: 4 byte\(s\) before vfio_iommu_type1_info_cap_migration\.pgsize_bitmap at offset 12; .*"layout": "natural"/));
  });
  it('a pointer cannot carry flags', () => {
    expect(load((j) => { j.structs.find((x: Json) => x.name === 'vfio_bitmap').members[2].flags = 'vfio_device_flags'; })).toContainEqual(expect.stringMatching(/\/structs\/\d+\/members\/2: vfio_bitmap\.data is a pointer/));
  });
});

describe('TypeScript codecs take the arch (default: the host\'s)', () => {
  const v = { header: { id: 2, version: 1, next: 0 }, flags: 0, pgsize_bitmap: 0x1000n, max_dirty_bitmap_size: 0x100000n };
  it('encodes the i386 and the x86_64 layout', () => {
    const a = VfioIommuType1InfoCapMigration.encode(v, { arch: 'i386' });
    const b = VfioIommuType1InfoCapMigration.encode(v, { arch: 'x86_64' });
    expect([a.length, b.length]).toEqual([28, 32]);
    expect(new DataView(a.buffer).getBigUint64(12, true)).toBe(0x1000n);
    expect(new DataView(b.buffer).getBigUint64(16, true)).toBe(0x1000n);
    expect(VfioIommuType1InfoCapMigration.decode(a, { arch: 'i386' })).toEqual(v);
    expect(VfioIommuType1InfoCapMigration.decode(b, { arch: 'aarch64' })).toEqual(v);
  });
  it('a pointer: 8 bytes on LP64, 4 on i386, refused where it does not fit', () => {
    const p = { pgsize: 4096n, size: 8n, data: 0xdead_beefn };
    const a = VfioBitmap.encode(p, { arch: 'i386' });
    expect([a.length, new DataView(a.buffer).getUint32(16, true)]).toEqual([20, 0xdeadbeef]);
    expect(VfioBitmap.decode(a, { arch: 'i386' })).toEqual(p);
    expect(VfioBitmap.decode(VfioBitmap.encode({ ...p, data: 0x7fff_0000_1000n }, { arch: 'x86_64' }), { arch: 'x86_64' }).data).toBe(0x7fff_0000_1000n);
    expect(() => VfioBitmap.encode({ ...p, data: 0x1_0000_0000n }, { arch: 'i386' })).toThrow(CodecError);
  });
  it('the host\'s arch by default', () => {
    const host = hostArch();
    expect(host).toBe(({ x64: 'x86_64', ia32: 'i386', arm64: 'aarch64' } as Record<string, string>)[process.arch] ?? host);
    if (host !== null) expect(VfioBitmap.layout().size).toBe(dataModelOf(host) === 'ilp32' ? 20 : 24);
  });
});
