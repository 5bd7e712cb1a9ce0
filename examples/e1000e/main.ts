import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDevice, type Device } from '../../runtime/src/device.js';
import { MmioHost, instantiateGuest } from '../../runtime/src/mmio.js';
import { compileAs, ROOT } from '../../runtime/src/asc.js';
import type { SimModelStats } from '../../runtime/src/native.js';
import { E1000E_LAYOUT, E1000E_SIM } from '../../runtime/src/sim-presets.js';
import { integerArg, parseCommandLine, runMain } from '../../cli/args.js';
import { loadWasi } from '../nic-tx/wasi.js';

/**
 * e1000e: an AssemblyScript TX driver for the Intel 82574 (examples/e1000e/assembly/driver.ts) run
 * as a WASI preview1 command. The host grants BAR0 as window slot 0 and delivers MSI-X vector 0 to
 * the guest's interrupt() export; by default the device is the simulator's e1000e model
 * (runtime/src/sim-presets.ts E1000E_SIM), whose frame log this host checks byte for byte against
 * frames it builds itself.
 */

export const DRIVER = 'examples/e1000e/assembly/driver.ts';
/** The driver as `npm run build` compiles it (examples/build-drivers.ts). */
export const DRIVER_WASM = 'dist/examples/e1000e/driver.wasm';
/** The frame the driver sends (its file comment), without the FCS. */
export const FRAME_LEN = 64;
const DST = [0x02, 0, 0, 0, 0, 0x01];
const ETHERTYPE = 0x88b5;

/** Frame `seq` as the driver's comment specifies it, built here independently of the driver. */
export function expectedFrame(seq: number, mac: Uint8Array): Uint8Array {
  const f = new Uint8Array(FRAME_LEN);
  f.set(DST, 0);
  f.set(mac, 6);
  f[12] = ETHERTYPE >> 8;
  f[13] = ETHERTYPE & 0xff;
  new DataView(f.buffer).setUint32(14, seq >>> 0, false);
  for (let i = 0; i < FRAME_LEN - 18; i++) f[18 + i] = (Math.imul(seq, 7) + i) & 0xff;
  return f;
}

/** The NIC's MAC address as RAL0/RAH0 hold it (read through the device, as a driver would). */
export function macOf(dev: Device): Uint8Array {
  const lo = Buffer.from(dev.read(0, 0x5400n, 4)).readUInt32LE(0);
  const hi = Buffer.from(dev.read(0, 0x5404n, 4)).readUInt32LE(0);
  return new Uint8Array([lo & 0xff, (lo >>> 8) & 0xff, (lo >>> 16) & 0xff, lo >>> 24, hi & 0xff, (hi >>> 8) & 0xff]);
}

export async function compileDriver(): Promise<Uint8Array> {
  return (await compileAs(DRIVER, { baseDir: ROOT, wasi: true })).binary;
}

export interface E1000eOptions {
  frames?: number;
  /** The device (default: a fresh simulated e1000e, closed at the end). */
  device?: Device;
  /** The compiled driver (default: the one `npm run build` compiled). */
  binary?: Uint8Array;
  /** The fd the WASI command prints its summary line to (default 1). */
  stdout?: number;
  /** Give up when no frame completes for this long (default 10 s). */
  stallMs?: number;
}

export interface E1000eResult {
  frames: number;
  bytes: number;
  interrupts: number;
  tailWrites: number;
  /** From the first frame queued to the last reclaimed, as the driver measured it (WASI clock). */
  ns: number;
  nsPerFrame: number;
  /** The process's CPU time over the same span (WASI's process CPU-time clock). */
  cpuNs: number;
  /** The simulator's model: its counters; the frames of its log checked, and those that differed. */
  model: SimModelStats | null;
  checked: number;
  mismatches: number;
}

interface DriverExports { done(): number; interrupts_taken(): number; tail_writes(): number; elapsed_ms(): number; cpu_ns(): number }

/** Runs the driver for `frames` frames and waits for the last completion. */
export async function runE1000e(options: E1000eOptions = {}): Promise<E1000eResult> {
  const frames = options.frames ?? 1000;
  const dev = options.device ?? openDevice({ simulator: E1000E_SIM });
  const host = new MmioHost({ device: dev, grant: (slot) => (slot === 0 ? { device: dev, region: E1000E_LAYOUT.bar } : undefined) });
  try {
    const WASI = await loadWasi();
    const wasi = new WASI({ version: 'preview1', args: ['e1000e', String(frames)], returnOnExit: true, ...(options.stdout !== undefined ? { stdout: options.stdout } : {}) });
    const ex = await instantiateGuest<DriverExports>(options.binary ?? readFileSync(resolve(ROOT, DRIVER_WASM)), host, { wasi_snapshot_preview1: wasi.wasiImport });
    const code = wasi.start({ exports: ex } as never);
    if (code !== 0) throw new Error(`e1000e: the driver exited with status ${code}${host.lastRefusal ? `: ${host.lastRefusal.message}` : ''}`);
    let last = -1;
    let since = Date.now();
    while (ex.done() < frames) {
      // a timer, not setImmediate: the loop then turns on the interrupt eventfd alone, one turn per
      // MSI-X message, and this check runs once a millisecond
      await new Promise((r) => setTimeout(r, 1));
      if (ex.done() !== last) {
        last = ex.done();
        since = Date.now();
      } else if (Date.now() - since > (options.stallMs ?? 10_000)) {
        throw new Error(`e1000e: no TX completion for ${options.stallMs ?? 10_000} ms after ${last} of ${frames} frames`);
      }
    }
    const ns = ex.elapsed_ms() * 1e6;
    const model = dev.simModel({ takeFrames: true });
    let checked = 0;
    let mismatches = 0;
    if (model?.log) {
      const mac = macOf(dev);
      const first = frames - model.log.length;
      model.log.forEach((f, i) => {
        checked++;
        if (Buffer.compare(Buffer.from(f), Buffer.from(expectedFrame(first + i, mac))) !== 0) mismatches++;
      });
    }
    return { frames, bytes: frames * FRAME_LEN, interrupts: ex.interrupts_taken(), tailWrites: ex.tail_writes(), ns, nsPerFrame: ns / frames, cpuNs: ex.cpu_ns(), model, checked, mismatches };
  } finally {
    host.unmapAll();
    if (options.device === undefined) dev.close();
  }
}

export function formatE1000e(r: E1000eResult): string {
  const lines = [`e1000e (host): ${r.frames} frames, ${(r.frames / (r.ns / 1e9) / 1e6).toFixed(2)} M frames/s; ${r.interrupts} MSI-X interrupts, ${r.tailWrites} tail writes`];
  if (r.model) {
    lines.push(`  device model: ${r.model.frames} frames (${r.model.bytes} bytes) from ${r.model.descriptors} descriptors, ${r.model.faults} DMA faults, ${r.model.dropped} dropped`);
    lines.push(`  frame log: the last ${r.checked} frames checked byte for byte: ${r.mismatches === 0 ? 'every one as built' : `${r.mismatches} differ`}`);
  }
  return lines.join('\n') + '\n';
}

export const USAGE = 'e1000e [FRAMES]';

/** The example's command line: a frame count (default 100000). */
export async function main(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const { positionals } = parseCommandLine(argv, {}, 1);
  const frames = positionals[0] !== undefined ? integerArg('FRAMES', positionals[0], 1, 1e9) : 100_000;
  const r = await runE1000e({ frames });
  out(formatE1000e(r));
  return r.mismatches === 0 && (r.model === null || r.model.frames === frames) ? 0 : 1;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await runMain('e1000e', () => main(process.argv.slice(2)));
