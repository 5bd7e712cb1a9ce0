import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDevice } from '../../runtime/src/device.js';
import { MmioHost, instantiateGuest } from '../../runtime/src/mmio.js';
import { compileAs, ROOT } from '../../runtime/src/asc.js';
import { native } from '../../runtime/src/native.js';
import { NIC_LAYOUT } from '../../runtime/src/sim-presets.js';
import { VfioRegionAttr } from '../../runtime/src/generated/vfio-subregion.js';
import { integerArg, parseCommandLine, runMain } from '../../cli/args.js';

/**
 * ring-producer: an AssemblyScript producer writes variable-length records into a ring in a WC
 * window and publishes its tail in a register; the consumer here (the "device", reading BAR0 through
 * an ordinary mapping, as another process would) drains the ring, checks every record, and hands
 * back its head. Producer and consumer take turns on one thread.
 */
export async function ringProducer(records = 200_000, out: (s: string) => void = (s) => process.stdout.write(s)): Promise<{ records: number; bytes: number; errors: number }> {
  const dev = openDevice('sim');
  const host = new MmioHost();
  try {
    const { bar, registers, txPush } = NIC_LAYOUT;
    const sub = dev.createSubregion({ parent: bar, offset: txPush.offset, size: txPush.size, attrs: VfioRegionAttr.VFIO_REGION_ATTR_WC });
    const ex = await instantiateGuest((await compileAs('examples/ring-producer/assembly/producer.ts', { baseDir: ROOT })).binary, host);
    const f = (name: string) => ex[name] as (...a: number[]) => number;
    const ps = native().pageSize;
    const regsAt = f('window_reserve')(Number(registers.size), ps) >>> 0;
    const ringAt = f('window_reserve')(Number(txPush.size), ps) >>> 0;
    const regsW = host.map(dev, bar, { at: regsAt, offset: registers.offset, length: Number(registers.size) });
    const ringW = host.map(dev, sub, { at: ringAt });
    f('set_inline_fence')(MmioHost.inlineFence ? 1 : 0);
    f('init')(regsAt, regsW.size, ringAt, ringW.size);
    const TAIL = (ex.TAIL_REG as { value: number }).value;
    const HEAD = (ex.HEAD_REG as { value: number }).value;
    // The consumer is the device: it sees BAR0 through the simulator's backing file (registers and the
    // ring behind them). A second driver mapping of the whole BAR would be refused: its uncached pages
    // would overlap the WC ring (mmap rule one-memtype-per-page).
    const backing = dev.simBacking(bar)!;
    const n = native();
    const file = n.open(backing.path);
    const view = n.mmap(file, backing.offset, Number(backing.size), n.PROT_READ | n.PROT_WRITE);
    if (typeof view === 'number' || view.buffer === null) throw new Error(`ring-producer: mmap of the BAR memory failed (errno ${-view})`);
    const regs = new Int32Array(view.buffer, Number(registers.offset), 64);
    const ring = new DataView(view.buffer, Number(txPush.offset), Number(txPush.size));
    const slots = Number(txPush.size) / 64;
    let head = 0, seq = 0, bytes = 0, errors = 0;
    const t0 = process.hrtime.bigint();
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
    const ns = Number(process.hrtime.bigint() - t0);
    out(`ring-producer: ${seq} records (${bytes} payload bytes) through a ${txPush.size / 1024n} KiB WC ring in ${(ns / 1e6).toFixed(1)} ms, ${(ns / seq).toFixed(1)} ns/record; ${errors === 0 ? 'every record intact and in order' : `${errors} bad record(s)`}\n`);
    n.munmap(view.handle);
    n.close(file);
    return { records: seq, bytes, errors };
  } finally {
    host.unmapAll();
    dev.close();
  }
}

export const USAGE = 'ring-producer [RECORDS]';

/** The example's command line: a record count (default 200000). */
export async function main(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const { positionals } = parseCommandLine(argv, {}, 1);
  const records = positionals[0] !== undefined ? integerArg('RECORDS', positionals[0], 1, 1e9) : 200_000;
  return (await ringProducer(records, out)).errors === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await runMain('ring-producer', () => main(process.argv.slice(2)));
