// The wasm examples on a real kernel's write-combining: run by test/kernel/init.sh inside the QEMU
// guest against the ivshmem device, whose other side is test/kernel/ivshmem-model.c on the host
// (over QEMU's backing file of BAR2). Each run (nic-tx as a core module, a WASI preview1 command
// and a jco component; ring-producer) is announced to the model in BAR2's control page; the
// example maps its TX push buffer (a WC subregion with the variant driver, an uncached range of
// BAR2 with stock vfio-pci, which has no subregions) and the register page (uncached) into the
// driver's linear memory; the model checks every descriptor on its side and reports back.
//
//   node test/kernel/wasm-guest.mjs build DIR          (on the host: the drivers' wasm, prebuilt)
//   node test/kernel/wasm-guest.mjs stock|variant IVSHMEM   (in the guest)
//
// TCG compiles asc and jco far too slowly for the guest, so run.sh prebuilds the same wasm the
// simulator runs. One KT PASS/FAIL/SKIP line per run, with the driver's time and the model's counts.
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { openDevice } from '../../dist/runtime/src/device.js';
import { IVSHMEM_LAYOUT, prebuildNicTx, runNicTx } from '../../dist/examples/nic-tx/main.js';
import { prebuildRingProducer, ringProducer } from '../../dist/examples/ring-producer/main.js';

const [mode, IVS] = process.argv.slice(2);
const PREBUILT = fileURLToPath(new URL('../../.cache/kernel-build/wasm/', import.meta.url));
/** Per run: ~150 trips around the ring; 0.3-0.6 s each under TCG on an idle 2-core machine, ~10 s on a loaded one (printed). */
const DESCRIPTORS = 300_000;
const RECORDS = 120_000;
const CTRL = 0x30000;
const { bar, txPush } = IVSHMEM_LAYOUT;

const out = (verdict, name, detail) => console.log(`KT ${verdict} wasm/${mode}/${name}${detail ? `: ${detail}` : ''}`);
let failed = 0;

/** The PAT memtype list's types over [s, e) of physical memory, distinct, comma-separated. */
function patTypes(s, e) {
  const text = readFileSync('/sys/kernel/debug/x86/pat_memtype_list', 'utf8');
  return [...new Set([...text.matchAll(/PAT: \[mem 0x([0-9a-f]+)-0x([0-9a-f]+)\] ([a-z-]+)/g)]
    .filter((m) => BigInt(`0x${m[1]}`) < e && BigInt(`0x${m[2]}`) > s).map((m) => m[3]))].join(',');
}

/** Waits until the control word at `at` holds `want`; false after `ms` without it. */
async function until(ctrl, at, want, ms) {
  for (const t = Date.now(); Date.now() - t < ms;) {
    if (ctrl.read32(at) === want) return true;
    await sleep(2);
  }
  return false;
}

/** A window's range of physical memory (a subregion's offsets are the subregion's own). */
const phys = (w) => BigInt(readFileSync(`/sys/bus/pci/devices/${IVS}/resource`, 'utf8').split('\n')[bar].split(' ')[0]) + (w.region === bar ? w.offset : txPush.offset + w.offset);
/** What each window should be: the registers uncached; the push buffer WC with the variant driver, uncached with stock vfio-pci. */
function windowsAsExpected(windows) {
  const wc = mode === 'variant';
  const got = windows.map((w) => ({ name: w.name, attrs: w.attrs ? 'WC' : 'UC', pat: patTypes(phys(w), phys(w) + BigInt(w.size)) }));
  // an uncached mapping may have no PAT entry of its own (the variant driver's BAR2; node-guest.mjs accepts the same)
  const want = [{ attrs: 'UC', pat: /^(uncached-minus|uncached|)$/ }, wc ? { attrs: 'WC', pat: /^write-combining$/ } : { attrs: 'UC', pat: /^uncached-minus$/ }];
  const text = got.map((w) => `${w.name} ${w.attrs} (PAT ${w.pat || 'no entry'})`).join(', ');
  const ok = got.length === 2 && got.every((w, i) => w.attrs === want[i].attrs && want[i].pat.test(w.pat));
  return { text, problem: ok ? null : `the windows are ${text}, want ${want.map((w) => `${w.attrs} (PAT ${w.pat.source})`).join(', ')}` };
}

let session = 0;
/** One run: announce it to the model, run it, and print what the driver did and what the model saw. */
async function run(name, kind, count, body) {
  const dev = openDevice(IVS);
  const ctrl = dev.map(bar, { offset: CTRL, length: 0x1000 });
  try {
    // the protocol of test/kernel/ivshmem-model.c: the announcement counts once COMMIT matches SESSION
    session++;
    ctrl.write32(0xc, 0);
    ctrl.write32(4, kind);
    ctrl.write32(8, count);
    ctrl.bytes.fill(0, 0x40, 0x80);
    ctrl.bytes.set(new TextEncoder().encode(`${mode}/${name}`), 0x40);
    ctrl.write32(0, session);
    ctrl.write32(0xc, (session ^ 0x6d736177) >>> 0);
    if (!(await until(ctrl, 0x80, session, 10_000))) {
      failed++;
      return out('FAIL', name, `no device model answered in BAR${bar}'s control page at +0x${CTRL.toString(16)} (test/kernel/ivshmem-model.c runs on the host)`);
    }
    let windows = { text: '', problem: 'the example mapped no windows' };
    const t = Date.now();
    const r = await body(dev, (w) => { windows = windowsAsExpected(w); });
    const secs = ((Date.now() - t) / 1000).toFixed(2);
    const finished = await until(ctrl, 0x84, session, 30_000);
    const [checked, bytes, outOfOrder, corrupt] = [0x88, 0x8c, 0x90, 0x94].map((o) => ctrl.read32(o));
    const why = !finished ? 'the model did not finish the run' : r.problem ?? windows.problem
      ?? (checked !== count || outOfOrder !== 0 || corrupt !== 0 ? 'the model found errors' : null);
    if (why !== null) failed++;
    out(why === null ? 'PASS' : 'FAIL', name, `${why === null ? '' : `${why}: `}${r.what} in ${secs} s; the host model checked ${checked}, ${bytes} bytes, ${outOfOrder} out-of-order, ${corrupt} corrupt; ${windows.text}`);
  } catch (e) {
    failed++;
    out('FAIL', name, `threw ${e?.stack?.split('\n').slice(0, 3).join(' | ') ?? e}`);
  } finally {
    ctrl.unmap();
    dev.close();
  }
}

async function nicTx(nicMode) {
  await run(`nic-tx-${nicMode}`, 1, DESCRIPTORS, async (device, onMapped) => {
    const file = '/tmp/wasm-guest-wasi.txt';
    const stdout = openSync(file, 'w');
    try {
      const r = await runNicTx({ device, layout: IVSHMEM_LAYOUT, prebuilt: PREBUILT, mode: nicMode, descriptors: DESCRIPTORS, stdout, onMapped });
      const said = readFileSync(file, 'utf8');
      const problem = r.consumed !== DESCRIPTORS ? `the device's TX_HEAD says ${r.consumed} consumed`
        : nicMode === 'wasi' && said !== `nic-tx (wasi): pushed ${DESCRIPTORS} descriptors, ${DESCRIPTORS * 64} bytes\n` ? `the WASI command printed ${JSON.stringify(said)}` : null;
      return { problem, what: `the driver pushed ${r.descriptors} descriptors (${r.bytes} bytes, ${Math.ceil(r.descriptors / r.batch)} doorbells), the device consumed ${r.consumed}` };
    } finally {
      closeSync(stdout);
      rmSync(file, { force: true });
    }
  });
}

if (mode === 'build') {
  await prebuildNicTx(IVS);
  await prebuildRingProducer(IVS);
} else {
  if (mode === 'stock')
    out('SKIP', 'write-combining', 'stock vfio-pci has no subregion ioctl (VFIO_DEVICE_FEATURE_SUBREGION is ENOTTY) and maps a BAR only uncached: the runs below push through an uncached range of BAR2; the variant driver runs them on a WC subregion');
  for (const m of ['core', 'wasi', 'component']) await nicTx(m);
  await run('ring-producer', 2, RECORDS, async (device, onMapped) => {
    const r = await ringProducer(RECORDS, () => {}, { device, layout: IVSHMEM_LAYOUT, prebuilt: PREBUILT, onMapped });
    const problem = r.records !== RECORDS || r.errors !== 0 ? `produced ${r.records} records` : r.consumedSlots !== r.producedSlots ? `the device's HEAD ${r.consumedSlots} short of TAIL ${r.producedSlots}` : null;
    return { problem, what: `the producer wrote ${r.records} records in ${r.producedSlots} slots, the device consumed ${r.consumedSlots}` };
  });
  process.exitCode = failed === 0 ? 0 : 1;
}
