// Bench rows on a real kernel (`npm run test:kernel -- --bench`): this package's paths against C
// loops making the same system calls on the same fds, in the same process, inside the QEMU guest.
//
//   node test/kernel/bench-guest.mjs build DIR              on this machine, before the boot: the
//       wasm the guest runs (the MMIO probe and nic-tx's component), since the guest's root is
//       read-only and compiling under TCG would take minutes
//   node test/kernel/bench-guest.mjs run IVSHMEM E1000E DIR  in the guest (test/kernel/init.sh),
//       both devices bound to vfio-pci-subregion
//
// Prints `KT INFO bench: ...` (the table, the targets, what each row compares) and one
// `KTB {name, ns, baselineNs, ratio}` line per row, which run.sh gathers into the last-line JSON
// array; `KT PASS bench/...` for what the rows rely on (a WC mapping, the same answers on both
// sides). TCG emulates the CPU: absolute times mean little, ratios are the point. Every pair of
// paths is timed in interleaved rounds (drift hits both alike) and the median round is kept.
//
// BAR2 of ivshmem from 0xe0000 is this script's (node-guest.mjs and the C runner write below it,
// and run.sh reads what they wrote back from the backing file).
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const [mode, ...args] = process.argv.slice(2);
const dist = (p) => new URL(`../../dist/${p}`, import.meta.url).href;

if (mode === 'build') {
  const dir = args[0];
  const { compileAs, ROOT } = await import(dist('runtime/src/asc.js'));
  const { buildComponent } = await import(dist('runtime/src/component.js'));
  const { ENTRY, EXPORTS } = await import(dist('examples/components/nic-tx.js'));
  const { PROBE } = await import(dist('tools/bench.js'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'mmio-probe.wasm'), (await compileAs(PROBE, { baseDir: ROOT })).binary);
  await buildComponent({ name: 'nictx', entry: ENTRY, baseDir: ROOT, exports: EXPORTS, outDir: join(dir, 'nictx') });
  process.exit(0);
}

const { openDevice } = await import(dist('runtime/src/device.js'));
const { native } = await import(dist('runtime/src/native.js'));
const { MmioHost, instantiateGuest } = await import(dist('runtime/src/mmio.js'));
const { instantiateComponent } = await import(dist('runtime/src/component.js'));
const abi = await import(dist('runtime/src/generated/vfio-subregion.js'));
const { testingNative } = await import(dist('tools/testing-native.js'));
const { formatRows, time, timeWasm } = await import(dist('tools/bench-rows.js'));

const [IVS, E1K, DIR] = args;
const WC = abi.VfioRegionAttr.VFIO_REGION_ATTR_WC;
const R = 9; // rounds: the host running QEMU is shared, so a round can be slowed by what else runs there
const n = native();
const tn = testingNative();
const rows = [];
const notes = [];
let failed = 0;

const say = (line) => console.log(`KT INFO bench: ${line}`);
function check(name, why) {
  if (typeof why === 'string') { failed++; console.log(`KT FAIL bench/${name}: ${why}`); } else console.log(`KT PASS bench/${name}`);
}
const row = (name, ns, baselineNs) => rows.push({ name, ns, baselineNs, ratio: ns / baselineNs });

/**
 * Under TCG, V8's optimizing compilers (JS and wasm, on background threads that share the one
 * emulating host thread) take seconds to finish: a JS or wasm path runs for this long before it is
 * timed, so the rows measure optimized code, as `npm run bench` does natively.
 */
const WARM_MS = 3000;

/**
 * R interleaved rounds of every path (each returns ns per op); the median of each. The paths named
 * in `warm` (JS and wasm; C needs none) run for WARM_MS first.
 */
function rounds(paths, warm = []) {
  for (const k of warm) for (const t0 = Date.now(); Date.now() - t0 < WARM_MS;) paths[k](0);
  const samples = Object.fromEntries(Object.keys(paths).map((k) => [k, []]));
  for (let r = 0; r < R; r++) for (const [k, f] of Object.entries(paths)) samples[k].push(f(r));
  return Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, xs.sort((a, b) => a - b)[Math.floor(R / 2)]]));
}

/** The fd this process has open on `link` (what /proc/self/fd shows): the file the addon opened. */
function fdOf(link) {
  const hits = readdirSync('/proc/self/fd').filter((fd) => { try { return readlinkSync(`/proc/self/fd/${fd}`) === link; } catch { return false; } });
  if (hits.length === 0) throw new Error(`no fd on ${link} in /proc/self/fd`);
  return Number(hits[0]);
}

/** A C loop's result, or an Error naming the errno: a baseline that failed (or, `enotty`, did not fail with ENOTTY) must not be timed. */
function cOk(what, r, enotty) {
  if (r.errno !== (enotty ? abi.Errno.ENOTTY : 0)) throw new Error(`${what}: the C loop gave errno ${r.errno}`);
  return r.ns;
}

/**
 * GET_REGION_INFO: Device.region() vs the C loop on the device fd, and vs what a JS user without this
 * package writes through koffi (the request number hard-coded, the struct by offsets, the chain
 * walked by hand).
 */
function regionInfo(dev, fd, sub) {
  const koffi = createRequire(import.meta.url)('koffi');
  const ioctl = koffi.load('libc.so.6').func('int ioctl(int, unsigned long, void *)');
  const GET_REGION_INFO = 0x3b6c; // _IO(VFIO_TYPE, VFIO_BASE + 8)
  const buf = Buffer.alloc(256);
  const byKoffi = (index) => {
    buf.writeUInt32LE(256, 0);
    buf.writeUInt32LE(0, 4);
    buf.writeUInt32LE(index, 8);
    buf.writeUInt32LE(0, 12);
    if (ioctl(fd, GET_REGION_INFO, buf) < 0) throw new Error(`koffi GET_REGION_INFO(${index}): errno ${koffi.errno()}`);
    const flags = buf.readUInt32LE(4);
    const info = { flags, size: buf.readBigUInt64LE(16), offset: buf.readBigUInt64LE(24), caps: 0, subregion: null, attrs: 0 };
    // VFIO_REGION_INFO_FLAG_CAPS; the proposal's capabilities 6 (SUBREGION) and 7 (ATTRS), by offset
    if (flags & 8) {
      for (let at = buf.readUInt32LE(12); at !== 0; at = buf.readUInt32LE(at + 4)) {
        const id = buf.readUInt16LE(at);
        if (id === 6) info.subregion = { parent: buf.readUInt32LE(at + 8), offset: buf.readBigUInt64LE(at + 16) };
        else if (id === 7) info.attrs = buf.readUInt32LE(at + 8);
        info.caps++;
      }
    }
    return info;
  };
  const N = 20_000;
  for (const [index, label] of [[2, 'BAR2'], [sub.index, 'WC subregion']]) {
    const ts = dev.region(index);
    const k = byKoffi(index);
    const c = tn.regionInfoLoop(fd, index, 1);
    const seen = (r) => JSON.stringify({ flags: r.flags, size: `${r.size}`, offset: `${r.offset}`, subregion: r.subregion && `${r.subregion.parent}+${r.subregion.offset}`, attrs: r.attrs });
    check(`region-info-${index}-same-answer`, seen(ts) === seen(k) && ts.caps.length === k.caps && c.flags === ts.flags && c.errno === 0
      ? undefined : `TS ${seen(ts)} (${ts.caps.length} caps), koffi ${seen(k)} (${k.caps} caps), C flags ${c.flags} errno ${c.errno}`);
    const t = rounds({
      c: () => cOk('regionInfoLoop', tn.regionInfoLoop(fd, index, N)),
      ts: () => time(N, () => dev.region(index)),
      koffi: () => time(N, () => byKoffi(index)),
    }, ['ts', 'koffi']);
    const what = `region-info ${label} (${ts.caps.length} caps)`;
    row(`${what}: TS vs C`, t.ts, t.c);
    row(`${what}: koffi vs C`, t.koffi, t.c);
    row(`${what}: TS vs koffi`, t.ts, t.koffi);
    if (index === 2) {
      const f = rounds({ c: () => cOk('regionInfoLoop', tn.regionInfoLoop(fd, index, N)), empty: () => time(10 * N, () => tn.floorEmpty()) }, ['empty']);
      row('node-api floor: empty call vs C region-info', f.empty, f.c);
      addonFloor(N);
    }
  }
  notes.push('region-info: TS = Device.region(i) (GET_REGION_INFO argsz 256, chain decoded); C = the same ioctl and the generated C walker;',
    '  koffi = ioctl(fd, 0x3b6c, Buffer), the fields and the subregion and attrs capabilities read by offset. Targets: TS <= 1.5x C, TS <= 1x koffi.',
    '  addon floor: the bound ioctl region() calls, on /dev/null (ENOTTY), with the argsz it copies each way, vs C on that fd.');
}

/**
 * What the addon's part of region() costs: the bound GET_REGION_INFO the API calls, on /dev/null
 * (ENOTTY: no work in the kernel) with argsz 256 (region()'s: the addon copies that much to its
 * private copy and back) and 32, vs C's ioctl on the same fd.
 */
function addonFloor(N) {
  const fd = openSync('/dev/null', 'r');
  const h = n.adoptFd(fd);
  try {
    const args = new DataView(n.deviceScratch(h));
    const bound = n.bindIoctl(h, abi.ioctlNumber('VFIO_DEVICE_GET_REGION_INFO', 'x86_64'));
    const at = (argsz) => () => { args.setUint32(0, argsz, true); return time(N, bound); };
    args.setUint32(0, 256, true);
    check('addon-floor-enotty', bound() === -abi.Errno.ENOTTY ? undefined : 'the bound ioctl on /dev/null did not answer ENOTTY');
    const t = rounds({ c: () => cOk('ioctlLoop', tn.ioctlLoop(fd, abi.ioctlNumber('VFIO_DEVICE_GET_REGION_INFO', 'x86_64'), N), 'enotty'), a256: at(256), a32: at(32) }, ['a256', 'a32']);
    row('addon floor: ENOTTY argsz 256 vs C', t.a256, t.c);
    row('addon floor: ENOTTY argsz 32 vs C', t.a32, t.c);
  } finally {
    n.close(h);
    closeSync(fd);
  }
}

/** createSubregion + map + unmap vs the C loop on the fd of a device of its own per round (each create leaves a subregion). */
function createMapUnmap() {
  const N = 150;
  const once = (dev) => dev.map(dev.createSubregion({ parent: 2, offset: 0xd0000n, size: 0x10000n, attrs: WC })).unmap();
  const fresh = (fn) => {
    const dev = openDevice(IVS);
    try {
      return fn(dev, fdOf('anon_inode:[vfio-device]'));
    } finally {
      dev.close();
    }
  };
  const t = rounds({
    ts: () => fresh((dev) => time(N, () => once(dev))),
    c: () => fresh((_dev, fd) => cOk('subregionLoop', tn.subregionLoop(fd, 2, 0xd0000n, 0x10000n, WC, N))),
  }, ['ts']);
  row('subregion create+mmap+munmap: TS vs C', t.ts, t.c);
  notes.push('create+mmap+munmap: FEATURE_SUBREGION SET, the new region\'s GET_REGION_INFO, mmap, munmap of 64 KiB of BAR2; a device per round. Target: TS <= 2x C (npm run bench\'s).');
}

/**
 * write32 and burst64 through a wasm window on the WC subregion: the MMIO probe (core module) vs C
 * (mmioBench on the window's address), and nic-tx's component vs the core module.
 */
async function windows(dev, sub) {
  const N = 4_000_000;
  const host = new MmioHost();
  const ex = await instantiateGuest(readFileSync(join(DIR, 'mmio-probe.wasm')), host);
  const cHost = new MmioHost();
  const comp = await instantiateComponent({ name: 'nictx', dir: join(DIR, 'nictx') }, cHost);
  try {
    const ps = n.pageSize;
    const pushAt = ex.window_reserve(0x10000, ps) >>> 0;
    const regsAt = ex.window_reserve(ps, ps) >>> 0;
    const push = host.map(dev, sub, { at: pushAt });
    const regs = host.map(dev, 2, { at: regsAt, offset: 0xf0000, length: ps });
    const cPushAt = comp.reserve(0x10000, ps) >>> 0;
    const cPush = cHost.map(dev, sub, { at: cPushAt });
    const bar = BigInt(readFileSync(`/sys/bus/pci/devices/${IVS}/resource`, 'utf8').split('\n')[2].split(' ')[0]);
    const pat = readFileSync('/sys/kernel/debug/x86/pat_memtype_list', 'utf8');
    const types = [...pat.matchAll(/PAT: \[mem 0x([0-9a-f]+)-0x([0-9a-f]+)\] ([a-z-]+)/g)]
      .filter((m) => BigInt(`0x${m[1]}`) < bar + 0xf0000n && BigInt(`0x${m[2]}`) > bar + 0xe0000n).map((m) => m[3]);
    check('window-is-write-combining', [...new Set(types)].join() === 'write-combining' && push.attrs === WC ? undefined : `PAT ${types.join()}, window attrs ${push.attrs}`);
    ex.set_inline_fence(MmioHost.inlineFence ? 1 : 0);
    ex.bind(pushAt, push.size);
    comp.setup(MmioHost.inlineFence);
    const c = (op) => cOk('mmioBench', { ns: tn.mmioBench(push.address, push.size, 0, op, N, regs.address, regs.size, 0), errno: 0 });
    for (const [name, op, loop, compOp] of [['write32', 0, 'loop_write32', 0], ['burst64', 2, 'loop_burst', 1]]) {
      const t = rounds({
        c: () => c(op),
        wasm: () => timeWasm(N, (k) => ex[loop](0, k)),
        component: () => timeWasm(N, (k) => comp.bench(compOp, cPushAt, cPush.size, 0, k)),
      }, ['wasm', 'component']);
      row(`window ${name} (WC): wasm vs C`, t.wasm, t.c);
      row(`window ${name} (WC): component vs core`, t.component, t.wasm);
    }
    // the probe's burst, with a pattern of its own, read back through the device fd
    const pattern = Buffer.from(Array.from({ length: 64 }, (_, i) => 0xa0 ^ i));
    new Uint8Array(ex.memory.buffer, ex.src(), 64).set(pattern);
    ex.b64(0, ex.src());
    n.wmb();
    const back = Buffer.from(dev.read(2, 0xe0000, 64));
    check('window-stores-reached-device', back.equals(pattern) ? undefined : `BAR2 +0xe0000 holds ${back.toString('hex')}`);
  } finally {
    host.unmapAll();
    cHost.unmapAll();
  }
  notes.push(`windows: ${N} stores per round into a WC subregion of BAR2 mapped into wasm linear memory; C = the same loop on the window's address.`,
    '  Targets: wasm <= 1.2x C; the component (jco) <= 1.1x the core module.');
}

/**
 * Row `name`: Iommu.map(buffer) (IOVA allocated) + DmaMapping.unmap() of one `size` buffer against
 * `cLoop(bytes, iova, n)`, the same two ioctls in C at the IOVA the allocator picked.
 */
function dmaRow(name, iommu, size, cLoop) {
  const N = 2_000;
  const buf = iommu.allocBuffer(size);
  const first = iommu.map(buf);
  const { iova } = first;
  first.unmap();
  const bytes = new Uint8Array(buf);
  const t = rounds({ ts: () => time(N, () => iommu.map(buf).unmap()), c: () => cLoop(bytes, iova, N) }, ['ts']);
  row(name, t.ts, t.c);
}

/** DMA map + unmap of an allocBuffer buffer through the e1000e's type1 container (behind the guest's intel-iommu). */
function dma() {
  const dev = openDevice(E1K);
  try {
    const iommu = dev.iommu();
    const cfd = fdOf('/dev/vfio/vfio');
    for (const size of [0x1000, 0x10000]) dmaRow(`dma map+unmap ${size / 1024} KiB: TS vs C`, iommu, size, (bytes, iova, N) => cOk('dmaLoop', tn.dmaLoop(cfd, bytes, iova, N)));
    check('dma-nothing-left-mapped', iommu.mappings().length === 0 && n.stats().dmaMappings === 0 ? undefined : `${iommu.mappings().length} mappings, ${n.stats().dmaMappings} pins`);
  } finally {
    dev.close();
  }
  notes.push('dma: Iommu.map(buffer) (IOVA allocated) + DmaMapping.unmap() vs VFIO_IOMMU_MAP_DMA + UNMAP_DMA in C on the container fd. Target: TS <= 1.5x C.');
}

/** The same through the e1000e's iommufd cdev and its IOAS, where the kernel has them (7.2-cdev). */
function dmaIoas() {
  if (!existsSync('/dev/iommu')) return;
  const dev = openDevice(`/dev/vfio/devices/${readdirSync(`/sys/bus/pci/devices/${E1K}/vfio-dev`)[0]}`);
  try {
    const iommu = dev.iommu();
    const fd = fdOf('/dev/iommu');
    dmaRow('dma map+unmap 4 KiB (iommufd): TS vs C', iommu, 0x1000, (bytes, iova, N) => cOk('ioasLoop', tn.ioasLoop(fd, bytes, iova, N)));
    check('dma-ioas-nothing-left-mapped', iommu.kind === 'iommufd' && iommu.mappings().length === 0 && n.stats().dmaMappings === 0 ? undefined : `${iommu.kind}, ${iommu.mappings().length} mappings, ${n.stats().dmaMappings} pins`);
  } finally {
    dev.close();
  }
  notes.push('dma (iommufd): the same through the cdev\'s IOAS vs IOMMU_IOAS_MAP (FIXED_IOVA) + IOMMU_IOAS_UNMAP in C on the iommufd fd. Target: TS <= 1.5x C.');
}

const MAXSUB = '/sys/module/vfio_pci_subregion/parameters/max_subregions';
const maxSub = readFileSync(MAXSUB, 'utf8').trim();
try {
  writeFileSync(MAXSUB, '4096'); // read at open: the create row's devices may hold 4096
  const dev = openDevice(IVS);
  try {
    const sub = dev.createSubregion({ parent: 2, offset: 0xe0000n, size: 0x10000n, attrs: WC });
    regionInfo(dev, fdOf('anon_inode:[vfio-device]'), sub);
    await windows(dev, sub);
  } finally {
    dev.close();
  }
  createMapUnmap();
  dma();
  dmaIoas();
  for (const line of formatRows(rows).trimEnd().split('\n')) say(line);
  for (const line of notes) say(line);
  for (const r of rows) console.log(`KTB ${JSON.stringify(r)}`);
  // allocBuffer's buffers stay counted until they are collected: every other counter is back to zero
  const { dmaBuffers: _kept, ...live } = n.stats();
  check('stats-back-to-zero', JSON.stringify(live) === JSON.stringify({ openDevices: 0, ranges: 0, windows: 0, dmaMappings: 0, eventfds: 0 }) ? undefined : JSON.stringify(n.stats()));
} catch (e) {
  failed++;
  console.log(`KT FAIL bench/ran-to-the-end: ${e?.stack?.split('\n').slice(0, 4).join(' | ') ?? e}`);
} finally {
  writeFileSync(MAXSUB, maxSub);
}
process.exitCode = failed === 0 ? 0 : 1;
