/**
 * Runs every vector (layout, ioctl, validation, capchain) through the real C: the system's
 * <linux/vfio.h>, the generated header and the generated validators, built with each compiler
 * variant (C11, C11 -m32, C++17, C++17 -m32).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSpec } from '../../codegen/load.js';
import type { Spec } from '../../codegen/ir.js';
import { loadVectors, type VectorFiles } from '../vectors.js';
import { build, hasCompiler, run, unavailable, VARIANTS, workspace, type Variant } from './cc.js';
import { parseOutput, translate, type RunResult } from './translate.js';

let spec: Spec;
let vectors: VectorFiles;

beforeAll(() => {
  spec = loadSpec();
  vectors = loadVectors();
});

/** Translates a vector set, builds it with a variant and runs it. */
function runVectors(v: Variant, set: VectorFiles, prefix: string): RunResult {
  const ws = workspace(spec, prefix);
  const src = join(ws.dir, 'vectors.c');
  writeFileSync(src, translate(spec, set));
  const b = build(v, [src, ws.validators], ws.include, join(ws.dir, 'vectors'));
  if (!b.ok) throw new Error(`${v.name} failed to build ${src}:\n${b.stderr}`);
  const r = run(b.exe);
  if (r.status === null) throw new Error(`${b.exe} crashed: ${r.stderr}`);
  return parseOutput(r.stdout);
}

const total = (v: VectorFiles): number => v.layout.length + v.ioctl.length + v.validation.cases.length + 2 * v.capchain.length;

describe('C vectors', () => {
  for (const v of VARIANTS) {
    it(`pass with ${v.name}`, (ctx) => {
      const why = unavailable(v);
      if (why !== null) ctx.skip(`skipped ${v.name}: ${why}`);
      const r = runVectors(v, vectors, 'vfio-vectors-');
      if (r.failures.length > 0) process.stderr.write(`${v.name}: ${r.fail} failed vector checks:\n  ${r.failures.join("\n  ")}\n`);
      expect(r.failures).toEqual([]);
      expect(r.fail).toBe(0);
      // Every vector ran (ioctl vectors of another architecture count as skipped).
      expect(r.pass + r.skip).toBe(total(vectors));
      expect(r.pass).toBeGreaterThan(0);
    });
  }
});

describe('C vector harness', () => {
  it('runs a natural-layout struct\'s case under its own data model only (-m32: ILP32)', (ctx) => {
    const m32 = VARIANTS.find((v) => v.m32 && v.cc === 'gcc')!;
    const why = unavailable(m32);
    if (why !== null) ctx.skip(`skipped: ${why}`);
    const bad = structuredClone(vectors);
    for (const name of ['vfio_iommu_type1_info_cap_migration/lp64', 'vfio_iommu_type1_info_cap_migration/ilp32']) {
      const c = bad.layout.find((x) => x.name === name)!;
      c.bytes = `${c.bytes.slice(0, -2)}ff`; // max_dirty_bitmap_size's high byte
    }
    const names = (r: RunResult): string[] => r.failures.map((f) => f.split(':')[0]!);
    expect(names(runVectors(VARIANTS[0]!, bad, 'vfio-vectors-lp64-'))).toEqual(['layout vfio_iommu_type1_info_cap_migration/lp64']);
    expect(names(runVectors(m32, bad, 'vfio-vectors-ilp32-'))).toEqual(['layout vfio_iommu_type1_info_cap_migration/ilp32']);
  });

  it('reports a corrupted vector of each kind by name', (ctx) => {
    if (!hasCompiler('gcc')) ctx.skip('gcc is not installed');
    const bad = structuredClone(vectors);
    const layout = bad.layout.find((c) => c.name === 'vfio_region_info/mixed')!;
    layout.bytes = `${layout.bytes.slice(0, 30)}ff${layout.bytes.slice(32)}`; // cap_offset's high byte
    const sized = bad.layout.find((c) => c.name === 'vfio_region_info_cap_subregion/zero')!;
    sized.size = 28;
    const ioctl = bad.ioctl.find((c) => c.name === 'VFIO_DEVICE_FEATURE')!;
    ioctl.numbers = Object.fromEntries(Object.entries(ioctl.numbers).map(([k, n]) => [k, `0x${(BigInt(n) ^ 1n).toString(16)}`]));
    const rule = bad.validation.cases.find((c) => c.name === 'create-size-page-plus-1')!;
    rule.expect = { errno: 'EINVAL', rule: 'offset-aligned' };
    const effect = bad.validation.cases.find((c) => c.name === 'create-ok-wc')!;
    if ('ok' in effect.expect) effect.expect.effects['new.flags'] = 7;
    const chain = bad.capchain.find((c) => c.name === 'loop-two-cap-cycle')!;
    chain.expect = { error: 'backwards', at: 32 };
    const body = bad.capchain.find((c) => c.name === 'subregion-reply')!;
    if ('caps' in body.expect) body.expect.caps[0]!.body!['offset'] = '0x20000';

    const r = runVectors(VARIANTS[0]!, bad, 'vfio-vectors-neg-');
    const named = (kind: string, name: string): boolean => r.failures.some((f) => f.startsWith(`${kind} ${name}:`));
    expect(r.fail).toBeGreaterThan(0);
    expect(named('layout', 'vfio_region_info/mixed')).toBe(true);
    expect(named('layout', 'vfio_region_info_cap_subregion/zero')).toBe(true);
    expect(named('ioctl', 'VFIO_DEVICE_FEATURE')).toBe(true);
    expect(named('validation', 'create-size-page-plus-1')).toBe(true);
    expect(named('validation', 'create-ok-wc')).toBe(true);
    // Capchain vectors run twice (aligned and unaligned buffer).
    expect(r.failures.filter((f) => f.startsWith('capchain loop-two-cap-cycle:'))).toHaveLength(2);
    expect(r.failures.filter((f) => f.startsWith('capchain subregion-reply:'))).toHaveLength(2);
    // Nothing else failed.
    const names = new Set(r.failures.map((f) => f.split(':')[0]));
    expect([...names].sort()).toEqual([
      'capchain loop-two-cap-cycle', 'capchain subregion-reply', 'ioctl VFIO_DEVICE_FEATURE', 'layout vfio_region_info/mixed',
      'layout vfio_region_info_cap_subregion/zero', 'validation create-ok-wc', 'validation create-size-page-plus-1',
    ]);
  });
});
