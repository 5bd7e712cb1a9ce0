import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MMIO_ASC_FLAGS, ROOT } from '../../runtime/src/asc.js';
import type { Grants } from './main.js';

/** The driver as a WASI preview1 command (examples/nic-tx/assembly/command.ts, @assemblyscript/wasi-shim). */
export const COMMAND = 'examples/nic-tx/assembly/command.ts';

/**
 * Compiles the command with the shim's asconfig. In a child process: the shim adds library files to
 * asc's process-wide state, which would leak into every later in-process compile.
 */
export async function compileCommand(): Promise<Uint8Array> {
  const dir = mkdtempSync(join(tmpdir(), 'nic-tx-wasi-'));
  try {
    const asc = createRequire(import.meta.url).resolve('assemblyscript/bin/asc.js');
    const out = join(dir, 'command.wasm');
    execFileSync(process.execPath, [asc, COMMAND, '-o', out, '-O3', '--noAssert', ...MMIO_ASC_FLAGS, '--config', 'node_modules/@assemblyscript/wasi-shim/asconfig.json'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    return new Uint8Array(readFileSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const WA = (globalThis as unknown as { WebAssembly: { compile(b: Uint8Array): Promise<object>; instantiate(m: object, i: object): Promise<{ exports: Record<string, unknown> }> } }).WebAssembly;

/**
 * node:wasi, without the ExperimentalWarning it prints when first loaded: the example knows, and
 * the warning would be the one stray line of its output (and of `npm test`'s). Only that warning is
 * held back, and only while the module loads.
 */
async function loadWasi(): Promise<typeof import('node:wasi').WASI> {
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (!String(typeof warning === 'string' ? warning : warning.message).startsWith('WASI is an experimental feature')) (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return (await import('node:wasi')).WASI;
  } finally {
    process.emitWarning = emit;
  }
}

/**
 * Runs the command under node:wasi (preview1): argv carries the descriptor count; the guest asks for
 * its windows through vfio.map_window while it runs, and the host maps them into its memory then.
 */
export async function runWasi(g: Grants): Promise<() => Promise<bigint>> {
  const module = await WA.compile(await compileCommand());
  const WASI = await loadWasi();
  const wasi = new WASI({ version: 'preview1', args: ['nic-tx', String(g.count)], env: { VFIO_INLINE_FENCE: g.inlineFence ? '1' : '0' }, returnOnExit: true, stdout: g.stdout });
  const instance = await WA.instantiate(module, {
    wasi_snapshot_preview1: wasi.wasiImport,
    vfio: { ...g.host.imports(), map_window: (slot: number, at: number, bytes: number) => g.mapForGuest(slot, at, bytes) },
  });
  g.host.bind(instance.exports.memory as never);
  return async () => {
    const code = wasi.start(instance as never);
    return code === 0 ? BigInt(g.count) : -1n;
  };
}
