import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SpecError } from '../../codegen/diagnostics.js';
import { render } from '../../codegen/generate.js';
import { DEFAULT_SPEC, loadSpec, ROOT } from '../../codegen/load.js';

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
  const pristine = JSON.parse(readFileSync(DEFAULT_SPEC, 'utf8')) as Record<string, unknown>;
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
