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

  it('resolves, with each shared section three times over under new names', () => {
    const flat = { ...flattenSpec(DEFAULT_SPEC), $schema: './schema/abi.schema.json' };
    const file = join(dir, 'x3.json');
    writeFileSync(file, JSON.stringify(replicateSpec(flat, 3)));
    const one = loadSpec(DEFAULT_SPEC);
    const three = loadSpec(file);
    for (const k of ['constants', 'enums', 'flags', 'structs', 'capabilities', 'ioctls', 'features'] as const) expect(three[k].length).toBe(3 * one[k].length);
    expect(three.ioctls.filter((x) => x.chain !== null).length).toBe(3 * one.ioctls.filter((x) => x.chain !== null).length);
    expect(three.structs.map((s) => s.name)).toContain('vfio_region_info_r2');
    expect(three.constants.map((c) => c.name)).toContain('VFIO_TYPE_R2');
  });
});
