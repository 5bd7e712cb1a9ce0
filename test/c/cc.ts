/**
 * Test-only helpers: the C compiler variants the generated C must build under, a temp-dir
 * workspace holding freshly generated C files, and compile-and-run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { emitCHeader } from '../../codegen/emit/c-header.js';
import { emitCValidators } from '../../codegen/emit/c-validators.js';
import type { Spec } from '../../codegen/ir.js';

export const STRICT = ['-Wall', '-Wextra', '-Werror', '-pedantic'];

export interface Variant {
  name: string;
  cc: string;
  /** Flags before the sources; `-x c++` for C++ variants so .c files compile as C++. */
  flags: string[];
  m32: boolean;
}

export const VARIANTS: Variant[] = [
  { name: 'gcc -std=c11', cc: 'gcc', flags: ['-std=c11', ...STRICT, '-O2'], m32: false },
  { name: 'gcc -std=c11 -m32', cc: 'gcc', flags: ['-std=c11', ...STRICT, '-O2', '-m32'], m32: true },
  { name: 'g++ -std=c++17', cc: 'g++', flags: ['-x', 'c++', '-std=c++17', ...STRICT, '-O2'], m32: false },
  { name: 'g++ -std=c++17 -m32', cc: 'g++', flags: ['-x', 'c++', '-std=c++17', ...STRICT, '-O2', '-m32'], m32: true },
];

export function hasCompiler(cc: string): boolean {
  return spawnSync(cc, ['--version'], { encoding: 'utf8' }).status === 0;
}

const probed = new Map<string, string | null>();

/**
 * Why a variant cannot run here (null when it can): the compiler is missing, or -m32 cannot build
 * and link a program using libc (gcc -m32 -E alone succeeds without the i386 libc headers).
 */
export function unavailable(v: Variant): string | null {
  const key = `${v.cc} ${v.m32}`;
  if (probed.has(key)) return probed.get(key)!;
  let why: string | null = null;
  if (!hasCompiler(v.cc)) {
    why = `${v.cc} is not installed`;
  } else if (v.m32) {
    const dir = mkdtempSync(join(tmpdir(), 'vfio-m32-probe-'));
    const src = join(dir, 'probe.c');
    writeFileSync(src, '#include <errno.h>\n#include <stdio.h>\n#include <string.h>\n#include <linux/vfio.h>\nint main(void) { printf("%d\\n", EINVAL); return 0; }\n');
    const r = spawnSync(v.cc, [...v.flags, src, '-o', join(dir, 'probe')], { encoding: 'utf8' });
    if (r.status !== 0) why = `${v.cc} -m32 cannot build a libc program here (install gcc-multilib/g++-multilib): ${r.stderr.split('\n')[0]}`;
  }
  probed.set(key, why);
  return why;
}

/** A temp directory holding the generated C files as emitted from spec (include/ and validators/). */
export function workspace(spec: Spec, prefix = 'vfio-c-'): { dir: string; include: string[]; validators: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (const f of [...emitCHeader(spec), ...emitCValidators(spec)]) {
    const path = join(dir, f.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, f.content);
  }
  const validators = join(dir, 'native/validators');
  return { dir, include: [`-I${join(dir, 'native/include')}`, `-I${validators}`], validators: join(validators, 'vfio_subregion_validate.c') };
}

export interface Built {
  ok: boolean;
  stderr: string;
  exe: string;
}

/** Compiles and links sources with a variant. */
export function build(v: Variant, sources: string[], include: string[], exe: string): Built {
  const r = spawnSync(v.cc, [...v.flags, ...include, ...sources, '-o', exe], { encoding: 'utf8' });
  return { ok: r.status === 0, stderr: `${r.stderr ?? ''}${r.stdout ?? ''}`, exe };
}

export function run(exe: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(exe, [], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Only compiles (-c) one source, for header checks. */
export function compileOnly(v: Variant, source: string, include: string[]): Built {
  const r = spawnSync(v.cc, [...v.flags, ...include, '-c', source, '-o', `${source}.${v.name.replace(/\W+/g, '_')}.o`], { encoding: 'utf8' });
  return { ok: r.status === 0, stderr: `${r.stderr ?? ''}${r.stdout ?? ''}`, exe: '' };
}

export const gccVersion = (): string => execFileSync('gcc', ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? '';
