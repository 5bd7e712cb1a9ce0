import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDevice } from '../runtime/src/device.js';
import { Errno, ioctlNumber, VfioRegionAttr, type Arch } from '../runtime/src/generated/vfio-subregion.js';
import { compileAs, ROOT } from '../runtime/src/asc.js';
import { MmioHost, instantiateGuest } from '../runtime/src/mmio.js';
import { native, type NativeAddon, type SimConfig } from '../runtime/src/native.js';
import { NIC_LAYOUT } from '../runtime/src/sim-presets.js';
import { formatRows, median, time, timeWasm, type BenchRow } from './bench-rows.js';
import { runCodegenBench } from './codegen-bench.js';
import { runE1000eBench } from './e1000e-bench.js';
import { simConfigToC } from './sim-config-c.js';
import { testingNative } from './testing-native.js';

/**
 * `npm run bench`: the TypeScript API against the simulator vs the same call sequence in C
 * (native/bench/bench_sim.c), measured in the same run. Prints a table, and with --json one JSON
 * array as the last line: {name, ns, baselineNs, ratio} per row.
 *
 * Native baselines that run inside Node (the MMIO loops, the C ioctl loop, the Node-API floor) come
 * from the test/bench-only module native/testing/ (tools/testing-native.ts), never from the
 * production addon.
 *
 * The e1000e rows (tools/e1000e-bench.ts) run the example's wasm driver and its C twin against the
 * simulator's e1000e model, and time interrupt delivery to JavaScript.
 *
 * The last row (tools/codegen-bench.ts) is the generator's: every target of the real spec set vs a
 * spec 10 times its size, the ratio showing whether generation stays linear.
 *
 * The ioctl rows issue VFIO_DEVICE_GET_REGION_INFO on /dev/null: no hardware, and the kernel answers
 * ENOTTY at once, so each call is one real system call round trip. The baseline of every row there is
 * the C loop (ioctlLoop) on the same fd, in the same run, except "addon vs koffi", whose baseline is
 * koffi (a ratio below 1: the addon's ioctl beats a generic FFI call). The two Node-API floor rows (an
 * empty call; a call that reads an int and a Uint8Array as the addon's ioctl does, without the system
 * call) use that same C ioctl as their baseline, so their ratio is the share of one syscall round trip
 * that crossing into C costs at the least.
 */

/**
 * The device of the API rows, defined here only: the TypeScript side opens it, and the C baseline
 * (native/bench/bench_sim.c) gets it as bench_device.h, printed by tools/sim-config-c.ts. One 256 KiB
 * memory BAR that allows WC, and the simulator's ceiling of subregions (each create row leaves one:
 * the creates must stay below it).
 */
export const BENCH_DEVICE: SimConfig = {
  regions: [{ size: 256n << 10n, kind: 'memory', readable: true, writable: true, mmap: true, supportedAttrs: VfioRegionAttr.VFIO_REGION_ATTR_WC }],
  numIrqs: 1,
  maxSubregions: 4096,
};

function nativeBaseline(iterations: number, creates: number): Record<string, number> {
  const dir = mkdtempSync(join(tmpdir(), 'vfio-bench-'));
  try {
    const exe = join(dir, 'bench_sim');
    writeFileSync(join(dir, 'bench_device.h'), simConfigToC(BENCH_DEVICE, 'bench_device'));
    execFileSync('gcc', [
      '-O2', '-std=gnu11', '-I', dir, '-I', join(ROOT, 'native/include'), '-idirafter', join(ROOT, 'native/include/fallback'), '-I', join(ROOT, 'native/validators'), '-I', join(ROOT, 'native/src'),
      join(ROOT, 'native/bench/bench_sim.c'), join(ROOT, 'native/src/sim.c'), join(ROOT, 'native/src/sim_iommu.c'), join(ROOT, 'native/src/sim_irq.c'), join(ROOT, 'native/src/sim_e1000e.c'), join(ROOT, 'native/validators/vfio_subregion_validate.c'), '-o', exe,
    ], { stdio: ['ignore', 'inherit', 'inherit'] });
    return JSON.parse(execFileSync(exe, [String(iterations), String(creates)], { encoding: 'utf8' })) as Record<string, number>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function createMapUnmap(dev: ReturnType<typeof openDevice>): void {
  const sub = dev.createSubregion({ parent: 0, offset: 128n << 10n, size: 64n << 10n, attrs: VfioRegionAttr.VFIO_REGION_ATTR_WC });
  dev.map(sub).unmap();
}

export function runApiBench(iterations = 100_000, creates = 3_500): BenchRow[] {
  const baseline = nativeBaseline(iterations, creates);
  // region-info first, on a device of its own: the create row's warm-up below leaves the compiler
  // and the collector busy for a while.
  const info = openDevice({ simulator: BENCH_DEVICE });
  let regionInfo: number;
  try {
    regionInfo = time(iterations, () => info.region(0));
  } finally {
    info.close();
  }
  // The create row is short (creates are bounded by maxSubregions) and TurboFan compiles its path
  // (~25 functions, ~130 ms on this 2-vCPU box) on a background thread while it runs: warm the JIT
  // on a device of its own first, so that the row measures the calls, not the compiler. The
  // measured device then starts fresh, with the region counts C's run sees (the simulator's
  // per-create cost grows with them).
  const warm = openDevice({ simulator: BENCH_DEVICE });
  try {
    for (let i = 0; i < creates; i++) createMapUnmap(warm);
  } finally {
    warm.close();
  }
  const dev = openDevice({ simulator: BENCH_DEVICE });
  try {
    const create = time(creates, () => createMapUnmap(dev));
    return [
      { name: 'region-info', ns: regionInfo, baselineNs: baseline['region-info']! },
      { name: 'subregion-create-map-unmap', ns: create, baselineNs: baseline['subregion-create-map-unmap']! },
    ].map((r) => ({ ...r, ratio: r.ns / r.baselineNs }));
  } finally {
    dev.close();
  }
}

/** The MMIO probe guest (runtime/assembly/mmio-probe.ts), compiled -O3. */
export const PROBE = 'runtime/assembly/mmio-probe.ts';

/**
 * MMIO rows: the same loops in wasm (runtime/assembly/mmio-probe.ts) and in C (mmioBench of the
 * test/bench module, on the windows' addresses), on the same mapping in the same run: the simulated
 * NIC's TX push buffer (a WC subregion) and its register block, both mapped into the guest's linear
 * memory. `extra` adds rows measured elsewhere (the component path, examples/components).
 */
export async function runMmioBench(iterations = 5_000_000, hostIterations = 300_000, component = true): Promise<BenchRow[]> {
  const n = native();
  const dev = openDevice('sim');
  const host = new MmioHost();
  try {
    const { bar, registers, txPush, doorbell } = NIC_LAYOUT;
    const sub = dev.createSubregion({ parent: bar, offset: txPush.offset, size: txPush.size, attrs: VfioRegionAttr.VFIO_REGION_ATTR_WC });
    const ex = await instantiateGuest((await compileAs(PROBE)).binary, host);
    const f = (name: string) => ex[name] as (...a: number[]) => unknown;
    const pushAt = (f('window_reserve')(Number(txPush.size), n.pageSize) as number) >>> 0;
    const regsAt = (f('window_reserve')(Number(registers.size), n.pageSize) as number) >>> 0;
    const push = host.map(dev, sub, { at: pushAt });
    const regs = host.map(dev, bar, { at: regsAt, offset: registers.offset, length: Number(registers.size) });
    f('set_inline_fence')(MmioHost.inlineFence ? 1 : 0);
    const R = 5;
    const tn = testingNative();
    const c = (op: number, iters = iterations, off = 0) => median(R, () => tn.mmioBench(push.address, push.size, off, op, iters, regs.address, regs.size, doorbell));
    const w = (name: string, iters = iterations, ...a: number[]) => median(R, () => timeWasm(iters, (k) => f(name)(...a, k)));
    const rows: Omit<BenchRow, 'ratio'>[] = [];
    f('bind')(pushAt, push.size);
    rows.push({ name: 'mmio-write32 (window)', ns: w('loop_write32', iterations, 0), baselineNs: c(0) });
    rows.push({ name: 'mmio-read32 (window)', ns: w('loop_read32', iterations, 0), baselineNs: c(1) });
    rows.push({ name: 'mmio-burst64 (window)', ns: w('loop_burst', iterations, 0), baselineNs: c(2) });
    f('bind')(regsAt, regs.size);
    const bell = w('doorbell_loop', iterations, doorbell);
    rows.push({ name: 'mmio-doorbell+fence (window)', ns: bell, baselineNs: c(3) });
    rows.push({ name: '  same, vs C with the same lock', ns: bell, baselineNs: c(4) });
    f('set_inline_fence')(0);
    rows.push({ name: 'mmio-doorbell+host-wmb', ns: w('doorbell_loop', hostIterations, doorbell), baselineNs: c(3) });
    f('set_inline_fence')(MmioHost.inlineFence ? 1 : 0);
    f('bind')(pushAt, push.size);
    rows.push({ name: 'mmio-write32 (host call)', ns: w('loop_host_write32', hostIterations, 0), baselineNs: c(0) });
    rows.push({ name: 'mmio-read32 (host call)', ns: w('loop_host_read32', hostIterations, 0), baselineNs: c(1) });
    if (component) {
      // the same loops inside a jco-transpiled component, its windows mapped into its core memory
      const { runComponentBench } = await import('../examples/components/nic-tx.js');
      rows.push(...(await runComponentBench(new MmioHost(), dev, sub, iterations)));
    }
    return rows.map((r) => ({ ...r, ratio: r.ns / r.baselineNs }));
  } finally {
    host.unmapAll();
    dev.close();
  }
}

export { formatRows, type BenchRow };

const ARCH: Arch = process.arch === 'arm64' ? 'aarch64' : process.arch === 'ppc64' ? 'ppc64le' : process.arch === 'riscv64' ? 'riscv64' : process.arch === 's390x' ? 's390x' : 'x86_64';

/** What the ioctl rows need of koffi (a devDependency): a libc function bound by its C prototype, and errno. */
interface Koffi {
  load(path: string): { func(prototype: string): (...args: unknown[]) => number };
  errno(): number;
}

/**
 * The production addon's ioctl on a handle over a duplicate of `fd`: the ioctl's result, or -errno.
 * `call` is the raw entry point (handle, request and a typed array converted per call); `bound` is
 * what the device API calls: bindIoctl's function on the device's argument area, which holds argsz
 * 32 and index 0 like the raw call's buffer.
 */
export interface AddonIoctl {
  call(buf: Uint8Array): number;
  bound: () => number;
  close(): void;
}

export function addonIoctl(n: NativeAddon, fd: number, request: number): AddonIoctl {
  const h = n.adoptFd(fd);
  new DataView(n.deviceScratch(h)).setUint32(0, 32, true);
  return { call: (buf) => n.ioctl(h, request, buf), bound: n.bindIoctl(h, request), close: () => n.close(h) };
}

/**
 * Node-API floor and ioctl rows (see the header comment): VFIO_DEVICE_GET_REGION_INFO on /dev/null,
 * answered ENOTTY, through C (ioctlLoop), koffi and the production addon, each on the same 64-byte
 * argument (argsz 32, index 0). A path whose first call does not fail with ENOTTY is left out, with a
 * note on stderr, rather than timed doing something else.
 */
export function runIoctlBench(iterations = 100_000, floorIterations = 2_000_000): BenchRow[] {
  const R = 5;
  const tn = testingNative();
  const request = ioctlNumber('VFIO_DEVICE_GET_REGION_INFO', ARCH);
  const fd = openSync('/dev/null', 'r');
  const buf = new Uint8Array(64);
  new DataView(buf.buffer).setUint32(0, 32, true); // argsz; index 0 at offset 8
  const skip = (what: string, got: string) => process.stderr.write(`bench: ${what} row(s) left out: the first call gave ${got}, not ENOTTY\n`);
  let addon: AddonIoctl | undefined;
  try {
    const first = tn.ioctlLoop(fd, request, 1);
    if (first.errno !== Errno.ENOTTY) {
      skip('ioctl and floor', `errno ${first.errno} from C`);
      return [];
    }
    // every path that answers ENOTTY, timed in interleaved rounds so drift on a busy machine hits all alike
    const paths: Record<string, () => number> = {
      c: () => tn.ioctlLoop(fd, request, iterations).ns,
      empty: () => time(floorIterations, () => tn.floorEmpty()),
      intBytes: () => time(floorIterations, () => tn.floorIntBytes(fd, buf)),
    };
    try {
      addon = addonIoctl(native(), fd, request);
      const r = addon.call(buf);
      if (r === -Errno.ENOTTY && addon.bound() === -Errno.ENOTTY) {
        const { call, bound } = addon;
        paths.addon = () => time(iterations, () => call(buf));
        paths.bound = () => time(iterations, bound);
      } else skip('addon ioctl', `${r}`);
    } catch (e) {
      skip('addon ioctl', `${(e as Error).message}`);
    }
    let koffi: Koffi | undefined;
    try {
      koffi = createRequire(import.meta.url)('koffi') as Koffi;
    } catch (e) {
      process.stderr.write(`bench: koffi rows left out: koffi does not load (${(e as Error).message.split('\n')[0]})\n`);
    }
    if (koffi) {
      const ioctl = koffi.load('libc.so.6').func('int ioctl(int, unsigned long, void *)');
      const r = ioctl(fd, request, buf);
      if (r === -1 && koffi.errno() === Errno.ENOTTY) paths.koffi = () => time(iterations, () => ioctl(fd, request, buf));
      else skip('koffi ioctl', `${r}, errno ${koffi.errno()}`);
    }
    const samples: Record<string, number[]> = {};
    for (let round = 0; round < R; round++) for (const [k, f] of Object.entries(paths)) (samples[k] ??= []).push(f());
    const ns = (k: string): number | undefined => samples[k]?.sort((a, b) => a - b)[Math.floor(R / 2)];
    const c = ns('c')!;
    const addonNs = ns('addon');
    const boundNs = ns('bound');
    const koffiNs = ns('koffi');
    const rows: Omit<BenchRow, 'ratio'>[] = [
      { name: 'node-api floor: empty call', ns: ns('empty')!, baselineNs: c },
      { name: 'node-api floor: int + Uint8Array', ns: ns('intBytes')!, baselineNs: c },
    ];
    if (addonNs !== undefined) rows.push({ name: 'ioctl ENOTTY: addon vs C', ns: addonNs, baselineNs: c });
    if (koffiNs !== undefined) rows.push({ name: 'ioctl ENOTTY: koffi vs C', ns: koffiNs, baselineNs: c });
    if (addonNs !== undefined && koffiNs !== undefined) rows.push({ name: 'ioctl ENOTTY: addon vs koffi', ns: addonNs, baselineNs: koffiNs });
    if (boundNs !== undefined) rows.push({ name: 'ioctl ENOTTY: bound vs C', ns: boundNs, baselineNs: c });
    if (boundNs !== undefined && koffiNs !== undefined) rows.push({ name: 'ioctl ENOTTY: bound vs koffi', ns: boundNs, baselineNs: koffiNs });
    return rows.map((r) => ({ ...r, ratio: r.ns / r.baselineNs }));
  } finally {
    addon?.close();
    closeSync(fd);
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const json = process.argv.includes('--json');
  const rows = runApiBench();
  process.stdout.write(`${formatRows(rows)}(target: TypeScript within 2x of C per call; ${process.arch}, Node ${process.version})\n\n`);
  const mmio = await runMmioBench();
  process.stdout.write(formatRows(mmio).replace('TS ns/op', 'wasm ns/op'));
  process.stdout.write('(MMIO targets vs C on the same mapping: window write32 <= 1.5x, burst64 <= 1.2x, doorbell+fence <= 1.5x, component path the same;\n' +
    ' the fence in wasm is a locked add on a scratch word, C\'s is sfence; host-call rows are for reference)\n');
  rows.push(...mmio);
  const ioctl = runIoctlBench();
  process.stdout.write('\n' + formatRows(ioctl).replace('TS ns/op', 'JS ns/op'));
  process.stdout.write(`(VFIO_DEVICE_GET_REGION_INFO on /dev/null, ENOTTY: one syscall round trip; baseline: C ioctl on the same fd,\n` +
    ` koffi for "vs koffi"; addon: the raw ioctl(handle, request, Uint8Array); bound: bindIoctl's function on the device's\n` +
    ` argument area, what the device API calls; floor rows: a Node-API call without the syscall vs the C ioctl)\n`);
  rows.push(...ioctl);
  const nic = await runE1000eBench();
  process.stdout.write('\n' + formatRows(nic).replace('TS ns/op', 'JS ns/op'));
  process.stdout.write('(e1000e: the wasm driver (WASI, MSI-X via the event loop) vs its C twin (examples/e1000e/driver.c, read() on the eventfd),\n' +
    ' both on the simulator\'s e1000e model, process CPU time per frame, medians of 5 interleaved runs of 200000 frames;\n target <= 1.15x.' +
    ' IRQ-to-JS: simInterrupt to Interrupts.next() resolving vs C: sim_irq_signal to read() returning; reported)\n');
  rows.push(...nic);
  const gen = runCodegenBench();
  process.stdout.write('\n' + formatRows(gen).replace('TS ns/op', '  10x ns').replace('C ns/op', ' 1x ns'));
  process.stdout.write('(every target generated in memory, spec file to printed files: the real spec set, and a spec 10x its size\n' +
    ' made by replicating its items under new names; target: generation is linear, <= 12x)\n');
  rows.push(...gen);
  if (json) process.stdout.write(JSON.stringify(rows) + '\n');
}
