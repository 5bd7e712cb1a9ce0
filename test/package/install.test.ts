import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../codegen/paths.js';
import { compileAs } from '../../runtime/src/asc.js';
import { appProject, noCompilerEnv, npmCli, npmInstall, npxCli, pack, pkg, run } from './app.js';

/**
 * The package as an app gets it: `npm pack` (with the prepack step: the prebuilt addons checked),
 * then the tarball installed into a fresh project under the temp folder with --omit=dev, offline
 * from the npm cache, with no C compiler on PATH; then every export imported by the package's name,
 * the types checked with tsc, code generated from a spec outside the package (the API and npx), the
 * device API on the simulator, a wasm guest and the demo; the arm64 prebuilt addon under qemu-user.
 * Each step is its own test, named by its number. (git.test.ts installs it from a git URL.)
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

const work = mkdtempSync(join(tmpdir(), 'vfio-subregion-package-'));
const app = join(work, 'app');
const installed = join(app, 'node_modules/vfio-subregion');
const env = noCompilerEnv(work);
let tgz = '';
mkdirSync(app);
afterAll(() => rmSync(work, { recursive: true, force: true }));

const inApp = (step: string, script: string, extra: NodeJS.ProcessEnv = {}): string => {
  writeFileSync(join(app, 'step.mjs'), script);
  return run(step, process.execPath, ['step.mjs'], { cwd: app, env: { ...env, ...extra } });
};

describe('the packed package, installed into a fresh project', () => {
  it('step 1: npm pack ships the build, the prebuilt addon and the sources an app needs, nothing test-only', () => {
    // The prepack script (the prebuild check) runs as npm pack would run it; dist/ is what `npm test` just built.
    expect(pkg.scripts.prepack, 'step 1').toBe('node native/build.mjs --check-prebuild');
    tgz = pack(work);
    const files = run('step 1 (list)', 'tar', ['tzf', tgz]).split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    for (const f of ['linux-x64/vfio_native.glibc.node', 'linux-arm64/vfio_native.glibc.node']) expect(files, 'step 1: the prebuilt addons').toContain(`prebuilds/${f}`);
    for (const f of ['dist/runtime/src/device.js', 'dist/runtime/src/device.d.ts', 'dist/codegen/index.d.ts', 'bin/vfio-subregion.js', 'native/binding.gyp', 'native/addon/module.c',
      'runtime/assembly/mmio.ts', 'runtime/wit/vfio-subregion.wit', 'spec/schema/abi.schema.json', 'LICENSE', 'README.md'])
      expect(files, `step 1: ${f}`).toContain(f);
    // The demo's part of examples/nic-tx and examples/e1000e: their JS and the drivers `npm run build` compiled (no AssemblyScript at run time).
    expect(files.filter((f) => f.startsWith('dist/examples/')).sort(), 'step 1: the demo').toEqual([
      'dist/examples/e1000e/driver.wasm', 'dist/examples/e1000e/main.js',
      'dist/examples/nic-tx/device-model.js', 'dist/examples/nic-tx/driver.wasm', 'dist/examples/nic-tx/main.js', 'dist/examples/nic-tx/wasi.js',
    ]);
    expect(files.filter((f) => /^(test|tools|examples|native\/testing|native\/kernel|native\/build\/|\.ci)|\.map$|tsconfig|dist\/(tools|test)/.test(f)), 'step 1: nothing test-only').toEqual([]);
  });

  it('step 2: npm install --omit=dev from the npm cache, no compiler: the prebuilt addon is used', () => {
    appProject(app, 'app', { tarball: tgz }, { type: 'module' });
    const out = npmInstall('step 2 (npm install)', app, env);
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
    appProject(other, 'musl-app', { tarball: tgz });
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

  it('step 9: npx vfio-subregion demo: the mapping demo, nic-tx and e1000e, with the drivers the package ships (no AssemblyScript installed)', () => {
    expect(existsSync(join(app, 'node_modules/assemblyscript')), 'step 9: no asc in the app').toBe(false);
    const out = run('step 9 (demo)', process.execPath, [npxCli, '--offline', 'vfio-subregion', 'demo'], { cwd: app, env });
    expect(out).toContain('created region 9: 128K of BAR0 at +0x20000, attributes WC\n');
    expect(out).toContain('rang the doorbell through the UC mapping: the device model sees both\n');
    expect(out).toMatch(/^nic-tx \(core module\): 1000000 descriptors \(64000000 bytes\) in /m);
    expect(out).toContain('  device model: consumed 1000000, every descriptor in order and intact\n');
    expect(out).toMatch(/^e1000e \(wasm, WASI\): 100000 frames \(6400000 bytes\) in /m);
    expect(out).toContain('  device model: 100000 frames (6400000 bytes) from 100000 descriptors, 0 DMA faults, 0 dropped\n');
  });

  it('step 10: the arm64 prebuilt addon, loaded by an arm64 Node under qemu-user, runs the simulator', (ctx) => {
    const line = spawnSync('bash', [join(ROOT, 'test/package/arm64-node.sh')], { encoding: 'utf8', timeout: 400_000 }).stdout.trim();
    if (!line.startsWith('OK ')) return ctx.skip(`no arm64 Node here: ${line.replace(/^SKIP /, '')}`);
    const root = line.split(' ')[1]!;
    writeFileSync(join(app, 'arm64.mjs'), `
      import { createRequire } from 'node:module';
      import { dirname } from 'node:path';
      import { fileURLToPath } from 'node:url';
      import { openDevice } from 'vfio-subregion';
      import { VfioRegionAttr } from 'vfio-subregion/generated/vfio-subregion';
      const pkg = dirname(fileURLToPath(import.meta.resolve('vfio-subregion/package.json')));
      const addon = createRequire(import.meta.url)('node-gyp-build').resolve(pkg).slice(pkg.length + 1);
      const dev = openDevice('sim');
      const sub = dev.createSubregion({ parent: 0, offset: 0x20000n, size: 0x20000n, attrs: VfioRegionAttr.VFIO_REGION_ATTR_WC });
      const wc = dev.map(sub);
      wc.write64(8, 0x1122334455667788n);
      const seen = Buffer.from(dev.read(0, 0x20008n, 8)).readBigUInt64LE();
      console.log([process.arch, addon, sub.index, wc.attrs, seen.toString(16), dev.simMappings().map((m) => m.index + ':' + m.attrs).join(',')].join(' '));
      dev.close();
    `);
    const out = run('step 10 (arm64)', 'qemu-aarch64-static', ['-L', root, join(root, 'usr/bin/node'), 'arm64.mjs'], { cwd: app, env });
    expect(out).toBe('arm64 prebuilds/linux-arm64/vfio_native.glibc.node 9 1 1122334455667788 9:1\n');
  }, 600_000);

});

