import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileAs, ROOT } from '../../runtime/src/asc.js';
import { instantiateGuest, MMIO_INTERFACE } from '../../runtime/src/mmio.js';
import { PREBUILT, type Grants } from './main.js';

/** The driver as a WASI preview1 command (examples/nic-tx/assembly/command.ts, @assemblyscript/wasi-shim). */
export const COMMAND = 'examples/nic-tx/assembly/command.ts';

/** Compiles the command with the shim's asconfig (compileAs's wasi build). */
export async function compileCommand(): Promise<Uint8Array> {
  return (await compileAs(COMMAND, { baseDir: ROOT, wasi: true })).binary;
}

/**
 * node:wasi, without the ExperimentalWarning it prints when first loaded: the example knows, and
 * the warning would be the one stray line of its output (and of `npm test`'s). Only that warning is
 * held back, and only while the module loads.
 */
export async function loadWasi(): Promise<typeof import('node:wasi').WASI> {
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
 * its windows through map-window while it runs, and the host maps them into its memory then.
 */
export async function runWasi(g: Grants): Promise<() => Promise<bigint>> {
  const WASI = await loadWasi();
  const wasi = new WASI({ version: 'preview1', args: ['nic-tx', String(g.count)], env: { VFIO_INLINE_FENCE: g.inlineFence ? '1' : '0' }, returnOnExit: true, stdout: g.stdout });
  const binary = g.prebuilt !== undefined ? readFileSync(join(g.prebuilt, PREBUILT.command)) : await compileCommand();
  const exports = await instantiateGuest(binary, g.host, {
    wasi_snapshot_preview1: wasi.wasiImport,
    [MMIO_INTERFACE]: { 'map-window': (slot: number, at: number, bytes: number) => g.mapForGuest(slot, at, bytes) },
  });
  return async () => {
    const code = wasi.start({ exports } as never);
    return code === 0 ? BigInt(g.count) : -1n;
  };
}
