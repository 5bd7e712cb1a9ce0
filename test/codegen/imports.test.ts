import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpecError } from '../../codegen/diagnostics.js';
import { render } from '../../codegen/generate.js';
import { DEFAULT_SPEC, flattenSpec, loadSpec, specFiles } from '../../codegen/load.js';

const dir = mkdtempSync(join(tmpdir(), 'spec-imports-'));
mkdirSync(join(dir, 'linux'));
const schema = (depth: number): string => `${'../'.repeat(depth)}${join(process.cwd(), 'spec/schema/abi.schema.json').replace(/^\//, '')}`;
const origin = { upstream: '6.1' };
const header = { name: 'hdr', doc: 'A header.', origin, members: [{ name: 'argsz', type: '__u32', doc: 'Size.' }, { name: 'flags', type: '__u32', doc: 'Flags.' }] };
function spec(file: string, depth: number, extra: Record<string, unknown>): string {
  const s = { $schema: schema(depth), name: 'x', doc: 'A spec.', uapi: { header: 'linux/x.h', includes: ['linux/types.h'], doc: 'A header.' }, structs: [], ioctls: [], ...extra };
  const path = join(dir, file);
  writeFileSync(path, JSON.stringify(s, null, 2) + '\n');
  return path;
}
function messages(f: () => unknown): string[] {
  try { f(); } catch (e) { if (e instanceof SpecError) return e.diagnostics.map((d) => `${d.file.split('/').slice(-2).join('/')}:${d.line}:${d.column} ${d.pointer}: ${d.message}`); throw e; }
  return [];
}

describe('specs import specs', () => {
  it('the project spec imports spec/linux/vfio.json and spec/linux/iommufd.json: one namespace, each element knowing its file', () => {
    const s = loadSpec();
    expect(specFiles()).toEqual(['spec/linux/vfio.json', 'spec/linux/iommufd.json', 'spec/vfio-subregion.json']);
    expect(s.files).toEqual(['spec/linux/vfio.json', 'spec/linux/iommufd.json', 'spec/vfio-subregion.json']);
    const of = (name: string): string => [...s.structs, ...s.ioctls].find((x) => x.name === name)!.spec;
    expect(of('vfio_region_info')).toBe('spec/linux/vfio.json');
    expect(of('IOMMU_IOAS_ALLOC')).toBe('spec/linux/iommufd.json');
    expect(of('vfio_device_feature_subregion')).toBe('spec/vfio-subregion.json');
    // every upstream element comes from an import (iommufd's are named IOMMU*), every proposed one from the importing spec
    for (const x of [...s.constants, ...s.enums, ...s.flags, ...s.structs, ...s.capabilities, ...s.ioctls, ...s.features])
      expect(x.spec, x.name).toBe(x.origin.kind === 'proposed' ? 'spec/vfio-subregion.json' : /^iommu/i.test(x.name) ? 'spec/linux/iommufd.json' : 'spec/linux/vfio.json');
    // the C of the ioctl table includes <linux/iommufd.h> only where it exists: the system's 6.1 has none
    // (and its uapi section, for the c-header target's fallback copy of it)
    expect(s.ioctlHeaders.map(({ header, guarded, spec: file, uapi }) => ({ header, guarded, file, guard: uapi.guard }))).toEqual([
      { header: 'linux/vfio.h', guarded: false, file: 'spec/linux/vfio.json', guard: '_UAPIVFIO_H' },
      { header: 'linux/iommufd.h', guarded: true, file: 'spec/linux/iommufd.json', guard: '_UAPI_IOMMUFD_H' },
    ]);
    expect(flattenSpec(DEFAULT_SPEC)).not.toHaveProperty('imports');
  });

  it('references across files resolve, and the importing spec generates them', () => {
    spec('linux/lib.json', 2, { structs: [header] });
    const main = spec('main.json', 1, { imports: ['linux/lib.json'], uapi: { header: 'linux/x.h', includes: ['linux/types.h'], doc: 'A header.', emit: 'all' },
      constants: [{ name: 'X_TYPE', char: 'x', doc: 'Type.', origin }],
      ioctls: [{ name: 'X_GET', fd: 'device', type: 'X_TYPE', nr: 1, encoding: 'IO', arg: 'hdr', argsz: 'argsz', doc: 'Get.', origin, errors: [] }] });
    const s = loadSpec(main);
    expect(s.ioctls[0]!.arg!.spec).toMatch(/linux\/lib\.json$/);
    const [h] = render(s, ['c-header']);
    expect(h!.content).toContain('struct hdr {');
  });

  it('a name defined in two files: both definitions, each with its file:line:col', () => {
    spec('linux/lib.json', 2, { structs: [header] });
    const main = spec('main.json', 1, { imports: ['linux/lib.json'], structs: [header] });
    expect(messages(() => loadSpec(main))).toEqual([
      expect.stringMatching(/^\S*main\.json:\d+:\d+ \/structs\/0\/name: duplicate struct hdr \(first defined at \S*linux\/lib\.json:\d+:\d+ \/structs\/0\/name\)$/),
    ]);
  });

  it('an error inside an imported file is reported there', () => {
    spec('linux/lib.json', 2, { structs: [{ ...header, members: [{ name: 'a', type: 'struct nowhere', doc: 'A.' }] }] });
    const main = spec('main.json', 1, { imports: ['linux/lib.json'] });
    expect(messages(() => loadSpec(main))).toEqual([expect.stringMatching(/^\S*linux\/lib\.json:\d+:\d+ \/structs\/0\/members\/0\/type: unknown struct nowhere$/)]);
  });

  it('a missing import and an import cycle are errors at the import', () => {
    const main = spec('main.json', 1, { imports: ['linux/none.json'] });
    expect(messages(() => loadSpec(main))).toEqual([expect.stringMatching(/^\S*main\.json:\d+:\d+ \/imports\/0: cannot import \S*linux\/none\.json: cannot read: ENOENT$/)]);
    spec('linux/lib.json', 2, { imports: ['../main.json'] });
    const cyc = spec('main.json', 1, { imports: ['linux/lib.json'] });
    expect(messages(() => loadSpec(cyc))).toEqual([expect.stringMatching(/^\S*linux\/lib\.json:\d+:\d+ \/imports\/0: import cycle: \S*main\.json -> \S*linux\/lib\.json -> \S*main\.json$/)]);
  });

  it('removed comes after the version that introduced an element', () => {
    const main = spec('main.json', 1, { constants: [{ name: 'X_OLD', value: 1, doc: 'Old.', origin: { upstream: '6.12', removed: '6.1' } }] });
    expect(messages(() => loadSpec(main))).toEqual([expect.stringMatching(/\/constants\/0\/origin\/removed: removed in 6\.1, which is not after 6\.12/)]);
  });
});
