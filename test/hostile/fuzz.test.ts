// Issue 9, a seeded, bounded fuzz with hostile values (NaN, -1, 2 ** 53, 1n << 64n, strings, null,
// objects, Proxies, getters that throw, detached and shared buffers, handles of closed devices and
// revoked mappings) of the public API and of every entry point of the raw addon, each in a child
// process: the child must exit 0, and only the errors of the package's family may be thrown (the
// fuzz's own getters throw a HostileError, which is let through). The raw fuzz also runs against an
// ASan/UBSan build of the addon when this machine can build one.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { child, root } from './harness.js';

const SEED = 0x5eed_0009;

/** Hostile values shared by both children: `junk(k)` turns a number into one, given live pools. */
const JUNK = `
import fc from 'fast-check';
class HostileError extends Error { constructor() { super('thrown by a hostile getter'); this.name = 'HostileError'; } }
const throwing = () => { throw new HostileError(); };
const pools = { devices: [], mappings: [], memories: [], infos: [], objects: [] };
const pick = (a, k) => a.length ? a[k % a.length] : undefined;
function detached() { const b = new ArrayBuffer(8); structuredClone(b, { transfer: [b] }); return new Uint8Array(b); }
const SCALARS = [undefined, null, NaN, -1, -0, 0, 1, 0.5, 3, 8, 16, 32, 64, 4095, 4096, 0x10000, 2 ** 31, 2 ** 32, 2 ** 32 - 1, 2 ** 53, -(2 ** 53), Infinity,
  0x3b6b, 0x3b6c, 0x3b6d, 0x3b75, 0x541b, 0x8910, 0xffffffff, '', '0', 'sim', '/dev/null', '/nonexistent', 'x'.repeat(300), 'a\\u0000b', true, false,
  0n, 1n, -1n, 4096n, 0x10000n, 1n << 40n, 7n << 40n, 9n << 40n, (1n << 63n), (1n << 64n) - 1n, 1n << 64n, -(1n << 64n), Symbol('s')];
const OBJECTS = [
  () => ({}), () => [], () => [1, 2, 3], () => new Proxy({}, { get: throwing, has: throwing, ownKeys: throwing, getPrototypeOf: throwing }),
  () => Object.defineProperty({}, 'buffer', { get: throwing }), () => ({ get offset() { throw new HostileError(); }, get length() { throw new HostileError(); } }),
  () => new Uint8Array(0), () => new Uint8Array(16), () => new Uint8Array(4096), () => new Uint8Array(new ArrayBuffer(4096), 100, 32),
  () => new Uint8Array(new SharedArrayBuffer(256)), () => new Int8Array(64), () => new Uint16Array(32), () => new DataView(new ArrayBuffer(64)),
  () => new ArrayBuffer(64), () => detached(), () => Buffer.alloc(64), () => new WebAssembly.Memory({ initial: 1 }),
  () => new WebAssembly.Memory({ initial: 2, maximum: 2, shared: true }), () => Object.create(WebAssembly.Memory.prototype),
  () => (() => {}), () => new Date(), () => /x/, () => new Map(), () => Object.create(null), () => new Error('e'),
];
function junk(k) {
  const kind = k % 10, j = Math.floor(k / 10);
  switch (kind) {
    case 0: case 1: case 2: return SCALARS[j % SCALARS.length];
    case 3: return OBJECTS[j % OBJECTS.length]();
    case 4: return pick(pools.devices, j);
    case 5: return pick(pools.mappings, j);
    case 6: return pick(pools.memories, j);
    case 7: return pick(pools.infos, j);
    case 8: return pick(pools.objects, j);
    default: return j % 2 ? -j : j * 4096;
  }
}
/**
 * Generated values are recipes, made real only inside the property: fast-check looks into what it
 * generates (its clone method), and a Proxy that throws would go off there, outside the call.
 */
class S { constructor(f) { this.f = f; } }
const junkArb = fc.nat(1_000_000).map((k) => new S(() => junk(k)));
function realize(x) {
  if (x instanceof S) return x.f();
  if (Array.isArray(x)) return x.map(realize);
  if (x !== null && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, realize(v)]));
  return x;
}
const keep = (pool, v, max = 24) => { pool.push(v); if (pool.length > max) pool.splice(0, pool.length - max); };
/** What a caught error says about itself, or null when it is one the package may throw. */
function outsideFamily(e, extra = () => false) {
  if (e instanceof HostileError || e instanceof TypeError || e instanceof RangeError || extra(e)) return null;
  return e instanceof Error ? e.name + ' ' + (e.code ?? '') + ': ' + e.message + '\\n' + e.stack : 'a thrown ' + typeof e + ': ' + String(e);
}
`;

/** Sim configs, sane and not, for simCreate/openDevice. */
const CONFIGS = `
const region = (o) => ({ size: 0x10000n, kind: 'memory', readable: true, writable: true, mmap: true, supportedAttrs: 1, ...o });
const NONE = { size: 0n, kind: 'none', readable: false, writable: false, mmap: false, supportedAttrs: 0 };
const configArb = fc.oneof(
  fc.constant('default'),
  fc.record({
    sizes: fc.array(fc.oneof(fc.constantFrom(0n, 1n, 4095n, 4096n, 0x10000n, 1n << 30n, 1n << 40n, (1n << 40n) + 1n, -1n, 1n << 64n), junkArb), { maxLength: 10 }),
    kinds: fc.array(fc.oneof(fc.constantFrom('memory', 'io', 'config', 'none', 'bogus'), junkArb), { maxLength: 10 }),
    flags: fc.array(fc.oneof(fc.boolean(), junkArb), { maxLength: 40 }),
    numIrqs: fc.oneof(fc.nat(8), junkArb), maxSubregions: fc.oneof(fc.nat(20), junkArb),
    sparse: fc.oneof(fc.constant(undefined), junkArb, fc.constant([{ offset: 0n, size: 0x1000n }]), fc.constant([{ offset: 0x20000n, size: 1n }])),
  }).map(({ sizes, kinds, flags, numIrqs, maxSubregions, sparse }) => ({
    regions: sizes.map((size, i) => ({ size, kind: kinds[i] ?? 'memory', readable: flags[i * 4] ?? true, writable: flags[i * 4 + 1] ?? true,
      mmap: flags[i * 4 + 2] ?? true, supportedAttrs: flags[i * 4 + 3] === true ? 1 : 0, ...(i === 0 && sparse !== undefined ? { sparse } : {}) })),
    numIrqs, maxSubregions,
  })),
  junkArb,
);
const materialize = (spec) => { const c = realize(spec); return c === 'default' ? { regions: [region({ prefetchable: true }), region({ size: 0x4000n, writable: false }), NONE, NONE, NONE, NONE, NONE,
  { size: 256n, kind: 'config', readable: true, writable: true, mmap: false, supportedAttrs: 0 }, NONE], numIrqs: 5, maxSubregions: 8 } : c; };
`;

const RAW = `${JUNK}${CONFIGS}
import { createRequire } from 'node:module';
const n = createRequire(import.meta.url)(process.env.HOSTILE_ADDON);
// as runtime/src/native.ts does when it loads the addon
n.init(...(await import('node:vm')).runInNewContext('[Object.getOwnPropertyDescriptor(WebAssembly.Memory.prototype, "buffer").get, Uint8Array]'));
const report = (v) => process.stdout.write('\\n@@RESULT ' + JSON.stringify(v) + '\\n');
const ENTRY = ['init', 'open', 'adoptFd', 'openGroupDevice', 'openCdevDevice', 'simCreate', 'ioctl', 'pread', 'pwrite', 'lastRule', 'close', 'mmap', 'wasmMap',
  'munmap', 'mmioRead', 'mmioWrite', 'copyFrom', 'wmb', 'mb', 'rmb', 'simMappings', 'simBacking', 'stats'];
// errors the raw addon may throw besides TypeError/RangeError: an errno error (open, simCreate,
// wasmMap's overlap) or a state error with its code
const rawFamily = (e) => e instanceof Error && (typeof e.errno === 'number' && typeof e.syscall === 'string' && /^E[A-Z0-9]+$/.test(e.code)
  || ['ERR_UNMAPPED', 'ERR_READ_ONLY', 'ERR_DEVICE_CLOSED', 'ERR_ALREADY_INITIALIZED'].includes(e.code));
for (let i = 0; i < 4; i++) keep(pools.devices, n.simCreate(materialize('default')));
keep(pools.devices, n.open('/dev/null'));
for (let i = 0; i < 3; i++) keep(pools.memories, new WebAssembly.Memory({ initial: 4 }));
keep(pools.memories, new WebAssembly.Memory({ initial: 4, maximum: 4, shared: true }));
const closed = n.simCreate(materialize('default'));
n.close(closed);
keep(pools.devices, closed);
let calls = 0, threw = 0;
const argsFor = (fn) => fc.tuple(
  fn === 'simCreate' ? configArb.map((c) => new S(() => materialize(c))) : junkArb,
  // requests, offsets, lengths and widths that are often meaningful
  fc.oneof(junkArb, fc.constantFrom(0x3b6b, 0x3b6c, 0x3b6d, 0x3b75, 0n, 4096n, 1n << 40n, 7n << 40n, 4096, 8, 32, 64)),
  fc.oneof(junkArb, fc.constantFrom(0, 4, 4096, 0x10000, 0x11000, 1, 3, new Uint8Array(64), 0n, 1n << 40n)),
  fc.oneof(junkArb, fc.constantFrom(1, 3, 0, 2, 5, 8, 16, 32, 64, 4096)),
  junkArb, junkArb);
const step = fc.constantFrom(...ENTRY).chain((fn) => fc.tuple(fc.constant(fn), argsFor(fn), fc.nat(5)));
const problems = [];
fc.assert(fc.property(step, ([fn, args, argc]) => {
  calls++;
  let v;
  try {
    v = n[fn](...realize(args.slice(0, argc + 1)));
  } catch (e) {
    threw++;
    const bad = outsideFamily(e, rawFamily);
    if (bad !== null) { problems.push(fn + ': ' + bad); return false; }
    return true;
  }
  if (v && typeof v === 'object' && v.handle) { keep(pools.mappings, v.handle); if (v.buffer) keep(pools.objects, new Uint8Array(v.buffer)); }
  else if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) keep(pools.devices, v);
  if (calls % 500 === 0) globalThis.gc();
  return true;
}), { seed: ${SEED}, numRuns: Number(process.env.HOSTILE_RUNS ?? 6000), endOnFailure: true, verbose: 0 });
for (const d of pools.devices) try { n.close(d); } catch {}
report({ calls, threw, problems, stats: n.stats() });
`;

const API = `${JUNK}${CONFIGS}
const family = (e) => e instanceof VfioError || e instanceof DeviceStateError;
const devices = [openDevice('sim'), openDevice('sim'), openDevice({ simulator: IVSHMEM_SIM })];
pools.devices.push(...devices);
for (let i = 0; i < 3; i++) keep(pools.memories, new WebAssembly.Memory({ initial: 8 }));
keep(pools.memories, new WebAssembly.Memory({ initial: 8, maximum: 8, shared: true }));
pools.infos.push(devices[0].region(0), devices[1].region(2), devices[2].region(2));
const closed = openDevice('sim');
pools.infos.push(closed.region(0));
closed.close();
keep(pools.devices, closed);
/** Mostly one of the meaningful values, sometimes junk. */
const v = (...valid) => fc.oneof({ arbitrary: fc.constantFrom(...valid), weight: 3 }, { arbitrary: junkArb, weight: 1 });
// option bags: fields from junk, a Proxy, getters that throw
const optionsArb = fc.oneof(
  { arbitrary: fc.record({ offset: v(0, 0x1000, 0x10000n, 0x3f000), length: v(0x1000, 0x10000, 0x2000), prot: v(1, 3), at: v(0, 0x10000, 0x20000, 0x70000) }, { requiredKeys: ['at'] }), weight: 6 },
  fc.constant(new S(() => new Proxy({}, { get: throwing }))), fc.constant(new S(() => ({ get at() { throw new HostileError(); } }))), junkArb);
const requestArb = fc.oneof({ arbitrary: fc.record({ parent: v(0, 2), offset: v(0n, 0x1000n, 0x10000n, 0x20000n), size: v(0x1000n, 0x800n, 0x10000n), attrs: v(0, 1, 2) }, { requiredKeys: ['parent', 'offset', 'size'] }), weight: 4 }, junkArb);
const target = fc.oneof(junkArb, configArb.map((c) => new S(() => ({ simulator: materialize(c) }))), fc.constantFrom('sim', '0000:00:00.0', '/dev/vfio/devices/vfio0'),
  fc.record({ cdev: junkArb }), fc.record({ group: junkArb, device: junkArb }), fc.record({ simulator: junkArb, cdev: junkArb }, { requiredKeys: [] }));
const d = fc.oneof({ arbitrary: fc.nat(devices.length - 1).map((i) => devices[i]), weight: 4 }, fc.nat(100).map((k) => pick(pools.devices, k)));
const regionArb = v(0, 2, 6, 7, 9, 10, 11);
const data = fc.oneof({ arbitrary: fc.uint8Array({ minLength: 1, maxLength: 64 }), weight: 3 }, junkArb);
const w = (weight, arbitrary) => ({ arbitrary, weight });
const op = fc.oneof(
  w(1, target.map((t) => ['openDevice', () => { const x = openDevice(realize(t)); keep(pools.devices, x, 8); return x; }])),
  w(4, fc.tuple(d, regionArb, optionsArb).map(([x, r, o]) => ['map', () => { const m = x.map(realize(r), realize(o)); keep(pools.objects, m); keep(pools.mappings, m); return m; }])),
  w(1, fc.tuple(d, junkArb, regionArb, optionsArb).map(([x, mem, r, o]) => ['mapInto', () => { const w = x.mapInto(realize(mem), realize(r), realize(o)); keep(pools.objects, w); return w; }])),
  w(3, fc.tuple(d, fc.nat(100), regionArb, optionsArb).map(([x, k, r, o]) => ['mapInto(memory)', () => { const w = x.mapInto(pick(pools.memories, k), realize(r), realize(o)); keep(pools.objects, w); return w; }])),
  w(3, fc.tuple(d, requestArb).map(([x, q]) => ['createSubregion', () => { const r = x.createSubregion(realize(q)); keep(pools.infos, r); return r; }])),
  w(2, fc.tuple(d, regionArb).map(([x, r]) => ['region', () => { const i = x.region(realize(r)); keep(pools.infos, i); return i; }])),
  w(1, fc.tuple(d, fc.nat(100), optionsArb).map(([x, k, o]) => ['map(info)', () => { const m = x.map(pick(pools.infos, k), realize(o)); keep(pools.mappings, m); return m; }])),
  w(3, fc.tuple(d, regionArb, v(0, 4, 0xff0, 0x3fffc, 0x40000, 252, 4092), v(1, 4, 8, 16, 0x1000)).map(([x, r, o, l]) => ['read', () => x.read(realize(r), realize(o), realize(l))])),
  w(3, fc.tuple(d, regionArb, v(0, 4, 0xff0n, 0x3fffc, 252, 4092), data).map(([x, r, o, b]) => ['write', () => x.write(realize(r), realize(o), realize(b))])),
  w(2, fc.tuple(d, regionArb, v(0, 1, 2)).map(([x, r, a]) => ['setRegionAttrs', () => x.setRegionAttrs(realize(r), realize(a))])),
  w(1, fc.tuple(d, regionArb).map(([x, r]) => ['regionAttrs', () => x.regionAttrs(realize(r))])),
  w(1, d.map((x) => ['info+support', () => [x.info(), x.support(), x.regions().length]])),
  w(1, fc.tuple(d, regionArb).map(([x, r]) => ['simBacking', () => [x.simBacking(realize(r)), x.simMappings()]])),
  w(6, fc.tuple(fc.nat(100), fc.constantFrom('read8', 'read16', 'read32', 'read64', 'write8', 'write16', 'write32', 'write64', 'read', 'bytes', 'unmap'), v(0, 4, 8, 0xffc, 0x1000), v(1, 4, 0xff, 1n, 0xffffffff))
    .map(([k, method, a, b]) => ['mapping.' + method, () => { const m = pick(pools.mappings, k); if (!m) return; return method === 'bytes' ? m.bytes.length : m[method](realize(a), realize(b)); }])),
  w(1, fc.nat(100).map((k) => ['window.unmap', () => { const w = pick(pools.objects, k); if (w instanceof WasmWindow) w.unmap(); }])),
  w(1, fc.nat(100).map((k) => ['close', () => { const x = pick(pools.devices, k); if (x instanceof Device && !devices.includes(x)) x.close(); }])),
);
let calls = 0, threw = 0;
const problems = [];
const ran = {};
fc.assert(fc.property(op, ([name, fn]) => {
  calls++;
  try { fn(); ran[name] = (ran[name] ?? 0) + 1; } catch (e) {
    threw++;
    const bad = outsideFamily(e, family);
    if (bad !== null) { problems.push(name + ': ' + bad); return false; }
  }
  if (calls % 300 === 0) globalThis.gc();
  return true;
}), { seed: ${SEED}, numRuns: Number(process.env.HOSTILE_RUNS ?? 8000), endOnFailure: true, verbose: 0 });
for (const x of [...devices, ...pools.devices]) if (x instanceof Device) x.close();
for (const k of Object.keys(pools)) pools[k] = [];
await settleUntil(zeroStats, 40);
report({ calls, threw, ran, problems, stats: native().stats() });
`;

const ADDON = join(root, 'native/build/Release/vfio_native.node');
const work: string[] = [];
afterAll(() => { for (const w of work) rmSync(w, { recursive: true, force: true }); });

describe('seeded fuzz with hostile values', () => {
  it('the public API: only TypeError/RangeError/VfioError/DeviceStateError, and a clean exit', () => {
    const r = child(API, { timeout: 60_000 });
    expect(r.problems).toEqual([]);
    expect(r.calls).toBeGreaterThan(1000);
    expect(r.threw).toBeGreaterThan(0);
    expect(r.threw).toBeLessThan(r.calls); // some calls got through to the device
    process.stderr.write(`test/hostile/fuzz: public API: ${r.calls} calls, ${r.threw} refused; ran: ${JSON.stringify(r.ran)}\n`);
    expect(r.stats).toEqual({ openDevices: 0, ranges: 0, windows: 0, dmaMappings: 0, dmaBuffers: 0, eventfds: 0 });
  });

  it('every entry point of the raw addon: only TypeError/RangeError/errno/state errors, and a clean exit', () => {
    const r = child(RAW, { bare: true, timeout: 60_000, env: { ...process.env, HOSTILE_ADDON: ADDON } });
    expect(r.problems).toEqual([]);
    expect(r.calls).toBeGreaterThan(1000);
    expect(r.threw).toBeLessThan(r.calls);
  });

  it('the raw-addon fuzz against an ASan/UBSan build of the addon', (ctx) => {
    const cc = process.env.CC ?? 'gcc';
    const lib = (name: string) => spawnSync(cc, [`-print-file-name=${name}`], { encoding: 'utf8' }).stdout?.trim() ?? '';
    const asan = lib('libasan.so');
    if (!asan.startsWith('/') || !existsSync(asan)) {
      process.stderr.write(`test/hostile/fuzz: ASan run skipped: ${cc} has no libasan.so\n`);
      ctx.skip(`${cc} has no libasan.so`);
    }
    const dir = mkdtempSync(join(tmpdir(), 'vfio-asan-addon-'));
    work.push(dir);
    cpSync(join(root, 'native'), dir, { recursive: true, filter: (src) => !src.startsWith(join(root, 'native/build')) });
    const nodedir = dirname(dirname(process.execPath));
    const flags = '-fsanitize=address,undefined -fno-omit-frame-pointer -g -O1';
    const build = spawnSync(process.execPath, [join(root, 'node_modules/node-gyp/bin/node-gyp.js'), 'rebuild', '--directory', dir, `--nodedir=${nodedir}`], {
      encoding: 'utf8', env: { ...process.env, CC: cc, CFLAGS: flags, LDFLAGS: '-fsanitize=address,undefined' }, timeout: 110_000,
    });
    if (build.status !== 0) {
      process.stderr.write(`test/hostile/fuzz: ASan run skipped: the sanitized addon does not build:\n${build.stderr.slice(-2000)}\n`);
      ctx.skip('the sanitized addon does not build');
    }
    const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', RAW], {
      encoding: 'utf8', cwd: root, timeout: 110_000, maxBuffer: 64 << 20,
      env: {
        ...process.env, HOSTILE_ADDON: join(dir, 'build/Release/vfio_native.node'), HOSTILE_RUNS: '3000',
        LD_PRELOAD: asan, ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=0:exitcode=86', UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1:exitcode=87',
      },
    });
    const why = `status ${r.status}, signal ${r.signal}\n${(r.stderr ?? '').slice(-6000)}`;
    expect({ status: r.status, signal: r.signal }, why).toEqual({ status: 0, signal: null });
    expect(r.stderr, why).not.toMatch(/AddressSanitizer|runtime error:|LeakSanitizer/);
    const line = r.stdout.split('\n').filter((l) => l.startsWith('@@RESULT ')).pop();
    expect(line, why).toBeDefined();
    expect(JSON.parse(line!.slice(9)).problems).toEqual([]);
  }, 240_000);
});

