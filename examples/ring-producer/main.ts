import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { openDevice, type Device } from '../../runtime/src/device.js';
import { MmioHost, instantiateGuest } from '../../runtime/src/mmio.js';
import { compileAs, ROOT } from '../../runtime/src/asc.js';
import { native } from '../../runtime/src/native.js';
import { NIC_LAYOUT } from '../../runtime/src/sim-presets.js';
import { VfioRegionAttr } from '../../runtime/src/generated/vfio-subregion.js';
import { deviceArg, integerArg, parseCommandLine, runMain } from '../../cli/args.js';
import { IVSHMEM_LAYOUT, windowSummary, type NicLayout, type WindowSummary } from '../nic-tx/main.js';

/**
 * ring-producer: an AssemblyScript producer writes variable-length records into a ring in a WC
 * window and publishes its tail in a register; the consumer here (the "device", reading BAR0 through
 * an ordinary mapping, as another process would) drains the ring, checks every record, and hands
 * back its head. Producer and consumer take turns on one thread. On a real device (`--device`:
 * ivshmem-plain, IVSHMEM_LAYOUT) the device on the other side consumes and checks.
 */

export const PRODUCER = 'examples/ring-producer/assembly/producer.ts';
/** The producer's wasm as prebuildRingProducer() writes it into a directory. */
export const PREBUILT_PRODUCER = 'ring-producer.wasm';

export async function prebuildRingProducer(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, PREBUILT_PRODUCER), (await compileAs(PRODUCER, { baseDir: ROOT })).binary);
}

export interface RingProducerOptions {
  /** The device (default: a simulator of its own); one with no simulator backing consumes on its own. */
  device?: Device;
  /** Where the registers and the ring are (default NIC_LAYOUT). */
  layout?: NicLayout;
  /** A directory prebuildRingProducer() filled. */
  prebuilt?: string;
  /** Called with the windows mapped so far each time one is mapped. */
  onMapped?: (windows: WindowSummary[]) => void;
}

export interface RingProducerResult {
  records: number;
  /** Payload bytes, counted by the in-process consumer (0 with a real device: it counts on its side). */
  bytes: number;
  errors: number;
  /** Slots the device reported consumed (its HEAD register), from the run's start. */
  consumedSlots: number;
  /** Slots produced (the last TAIL published). */
  producedSlots: number;
  windows: WindowSummary[];
  /** Why the ring is not write-combining, when it is not. */
  uncachedBecause: string | null;
}

export async function ringProducer(records = 200_000, out: (s: string) => void = (s) => process.stdout.write(s), opts: RingProducerOptions = {}): Promise<RingProducerResult> {
  const dev = opts.device ?? openDevice('sim');
  const host = new MmioHost();
  const n = native();
  let view: ReturnType<typeof n.mmap> | undefined;
  let file: ReturnType<typeof n.open> | undefined;
  try {
    const { bar, registers, txPush } = opts.layout ?? NIC_LAYOUT;
    const sub = dev.support().subregion ? dev.createSubregion({ parent: bar, offset: txPush.offset, size: txPush.size, attrs: VfioRegionAttr.VFIO_REGION_ATTR_WC }) : null;
    const binary = opts.prebuilt !== undefined ? readFileSync(join(opts.prebuilt, PREBUILT_PRODUCER)) : (await compileAs(PRODUCER, { baseDir: ROOT })).binary;
    const ex = await instantiateGuest(binary, host);
    const f = (name: string) => ex[name] as (...a: number[]) => number;
    const ps = n.pageSize;
    const regsAt = f('window_reserve')(Number(registers.size), ps) >>> 0;
    const ringAt = f('window_reserve')(Number(txPush.size), ps) >>> 0;
    const windows: WindowSummary[] = [];
    const regsW = host.map(dev, bar, { at: regsAt, offset: registers.offset, length: Number(registers.size) });
    windows.push(windowSummary('registers', regsW));
    opts.onMapped?.(windows);
    const ringW = sub !== null ? host.map(dev, sub, { at: ringAt }) : host.map(dev, bar, { at: ringAt, offset: txPush.offset, length: Number(txPush.size) });
    windows.push(windowSummary('ring', ringW));
    opts.onMapped?.(windows);
    f('set_inline_fence')(MmioHost.inlineFence ? 1 : 0);
    f('init')(regsAt, regsW.size, ringAt, ringW.size);
    const TAIL = (ex.TAIL_REG as { value: number }).value;
    const HEAD = (ex.HEAD_REG as { value: number }).value;
    const reg = (at: number): number => Buffer.from(dev.read(bar, Number(registers.offset) + at, 4)).readUInt32LE(0);
    const start = reg(HEAD);
    // The consumer is the device: it sees BAR0 through the simulator's backing file (registers and the
    // ring behind them). A second driver mapping of the whole BAR would be refused: its uncached pages
    // would overlap the WC ring (mmap rule one-memtype-per-page).
    const backing = dev.source === 'simulator' ? dev.simBacking(bar) : null;
    let head = 0, seq = 0, bytes = 0, errors = 0;
    const t0 = process.hrtime.bigint();
    if (backing !== null) {
      file = n.open(backing.path);
      view = n.mmap(file, backing.offset, Number(backing.size), n.PROT_READ | n.PROT_WRITE);
      if (typeof view === 'number' || view.buffer === null) throw new Error(`ring-producer: mmap of the BAR memory failed (errno ${-view})`);
      const regs = new Int32Array(view.buffer, Number(registers.offset), 64);
      const ring = new DataView(view.buffer, Number(txPush.offset), Number(txPush.size));
      const slots = Number(txPush.size) / 64;
      while (seq < records) {
        f('produce')(Math.min(4096, records - seq));
        const tail = Atomics.load(regs, TAIL / 4) >>> 0;
        while (head !== tail) {
          const at = (head % slots) * 64;
          const s = ring.getUint32(at, true);
          if (s === 0xffffffff) { head += slots - head % slots; continue; }
          const len = ring.getUint32(at + 4, true);
          if (s !== seq || len !== 1 + (seq * 37) % 248) errors++;
          for (let i = 0; i < len; i++) if (ring.getUint8(at + 8 + i) !== ((seq + i * 7) & 0xff)) { errors++; break; }
          head += Math.ceil((8 + len) / 64);
          bytes += len;
          seq++;
        }
        Atomics.store(regs, HEAD / 4, head);
      }
    } else {
      // a real device consumes on its own: produce while it makes room, then wait for it to catch up
      let since = Date.now();
      while (seq < records && Date.now() - since < 30_000) {
        const made = f('produce')(Math.min(4096, records - seq)) >>> 0;
        seq += made;
        if (made !== 0) since = Date.now(); else await sleep(1);
      }
      for (let last = reg(HEAD); reg(HEAD) !== reg(TAIL) && Date.now() - since < 30_000;) {
        await sleep(1);
        if (reg(HEAD) !== last) { last = reg(HEAD); since = Date.now(); }
      }
      if (seq < records) errors++;
    }
    const ns = Number(process.hrtime.bigint() - t0);
    const consumedSlots = (reg(HEAD) - start) >>> 0;
    const producedSlots = (reg(TAIL) - start) >>> 0;
    const uncachedBecause = sub === null ? `${dev.source} has no subregion ABI (VFIO_DEVICE_FEATURE_SUBREGION): stock vfio-pci maps a BAR uncached only` : null;
    const what = backing !== null
      ? `${errors === 0 ? 'every record intact and in order' : `${errors} bad record(s)`}`
      : `the device consumed ${consumedSlots} of ${producedSlots} slots (its HEAD); it checks the records on its side`;
    out(`ring-producer: ${seq} records${backing !== null ? ` (${bytes} payload bytes)` : ''} through a ${txPush.size / 1024n} KiB ${sub !== null ? 'WC' : 'UC'} ring in ${(ns / 1e6).toFixed(1)} ms, ${(ns / seq).toFixed(1)} ns/record; ${what}\n`);
    if (uncachedBecause !== null) out(`  the ring is uncached: ${uncachedBecause}\n`);
    return { records: seq, bytes, errors, consumedSlots, producedSlots, windows, uncachedBecause };
  } finally {
    if (view !== undefined && typeof view !== 'number') n.munmap(view.handle);
    if (file !== undefined) n.close(file);
    host.unmapAll();
    if (opts.device === undefined) dev.close();
  }
}

export const USAGE = 'ring-producer [RECORDS] [--device DEV]';

/** The example's command line: a record count (default 200000) and the device (default the simulator; a real one: ivshmem-plain, IVSHMEM_LAYOUT). */
export async function main(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, { device: { type: 'string' } }, 1);
  const records = positionals[0] !== undefined ? integerArg('RECORDS', positionals[0], 1, 1e9) : 200_000;
  const target = deviceArg(values.device ?? 'sim');
  const device = target === 'sim' ? undefined : openDevice(target);
  try {
    const r = await ringProducer(records, out, device !== undefined ? { device, layout: IVSHMEM_LAYOUT } : {});
    return r.errors === 0 && r.records === records && r.consumedSlots === r.producedSlots ? 0 : 1;
  } finally {
    device?.close();
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await runMain('ring-producer', () => main(process.argv.slice(2)));
