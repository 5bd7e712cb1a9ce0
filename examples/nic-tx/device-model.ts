import { parentPort, workerData } from 'node:worker_threads';
import { native } from '../../runtime/src/native.js';

/**
 * The device side of nic-tx, in a worker thread: it maps the simulated BAR's backing file itself (what
 * the device sees), waits for the doorbell, consumes every descriptor between its head and the
 * doorbell, checks content and order, and publishes its head in TX_HEAD. The register words are read
 * and written with Atomics (which no optimiser merges or hoists); descriptors with plain reads after it.
 */
export interface DeviceModelData {
  path: string;
  /** Offset of BAR0 in the backing file, and the register block / push buffer offsets in BAR0. */
  barOffset: number;
  registers: number;
  push: number;
  pushSize: number;
  doorbell: number;
  txHead: number;
  count: number;
  magic: number;
}

export interface DeviceModelResult { consumed: number; errors: number; firstError: string | null; doorbells: number }

/** The checks the device applies to descriptor `seq` (at `at` in `v`); null when it is right. */
export function checkDescriptor(v: DataView, at: number, seq: number, magic: number): string | null {
  const got = v.getUint32(at + 16, true);
  if (got !== seq) return `descriptor ${seq}: sequence ${got} (out of order or lost)`;
  const addr = 0x1_0000_0000n + (BigInt(seq) << 11n);
  if (v.getBigUint64(at, true) !== BigInt.asUintN(64, addr)) return `descriptor ${seq}: buffer address 0x${v.getBigUint64(at, true).toString(16)}`;
  const len = 60 + (seq & 0x3ff);
  if (v.getUint32(at + 8, true) !== len) return `descriptor ${seq}: length ${v.getUint32(at + 8, true)}`;
  let x = 0;
  for (let k = 0; k < 15; k++) x ^= v.getUint32(at + 4 * k, true);
  for (let k = 0; k < 10; k++) if (v.getUint32(at + 20 + 4 * k, true) !== ((Math.imul(seq, 0x9E3779B1) + k) >>> 0)) return `descriptor ${seq}: payload word ${k}`;
  if (((x ^ magic) >>> 0) !== v.getUint32(at + 60, true)) return `descriptor ${seq}: checksum`;
  return null;
}

function run(d: DeviceModelData): DeviceModelResult {
  const n = native();
  const fd = n.open(d.path);
  const ps = n.pageSize;
  const span = d.push + d.pushSize;
  const base = d.barOffset - (d.barOffset % ps);
  const m = n.mmap(fd, BigInt(base), span + (d.barOffset - base), n.PROT_READ | n.PROT_WRITE);
  if (typeof m === 'number' || m.buffer === null) throw new Error(`device model: mmap of ${d.path} failed (errno ${-m})`);
  try {
    const at0 = d.barOffset - base;
    const regs = new Int32Array(m.buffer, at0 + d.registers, 0x1000 / 4);
    const push = new DataView(m.buffer, at0 + d.push, d.pushSize);
    const slots = d.pushSize / 64;
    let consumed = 0, errors = 0, doorbells = 0, idle = 0, idleSince = Date.now();
    let firstError: string | null = null;
    parentPort?.postMessage({ ready: true });
    while (consumed < d.count) {
      const tail = Atomics.load(regs, d.doorbell / 4) >>> 0;
      if (tail === consumed) {
        if ((++idle & 0xfffff) === 0 && Date.now() - idleSince > 30_000) { firstError ??= `device model: no doorbell for 30 s after descriptor ${consumed}`; errors++; break; }
        continue;
      }
      doorbells++;
      idle = 0;
      idleSince = Date.now();
      for (; consumed !== tail; consumed++) {
        const err = checkDescriptor(push, (consumed % slots) * 64, consumed, d.magic);
        if (err !== null) { errors++; firstError ??= err; }
      }
      Atomics.store(regs, d.txHead / 4, consumed);
    }
    return { consumed, errors, firstError, doorbells };
  } finally {
    n.munmap(m.handle);
    n.close(fd);
  }
}

if (parentPort !== null && workerData !== undefined) parentPort.postMessage({ result: run(workerData as DeviceModelData) });
