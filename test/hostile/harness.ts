// The misuse tests of issue 9 run each snippet in a child process: a crash (SIGSEGV, SIGBUS, an
// abort) must fail the test, not take vitest down. The child imports the built JS from dist/ and
// prints what it saw as one JSON line; the test asserts a normal exit (status 0, no signal) and the
// errors it expects.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'vitest';
import { ROOT as root } from '../../codegen/paths.js';

export { root };

/** file: URL of a built module, e.g. dist('runtime/src/device.js'). */
export const dist = (p: string): string => pathToFileURL(join(root, 'dist', p)).href;

/** dist/ must be at least as new as runtime/src, or the children would test stale code. */
function checkDist(): void {
  const built = join(root, 'dist/runtime/src/device.js');
  if (!existsSync(built)) throw new Error('test/hostile: dist/ is not built: run `npm run build` first');
  const t = statSync(built).mtimeMs;
  const src = join(root, 'runtime/src');
  const stale = readdirSync(src).filter((f) => f.endsWith('.ts') && statSync(join(src, f)).mtimeMs > t);
  if (stale.length > 0) throw new Error(`test/hostile: dist/ is older than runtime/src (${stale.join(', ')}): run \`npm run build\``);
}

/**
 * What every child gets before its body: the public API, the raw addon and helpers.
 *  - settle(n): n rounds of gc() and a turn of the event loop (finalizers run deferred);
 *  - settleUntil(pred, n): such rounds until pred() holds (at most n); returns pred();
 *  - zeroStats(): native().stats() is all zero;
 *  - describe(e): an error as plain data (name, code, operation, rule, syscall, errno, message);
 *  - attempt(fn): { ok: true, value } or the described error;
 *  - report(v): prints v as the result line the test reads (bigints as "123n").
 */
export const PRELUDE = `
import { openDevice, Device, Mapping, WasmWindow, VfioError, DeviceStateError } from ${JSON.stringify(dist('runtime/src/device.js'))};
import { native } from ${JSON.stringify(dist('runtime/src/native.js'))};
import { DEFAULT_SIM, ABSENT, IVSHMEM_SIM, NIC_LAYOUT } from ${JSON.stringify(dist('runtime/src/sim-presets.js'))};
const tick = () => new Promise((r) => setImmediate(r));
async function settle(rounds = 3) { for (let i = 0; i < rounds; i++) { globalThis.gc(); await tick(); } }
async function settleUntil(done, rounds = 30) { for (let i = 0; i < rounds && !done(); i++) { globalThis.gc(); await tick(); } return done(); }
const zeroStats = () => { const s = native().stats(); return s.openDevices === 0 && s.ranges === 0 && s.windows === 0 && s.dmaMappings === 0 && s.dmaBuffers === 0 && s.eventfds === 0; };
function describe(e) {
  if (!(e instanceof Error)) return { thrown: true, name: 'non-Error', value: String(e) };
  return { thrown: true, name: e.name, ctor: e.constructor?.name, code: e.code ?? null, operation: e.operation ?? null,
    rule: e.rule === undefined ? null : e.rule, syscall: e.syscall ?? null, errno: e.errno ?? null, message: e.message,
    isTypeError: e instanceof TypeError, isRangeError: e instanceof RangeError,
    isVfioError: e instanceof VfioError, isDeviceStateError: e instanceof DeviceStateError };
}
function attempt(fn) { try { return { ok: true, value: fn() }; } catch (e) { return describe(e); } }
async function attemptAsync(fn) { try { return { ok: true, value: await fn() }; } catch (e) { return describe(e); } }
function report(v) {
  process.stdout.write('\\n@@RESULT ' + JSON.stringify(v, (k, x) => typeof x === 'bigint' ? x.toString() + 'n' : x) + '\\n');
}
`;

export interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** What the child passed to report() last, or undefined. */
  result: any;
}

export interface ChildOptions {
  timeout?: number;
  env?: NodeJS.ProcessEnv;
  /** Without the prelude (a child that loads something else). */
  bare?: boolean;
  /** Run as this user and group (needs root). */
  uid?: number;
  gid?: number;
}

/**
 * Runs PRELUDE + body as an ES module in a child node with --expose-gc. Bodies that drop objects
 * do the work inside a function: V8 may keep a top-level block's last values alive.
 */
export function runChild(body: string, options: ChildOptions = {}): ChildResult {
  checkDist();
  const script = options.bare ? body : `${PRELUDE}\n${body}`;
  const r: SpawnSyncReturns<string> = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: options.timeout ?? 60_000,
    cwd: root,
    env: options.env ?? process.env,
    maxBuffer: 64 * 1024 * 1024,
    ...(options.uid !== undefined ? { uid: options.uid, gid: options.gid ?? options.uid } : {}),
  });
  const line = r.stdout?.split('\n').filter((l) => l.startsWith('@@RESULT ')).pop();
  return {
    status: r.status,
    signal: r.signal,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? String(r.error ?? ''),
    result: line === undefined ? undefined : JSON.parse(line.slice('@@RESULT '.length)),
  };
}

/** The child exited normally (status 0, no signal: a signal is a crash) and reported a result. */
export function expectClean(r: ChildResult): any {
  const why = `child: status ${r.status}, signal ${r.signal}\n--- stderr ---\n${r.stderr.slice(-4000)}\n--- stdout ---\n${r.stdout.slice(-2000)}`;
  expect({ status: r.status, signal: r.signal }, why).toEqual({ status: 0, signal: null });
  expect(r.result, why).toBeDefined();
  return r.result;
}

/** Runs a child and returns its result, asserting a clean exit. */
export function child(body: string, options: ChildOptions = {}): any {
  return expectClean(runChild(body, options));
}
