/**
 * String and signed constants, anonymous unions, numbers whose value changed between kernel
 * versions and members added after their struct: how each target prints them, what the TypeScript
 * codecs do with a union, and the diagnostics for what the language refuses. Expected numbers and
 * spellings are <linux/vfio.h>'s (6.1 and 7.3, gcc -m64 / -m32), written down here.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpecError } from '../../codegen/diagnostics.js';
import { render } from '../../codegen/generate.js';
import { flattenSpec, loadSpec } from '../../codegen/load.js';
import type { Spec } from '../../codegen/ir.js';
import { VfioDeviceGfxPlaneInfo, VfioEehPeOp, VfioPciDependentDevice } from '../../runtime/src/generated/vfio-subregion.js';
import { makeStandalone } from './standalone.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const dir = mkdtempSync(join(tmpdir(), 'spec-constructs-'));
const pristine = JSON.stringify(flattenSpec(), null, 2);
let n = 0;
/** The flattened spec, changed by mutate, loaded: the IR, or every diagnostic as `pointer: message`. */
function load(mutate: (s: Json) => void): Spec | string[] {
  const s = JSON.parse(pristine) as Json;
  s.$schema = './schema/abi.schema.json';
  mutate(s);
  const file = join(dir, `spec${n++}.json`);
  writeFileSync(file, JSON.stringify(s, null, 2));
  try { return loadSpec(file); } catch (e) { if (e instanceof SpecError) return e.diagnostics.map((d) => `${d.pointer}: ${d.message}`); throw e; }
}
const refusals = (mutate: (s: Json) => void): string[] => { const r = load(mutate); return Array.isArray(r) ? r : []; };
const at = (s: Json, section: string, name: string): number => (s[section] as Json[]).findIndex((x) => x.name === name);
const standalone = (s: Json): void => makeStandalone(s, 'constructs-abi');

describe('every target prints the constructs', () => {
  const spec = load(standalone) as Spec;
  const files = render(spec, ['c-header', 'typescript', 'assemblyscript', 'markdown']);
  const text = (suffix: string): string => files.find((f) => f.path.endsWith(suffix))!.content;

  it('C: a string literal, a signed constant in parentheses, an anonymous union as the kernel writes it, and gcc agrees with the IR', () => {
    const h = text('.h');
    expect(h).toContain('#define VFIO_DEVICE_API_PCI_STRING\t"vfio-pci"');
    expect(h).toContain('#define VFIO_PCI_DEVID_NOT_OWNED\t(-1)');
    expect(h).toContain('struct vfio_pci_dependent_device {\n\tunion {\n\t\t__u32 group_id;\n\t\t__u32 devid;\n\t};\n\t__u16 segment;');
    expect(h).toContain('\tunion {\n\t\tstruct vfio_eeh_pe_err err;\n\t};\n};');
    // the newest value, with the older ones in the comment
    expect(h).toMatch(/VFIO_AP_NUM_IRQS: .*\(value 1 from 6\.12, 2 from\s+\* 7\.2: the newest is used here\)|\/\* \(value 1 from 6\.12, 2 from 7\.2: the newest is used here\) \*\/\n\tVFIO_AP_NUM_IRQS,/);
    mkdirSync(join(dir, 'include/linux'), { recursive: true });
    writeFileSync(join(dir, 'include', spec.uapi.header), h);
    const src = join(dir, 'constructs.c');
    writeFileSync(src, [
      '#include <stddef.h>',
      `#include <${spec.uapi.header}>`,
      '_Static_assert(sizeof(VFIO_DEVICE_API_CCW_STRING) == 9, "a string of 8 characters");',
      '_Static_assert(VFIO_PCI_DEVID_NOT_OWNED == -1 && VFIO_PCI_DEVID_OWNED == 0, "signed");',
      '_Static_assert(VFIO_AP_NUM_IRQS == 2, "the newest value (7.2)");',
      '_Static_assert(offsetof(struct vfio_pci_dependent_device, devid) == 0 && sizeof(struct vfio_pci_dependent_device) == 8, "union at 0");',
      '_Static_assert(offsetof(struct vfio_device_gfx_plane_info, region_index) == 56 && offsetof(struct vfio_device_gfx_plane_info, dmabuf_id) == 56, "union at 56");',
      '#ifdef __x86_64__',
      '_Static_assert(offsetof(struct vfio_eeh_pe_op, err) == 16 && sizeof(struct vfio_eeh_pe_op) == 40, "LP64");',
      '#else',
      '_Static_assert(offsetof(struct vfio_eeh_pe_op, err) == 12 && sizeof(struct vfio_eeh_pe_op) == 36, "ILP32");',
      '#endif',
      'int main(void) { return 0; }',
      '',
    ].join('\n'));
    if (process.arch !== 'x64') return;
    for (const m of ['-m64', '-m32']) {
      try { execFileSync('gcc', [m, '-std=c11', '-Wall', '-Wextra', '-Werror', '-pedantic', '-I', join(dir, 'include'), '-fsyntax-only', src], { stdio: 'pipe' }); } catch (e) {
        const err = String((e as { stderr?: Buffer }).stderr ?? e);
        if (m === '-m32' && /bits\/|gnu\/stubs-32|No such file/.test(err)) continue;	// no gcc-multilib here
        throw new Error(`gcc ${m}: ${err}`);
      }
    }
  });

  it('TypeScript and AssemblyScript: string and signed constants, and the older values in the docs', () => {
    const ts = text('runtime/src/generated/constructs-abi.ts');
    expect(ts).toContain("VFIO_DEVICE_API_PCI_STRING: 'vfio-pci',");
    expect(ts).toContain('VFIO_PCI_DEVID_NOT_OWNED: -1,');
    expect(ts).toMatch(/value 1 from 6\.12,\s+(\* )?2 from 7\.2: the newest is used here\)\s+\*\/\s+VFIO_AP_NUM_IRQS: 2,/);
    const as = text('runtime/assembly/generated/constructs-abi.ts');
    expect(as).toContain('export const VFIO_DEVICE_API_AP_STRING: string = "vfio-ap";');
    expect(as).toContain('export const VFIO_PCI_DEVID_NOT_OWNED: i32 = -1;');
    // a union's bytes are zeroed, then a member that is set wins
    expect(as).toContain('memory.fill(ptr + <usize>0, 0, 4); // union of group_id, devid\n  if (v.group_id != 0) { store<u32>(ptr, v.group_id, 0); }\n  if (v.devid != 0) { store<u32>(ptr, v.devid, 0); }');
    expect(as).toContain('vfio_eeh_pe_err_write(ptr + <usize>(ilp32 ? 12 : 16), v.err);');
  });

  it('Markdown: the string, the signed value, the union members and their versions', () => {
    const md = text('.md');
    expect(md).toContain('| VFIO_DEVICE_API_PCI_STRING | `"vfio-pci"` | upstream 6.1 |');
    expect(md).toContain('| VFIO_PCI_DEVID_NOT_OWNED | `-1` | upstream 6.12 |');
    expect(md).toMatch(/\| 0 \| 4 \| `devid` \| `__u32` \|  \| .* Since upstream 6\.12\. In a union with `group_id` \(the same bytes\)\. \|/);
    expect(md).toMatch(/\| 16 \/ 12 \| 24 \| `err` \|/);
  });
});

describe('what a success returns (the spec\'s returns): the kernel-doc Return section as <linux/vfio.h> words it', () => {
  const spec = load(standalone) as Spec;
  const files = render(spec, ['c-header', 'markdown']);
  const h = files.find((f) => f.path.endsWith('.h'))!.content;
  it('a value and no errors: just what it returns', () => {
    expect(h).toMatch(/VFIO_GET_API_VERSION - [^]*?\n \* Return: the API version, VFIO_API_VERSION\.\n \*\//);
    expect(h.replace(/\n \* /g, ' ')).toContain('Return: 0 if the extension is not supported, 1 (or another positive number) if it is.\n */\n#define VFIO_CHECK_EXTENSION\t');
  });
  it('a value and errors: "on success, -errno on failure:" and each errno', () => {
    expect(h).toMatch(/VFIO_GROUP_GET_DEVICE_FD - [^]*?\n \* Return: the device's new file descriptor on success, -errno on failure:\n \* -EFAULT: /);
    expect(h).toMatch(/VFIO_DEVICE_RESET - [^]*?\n \* Return: 0 on success, -errno on failure:\n \* -EINVAL: /);
    expect(h).toMatch(/VFIO_DEVICE_FEATURE_DMA_BUF - [^]*?GET: Create the dma-buf\. Payload: struct vfio_device_feature_dma_buf\.\n \* Return: the dma-buf's new file descriptor\.\n/);
    expect(h).not.toContain('Return: a negative errno');
  });
  it('without returns, only the errors', () => {
    const bare = load((s) => { standalone(s); delete s.ioctls[at(s, 'ioctls', 'VFIO_DEVICE_RESET')].returns; }) as Spec;
    const h2 = render(bare, ['c-header']).find((f) => f.path.endsWith('.h'))!.content;
    expect(h2).toMatch(/VFIO_DEVICE_RESET - [^]*?\n \* Return: a negative errno on failure:\n \* -EINVAL: /);
  });
  it('Markdown says it after the ioctl\'s description', () => {
    const md = files.find((f) => f.path.endsWith('.md'))!.content;
    expect(md).toMatch(/\*\*VFIO_GROUP_GET_DEVICE_FD\*\*: [^]*?Return: the device's new file\s+descriptor on success\./);
  });
});

describe('TypeScript codecs of a union: every member read at its offset, the one given written there', () => {
  it('vfio_pci_dependent_device: devid and group_id are the same 4 bytes', () => {
    const bytes = VfioPciDependentDevice.encode({ devid: 0xffffffff, segment: 1, bus: 2, devfn: 3 });
    expect([...bytes]).toEqual([0xff, 0xff, 0xff, 0xff, 1, 0, 2, 3]);
    expect(VfioPciDependentDevice.decode(bytes)).toEqual({ group_id: 0xffffffff, devid: 0xffffffff, segment: 1, bus: 2, devfn: 3 });
    // a decoded value encodes back to the same bytes
    expect([...VfioPciDependentDevice.encode(VfioPciDependentDevice.decode(bytes))]).toEqual([...bytes]);
  });
  it('vfio_device_gfx_plane_info: region_index and dmabuf_id at 56', () => {
    const v = { argsz: 64, flags: 2, drm_plane_type: 1, drm_format: 0, drm_format_mod: 0n, width: 0, height: 0, stride: 0, size: 0, x_pos: 0, y_pos: 0, x_hot: 0, y_hot: 0 };
    const b = VfioDeviceGfxPlaneInfo.encode({ ...v, dmabuf_id: 7 }, { arch: 'x86_64' });
    expect([b.length, new DataView(b.buffer).getUint32(56, true)]).toEqual([64, 7]);
    expect(VfioDeviceGfxPlaneInfo.decode(b, { arch: 'x86_64' })).toMatchObject({ region_index: 7, dmabuf_id: 7 });
    expect(VfioDeviceGfxPlaneInfo.encode({ ...v, region_index: 7 }, { arch: 'i386' }).length).toBe(60);
  });
  it('vfio_eeh_pe_op: a struct in a union, at 16 on LP64 and 12 on i386', () => {
    const err = { type: 1, func: 2, addr: 0x1000n, mask: 0xfffn };
    const lp = VfioEehPeOp.encode({ argsz: 40, flags: 0, op: 9, err }, { arch: 'x86_64' });
    const ilp = VfioEehPeOp.encode({ argsz: 36, flags: 0, op: 9, err }, { arch: 'i386' });
    expect([lp.length, new DataView(lp.buffer).getBigUint64(24, true), ilp.length, new DataView(ilp.buffer).getBigUint64(20, true)]).toEqual([40, 0x1000n, 36, 0x1000n]);
    expect(VfioEehPeOp.decode(ilp, { arch: 'i386' }).err).toEqual(err);
  });
});

describe('refusals, each with its pointer', () => {
  const str = { name: 'VFIO_TEST_STRING', string: 'x', doc: 'Test.', origin: { upstream: '6.1' } };
  it('a string constant has no number: not an OR term, an operand, an ioctl type or base', () => {
    expect(refusals((s) => {
      s.constants.push(str, { name: 'VFIO_TEST_OR', or: ['VFIO_TEST_STRING', 'VFIO_BASE'], doc: 'Test.', origin: { upstream: '6.1' } });
      s.validators[0].rules[0].check = { zero: 'VFIO_TEST_STRING' };
      // an ioctl no capability names: one whose chain carries capabilities would fail them too
      s.ioctls.find((x: Json) => x.name === 'VFIO_DEVICE_RESET').type = 'VFIO_TEST_STRING';
    })).toEqual([
      expect.stringMatching(/^\/constants\/\d+\/or\/0: VFIO_TEST_STRING is a string constant, not a flag bit, enum value or constant$/),
      expect.stringMatching(/^\/ioctls\/\d+\/type: VFIO_TEST_STRING is a string constant: an ioctl type is a character constant or a number up to 0xff$/),
      expect.stringMatching(/^\/validators\/0\/rules\/0\/check\/zero: VFIO_TEST_STRING is a string constant: a rule compares unsigned numbers$/),
    ]);
  });
  it('a negative constant: not an OR term or an ioctl base; 64 bits at most', () => {
    expect(refusals((s) => {
      s.constants.push({ name: 'VFIO_TEST_OR', or: ['VFIO_PCI_DEVID_NOT_OWNED', 'VFIO_BASE'], doc: 'Test.', origin: { upstream: '6.1' } });
      s.constants.push({ name: 'VFIO_TEST_BIG', value: '-0x8000000000000001', doc: 'Test.', origin: { upstream: '6.1' } });
      s.ioctls[0].nr = { base: 'VFIO_PCI_DEVID_NOT_OWNED', offset: 1 };
    })).toEqual([
      expect.stringMatching(/^\/constants\/\d+\/value: value does not fit in 64 bits \(from -2\^63 to 2\^64-1\)$/),
      expect.stringMatching(/^\/constants\/\d+\/or\/0: VFIO_PCI_DEVID_NOT_OWNED is negative \(-1\): an OR takes bits$/),
      expect.stringMatching(/^\/ioctls\/0\/nr\/base: VFIO_PCI_DEVID_NOT_OWNED is negative \(-1\): an ioctl number's base is a number$/),
    ]);
  });
  it('values per version: from the origin on, increasing, changing, the newest the element\'s own, numbers only', () => {
    const ap = (s: Json): Json => (s.enums[at(s, 'enums', 'vfio_ap_irq_index')].values as Json[]).find((v) => v.name === 'VFIO_AP_NUM_IRQS')!;
    const p = (s: Json): string => `/enums/${at(s, 'enums', 'vfio_ap_irq_index')}/values/2/origin/values`;
    let ptr = '';
    expect(refusals((s) => { ptr = p(s); ap(s).origin.values = { '6.1': 1, '7.2': 2 }; })).toEqual([`${ptr}: the first version must be 6.12, the one that introduced the element (got 6.1)`]);
    expect(refusals((s) => { ap(s).origin.values = { '6.12': 1, '7.2': 1, '7.3': 2 }; })).toEqual([`${ptr}/7.2: 1 is the value of 6.12 already: list only the versions where it changed`]);
    expect(refusals((s) => { ap(s).origin.values = { '6.12': 1, '7.3': 2, '7.2': 3 }; })).toEqual([`${ptr}/7.2: versions must increase: 7.2 comes after 7.3`, `${ptr}: the newest value (7.2: 3) must be the element's own value, 2: the targets print that one`]);
    expect(refusals((s) => { ap(s).origin.values = { '6.12': 1, '7.2': 3 }; })).toEqual([`${ptr}: the newest value (7.2: 3) must be the element's own value, 2: the targets print that one`]);
    expect(refusals((s) => { s.structs[0].origin.values = { '6.1': 1, '7.2': 2 }; })).toEqual(['/structs/0/origin/values: only a number (a constant or an enum value) has values per version']);
  });
  it('unions: no flexible array or count inside, no roles on a member, names unique with the struct\'s', () => {
    const u = (members: Json[]): Json => ({ union: members, doc: 'Test.' });
    const m = (name: string, extra: Json = {}): Json => ({ name, type: '__u32', doc: name, ...extra });
    const struct = (members: Json[]): Json => ({ name: 'vfio_test_union', doc: 'Test.', origin: { upstream: '6.1' }, members });
    let i = 0;
    expect(refusals((s) => { i = s.structs.length; s.structs.push(struct([m('count'), u([m('a', { count: 'flexible' }), m('b', { counts: 'a' })]), m('count')])); })).toEqual([
      `/structs/${i}/members/1/union/0/count: vfio_test_union.a: a union member cannot be a flexible array`,
      `/structs/${i}/members/1/union/1/counts: vfio_test_union.b: a union member cannot count a flexible array (its bytes are another member's too)`,
      `/structs/${i}/members/2/name: duplicate member count in struct vfio_test_union`,
      `/structs/${i}/members/1/union/1/counts: a is not the flexible array member of struct vfio_test_union`,
    ]);
    expect(refusals((s) => {
      i = s.ioctls.length;
      s.structs.push(struct([u([m('argsz'), m('size')]), m('flags')]));
      s.ioctls.push({ name: 'VFIO_TEST_UNION', fd: 'device', type: 'VFIO_TYPE', nr: 99, encoding: 'IO', arg: 'vfio_test_union', argsz: 'argsz', doc: 'Test.', origin: { upstream: '6.1' }, errors: [] });
    })).toEqual([`/ioctls/${i}/argsz: the argsz member must be a __u32 at offset 0, outside a union`]);
    // a union is aligned to its most aligned member: padding before it is refused outside a natural layout
    expect(refusals((s) => { i = s.structs.length; s.structs.push({ ...struct([m('a'), u([m('b'), { name: 'c', type: '__aligned_u64', doc: 'c' }])]), origin: { proposed: true } }); })).toEqual([
      `/structs/${i}/members/1: implicit padding: 4 byte(s) before vfio_test_union.b at offset 4; add an explicit padding member (or, for upstream's own struct, say "layout": "natural")`,
    ]);
    // ... and so is a union rounded up past its largest member
    expect(refusals((s) => { i = s.structs.length; s.structs.push({ ...struct([m('a'), u([m('b', { type: '__u8', count: 5 }), m('c')])]), origin: { proposed: true } }); })).toEqual([
      `/structs/${i}/members/1: implicit padding: the union of b, c is 5 bytes, padded to 8 for its 4-byte alignment; make its largest member a multiple of that`,
    ]);
  });
  it('a member\'s own origin is an upstream version later than its struct\'s', () => {
    const dep = (s: Json): Json => s.structs[at(s, 'structs', 'vfio_pci_dependent_device')];
    let p = '';
    expect(refusals((s) => { p = `/structs/${at(s, 'structs', 'vfio_pci_dependent_device')}/members/1/origin`; dep(s).members[1].origin = { upstream: '6.1' }; })).toEqual([
      `${p}: vfio_pci_dependent_device.segment: a member's own origin is an upstream version later than its struct's (6.1), with no removal`,
    ]);
  });
});
