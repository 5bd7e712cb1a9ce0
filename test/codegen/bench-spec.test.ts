import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_SPEC, flattenSpec, loadSpec } from '../../codegen/load.js';
import { replicateSpec } from '../../tools/codegen-bench.js';

/** The large spec of the generation-linearity bench row is a valid spec with every item n times over. */
describe('the codegen bench spec', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-spec-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('resolves at the row\'s size, each shared section ten times over under new names, the fd kinds shared', () => {
    const flat = { ...flattenSpec(DEFAULT_SPEC), $schema: './schema/abi.schema.json' };
    const file = join(dir, 'x10.json');
    writeFileSync(file, JSON.stringify(replicateSpec(flat, 10)));
    const one = loadSpec(DEFAULT_SPEC);
    const ten = loadSpec(file);
    for (const k of ['constants', 'enums', 'flags', 'structs', 'capabilities', 'ioctls', 'features'] as const) expect(ten[k].length).toBe(10 * one[k].length);
    expect(ten.fdKinds.map((k) => k.name)).toEqual(one.fdKinds.map((k) => k.name));
    expect(ten.ioctls.filter((x) => x.chain !== null).length).toBe(10 * one.ioctls.filter((x) => x.chain !== null).length);
    expect(ten.structs.map((s) => s.name)).toContain('vfio_region_info_r9');
    expect(ten.constants.map((c) => c.name)).toContain('VFIO_TYPE_R9');
  });
});
