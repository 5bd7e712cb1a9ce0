import * as abi from './generated/vfio-subregion.js';
import type { Device, RegionInfo } from './device.js';
import type { SimMapping } from './native.js';

const RF = abi.VfioRegionInfoFlags;
const PCI_NAMES = ['BAR0', 'BAR1', 'BAR2', 'BAR3', 'BAR4', 'BAR5', 'ROM', 'CONFIG', 'VGA'];

/** Region flags as words: "read write mmap caps". */
export function flagWords(flags: number): string {
  const words = [
    [RF.VFIO_REGION_INFO_FLAG_READ, 'read'], [RF.VFIO_REGION_INFO_FLAG_WRITE, 'write'],
    [RF.VFIO_REGION_INFO_FLAG_MMAP, 'mmap'], [RF.VFIO_REGION_INFO_FLAG_CAPS, 'caps'],
  ].filter(([bit]) => (flags & (bit as number)) !== 0).map(([, w]) => w as string);
  return words.length > 0 ? words.join(' ') : 'none';
}

/** Attribute bits as names: "WC". */
export function attrWords(attrs: number): string {
  const names = Object.entries(abi.VfioRegionAttr).filter(([, bit]) => (attrs & bit) !== 0).map(([n]) => n.replace('VFIO_REGION_ATTR_', ''));
  const unknown = attrs & ~abi.VfioRegionAttrMask;
  if (unknown !== 0) names.push(`0x${unknown.toString(16)}`);
  return names.length > 0 ? names.join(' ') : 'UC';
}

export function size(n: bigint): string {
  for (const [unit, shift] of [['G', 30n], ['M', 20n], ['K', 10n]] as const) {
    if (n >= 1n << shift && n % (1n << shift) === 0n) return `${n >> shift}${unit}`;
  }
  return `${n}`;
}

const hex = (n: bigint | number): string => `0x${n.toString(16)}`;
const hex4 = (n: number): string => n.toString(16).padStart(4, '0');

function capText(c: abi.RegionInfoCapEntry): string {
  switch (c.name) {
    case 'VFIO_REGION_INFO_CAP_SPARSE_MMAP': return `sparse mmap: ${c.value.areas.map((a) => `[${hex(a.offset)}, +${size(a.size)}]`).join(' ')}`;
    case 'VFIO_REGION_INFO_CAP_TYPE': return `type ${hex(c.value.type)} subtype ${c.value.subtype}`;
    case 'VFIO_REGION_INFO_CAP_MSIX_MAPPABLE': return 'MSI-X table mappable';
    case 'VFIO_REGION_INFO_CAP_SUBREGION': return `subregion of region ${c.value.parent_index} at +${hex(c.value.offset)}`;
    case 'VFIO_REGION_INFO_CAP_ATTRS': return `attributes: ${attrWords(c.value.attrs)}`;
    default: return `unknown capability id ${c.header.id} v${c.header.version}`;
  }
}

/** What the config region's header says: identity and each BAR's type bits. */
export interface PciHeader {
  vendorId: number;
  deviceId: number;
  classCode: number;
  /** BAR0..5 as lspci words ("memory, 32-bit, prefetchable", "I/O ports"), null when unimplemented. */
  bars: (string | null)[];
}

const CONFIG_INDEX = 7;

function barWords(v: number): string | null {
  if (v === 0) return null;
  if ((v & 1) !== 0) return 'I/O ports';
  const width = ((v >>> 1) & 3) === 2 ? '64-bit' : '32-bit';
  return `memory, ${width}, ${(v & 8) !== 0 ? 'prefetchable' : 'non-prefetchable'}`;
}

/** Reads the type 0 header through the config region, as vfio-pci virtualizes it. */
export function readPciHeader(dev: Device, regions: RegionInfo[]): PciHeader | null {
  const cfg = regions[CONFIG_INDEX];
  if (cfg === undefined || cfg.size < 0x40n || (cfg.flags & RF.VFIO_REGION_INFO_FLAG_READ) === 0 || cfg.subregion !== null) return null;
  const h = Buffer.from(dev.read(CONFIG_INDEX, 0, 0x40));
  return {
    vendorId: h.readUInt16LE(0),
    deviceId: h.readUInt16LE(2),
    classCode: h.readUInt32LE(8) >>> 8,
    bars: Array.from({ length: 6 }, (_, i) => barWords(h.readUInt32LE(0x10 + 4 * i))),
  };
}

export interface InfoReport {
  source: string;
  pci: PciHeader | null;
  numRegions: number;
  numIrqs: number;
  support: { subregion: boolean; regionAttrsGet: boolean; regionAttrsSet: boolean };
  regions: (RegionInfo & { name: string; supportedAttrs: number | null })[];
  mappings: SimMapping[] | null;
}

/** Everything `info` shows, gathered from the device. */
export function gatherInfo(dev: Device): InfoReport {
  const info = dev.info();
  const support = dev.support();
  const regions = dev.regions().map((r) => {
    let supportedAttrs: number | null = null;
    if (support.regionAttrsGet) supportedAttrs = dev.regionAttrs(r.index).supported;
    return { ...r, name: r.index < PCI_NAMES.length ? PCI_NAMES[r.index]! : r.subregion !== null ? 'subregion' : 'device-specific', supportedAttrs };
  });
  let mappings: SimMapping[] | null = null;
  if (dev.source === 'simulator') mappings = dev.simMappings();
  return { source: dev.source, pci: readPciHeader(dev, regions), numRegions: info.numRegions, numIrqs: info.numIrqs, support, regions, mappings };
}

/** The region table, readable like `lspci -vv`. */
export function formatInfo(r: InfoReport): string {
  const out: string[] = [];
  out.push(`Device: ${r.source}, ${r.numRegions} regions, ${r.numIrqs} IRQs`);
  if (r.pci !== null) out.push(`\tPCI: [${hex4(r.pci.vendorId)}:${hex4(r.pci.deviceId)}] class ${r.pci.classCode.toString(16).padStart(6, '0')}`);
  out.push(`\tSubregions: ${r.support.subregion ? 'supported' : 'not supported'}; region attributes: ${r.support.regionAttrsGet ? 'get' : '-'}${r.support.regionAttrsSet ? '/set' : ''}`);
  for (const reg of r.regions) {
    if (reg.size === 0n && reg.caps.length === 0) {
      out.push(`Region ${reg.index} (${reg.name}): unimplemented`);
      continue;
    }
    out.push(`Region ${reg.index} (${reg.name}): size ${size(reg.size)} [${flagWords(reg.flags)}] at fd offset ${hex(reg.offset)}`);
    const bar = reg.index < 6 ? r.pci?.bars[reg.index] : undefined;
    if (bar) out.push(`\tBAR: ${bar}`);
    if (reg.subregion !== null) out.push(`\tParent: region ${reg.subregion.parent} at +${hex(reg.subregion.offset)}`);
    const supported = reg.supportedAttrs !== null ? ` (supported: ${reg.supportedAttrs !== 0 ? attrWords(reg.supportedAttrs) : 'none'})` : '';
    if ((reg.flags & RF.VFIO_REGION_INFO_FLAG_MMAP) !== 0) out.push(`\tAttributes: ${attrWords(reg.attrs)}${supported}`);
    for (const c of reg.caps) out.push(`\tCapability: ${capText(c)}`);
  }
  if (r.mappings !== null) {
    out.push(r.mappings.length > 0 ? 'Mappings (as the page tables have them):' : 'Mappings: none');
    for (const m of r.mappings) out.push(`\tregion ${m.index} +${hex(m.offset)} ${size(BigInt(m.length))} ${attrWords(m.attrs)}`);
  }
  return out.join('\n') + '\n';
}

/** JSON with bigints as hex strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? hex(v) : v), 2) + '\n';
}
