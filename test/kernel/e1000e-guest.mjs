// The e1000e example's wasm driver on QEMU's e1000e: run by test/kernel/init.sh inside the QEMU guest
// (this machine's node and checkout over virtio-9p), once per binding of the device.
//
//   node --expose-gc test/kernel/e1000e-guest.mjs stock|variant BDF FRAMES
//
// The driver (dist/examples/e1000e/driver.wasm, as npm run build compiled it on the host: asc under
// TCG takes minutes) runs as the example's host runs it (examples/e1000e/main.ts runE1000e) on the device
// opened by its PCI address (group + type1 container behind the guest's intel-iommu): its TX ring and
// frame buffers are DMA-mapped wasm memory, its completions MSI-X vector 0's eventfd. QEMU dumps what
// the NIC puts on its wire to a pcap; run.sh checks those frames (test/kernel/frames-check.mjs).
// Here: the MSI-X messages against the guest kernel's count of them, type1's DMA accounting and the
// process's locked memory while mapped and after, eventfds, fds and the addon's live counters after
// close; then a reset with live mappings and IRQ ranges beyond the device's. One KT line per check.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep, setImmediate as tick } from 'node:timers/promises';
import { openDevice } from '../../dist/runtime/src/device.js';
import { native } from '../../dist/runtime/src/native.js';
import * as abi from '../../dist/runtime/src/generated/vfio-subregion.js';
import { runE1000e } from '../../dist/examples/e1000e/main.js';
import { fds, NONE_LIVE, reporter, same, show, vmCounters } from './kt.mjs';

const [binding, BDF, FRAMES] = process.argv.slice(2);
const frames = Number(FRAMES);
const MSIX = abi.VfioPciIrqIndex.VFIO_PCI_MSIX_IRQ_INDEX;
/** What the driver maps for DMA (its file: a 1024-descriptor ring of 16 bytes, a 2 KiB buffer per descriptor). */
const DRIVER_DMA_KB = (1024 * 16 + 1024 * 2048) / 1024;
const TDBAL = 0x3800;

const { out, fail, check, failed } = reporter(`e1000e/${binding}`);

const eventfds = () => fds().filter((f) => f.endsWith('[eventfd]')).length;
/** The guest kernel's count of MSI-X messages of vfio's vector `v` of this device (/proc/interrupts: per CPU). */
function kernelMsix(v) {
  const line = readFileSync('/proc/interrupts', 'utf8').split('\n').find((l) => l.includes(`vfio-msix[${v}](${BDF})`));
  if (line === undefined) return null;
  return line.trim().split(/\s+/).slice(1).filter((w) => /^\d+$/.test(w)).reduce((a, w) => a + Number(w), 0);
}
/** What `fn` threw, as a caller sees it; a string when it did not throw. */
function thrown(fn) {
  try {
    fn();
  } catch (e) {
    return { name: e.name, code: e.code, errno: e.errno, message: e.message };
  }
  return 'did not throw';
}
/** Collects what the run dropped (a device, a DMA buffer, the WASI instance) until fds and counters are back or 20 tries. */
async function collected(fds0) {
  for (let i = 0; i < 20 && show({ fds: fds(), stats: native().stats() }) !== show({ fds: fds0, stats: NONE_LIVE }); i++) {
    globalThis.gc();
    await tick();
  }
}

out('INFO', 'start', `${frames} frames`);
const fds0 = fds();
const lock0 = vmCounters();
const eventfds0 = eventfds();	// libuv's own

/** The driver: frames out, completions by MSI-X. */
async function driver() {
  const dev = openDevice(BDF);
  let during = null;
  let r = null;
  const avail0 = dev.iommu().info().dmaAvailable;
  try {
    const t = process.hrtime.bigint();
    r = await runE1000e({
      device: dev, frames, stallMs: 30_000,
      async onComplete() {
        await sleep(100);	// an eventfd signalled after the last completion is read by now
        during = { msix: kernelMsix(0), locked: vmCounters(), eventfds: eventfds(), mappings: dev.iommu().mappings().length, avail: dev.iommu().info().dmaAvailable };
      },
    });
    out('INFO', 'run', `${r.frames} frames in ${(Number(process.hrtime.bigint() - t) / 1e6).toFixed(0)} ms (driver: ${(r.ns / 1e6).toFixed(1)} ms, ${r.interrupts} MSI-X interrupts, ${r.tailWrites} tail writes)`);
  } catch (e) {
    fail('run', e.message);
  }
  if (r !== null && during !== null) {
    await check('frames-completed', () => same({ frames: r.frames, model: r.model }, { frames, model: null }));
    await check('msix-fired', () => (r.interrupts >= 1 && r.interrupts <= r.tailWrites ? undefined
      : `${r.interrupts} interrupts for ${r.tailWrites} tail writes: each tail write ends in one RS write-back, each write-back raises at most one message`));
    await check('msix-count-is-the-kernels', () => same({ delivered: r.interrupts }, { delivered: during.msix }));
    await check('dma-locked-while-mapped', () => (during.locked.VmLck - lock0.VmLck >= DRIVER_DMA_KB && during.mappings === 2 ? undefined
      : `VmLck ${lock0.VmLck} -> ${during.locked.VmLck} kB (want at least +${DRIVER_DMA_KB}), ${during.mappings} mappings (want the ring and the buffers: 2)`));
    await check('type1-dma-entries-while-mapped', () => same(during.avail, avail0 === null ? null : avail0 - 2));
    await check('one-eventfd-while-enabled', () => same(during.eventfds, eventfds0 + 1));
    await check('type1-dma-entries-back', () => same(dev.iommu().info().dmaAvailable, avail0));
  }
  dev.close();
}

/** A reset while DMA mappings are live; IRQ ranges beyond the device's. */
async function badInput() {
  const dev = openDevice(BDF);
  try {
    const resets = (dev.info().flags & abi.VfioDeviceFlags.VFIO_DEVICE_FLAGS_RESET) !== 0;
    const iommu = dev.iommu();
    const buf = iommu.allocBuffer(64 * 1024);
    const mem = new WebAssembly.Memory({ initial: 4 });
    const maps = [iommu.map(buf), iommu.map(mem, { offset: 65536, length: 65536 })];
    const word = (off) => Buffer.from(dev.read(0, off, 4)).readUInt32LE(0);
    dev.write(0, TDBAL, new Uint8Array(Buffer.from([0x00, 0x50, 0x34, 0x12])));
    const before = word(TDBAL);
    const t = thrown(() => dev.reset());
    await check('reset-with-live-mappings', () => (resets
      ? same(t, 'did not throw')
      : same(t === 'did not throw' ? t : { code: t.code, says: /cannot be reset/.test(t.message) }, { code: 'EINVAL', says: true })));
    out('INFO', 'reset', `VFIO_DEVICE_FLAGS_RESET ${resets ? 'set' : 'clear'}; TDBAL 0x${before.toString(16)} before, 0x${word(TDBAL).toString(16)} after`);
    await check('mappings-survive-reset', () => same({ live: iommu.mappings().length, status: (word(8) & 2) !== 0 }, { live: 2, status: true }));
    for (const m of maps) m.unmap();
    await check('unmapped-after-reset', () => same({ live: iommu.mappings().length, locked: vmCounters() }, { live: 0, locked: lock0 }));

    const n = dev.irqInfo(MSIX).count;
    const beyond = thrown(() => dev.interrupts(MSIX, { start: 0, count: n + 1 }));
    await check('irq-count-beyond-the-device', () => same(typeof beyond === 'string' ? beyond : { code: beyond.code, errno: beyond.errno, says: beyond.message.includes(`has ${n} vector(s)`) },
      { code: 'EINVAL', errno: 22, says: true }));
    const past = dev.info().numIrqs;
    const index = thrown(() => dev.interrupts(past));
    await check('irq-index-beyond-the-device', () => same(typeof index === 'string' ? index : { name: index.name, code: index.code, errno: index.errno, says: index.message.includes(`no IRQ index ${past}`) },
      { name: 'VfioError', code: 'EINVAL', errno: 22, says: true }));
    await check('no-eventfd-left-by-refusals', () => same(eventfds(), eventfds0));
  } finally {
    dev.close();
  }
}

await driver();
await collected(fds0);
await check('locked-memory-back-after-close', () => same(vmCounters(), lock0));
await check('eventfds-closed', () => same(eventfds(), eventfds0));
await check('fds-and-counters-back-to-zero', () => same({ fds: fds(), stats: native().stats() }, { fds: fds0, stats: NONE_LIVE }));
await badInput();
await collected(fds0);
await check('bad-input-fds-and-counters-back-to-zero', () => same({ fds: fds(), stats: native().stats(), locked: vmCounters() }, { fds: fds0, stats: NONE_LIVE, locked: lock0 }));
process.exit(failed() === 0 ? 0 : 1);
