import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SpecError } from '../../codegen/diagnostics.js';
import { render } from '../../codegen/generate.js';
import { flattenSpec, loadSpec, ROOT } from '../../codegen/load.js';

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
    s.name = 'standalone-abi';
    delete s.targets;
    delete s.uapi.patch;
    delete s.uapi.guard;
    s.uapi.emit = 'all';
    s.uapi.header = 'linux/standalone_abi.h';
    s.uapi.includes = ['linux/types.h', 'linux/ioctl.h'];
    const file = join(dir, 'standalone.json');
    writeFileSync(file, JSON.stringify(s, null, 2));
    const spec = loadSpec(file);
    const [h] = render(spec, ['c-header']);
    expect(h!.path).toBe('native/include/linux/standalone_abi.h');
    expect(h!.content).toContain('#ifndef _UAPI_LINUX_STANDALONE_ABI_H');
    for (const x of spec.ioctls) expect(h!.content).toMatch(new RegExp(`^#define ${x.name}\\t_IO`, 'm'));
    for (const st of spec.structs) expect(h!.content).toContain(`struct ${st.name} {`);
    mkdirSync(join(dir, 'include/linux'), { recursive: true });
    writeFileSync(join(dir, 'include', spec.uapi.header), h!.content);
    const asserts = spec.ioctls.map((x) => `_Static_assert(${x.name} == ${x.numbers.x86_64}u, "${x.name}");`)
      .concat(spec.structs.map((st) => `_Static_assert(sizeof(struct ${st.name}) == ${st.size}, "${st.name}");`));
    const src = join(dir, 't.c');
    writeFileSync(src, `#include <${spec.uapi.header}>\n${asserts.join('\n')}\nint main(void) { return 0; }\n`);
    if (process.arch !== 'x64') return;
    execFileSync('gcc', ['-std=c11', '-Wall', '-Wextra', '-Werror', '-pedantic', '-I', join(dir, 'include'), '-fsyntax-only', src]);
  });
});
