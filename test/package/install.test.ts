import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../codegen/paths.js';
import { compileAs } from '../../runtime/src/asc.js';

/**
 * The package as an app gets it: `npm pack` (with the prepack step: the prebuilt addon), then the
 * tarball installed into a fresh project under the temp folder with --omit=dev, offline from the npm cache,
 * with no C compiler on PATH; then every export imported by the package's name, the types checked
 * with tsc, code generated from a spec outside the package (the API and npx), the device API on the
 * simulator and a wasm guest. Each step is its own test, named by its number.
 */

/** Every export of package.json and how the test names it (a pattern export by files it matches): JS modules, then plain files. */
const JS_EXPORTS: Record<string, string[]> = {
  '.': ['vfio-subregion'],
  './mmio': ['vfio-subregion/mmio'],
  './asc': ['vfio-subregion/asc'],
  './component': ['vfio-subregion/component'],
  './info': ['vfio-subregion/info'],
  './native': ['vfio-subregion/native'],
  './sim-presets': ['vfio-subregion/sim-presets'],
  './generated/*': ['vfio-subregion/generated/vfio-subregion'],
  './codegen': ['vfio-subregion/codegen'],
};
const FILE_EXPORTS: Record<string, string[]> = {
  './assembly/*': ['vfio-subregion/assembly/mmio.ts', 'vfio-subregion/assembly/generated/vfio-subregion.ts', 'vfio-subregion/assembly/asconfig.json'],
  './wit/*': ['vfio-subregion/wit/vfio-subregion.wit'],
  './spec/*': ['vfio-subregion/spec/vfio-subregion.json', 'vfio-subregion/spec/schema/abi.schema.json'],
  './package.json': ['vfio-subregion/package.json'],
};

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; exports: Record<string, unknown>; scripts: Record<string, string> };
const work = mkdtempSync(join(tmpdir(), 'vfio-subregion-package-'));
const app = join(work, 'app');
const installed = join(app, 'node_modules/vfio-subregion');
// npm as the test's own npm runs it (npm test, npx), else the npm next to node.
const npmCli = process.env.npm_execpath?.endsWith('npm-cli.js') ? process.env.npm_execpath : realpathSync(join(dirname(process.execPath), 'npm'));
const npxCli = join(dirname(npmCli), 'npx-cli.js');
// PATH for npm in the app: node and sh only, so no compiler can run (CC=false for builds that ignore PATH).
const bin = join(work, 'bin');
const env: NodeJS.ProcessEnv = {
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_') && k !== 'PATH' && k !== 'NODE_OPTIONS')),
  PATH: bin, CC: 'false', CXX: 'false',
  ...(process.env.npm_config_cache !== undefined ? { npm_config_cache: process.env.npm_config_cache } : {}),
};

function run(step: string, file: string, args: string[], options: SpawnSyncOptions = {}): string {
  const r = spawnSync(file, args, { encoding: 'utf8', timeout: 90_000, ...options });
  if (r.status !== 0) throw new Error(`${step}: \`${[file, ...args].join(' ')}\` failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`})\n${r.stdout}\n${r.stderr}`);
  return `${r.stdout}${r.stderr}`;
}
const inApp = (step: string, script: string, extra: NodeJS.ProcessEnv = {}): string => {
  writeFileSync(join(app, 'step.mjs'), script);
  return run(step, process.execPath, ['step.mjs'], { cwd: app, env: { ...env, ...extra } });
};

beforeAll(() => {
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  symlinkSync('/bin/sh', join(bin, 'sh'));
  mkdirSync(app);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * An app's package.json and package-lock.json depending on the packed tarball, its dependencies
 * pinned to the entries of this checkout's lock (the ones `npm ci` put in the npm cache), so the
 * install runs with --offline: a test never reaches the registry.
 */
function appProject(dir: string, name: string, extra: Record<string, unknown> = {}): void {
  const tgz = `vfio-subregion-${pkg.version}.tgz`;
  const spec = `file:../${tgz}`;
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; devOptional?: boolean } & Record<string, unknown>> };
  const root = lock.packages['']!;
  const prod = Object.entries(lock.packages).filter(([k, v]) => k.startsWith('node_modules/') && v.dev !== true && v.devOptional !== true);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, ...extra, dependencies: { 'vfio-subregion': spec } }));
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({
    name, version: '1.0.0', lockfileVersion: 3, requires: true,
    packages: {
      '': { name, version: '1.0.0', dependencies: { 'vfio-subregion': spec } },
      'node_modules/vfio-subregion': {
        version: pkg.version, resolved: spec, integrity: `sha512-${createHash('sha512').update(readFileSync(join(work, tgz))).digest('base64')}`,
        hasInstallScript: true, license: root.license, dependencies: root.dependencies, bin: root.bin, engines: root.engines,
      },
      ...Object.fromEntries(prod),
    },
  }, null, 2));
}

describe('the packed package, installed into a fresh project', () => {
  it('step 1: npm pack ships the build, the prebuilt addon and the sources an app needs, nothing test-only', () => {
    // The prepack script (the prebuild) runs as npm pack would run it; dist/ is what `npm test` just built.
    expect(pkg.scripts.prepack, 'step 1').toBe('node native/build.mjs --prebuild');
    run('step 1 (prepack)', process.execPath, [npmCli, 'run', '-s', 'prepack'], { cwd: ROOT });
    run('step 1 (pack)', process.execPath, [npmCli, 'pack', '--ignore-scripts', '--pack-destination', work], { cwd: ROOT });
    const tgz = join(work, `vfio-subregion-${pkg.version}.tgz`);
    const files = run('step 1 (list)', 'tar', ['tzf', tgz]).split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    expect(files, 'step 1: the prebuilt addon').toContain(`prebuilds/${process.platform}-${process.arch}/vfio_native.glibc.node`);
    for (const f of ['dist/runtime/src/device.js', 'dist/runtime/src/device.d.ts', 'dist/codegen/index.d.ts', 'bin/vfio-subregion.js', 'native/binding.gyp', 'native/addon/module.c',
      'runtime/assembly/mmio.ts', 'runtime/wit/vfio-subregion.wit', 'spec/schema/abi.schema.json', 'LICENSE', 'README.md'])
      expect(files, `step 1: ${f}`).toContain(f);
    expect(files.filter((f) => /^(test|tools|examples|native\/testing|native\/kernel|native\/build\/|\.ci)|\.map$|tsconfig|dist\/(tools|examples|test)/.test(f)), 'step 1: nothing test-only').toEqual([]);
  });

  it('step 2: npm install --omit=dev from the npm cache, no compiler: the prebuilt addon is used', () => {
    appProject(app, 'app', { type: 'module' });
    const out = run('step 2 (npm install)', process.execPath, [npmCli, 'install', '--omit=dev', '--offline', '--no-audit', '--no-fund', '--foreground-scripts'], { cwd: app, env });
    expect(out, 'step 2: the install script keeps the prebuild').toContain(`native/build.mjs: using the prebuilt addon prebuilds/${process.platform}-${process.arch}/vfio_native.glibc.node`);
    expect(existsSync(join(installed, 'native/build')), 'step 2: nothing built from source').toBe(false);
    expect(readdirSync(join(app, 'node_modules')).filter((d) => ['typescript', 'vitest', 'assemblyscript', 'node-gyp', 'prebuildify'].includes(d)), 'step 2: no devDependency installed').toEqual([]);
  });

  it('step 3: every export imports by the package name; generation never loads the addon', () => {
    expect(Object.keys(pkg.exports).sort(), 'step 3: the test names every export').toEqual(Object.keys({ ...JS_EXPORTS, ...FILE_EXPORTS }).sort());
    const out = inApp('step 3 (imports)', `
      import { existsSync } from 'node:fs';
      import { fileURLToPath } from 'node:url';
      process.dlopen = () => { throw new Error('the native addon was loaded'); };
      const gen = await import('vfio-subregion/codegen');
      if (typeof gen.generate !== 'function' || typeof gen.loadSpec !== 'function') throw new Error('codegen: no generate/loadSpec');
      for (const s of ${JSON.stringify(Object.values(JS_EXPORTS).flat())}) if (Object.keys(await import(s)).length === 0) throw new Error(s + ' exports nothing');
      for (const s of ${JSON.stringify(Object.values(FILE_EXPORTS).flat())}) if (!existsSync(fileURLToPath(import.meta.resolve(s)))) throw new Error(s + ' resolves to no file');
      console.log('imports ok');
    `);
    expect(out, 'step 3').toContain('imports ok');
  });

  it('step 4: the types, through tsc', () => {
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: true, types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')] },
      files: ['check.ts'],
    }));
    writeFileSync(join(app, 'check.ts'), `
      import { openDevice, VfioError, type Device, type RegionInfo } from 'vfio-subregion';
      import { MmioHost, instantiateGuest } from 'vfio-subregion/mmio';
      import { gatherInfo, formatInfo } from 'vfio-subregion/info';
      import { native } from 'vfio-subregion/native';
      import { NIC_LAYOUT } from 'vfio-subregion/sim-presets';
      import { VfioRegionAttr } from 'vfio-subregion/generated/vfio-subregion';
      import { generate, loadSpec, TARGET_NAMES, SpecError, type GeneratedFile } from 'vfio-subregion/codegen';
      const dev: Device = openDevice('sim');
      const r: RegionInfo = dev.createSubregion({ parent: NIC_LAYOUT.bar, offset: 0x20000n, size: 0x20000n, attrs: VfioRegionAttr.VFIO_REGION_ATTR_WC });
      const text: string = formatInfo(gatherInfo(dev));
      const page: number = native().pageSize;
      const files: GeneratedFile[] = generate(loadSpec('spec.json'), { targets: TARGET_NAMES.slice(0, 1) });
      const guest: Promise<Record<string, unknown>> = instantiateGuest(new Uint8Array(), new MmioHost());
      // @ts-expect-error: a region index is a number
      dev.region('0');
      // @ts-expect-error: targets are names
      generate('spec.json', { targets: 1 });
      export { r, text, page, files, guest, VfioError, SpecError };
    `);
    run('step 4 (tsc)', process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: app });
  });

  it('step 5: code from a spec outside the package, through the API and through npx', () => {
    cpSync(join(ROOT, 'test/fixtures/specs/userfaultfd.json'), join(app, 'my-abi.json'));
    // What the spec's targets name (test/fixtures/specs/userfaultfd.json)
    const expected = ['include/linux/userfaultfd_abi.h', 'c/userfaultfd_validate.h', 'c/userfaultfd_validate.c', 'ts/userfaultfd.ts', 'as/userfaultfd.ts', 'docs/userfaultfd-abi.md'];
    // The CLI runs with the addon's loader made to throw: generation must not need it.
    writeFileSync(join(app, 'no-addon.mjs'), `process.dlopen = () => { throw new Error('the native addon was loaded'); };\n`);
    const api = JSON.parse(inApp('step 5 (generate API)', `
      process.dlopen = () => { throw new Error('the native addon was loaded'); };
      const { generate } = await import('vfio-subregion/codegen');
      const files = generate('my-abi.json', { out: 'gen' });
      if (files.some((f) => f.content.length === 0)) throw new Error('an empty file');
      console.log(JSON.stringify({ paths: files.map((f) => f.path), ts: files.find((f) => f.path === 'ts/userfaultfd.ts')?.content }));
    `)) as { paths: string[]; ts: string };
    expect(api.paths, 'step 5: generate(spec) in memory').toEqual(expected);
    expect(existsSync(join(app, 'ts')), 'step 5: generate() writes nothing').toBe(false);
    run('step 5 (npx generate)', process.execPath, [npxCli, '--offline', 'vfio-subregion', 'generate', '--spec', 'my-abi.json', '--out', 'gen'],
      { cwd: app, env: { ...env, NODE_OPTIONS: '--import=./no-addon.mjs' } });
    for (const f of expected) expect(existsSync(join(app, 'gen', f)), `step 5: npx vfio-subregion generate wrote gen/${f}`).toBe(true);
    expect(readFileSync(join(app, 'gen/ts/userfaultfd.ts'), 'utf8'), 'step 5: npx and the API agree').toBe(api.ts);
  });

  it('step 6: the device API on the simulator', () => {
    const out = inApp('step 6 (device API)', `
      import { openDevice } from 'vfio-subregion';
      import { VfioRegionAttr } from 'vfio-subregion/generated/vfio-subregion';
      const dev = openDevice('sim');
      const bar0 = dev.region(0);
      if (bar0.size === 0n) throw new Error('region 0 is empty');
      const sub = dev.createSubregion({ parent: 0, offset: 0x20000n, size: 0x20000n, attrs: VfioRegionAttr.VFIO_REGION_ATTR_WC });
      if (dev.region(sub.index).subregion?.parent !== 0) throw new Error('the subregion does not name its parent');
      const wc = dev.map(sub);
      wc.write64(8, 0x1122334455667788n);
      if (wc.attrs !== VfioRegionAttr.VFIO_REGION_ATTR_WC) throw new Error('not mapped WC');
      if (wc.read64(8) !== 0x1122334455667788n) throw new Error('read back differs');
      const viaBar = dev.read(0, 0x20008n, 8);
      if (Buffer.from(viaBar).readBigUInt64LE() !== 0x1122334455667788n) throw new Error('the BAR does not see the write');
      dev.close();
      console.log('device ok');
    `);
    expect(out, 'step 6').toContain('device ok');
  });

  it('step 7: a wasm guest (examples/ring-producer) drives the simulated device through the installed runtime', async () => {
    writeFileSync(join(app, 'producer.wasm'), (await compileAs('examples/ring-producer/assembly/producer.ts', { baseDir: ROOT })).binary);
    const out = inApp('step 7 (wasm guest)', `
      import { readFileSync } from 'node:fs';
      import { openDevice } from 'vfio-subregion';
      import { MmioHost, instantiateGuest } from 'vfio-subregion/mmio';
      import { native } from 'vfio-subregion/native';
      import { NIC_LAYOUT } from 'vfio-subregion/sim-presets';
      import { VfioRegionAttr } from 'vfio-subregion/generated/vfio-subregion';
      const dev = openDevice('sim');
      const host = new MmioHost();
      const { bar, registers, txPush } = NIC_LAYOUT;
      const sub = dev.createSubregion({ parent: bar, offset: txPush.offset, size: txPush.size, attrs: VfioRegionAttr.VFIO_REGION_ATTR_WC });
      const ex = await instantiateGuest(readFileSync('producer.wasm'), host);
      const ps = native().pageSize;
      const regsAt = ex.window_reserve(Number(registers.size), ps) >>> 0;
      const ringAt = ex.window_reserve(Number(txPush.size), ps) >>> 0;
      const regs = host.map(dev, bar, { at: regsAt, offset: registers.offset, length: Number(registers.size) });
      const ring = host.map(dev, sub, { at: ringAt });
      ex.set_inline_fence(MmioHost.inlineFence ? 1 : 0);
      ex.init(regsAt, regs.size, ringAt, ring.size);
      const made = ex.produce(100);
      // The device's side: the records and the tail register, read through the device, not the guest.
      let slot = 0;
      for (let seq = 0; seq < made; seq++) {
        const rec = Buffer.from(dev.read(bar, txPush.offset + BigInt(slot * 64), 64));
        const len = 1 + (seq * 37) % 248;
        if (rec.readUInt32LE(0) !== seq || rec.readUInt32LE(4) !== len || rec[8] !== (seq & 0xff)) throw new Error('record ' + seq + ' differs');
        slot += Math.ceil((8 + len) / 64);
      }
      const tail = Buffer.from(dev.read(bar, registers.offset + BigInt(ex.TAIL_REG.value), 4)).readUInt32LE();
      if (made !== 100 || tail !== slot) throw new Error('produced ' + made + ', tail ' + tail + ', expected 100 and ' + slot);
      host.unmapAll();
      dev.close();
      console.log('wasm ok');
    `);
    expect(out, 'step 7').toContain('wasm ok');
  });

  it('step 8: where the prebuilt addon does not fit (a musl machine) and no compiler runs, the install says what to do', () => {
    const other = join(work, 'musl-app');
    mkdirSync(other);
    appProject(other, 'musl-app');
    // LIBC is node-gyp-build's override of the C library it matches prebuilds against.
    const r = spawnSync(process.execPath, [npmCli, 'install', '--omit=dev', '--offline', '--no-audit', '--no-fund'],
      { cwd: other, env: { ...env, LIBC: 'musl' }, encoding: 'utf8', timeout: 90_000 });
    expect(r.status, `step 8: the install fails\n${r.stdout}${r.stderr}`).not.toBe(0);
    const why = `${process.platform}-${process.arch} (No native build was found for`;
    expect(r.stderr, 'step 8: why').toContain(`native/build.mjs: no prebuilt addon loads on ${why}`);
    expect(r.stderr, 'step 8: why').toMatch(/libc=musl .*\); building it from source/);
    expect(r.stderr, 'step 8: what to install').toContain('needs python3, make and a C compiler');
    expect(r.stderr, 'step 8: what to run then').toContain('then run `npm rebuild vfio-subregion` in your project.');
    expect(r.stderr, 'step 8: no advice meant for the checkout').not.toMatch(/devDependency|run `npm install`/);
  });
});
