import { Worker } from 'node:worker_threads';
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDevice, type Device, type WasmWindow } from '../../runtime/src/device.js';
import { MmioHost, instantiateGuest } from '../../runtime/src/mmio.js';
import { compileAs, ROOT } from '../../runtime/src/asc.js';
import { native } from '../../runtime/src/native.js';
import { NIC_LAYOUT } from '../../runtime/src/sim-presets.js';
import { VfioRegionAttr } from '../../runtime/src/generated/vfio-subregion.js';
import type { DeviceModelData, DeviceModelResult } from './device-model.js';
import { deviceArg, integerArg, parseCommandLine, runMain, UsageError } from '../../cli/args.js';

/**
 * nic-tx: an AssemblyScript TX driver pushes descriptors through a write-combined subregion of the
 * simulated NIC's BAR0 (its TX push buffer, mapped into the driver's linear memory) and rings the
 * doorbell in BAR0's uncached register block (a second window); a device model in a worker thread,
 * on the other side of the simulator's shared memory, consumes and checks them. Given a real device
 * (`--device`), the same driver runs on IVSHMEM_LAYOUT and the device on the other side consumes.
 */

export const DRIVER = 'examples/nic-tx/assembly/driver.ts';
/** The driver as `npm run build` compiles it (build-driver.ts), which the core mode runs. */
export const DRIVER_WASM = 'dist/examples/nic-tx/driver.wasm';
export const TX_HEAD = 0x44;
const MAGIC = 0xC0FFEE11;

/** Where a NIC-like device keeps the driver's register block (DOORBELL, TX_HEAD) and TX push buffer. */
export interface NicLayout {
  bar: number;
  registers: { offset: bigint; size: bigint };
  doorbell: number;
  txPush: { offset: bigint; size: bigint };
}

/**
 * The layout on an ivshmem-plain device (1 MiB of shared memory in BAR2), whose other side is a
 * device model over the shared memory (test/kernel/ivshmem-model.c). ivshmem's BAR0 has no
 * register a driver may use as a doorbell, so the register block is a page range of BAR2 too, kept
 * uncached, away from the push buffer's pages. Sizes as NIC_LAYOUT's, so the WASI command (which
 * asks for 64 KiB and 128 KiB windows) runs unchanged.
 */
export const IVSHMEM_LAYOUT: NicLayout = {
  bar: 2,
  registers: { offset: 0x20000n, size: 64n * 1024n },
  doorbell: 0x40,
  txPush: { offset: 0xe0000n, size: 128n * 1024n },
};

export interface NicTxOptions {
  descriptors?: number;
  /** Descriptors per doorbell. */
  batch?: number;
  /** Use the host's wmb() (a native sfence per doorbell) instead of the in-wasm locked fence. */
  hostFence?: boolean;
  /** The device (default: a simulator of its own). One with no simulator backing runs without the worker's model. */
  device?: Device;
  /** Where the registers and the push buffer are (default NIC_LAYOUT, the simulated NIC's). */
  layout?: NicLayout;
  /** A directory prebuildNicTx() filled: the driver's wasm is loaded from there instead of compiled. */
  prebuilt?: string;
  /** Called with the windows mapped so far each time the driver is granted one (a WASI command asks while it runs). */
  onMapped?: (windows: WindowSummary[]) => void;
  /** The fd the WASI command prints its own line to (default 1, this process's stdout). */
  stdout?: number;
}

export interface WindowSummary { name: string; region: number; offset: bigint; size: number; attrs: number; base: number }

export interface NicTxResult {
  descriptors: number;
  bytes: number;
  ns: number;
  nsPerDescriptor: number;
  descriptorsPerSecond: number;
  batch: number;
  fence: 'locked-rmw' | 'host-wmb';
  mode: NicTxMode;
  windows: WindowSummary[];
  simMappings: { index: number; offset: bigint; length: number; attrs: number }[];
  /** Descriptors the device reported consumed (its TX_HEAD, from the run's start). */
  consumed: number;
  /** The in-process device model's checks (the simulator); null for a real device, which checks on its side. */
  device: DeviceModelResult | null;
  /** Why the push buffer is not write-combining, when it is not (a driver without the subregion ABI). */
  uncachedBecause: string | null;
}

export function windowSummary(name: string, w: WasmWindow): WindowSummary {
  return { name, region: w.region, offset: w.offset, size: w.size, attrs: w.attrs, base: w.base };
}

/** How the driver runs: a plain core module, a WASI preview1 command, or a WebAssembly component. */
export type NicTxMode = 'core' | 'wasi' | 'component';

/** What a mode's runner gets: the device's windows to grant, and where it reports the driver's result. */
export interface Grants {
  dev: Device;
  host: MmioHost;
  layout: NicLayout;
  prebuilt: string | undefined;
  /** Grantable windows: slot 0 the register block, slot 1 the TX push buffer (the WC subregion). */
  map(slot: number, at: number, bytes: number): WasmWindow;
  /** map() for a guest: 0, or the errno (a positive number) of the refusal. */
  mapForGuest(slot: number, at: number, bytes: number): number;
  count: number;
  batch: number;
  inlineFence: boolean;
  /** Where a guest that prints (the WASI command) writes: an fd. */
  stdout: number;
}

export async function runNicTx(opts: NicTxOptions & { mode?: NicTxMode } = {}): Promise<NicTxResult> {
  const count = opts.descriptors ?? 1_000_000;
  const batch = opts.batch ?? 32;
  const mode = opts.mode ?? 'core';
  const layout = opts.layout ?? NIC_LAYOUT;
  const dev = opts.device ?? openDevice('sim');
  const host = new MmioHost();
  let worker: Worker | undefined;
  try {
    const { bar, registers, txPush, doorbell } = layout;
    // Without the subregion ABI (stock vfio-pci) the push buffer can only be an uncached mapping of the BAR.
    const sub = dev.support().subregion ? dev.createSubregion({ parent: bar, offset: txPush.offset, size: txPush.size, attrs: VfioRegionAttr.VFIO_REGION_ATTR_WC }) : null;
    const fence = opts.hostFence === true || !MmioHost.inlineFence ? 'host-wmb' : 'locked-rmw';
    const windows: WindowSummary[] = [];
    const grants: Grants = {
      dev, host, layout, prebuilt: opts.prebuilt, count, batch, inlineFence: fence === 'locked-rmw', stdout: opts.stdout ?? 1,
      map(slot, at, bytes) {
        if (slot !== 0 && slot !== 1) throw Object.assign(new RangeError(`no window ${slot} is granted`), { code: 'EPERM' });
        const w = slot === 0
          ? host.map(dev, bar, { at, offset: registers.offset, length: Math.min(bytes, Number(registers.size)) })
          : sub !== null ? host.map(dev, sub, { at, length: bytes }) : host.map(dev, bar, { at, offset: txPush.offset, length: Math.min(bytes, Number(txPush.size)) });
        windows.push(windowSummary(slot === 0 ? 'registers (doorbell)' : 'TX push buffer', w));
        opts.onMapped?.(windows);
        return w;
      },
      mapForGuest(slot, at, bytes) {
        try { this.map(slot, at >>> 0, bytes >>> 0); return 0; } catch (e) { return (e as { errno?: number }).errno ?? 22; }
      },
    };

    const txHead = (): number => Buffer.from(dev.read(bar, Number(registers.offset) + TX_HEAD, 4)).readUInt32LE(0);
    const start = txHead();
    const backing = dev.source === 'simulator' ? dev.simBacking(bar) : null;
    const runner = mode === 'core' ? runCore : mode === 'wasi' ? (await import('./wasi.js')).runWasi : (await import('../components/nic-tx.js')).runComponent;
    const prepared = await runner(grants);
    let done: Promise<DeviceModelResult | null> = Promise.resolve(null);
    if (backing !== null) {
      const data: DeviceModelData = {
        path: backing.path, barOffset: Number(backing.offset), registers: Number(registers.offset), push: Number(txPush.offset),
        pushSize: Number(txPush.size), doorbell, txHead: TX_HEAD, count, magic: MAGIC,
      };
      worker = new Worker(resolve(ROOT, 'dist/examples/nic-tx/device-model.js'), { workerData: data });
      const w = worker;
      done = new Promise<DeviceModelResult>((res, rej) => {
        w.on('message', (m: { result?: DeviceModelResult }) => { if (m.result !== undefined) res(m.result); });
        w.on('error', rej);
        w.on('exit', (code) => rej(new Error(`device model exited (${code}) before reporting`)));
      });
      await new Promise<void>((res, rej) => { w.once('message', () => res()); w.once('error', rej); });
    }

    const t0 = process.hrtime.bigint();
    const pushed = await prepared();
    const device = await done;
    // a real device consumes on its own: its TX_HEAD reaches the last descriptor (or stops moving)
    let consumed = (txHead() - start) >>> 0;
    for (let last = consumed, since = Date.now(); backing === null && pushed >= 0n && consumed < count && Date.now() - since < 30_000;) {
      await sleep(1);
      consumed = (txHead() - start) >>> 0;
      if (consumed !== last) { last = consumed; since = Date.now(); }
    }
    const ns = Number(process.hrtime.bigint() - t0);
    if (pushed < 0n) throw new Error(`nic-tx: the device stopped consuming after ${-pushed - 1n} descriptors`);
    const simMappings = backing === null ? [] : dev.simMappings().map((m) => ({ index: m.index, offset: m.offset, length: m.length, attrs: m.attrs }));
    return {
      descriptors: count, bytes: count * 64, ns, nsPerDescriptor: ns / count, descriptorsPerSecond: count / (ns / 1e9),
      batch, fence, mode, windows, simMappings, consumed, device,
      uncachedBecause: sub === null ? `${dev.source} has no subregion ABI (VFIO_DEVICE_FEATURE_SUBREGION): stock vfio-pci maps a BAR uncached only` : null,
    };
  } finally {
    if (worker !== undefined) await worker.terminate();
    host.unmapAll();
    if (opts.device === undefined) dev.close();
  }
}

/** The driver's wasm as prebuildNicTx() writes it into a directory. */
export const PREBUILT = { core: 'nic-tx.wasm', command: 'nic-tx-command.wasm', component: 'nictx' } as const;

/**
 * Builds the driver in all three forms into `dir` (PREBUILT's names), so a run elsewhere (a slow
 * machine, a read-only checkout) loads the same wasm instead of compiling it.
 */
export async function prebuildNicTx(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, PREBUILT.core), (await compileAs(DRIVER, { baseDir: ROOT })).binary);
  writeFileSync(join(dir, PREBUILT.command), await (await import('./wasi.js')).compileCommand());
  await (await import('../components/nic-tx.js')).buildNicTxComponent(join(dir, PREBUILT.component));
}

/** The core-module runner: instantiate the built driver, map both windows, then (timed) run. */
async function runCore(g: Grants): Promise<() => Promise<bigint>> {
  const binary = readFileSync(g.prebuilt !== undefined ? join(g.prebuilt, PREBUILT.core) : resolve(ROOT, DRIVER_WASM));
  const ex = await instantiateGuest(binary, g.host);
  const reserve = ex.window_reserve as (bytes: number, align: number) => number;
  const regsAt = reserve(Number(g.layout.registers.size), native().pageSize) >>> 0;
  const pushAt = reserve(Number(g.layout.txPush.size), native().pageSize) >>> 0;
  const regs = g.map(0, regsAt, Number(g.layout.registers.size));
  const push = g.map(1, pushAt, Number(g.layout.txPush.size));
  (ex.set_inline_fence as (on: number) => void)(g.inlineFence ? 1 : 0);
  const run = ex.run as (a: number, b: number, c: number, d: number, n: number, batch: number) => bigint;
  return async () => run(regsAt, regs.size, pushAt, push.size, g.count, g.batch);
}

export function attrName(a: number): string {
  return a & VfioRegionAttr.VFIO_REGION_ATTR_WC ? 'write-combining (WC)' : 'uncached (UC)';
}

export function formatNicTx(r: NicTxResult): string {
  const lines = [
    `nic-tx (${r.mode === 'core' ? 'core module' : r.mode === 'wasi' ? 'WASI preview1 command' : 'component'}): ${r.descriptors} descriptors (${r.bytes} bytes) in ${(r.ns / 1e6).toFixed(1)} ms: ${r.nsPerDescriptor.toFixed(1)} ns/descriptor, ${(r.descriptorsPerSecond / 1e6).toFixed(2)} M descriptors/s`,
    `  one 64-byte ${r.uncachedBecause === null ? 'WC' : 'UC'} burst per descriptor; a doorbell every ${r.batch} (${Math.ceil(r.descriptors / r.batch)} rung${r.device !== null ? `, the device caught ${r.device.doorbells} distinct tails` : ''}), fence before each: ${r.fence === 'locked-rmw' ? 'locked read-modify-write on a scratch word (in wasm)' : 'host wmb() (native sfence)'}`,
    r.device !== null
      ? `  device model: consumed ${r.device.consumed}, ${r.device.errors === 0 ? 'every descriptor in order and intact' : `${r.device.errors} error(s), first: ${r.device.firstError}`}`
      : `  the device consumed ${r.consumed} (its TX_HEAD); it checks the descriptors on its side`,
    '  windows in the driver\'s linear memory:',
    ...r.windows.map((w) => `    ${w.name.padEnd(22)} region ${w.region} +0x${w.offset.toString(16).padStart(5, '0')}, ${w.size / 1024} KiB at 0x${w.base.toString(16)}: ${attrName(w.attrs)}`),
    ...(r.uncachedBecause !== null ? [`  the push buffer is uncached: ${r.uncachedBecause}`] : []),
    ...(r.simMappings.length > 0 ? ['  the simulator\'s page tables:'] : []),
    ...r.simMappings.map((m) => `    region ${m.index} +0x${m.offset.toString(16).padStart(5, '0')}, ${m.length / 1024} KiB: ${attrName(m.attrs)}`),
  ];
  return lines.join('\n') + '\n';
}

export const USAGE = 'nic-tx [DESCRIPTORS] [--wasi | --component] [--host-fence] [--device DEV]';

/**
 * The example's command line: a descriptor count (default 1000000), how the driver runs, and the
 * device: the simulator (default) or a real one (an ivshmem-plain device, IVSHMEM_LAYOUT).
 */
export async function main(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, { wasi: { type: 'boolean' }, component: { type: 'boolean' }, 'host-fence': { type: 'boolean' }, device: { type: 'string' } }, 1);
  if (values.wasi === true && values.component === true) throw new UsageError('--wasi and --component exclude each other');
  const descriptors = positionals[0] !== undefined ? integerArg('DESCRIPTORS', positionals[0], 1, 1e9) : 1_000_000;
  const target = deviceArg(values.device ?? 'sim');
  const device = target === 'sim' ? undefined : openDevice(target);
  try {
    const r = await runNicTx({ descriptors, hostFence: values['host-fence'] === true, mode: values.wasi === true ? 'wasi' : values.component === true ? 'component' : 'core', ...(device !== undefined ? { device, layout: IVSHMEM_LAYOUT } : {}) });
    out(formatNicTx(r));
    return (r.device?.errors ?? 0) !== 0 || r.consumed !== r.descriptors ? 1 : 0;
  } finally {
    device?.close();
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await runMain('nic-tx', () => main(process.argv.slice(2)));
