/**
 * Conformance of the IR's upstream elements with the system's <linux/vfio.h>: a C program
 * (written from the IR, including only <linux/vfio.h> and libc) prints sizeof/offsetof of every
 * upstream struct and member and the value of every upstream constant, enum value, flag bit,
 * capability id, feature number and ioctl number. The header gives the expected values; the IR is
 * what is checked.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSpec } from '../../codegen/load.js';
import type { Arch, Spec } from '../../codegen/ir.js';
import { build, hasCompiler, run, unavailable, VARIANTS, type Variant } from './cc.js';
import { extensible } from './translate.js';
import { ARCH_MODEL } from '../../codegen/layout.js';

/**
 * The kernel whose uapi headers the system has (test/uapi checks the newer ones): upstream elements
 * the spec dates later are not in it, and ones upstream removed by then are not either.
 */
const SYSTEM_KERNEL = '6.1';
const order = (v: string): number => { const [a, b] = v.split('.').map(Number); return a! * 1000 + b!; };
const upstream = (o: { origin: { kind: string; kernel?: string; removed?: string } }): boolean =>
  o.origin.kind === 'upstream' && order(o.origin.kernel!) <= order(SYSTEM_KERNEL) && (o.origin.removed === undefined || order(o.origin.removed) > order(SYSTEM_KERNEL));

type Category = 'struct' | 'constant' | 'enum' | 'flag' | 'capability' | 'feature' | 'ioctl';

interface Item {
  category: Category;
  /** What the line names, e.g. `sizeof(struct vfio_region_info)`. */
  key: string;
  /** The IR's value. */
  ir: bigint;
  /** A C expression for the system header's value, or null when it is a macro checked by #ifdef first. */
  expr: string;
  /** A macro to test with #ifdef (missing ones are reported as such). */
  macro: string | null;
  /** Tolerated difference (an argsz struct that grew at its end). */
  grows?: boolean;
}

function items(spec: Spec, arch: Arch): Item[] {
  const out: Item[] = [];
  for (const s of spec.structs.filter(upstream)) {
    const T = `struct ${s.name}`;
    out.push({ category: 'struct', key: `sizeof(${T})`, ir: BigInt(s.layouts[ARCH_MODEL[arch]].size), expr: `sizeof(${T})`, macro: null, grows: extensible(spec, s) });
    // a member upstream added later (vfio_pci_dependent_device.devid, 6.12) is not in the system's header
    for (const m of s.members.filter((x) => x.origin === null || upstream({ origin: x.origin }))) {
      out.push({ category: 'struct', key: `offsetof(${T}, ${m.name})`, ir: BigInt(m.layouts[ARCH_MODEL[arch]].offset), expr: `offsetof(${T}, ${m.name})`, macro: null });
      if (m.count !== 'flexible') out.push({ category: 'struct', key: `sizeof(((${T} *)0)->${m.name})`, ir: BigInt(m.layouts[ARCH_MODEL[arch]].size), expr: `sizeof(((${T} *)0)->${m.name})`, macro: null });
    }
  }
  // the system's value of a number that changed between versions (origin.values); string constants are test/uapi's
  const value = (x: { value: bigint; origin: Spec['constants'][number]['origin'] }): bigint =>
    (x.origin.kind === 'upstream' ? x.origin.values?.filter((e) => order(e.kernel) <= order(SYSTEM_KERNEL)).at(-1)?.value : undefined) ?? x.value;
  for (const c of spec.constants.filter(upstream).filter((x) => x.string === null)) out.push({ category: 'constant', key: c.name, ir: value(c), expr: c.name, macro: c.name });
  for (const e of spec.enums) {
    for (const v of e.values.filter(upstream)) {
      // Values of an upstream enum rendered as a C enum are enumerators, not macros.
      out.push({ category: 'enum', key: v.name, ir: value(v), expr: v.name, macro: upstream(e) && e.render === 'enum' ? null : v.name });
    }
  }
  for (const f of spec.flags.filter(upstream)) for (const b of f.bits.filter((x) => x.origin === null || upstream({ origin: x.origin }))) out.push({ category: 'flag', key: b.name, ir: b.value, expr: b.name, macro: b.name });
  for (const c of spec.capabilities.filter(upstream)) out.push({ category: 'capability', key: c.name, ir: BigInt(c.id), expr: c.name, macro: c.name });
  for (const f of spec.features.filter(upstream)) out.push({ category: 'feature', key: f.name, ir: BigInt(f.number), expr: f.name, macro: f.name });
  for (const i of spec.ioctls.filter(upstream)) out.push({ category: 'ioctl', key: `${i.name} (${arch})`, ir: BigInt(i.numbers[arch]), expr: `(unsigned int)(${i.name})`, macro: i.name });
  return out;
}

function program(list: Item[]): string {
  const out = ['#include <stddef.h>', '#include <stdio.h>', '#include <linux/vfio.h>', '', 'int main(void)', '{'];
  list.forEach((it, k) => {
    if (it.macro !== null) out.push(`#ifdef ${it.macro}`);
    out.push(`\tprintf("%d %lld\\n", ${k}, (long long)(${it.expr}));`);
    if (it.macro !== null) out.push('#else', `\tprintf("%d missing\\n", ${k});`, '#endif');
  });
  out.push('\treturn 0;', '}', '');
  return out.join('\n');
}

/**
 * A value the program printed (as long long). A negative int, such as (1 << 31) for bit 31, is
 * read as the 32-bit pattern it stands for in a __u32 field.
 */
function header(printed: string): bigint {
  const v = BigInt(printed);
  return v < 0n && v >= -(1n << 31n) ? BigInt.asUintN(32, v) : v;
}

interface Outcome {
  mismatches: Map<Category, string[]>;
  notes: string[];
}

function check(v: Variant, spec: Spec, arch: Arch): Outcome {
  const list = items(spec, arch);
  const dir = mkdtempSync(join(tmpdir(), 'vfio-conformance-'));
  const src = join(dir, 'conformance.c');
  writeFileSync(src, program(list));
  const b = build(v, [src], [], join(dir, 'conformance'));
  if (!b.ok) throw new Error(`${v.name} could not build ${src} against <linux/vfio.h> (an upstream struct or enumerator the IR names is missing there?):\n${b.stderr}`);
  const r = run(b.exe);
  if (r.status !== 0) throw new Error(`${b.exe} exited ${r.status}: ${r.stderr}`);
  const got = new Map<number, string>();
  for (const line of r.stdout.trim().split('\n')) {
    const [k, value] = line.split(' ');
    got.set(Number(k), value!);
  }
  const mismatches = new Map<Category, string[]>();
  const notes: string[] = [];
  list.forEach((it, k) => {
    const value = got.get(k);
    let problem: string | null = null;
    if (value === undefined) problem = `${it.key}: no output`;
    else if (value === 'missing') problem = `${it.key}: not defined by <linux/vfio.h>; the IR says ${it.ir}`;
    else if (header(value) !== it.ir) {
      if (it.grows === true && header(value) > it.ir) notes.push(`${it.key} is ${value} in <linux/vfio.h>, ${it.ir} in the IR: members appended by a newer kernel (argsz absorbs them)`);
      else problem = `${it.key}: <linux/vfio.h> says ${header(value)} (0x${header(value).toString(16)}), the IR says ${it.ir} (0x${it.ir.toString(16)})`;
    }
    if (problem !== null) mismatches.set(it.category, [...(mismatches.get(it.category) ?? []), problem]);
  });
  return { mismatches, notes };
}

const HOST_ARCH: Record<string, Arch> = { x64: 'x86_64', ia32: 'i386', arm64: 'aarch64', riscv64: 'riscv64', s390x: 's390x', ppc64: 'ppc64le' };
const CATEGORIES: Category[] = ['struct', 'constant', 'enum', 'flag', 'capability', 'feature', 'ioctl'];

let spec: Spec;
beforeAll(() => { spec = loadSpec(); });

describe('IR conformance with the system <linux/vfio.h>', () => {
  it('the system header is installed', () => {
    const found = existsSync('/usr/include/linux/vfio.h');
    expect(found, '/usr/include/linux/vfio.h is missing: install linux-libc-dev (apt-get install linux-libc-dev)').toBe(true);
  });

  const hostArch = HOST_ARCH[process.arch];
  const runs: { variant: Variant; arch: Arch | undefined }[] = [
    { variant: VARIANTS[0]!, arch: hostArch },
    { variant: VARIANTS[1]!, arch: process.arch === 'x64' ? 'i386' : undefined },
  ];
  for (const { variant, arch } of runs) {
    describe(`${variant.name}`, () => {
      let outcome: Outcome | null = null;
      let skip: string | null = null;
      beforeAll(() => {
        if (!existsSync('/usr/include/linux/vfio.h')) skip = '<linux/vfio.h> is missing: install linux-libc-dev';
        else if (!hasCompiler('gcc')) skip = 'gcc is not installed';
        else if (arch === undefined) skip = `no IR architecture for this host with ${variant.name}`;
        else skip = unavailable(variant);
        if (skip === null) {
          outcome = check(variant, spec, arch!);
          for (const n of outcome.notes) process.stderr.write(`note (${variant.name}): ${n}\n`);
        }
      });
      for (const category of CATEGORIES) {
        it(`${category} values match the IR`, (ctx) => {
          if (skip !== null) ctx.skip(`skipped: ${skip}`);
          const bad = outcome!.mismatches.get(category) ?? [];
          expect(bad, `IR ${category} values that differ from <linux/vfio.h>:\n  ${bad.join('\n  ')}`).toEqual([]);
        });
      }
    });
  }
});

describe('the conformance check itself', () => {
  it('names an IR value that differs from the header', (ctx) => {
    if (!existsSync('/usr/include/linux/vfio.h') || !hasCompiler('gcc')) ctx.skip('needs gcc and <linux/vfio.h>');
    const arch = HOST_ARCH[process.arch];
    if (arch === undefined) ctx.skip('no IR architecture for this host');
    const bad = structuredClone(spec);
    bad.constants.find((c) => c.name === 'VFIO_BASE')!.value = 101n;
    bad.structs.find((s) => s.name === 'vfio_region_info')!.members.find((m) => m.name === 'size')!.layouts[ARCH_MODEL[arch!]].offset = 20;
    bad.flags.flatMap((f) => f.bits).find((b) => b.name === 'VFIO_REGION_INFO_FLAG_CAPS')!.value = 4n;
    const { mismatches } = check(VARIANTS[0]!, bad, arch!);
    expect(mismatches.get('constant')).toEqual([expect.stringMatching(/^VFIO_BASE: <linux\/vfio.h> says 100 .* the IR says 101/)]);
    expect(mismatches.get('struct')).toEqual([expect.stringMatching(/^offsetof\(struct vfio_region_info, size\): <linux\/vfio.h> says 16 .* the IR says 20/)]);
    expect(mismatches.get('flag')).toEqual([expect.stringMatching(/^VFIO_REGION_INFO_FLAG_CAPS: <linux\/vfio.h> says 8 /)]);
    expect(mismatches.get('ioctl')).toBeUndefined();
  });
});

