import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compileAs, MMIO_ASC_FLAGS, ROOT } from '../../runtime/src/asc.js';
import { native } from '../../runtime/src/native.js';
import { NIC_LAYOUT } from '../../runtime/src/sim-presets.js';
import { witInterface } from '../../codegen/emit/wit.js';
import { loadSpec } from '../../codegen/load.js';

const SPEC = loadSpec();
const WIT_INTERFACE = witInterface(SPEC);
const WIT_OUTPUT = SPEC.targets.wit.path;
import type { MmioHost } from '../../runtime/src/mmio.js';
import type { Grants } from '../nic-tx/main.js';

/**
 * nic-tx's driver as a WebAssembly component: the core module (examples/components/assembly/nic-tx.ts)
 * gets its "vfio" imports renamed to the generated WIT interface, is embedded with a world that adds
 * its exports to the generated one (runtime/wit/vfio-subregion.wit), made a component (jco's
 * componentEmbed + componentNew) and transpiled with instantiation 'async'. The host's instantiateCore
 * hook sees the core instance and binds the MmioHost to its memory, so the windows are mapped into the
 * component's core memory and the hot path is plain wasm stores; only run() and the rare host read of
 * TX_HEAD go through jco's glue.
 */

export const ENTRY = 'examples/components/assembly/nic-tx.ts';
export const OUT_DIR = resolve(ROOT, 'dist/examples/components/nictx');

export const WORLD = `
world nictx {
  import mmio;
  export reserve: func(bytes: u32, align: u32) -> u32;
  export setup: func(inline: bool);
  export run: func(regs: u32, regs-size: u32, push: u32, push-size: u32, n: u32, batch: u32) -> s64;
  export bench: func(op: u32, base: u32, size: u32, off: u32, n: u32);
}
`;

export interface NicTxComponent {
  reserve(bytes: number, align: number): number;
  setup(inline: boolean): void;
  run(regs: number, regsSize: number, push: number, pushSize: number, n: number, batch: number): bigint;
  bench(op: number, base: number, size: number, off: number, n: number): void;
}

type Jco = {
  print(b: Uint8Array): Promise<string>; parse(t: string): Promise<Uint8Array>;
  componentEmbed(o: { binary: Uint8Array; witSource: string; world: string }): Promise<Uint8Array>;
  componentNew(b: Uint8Array): Promise<Uint8Array>;
  transpile(b: Uint8Array, o: { name: string; instantiation: 'async' }): Promise<{ files: Record<string, Uint8Array> }>;
};

/** Builds and transpiles the component into dist/examples/components/nictx/; returns the component's bytes. */
export async function buildComponent(): Promise<Uint8Array> {
  const jco = (await import('@bytecodealliance/jco')) as unknown as Jco;
  const { binary } = await compileAs(ENTRY, { flags: ['-O3', '--noAssert', ...MMIO_ASC_FLAGS, '--use', 'abort=runtime/assembly/mmio/trap_abort'] });
  const wat = (await jco.print(binary)).replace(/\(import "vfio" "([a-z0-9_]+)"/g, (_, n: string) => `(import "${WIT_INTERFACE}" "${n.replace(/_/g, '-')}"`);
  if (/\(import "(?!vfio:subregion\/mmio@)/.test(wat)) throw new Error('the component core module has an import outside the vfio interface');
  const core = await jco.parse(wat);
  const embedded = await jco.componentEmbed({ binary: core, witSource: readFileSync(resolve(ROOT, WIT_OUTPUT), 'utf8') + WORLD, world: 'nictx' });
  const component = await jco.componentNew(embedded);
  const { files } = await jco.transpile(component, { name: 'nictx', instantiation: 'async' });
  for (const [name, data] of Object.entries(files)) {
    mkdirSync(join(OUT_DIR, name, '..'), { recursive: true });
    writeFileSync(join(OUT_DIR, name), data);
  }
  return component;
}

const WA = (globalThis as unknown as { WebAssembly: { compile(b: Uint8Array): Promise<object>; instantiate(m: object, i: object): Promise<{ exports: Record<string, unknown> }> } }).WebAssembly;

/** Instantiates the transpiled component; the host is bound to its core memory in instantiateCore. */
export async function instantiateComponent(host: MmioHost): Promise<NicTxComponent> {
  await buildComponent();
  const mod = (await import(pathToFileURL(join(OUT_DIR, 'nictx.js')).href)) as {
    instantiate(get: (name: string) => Promise<object>, imports: object, core: (m: object, i: object) => Promise<{ exports: Record<string, unknown> }>): Promise<NicTxComponent>;
  };
  const h = host.imports() as Record<string, (...a: never[]) => unknown>;
  const iface = {
    ...h,
    // jco passes u64 as bigint and small ints as numbers already
    mapWindow: () => 1,
  };
  return mod.instantiate(
    async (name) => WA.compile(readFileSync(join(OUT_DIR, name))),
    { [WIT_INTERFACE]: iface, 'vfio:subregion/mmio': iface },
    async (m, imports) => {
      const inst = await WA.instantiate(m, imports);
      if (inst.exports.memory !== undefined) host.bind(inst.exports.memory as never);
      return inst;
    },
  );
}

export async function runComponent(g: Grants): Promise<() => Promise<bigint>> {
  const c = await instantiateComponent(g.host);
  const ps = native().pageSize;
  const regsAt = c.reserve(Number(NIC_LAYOUT.registers.size), ps) >>> 0;
  const pushAt = c.reserve(Number(NIC_LAYOUT.txPush.size), ps) >>> 0;
  const regs = g.map(0, regsAt, Number(NIC_LAYOUT.registers.size));
  const push = g.map(1, pushAt, Number(NIC_LAYOUT.txPush.size));
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
