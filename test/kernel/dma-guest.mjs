// DMA through the device API on a real IOMMU: run by test/kernel/init.sh inside the QEMU guest,
// with this machine's node and checkout over virtio-9p.
//
//   node --expose-gc test/kernel/dma-guest.mjs iommufd|type1 BDF
//
// iommufd (7.2-cdev): the device by its cdev (/dev/vfio/devices/vfioN), DMA through its IOAS; type1
// (the group kernels): by its PCI address, DMA through its container. Both: a WebAssembly.Memory
// range and an allocBuffer mapped and unmapped, the refusals with the kernel's errnos, the pinned
// pages charged while mapped and given back on close (iommufd: mm->pinned_vm, VmPin, and no
// locked_vm for a CAP_IPC_LOCK caller, pages.c iopt_pages_update_pinned; type1: mm->locked_vm,
// VmLck, vfio_lock_acct), fds and the addon's counters back to zero. iommufd also: the IOVA ranges
// IOMMU_IOAS_IOVA_RANGES reports, against the kernel's own sources of them. One KT line per check.
import { readdirSync, readFileSync } from 'node:fs';
import { setImmediate as tick } from 'node:timers/promises';
import { openDevice } from '../../dist/runtime/src/device.js';
import { native } from '../../dist/runtime/src/native.js';
import * as abi from '../../dist/runtime/src/generated/vfio-subregion.js';
import { fds, NONE_LIVE, reporter, same, show, vmCounters } from './kt.mjs';

const [kind, BDF] = process.argv.slice(2);
// errnos (asm-generic)
const EINVAL = 22;
const EEXIST = 17;
const ENOENT = 2;

const { out, fail, check, failed } = reporter(`dma/${kind}`);
/** A refusal as a caller sees it: the error's name, operation and errno; a string when nothing threw. */
function refusal(fn) {
  try {
    fn();
  } catch (e) {
    return { name: e.name, operation: e.operation, errno: e.errno };
  }
  return 'did not throw';
}
const delta = (a, b) => ({ VmLck: b.VmLck - a.VmLck, VmPin: b.VmPin - a.VmPin });
/** The counter the kind charges pinned pages to, the other one unmoved. */
const charged = (kb) => (kind === 'iommufd' ? { VmLck: 0, VmPin: kb } : { VmLck: kb, VmPin: 0 });

/**
 * What IOMMU_IOAS_IOVA_RANGES must say, from the kernel's sources of it (7.2 ioas.c
 * iommufd_ioas_iova_ranges: the holes of the IOAS's reserved tree over [0, ULONG_MAX]), read here
 * from outside the IOAS: the device's reserved regions (iopt_table_enforce_dev_resv_regions reserves
 * each but direct-relaxable; the group's sysfs reserved_regions lists them) and the paging domain's
 * aperture (iopt_table_add_domain reserves what lies outside it), which intel-iommu's second-stage
 * table (legacy mode; compute_vasz_lg2_ss) sizes from the MGAW and SAGAW of the cap register.
 */
function expectedRanges() {
  const dmar = readdirSync('/sys/class/iommu').find((d) => d.startsWith('dmar'));
  const reg = (f) => BigInt(`0x${readFileSync(`/sys/class/iommu/${dmar}/intel-iommu/${f}`, 'utf8').trim()}`);
  const cap = reg('cap');
  const ecap = reg('ecap');
  if ((ecap >> 43n) & 1n) return 'the IOMMU offers scalable mode (ecap SMTS): its first-stage aperture is not modelled here';
  const mgaw = Number((cap >> 16n) & 0x3fn) + 1;
  const sagaw = Number((cap >> 8n) & 0x1fn);
  const vasz = mgaw > 48 && sagaw >= 8 ? Math.min(57, mgaw) : mgaw > 39 && sagaw >= 4 ? Math.min(48, mgaw) : mgaw > 30 && sagaw >= 2 ? Math.min(39, mgaw) : 0;
  const top = (1n << 64n) - 1n;
  const reserved = readFileSync(`/sys/bus/pci/devices/${BDF}/iommu_group/reserved_regions`, 'utf8').split('\n').filter(Boolean)
    .map((l) => l.split(' ')).filter(([, , type]) => type !== 'direct-relaxable').map(([s, e]) => ({ start: BigInt(s), end: BigInt(e) }));
  reserved.push({ start: 1n << BigInt(vasz), end: top });
  reserved.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const holes = [];
  let at = 0n;
  for (const r of reserved) {
    if (r.start > at) holes.push({ start: at, end: r.start - 1n });
    if (r.end + 1n > at) at = r.end + 1n;
  }
  if (at <= top && at !== 0n) holes.push({ start: at, end: top });
  return { ranges: holes, from: `cap 0x${cap.toString(16)} (MGAW ${mgaw}, SAGAW 0x${sagaw.toString(16)}: ${vasz}-bit aperture), reserved_regions ${show(reserved.slice(0, -1))}` };
}

/** An unmap of [iova, +length) through a second handle on the device's IOMMU: -errno or 0, and what the kernel says it unmapped. */
function rawUnmap(dev, iova, length) {
  const h = native().iommuHandle(dev.handle);
  try {
    const arg = kind === 'iommufd'
      ? abi.IommuIoasUnmap.encode({ ioas_id: 0, iova, length })
      : abi.VfioIommuType1DmaUnmap.encode({ argsz: abi.VfioIommuType1DmaUnmap.size, flags: 0, iova, size: length, data: new Uint8Array(0) });
    const r = native().dmaUnmap(h, arg);
    const back = kind === 'iommufd' ? abi.IommuIoasUnmap.decode(arg).length : abi.VfioIommuType1DmaUnmap.decode(arg).size;
    return { r, unmapped: back };
  } finally {
    native().close(h);
  }
}

async function main() {
  const cdev = kind === 'iommufd' ? `/dev/vfio/devices/${readdirSync(`/sys/bus/pci/devices/${BDF}/vfio-dev`)[0]}` : BDF;
  out('INFO', 'device', `${BDF} by ${cdev}`);
  // after the first line written: node's stdout on a TTY opens a /dev/null with it and keeps it
  const fds0 = fds();
  const c0 = vmCounters();
  const dev = openDevice(cdev);
  try {
    const io = dev.iommu();
    await check('kind', () => same({ kind: io.kind, source: kind === 'iommufd' ? dev.source : dev.source.endsWith(` ${BDF}`) }, { kind, source: kind === 'iommufd' ? cdev : true }));
    if (kind === 'iommufd') {
      const want = expectedRanges();
      const info = io.info();
      out('INFO', 'iova-ranges', `${show(info.ranges)}, alignment 0x${info.pageSize.toString(16)}; expected from ${want.from ?? want}`);
      await check('iova-ranges-are-the-kernels', () => (typeof want === 'string' ? want : same({ ranges: info.ranges, alignment: info.pageSize }, { ranges: want.ranges, alignment: 0x1000n })));
    }
    const mem = new WebAssembly.Memory({ initial: 4 });
    const m = io.map(mem, { offset: 0x10000, length: 0x2000 });
    const c1 = vmCounters();
    await check('memory-range-mapped-pages-charged', () => same({ mappings: io.mappings().length, charged: delta(c0, c1) }, { mappings: 1, charged: charged(8) }));
    const buf = io.allocBuffer(0x4000);
    const b = io.map(buf);
    const c2 = vmCounters();
    await check('buffer-mapped-pages-charged', () => same({ mappings: io.mappings().length, charged: delta(c1, c2), apart: b.iova >= m.iova + 0x2000n || b.iova + 0x4000n <= m.iova }, { mappings: 2, charged: charged(16), apart: true }));
    out('INFO', 'iovas', `memory at 0x${m.iova.toString(16)}, buffer at 0x${b.iova.toString(16)}`);

    const free = b.iova + 0x10000n;	// past both mappings
    await check('refusal-unaligned-iova', () => same(refusal(() => io.map(buf, { iova: free + 0x800n, length: 0x1000 })), { name: 'VfioError', operation: 'dmaMap', errno: EINVAL }));
    await check('refusal-unaligned-length', () => same(refusal(() => io.map(buf, { iova: free, length: 0x800 })), { name: 'VfioError', operation: 'dmaMap', errno: EINVAL }));
    await check('refusal-unaligned-source-offset', () => same(refusal(() => io.map(buf, { iova: free, offset: 0x800, length: 0x1000 })), { name: 'VfioError', operation: 'dmaMap', errno: EINVAL }));
    await check('refusal-overlapping', () => same(refusal(() => io.map(buf, { iova: b.iova + 0x1000n, length: 0x1000 })), { name: 'VfioError', operation: 'dmaMap', errno: EEXIST }));
    if (kind === 'iommufd') {
      await check('refusal-in-msi-window', () => same(refusal(() => io.map(buf, { iova: 0xfee00000n, length: 0x1000 })), { name: 'VfioError', operation: 'dmaMap', errno: EINVAL }));
      // iommufd: nothing in the range, or a part of a mapping, is ENOENT (ioas.c iommufd_ioas_unmap)
      await check('unmap-not-mapped-enoent', () => same(rawUnmap(dev, free, 0x1000n).r, -ENOENT));
      await check('unmap-part-of-mapping-enoent', () => same(rawUnmap(dev, b.iova, 0x1000n).r, -ENOENT));
    } else {
      // type1: nothing in the range unmaps nothing, successfully (vfio_dma_do_unmap)
      await check('unmap-not-mapped-unmaps-nothing', () => same(rawUnmap(dev, free, 0x1000n), { r: 0, unmapped: 0n }));
    }
    await check('refusals-charged-nothing', () => same({ mappings: io.mappings().length, charged: delta(c2, vmCounters()) }, { mappings: 2, charged: charged(0) }));

    b.unmap();
    await check('buffer-unmapped-pages-uncharged', () => same({ mappings: io.mappings().length, charged: delta(c1, vmCounters()) }, { mappings: 1, charged: charged(0) }));
    if (kind === 'iommufd') {
      // the memory's range unmapped behind the API's back: its own unmap is then the kernel's ENOENT
      await check('raw-unmap-of-api-mapping', () => same(rawUnmap(dev, m.iova, 0x2000n), { r: 0, unmapped: 0x2000n }));
      await check('api-unmap-of-what-is-gone-enoent', () => same(refusal(() => m.unmap()), { name: 'VfioError', operation: 'dmaUnmap', errno: ENOENT }));
      await check('pages-uncharged', () => same(delta(c0, vmCounters()), charged(0)));
    }
    // left mapped for close to take down
    io.map(mem, { offset: 0x20000, length: 0x1000 });
    io.map(buf, { length: 0x1000 });
    await check('mapped-again-for-close', () => same(delta(c0, vmCounters()), charged(kind === 'iommufd' ? 8 : 16)));
  } finally {
    dev.close();
  }
  await check('counters-back-after-close', () => same(vmCounters(), c0));
  for (let i = 0; i < 20 && show({ fds: fds(), stats: native().stats() }) !== show({ fds: fds0, stats: NONE_LIVE }); i++) {
    globalThis.gc();
    await tick();
  }
  await check('fds-and-stats-back-to-zero', () => same({ fds: fds(), stats: native().stats() }, { fds: fds0, stats: NONE_LIVE }));
}

try {
  await main();
} catch (e) {
  fail('ran-to-the-end', e?.stack?.split('\n').slice(0, 4).join(' | ') ?? String(e));
}
process.exitCode = failed() === 0 ? 0 : 1;
