import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ROOT } from '../../codegen/paths.js';

/**
 * What the tests of the package as an app gets it share (test/package, test/guest): npm pack, a
 * PATH without a C compiler, and an app project whose lock pins every dependency to this checkout's
 * lock, so npm installs it offline from the cache `npm ci` filled.
 */
export const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; exports: Record<string, unknown>; scripts: Record<string, string> };
// npm as the test's own npm runs it (npm test, npx), else the npm next to node.
export const npmCli = process.env.npm_execpath?.endsWith('npm-cli.js') ? process.env.npm_execpath : realpathSync(join(dirname(process.execPath), 'npm'));
export const npxCli = join(dirname(npmCli), 'npx-cli.js');

export function run(step: string, file: string, args: string[], options: SpawnSyncOptions = {}): string {
  const r = spawnSync(file, args, { encoding: 'utf8', timeout: 180_000, ...options });
  if (r.status !== 0) throw new Error(`${step}: \`${[file, ...args].join(' ')}\` failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`})\n${r.stdout}\n${r.stderr}`);
  return `${r.stdout}${r.stderr}`;
}

/** A compiler by its name (gcc, cc, c++, clang, cpp, their versioned and target-prefixed forms). */
const COMPILER = /(^|-)(cc|gcc|g\+\+|c\+\+|clang(\+\+)?|cpp|c89|c99|tcc)(-[\d.]+)?$/;

/**
 * The environment of a machine without a C compiler: PATH is a folder of links to every program of
 * the system's bin folders but the compilers (git, npm and the shell tools an install runs stay), CC
 * and CXX are `false` for builds that ignore PATH; npm's own variables of this run are left out.
 */
export function noCompilerEnv(work: string): NodeJS.ProcessEnv {
  const bin = join(work, 'bin');
  if (!existsSync(bin)) {
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    symlinkSync(npmCli, join(bin, 'npm'));
    for (const dir of ['/usr/local/bin', '/usr/bin', '/bin']) {
      for (const name of existsSync(dir) ? readdirSync(dir) : []) {
        if (!COMPILER.test(name) && !existsSync(join(bin, name))) symlinkSync(join(dir, name), join(bin, name));
      }
    }
  }
  return {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_') && k !== 'PATH' && k !== 'NODE_OPTIONS')),
    PATH: bin, CC: 'false', CXX: 'false',
    ...(process.env.npm_config_cache !== undefined ? { npm_config_cache: process.env.npm_config_cache } : {}),
  };
}

/** `npm pack` of this checkout into `dir` (prepack, the prebuild check, runs as npm pack would run it); the tarball's path. */
export function pack(dir: string): string {
  run('npm run prepack', process.execPath, [npmCli, 'run', '-s', 'prepack'], { cwd: ROOT });
  run('npm pack', process.execPath, [npmCli, 'pack', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT });
  return join(dir, `vfio-subregion-${pkg.version}.tgz`);
}

/** How the app names the package: a tarball (`file:` relative to the app) or a git URL at a commit. */
export type Source = { tarball: string } | { git: string; commit: string };

/**
 * An app's package.json and package-lock.json depending on the package, its dependencies pinned to
 * the entries of this checkout's lock (the ones `npm ci` put in the npm cache), so the install runs
 * with --offline: a test never reaches the registry.
 */
export function appProject(dir: string, name: string, source: Source, extra: Record<string, unknown> = {}): void {
  const spec = 'tarball' in source ? `file:../${basename(source.tarball)}` : source.git;
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; devOptional?: boolean } & Record<string, unknown>> };
  const root = lock.packages['']!;
  const prod = Object.entries(lock.packages).filter(([k, v]) => k.startsWith('node_modules/') && v.dev !== true && v.devOptional !== true);
  const resolved = 'tarball' in source
    ? { resolved: spec, integrity: `sha512-${createHash('sha512').update(readFileSync(source.tarball)).digest('base64')}` }
    : { resolved: `${source.git}#${source.commit}` };
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, ...extra, dependencies: { 'vfio-subregion': spec } }));
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({
    name, version: '1.0.0', lockfileVersion: 3, requires: true,
    packages: {
      '': { name, version: '1.0.0', dependencies: { 'vfio-subregion': spec } },
      'node_modules/vfio-subregion': {
        version: pkg.version, ...resolved, hasInstallScript: true, license: root.license, dependencies: root.dependencies, bin: root.bin, engines: root.engines,
      },
      ...Object.fromEntries(prod),
    },
  }, null, 2));
}

/** npm install of an app project: production dependencies only, offline, no audit. */
export function npmInstall(step: string, dir: string, env: NodeJS.ProcessEnv): string {
  return run(step, process.execPath, [npmCli, 'install', '--omit=dev', '--offline', '--no-audit', '--no-fund', '--foreground-scripts'], { cwd: dir, env });
}
