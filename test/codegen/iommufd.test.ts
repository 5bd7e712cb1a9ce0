/**
 * spec/linux/iommufd.json through every target it generates (rendered into a temporary directory),
 * each output built with its own toolchain and held to the real <linux/iommufd.h> of the newest
 * version test/uapi/fetch.sh has unpacked (7.3; skipped with the reason when it has not):
 *
 *   - the C header (standalone: uapi.emit all) and the validators build with gcc -m64 and -m32;
 *   - a program printing every size, offset, value and ioctl number of the spec prints the same
 *     with the generated header as with the real one, per data model: the untagged enum of
 *     IOMMUFD_CMD_*, the flag sets declared as enums, the __aligned_le64 arrays included; those
 *     printouts are the expectations the TypeScript and AssemblyScript outputs are held to;
 *   - the TypeScript builds with tsc (strict) and its codecs and ioctl numbers are the header's;
 *   - the AssemblyScript builds with asc and writes the bytes the TypeScript codec writes.
 *
 * test/uapi/coverage.test.ts checks the spec's IR itself against every version's facts.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { render } from '../../codegen/generate.js';
import { loadSpec, ROOT } from '../../codegen/load.js';
import type { Spec } from '../../codegen/ir.js';
import { compileAs, MMIO_ASC_FLAGS } from '../../runtime/src/asc.js';
import { CACHE, includeFlags, unavailable, type DataModel, type HeaderVersion } from '../uapi/facts.js';

const VERSION = '7.3';
const MODELS: DataModel[] = ['x86_64', 'i386'];

let spec: Spec;
let dir: string;
let paths: Record<string, string>;
/** The real header's version, or why there is none here. */
let real: HeaderVersion | string;

beforeAll(() => {
  spec = loadSpec(join(ROOT, 'spec/linux/iommufd.json'));
  dir = mkdtempSync(join(tmpdir(), 'iommufd-gen-'));
  paths = {};
  for (const f of render(spec)) {
    mkdirSync(dirname(join(dir, f.path)), { recursive: true });
    writeFileSync(join(dir, f.path), f.content);
    paths[f.path.endsWith('.h') && f.path.includes('include') ? 'header' : f.path.endsWith('.c') ? 'validators' : f.path.includes('/assembly/') ? 'as' : f.path.endsWith('.ts') ? 'ts' : f.path.endsWith('.md') ? 'md' : f.path] = join(dir, f.path);
  }
  const root = join(CACHE, VERSION, 'root');
  real = existsSync(join(CACHE, VERSION, '.done')) && existsSync(join(root, 'usr/include/linux/iommufd.h'))
    ? { version: VERSION, packageVersion: readFileSync(join(CACHE, VERSION, '.package-version'), 'utf8').trim(), root, fetchSeconds: 0 }
    : `<linux/iommufd.h> ${VERSION} is not unpacked in ${CACHE} (test/uapi/coverage.test.ts fetches it)`;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every number the spec states, as C expressions keyed by a name. */
function cExpressions(s: Spec): [string, string][] {
  const out: [string, string][] = [];
  for (const st of s.structs) {
    out.push([`sizeof ${st.name}`, `sizeof(struct ${st.name})`], [`alignof ${st.name}`, `_Alignof(struct ${st.name})`]);
    for (const m of st.members) out.push([`offsetof ${st.name}.${m.name}`, `offsetof(struct ${st.name}, ${m.name})`], [`sizeof ${st.name}.${m.name}`, `sizeof(((struct ${st.name} *)0)->${m.name})`]);
  }
  for (const c of s.constants) out.push([c.name, c.name]);
  for (const e of s.enums) for (const v of e.values) out.push([v.name, v.name]);
  for (const f of s.flags) for (const b of f.bits) out.push([b.name, b.name]);
  for (const x of s.ioctls) out.push([x.name, x.name]);
  return out;
}

/** Builds and runs the program that prints every expression with the given compiler flags. */
function printNumbers(model: DataModel, flags: string[]): Map<string, bigint> {
  const src = ['#include <stddef.h>', '#include <stdio.h>', '#include <linux/iommufd.h>', 'int main(void)', '{',
    ...cExpressions(spec).map(([k, e]) => `\tprintf("%s %llu\\n", "${k}", (unsigned long long)(${e}));`), '\treturn 0;', '}', ''].join('\n');
  const work = mkdtempSync(join(tmpdir(), 'iommufd-c-'));
  try {
    writeFileSync(join(work, 'p.c'), src);
    const b = spawnSync('gcc', ['-std=c11', '-Wall', '-Wextra', '-Werror', model === 'i386' ? '-m32' : '-m64', ...flags, join(work, 'p.c'), '-o', join(work, 'p')], { encoding: 'utf8' });
    expect(b.stderr, 'the number printer does not build').toBe('');
    const r = spawnSync(join(work, 'p'), { encoding: 'utf8' });
    expect(r.status).toBe(0);
    return new Map(r.stdout.trim().split('\n').map((l) => { const k = l.lastIndexOf(' '); return [l.slice(0, k), BigInt(l.slice(k + 1))]; }));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const realNumbers = new Map<DataModel, Map<string, bigint>>();
/** The real header's numbers for a data model, or why they cannot be had here. */
function theirs(model: DataModel): Map<string, bigint> | string {
  if (typeof real === 'string') return real;
  const why = unavailable(model);
  if (why !== null) return why;
  if (!realNumbers.has(model)) realNumbers.set(model, printNumbers(model, includeFlags(real, model)));
  return realNumbers.get(model)!;
}

describe('C', () => {
  for (const m of MODELS) {
    it(`${m}: the header and the validators build, and every number is the real header's`, (ctx) => {
      const want = theirs(m);
      if (typeof want === 'string') { ctx.skip(want); return; }
      const include = join(dir, 'native/include');
      const main = join(dir, 'main.c');
      writeFileSync(main, '#include <linux/iommufd.h>\n#include "linux_iommufd_validate.h"\nint main(void) { return linux_iommufd_ioctl_arg(LINUX_IOMMUFD_FD_IOMMUFD, IOMMU_IOAS_MAP) == 0; }\n');
      const exe = join(dir, `main-${m}`);
      const b = spawnSync('gcc', ['-std=c11', '-Wall', '-Wextra', '-Werror', '-pedantic', m === 'i386' ? '-m32' : '-m64', '-I', include, '-I', dirname(paths.validators!), main, paths.validators!, '-o', exe], { encoding: 'utf8' });
      expect(b.stderr).toBe('');
      expect(spawnSync(exe).status, 'IOMMU_IOAS_MAP is in the generated ioctl table').toBe(0);
      const ours = printNumbers(m, ['-I', include]);
      expect(ours.size).toBe(cExpressions(spec).length);
      expect(Object.fromEntries(ours)).toEqual(Object.fromEntries(want));
      // written out once, from the 7.3 header: _IO(';', 0x85), and a struct that is 40 bytes on both models
      expect([want.get('IOMMU_IOAS_MAP'), want.get('sizeof iommu_ioas_map'), want.get('alignof iommu_hwpt_arm_smmuv3')]).toEqual([0x3b85n, 40n, 8n]);
    });
  }

  it('declares IOMMUFD_CMD_* in an untagged enum and the flag sets as named enums, as upstream does', () => {
    const h = readFileSync(paths.header!, 'utf8');
    expect(h).toMatch(/^enum \{\n\tIOMMUFD_CMD_BASE = 128,\n\tIOMMUFD_CMD_DESTROY = 128,\n\tIOMMUFD_CMD_IOAS_ALLOC,$/m);
    expect(h).toMatch(/^enum iommufd_ioas_map_flags \{\n\tIOMMU_IOAS_MAP_FIXED_IOVA = \(1 << 0\),$/m);
    expect(h).toMatch(/^\t__aligned_le64 ste\[2\];$/m);
    expect(h).toMatch(/^#define IOMMU_IOAS_MAP\t_IO\(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP\)$/m);
    expect(h).toContain(' * @allowed_iovas: User address of the array that receives the ranges. Points to\n *\tan array of num_iovas struct iommu_iova_range.');
  });
});

interface Codec { size: number; offsets: Record<string, number>; encode(v: unknown): Uint8Array; decode(b: Uint8Array): unknown }
const pascal = (n: string): string => n.split('_').map((w) => (w === '' ? '' : w[0]!.toUpperCase() + w.slice(1))).join('');

describe('TypeScript and AssemblyScript', () => {
  let ts: Record<string, unknown>;
  let build: string;
  beforeAll(async () => {
    build = mkdtempSync(join(tmpdir(), 'iommufd-ts-'));
    cpSync(paths.ts!, join(build, 'iommufd.ts'));
    cpSync(join(ROOT, 'runtime/src/codec-support.ts'), join(build, 'codec-support.ts'));
    writeFileSync(join(build, 'iommufd.ts'), readFileSync(join(build, 'iommufd.ts'), 'utf8').replace("'../codec-support.js'", "'./codec-support.js'"));
    writeFileSync(join(build, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022'], types: [], strict: true, noUnusedLocals: true, noUnusedParameters: true, skipLibCheck: true, outDir: 'out' },
      include: ['*.ts'],
    }));
    writeFileSync(join(build, 'package.json'), '{ "type": "module" }\n');
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', join(build, 'tsconfig.json')], { encoding: 'utf8' });
    expect(r.stdout + r.stderr, 'tsc of the generated TypeScript').toBe('');
    ts = await import(pathToFileURL(join(build, 'out/iommufd.js')).href) as Record<string, unknown>;
  }, 120_000);
  afterAll(() => rmSync(build, { recursive: true, force: true }));

  for (const m of MODELS) {
    it(`${m}: codec sizes and offsets and ioctl numbers are the real header's`, (ctx) => {
      const want = theirs(m);
      if (typeof want === 'string') { ctx.skip(want); return; }
      const ioctlNumber = ts.ioctlNumber as (name: string, arch: string) => number;
      for (const x of spec.ioctls) expect(BigInt(ioctlNumber(x.name, m)), x.name).toBe(want.get(x.name));
      if (m !== 'x86_64') return;	// every iommufd struct has one layout on both data models (checked by the C test above)
      for (const s of spec.structs) {
        const codec = ts[pascal(s.name)] as Codec;
        expect(codec.size, s.name).toBe(Number(want.get(`sizeof ${s.name}`)));
        for (const mm of s.members) expect(codec.offsets[mm.name], `${s.name}.${mm.name}`).toBe(Number(want.get(`offsetof ${s.name}.${mm.name}`)));
      }
    });
  }

  it('AssemblyScript builds and writes the bytes the TypeScript codec writes (iommu_ioas_map, an __aligned_le64 array)', async () => {
    const as = join(build, 'as');
    mkdirSync(as);
    cpSync(paths.as!, join(as, 'iommufd.ts'));
    writeFileSync(join(as, 'entry.ts'), [
      "import { IommuIoasMap, iommu_ioas_map_write, IommuHwptArmSmmuv3, iommu_hwpt_arm_smmuv3_write, IOMMU_IOAS_MAP_WRITEABLE, IOMMU_IOAS_MAP_READABLE } from './iommufd';",
      'const buf = memory.data(64);',
      'export function scratch(): usize { return buf; }',
      'export function write_map(va: u64, len: u64): i32 {',
      '  const r = new IommuIoasMap(); r.size = 40; r.flags = IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE; r.ioas_id = 3; r.user_va = va; r.length = len;',
      '  return iommu_ioas_map_write(buf, r);',
      '}',
      'export function write_ste(a: u64, b: u64): i32 { const s = new IommuHwptArmSmmuv3(); s.ste[0] = a; s.ste[1] = b; return iommu_hwpt_arm_smmuv3_write(buf, s); }',
      '',
    ].join('\n'));
    const { binary } = await compileAs(join(as, 'entry.ts'), { flags: ['-O3', '--noAssert', ...MMIO_ASC_FLAGS] });
    const WA = (globalThis as unknown as { WebAssembly: { instantiate(b: Uint8Array, i: object): Promise<{ instance: { exports: unknown } }> } }).WebAssembly;
    const { instance } = await WA.instantiate(binary, { env: { abort: () => { throw new Error('abort'); } } });
    const e = instance.exports as { memory: { buffer: ArrayBuffer }; scratch(): number; write_map(va: bigint, len: bigint): number; write_ste(a: bigint, b: bigint): number };
    const bytes = (n: number): Uint8Array => new Uint8Array(e.memory.buffer, e.scratch(), n).slice();
    const map = ts.IommuIoasMap as Codec;
    expect(bytes(e.write_map(0x7f00_0000_0000n, 0x20_0000n))).toEqual(map.encode({ size: 40, flags: 6, ioas_id: 3, __reserved: 0, user_va: 0x7f00_0000_0000n, length: 0x20_0000n, iova: 0n }));
    const ste = ts.IommuHwptArmSmmuv3 as Codec;
    const v = { ste: [0x0123_4567_89ab_cdefn, 0xfedc_ba98_7654_3210n] };
    const written = bytes(e.write_ste(v.ste[0]!, v.ste[1]!));
    expect(written).toEqual(ste.encode(v));
    expect(written.slice(0, 2)).toEqual(new Uint8Array([0xef, 0xcd]));	// little-endian, as __le64 is
    expect(ste.decode(written)).toEqual(v);
  }, 120_000);
});
