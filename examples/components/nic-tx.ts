import { join, resolve } from 'node:path';
import { ROOT } from '../../runtime/src/asc.js';
import { buildComponent, instantiateComponent as instantiate, type BuiltComponent } from '../../runtime/src/component.js';
import { native } from '../../runtime/src/native.js';
import { NIC_LAYOUT } from '../../runtime/src/sim-presets.js';
import type { MmioHost } from '../../runtime/src/mmio.js';
import { PREBUILT, type Grants } from '../nic-tx/main.js';

/**
 * nic-tx's driver as a WebAssembly component, built by the generic builder (runtime/src/component.ts)
 * from examples/components/assembly/nic-tx.ts with the shipped WIT's guest world and these exports;
 * only run() and the rare host read of TX_HEAD go through jco's glue.
 */

export const ENTRY = 'examples/components/assembly/nic-tx.ts';
export const OUT_DIR = resolve(ROOT, 'dist/examples/components/nictx');

export const EXPORTS = `
  export reserve: func(bytes: u32, align: u32) -> u32;
  export setup: func(inline: bool);
  export run: func(regs: u32, regs-size: u32, push: u32, push-size: u32, n: u32, batch: u32) -> s64;
  export bench: func(op: u32, base: u32, size: u32, off: u32, n: u32);
`;

export interface NicTxComponent {
  reserve(bytes: number, align: number): number;
  setup(inline: boolean): void;
  run(regs: number, regsSize: number, push: number, pushSize: number, n: number, batch: number): bigint;
  bench(op: number, base: number, size: number, off: number, n: number): void;
}

/** Builds and transpiles the component into `outDir` (default dist/examples/components/nictx/). */
export async function buildNicTxComponent(outDir = OUT_DIR): Promise<BuiltComponent> {
  return buildComponent({ name: 'nictx', entry: ENTRY, baseDir: ROOT, exports: EXPORTS, outDir });
}

/** Instantiates the component: the one built in `dir` (buildNicTxComponent's), or built now. */
export async function instantiateComponent(host: MmioHost, dir?: string): Promise<NicTxComponent> {
  return instantiate<NicTxComponent>(dir !== undefined ? { name: 'nictx', dir } : await buildNicTxComponent(), host);
}

export async function runComponent(g: Grants): Promise<() => Promise<bigint>> {
  const c = await instantiateComponent(g.host, g.prebuilt !== undefined ? join(g.prebuilt, PREBUILT.component) : undefined);
  const ps = native().pageSize;
  const regsAt = c.reserve(Number(g.layout.registers.size), ps) >>> 0;
  const pushAt = c.reserve(Number(g.layout.txPush.size), ps) >>> 0;
  const regs = g.map(0, regsAt, Number(g.layout.registers.size));
  const push = g.map(1, pushAt, Number(g.layout.txPush.size));
  c.setup(g.inlineFence);
  return async () => c.run(regsAt, regs.size, pushAt, push.size, g.count, g.batch);
}

/**
 * Component rows for `npm run bench`: the same loops as the core-module rows, inside the component,
 * on windows mapped into its core memory; native C on the same mappings as the baseline.
 */
export async function runComponentBench(host: MmioHost, dev: import('../../runtime/src/device.js').Device, sub: import('../../runtime/src/device.js').RegionInfo, iterations: number): Promise<{ name: string; ns: number; baselineNs: number }[]> {
  const c = await instantiateComponent(host);
  const n = native();
  const ps = n.pageSize;
  const { registers, txPush, doorbell, bar } = NIC_LAYOUT;
  const pushAt = c.reserve(Number(txPush.size), ps) >>> 0;
  const regsAt = c.reserve(Number(registers.size), ps) >>> 0;
  const push = host.map(dev, sub, { at: pushAt });
  const regs = host.map(dev, bar, { at: regsAt, offset: registers.offset, length: Number(registers.size) });
  c.setup(true);
  const med = (f: () => number) => { const xs = [f(), f(), f(), f(), f()].sort((a, b) => a - b); return xs[2]!; };
  const t = (op: number, base: number, size: number, off: number) => med(() => {
    c.bench(op, base, size, off, 100_000);
    const t0 = process.hrtime.bigint();
    c.bench(op, base, size, off, iterations);
    return Number(process.hrtime.bigint() - t0) / iterations;
  });
  for (const op of [0, 1, 2]) c.bench(op, op === 2 ? regsAt : pushAt, op === 2 ? regs.size : push.size, op === 2 ? doorbell : 0, iterations); // tier up first
  // the C baseline comes from the test/bench-only module, loaded here so the example's run path never imports it
  const tn = (await import('../../tools/testing-native.js')).testingNative();
  const cb = (op: number) => med(() => tn.mmioBench(push.address, push.size, 0, op, iterations, regs.address, regs.size, doorbell));
  return [
    { name: 'mmio-write32 (component)', ns: t(0, pushAt, push.size, 0), baselineNs: cb(0) },
    { name: 'mmio-burst64 (component)', ns: t(1, pushAt, push.size, 0), baselineNs: cb(2) },
    { name: 'mmio-doorbell+fence (component)', ns: t(2, regsAt, regs.size, doorbell), baselineNs: cb(3) },
  ];
}
