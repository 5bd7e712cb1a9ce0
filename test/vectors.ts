import { resolve } from 'node:path';
import { readJsonFile } from '../codegen/json-source.js';
import { ROOT } from '../codegen/load.js';
import { validateAgainst } from '../codegen/schema.js';
import type { Chain, Ioctl, Spec, Struct } from '../codegen/ir.js';

/**
 * Loads the hand-written vectors (spec/vectors/*.json), checking each file against
 * spec/schema/vectors.schema.json first so a malformed vector fails loudly with its position.
 */

export const VECTOR_SCHEMA = resolve(ROOT, 'spec/schema/vectors.schema.json');

/** An unsigned integer as vectors write it: a number, or a decimal or 0x-hex string. */
export type VUint = number | string;
export const big = (v: VUint): bigint => BigInt(v);

export interface LayoutCase { name: string; doc: string; struct: string; size: number; fields: Record<string, unknown>; bytes: string }
export interface IoctlCase { name: string; doc: string; encode: { dir: 'IO' | 'IOR' | 'IOW' | 'IOWR'; type: VUint; nr: number; size: number }; numbers: Record<string, string> }
/** The info struct of the reply: its members (those of the ioctl's argument struct). */
export type CapInfo = Record<string, VUint>;
export interface CapEntry { offset: number; id: number; version: number; next: number; body?: Record<string, unknown> }
export interface CapchainCase {
  /** The info ioctl whose reply buffer is; absent: VFIO_DEVICE_GET_REGION_INFO (capchainIoctl). */
  name: string; doc: string; ioctl?: string; buffer: string;
  /** The data model the reply is laid out in (FORMAT.md): lp64 when absent. */
  data_model?: 'lp64' | 'ilp32';
  expect: { info: CapInfo; caps: CapEntry[] } | { info: CapInfo; retry: number } | { error: 'out-of-bounds' | 'backwards' | 'loop' | 'truncated' | 'misaligned'; at: number };
}
export interface RegionStateV { size: VUint; flags: VUint; attrs: VUint; supported_attrs: VUint; is_subregion: boolean; mapped: boolean; parent_index?: VUint; parent_offset?: VUint }
export interface DeviceV { page_size: VUint; max_subregions: VUint; nr_subregions: VUint; region_span: VUint; regions: RegionStateV[] }
export interface ValidationCase {
  name: string; doc: string; device: string; op: string; request: Record<string, VUint>;
  expect: { errno: string; rule: string } | { ok: true; effects: Record<string, VUint | boolean> };
}

export interface VectorFiles {
  layout: LayoutCase[];
  ioctl: IoctlCase[];
  capchain: CapchainCase[];
  validation: { devices: Record<string, DeviceV>; cases: ValidationCase[] };
}

/** Reads one vector file, validated against the vector schema (throws SpecError with positions). */
export function readVectorFile(file: string): { kind: string; cases: unknown[]; devices?: Record<string, DeviceV> } {
  const src = readJsonFile(file);
  validateAgainst(VECTOR_SCHEMA, src);
  return src.value as { kind: string; cases: unknown[]; devices?: Record<string, DeviceV> };
}

export function loadVectors(dir = resolve(ROOT, 'spec/vectors')): VectorFiles {
  const layout = readVectorFile(resolve(dir, 'layout.json'));
  const ioctl = readVectorFile(resolve(dir, 'ioctl.json'));
  const capchain = readVectorFile(resolve(dir, 'capchain.json'));
  const validation = readVectorFile(resolve(dir, 'validation.json'));
  return {
    layout: layout.cases as LayoutCase[],
    ioctl: ioctl.cases as IoctlCase[],
    capchain: capchain.cases as CapchainCase[],
    validation: { devices: validation.devices!, cases: validation.cases as ValidationCase[] },
  };
}

export interface MmioPatch { offset: number; bytes: string }
export type MmioOp =
  | { op: 'write'; width: 8 | 16 | 32 | 64; offset: number; value: VUint }
  | { op: 'read'; width: 8 | 16 | 32 | 64; offset: number; expect: VUint }
  | { op: 'burst'; offset: number; bytes: string }
  | { op: 'wmb'; seen: MmioPatch[] }
  | { op: 'flush'; offset: number; seen: MmioPatch[] };
export interface MmioCase { name: string; doc: string; window: number; initial?: MmioPatch[]; ops: MmioOp[]; final: MmioPatch[] }

/** spec/vectors/mmio.json (kind mmio), validated against the vector schema. */
export function loadMmioVectors(dir = resolve(ROOT, 'spec/vectors')): MmioCase[] {
  return readVectorFile(resolve(dir, 'mmio.json')).cases as MmioCase[];
}

export const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
export const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

/** One answer a memtype step expects: success, or the errno and the rule that refused it. */
export type MemtypeExpect = 'ok' | { errno: string; rule: string };
/** A region index, or the name a create step gave a subregion. */
export type MemtypeRegionRef = number | string;
export type MemtypeStep =
  | { op: 'create'; parent: number; offset: number; size: number; attrs: number; as?: string; expect: MemtypeExpect }
  | { op: 'map'; region: MemtypeRegionRef; offset: number; length: number; as?: string; expect: MemtypeExpect }
  | { op: 'unmap'; mapping: string }
  | { op: 'set'; region: MemtypeRegionRef; attrs: number; expect: MemtypeExpect }
  | { op: 'get'; region: MemtypeRegionRef; expect: { attrs: number; supported?: number } };
export interface MemtypeScenario { name: string; doc: string; steps: MemtypeStep[] }
export interface MemtypeDevice {
  doc: string; page_size: number;
  regions: { index: number; size: number; mmap: boolean; prefetchable: boolean; supported_attrs: number }[];
}

/** spec/vectors/memtype.json (kind memtype), validated against the vector schema. */
export function loadMemtypeVectors(dir = resolve(ROOT, 'spec/vectors')): { device: MemtypeDevice; scenarios: MemtypeScenario[] } {
  const src = readJsonFile(resolve(dir, 'memtype.json'));
  validateAgainst(VECTOR_SCHEMA, src);
  const v = src.value as { kind: string; device: MemtypeDevice; scenarios: MemtypeScenario[] };
  if (v.kind !== 'memtype') throw new Error(`memtype.json: kind ${v.kind}, want memtype`);
  return { device: v.device, scenarios: v.scenarios };
}

/** The info ioctl a capchain vector holds a reply of (FORMAT.md): its own, else VFIO_DEVICE_GET_REGION_INFO. */
export function capchainIoctl(spec: Spec, c: CapchainCase): Ioctl & { arg: Struct; chain: Chain } {
  const name = c.ioctl ?? 'VFIO_DEVICE_GET_REGION_INFO';
  const x = spec.ioctls.find((i) => i.name === name);
  if (x === undefined || x.chain === null || x.arg === null) throw new Error(`capchain vector ${c.name}: the spec has no ${name} with a capability chain`);
  return x as Ioctl & { arg: Struct; chain: Chain };
}
