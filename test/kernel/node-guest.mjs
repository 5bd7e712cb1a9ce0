// The device API, the CLI's `info` and the bad-input paths of this package on a real kernel: run by
// test/kernel/init.sh inside the QEMU guest, with this machine's node and checkout over virtio-9p.
//
//   node --expose-gc test/kernel/node-guest.mjs stock|variant|cdev|bad IVSHMEM E1000E
//   node test/kernel/node-guest.mjs group DEVICE OTHER
//
// stock and variant: the devices bound to vfio-pci or vfio-pci-subregion, compared with what the C
// runner's `dump` of the same binding printed (/tmp/<binding>-<device>.txt); cdev: the variant's
// checks again through each device's iommufd cdev (/dev/vfio/devices/vfioN bound to /dev/iommu,
// a kernel with IOMMUFD and VFIO_DEVICE_CDEV), and how it excludes the group; the API's writes land
// in BAR2 of the ivshmem device, where run.sh reads them back from the backing file. bad: the
// misconfigurations a user meets first; group: a group that is not viable (notViable below). One KT
// PASS/FAIL/SKIP line per check, as the C runner's.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { openDevice, VfioError } from '../../dist/runtime/src/device.js';
import { native } from '../../dist/runtime/src/native.js';
import * as abi from '../../dist/runtime/src/generated/vfio-subregion.js';
import { fds, NONE_LIVE, reporter, same, show } from './kt.mjs';

const [mode, IVS, E1K] = process.argv.slice(2);
const CLI = new URL('../../bin/vfio-subregion.js', import.meta.url).pathname;
const SELF = new URL(import.meta.url).pathname;
const WC = abi.VfioRegionAttr.VFIO_REGION_ATTR_WC;

const { out, fail, check, failed } = reporter(`node/${mode}`);
/** A refusal as `thrown` gives it, with the message's form checked here and left out. */
function refusal(t, operation, code, rule) {
  if (typeof t === 'string') return t;
  const { message, ...rest } = t;
  const form = new RegExp(`^${operation}: ${code} \\(.+\\)${rule === null ? '' : `: rule ${rule}`}$`);
  return form.test(message) ? rest : { ...rest, message };
}
/** What `fn` threw, as the fields a caller sees; a string when it did not throw. */
function thrown(fn) {
  try {
    fn();
  } catch (e) {
    return { name: e.name, code: e.code, operation: e.operation, syscall: e.syscall, rule: e.rule, message: e.message };
  }
  return 'did not throw';
}
/** The process's open fds and what each is (not the one readdir listed them with, closed by now). */
const sysfs = (bdf, file) => `/sys/bus/pci/devices/${bdf}/${file}`;
/** What the API opens a device by in this mode: its PCI address, or in cdev mode its iommufd cdev. */
const at = (bdf) => (mode === 'cdev' ? `/dev/vfio/devices/${readdirSync(sysfs(bdf, 'vfio-dev'))[0]}` : bdf);

/** The C runner's `dump` of a device: GET_INFO and each region's size, flags, offset and chain presence. */
function dumped(binding, name) {
  const text = readFileSync(`/tmp/${binding}-${name}.txt`, 'utf8');
  const gi = /GET_INFO argsz=\d+ flags=(0x[0-9a-f]+|0) num_regions=(\d+) num_irqs=(\d+)/.exec(text);
  const regions = [...text.matchAll(/REGION (\d+): ok argsz=\d+ flags=(0x[0-9a-f]+|0) cap_offset=(\d+) size=(0x[0-9a-f]+|0) offset=(0x[0-9a-f]+|0)/g)]
    .map((m) => ({ index: Number(m[1]), flags: Number(m[2]), caps: Number(m[3]) !== 0, size: BigInt(m[4]), offset: BigInt(m[5]) }));
  // what the API lists for a region whose info the kernel refuses (VGA on a device without VGA)
  for (const m of text.matchAll(/REGION (\d+): EINVAL/g))
    if (Number(m[1]) < Number(gi[2])) regions.push({ index: Number(m[1]), flags: 0, caps: false, size: 0n, offset: 0n });
  return { info: { flags: Number(gi[1]), numRegions: Number(gi[2]), numIrqs: Number(gi[3]) }, regions };
}

/** The PAT memtype list's entries over [s, e) of physical memory. */
function patTypes(s, e) {
  const text = readFileSync('/sys/kernel/debug/x86/pat_memtype_list', 'utf8');
  return [...text.matchAll(/PAT: \[mem 0x([0-9a-f]+)-0x([0-9a-f]+)\] ([a-z-]+)/g)]
    .filter((m) => BigInt(`0x${m[1]}`) < e && BigInt(`0x${m[2]}`) > s).map((m) => m[3]);
}
const bar2 = (bdf) => BigInt(readFileSync(sysfs(bdf, 'resource'), 'utf8').split('\n')[2].split(' ')[0]);

let cliRuns = 0;
let cliMs = 0;
function cli(...args) {
  const t = Date.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  cliRuns++;
  cliMs += Date.now() - t;
  return r;
}

/** What the real path shows of one device, checked against the C runner's dump of it. */
async function describe(dev, bdf, binding, name) {
  const want = dumped(binding, name);
  if (mode === 'cdev') await check(`${name}/open-by-cdev`, () => same(dev.source, at(bdf)));
  else await check(`${name}/open-by-pci-address`, () => /^\/dev\/vfio\/\d+ /.test(dev.source) && dev.source.endsWith(` ${bdf}`) ? undefined : `source ${dev.source}`);
  await check(`${name}/info-as-c-runner`, () => same(dev.info(), want.info));
  await check(`${name}/regions-as-c-runner`, () => same(dev.regions().map((r) => ({ index: r.index, flags: r.flags, caps: r.caps.length > 0, size: r.size, offset: r.offset })), want.regions));
  if (name === 'e1000e')
    await check(`${name}/bar3-msix-capability-decoded`, () => same(dev.region(3).caps.map((c) => c.name), ['VFIO_REGION_INFO_CAP_MSIX_MAPPABLE']));
  const supported = binding === 'variant';
  await check(`${name}/support`, () => same(dev.support(), { subregion: supported, regionAttrsGet: supported, regionAttrsSet: supported }));
}

/** `info --device` in text and JSON (the device must be closed here: a group opens once). */
async function cliInfo(bdf, binding, name) {
  const want = dumped(binding, name);
  const text = cli('info', '--device', at(bdf));
  await check(`${name}/cli-info-text`, () => {
    if (text.status !== 0 || text.stderr !== '') return `exit ${text.status}: ${text.stderr}`;
    const lines = text.stdout.split('\n');
    if (!lines[0].startsWith(`Device: /dev/vfio/`) || !lines[0].includes(`${at(bdf)}, ${want.info.numRegions} regions, ${want.info.numIrqs} IRQs`)) return `first line ${lines[0]}`;
    if (!text.stdout.includes(`Subregions: ${binding === 'variant' ? 'supported' : 'not supported'}`)) return 'no Subregions line';
    const offsets = [...text.stdout.matchAll(/^Region (\d+) .* at fd offset (0x[0-9a-f]+)$/gm)].map((m) => [Number(m[1]), BigInt(m[2])]);
    return same(offsets, want.regions.filter((r) => r.size !== 0n || r.caps).map((r) => [r.index, r.offset]));
  });
  const json = cli('info', '--device', at(bdf), '--json');
  await check(`${name}/cli-info-json`, () => {
    if (json.status !== 0) return `exit ${json.status}: ${json.stderr}`;
    const r = JSON.parse(json.stdout);
    return same({ numRegions: r.numRegions, numIrqs: r.numIrqs, regions: r.regions.map((x) => ({ index: x.index, flags: x.flags, caps: x.caps.length > 0, size: BigInt(x.size), offset: BigInt(x.offset) })) },
      { numRegions: want.info.numRegions, numIrqs: want.info.numIrqs, regions: want.regions });
  });
}

/** Bytes through a mapping, read back through the device fd (pread), the kernel's own path. */
function roundTrip(dev, m, region, at, tag) {
  const text = new TextEncoder().encode(tag);
  m.bytes.set(text, 0);
  m.write32(0x100, 0x600dcafe);
  m.write64(0x108, 0x0123456789abcdefn);
  native().wmb();
  const back = dev.read(region, at, 0x110);
  return same({ tag: new TextDecoder().decode(back.subarray(0, text.length)), w32: Buffer.from(back).readUInt32LE(0x100), w64: Buffer.from(back).readBigUInt64LE(0x108), r32: m.read32(0x100) },
    { tag, w32: 0x600dcafe, w64: 0x0123456789abcdefn, r32: 0x600dcafe });
}

/** The JS-misuse cases that apply to a real fd: mapping lifetime, read-only mappings, dropped objects. */
async function misuse(bdf) {
  const n = native();
  {
    const dev = openDevice(at(bdf));
    const m = dev.map(2, { offset: 0xb0000, length: 0x1000 });
    const bytes = m.bytes;
    m.unmap();
    await check('misuse/use-after-unmap', () => same({ detached: bytes.byteLength, read: thrown(() => m.read32(0)).code, bytes: thrown(() => m.bytes).code, again: thrown(() => m.unmap()) },
      { detached: 0, read: 'ERR_UNMAPPED', bytes: 'ERR_UNMAPPED', again: 'did not throw' }));
    const ro = dev.map(2, { offset: 0xb0000, length: 0x1000, prot: n.PROT_READ });
    const rw = dev.map(2, { offset: 0xb0000, length: 0x1000 });
    rw.write32(0x40, 0xfeedf00d);
    await check('misuse/read-only-mapping-has-no-write-path', () => same({ writable: ro.writable, bytes: thrown(() => ro.bytes).code, write: thrown(() => ro.write32(0x40, 1)).code, read: ro.read32(0x40), copy: Buffer.from(ro.read(0x40, 4)).readUInt32LE(0) },
      { writable: false, bytes: 'ERR_READ_ONLY', write: 'ERR_READ_ONLY', read: 0xfeedf00d, copy: 0xfeedf00d }));
    dev.close();
    await check('misuse/use-after-close', () => same({ mapped: rw.mapped, read: thrown(() => rw.read32(0)).code, info: thrown(() => dev.info()).code, map: thrown(() => dev.map(2, { length: 0x1000 })).code, again: thrown(() => dev.close()) },
      { mapped: false, read: 'ERR_UNMAPPED', info: 'ERR_DEVICE_CLOSED', map: 'ERR_DEVICE_CLOSED', again: 'did not throw' }));
  }
  await check('misuse/wasm-window', () => {
    const dev = openDevice(at(bdf));
    try {
      const memory = new WebAssembly.Memory({ initial: 4 });
      const w = dev.mapInto(memory, 2, { at: 0x10000, offset: 0xc0000, length: 0x1000 });
      new DataView(memory.buffer).setUint32(0x10000, 0x11223344, true);
      const seen = Buffer.from(dev.read(2, 0xc0000, 4)).readUInt32LE(0);
      w.unmap();
      return same({ seen, after: new DataView(memory.buffer).getUint32(0x10000, true), windows: n.stats().windows }, { seen: 0x11223344, after: 0, windows: 0 });
    } finally {
      dev.close();
    }
  });
  // dropped without unmap() or close(): the collector closes the fds and releases the ranges
  (() => {
    const dev = openDevice(at(bdf));
    dev.map(2, { offset: 0xb0000, length: 0x1000 }).bytes.fill(0);
    dev.map(2, { offset: 0xb1000, length: 0x1000, prot: n.PROT_READ });
  })();
  for (let i = 0; i < 20 && (n.stats().openDevices !== 0 || n.stats().ranges !== 0); i++) {
    globalThis.gc();
    await tick();
  }
  await check('misuse/dropped-objects-collected', () => same(n.stats(), NONE_LIVE));
}

async function stockOrVariant(binding) {
  const n = native();
  const devices = [[IVS, 'ivshmem'], [E1K, 'e1000e']];
  for (const [bdf, name] of devices) await cliInfo(bdf, binding, name);
  // after the first child process: node keeps a /dev/null open from then on
  const fds0 = fds();
  for (const [bdf, name] of devices) {
    const dev = openDevice(at(bdf));
    try {
      await describe(dev, bdf, binding, name);
    } finally {
      dev.close();
    }
  }
  const bar = bar2(IVS);
  const dev = openDevice(at(IVS));
  try {
    if (binding === 'stock') {
      await check('ivshmem/subregion-refused', () => same(refusal(thrown(() => dev.createSubregion({ parent: 2, offset: 0x90000n, size: 0x10000n, attrs: WC })), 'createSubregion', 'ENOTTY', null),
        { name: 'VfioError', code: 'ENOTTY', operation: 'createSubregion', syscall: 'ioctl', rule: null }));
      await check('ivshmem/region-attrs-refused', () => same(thrown(() => dev.regionAttrs(2)).code, 'ENOTTY'));
      const m = dev.map(2, { offset: 0x80000, length: 0x1000 });
      await check('ivshmem/uc-mapping-write-read-back', () => same(m.attrs, 0) ?? roundTrip(dev, m, 2, 0x80000, 'NODE-STOCK-UC'));
      await check('ivshmem/uc-mapping-pat-uncached-minus', () => same([...new Set(patTypes(bar + 0x80000n, bar + 0x81000n))], ['uncached-minus']));
      m.unmap();
    } else {
      const sub = dev.createSubregion({ parent: 2, offset: 0x90000n, size: 0x10000n, attrs: WC });
      await check('ivshmem/subregion-create', () => same({ sub: sub.subregion, attrs: sub.attrs, caps: sub.caps.map((c) => c.name).sort(), regions: dev.info().numRegions },
        { sub: { parent: 2, offset: 0x90000n }, attrs: WC, caps: ['VFIO_REGION_INFO_CAP_ATTRS', 'VFIO_REGION_INFO_CAP_SUBREGION'], regions: dumped('variant', 'ivshmem').info.numRegions + 1 }));
      const wc = dev.map(sub);
      await check('ivshmem/wc-mapping-write-read-back', () => same(wc.attrs, WC) ?? roundTrip(dev, wc, sub.index, 0, 'NODE-VARIANT-WC'));
      await check('ivshmem/wc-mapping-read-back-through-parent', () => same(new TextDecoder().decode(dev.read(2, 0x90000, 15)), 'NODE-VARIANT-WC'));
      await check('ivshmem/wc-mapping-pat-write-combining', () => same([...new Set(patTypes(bar + 0x90000n, bar + 0xa0000n))], ['write-combining']));
      const uc = dev.map(2, { offset: 0xa0000, length: 0x1000 });
      await check('ivshmem/uc-mapping-write-read-back', () => same(uc.attrs, 0) ?? roundTrip(dev, uc, 2, 0xa0000, 'NODE-VARIANT-UC'));
      await check('ivshmem/uc-mapping-pat-not-cached-or-wc', () => same(patTypes(bar + 0xa0000n, bar + 0xa1000n).filter((t) => t !== 'uncached-minus' && t !== 'uncached'), []));
      await check('ivshmem/refusal-offset-aligned', () => same(refusal(thrown(() => dev.createSubregion({ parent: 2, offset: 0x90800n, size: 0x1000n })), 'createSubregion', 'EINVAL', 'offset-aligned'),
        { name: 'VfioError', code: 'EINVAL', operation: 'createSubregion', syscall: 'ioctl', rule: 'offset-aligned' }));
      await check('ivshmem/refusal-not-mapped', () => same(refusal(thrown(() => dev.setRegionAttrs(2, WC)), 'setRegionAttrs', 'EBUSY', 'not-mapped'),
        { name: 'VfioError', code: 'EBUSY', operation: 'setRegionAttrs', syscall: 'ioctl', rule: 'not-mapped' }));
      const other = openDevice(at(E1K));
      try {
        await check('e1000e/refusal-attrs-supported', () => same(refusal(thrown(() => other.createSubregion({ parent: 0, offset: 0n, size: 0x1000n, attrs: WC })), 'createSubregion', 'EOPNOTSUPP', 'attrs-supported'),
          { name: 'VfioError', code: 'EOPNOTSUPP', operation: 'createSubregion', syscall: 'ioctl', rule: 'attrs-supported' }));
      } finally {
        other.close();
      }
      wc.unmap();
      uc.unmap();
    }
  } finally {
    dev.close();
  }
  await misuse(IVS);
  // what the collector releases (a wasm window's Memory, dropped devices) goes with the garbage
  for (let i = 0; i < 20 && show(fds()) !== show(fds0); i++) {
    globalThis.gc();
    await tick();
  }
  await check('fds-and-counters-back-to-zero', () => same({ fds: fds(), stats: n.stats() }, { fds: fds0, stats: NONE_LIVE }));
}

/** Opening `bdf` fails: what it says, and whether anything stayed open. */
function probe(bdf) {
  const before = fds();
  let err = null;
  try {
    openDevice(bdf).close();
  } catch (e) {
    err = { name: e.name, code: e.code, message: e.message };
  }
  return { err, fdsLeft: fds().filter((f) => !before.includes(f)), stats: native().stats() };
}

/**
 * `probe` (in this process, or in a child started through `wrap`: a uid, an empty /dev) and the
 * CLI's info, which must exit 2 with one line naming the device and what to do.
 */
async function refused(name, bdf, wrap, want) {
  const run = (args) => {
    const cmd = [...wrap, process.execPath, ...args];
    return spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8' });
  };
  const p = wrap.length === 0 ? { status: 0, stdout: JSON.stringify(probe(bdf)) } : run([SELF, 'probe', bdf]);
  await check(`${name}/api-error`, () => {
    if (p.status !== 0) return `probe exit ${p.status}: ${p.stderr}`;
    const r = JSON.parse(p.stdout);
    if (r.err === null) return 'opened';
    if (r.err.name !== 'VfioError' || r.err.code !== want.code) return `${r.err.name} ${r.err.code}: ${r.err.message}`;
    if (!r.err.message.includes(bdf) || !want.says.test(r.err.message)) return `message does not name ${bdf} and ${want.says}: ${r.err.message}`;
    return same({ fdsLeft: r.fdsLeft, stats: r.stats }, { fdsLeft: [], stats: NONE_LIVE });
  });
  const t = Date.now();
  const c = run([CLI, 'info', '--device', bdf]);
  cliRuns++;
  cliMs += Date.now() - t;
  await check(`${name}/cli-exit-2`, () => {
    const lines = c.stderr.split('\n').filter((l) => l !== '');
    if (c.status !== 2 || c.stdout !== '' || lines.length !== 1) return `exit ${c.status}, stdout ${show(c.stdout)}, stderr ${show(c.stderr)}`;
    return lines[0].startsWith(`vfio-subregion: cannot open ${bdf}: `) && want.says.test(lines[0]) ? undefined : `stderr ${lines[0]}`;
  });
  out('INFO', `${name}/says`, c.stderr.trim());
}

/** Another process holding `target` open until the function this returns is called. */
async function holder(target) {
  const child = spawn(process.execPath, ['--input-type=module', '-e',
    `const { openDevice } = await import(${JSON.stringify(new URL('../../dist/runtime/src/device.js', import.meta.url).href)}); const d = openDevice(${JSON.stringify(target)}); console.log('open'); process.stdin.once('data', () => d.close());`],
  { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise((res) => child.stdout.once('data', res));
  return async () => {
    child.stdin.end('x');
    await new Promise((res) => child.once('exit', res));
  };
}

/**
 * The iommufd cdev's refusals: a device open through its group or its cdev elsewhere (the kernel
 * allows one cdev bind, and no cdev bind while the group is open, nor the reverse), and a kernel
 * without /dev/iommu (here: an empty /dev holding only the cdev, in a mount namespace of its own).
 */
async function cdevRefusals() {
  const cdev = at(IVS);
  let release = await holder(IVS);
  await refused('cdev-while-group-open', cdev, [], { code: 'EBUSY', says: /is busy: the device is open through its VFIO group \(\/dev\/vfio\/\d+, in this or another process\)/ });
  await release();
  release = await holder(cdev);
  await refused('cdev-already-open', cdev, [], { code: 'EINVAL', says: /is busy: the device is already open through its cdev/ });
  await refused('group-while-cdev-open', IVS, [], { code: 'EBUSY', says: /is busy: another process holds the device's IOMMU group open, or its iommufd cdev/ });
  await release();
  const rdev = Number(statSync(cdev).rdev);
  const node = `${(rdev >> 8) & 0xfff} ${(rdev & 0xff) | ((rdev >> 12) & 0xfff00)}`;
  await refused('no-dev-iommu', cdev, ['unshare', '-m', 'sh', '-c', `mount -t tmpfs none /dev && mkdir -p /dev/vfio/devices && mknod ${cdev} c ${node} && exec "$0" "$@"`],
    { code: 'ENOENT', says: /\/dev\/iommu is missing: this kernel has no IOMMUFD .*open the device by its PCI address/ });
  await check('usable-after', () => {
    const dev = openDevice(cdev);
    try { return same(dev.info().numRegions, 9); } finally { dev.close(); }
  });
  await check('counters-back-to-zero', () => same(native().stats(), NONE_LIVE));
}

async function bad() {
  // not bound to vfio-pci: no driver at all (the e1000e driver is not loaded in the guest)
  writeFileSync(sysfs(E1K, 'driver/unbind'), E1K);
  await refused('not-bound', E1K, [], { code: 'ENOENT', says: /bound to no driver, not to vfio-pci: bind it to vfio-pci: echo vfio-pci > .*driver_override/ });
  writeFileSync(sysfs(E1K, 'driver_override'), 'vfio-pci-subregion');
  writeFileSync('/sys/bus/pci/drivers_probe', E1K);
  // no /dev/vfio: an empty /dev in a mount namespace of its own
  await refused('no-dev-vfio', IVS, ['unshare', '-m', 'sh', '-c', 'mount -t tmpfs none /dev && exec "$0" "$@"'], { code: 'ENOENT', says: /\/dev\/vfio is missing: load vfio-pci/ });
  // no permission: the group file is root's, mode 0600
  await refused('no-permission', IVS, ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'], { code: 'EACCES', says: /permission denied on \/dev\/vfio\/\d+ .*run as root/ });
  // already opened by another process
  const release = await holder(IVS);
  await refused('already-open', IVS, [], { code: 'EBUSY', says: /is busy: another process holds the device's IOMMU group open/ });
  await release();
  await check('usable-after', () => {
    const dev = openDevice(IVS);
    try { return same(dev.info().numRegions, 9); } finally { dev.close(); }
  });
  await check('cdev-missing', () => same(thrown(() => openDevice('/dev/vfio/devices/vfio99')), {
    name: 'VfioError', code: 'ENOENT', operation: 'openDevice', syscall: 'open', rule: null, message: 'openDevice: /dev/vfio/devices/vfio99: no such device (ENOENT)' }));
}

/**
 * A group that is not viable: DEVICE, on vfio-pci, shares its IOMMU group with OTHER, which virtio_pci
 * holds (run.sh puts both behind one conventional PCI bridge). The API and the CLI refuse it naming the
 * group, OTHER and the fix; with OTHER bound to vfio-pci too, the device opens.
 */
async function notViable(dev, other) {
  const group = basename(readlinkSync(sysfs(dev, 'iommu_group')));
  const members = readdirSync(`/sys/kernel/iommu_groups/${group}/devices`);
  const driverOf = (d) => { try { return basename(readlinkSync(sysfs(d, 'driver'))); } catch { return 'no driver'; } };
  out('INFO', 'members', `group ${group}: ${members.map((d) => `${d} (${driverOf(d)})`).join(', ')}`);
  await check('one-group', () => (members.includes(other) ? undefined : `${other} is not in group ${group} (${members.join(', ')})`));
  await check('other-on-host-driver', () => same(driverOf(other), 'virtio-pci'));
  await refused('not-viable', dev, [], { code: 'EBUSY',
    says: new RegExp(`: IOMMU group ${group} is not viable: ${other} \\(bound to virtio-pci\\) shares it; bind every device of /sys/kernel/iommu_groups/${group}/devices to vfio-pci or unbind it \\(EBUSY\\)$`) });
  writeFileSync(sysfs(other, 'driver/unbind'), other);
  writeFileSync(sysfs(other, 'driver_override'), 'vfio-pci');
  writeFileSync('/sys/bus/pci/drivers_probe', other);
  await check('viable-once-other-on-vfio-pci', () => {
    const d = openDevice(dev);
    try { return same(d.info().numRegions, 9); } finally { d.close(); }
  });
  await check('counters-back-to-zero', () => same(native().stats(), NONE_LIVE));
}

if (mode === 'probe') console.log(JSON.stringify(probe(IVS)));
else {
  try {
    if (mode === 'bad') await bad();
    else if (mode === 'group') await notViable(IVS, E1K);
    else if (mode === 'cdev') {
      await stockOrVariant('variant');
      await cdevRefusals();
    } else await stockOrVariant(mode);
  } catch (e) {
    fail('ran-to-the-end', e?.stack?.split('\n').slice(0, 4).join(' | ') ?? String(e));
  }
  out('INFO', 'cli-time', `${cliRuns} CLI runs took ${(cliMs / 1000).toFixed(2)}s`);
  process.exitCode = failed() === 0 ? 0 : 1;
}
