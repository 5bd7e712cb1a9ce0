// AssemblyScript test entry (hand-written). Compiled by test/as/vectors.test.ts with asc; it
// re-exports the generated module (so its constants become wasm globals) and adds small functions
// the JS side calls to run each vector through the generated codecs, validators and walker.
//
// Protocol: integers travel as u64 "slots" in SLOTS, one per scalar member in declaration order,
// nested structs flattened in place, flexible array elements last (their count passed separately).
// Byte buffers live at BUF; strings travel as UTF-16 code units at STR (in) / STR (out).

import * as V from "../../../runtime/assembly/generated/vfio-subregion";
export * from "../../../runtime/assembly/generated/vfio-subregion";

const SLOTS: usize = memory.data(32768, 16);
const BUF: usize = memory.data(32768, 64);
const STR: usize = memory.data(4096, 16);
/** A 4 KiB "MMIO window" for the Region tests (page-aligned, inside linear memory). */
const WIN: usize = memory.data(4096, 4096);

export function h_slots(): usize { return SLOTS; }
export function h_buf(): usize { return BUF; }
export function h_str(): usize { return STR; }
export function h_win(): usize { return WIN; }

let cur: usize = 0;
function g(): u64 { const v = load<u64>(cur); cur += 8; return v; }
function p(v: u64): void { store<u64>(cur, v); cur += 8; }
function used(): i32 { return <i32>((cur - SLOTS) >> 3); }

/** Writes s to STR; returns its length in code units. */
function sout(s: string): i32 {
  for (let i = 0; i < s.length; i++) store<u16>(STR + (<usize>i << 1), <u16>s.charCodeAt(i));
  return s.length;
}
function sin(at: usize, len: i32): string { return String.UTF16.decodeUnsafe(at, <usize>len << 1); }

// ---- struct <-> slots ----

function getHdr(o: V.VfioInfoCapHeader): void { o.id = <u16>g(); o.version = <u16>g(); o.next = <u32>g(); }
function putHdr(o: V.VfioInfoCapHeader): void { p(o.id); p(o.version); p(o.next); }

function getArea(o: V.VfioRegionSparseMmapArea): void { o.offset = g(); o.size = g(); }
function putArea(o: V.VfioRegionSparseMmapArea): void { p(o.offset); p(o.size); }

function getSubregion(o: V.VfioDeviceFeatureSubregion): void {
  o.flags = <u32>g(); o.parent_index = <u32>g(); o.offset = g(); o.size = g(); o.attrs = <u32>g(); o.index = <u32>g();
}
function putSubregion(o: V.VfioDeviceFeatureSubregion): void {
  p(o.flags); p(o.parent_index); p(o.offset); p(o.size); p(o.attrs); p(o.index);
}
function getAttrs(o: V.VfioDeviceFeatureRegionAttrs): void { o.flags = <u32>g(); o.index = <u32>g(); o.attrs = <u32>g(); o.supported = <u32>g(); }
function putAttrs(o: V.VfioDeviceFeatureRegionAttrs): void { p(o.flags); p(o.index); p(o.attrs); p(o.supported); }

// encode_<struct>(count): slots -> object -> generated _write at BUF; returns the bytes written.
// decode_<struct>(count): generated _read from BUF -> object -> slots; returns the slots used.

export function encode_vfio_info_cap_header(_n: i32): i32 {
  cur = SLOTS; const o = new V.VfioInfoCapHeader(); getHdr(o); return V.vfio_info_cap_header_write(BUF, o);
}
export function decode_vfio_info_cap_header(_n: i32): i32 {
  const o = new V.VfioInfoCapHeader(); V.vfio_info_cap_header_read(BUF, o); cur = SLOTS; putHdr(o); return used();
}

export function encode_vfio_device_info(_n: i32): i32 {
  cur = SLOTS; const o = new V.VfioDeviceInfo();
  o.argsz = <u32>g(); o.flags = <u32>g(); o.num_regions = <u32>g(); o.num_irqs = <u32>g(); o.cap_offset = <u32>g();
  return V.vfio_device_info_write(BUF, o);
}
export function decode_vfio_device_info(_n: i32): i32 {
  const o = new V.VfioDeviceInfo(); V.vfio_device_info_read(BUF, o);
  cur = SLOTS; p(o.argsz); p(o.flags); p(o.num_regions); p(o.num_irqs); p(o.cap_offset); return used();
}

function getRegionInfo(o: V.VfioRegionInfo): void {
  o.argsz = <u32>g(); o.flags = <u32>g(); o.index = <u32>g(); o.cap_offset = <u32>g(); o.size = g(); o.offset = g();
}
function putRegionInfo(o: V.VfioRegionInfo): void { p(o.argsz); p(o.flags); p(o.index); p(o.cap_offset); p(o.size); p(o.offset); }
export function encode_vfio_region_info(_n: i32): i32 {
  cur = SLOTS; const o = new V.VfioRegionInfo(); getRegionInfo(o); return V.vfio_region_info_write(BUF, o);
}
export function decode_vfio_region_info(_n: i32): i32 {
  const o = new V.VfioRegionInfo(); V.vfio_region_info_read(BUF, o); cur = SLOTS; putRegionInfo(o); return used();
}

export function encode_vfio_region_sparse_mmap_area(_n: i32): i32 {
  cur = SLOTS; const o = new V.VfioRegionSparseMmapArea(); getArea(o); return V.vfio_region_sparse_mmap_area_write(BUF, o);
}
export function decode_vfio_region_sparse_mmap_area(_n: i32): i32 {
  const o = new V.VfioRegionSparseMmapArea(); V.vfio_region_sparse_mmap_area_read(BUF, o); cur = SLOTS; putArea(o); return used();
}

export function encode_vfio_region_info_cap_sparse_mmap(n: i32): i32 {
  cur = SLOTS; const o = new V.VfioRegionInfoCapSparseMmap();
  getHdr(o.header); o.nr_areas = <u32>g(); o.reserved = <u32>g();
  for (let i = 0; i < n; i++) { const a = new V.VfioRegionSparseMmapArea(); getArea(a); o.areas.push(a); }
  return V.vfio_region_info_cap_sparse_mmap_write(BUF, o);
}
function putSparse(o: V.VfioRegionInfoCapSparseMmap): void {
  putHdr(o.header); p(o.nr_areas); p(o.reserved);
  for (let i = 0; i < o.areas.length; i++) putArea(o.areas[i]);
}
export function decode_vfio_region_info_cap_sparse_mmap(n: i32): i32 {
  const o = new V.VfioRegionInfoCapSparseMmap(); V.vfio_region_info_cap_sparse_mmap_read(BUF, o, n); cur = SLOTS; putSparse(o); return used();
}

export function encode_vfio_region_info_cap_type(_n: i32): i32 {
  cur = SLOTS; const o = new V.VfioRegionInfoCapType(); getHdr(o.header); o.type = <u32>g(); o.subtype = <u32>g();
  return V.vfio_region_info_cap_type_write(BUF, o);
}
function putType(o: V.VfioRegionInfoCapType): void { putHdr(o.header); p(o.type); p(o.subtype); }
export function decode_vfio_region_info_cap_type(_n: i32): i32 {
  const o = new V.VfioRegionInfoCapType(); V.vfio_region_info_cap_type_read(BUF, o); cur = SLOTS; putType(o); return used();
}

export function encode_vfio_device_feature(n: i32): i32 {
  cur = SLOTS; const o = new V.VfioDeviceFeature(); o.argsz = <u32>g(); o.flags = <u32>g();
  for (let i = 0; i < n; i++) o.data.push(<u8>g());
  return V.vfio_device_feature_write(BUF, o);
}
export function decode_vfio_device_feature(n: i32): i32 {
  const o = new V.VfioDeviceFeature(); V.vfio_device_feature_read(BUF, o, n);
  cur = SLOTS; p(o.argsz); p(o.flags); for (let i = 0; i < o.data.length; i++) p(o.data[i]); return used();
}

export function encode_vfio_device_feature_subregion(_n: i32): i32 {
  cur = SLOTS; const o = new V.VfioDeviceFeatureSubregion(); getSubregion(o); return V.vfio_device_feature_subregion_write(BUF, o);
}
export function decode_vfio_device_feature_subregion(_n: i32): i32 {
  const o = new V.VfioDeviceFeatureSubregion(); V.vfio_device_feature_subregion_read(BUF, o); cur = SLOTS; putSubregion(o); return used();
}

export function encode_vfio_device_feature_region_attrs(_n: i32): i32 {
  cur = SLOTS; const o = new V.VfioDeviceFeatureRegionAttrs(); getAttrs(o); return V.vfio_device_feature_region_attrs_write(BUF, o);
}
export function decode_vfio_device_feature_region_attrs(_n: i32): i32 {
  const o = new V.VfioDeviceFeatureRegionAttrs(); V.vfio_device_feature_region_attrs_read(BUF, o); cur = SLOTS; putAttrs(o); return used();
}

export function encode_vfio_region_info_cap_subregion(_n: i32): i32 {
  cur = SLOTS; const o = new V.VfioRegionInfoCapSubregion(); getHdr(o.header); o.parent_index = <u32>g(); o.reserved = <u32>g(); o.offset = g();
  return V.vfio_region_info_cap_subregion_write(BUF, o);
}
function putCapSubregion(o: V.VfioRegionInfoCapSubregion): void { putHdr(o.header); p(o.parent_index); p(o.reserved); p(o.offset); }
export function decode_vfio_region_info_cap_subregion(_n: i32): i32 {
  const o = new V.VfioRegionInfoCapSubregion(); V.vfio_region_info_cap_subregion_read(BUF, o); cur = SLOTS; putCapSubregion(o); return used();
}

export function encode_vfio_region_info_cap_attrs(_n: i32): i32 {
  cur = SLOTS; const o = new V.VfioRegionInfoCapAttrs(); getHdr(o.header); o.attrs = <u32>g(); o.reserved = <u32>g();
  return V.vfio_region_info_cap_attrs_write(BUF, o);
}
function putCapAttrs(o: V.VfioRegionInfoCapAttrs): void { putHdr(o.header); p(o.attrs); p(o.reserved); }
export function decode_vfio_region_info_cap_attrs(_n: i32): i32 {
  const o = new V.VfioRegionInfoCapAttrs(); V.vfio_region_info_cap_attrs_read(BUF, o); cur = SLOTS; putCapAttrs(o); return used();
}

// ---- ioctl numbers ----

/** The generated number of the ioctl named at STR (nameLen units) on the arch named at STR+2048; -1 if a name is unknown. */
export function h_ioctl_number(nameLen: i32, archLen: i32): i64 {
  const i = V.ioctl_index(sin(STR, nameLen));
  const a = V.arch_index(sin(STR + 2048, archLen));
  if (i < 0 || a < 0) return -1;
  return <i64>V.ioctl_number(i, a);
}
/** ioc() on the arch named at STR+2048; -2 if the arch is unknown, -1 if the size does not fit. */
export function h_ioc(archLen: i32, dir: i32, type: u32, nr: u32, size: u32): i64 {
  const a = V.arch_index(sin(STR + 2048, archLen));
  if (a < 0) return -2;
  return V.ioc(<V.Arch>a, <V.IocDir>dir, type, nr, size);
}
export function h_errno_name(e: i32): i32 { return sout(V.errno_name(e)); }

// ---- validators ----

let dev = new V.VfioSubregionDeviceState();

export function dev_reset(page_size: u64, num_regions: u32, nr_subregions: u32, max_subregions: u32, region_span: u64): void {
  dev = new V.VfioSubregionDeviceState();
  dev.page_size = page_size; dev.num_regions = num_regions; dev.nr_subregions = nr_subregions; dev.max_subregions = max_subregions;
  dev.region_span = region_span;
}
export function dev_add_region(size: u64, parent_offset: u64, flags: u32, attrs: u32, supported_attrs: u32, parent_index: u32, is_subregion: bool, mapped: bool): void {
  const r = new V.VfioSubregionRegionState();
  r.size = size; r.parent_offset = parent_offset; r.flags = flags; r.attrs = attrs; r.supported_attrs = supported_attrs;
  r.parent_index = parent_index; r.is_subregion = is_subregion; r.mapped = mapped;
  dev.regions.push(r);
}
/** Region state fields in spec order (size, parent_offset, flags, attrs, supported_attrs, parent_index, is_subregion, mapped). */
function putRegion(r: V.VfioSubregionRegionState): void {
  p(r.size); p(r.parent_offset); p(r.flags); p(r.attrs); p(r.supported_attrs); p(r.parent_index); p(r.is_subregion ? 1 : 0); p(r.mapped ? 1 : 0);
}

let lastRule = "";
export function h_last_rule(): i32 { return sout(lastRule); }

// run_<validator>(): request from slots; check; on success apply. Then slots hold the request
// (after effects) followed by the created region (creates) or the bound region.

export function run_subregion_create(): i32 {
  cur = SLOTS; const req = new V.VfioDeviceFeatureSubregion(); getSubregion(req);
  const res = new V.SubregionCreateResult();
  const e = V.subregion_create_check(dev, req, res);
  lastRule = res.ruleName;
  if (e != 0) return e;
  const created = new V.VfioSubregionRegionState();
  V.subregion_create_apply(dev, req, res, created);
  cur = SLOTS; putSubregion(req); putRegion(created);
  return 0;
}
export function run_region_attrs_set(): i32 {
  cur = SLOTS; const req = new V.VfioDeviceFeatureRegionAttrs(); getAttrs(req);
  const res = new V.RegionAttrsSetResult();
  const e = V.region_attrs_set_check(dev, req, res);
  lastRule = res.ruleName;
  if (e != 0) return e;
  V.region_attrs_set_apply(dev, req, res);
  cur = SLOTS; putAttrs(req); putRegion(dev.regions[res.region]);
  return 0;
}
export function run_region_attrs_get(): i32 {
  cur = SLOTS; const req = new V.VfioDeviceFeatureRegionAttrs(); getAttrs(req);
  const res = new V.RegionAttrsGetResult();
  const e = V.region_attrs_get_check(dev, req, res);
  lastRule = res.ruleName;
  if (e != 0) return e;
  V.region_attrs_get_apply(dev, req, res);
  cur = SLOTS; putAttrs(req); putRegion(dev.regions[res.region]);
  return 0;
}

// ---- capability chains ----

const chain = new V.VfioRegionInfoCapChain();

/** Walks the len-byte reply at BUF; returns the status. */
export function walk(len: u32): i32 { return V.vfio_region_info_walk_caps(BUF, len, chain); }
export function chain_at(): u64 { return chain.at; }
export function h_status_name(s: i32): i32 { return sout(V.capchain_status_name(s)); }
export function chain_info(): i32 { cur = SLOTS; putRegionInfo(chain.info); return used(); }
export function chain_count(): i32 { return chain.caps.length; }
/** Slots: offset, id, version, next, known, size. */
export function chain_cap(i: i32): void {
  const e = chain.caps[i];
  cur = SLOTS; p(e.offset); p(e.id); p(e.version); p(e.next); p(e.known ? 1 : 0); p(e.size);
}
/** Decodes the body of cap i with the generated codec for its id (header included); -1 without one. */
export function chain_body(i: i32): i32 {
  const e = chain.caps[i];
  if (!e.known) return -1;
  const at = BUF + <usize>e.offset;
  cur = SLOTS;
  switch (<u32>e.id) {
    case V.VFIO_REGION_INFO_CAP_SPARSE_MMAP: {
      const o = new V.VfioRegionInfoCapSparseMmap();
      V.vfio_region_info_cap_sparse_mmap_read(at, o, 0);
      V.vfio_region_info_cap_sparse_mmap_read(at, o, <i32>o.nr_areas);
      putSparse(o); break;
    }
    case V.VFIO_REGION_INFO_CAP_TYPE: { const o = new V.VfioRegionInfoCapType(); V.vfio_region_info_cap_type_read(at, o); putType(o); break; }
    case V.VFIO_REGION_INFO_CAP_MSIX_MAPPABLE: { const o = new V.VfioInfoCapHeader(); V.vfio_info_cap_header_read(at, o); putHdr(o); break; }
    case V.VFIO_REGION_INFO_CAP_SUBREGION: { const o = new V.VfioRegionInfoCapSubregion(); V.vfio_region_info_cap_subregion_read(at, o); putCapSubregion(o); break; }
    case V.VFIO_REGION_INFO_CAP_ATTRS: { const o = new V.VfioRegionInfoCapAttrs(); V.vfio_region_info_cap_attrs_read(at, o); putCapAttrs(o); break; }
    default: return -2; // known to the walker but not to this harness
  }
  return used();
}

// ---- MMIO window ----

const win = new V.Region(WIN, 4096);

export function mm_read(width: i32, off: usize): u64 {
  switch (width) {
    case 8: return win.read8(off);
    case 16: return win.read16(off);
    case 32: return win.read32(off);
    case 64: return win.read64(off);
  }
  return unreachable();
}
export function mm_write(width: i32, off: usize, v: u64): void {
  switch (width) {
    case 8: win.write8(off, <u8>v); return;
    case 16: win.write16(off, <u16>v); return;
    case 32: win.write32(off, <u32>v); return;
    case 64: win.write64(off, v); return;
  }
  unreachable();
}
export function mm_read_checked(width: i32, off: usize): u64 {
  switch (width) {
    case 8: return win.read8_checked(off);
    case 16: return win.read16_checked(off);
    case 32: return win.read32_checked(off);
    case 64: return win.read64_checked(off);
  }
  return unreachable();
}
export function mm_write_checked(width: i32, off: usize, v: u64): void {
  switch (width) {
    case 8: win.write8_checked(off, <u8>v); return;
    case 16: win.write16_checked(off, <u16>v); return;
    case 32: win.write32_checked(off, <u32>v); return;
    case 64: win.write64_checked(off, v); return;
  }
  unreachable();
}
/** Bursts the 64 bytes at BUF to off. */
export function mm_burst(off: usize): void { win.burst64(off, BUF); }
export function mm_burst_checked(off: usize): void { win.burst64_checked(off, BUF); }
export function mm_wmb(): void { win.wmb(); }
export function mm_flush(): void { win.flush(); }

// Upstream structs with their natural layout: LP64 by default, the i386 layout with ilp32.
function getType1Info(o: V.VfioIommuType1Info): void { o.argsz = <u32>g(); o.flags = <u32>g(); o.iova_pgsizes = g(); o.cap_offset = <u32>g(); }
function putType1Info(o: V.VfioIommuType1Info): void { p(o.argsz); p(o.flags); p(o.iova_pgsizes); p(o.cap_offset); }
export function encode_vfio_iommu_type1_info(_n: i32): i32 { cur = SLOTS; const o = new V.VfioIommuType1Info(); getType1Info(o); return V.vfio_iommu_type1_info_write(BUF, o); }
export function decode_vfio_iommu_type1_info(_n: i32): i32 { const o = new V.VfioIommuType1Info(); V.vfio_iommu_type1_info_read(BUF, o); cur = SLOTS; putType1Info(o); return used(); }
export function encode_vfio_iommu_type1_info_ilp32(_n: i32): i32 { cur = SLOTS; const o = new V.VfioIommuType1Info(); getType1Info(o); return V.vfio_iommu_type1_info_write(BUF, o, true); }
export function decode_vfio_iommu_type1_info_ilp32(_n: i32): i32 { const o = new V.VfioIommuType1Info(); V.vfio_iommu_type1_info_read(BUF, o, true); cur = SLOTS; putType1Info(o); return used(); }

function getMigration(o: V.VfioIommuType1InfoCapMigration): void { getHdr(o.header); o.flags = <u32>g(); o.pgsize_bitmap = g(); o.max_dirty_bitmap_size = g(); }
function putMigration(o: V.VfioIommuType1InfoCapMigration): void { putHdr(o.header); p(o.flags); p(o.pgsize_bitmap); p(o.max_dirty_bitmap_size); }
export function encode_vfio_iommu_type1_info_cap_migration(_n: i32): i32 { cur = SLOTS; const o = new V.VfioIommuType1InfoCapMigration(); getMigration(o); return V.vfio_iommu_type1_info_cap_migration_write(BUF, o); }
export function decode_vfio_iommu_type1_info_cap_migration(_n: i32): i32 { const o = new V.VfioIommuType1InfoCapMigration(); V.vfio_iommu_type1_info_cap_migration_read(BUF, o); cur = SLOTS; putMigration(o); return used(); }
export function encode_vfio_iommu_type1_info_cap_migration_ilp32(_n: i32): i32 { cur = SLOTS; const o = new V.VfioIommuType1InfoCapMigration(); getMigration(o); return V.vfio_iommu_type1_info_cap_migration_write(BUF, o, true); }
export function decode_vfio_iommu_type1_info_cap_migration_ilp32(_n: i32): i32 { const o = new V.VfioIommuType1InfoCapMigration(); V.vfio_iommu_type1_info_cap_migration_read(BUF, o, true); cur = SLOTS; putMigration(o); return used(); }

function getBitmap(o: V.VfioBitmap): void { o.pgsize = g(); o.size = g(); o.data = g(); }
function putBitmap(o: V.VfioBitmap): void { p(o.pgsize); p(o.size); p(o.data); }
export function encode_vfio_bitmap(_n: i32): i32 { cur = SLOTS; const o = new V.VfioBitmap(); getBitmap(o); return V.vfio_bitmap_write(BUF, o); }
export function decode_vfio_bitmap(_n: i32): i32 { const o = new V.VfioBitmap(); V.vfio_bitmap_read(BUF, o); cur = SLOTS; putBitmap(o); return used(); }
export function encode_vfio_bitmap_ilp32(_n: i32): i32 { cur = SLOTS; const o = new V.VfioBitmap(); getBitmap(o); return V.vfio_bitmap_write(BUF, o, true); }
export function decode_vfio_bitmap_ilp32(_n: i32): i32 { const o = new V.VfioBitmap(); V.vfio_bitmap_read(BUF, o, true); cur = SLOTS; putBitmap(o); return used(); }

// Upstream structs of spec/linux/vfio.json with integer members only: a slot per member, in order.
function getVfioGroupStatus(o: V.VfioGroupStatus): void { o.argsz = <u32>g(); o.flags = <u32>g(); }
function putVfioGroupStatus(o: V.VfioGroupStatus): void { p(<u64>o.argsz); p(<u64>o.flags); }
export function encode_vfio_group_status(_n: i32): i32 { cur = SLOTS; const o = new V.VfioGroupStatus(); getVfioGroupStatus(o); return V.vfio_group_status_write(BUF, o); }
export function decode_vfio_group_status(_n: i32): i32 { const o = new V.VfioGroupStatus(); V.vfio_group_status_read(BUF, o); cur = SLOTS; putVfioGroupStatus(o); return used(); }
function getVfioIrqInfo(o: V.VfioIrqInfo): void { o.argsz = <u32>g(); o.flags = <u32>g(); o.index = <u32>g(); o.count = <u32>g(); }
function putVfioIrqInfo(o: V.VfioIrqInfo): void { p(<u64>o.argsz); p(<u64>o.flags); p(<u64>o.index); p(<u64>o.count); }
export function encode_vfio_irq_info(_n: i32): i32 { cur = SLOTS; const o = new V.VfioIrqInfo(); getVfioIrqInfo(o); return V.vfio_irq_info_write(BUF, o); }
export function decode_vfio_irq_info(_n: i32): i32 { const o = new V.VfioIrqInfo(); V.vfio_irq_info_read(BUF, o); cur = SLOTS; putVfioIrqInfo(o); return used(); }
function getVfioRegionGfxEdid(o: V.VfioRegionGfxEdid): void { o.edid_offset = <u32>g(); o.edid_max_size = <u32>g(); o.edid_size = <u32>g(); o.max_xres = <u32>g(); o.max_yres = <u32>g(); o.link_state = <u32>g(); }
function putVfioRegionGfxEdid(o: V.VfioRegionGfxEdid): void { p(<u64>o.edid_offset); p(<u64>o.edid_max_size); p(<u64>o.edid_size); p(<u64>o.max_xres); p(<u64>o.max_yres); p(<u64>o.link_state); }
export function encode_vfio_region_gfx_edid(_n: i32): i32 { cur = SLOTS; const o = new V.VfioRegionGfxEdid(); getVfioRegionGfxEdid(o); return V.vfio_region_gfx_edid_write(BUF, o); }
export function decode_vfio_region_gfx_edid(_n: i32): i32 { const o = new V.VfioRegionGfxEdid(); V.vfio_region_gfx_edid_read(BUF, o); cur = SLOTS; putVfioRegionGfxEdid(o); return used(); }
function getVfioDeviceMigrationInfo(o: V.VfioDeviceMigrationInfo): void { o.device_state = <u32>g(); o.reserved = <u32>g(); o.pending_bytes = <u64>g(); o.data_offset = <u64>g(); o.data_size = <u64>g(); }
function putVfioDeviceMigrationInfo(o: V.VfioDeviceMigrationInfo): void { p(<u64>o.device_state); p(<u64>o.reserved); p(<u64>o.pending_bytes); p(<u64>o.data_offset); p(<u64>o.data_size); }
export function encode_vfio_device_migration_info(_n: i32): i32 { cur = SLOTS; const o = new V.VfioDeviceMigrationInfo(); getVfioDeviceMigrationInfo(o); return V.vfio_device_migration_info_write(BUF, o); }
export function decode_vfio_device_migration_info(_n: i32): i32 { const o = new V.VfioDeviceMigrationInfo(); V.vfio_device_migration_info_read(BUF, o); cur = SLOTS; putVfioDeviceMigrationInfo(o); return used(); }
function getVfioDeviceIoeventfd(o: V.VfioDeviceIoeventfd): void { o.argsz = <u32>g(); o.flags = <u32>g(); o.offset = <u64>g(); o.data = <u64>g(); o.fd = <i32>g(); }
function putVfioDeviceIoeventfd(o: V.VfioDeviceIoeventfd): void { p(<u64>o.argsz); p(<u64>o.flags); p(<u64>o.offset); p(<u64>o.data); p(<u64>o.fd); }
export function encode_vfio_device_ioeventfd(_n: i32): i32 { cur = SLOTS; const o = new V.VfioDeviceIoeventfd(); getVfioDeviceIoeventfd(o); return V.vfio_device_ioeventfd_write(BUF, o); }
export function decode_vfio_device_ioeventfd(_n: i32): i32 { const o = new V.VfioDeviceIoeventfd(); V.vfio_device_ioeventfd_read(BUF, o); cur = SLOTS; putVfioDeviceIoeventfd(o); return used(); }
function getVfioDeviceFeatureMigration(o: V.VfioDeviceFeatureMigration): void { o.flags = <u64>g(); }
function putVfioDeviceFeatureMigration(o: V.VfioDeviceFeatureMigration): void { p(<u64>o.flags); }
export function encode_vfio_device_feature_migration(_n: i32): i32 { cur = SLOTS; const o = new V.VfioDeviceFeatureMigration(); getVfioDeviceFeatureMigration(o); return V.vfio_device_feature_migration_write(BUF, o); }
export function decode_vfio_device_feature_migration(_n: i32): i32 { const o = new V.VfioDeviceFeatureMigration(); V.vfio_device_feature_migration_read(BUF, o); cur = SLOTS; putVfioDeviceFeatureMigration(o); return used(); }
function getVfioDeviceFeatureMigState(o: V.VfioDeviceFeatureMigState): void { o.device_state = <u32>g(); o.data_fd = <i32>g(); }
function putVfioDeviceFeatureMigState(o: V.VfioDeviceFeatureMigState): void { p(<u64>o.device_state); p(<u64>o.data_fd); }
export function encode_vfio_device_feature_mig_state(_n: i32): i32 { cur = SLOTS; const o = new V.VfioDeviceFeatureMigState(); getVfioDeviceFeatureMigState(o); return V.vfio_device_feature_mig_state_write(BUF, o); }
export function decode_vfio_device_feature_mig_state(_n: i32): i32 { const o = new V.VfioDeviceFeatureMigState(); V.vfio_device_feature_mig_state_read(BUF, o); cur = SLOTS; putVfioDeviceFeatureMigState(o); return used(); }
function getVfioDeviceLowPowerEntryWithWakeup(o: V.VfioDeviceLowPowerEntryWithWakeup): void { o.wakeup_eventfd = <i32>g(); o.reserved = <u32>g(); }
function putVfioDeviceLowPowerEntryWithWakeup(o: V.VfioDeviceLowPowerEntryWithWakeup): void { p(<u64>o.wakeup_eventfd); p(<u64>o.reserved); }
export function encode_vfio_device_low_power_entry_with_wakeup(_n: i32): i32 { cur = SLOTS; const o = new V.VfioDeviceLowPowerEntryWithWakeup(); getVfioDeviceLowPowerEntryWithWakeup(o); return V.vfio_device_low_power_entry_with_wakeup_write(BUF, o); }
export function decode_vfio_device_low_power_entry_with_wakeup(_n: i32): i32 { const o = new V.VfioDeviceLowPowerEntryWithWakeup(); V.vfio_device_low_power_entry_with_wakeup_read(BUF, o); cur = SLOTS; putVfioDeviceLowPowerEntryWithWakeup(o); return used(); }
function getVfioDeviceFeatureDmaLoggingRange(o: V.VfioDeviceFeatureDmaLoggingRange): void { o.iova = <u64>g(); o.length = <u64>g(); }
function putVfioDeviceFeatureDmaLoggingRange(o: V.VfioDeviceFeatureDmaLoggingRange): void { p(<u64>o.iova); p(<u64>o.length); }
export function encode_vfio_device_feature_dma_logging_range(_n: i32): i32 { cur = SLOTS; const o = new V.VfioDeviceFeatureDmaLoggingRange(); getVfioDeviceFeatureDmaLoggingRange(o); return V.vfio_device_feature_dma_logging_range_write(BUF, o); }
export function decode_vfio_device_feature_dma_logging_range(_n: i32): i32 { const o = new V.VfioDeviceFeatureDmaLoggingRange(); V.vfio_device_feature_dma_logging_range_read(BUF, o); cur = SLOTS; putVfioDeviceFeatureDmaLoggingRange(o); return used(); }
function getVfioDeviceFeatureDmaLoggingControl(o: V.VfioDeviceFeatureDmaLoggingControl): void { o.page_size = <u64>g(); o.num_ranges = <u32>g(); o.__reserved = <u32>g(); o.ranges = <u64>g(); }
function putVfioDeviceFeatureDmaLoggingControl(o: V.VfioDeviceFeatureDmaLoggingControl): void { p(<u64>o.page_size); p(<u64>o.num_ranges); p(<u64>o.__reserved); p(<u64>o.ranges); }
export function encode_vfio_device_feature_dma_logging_control(_n: i32): i32 { cur = SLOTS; const o = new V.VfioDeviceFeatureDmaLoggingControl(); getVfioDeviceFeatureDmaLoggingControl(o); return V.vfio_device_feature_dma_logging_control_write(BUF, o); }
export function decode_vfio_device_feature_dma_logging_control(_n: i32): i32 { const o = new V.VfioDeviceFeatureDmaLoggingControl(); V.vfio_device_feature_dma_logging_control_read(BUF, o); cur = SLOTS; putVfioDeviceFeatureDmaLoggingControl(o); return used(); }
function getVfioDeviceFeatureDmaLoggingReport(o: V.VfioDeviceFeatureDmaLoggingReport): void { o.iova = <u64>g(); o.length = <u64>g(); o.page_size = <u64>g(); o.bitmap = <u64>g(); }
function putVfioDeviceFeatureDmaLoggingReport(o: V.VfioDeviceFeatureDmaLoggingReport): void { p(<u64>o.iova); p(<u64>o.length); p(<u64>o.page_size); p(<u64>o.bitmap); }
export function encode_vfio_device_feature_dma_logging_report(_n: i32): i32 { cur = SLOTS; const o = new V.VfioDeviceFeatureDmaLoggingReport(); getVfioDeviceFeatureDmaLoggingReport(o); return V.vfio_device_feature_dma_logging_report_write(BUF, o); }
export function decode_vfio_device_feature_dma_logging_report(_n: i32): i32 { const o = new V.VfioDeviceFeatureDmaLoggingReport(); V.vfio_device_feature_dma_logging_report_read(BUF, o); cur = SLOTS; putVfioDeviceFeatureDmaLoggingReport(o); return used(); }
function getVfioIovaRange(o: V.VfioIovaRange): void { o.start = <u64>g(); o.end = <u64>g(); }
function putVfioIovaRange(o: V.VfioIovaRange): void { p(<u64>o.start); p(<u64>o.end); }
export function encode_vfio_iova_range(_n: i32): i32 { cur = SLOTS; const o = new V.VfioIovaRange(); getVfioIovaRange(o); return V.vfio_iova_range_write(BUF, o); }
export function decode_vfio_iova_range(_n: i32): i32 { const o = new V.VfioIovaRange(); V.vfio_iova_range_read(BUF, o); cur = SLOTS; putVfioIovaRange(o); return used(); }
function getVfioIommuType1DmaMap(o: V.VfioIommuType1DmaMap): void { o.argsz = <u32>g(); o.flags = <u32>g(); o.vaddr = <u64>g(); o.iova = <u64>g(); o.size = <u64>g(); }
function putVfioIommuType1DmaMap(o: V.VfioIommuType1DmaMap): void { p(<u64>o.argsz); p(<u64>o.flags); p(<u64>o.vaddr); p(<u64>o.iova); p(<u64>o.size); }
export function encode_vfio_iommu_type1_dma_map(_n: i32): i32 { cur = SLOTS; const o = new V.VfioIommuType1DmaMap(); getVfioIommuType1DmaMap(o); return V.vfio_iommu_type1_dma_map_write(BUF, o); }
export function decode_vfio_iommu_type1_dma_map(_n: i32): i32 { const o = new V.VfioIommuType1DmaMap(); V.vfio_iommu_type1_dma_map_read(BUF, o); cur = SLOTS; putVfioIommuType1DmaMap(o); return used(); }
function getVfioIommuSpaprTceDdwInfo(o: V.VfioIommuSpaprTceDdwInfo): void { o.pgsizes = <u64>g(); o.max_dynamic_windows_supported = <u32>g(); o.levels = <u32>g(); }
function putVfioIommuSpaprTceDdwInfo(o: V.VfioIommuSpaprTceDdwInfo): void { p(<u64>o.pgsizes); p(<u64>o.max_dynamic_windows_supported); p(<u64>o.levels); }
export function encode_vfio_iommu_spapr_tce_ddw_info(_n: i32): i32 { cur = SLOTS; const o = new V.VfioIommuSpaprTceDdwInfo(); getVfioIommuSpaprTceDdwInfo(o); return V.vfio_iommu_spapr_tce_ddw_info_write(BUF, o); }
export function decode_vfio_iommu_spapr_tce_ddw_info(_n: i32): i32 { const o = new V.VfioIommuSpaprTceDdwInfo(); V.vfio_iommu_spapr_tce_ddw_info_read(BUF, o); cur = SLOTS; putVfioIommuSpaprTceDdwInfo(o); return used(); }
function getVfioEehPeErr(o: V.VfioEehPeErr): void { o.type = <u32>g(); o.func = <u32>g(); o.addr = <u64>g(); o.mask = <u64>g(); }
function putVfioEehPeErr(o: V.VfioEehPeErr): void { p(<u64>o.type); p(<u64>o.func); p(<u64>o.addr); p(<u64>o.mask); }
export function encode_vfio_eeh_pe_err(_n: i32): i32 { cur = SLOTS; const o = new V.VfioEehPeErr(); getVfioEehPeErr(o); return V.vfio_eeh_pe_err_write(BUF, o); }
export function decode_vfio_eeh_pe_err(_n: i32): i32 { const o = new V.VfioEehPeErr(); V.vfio_eeh_pe_err_read(BUF, o); cur = SLOTS; putVfioEehPeErr(o); return used(); }
function getVfioIommuSpaprRegisterMemory(o: V.VfioIommuSpaprRegisterMemory): void { o.argsz = <u32>g(); o.flags = <u32>g(); o.vaddr = <u64>g(); o.size = <u64>g(); }
function putVfioIommuSpaprRegisterMemory(o: V.VfioIommuSpaprRegisterMemory): void { p(<u64>o.argsz); p(<u64>o.flags); p(<u64>o.vaddr); p(<u64>o.size); }
export function encode_vfio_iommu_spapr_register_memory(_n: i32): i32 { cur = SLOTS; const o = new V.VfioIommuSpaprRegisterMemory(); getVfioIommuSpaprRegisterMemory(o); return V.vfio_iommu_spapr_register_memory_write(BUF, o); }
export function decode_vfio_iommu_spapr_register_memory(_n: i32): i32 { const o = new V.VfioIommuSpaprRegisterMemory(); V.vfio_iommu_spapr_register_memory_read(BUF, o); cur = SLOTS; putVfioIommuSpaprRegisterMemory(o); return used(); }
function getVfioIommuSpaprTceCreate(o: V.VfioIommuSpaprTceCreate): void { o.argsz = <u32>g(); o.flags = <u32>g(); o.page_shift = <u32>g(); o.__resv1 = <u32>g(); o.window_size = <u64>g(); o.levels = <u32>g(); o.__resv2 = <u32>g(); o.start_addr = <u64>g(); }
function putVfioIommuSpaprTceCreate(o: V.VfioIommuSpaprTceCreate): void { p(<u64>o.argsz); p(<u64>o.flags); p(<u64>o.page_shift); p(<u64>o.__resv1); p(<u64>o.window_size); p(<u64>o.levels); p(<u64>o.__resv2); p(<u64>o.start_addr); }
export function encode_vfio_iommu_spapr_tce_create(_n: i32): i32 { cur = SLOTS; const o = new V.VfioIommuSpaprTceCreate(); getVfioIommuSpaprTceCreate(o); return V.vfio_iommu_spapr_tce_create_write(BUF, o); }
export function decode_vfio_iommu_spapr_tce_create(_n: i32): i32 { const o = new V.VfioIommuSpaprTceCreate(); V.vfio_iommu_spapr_tce_create_read(BUF, o); cur = SLOTS; putVfioIommuSpaprTceCreate(o); return used(); }
function getVfioIommuSpaprTceRemove(o: V.VfioIommuSpaprTceRemove): void { o.argsz = <u32>g(); o.flags = <u32>g(); o.start_addr = <u64>g(); }
function putVfioIommuSpaprTceRemove(o: V.VfioIommuSpaprTceRemove): void { p(<u64>o.argsz); p(<u64>o.flags); p(<u64>o.start_addr); }
export function encode_vfio_iommu_spapr_tce_remove(_n: i32): i32 { cur = SLOTS; const o = new V.VfioIommuSpaprTceRemove(); getVfioIommuSpaprTceRemove(o); return V.vfio_iommu_spapr_tce_remove_write(BUF, o); }
export function decode_vfio_iommu_spapr_tce_remove(_n: i32): i32 { const o = new V.VfioIommuSpaprTceRemove(); V.vfio_iommu_spapr_tce_remove_read(BUF, o); cur = SLOTS; putVfioIommuSpaprTceRemove(o); return used(); }
function getVfioDeviceBindIommufd(o: V.VfioDeviceBindIommufd): void { o.argsz = <u32>g(); o.flags = <u32>g(); o.iommufd = <i32>g(); o.out_devid = <u32>g(); }
function putVfioDeviceBindIommufd(o: V.VfioDeviceBindIommufd): void { p(<u64>o.argsz); p(<u64>o.flags); p(<u64>o.iommufd); p(<u64>o.out_devid); }
export function encode_vfio_device_bind_iommufd(_n: i32): i32 { cur = SLOTS; const o = new V.VfioDeviceBindIommufd(); getVfioDeviceBindIommufd(o); return V.vfio_device_bind_iommufd_write(BUF, o); }
export function decode_vfio_device_bind_iommufd(_n: i32): i32 { const o = new V.VfioDeviceBindIommufd(); V.vfio_device_bind_iommufd_read(BUF, o); cur = SLOTS; putVfioDeviceBindIommufd(o); return used(); }
function getVfioDeviceAttachIommufdPt(o: V.VfioDeviceAttachIommufdPt): void { o.argsz = <u32>g(); o.flags = <u32>g(); o.pt_id = <u32>g(); }
function putVfioDeviceAttachIommufdPt(o: V.VfioDeviceAttachIommufdPt): void { p(<u64>o.argsz); p(<u64>o.flags); p(<u64>o.pt_id); }
export function encode_vfio_device_attach_iommufd_pt(_n: i32): i32 { cur = SLOTS; const o = new V.VfioDeviceAttachIommufdPt(); getVfioDeviceAttachIommufdPt(o); return V.vfio_device_attach_iommufd_pt_write(BUF, o); }
export function decode_vfio_device_attach_iommufd_pt(_n: i32): i32 { const o = new V.VfioDeviceAttachIommufdPt(); V.vfio_device_attach_iommufd_pt_read(BUF, o); cur = SLOTS; putVfioDeviceAttachIommufdPt(o); return used(); }
function getVfioDeviceDetachIommufdPt(o: V.VfioDeviceDetachIommufdPt): void { o.argsz = <u32>g(); o.flags = <u32>g(); }
function putVfioDeviceDetachIommufdPt(o: V.VfioDeviceDetachIommufdPt): void { p(<u64>o.argsz); p(<u64>o.flags); }
export function encode_vfio_device_detach_iommufd_pt(_n: i32): i32 { cur = SLOTS; const o = new V.VfioDeviceDetachIommufdPt(); getVfioDeviceDetachIommufdPt(o); return V.vfio_device_detach_iommufd_pt_write(BUF, o); }
export function decode_vfio_device_detach_iommufd_pt(_n: i32): i32 { const o = new V.VfioDeviceDetachIommufdPt(); V.vfio_device_detach_iommufd_pt_read(BUF, o); cur = SLOTS; putVfioDeviceDetachIommufdPt(o); return used(); }
function getVfioPrecopyInfo(o: V.VfioPrecopyInfo): void { o.argsz = <u32>g(); o.flags = <u32>g(); o.initial_bytes = <u64>g(); o.dirty_bytes = <u64>g(); }
function putVfioPrecopyInfo(o: V.VfioPrecopyInfo): void { p(<u64>o.argsz); p(<u64>o.flags); p(<u64>o.initial_bytes); p(<u64>o.dirty_bytes); }
export function encode_vfio_precopy_info(_n: i32): i32 { cur = SLOTS; const o = new V.VfioPrecopyInfo(); getVfioPrecopyInfo(o); return V.vfio_precopy_info_write(BUF, o); }
export function decode_vfio_precopy_info(_n: i32): i32 { const o = new V.VfioPrecopyInfo(); V.vfio_precopy_info_read(BUF, o); cur = SLOTS; putVfioPrecopyInfo(o); return used(); }
function getVfioDeviceFeatureMigDataSize(o: V.VfioDeviceFeatureMigDataSize): void { o.stop_copy_length = <u64>g(); }
function putVfioDeviceFeatureMigDataSize(o: V.VfioDeviceFeatureMigDataSize): void { p(<u64>o.stop_copy_length); }
export function encode_vfio_device_feature_mig_data_size(_n: i32): i32 { cur = SLOTS; const o = new V.VfioDeviceFeatureMigDataSize(); getVfioDeviceFeatureMigDataSize(o); return V.vfio_device_feature_mig_data_size_write(BUF, o); }
export function decode_vfio_device_feature_mig_data_size(_n: i32): i32 { const o = new V.VfioDeviceFeatureMigDataSize(); V.vfio_device_feature_mig_data_size_read(BUF, o); cur = SLOTS; putVfioDeviceFeatureMigDataSize(o); return used(); }
function getVfioDeviceFeatureBusMaster(o: V.VfioDeviceFeatureBusMaster): void { o.op = <u32>g(); }
function putVfioDeviceFeatureBusMaster(o: V.VfioDeviceFeatureBusMaster): void { p(<u64>o.op); }
export function encode_vfio_device_feature_bus_master(_n: i32): i32 { cur = SLOTS; const o = new V.VfioDeviceFeatureBusMaster(); getVfioDeviceFeatureBusMaster(o); return V.vfio_device_feature_bus_master_write(BUF, o); }
export function decode_vfio_device_feature_bus_master(_n: i32): i32 { const o = new V.VfioDeviceFeatureBusMaster(); V.vfio_device_feature_bus_master_read(BUF, o); cur = SLOTS; putVfioDeviceFeatureBusMaster(o); return used(); }
function getVfioRegionDmaRange(o: V.VfioRegionDmaRange): void { o.offset = <u64>g(); o.length = <u64>g(); }
function putVfioRegionDmaRange(o: V.VfioRegionDmaRange): void { p(<u64>o.offset); p(<u64>o.length); }
export function encode_vfio_region_dma_range(_n: i32): i32 { cur = SLOTS; const o = new V.VfioRegionDmaRange(); getVfioRegionDmaRange(o); return V.vfio_region_dma_range_write(BUF, o); }
export function decode_vfio_region_dma_range(_n: i32): i32 { const o = new V.VfioRegionDmaRange(); V.vfio_region_dma_range_read(BUF, o); cur = SLOTS; putVfioRegionDmaRange(o); return used(); }
function getVfioDeviceFeatureZpciErr(o: V.VfioDeviceFeatureZpciErr): void { o.data = <u64>g(); }
function putVfioDeviceFeatureZpciErr(o: V.VfioDeviceFeatureZpciErr): void { p(<u64>o.data); }
export function encode_vfio_device_feature_zpci_err(_n: i32): i32 { cur = SLOTS; const o = new V.VfioDeviceFeatureZpciErr(); getVfioDeviceFeatureZpciErr(o); return V.vfio_device_feature_zpci_err_write(BUF, o); }
export function decode_vfio_device_feature_zpci_err(_n: i32): i32 { const o = new V.VfioDeviceFeatureZpciErr(); V.vfio_device_feature_zpci_err_read(BUF, o); cur = SLOTS; putVfioDeviceFeatureZpciErr(o); return used(); }
