import { openSync, readSync, closeSync } from 'node:fs';
import { openDevice } from '../runtime/src/device.js';
import { VfioRegionAttr } from '../runtime/src/generated/vfio-subregion.js';
import { attrWords, formatInfo, gatherInfo, size } from '../runtime/src/info.js';
import { NIC_LAYOUT } from '../runtime/src/sim-presets.js';
import { formatNicTx, runNicTx } from '../examples/nic-tx/main.js';
import { formatE1000e, runE1000e } from '../examples/e1000e/main.js';

/** Reads what the device model sees: the BAR's shared-memory backing file. */
function deviceView(path: string, offset: bigint, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, Number(offset));
    return buf;
  } finally {
    closeSync(fd);
  }
}

/**
 * `npm start`: the mapping demo below, then the nic-tx example (an AssemblyScript driver pushing
 * descriptors through a WC window in its linear memory) with its summary, then the e1000e example (a
 * WASI driver for the simulator's 82574 model: DMA ring, MSI-X completions; it prints its own line).
 */
export async function runStart(out: (s: string) => void = (s) => process.stdout.write(s), descriptors = 1_000_000): Promise<void> {
  runDemo(out);
  out('\n');
  const r = await runNicTx({ descriptors });
  out(formatNicTx(r));
  if (r.device?.errors !== 0 || r.consumed !== r.descriptors) process.exitCode = 1;
  out('\n');
  const e = await runE1000e({ frames: 100_000 });
  out(formatE1000e(e));
  if (e.mismatches !== 0 || e.model?.frames !== e.frames) process.exitCode = 1;
}

/**
 * On the simulated NIC, make the TX push buffer of BAR0 a write-combined subregion,
 * map it and the uncached register block at once, write through both, and show what each got.
 */
export function runDemo(out: (s: string) => void = (s) => process.stdout.write(s)): void {
  const dev = openDevice('sim');
  try {
    const { bar, registers, txPush, doorbell } = NIC_LAYOUT;
    const support = dev.support();
    if (!support.subregion) throw new Error('the device does not support VFIO_DEVICE_FEATURE_SUBREGION');
    const sub = dev.createSubregion({ parent: bar, offset: txPush.offset, size: txPush.size, attrs: VfioRegionAttr.VFIO_REGION_ATTR_WC });
    out(`created region ${sub.index}: ${size(sub.size)} of BAR${bar} at +0x${txPush.offset.toString(16)}, attributes ${attrWords(sub.attrs)}\n`);

    const regs = dev.map(bar, { offset: registers.offset, length: Number(registers.size) });
    const push = dev.map(sub.index);
    const descriptors = 8;
    for (let i = 0; i < descriptors; i++) {
      push.write64(i * 16, 0x1000_0000n + BigInt(i) * 0x800n);
      push.write32(i * 16 + 8, 1514);
      push.write32(i * 16 + 12, (0x8000_0000 | i) >>> 0);
    }
    regs.write32(doorbell, descriptors);

    const backing = dev.simBacking(bar)!;
    const seen = deviceView(backing.path, backing.offset + txPush.offset, descriptors * 16);
    const bell = deviceView(backing.path, backing.offset + registers.offset + BigInt(doorbell), 4).readUInt32LE(0);
    const ok = seen.readBigUInt64LE(0) === 0x1000_0000n && seen.readUInt32LE((descriptors - 1) * 16 + 12) === ((0x8000_0000 | (descriptors - 1)) >>> 0) && bell === descriptors;
    out(`wrote ${descriptors} descriptors through the WC mapping and rang the doorbell through the UC mapping: the device model ${ok ? 'sees both' : 'DOES NOT see them'}\n\n`);

    out(formatInfo(gatherInfo(dev)));
    out(`\nmapping of BAR${bar} registers: ${attrWords(regs.attrs)}; mapping of region ${sub.index} (TX push buffer): ${attrWords(push.attrs)}\n`);
    if (!ok) process.exitCode = 1;
  } finally {
    dev.close();
  }
}
