import { WASI } from 'node:wasi';
import { compileAs, ROOT } from '../../runtime/src/asc.js';
import { instantiateGuest, MMIO_INTERFACE } from '../../runtime/src/mmio.js';
import type { Grants } from './main.js';

/** The driver as a WASI preview1 command (examples/nic-tx/assembly/command.ts, @assemblyscript/wasi-shim). */
export const COMMAND = 'examples/nic-tx/assembly/command.ts';

/** Compiles the command with the shim's asconfig (compileAs's wasi build). */
export async function compileCommand(): Promise<Uint8Array> {
  return (await compileAs(COMMAND, { baseDir: ROOT, wasi: true })).binary;
}

/**
 * Runs the command under node:wasi (preview1): argv carries the descriptor count; the guest asks for
 * its windows through map-window while it runs, and the host maps them into its memory then.
 */
export async function runWasi(g: Grants): Promise<() => Promise<bigint>> {
  const wasi = new WASI({ version: 'preview1', args: ['nic-tx', String(g.count)], env: { VFIO_INLINE_FENCE: g.inlineFence ? '1' : '0' }, returnOnExit: true });
  const exports = await instantiateGuest(await compileCommand(), g.host, {
    wasi_snapshot_preview1: wasi.wasiImport,
    [MMIO_INTERFACE]: { 'map-window': (slot: number, at: number, bytes: number) => g.mapForGuest(slot, at, bytes) },
  });
  return async () => {
    const code = wasi.start({ exports } as never);
    return code === 0 ? BigInt(g.count) : -1n;
  };
}
