import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDevice } from '../runtime/src/device.js';
import { ROOT } from '../runtime/src/asc.js';
import { E1000E_SIM } from '../runtime/src/sim-presets.js';
import { compileDriver, runE1000e } from '../examples/e1000e/main.js';
import { simConfigToC } from './sim-config-c.js';
import type { BenchRow } from './bench.js';

/** The sources the C twin of the e1000e driver builds from: the driver and the simulator. */
export const C_TWIN_SOURCES = ['examples/e1000e/driver.c', 'native/src/sim.c', 'native/src/sim_iommu.c', 'native/src/sim_irq.c', 'native/src/sim_e1000e.c', 'native/validators/vfio_subregion_validate.c'];

export interface CTwinResult { frames: number; ns: number; cpuNs: number; interrupts: number; tailWrites: number; modelFrames: number; faults: number; checked: number; mismatches: number; irqNs: number }

/**
 * Builds the C twin (examples/e1000e/driver.c) into `dir` against the E1000E_SIM preset printed as
 * e1000e_device.h, and returns a function that runs it (with `log`, a file it writes the model's
 * frame log to: per frame a u32 length, then the bytes).
 */
export function buildCTwin(dir: string): (frames: number, irqs?: number, log?: string) => CTwinResult {
  const exe = join(dir, 'e1000e-driver');
  writeFileSync(join(dir, 'e1000e_device.h'), simConfigToC(E1000E_SIM, 'e1000e_device'));
  execFileSync('gcc', ['-O2', '-std=gnu11', '-I', dir, '-I', join(ROOT, 'native/include'), '-idirafter', join(ROOT, 'native/include/fallback'), '-I', join(ROOT, 'native/validators'), '-I', join(ROOT, 'native/src'),
    ...C_TWIN_SOURCES.map((f) => join(ROOT, f)), '-o', exe], { stdio: ['ignore', 'inherit', 'inherit'] });
  return (frames, irqs = 0, log) => JSON.parse(execFileSync(exe, [String(frames), String(irqs), ...(log !== undefined ? [log] : [])], { encoding: 'utf8' })) as CTwinResult;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * The e1000e rows: frames/s of the wasm driver (a WASI command, MSI-X through the event loop) vs
 * its C twin (one process, read() on the eventfd), each against the simulator's e1000e model, runs
 * interleaved and the median taken: the process's CPU time per frame from the first frame queued to
 * the last reclaimed, as each driver measures it (on a shared machine, wall time mostly measures the
 * other tenants; CPU time counts every thread of the process, Node's included); and the IRQ-to-JS latency on the simulator: simInterrupt
 * to the Interrupts iterator's next() resolving, vs the C floor of the model signalling the eventfd
 * and the driver's read() returning.
 */
export async function runE1000eBench(frames = 200_000, runs = 5, irqRounds = 5_000): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'vfio-e1000e-bench-'));
  const devnull = openSync('/dev/null', 'w');
  try {
    const c = buildCTwin(dir);
    const binary = await compileDriver();
    await runE1000e({ frames, binary, stdout: devnull });
    const wasm: number[] = [];
    const native: number[] = [];
    let irqC = 0;
    for (let i = 0; i < runs; i++) {
      const w = await runE1000e({ frames, binary, stdout: devnull });
      wasm.push(w.cpuNs / w.frames);
      const r = c(frames, i === 0 ? irqRounds : 0);
      if (i === 0) irqC = r.irqNs;
      native.push(r.cpuNs / r.frames);
    }
    const irqJs = await irqLatency(irqRounds);
    return [
      { name: 'e1000e: wasm vs C per frame', ns: median(wasm), baselineNs: median(native) },
      { name: 'IRQ-to-JS latency (sim)', ns: irqJs, baselineNs: irqC },
    ].map((r) => ({ ...r, ratio: r.ns / r.baselineNs }));
  } finally {
    closeSync(devnull);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** ns from the model raising MSI-X vector 0 (simInterrupt) to the iterator's next() resolving in JS. */
async function irqLatency(rounds: number): Promise<number> {
  const dev = openDevice({ simulator: E1000E_SIM });
  const irqs = dev.interrupts(2, { count: 1 });
  try {
    let total = 0n;
    for (let i = 0; i < rounds + rounds / 10; i++) {
      const t0 = process.hrtime.bigint();
      dev.simInterrupt(2, 0);
      await irqs.next();
      if (i >= rounds / 10) total += process.hrtime.bigint() - t0;
    }
    return Number(total) / rounds;
  } finally {
    irqs.close();
    dev.close();
  }
}
