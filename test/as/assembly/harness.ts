// AssemblyScript test entry (hand-written). Compiled by test/as/vectors.test.ts with asc; it
// re-exports the generated module (so its constants become wasm globals) and the struct <-> slots
// glue test/as/glue.ts prints from the IR (encode_<struct>/decode_<struct> for every struct,
// cap_body_<info> for every capability chain), and adds what is not per struct: the ioctl number
// lookups, the validator runners, the capability-chain walker calls and the MMIO window.
//
// Protocol: integers travel as u64 "slots" at SLOTS (see glue.ts). Byte buffers live at BUF;
// strings travel as UTF-16 code units at STR (in) / STR (out).

import * as V from "../../../runtime/assembly/generated/vfio-subregion";
import { BUF, get_vfio_device_feature_region_attrs, get_vfio_device_feature_subregion, put_slot, put_vfio_device_feature_region_attrs,
  put_vfio_device_feature_subregion, rewind_slots, slots_used } from "./glue";
export * from "../../../runtime/assembly/generated/vfio-subregion";
export * from "./glue";

const STR: usize = memory.data(4096, 16);
/** A 4 KiB "MMIO window" for the Region tests (page-aligned, inside linear memory). */
const WIN: usize = memory.data(4096, 4096);

export function h_str(): usize { return STR; }
export function h_win(): usize { return WIN; }

/** Writes s to STR; returns its length in code units. */
function sout(s: string): i32 {
  for (let i = 0; i < s.length; i++) store<u16>(STR + (<usize>i << 1), <u16>s.charCodeAt(i));
  return s.length;
}
function sin(at: usize, len: i32): string { return String.UTF16.decodeUnsafe(at, <usize>len << 1); }

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
  put_slot(r.size); put_slot(r.parent_offset); put_slot(r.flags); put_slot(r.attrs); put_slot(r.supported_attrs); put_slot(r.parent_index);
  put_slot(r.is_subregion ? 1 : 0); put_slot(r.mapped ? 1 : 0);
}

let lastRule = "";
export function h_last_rule(): i32 { return sout(lastRule); }

// run_<validator>(): request from slots; check; on success apply. Then slots hold the request
// (after effects) followed by the created region (creates) or the bound region.

export function run_subregion_create(): i32 {
  rewind_slots(); const req = new V.VfioDeviceFeatureSubregion(); get_vfio_device_feature_subregion(req);
  const res = new V.SubregionCreateResult();
  const e = V.subregion_create_check(dev, req, res);
  lastRule = res.ruleName;
  if (e != 0) return e;
  const created = new V.VfioSubregionRegionState();
  V.subregion_create_apply(dev, req, res, created);
  rewind_slots(); put_vfio_device_feature_subregion(req); putRegion(created);
  return 0;
}
export function run_region_attrs_set(): i32 {
  rewind_slots(); const req = new V.VfioDeviceFeatureRegionAttrs(); get_vfio_device_feature_region_attrs(req);
  const res = new V.RegionAttrsSetResult();
  const e = V.region_attrs_set_check(dev, req, res);
  lastRule = res.ruleName;
  if (e != 0) return e;
  V.region_attrs_set_apply(dev, req, res);
  rewind_slots(); put_vfio_device_feature_region_attrs(req); putRegion(dev.regions[res.region]);
  return 0;
}
export function run_region_attrs_get(): i32 {
  rewind_slots(); const req = new V.VfioDeviceFeatureRegionAttrs(); get_vfio_device_feature_region_attrs(req);
  const res = new V.RegionAttrsGetResult();
  const e = V.region_attrs_get_check(dev, req, res);
  lastRule = res.ruleName;
  if (e != 0) return e;
  V.region_attrs_get_apply(dev, req, res);
  rewind_slots(); put_vfio_device_feature_region_attrs(req); putRegion(dev.regions[res.region]);
  return 0;
}

// ---- capability chains (walk_<info> and its readers are in the glue) ----

export function h_status_name(s: i32): i32 { return sout(V.capchain_status_name(s)); }

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
