import { openSync, readSync, closeSync } from 'node:fs';
import { compileAs } from '../../runtime/src/asc.js';
import { MmioHost, instantiateGuest } from '../../runtime/src/mmio.js';

export const GUEST = 'runtime/assembly/mmio-probe.ts';

export type Fn = (...a: (number | bigint)[]) => number | bigint | void;
export interface Guest { ex: Record<string, unknown>; host: MmioHost; calls: string[]; f(name: string): Fn; text: string | undefined }

let cached: { binary: Uint8Array; text?: string } | undefined;

/** Compiles the test guest once (-O3, the MMIO flags) and instantiates it; host calls are counted. */
export async function guest(): Promise<Guest> {
  const c = cached ??= await compileAs(GUEST, { text: true });
  const host = new MmioHost();
  const calls: string[] = [];
  const base = host.imports();
  const counted = Object.fromEntries(Object.entries(base).map(([k, fn]) => [k, (...a: never[]) => { calls.push(k); return fn(...a); }]));
  const orig = host.imports.bind(host);
  host.imports = () => counted as ReturnType<typeof orig>;
  const ex = await instantiateGuest(c.binary, host);
  return { ex, host, calls, text: c.text, f: (name) => ex[name] as Fn };
}

/** Bytes of a file (what the device model sees). */
export function fileBytes(path: string, offset: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(length);
    readSync(fd, b, 0, length, offset);
    return b;
  } finally {
    closeSync(fd);
  }
}
