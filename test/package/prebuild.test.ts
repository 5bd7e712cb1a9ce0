import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../codegen/paths.js';

/**
 * The committed prebuilt addons (prebuilds/, what an install from a git URL or a tarball loads) are
 * the current sources compiled: prebuilds/manifest.json records each file's hash, the hash of the
 * native sources it was built from and the compiler; `--check-prebuild` (prepack) holds the tree to
 * it, and a rebuild with the recorded compiler gives the committed bytes.
 */
const work = mkdtempSync(join(tmpdir(), 'vfio-subregion-prebuild-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const BUILD = join(ROOT, 'native/build.mjs');
const manifest = JSON.parse(readFileSync(join(ROOT, 'prebuilds/manifest.json'), 'utf8')) as Record<string, { sources: string; sha256: string; compiler: string }>;
const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

function build(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [BUILD, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 300_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** The compiler's version line as the manifest records it (without the name it was run by). */
function compiler(cc: string, env: NodeJS.ProcessEnv = {}): string | null {
  const r = spawnSync(cc, ['--version'], { encoding: 'utf8', env: { ...process.env, ...env } });
  return r.status === 0 ? r.stdout.split('\n')[0]!.replace(/^\S+ (?=\()/, '') : null;
}

/** Where test/package/cross-arm64.sh unpacked the arm64 cross compiler, or why not. */
function crossBin(): { bin?: string; why?: string } {
  const line = spawnSync('bash', [join(ROOT, 'test/package/cross-arm64.sh')], { encoding: 'utf8', timeout: 400_000 }).stdout.trim();
  return line.startsWith('OK ') ? { bin: line.slice(3) } : { why: line.replace(/^SKIP /, '') };
}

describe('the committed prebuilt addons', () => {
  it('linux-x64 and linux-arm64 are committed and recorded, built from the sources as they are', () => {
    expect(Object.keys(manifest).sort()).toEqual(['linux-arm64/vfio_native.glibc.node', 'linux-x64/vfio_native.glibc.node']);
    for (const [f, m] of Object.entries(manifest)) expect(sha256(join(ROOT, 'prebuilds', f)), f).toBe(m.sha256);
    const r = build(['--check-prebuild']);
    expect(r, r.out).toEqual({ status: 0, out: 'native/build.mjs: prebuilds current: prebuilds/linux-arm64/vfio_native.glibc.node, prebuilds/linux-x64/vfio_native.glibc.node\n' });
  });

  it('--check-prebuild fails, naming what to run, when a native source changed since the prebuild', () => {
    // A copy of what the check reads: the script, the native sources the package ships, prebuilds/.
    const copy = join(work, 'stale');
    for (const p of ['native/build.mjs', 'native/binding.gyp', 'native/addon', 'native/src', 'native/include', 'native/validators', 'prebuilds'])
      cpSync(join(ROOT, p), join(copy, p), { recursive: true });
    const ok = spawnSync(process.execPath, [join(copy, 'native/build.mjs'), '--check-prebuild'], { encoding: 'utf8' });
    expect(ok.status, ok.stderr).toBe(0);
    writeFileSync(join(copy, 'native/src/sim.c'), `${readFileSync(join(copy, 'native/src/sim.c'), 'utf8')}\n`);
    const r = spawnSync(process.execPath, [join(copy, 'native/build.mjs'), '--check-prebuild'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('native/build.mjs: prebuilds/linux-arm64/vfio_native.glibc.node was built from other native sources; prebuilds/linux-x64/vfio_native.glibc.node was built from other native sources: '
      + 'run `node native/build.mjs --prebuild` (and --arch arm64) and commit prebuilds/\n');
  });

  it('linux-x64: a rebuild with the recorded compiler gives the committed bytes', (ctx) => {
    const have = compiler('cc');
    const recorded = manifest['linux-x64/vfio_native.glibc.node']!.compiler;
    if (have !== recorded) return ctx.skip(`cc here is ${have ?? 'missing'}, the prebuild's was ${recorded}`);
    const r = build(['--prebuild', '--out', join(work, 'x64')]);
    expect(r.status, r.out).toBe(0);
    expect(sha256(join(work, 'x64/prebuilds/linux-x64/vfio_native.glibc.node'))).toBe(manifest['linux-x64/vfio_native.glibc.node']!.sha256);
  });

  it('linux-arm64: a cross rebuild with the recorded compiler gives the committed bytes', (ctx) => {
    const { bin, why } = crossBin();
    if (bin === undefined) return ctx.skip(`no arm64 cross compiler: ${why}`);
    const env = { PATH: `${bin}:${process.env.PATH}`, CC: 'aarch64-linux-gnu-gcc-12' };
    const have = compiler('aarch64-linux-gnu-gcc-12', env);
    const recorded = manifest['linux-arm64/vfio_native.glibc.node']!.compiler;
    if (have !== recorded) return ctx.skip(`the arm64 cross compiler here is ${have ?? 'missing'}, the prebuild's was ${recorded}`);
    const r = build(['--prebuild', '--arch', 'arm64', '--out', join(work, 'arm64')], env);
    expect(r.status, r.out).toBe(0);
    expect(sha256(join(work, 'arm64/prebuilds/linux-arm64/vfio_native.glibc.node'))).toBe(manifest['linux-arm64/vfio_native.glibc.node']!.sha256);
  });
});
