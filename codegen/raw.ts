/** The spec as written, after schema validation (spec/schema/abi.schema.json). */

export type Uint = number | string;
/** A signed integer: a JSON integer or a decimal or 0x-hex string with an optional minus sign. */
export type Int = number | string;
export type UapiPatch = import('./ir.js').UapiPatch;
export type Origin = { upstream: string; removed?: string; values?: Record<string, Int> } | { proposed: true };
type Errno = import('./ir.js').Errno;

export interface Constant { name: string; value?: Int; char?: string; or?: string[]; string?: string; doc: string; origin: Origin; provisional?: boolean }
export interface EnumValue { name: string; value?: Uint; doc: string; origin?: Origin; provisional?: boolean }
export interface Enum { name: string; doc: string; origin: Origin; render?: 'enum' | 'define'; anonymous?: true; values: EnumValue[] }
export interface FlagSet { name: string; doc: string; origin: Origin; width: 8 | 16 | 32 | 64; render?: 'define' | 'enum'; bits: { name: string; bit: number; doc: string; origin?: Origin }[] }
export interface Member {
  name: string; type: string; doc: string; count?: number | 'flexible'; reserved?: true; padding?: true;
  dir?: 'in' | 'out' | 'inout'; flags?: string; enum?: string; counts?: string; origin?: Origin;
  'points-to'?: { struct?: string; count?: string; bytes?: string };
  elements?: { by: string; types: { flag: string; type: string }[] };
}
/** An anonymous union: its members share one offset. */
export interface Union { union: Member[]; doc: string }
export interface Struct { name: string; doc: string; origin: Origin; layout?: 'natural'; members: (Member | Union)[]; 'capability-header'?: { id: string; version: string; next: string } }
export interface Capability { name: string; id: number; version: number; struct?: string; info: string; deprecated?: true; doc: string; origin: Origin; provisional?: boolean }
export interface ErrorCase { errno: Errno; when: string }
export interface Ioctl {
  name: string; doc: string; origin: Origin; provisional?: boolean; fd: string;
  type: string; nr: number | { base: string; offset: number } | { enum: string }; encoding: 'IO' | 'IOR' | 'IOW' | 'IOWR';
  arg: string | IoctlArgObject; argsz?: string; outputs?: string[]; returns?: string; errors: ErrorCase[];
  chain?: { offset: string; flag: string; header: string; title?: string };
}
export type ScalarType = '__u8' | '__u16' | '__u32' | '__u64' | '__s8' | '__s16' | '__s32' | '__s64' | 'int' | 'unsigned int';
export type IoctlArgObject =
  | { kind: 'none'; doc?: string }
  | { kind: 'value'; type: ScalarType; doc: string }
  | { kind: 'pointer'; type: ScalarType; doc: string }
  | { kind: 'string'; doc: string };
export interface FeatureOp { payload?: string; validator?: string; doc: string; returns?: string; errors?: ErrorCase[] }
export interface Feature { name: string; number: number; doc: string; origin: Origin; provisional?: boolean; ops: { get?: FeatureOp; set?: FeatureOp } }
export interface StateRecord { name: string; doc: string; fields: { name: string; type: 'u32' | 'u64' | 'bool'; doc: string }[] }
export type Operand = string | number | boolean;
export type Expr = Operand | { or: Expr[] } | { and: Expr[] };
export type Check =
  | { zero: Operand } | { nonzero: Operand } | { false: Operand } | { bits: Operand; within: Operand }
  | { has: Operand; flag: string } | { aligned: Operand; to: Operand } | { lt: [Operand, Operand] }
  | { offset: Operand; size: Operand; within: Operand } | { lookup: Operand; as: string };
export interface Validator {
  name: string; doc: string; request: string;
  rules: { rule: string; doc: string; errno: Errno; check: Check }[];
  effects: { set: string; to: Expr }[];
}
export interface Targets {
  'c-header'?: { path?: string; 'fallback-dir'?: string };
  'c-validators'?: { dir?: string; base?: string };
  typescript?: { path?: string; support?: string };
  assemblyscript?: { path?: string };
  markdown?: { path?: string };
  wit?: { path?: string; package?: string };
  'kernel-patch'?: { dir?: string };
}
export interface FdKind { name: string; doc: string; extends?: string }
export interface Spec {
  $schema: string; name: string; doc: string;
  imports?: string[];
  'name-prefix'?: string;
  targets?: Targets;
  'feature-ioctl'?: { ioctl: string; get: string; set: string; probe: string };
  uapi: { header: string; guard?: string; emit?: 'all' | 'proposed'; includes: string[]; doc: string; patch?: UapiPatch };
  constants?: Constant[]; enums?: Enum[]; flags?: FlagSet[]; structs: Struct[]; capabilities?: Capability[];
  'fd-kinds'?: FdKind[];
  ioctls: Ioctl[]; features?: Feature[];
  state?: { doc: string; device: StateRecord; region: StateRecord };
  validators?: Validator[];
  mmap?: { doc: string; rules: { rule: string; errno: Errno; doc: string }[] };
  mmio?: { module?: string; doc: string; widths: (8 | 16 | 32 | 64)[]; burst: { bytes: 16 | 32 | 64; doc: string }; ordering: { name: string; doc: string }[] };
}
