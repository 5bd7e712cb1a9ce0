import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SpecError } from '../../codegen/diagnostics.js';
import { render } from '../../codegen/generate.js';
import { flattenSpec, loadSpec, ROOT } from '../../codegen/load.js';
import { makeStandalone } from './standalone.js';

/** Every .ts file under dir. */
function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

describe('the generator is not VFIO-specific', () => {
  it('no file of codegen/ names VFIO (roles and names come from the spec)', () => {
    const hits: string[] = [];
    for (const f of tsFiles(join(ROOT, 'codegen'))) {
      readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
        if (/vfio/i.test(line)) hits.push(`${f.slice(ROOT.length + 1)}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(hits).toEqual([]);
  });
});

describe('targets that cannot print what a spec asks say so, with file:line:col and pointer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'codegen-roles-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const pristine = flattenSpec();
  let n = 0;
  function variant(mutate: (s: Record<string, any>) => void): string {
    const s = structuredClone(pristine) as Record<string, any>;
    s.$schema = './schema/abi.schema.json';
    mutate(s);
    const file = join(dir, `v${n++}.json`);
    writeFileSync(file, JSON.stringify(s, null, 2));
    return file;
  }
  function messages(f: () => unknown): string[] {
    try { f(); } catch (e) { if (e instanceof SpecError) return e.diagnostics.map((d) => `${d.line}:${d.column} ${d.pointer}: ${d.message}`); throw e; }
    return [];
  }

  it('kernel-patch without uapi.patch', () => {
    const spec = loadSpec(variant((s) => { delete s.uapi.patch; }));
    expect(render(spec).some((f) => f.path.endsWith('.patch'))).toBe(false);
    expect(messages(() => render(spec, ['kernel-patch']))).toEqual([expect.stringMatching(/^\d+:\d+ \/uapi: the kernel-patch target needs uapi\.patch/)]);
  });
  it('a capability of an ioctl that declares no chain', () => {
    expect(messages(() => loadSpec(variant((s) => { delete s.ioctls[1].chain; })))).toContainEqual(
      expect.stringMatching(/\/capabilities\/0\/info: VFIO_DEVICE_GET_REGION_INFO declares no capability chain/));
  });
  it('a chain header without the capability-header role', () => {
    expect(messages(() => loadSpec(variant((s) => { delete s.structs[0]['capability-header']; })))).toContainEqual(
      expect.stringMatching(/\/ioctls\/1\/chain\/header: struct vfio_info_cap_header has no "capability-header" role/));
  });
  it('validators without state', () => {
    expect(messages(() => loadSpec(variant((s) => { delete s.state; })))).toContainEqual(expect.stringMatching(/ \/validators: validators read a state section/));
  });
  it('features without a feature ioctl', () => {
    expect(messages(() => loadSpec(variant((s) => { delete s['feature-ioctl']; })))).toEqual([expect.stringMatching(/ \/features: features need a "feature-ioctl"/)]);
  });
});

describe('the C header is responsible for what its spec says', () => {
  const dir = mkdtempSync(join(tmpdir(), 'codegen-header-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('uapi.emit "all" gives a standalone header: every struct and constant, and the ioctl #defines, which gcc computes as the IR does', () => {
    const s = flattenSpec() as Record<string, any>;
    s.$schema = './schema/abi.schema.json';
    makeStandalone(s, 'standalone-abi');
    // A pointer to an int under a sized encoding: the number encodes sizeof(int).
    s.ioctls.push({ name: 'VFIO_TEST_INT_IOW', fd: 'a_new_kind', type: 'VFIO_TYPE', nr: 42, encoding: 'IOW', arg: { kind: 'pointer', type: 'int', doc: 'A number.' }, doc: 'Test.', origin: { proposed: true }, provisional: true, errors: [] });
    const file = join(dir, 'standalone.json');
    writeFileSync(file, JSON.stringify(s, null, 2));
    const spec = loadSpec(file);
    const [h] = render(spec, ['c-header']);
    expect(h!.path).toBe('native/include/linux/standalone_abi.h');
    expect(h!.content).toContain('#ifndef _UAPI_LINUX_STANDALONE_ABI_H');
    for (const x of spec.ioctls) expect(h!.content).toMatch(new RegExp(`^#define ${x.name}\\t_IO`, 'm'));
    // _IOW(';', 42, int), computed by hand for the generic and the powerpc/mips encodings
    const iow = spec.ioctls.find((x) => x.name === 'VFIO_TEST_INT_IOW')!;
    expect([iow.numbers.x86_64, iow.numbers.i386, iow.numbers.ppc64le, iow.fd]).toEqual([0x40043b2a, 0x40043b2a, 0x80043b2a, 'a_new_kind']);
    expect(h!.content).toContain('#define VFIO_TEST_INT_IOW\t_IOW(VFIO_TYPE, 42, int)\t/* provisional */');
    // an OR of flag bits: C writes the expression, the IR has the value (<linux/vfio.h>: 7 and 0x38)
    expect(h!.content).toContain('#define VFIO_IRQ_SET_DATA_TYPE_MASK\t(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_DATA_EVENTFD)');
    expect(h!.content).toContain('#define VFIO_IRQ_SET_ACTION_TYPE_MASK\t(VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_ACTION_TRIGGER)');
    expect(spec.constants.filter((c) => c.or !== null).map((c) => [c.name, c.value])).toEqual([['VFIO_IRQ_SET_DATA_TYPE_MASK', 7n], ['VFIO_IRQ_SET_ACTION_TYPE_MASK', 0x38n], ['VFIO_DEVICE_STATE_MASK', 7n], ['VFIO_DEVICE_IOEVENTFD_SIZE_MASK', 0xfn]]);
    // kernel-doc says what each argument is
    const docOf = (name: string): string => { const c = h!.content; const at = c.indexOf(` * ${name} - `); return c.slice(at, c.indexOf('#define', at)).replace(/\n \*\s?/g, ' '); };
    expect(docOf('VFIO_DEVICE_RESET')).toContain('Argument: none (the third argument of ioctl() is ignored).');
    expect(docOf('VFIO_CHECK_EXTENSION')).toContain('Argument: __u32, passed by value (the argument itself, not a pointer): The extension asked about');
    expect(docOf('VFIO_SET_IOMMU')).toContain('Argument: __s32, passed by value');
    expect(docOf('VFIO_GROUP_SET_CONTAINER')).toContain("Argument: int *, a pointer to one int (4 bytes): The container's file descriptor.");
    expect(docOf('VFIO_GROUP_GET_DEVICE_FD')).toContain('Argument: char *, a pointer to a NUL-terminated string: ');
    expect(docOf('VFIO_DEVICE_GET_INFO')).toContain('Argument: struct vfio_device_info *.');
    for (const st of spec.structs) expect(h!.content).toContain(`struct ${st.name} {`);
    mkdirSync(join(dir, 'include/linux'), { recursive: true });
    writeFileSync(join(dir, 'include', spec.uapi.header), h!.content);
    const asserts = spec.ioctls.map((x) => `_Static_assert(${x.name} == ${x.numbers.x86_64}u, "${x.name}");`)
      .concat(spec.structs.map((st) => `_Static_assert(sizeof(struct ${st.name}) == ${st.size}, "${st.name}");`))
      .concat(spec.constants.filter((c) => c.char === null && c.string === null).map((c) => `_Static_assert(${c.name} == ${c.value}${c.value < 0n ? 'LL' : 'ULL'}, "${c.name}");`));
    const src = join(dir, 't.c');
    writeFileSync(src, `#include <${spec.uapi.header}>\n${asserts.join('\n')}\nint main(void) { return 0; }\n`);
    if (process.arch !== 'x64') return;
    execFileSync('gcc', ['-std=c11', '-Wall', '-Wextra', '-Werror', '-pedantic', '-I', join(dir, 'include'), '-fsyntax-only', src]);
  });
});

describe('an ioctl number taken from an enum member', () => {
  const dir = mkdtempSync(join(tmpdir(), 'codegen-enum-nr-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A few items of <linux/iommufd.h> (6.2+), as a spec of their own. */
  const iommufd = (): Record<string, any> => ({
    $schema: join(ROOT, 'spec/schema/abi.schema.json'), name: 'iommufd-test', 'name-prefix': 'iommufd', doc: 'A piece of <linux/iommufd.h>.',
    uapi: { header: 'linux/iommufd_test.h', emit: 'all', includes: ['linux/types.h', 'linux/ioctl.h'], doc: 'Test.' },
    constants: [{ name: 'IOMMUFD_TYPE', char: ';', doc: 'The ioctl type.', origin: { upstream: '6.2' } }],
    enums: [{
      name: 'iommufd_cmd', doc: 'ioctl numbers.', origin: { upstream: '6.2' }, render: 'enum',
      values: [
        { name: 'IOMMUFD_CMD_BASE', value: '0x80', doc: 'The first.' },
        { name: 'IOMMUFD_CMD_DESTROY', value: '0x80', doc: 'Destroy an object.' },
        { name: 'IOMMUFD_CMD_IOAS_ALLOC', doc: 'Allocate an IOAS.' },
      ],
    }],
    structs: [{
      name: 'iommu_ioas_alloc', doc: 'The argument of IOMMU_IOAS_ALLOC.', origin: { upstream: '6.2' },
      members: [
        { name: 'size', type: '__u32', doc: 'sizeof(struct iommu_ioas_alloc).' },
        { name: 'flags', type: '__u32', doc: 'Must be 0.' },
        { name: 'out_ioas_id', type: '__u32', doc: 'The new IOAS.' },
      ],
    }],
    ioctls: [{
      name: 'IOMMU_IOAS_ALLOC', fd: 'iommufd', type: 'IOMMUFD_TYPE', nr: { enum: 'IOMMUFD_CMD_IOAS_ALLOC' }, encoding: 'IO',
      arg: 'iommu_ioas_alloc', argsz: 'size', outputs: ['out_ioas_id'], doc: 'Allocate an IOAS.', origin: { upstream: '6.2' }, errors: [],
    }],
  });

  it('resolves to the member value, and every target writes the member name', () => {
    const file = join(dir, 'iommufd.json');
    writeFileSync(file, JSON.stringify(iommufd(), null, 2));
    const spec = loadSpec(file);
    const x = spec.ioctls[0]!;
    // <linux/iommufd.h>: IOMMU_IOAS_ALLOC is _IO(';', 0x81): 0x3b81 generic, 0x20003b81 on powerpc/mips
    expect([x.nr, x.nrEnum?.name, x.numbers.x86_64, x.numbers.ppc64le, x.fd]).toEqual([0x81, 'IOMMUFD_CMD_IOAS_ALLOC', 0x3b81, 0x20003b81, 'iommufd']);
    const files = render(spec, ['c-header', 'c-validators', 'typescript', 'markdown']);
    const text = (suffix: string): string => files.find((f) => f.path.endsWith(suffix))!.content;
    expect(text('.h')).toContain('#define IOMMU_IOAS_ALLOC\t_IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC)');
    expect(text('_validate.c')).toContain('\t{ _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC), IOMMUFD_TEST_IOCTL_ARG_ARGSZ,');
    expect(text('iommufd-test.ts')).toContain('`_IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC)` on the iommufd fd.');
    expect(text('.md')).toContain('| IOMMU_IOAS_ALLOC | `_IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC)` | `struct iommu_ioas_alloc *` | iommufd |');
    // gcc computes the same number from the header's enum
    mkdirSync(join(dir, 'include/linux'), { recursive: true });
    writeFileSync(join(dir, 'include/linux/iommufd_test.h'), text('iommufd_test.h'));
    const src = join(dir, 't.c');
    writeFileSync(src, '#include <linux/iommufd_test.h>\n_Static_assert(IOMMU_IOAS_ALLOC == 0x3b81, "nr");\n_Static_assert(IOMMUFD_CMD_IOAS_ALLOC == 0x81, "enum");\nint main(void) { return 0; }\n');
    if (process.arch !== 'x64') return;
    execFileSync('gcc', ['-std=c11', '-Wall', '-Wextra', '-Werror', '-pedantic', '-I', join(dir, 'include'), '-fsyntax-only', src]);
  });
});
