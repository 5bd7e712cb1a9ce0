import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../codegen/paths.js';
import type { Device, RegionInfo } from '../../runtime/src/device.js';
import { loadWasi } from '../../examples/nic-tx/wasi.js';
import { appProject, noCompilerEnv, npmInstall, pack } from '../package/app.js';

/**
 * A driver author's project outside the repository: node_modules holds vfio-subregion (the packed
 * tarball, installed offline without dev dependencies or a compiler, as test/package installs it)
 * and the author's own assemblyscript, wasi-shim and jco. An AssemblyScript guest and a hand-written
 * WAT guest are built against the installed package, with its own compileAs, buildComponent and
 * MmioHost, and run in the three modes (core module, WASI preview1 command, jco component) on the
 * simulator; then every misuse the guest side refuses.
 */

const work = mkdtempSync(join(tmpdir(), 'vfio-subregion-guest-'));
const proj = join(work, 'my-driver');
const installed = join(proj, 'node_modules/vfio-subregion');
const SIZE = 0x10000;

const DRIVER = `
import { Region } from "vfio-subregion/runtime/assembly/generated/vfio-subregion";
import { window, fence } from "vfio-subregion/runtime/assembly/mmio";
export { window_reserve, set_inline_fence } from "vfio-subregion/runtime/assembly/mmio";

/** Writes n words (0xA5000000 | i) through the window at at, bytes wide; returns word 0 read through the host. */
export function fill(at: usize, bytes: usize, n: u32): u32 {
  const w: Region = window(at, bytes);
  for (let i: u32 = 0; i < n; i++) w.write32(<usize>i << 2, 0xA5000000 | i);
  fence(w.base);
  return w.read32_host(0);
}
`;
const COMMAND = `
import { map_region, fence } from "vfio-subregion/runtime/assembly/mmio";
const w = map_region(0, ${SIZE}, 0x10000);
for (let i: u32 = 0; i < 16; i++) w.write32(<usize>i << 2, 0xA5000000 | i);
fence(w.base);
`;
const COMPONENT = `
import { window_reserve, set_inline_fence } from "vfio-subregion/runtime/assembly/mmio";
export { fill } from "./driver";
export function reserve(bytes: u32, align: u32): u32 { return <u32>window_reserve(bytes, align); }
export function setup(inline: bool): void { set_inline_fence(inline); }
`;
// Memory of 3 wasm pages; the window at 0x10000, 64 KiB (a whole number of host pages up to 64 KiB),
// with the reservation record of runtime/assembly/mmio.ts below it: "vfwn", the address, the bytes, 0.
const wat = (): string => `(module
  (import "${MMIO_INTERFACE}" "map-window" (func $map (param i32 i32 i32) (result i32)))
  (import "${MMIO_INTERFACE}" "read32" (func $read32 (param i32) (result i32)))
  (memory (export "memory") 3)
  (data (i32.const 0xfff0) "vfwn" "\\00\\00\\01\\00" "\\00\\00\\01\\00" "\\00\\00\\00\\00")
  (func $drive (export "drive") (param $n i32) (result i32)
    (local $e i32) (local $i i32)
    (local.set $e (call $map (i32.const 0) (i32.const 0x10000) (i32.const 0x10000)))
    (if (local.get $e) (then (return (i32.sub (i32.const 0) (local.get $e)))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (i32.store (i32.add (i32.const 0x10000) (i32.shl (local.get $i) (i32.const 2))) (i32.or (i32.const 0x5A000000) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (call $read32 (i32.const 0x10000)))
  (func (export "_start") (drop (call $drive (i32.const 16)))))
`;

// The installed package's API, imported by the package's name from the project (beforeAll).
let compileAs: typeof import('../../runtime/src/asc.js').compileAs;
let buildComponent: typeof import('../../runtime/src/component.js').buildComponent;
let instantiateComponent: typeof import('../../runtime/src/component.js').instantiateComponent;
let openDevice: typeof import('../../runtime/src/device.js').openDevice;
let instantiateGuest: typeof import('../../runtime/src/mmio.js').instantiateGuest;
let MmioHost: typeof import('../../runtime/src/mmio.js').MmioHost;
let MMIO_INTERFACE: string;
let VfioRegionAttr: typeof import('../../runtime/src/generated/vfio-subregion.js').VfioRegionAttr;
let NIC_LAYOUT: typeof import('../../runtime/src/sim-presets.js').NIC_LAYOUT;

let dev: Device;
let sub: RegionInfo;
let host: InstanceType<typeof MmioHost>;
const grant = (slot: number) => (slot === 0 ? { device: dev, region: sub } : undefined);
/** The words the device sees at the start of the subregion. */
const seen = (n: number): number[] => { const b = Buffer.from(dev.read(sub.index, 0, n * 4)); return Array.from({ length: n }, (_, i) => b.readUInt32LE(i * 4)); };
const words = (tag: number, n: number) => Array.from({ length: n }, (_, i) => (tag | i) >>> 0);

async function parseWat(text: string): Promise<Uint8Array> {
  return ((await import('@bytecodealliance/jco')) as unknown as { parse(t: string): Promise<Uint8Array> }).parse(text);
}

beforeAll(async () => {
  mkdirSync(proj);
  appProject(proj, 'my-driver', { tarball: pack(work) }, { type: 'module' });
  npmInstall('install the packed package', proj, noCompilerEnv(work));
  mkdirSync(join(proj, 'node_modules/@assemblyscript'), { recursive: true });
  mkdirSync(join(proj, 'node_modules/@bytecodealliance'), { recursive: true });
  for (const p of ['assemblyscript', 'binaryen', 'long', '@assemblyscript/wasi-shim', '@bytecodealliance/jco']) if (!existsSync(join(proj, 'node_modules', p))) symlinkSync(join(ROOT, 'node_modules', p), join(proj, 'node_modules', p));
  const from = createRequire(join(proj, 'index.js'));
  const load = (name: string): Promise<Record<string, never>> => import(pathToFileURL(from.resolve(name)).href) as Promise<Record<string, never>>;
  ({ compileAs } = await load('vfio-subregion/asc'));
  ({ buildComponent, instantiateComponent } = await load('vfio-subregion/component'));
  ({ openDevice } = await load('vfio-subregion'));
  ({ instantiateGuest, MmioHost, MMIO_INTERFACE } = await load('vfio-subregion/mmio'));
  ({ VfioRegionAttr } = await load('vfio-subregion/generated/vfio-subregion'));
  ({ NIC_LAYOUT } = await load('vfio-subregion/sim-presets'));
  writeFileSync(join(proj, 'asconfig.json'), JSON.stringify({ extends: 'vfio-subregion/assembly/asconfig.json' }));
  writeFileSync(join(proj, 'driver.ts'), DRIVER);
  writeFileSync(join(proj, 'command.ts'), COMMAND);
  writeFileSync(join(proj, 'component.ts'), COMPONENT);
  mkdirSync(join(proj, 'bare'));
  writeFileSync(join(proj, 'bare/nosimd.ts'), `import { Region } from "vfio-subregion/runtime/assembly/generated/vfio-subregion";\nexport function b(): void { new Region(0, 64).burst64(0, 0); }\n`);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function open(): void {
  dev = openDevice('sim');
  sub = dev.createSubregion({ parent: NIC_LAYOUT.bar, offset: NIC_LAYOUT.txPush.offset, size: NIC_LAYOUT.txPush.size, attrs: VfioRegionAttr.VFIO_REGION_ATTR_WC });
  host = new MmioHost({ grant });
}
afterEach(() => { host?.unmapAll(); dev?.close(); });

interface Driver { window_reserve(bytes: number, align: number): number; set_inline_fence(on: number): void; fill(at: number, bytes: number, n: number): number }

describe('an AssemblyScript guest in a project of its own', () => {
  it('core module: compileAs from the project, instantiateGuest, windows at its reservations', async () => {
    open();
    const { binary } = await compileAs('driver.ts', { baseDir: proj });
    const ex = await instantiateGuest<Driver>(binary, host);
    const at = ex.window_reserve(SIZE, MmioHost.pageSize) >>> 0;
    host.map(dev, sub, { at, length: SIZE });
    ex.set_inline_fence(MmioHost.inlineFence ? 1 : 0);
    expect(ex.fill(at, SIZE, 16) >>> 0).toBe(0xA5000000);
    expect(seen(16)).toEqual(words(0xA5000000, 16));
  });

  it('plain asc with the project\'s asconfig (extends vfio-subregion/assembly/asconfig.json) builds the same guest', () => {
    const r = spawnSync(process.execPath, [join(proj, 'node_modules/assemblyscript/bin/asc.js'), 'driver.ts', '--config', 'asconfig.json', '-o', 'driver.wasm'], { cwd: proj, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(join(proj, 'driver.wasm')).subarray(0, 4).toString('latin1')).toBe('\0asm');
  });

  it('WASI preview1 command: the guest asks for its window by slot (map-window, granted by the host)', async () => {
    open();
    const { binary } = await compileAs('command.ts', { baseDir: proj, wasi: true });
    const wasi = new (await loadWasi())({ version: 'preview1', args: ['driver'], returnOnExit: true });
    const ex = await instantiateGuest(binary, host, { wasi_snapshot_preview1: wasi.wasiImport });
    expect(wasi.start({ exports: ex } as never)).toBe(0);
    expect(seen(16)).toEqual(words(0xA5000000, 16));
  });

  it('component: buildComponent (the shipped guest world plus its exports), instantiateComponent', async () => {
    open();
    const built = await buildComponent({ name: 'my-driver', entry: 'component.ts', baseDir: proj, outDir: join(proj, 'component'),
      exports: 'export reserve: func(bytes: u32, align: u32) -> u32;\nexport setup: func(inline: bool);\nexport fill: func(at: u32, bytes: u32, n: u32) -> u32;' });
    const d = readFileSync(join(built.dir, 'my-driver.d.ts'), 'utf8');
    expect(d, 'the .d.ts declares the key the JS reads').toContain(`'${MMIO_INTERFACE}': typeof`);
    expect(readFileSync(join(built.dir, 'my-driver.js'), 'utf8')).toContain(`imports['${MMIO_INTERFACE}']`);
    const c = await instantiateComponent<{ reserve(b: number, a: number): number; setup(i: boolean): void; fill(at: number, bytes: number, n: number): number }>(built, host);
    const at = c.reserve(SIZE, MmioHost.pageSize) >>> 0;
    host.map(dev, sub, { at, length: SIZE });
    c.setup(MmioHost.inlineFence);
    expect(c.fill(at, SIZE, 16) >>> 0).toBe(0xA5000000);
    expect(seen(16)).toEqual(words(0xA5000000, 16));
    // An abort inside the component arrives with its message: a Region wider than its mapping.
    expect(() => c.fill(at, SIZE * 2, 1)).toThrow(/^MMIO window: wider than what the host mapped there \(.*mmio\.ts:\d+:\d+\)$/);
  });
});

describe('a hand-written WAT guest', () => {
  it('core module', async () => {
    open();
    const ex = await instantiateGuest<{ drive(n: number): number }>(await parseWat(wat()), host);
    expect(ex.drive(16) >>> 0).toBe(0x5A000000);
    expect(seen(16)).toEqual(words(0x5A000000, 16));
  });

  it('WASI preview1 command', async () => {
    open();
    const wasi = new (await loadWasi())({ version: 'preview1', args: ['wat'], returnOnExit: true });
    const ex = await instantiateGuest(await parseWat(wat()), host, { wasi_snapshot_preview1: wasi.wasiImport });
    expect(wasi.start({ exports: ex } as never)).toBe(0);
    expect(seen(16)).toEqual(words(0x5A000000, 16));
  });

  it('component', async () => {
    open();
    const built = await buildComponent({ name: 'wat-driver', binary: await parseWat(wat().replace(/\(func \(export "_start"\).*\)\)\n$/, ')\n')), outDir: join(proj, 'wat'), exports: 'export drive: func(n: u32) -> u32;' });
    const c = await instantiateComponent<{ drive(n: number): number }>(built, host);
    expect(c.drive(16) >>> 0).toBe(0x5A000000);
    expect(seen(16)).toEqual(words(0x5A000000, 16));
  });
});

describe('misuse of the guest side', () => {
  it('asc without --enable simd: one line naming the flag, not the validator dump', async () => {
    // In a child process of its own (compileAs's built module run as a script), where the whole stderr is seen.
    const job = JSON.stringify({ file: 'nosimd.ts', base: join(proj, 'bare'), flags: ['-O3'], text: false });
    const r = spawnSync(process.execPath, [join(installed, 'dist/runtime/src/asc.js'), job], { encoding: 'utf8' });
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 1, stdout: '',
      stderr: 'asc nosimd.ts: the guest uses v128 (bursts): compile with --enable simd (MMIO_ASC_FLAGS, or extend vfio-subregion/assembly/asconfig.json)\n' });
  });

  it('a window at 0, over the guest\'s static data, or wider than its reservation, is refused', async () => {
    open();
    const ex = await instantiateGuest<Driver>((await compileAs('driver.ts', { baseDir: proj })).binary, host);
    expect(() => host.map(dev, sub, { at: 0 })).toThrow('MmioHost: no window was reserved at 0x0 (the guest\'s window_reserve gives the address): mapping there would overwrite the guest\'s own memory');
    const at = ex.window_reserve(SIZE, MmioHost.pageSize) >>> 0;
    expect(() => host.map(dev, sub, { at })).toThrow(`MmioHost: the window at 0x${at.toString(16)} is 0x20000 bytes, but the guest reserved only 0x10000 there`);
    expect(host.windows).toEqual([]);
  });

  it('a guest Region wider than its mapping, or over no mapping, is refused with the guest\'s message', async () => {
    open();
    const ex = await instantiateGuest<Driver>((await compileAs('driver.ts', { baseDir: proj })).binary, host);
    const at = ex.window_reserve(SIZE, MmioHost.pageSize) >>> 0;
    expect(() => ex.fill(at, SIZE, 1)).toThrow(/^MMIO window: no window is mapped at this address \(/);
    host.map(dev, sub, { at, length: SIZE / 2 });
    expect(() => ex.fill(at, SIZE, 1)).toThrow(/^MMIO window: wider than what the host mapped there \(/);
    expect(ex.fill(at, SIZE / 2, 1) >>> 0).toBe(0xA5000000);
  });

  it('map-window: a slot not granted is EPERM, a refused mapping its errno, and the host keeps the reason', async () => {
    open();
    const mapWindow = host.imports()['map-window'] as (slot: number, at: number, bytes: number) => number;
    const ex = await instantiateGuest<Driver>((await compileAs('driver.ts', { baseDir: proj })).binary, host);
    const at = ex.window_reserve(SIZE, MmioHost.pageSize) >>> 0;
    expect(mapWindow(1, at, SIZE)).toBe(1);
    expect(host.lastRefusal?.message).toBe('MmioHost: no window is granted as slot 1');
    expect(mapWindow(0, 0, SIZE)).toBe(22);
    expect(host.lastRefusal?.message).toMatch(/^MmioHost: no window was reserved at 0x0/);
    expect(mapWindow(0, at, SIZE)).toBe(0);
  });

  it('extra imports merge with the host\'s module instead of replacing it', async () => {
    open();
    const reads: number[] = [];
    const read32 = host.imports().read32 as (a: number) => number;
    const ex = await instantiateGuest<{ drive(n: number): number }>(await parseWat(wat()), host, { [MMIO_INTERFACE]: { read32: (a: number) => { reads.push(a); return read32(a); } } });
    expect(ex.drive(4) >>> 0).toBe(0x5A000000);
    expect(reads).toEqual([0x10000]);
  });

  it('buildComponent refuses a world the shipped WIT lacks and a name that is not kebab-case', async () => {
    await expect(buildComponent({ name: 'x', binary: new Uint8Array(), world: 'nope', exports: '', outDir: proj })).rejects.toThrow('buildComponent: the shipped WIT has no world "nope" (it has guest, driver)');
    await expect(buildComponent({ name: 'My_Driver', binary: new Uint8Array(), exports: '', outDir: proj })).rejects.toThrow('buildComponent: name must be kebab-case (a WIT name), got "My_Driver"');
  });

  it('the accessor imports by the WIT interface: the generated AssemblyScript, the hand-written part and the host agree with the shipped WIT', () => {
    const wit = readFileSync(join(installed, 'runtime/wit/vfio-subregion.wit'), 'utf8');
    const [pkg, version] = /^package ([a-z-]+:[a-z-]+)@([0-9.]+);$/m.exec(wit)!.slice(1);
    expect(MMIO_INTERFACE).toBe(`${pkg}/mmio@${version}`);
    const funcs = [...wit.matchAll(/^ {2}([a-z0-9-]+): func/gm)].map((m) => m[1]);
    const declared = ['runtime/assembly/generated/vfio-subregion.ts', 'runtime/assembly/mmio.ts']
      .flatMap((f) => [...readFileSync(join(installed, f), 'utf8').matchAll(/@external\("([^"]+)", "([^"]+)"\)/g)].map((m) => [m[1], m[2]]));
    expect(new Set(declared.map(([m]) => m))).toEqual(new Set([MMIO_INTERFACE]));
    expect(declared.map(([, n]) => n).sort()).toEqual([...funcs].sort());
    expect(Object.keys(new MmioHost().imports()).sort()).toEqual([...funcs].sort());
  });
});
