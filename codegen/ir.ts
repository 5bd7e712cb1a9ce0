import type { Errno } from './errno.js';

/**
 * The resolved IR: every reference followed, every layout computed and checked. Emitters read
 * only this; they never look at the raw spec.
 */

import type { Diagnostic } from './diagnostics.js';

/**
 * Upstream: the first kernel version whose uapi header has the element, and (removed) the first
 * that no longer has it; or proposed by this spec.
 */
export type Origin = { kind: 'upstream'; kernel: string; removed?: string; values?: VersionValue[] } | { kind: 'proposed' };

/**
 * The value a constant or enum value has from one kernel version on (until the next entry), for
 * one whose value changed between versions; the element's own value is the newest entry's.
 */
export interface VersionValue {
  kernel: string;
  value: bigint;
}

/**
 * Where an element was declared: a JSON pointer into the spec as the resolver saw it (imports
 * merged in; Spec.at maps it back to the file that declares it).
 */
export interface Declared {
  pointer: string;
}

/** A top-level element: also the spec file that declares it (the importing spec or one it imports). */
export interface Owned extends Declared {
  /** The declaring spec file, as Spec.file names the importing one (repository-relative). */
  spec: string;
}

export interface Constant extends Owned {
  name: string;
  /** The number (negative for a signed constant); 0 for a string constant. */
  value: bigint;
  /** Set for a string constant (C writes the literal); it has no number. */
  string: string | null;
  /** Set for a character constant, the type of an ioctl number (';'). */
  char: string | null;
  /** Set for an OR of flag bits, enum values or constants (C writes `(A | B)`); value is the result. */
  or: { name: string; value: bigint }[] | null;
  /** The spec wrote the value in hex ("0xaa"): every target prints it in hex, as the kernel's header does. */
  hex: boolean;
  doc: string;
  origin: Origin;
  provisional: boolean;
}

export interface EnumValue extends Declared {
  name: string;
  value: bigint;
  doc: string;
  origin: Origin;
  provisional: boolean;
}

export interface Enum extends Owned {
  name: string;
  doc: string;
  origin: Origin;
  render: 'enum' | 'define';
  /** C declares it without a tag (`enum { ... }`); the name only names it in the other targets. */
  anonymous: boolean;
  values: EnumValue[];
}

export interface FlagBit extends Declared {
  name: string;
  bit: number;
  value: bigint;
  doc: string;
  /** The bit's own origin when it differs from its flag set's (an upstream bit added later); else null. */
  origin: Origin | null;
}

export interface FlagSet extends Owned {
  name: string;
  doc: string;
  origin: Origin;
  width: 8 | 16 | 32 | 64;
  /** C rendering: a #define per bit, or a named enum of the bits (as upstream declares some). */
  render: 'define' | 'enum';
  bits: FlagBit[];
  /** Every defined bit; what a request may carry. */
  mask: bigint;
}

export type IntTypeName =
  | '__u8' | '__u16' | '__u32' | '__u64' | '__s8' | '__s16' | '__s32' | '__s64' | '__aligned_u64'
  | '__le16' | '__le32' | '__le64' | '__aligned_le64';

export interface IntType {
  kind: 'int';
  name: IntTypeName;
  /** Bytes. */
  size: 1 | 2 | 4 | 8;
  signed: boolean;
  /** __aligned_u64, __aligned_le64: aligned to 8 on every data model (i386 aligns a plain 64-bit integer to 4). */
  aligned: boolean;
  /** __le16/32/64, __aligned_le64: little-endian on every architecture (kernel-side sparse checks it; C code converts with le64_to_cpu). */
  littleEndian: boolean;
}

export interface StructRef {
  kind: 'struct';
  struct: Struct;
}

/**
 * A user pointer (`__u64 __user *data`): an address the kernel follows, as many bytes as the data
 * model's pointers (8 on LP64, 4 on ILP32). Generated code carries it as an integer.
 */
export interface PointerType {
  kind: 'pointer';
  /** What it points to. */
  to: IntType | StructRef;
}

/**
 * The C data models layouts are computed for: LP64 (every 64-bit architecture) and ILP32 as i386
 * has it (64-bit integers aligned to 4). See ARCH_MODEL in layout.ts for which architecture uses which.
 */
export type DataModel = 'lp64' | 'ilp32';

/** Where a member lies under one data model. */
export interface MemberLayout {
  offset: number;
  /** Size of one element. */
  elementSize: number;
  /** Bytes the member takes (0 for a flexible array). */
  size: number;
}

/** Bytes the compiler inserts and no member names: before a member (name) or at the tail (null). */
export interface Hole {
  offset: number;
  size: number;
  before: string | null;
}

/** A struct's layout under one data model. */
export interface StructLayout {
  /** sizeof, without flexible array elements. */
  size: number;
  align: number;
  /** Implicit padding (only a natural-layout struct has any: a proposed one is refused). */
  holes: Hole[];
}

export interface Member extends Declared {
  name: string;
  doc: string;
  type: IntType | StructRef | PointerType;
  /** null: a scalar; a number: a fixed array; 'flexible': a flexible array member. */
  count: number | 'flexible' | null;
  /**
   * Byte offset under LP64. The same under every data model unless the struct is not `uniform`
   * (a natural-layout upstream struct): then `layouts` has each model's.
   */
  offset: number;
  /** Size of one element under LP64. */
  elementSize: number;
  /** Bytes the member takes in the struct under LP64 (0 for a flexible array). */
  size: number;
  /** Offset and sizes under each data model. */
  layouts: Record<DataModel, MemberLayout>;
  reserved: boolean;
  padding: boolean;
  /** The anonymous union the member belongs to (its members share one offset), or null. */
  union: Union | null;
  /** The member's own origin when upstream added it later than its struct; else null. */
  origin: Origin | null;
  dir: 'in' | 'out' | 'inout' | null;
  flags: FlagSet | null;
  enum: Enum | null;
  /**
   * A flexible __u8 array counted in elements of another type: the flag bit of `by` that is set
   * chooses the element's size in bytes (0: no bytes at all). null for any other member.
   */
  elements: { by: Member; types: { bit: FlagBit; size: number }[] } | null;
  /** Set for a 64-bit integer that carries a user address: what lies there (an array of a struct, counted by a member, or bytes counted by a member). */
  pointsTo: { struct: Struct; count: Member } | { struct: null; bytes: Member } | null;
}

/**
 * An anonymous union of a struct: its members (in Struct.members, consecutive, each with `union`
 * set to it) all lie at its offset. Aligned to its most aligned member, as large as its largest one
 * rounded up to that alignment.
 */
export interface Union extends Declared {
  doc: string;
  members: Member[];
  /** Offset, size and alignment under each data model. */
  layouts: Record<DataModel, { offset: number; size: number; align: number }>;
}

export interface Struct extends Owned {
  name: string;
  doc: string;
  origin: Origin;
  /** Every member, in order; the members of an anonymous union are here too, consecutive, sharing its offset. */
  members: Member[];
  /** sizeof under LP64, without flexible array elements. */
  size: number;
  /** _Alignof under LP64. */
  align: number;
  /**
   * The spec says this is upstream's real layout ("layout": "natural"): C's natural alignment per
   * data model, implicit and tail padding allowed (and recorded in `layouts`). Otherwise the
   * resolver refused implicit padding and any difference between data models in offsets or size.
   */
  natural: boolean;
  /** Size, alignment and implicit padding under each data model. */
  layouts: Record<DataModel, StructLayout>;
  /** Every member's offset and size and the struct's size are the same under every data model. */
  uniform: boolean;
  /** The flexible array member, if the struct ends with one. */
  flexible: Member | null;
  /** The member holding the flexible array's element count, when the spec names one. */
  flexibleCount: Member | null;
  /** Set when the struct has the capability-header role: its id, version and next members. */
  capHeader: { id: Member; version: Member; next: Member } | null;
}

/** An ioctl whose reply carries a capability chain (it has an argument struct and an argsz member). */
export type ChainIoctl = Ioctl & { chain: Chain; arg: Struct; argsz: Member };

/** The capability chain an ioctl's reply carries after its argument struct. */
export interface Chain {
  /** The member of the argument struct holding the offset of the first capability. */
  offset: Member;
  /** The member of the argument struct carrying the flag that says the chain is present, and that flag. */
  flags: Member;
  flag: FlagBit;
  /** The capability-header struct every capability of the chain starts with. */
  header: Struct & { capHeader: NonNullable<Struct['capHeader']> };
  /** The reference page's title for the chain's capabilities. */
  title: string;
}

export interface Capability extends Owned {
  name: string;
  id: number;
  version: number;
  struct: Struct | null;
  info: Ioctl;
  deprecated: boolean;
  /** Upstream, newer than the oldest header the C may be built against (as IoctlArg.guarded): C names its id under #ifdef only. */
  guarded: boolean;
  doc: string;
  origin: Origin;
  provisional: boolean;
}

export type { Errno } from './errno.js';

export interface ErrorCase {
  errno: Errno;
  when: string;
}

/** The architectures numbers and layouts are computed for; ARCH_MODEL (layout.ts) gives each one's data model. */
export type Arch = 'x86_64' | 'i386' | 'aarch64' | 'riscv64' | 's390x' | 'ppc64le' | 'mips64el';

export interface Ioctl extends Owned {
  name: string;
  doc: string;
  origin: Origin;
  provisional: boolean;
  /** The kind of file descriptor it is issued on: a free name (container, group, device, iommufd, uffd, ...). */
  fd: string;
  type: Constant;
  nr: number;
  /** How the number is written in C: a base constant plus an offset, or a plain number. */
  nrBase: { constant: Constant; offset: number } | null;
  /** Set when the number is an enum member's value: C writes the member's name. */
  nrEnum: EnumValue | null;
  encoding: 'IO' | 'IOR' | 'IOW' | 'IOWR';
  /** What the third argument of ioctl() is. */
  argument: IoctlArgument;
  /** The argument struct when `argument` is one (argument.kind 'struct'), else null. */
  arg: Struct | null;
  argsz: Member | null;
  outputs: Member[];
  /** Set when the reply carries a capability chain (then argsz is set too). */
  chain: Chain | null;
  /** What a success returns ("0", "the new file descriptor"), as kernel-doc's Return section words it; null when the spec does not say. */
  returns: string | null;
  errors: ErrorCase[];
  /** The request number on each architecture. */
  numbers: Record<Arch, number>;
}

/** An integer type an ioctl argument names: a kernel type, or C's int / unsigned int (4 bytes everywhere). */
export interface ScalarType {
  name: IntTypeName | 'int' | 'unsigned int';
  size: 1 | 2 | 4 | 8;
  signed: boolean;
}

/**
 * A kind of file descriptor ioctls are issued on: declared in the spec's fd-kinds, or named by an
 * ioctl only. A kind accepts its own ioctls and those of every kind it extends, transitively.
 */
export interface FdKind {
  name: string;
  doc: string | null;
  /** The kind this one refines (a type1 container is a container), or null. */
  extends: string | null;
  /** The kinds that accept its ioctls: itself and every kind that extends it, transitively, in Spec.fdKinds order. */
  accepting: string[];
}

/** What the third argument of an ioctl is. */
export type IoctlArgument =
  /** A pointer to the argument struct (Ioctl.arg). */
  | { kind: 'struct'; struct: Struct }
  /** Nothing (_IO): whatever is passed is ignored. */
  | { kind: 'none'; doc: string | null }
  /** An integer passed by value in the argument itself (_IO). */
  | { kind: 'value'; type: ScalarType; doc: string }
  /** A pointer to one integer: exactly type.size bytes. */
  | { kind: 'pointer'; type: ScalarType; doc: string }
  /** A pointer to a NUL-terminated string (_IO): the kernel reads up to the NUL. */
  | { kind: 'string'; doc: string };

/**
 * What the kernel may read and write through an ioctl's argument pointer, proven from the spec: one
 * entry of the table the native addon checks a raw ioctl against before it issues it. The resolver
 * lowers Spec.ioctls into these once: one entry per ioctl, keyed by its request number and the fd
 * kinds that accept it (fds), so that one number with other arguments on unrelated fd kinds has
 * one entry each. `guarded`
 * is set for an upstream ioctl newer than the spec's oldest upstream ioctl when the upstream
 * definitions come from the system's headers (uapi.emit proposed): those may be that old, so C
 * compiles the entry only where the header defines the ioctl.
 */
export type IoctlArg =
  /**
   * An _IO ioctl whose struct starts with a __u32 argsz: the caller's buffer holds at least the
   * fixed part (size bytes) and argsz bytes; the kernel touches at most max(argsz, size) bytes.
   */
  | { kind: 'argsz'; ioctl: Ioctl; fds: string[]; guarded: boolean; struct: Struct; size: number; argsz: Member }
  /** An _IOR, _IOW or _IOWR ioctl: exactly size bytes, the size its request number encodes. */
  | { kind: 'fixed'; ioctl: Ioctl; fds: string[]; guarded: boolean; struct: Struct; size: number }
  /** No argument: nothing is touched; issued with a value, never a buffer. */
  | { kind: 'none'; ioctl: Ioctl; fds: string[]; guarded: boolean; size: 0 }
  /** An integer passed by value (size bytes, signed or not): nothing is touched; issued with a value, never a buffer. */
  | { kind: 'value'; ioctl: Ioctl; fds: string[]; guarded: boolean; size: number; signed: boolean }
  /** A pointer to one integer: exactly size bytes. */
  | { kind: 'scalar'; ioctl: Ioctl; fds: string[]; guarded: boolean; size: number; type: ScalarType }
  /** A NUL-terminated string: the bytes up to and including the first NUL, which must lie within the buffer. */
  | { kind: 'string'; ioctl: Ioctl; fds: string[]; guarded: boolean; size: 0 };

export interface FeatureOp {
  payload: Struct | null;
  validator: Validator | null;
  doc: string;
  /** What the feature ioctl returns on success of this operation; null when the spec does not say. */
  returns: string | null;
  errors: ErrorCase[];
}

export interface Feature extends Owned {
  name: string;
  number: number;
  doc: string;
  origin: Origin;
  provisional: boolean;
  get: FeatureOp | null;
  set: FeatureOp | null;
}

export interface StateField {
  name: string;
  type: 'u32' | 'u64' | 'bool';
  doc: string;
}

export interface StateRecord {
  name: string;
  doc: string;
  fields: StateField[];
}

/** A value a rule reads. Widths: 64 for u64, 32 for u32, 1 for bool. */
export type Operand =
  | { kind: 'request'; member: Member; width: 1 | 32 | 64 }
  | { kind: 'device'; field: StateField; width: 1 | 32 | 64 }
  | { kind: 'region'; binding: string; field: StateField; width: 1 | 32 | 64 }
  /** A named constant, enum value, flag bit or flag set mask. */
  | { kind: 'constant'; name: string; value: bigint; source: 'constant' | 'enum' | 'flag' | 'flagset' }
  | { kind: 'literal'; value: bigint | boolean };

export type Expr = Operand | { kind: 'or'; terms: Expr[] } | { kind: 'and'; terms: Expr[] };

export type Check =
  | { kind: 'zero'; value: Operand }
  | { kind: 'nonzero'; value: Operand }
  | { kind: 'false'; value: Operand }
  /** value & ~within == 0 */
  | { kind: 'bits'; value: Operand; within: Operand }
  /** value & flag != 0 */
  | { kind: 'has'; value: Operand; flag: FlagBit }
  /** value % to == 0, to a power of two */
  | { kind: 'aligned'; value: Operand; to: Operand }
  | { kind: 'lt'; left: Operand; right: Operand }
  /** offset + size <= limit without overflow */
  | { kind: 'within'; offset: Operand; size: Operand; limit: Operand }
  /** index < dev.num_regions; binds the region */
  | { kind: 'lookup'; index: Operand; binding: string };

export interface Rule extends Declared {
  name: string;
  doc: string;
  errno: Errno;
  check: Check;
}

export type EffectTarget =
  | { kind: 'request'; member: Member }
  | { kind: 'new'; field: StateField }
  | { kind: 'region'; binding: string; field: StateField };

export interface Effect {
  target: EffectTarget;
  value: Expr;
}

export interface Validator extends Declared {
  name: string;
  doc: string;
  request: Struct;
  rules: Rule[];
  effects: Effect[];
  /** Region names bound by lookup rules, in order. */
  bindings: string[];
  /** True when a success creates a region (effects on new.*). */
  creates: boolean;
}

/**
 * A rule of mmap with no declarative check (it concerns live mappings, which validators do not see):
 * implementations enforce it in their mmap path with this errno, and name it like a validator rule.
 */
export interface MmapRule extends Declared {
  name: string;
  errno: Errno;
  doc: string;
}

export interface Mmio {
  /** The wasm import module of the host functions. */
  module: string;
  doc: string;
  widths: (8 | 16 | 32 | 64)[];
  burst: { bytes: 16 | 32 | 64; doc: string };
  ordering: { name: string; doc: string }[];
}

/** Where the proposed definitions go in the upstream header (for the patch a kernel developer would post). */
export interface UapiPatch {
  file: string;
  kernel: string;
  subject: string;
  body: string[];
  /** Line number (1-based) of the last context line in the upstream file. */
  line: number;
  context: string[];
  /** The upstream line the definitions go before. */
  before: string;
}

/** Where each target writes (relative to the output root) and its options, defaults filled in. */
export interface Targets {
  /**
   * fallbackDir: where the standalone copies of the imported headers the ioctl table guards as a
   * whole go (DIR/linux/x.h), for builds on machines whose headers predate them (-idirafter DIR).
   */
  cHeader: { path: string; fallbackDir: string | null };
  cValidators: { dir: string; base: string };
  typescript: { path: string; support: string };
  assemblyscript: { path: string };
  markdown: { path: string };
  wit: { path: string; package: string };
  kernelPatch: { dir: string };
}

/** The feature-multiplexing ioctl and the flag bits selecting its operations. */
export interface FeatureIoctl {
  ioctl: Ioctl;
  get: FlagBit;
  set: FlagBit;
  probe: FlagBit;
  /**
   * The ioctl's argument as a header the payload follows: its argsz member (the header and the
   * payload), the member carrying the operation bits and the feature number, and the flexible array
   * the payload lies in. Set when a feature operation has a payload.
   */
  header: { struct: Struct; argsz: Member; flags: Member; payload: Member } | null;
}

/** An imported spec's uapi section (its header, include guard, includes and doc), as the spec wrote it. */
export interface ImportedUapi {
  header: string;
  guard?: string;
  includes: string[];
  doc: string;
}

export interface Spec {
  name: string;
  doc: string;
  /** The ABI's name prefix (snake case, e.g. "uffd"): generated C support names start with it, TS/AS names drop it. */
  prefix: string;
  /** The spec file, relative to the repository root, as generated markers name it. */
  file: string;
  /**
   * The --spec that regenerates the files, run in the output root (relative to it); null for the
   * package's own spec generated into the package (`npm run gen`).
   */
  regenerateSpec: string | null;
  /** Every spec file the IR was made from, imported ones first, this one (file) last. */
  files: string[];
  targets: Targets;
  uapi: { header: string; guard: string; emit: 'all' | 'proposed'; includes: string[]; doc: string; patch: UapiPatch | null };
  constants: Constant[];
  enums: Enum[];
  flags: FlagSet[];
  structs: Struct[];
  capabilities: Capability[];
  /** Every fd kind: the declared ones in spec order, then those only ioctls name, in ioctl order. */
  fdKinds: FdKind[];
  ioctls: Ioctl[];
  /** The argument table lowered from ioctls, in spec order. */
  ioctlArgs: IoctlArg[];
  /**
   * The uapi headers of the imported specs whose ioctls are in the argument table, in import
   * order: C that names those ioctls includes them. Guarded when every such ioctl is (the header
   * is newer than the spec's oldest ioctl, so an older system may not have it at all).
   */
  ioctlHeaders: { header: string; guarded: boolean; uapi: Required<ImportedUapi>; spec: string }[];
  features: Feature[];
  /** Set when the spec has features. */
  featureIoctl: FeatureIoctl | null;
  /** What validators read besides the request; null when the spec has no validators. */
  state: { doc: string; device: StateRecord; region: StateRecord } | null;
  validators: Validator[];
  /** The spec's "mmap" section, or null when it has none. */
  mmap: { doc: string; rules: MmapRule[] } | null;
  /** The spec's "mmio" section, or null when it has none. */
  mmio: Mmio | null;
  /** The errnos any rule or error case names, with their Linux (asm-generic) values. */
  errnos: { name: Errno; value: number }[];
  /**
   * A diagnostic at a JSON pointer of the spec file (file:line:col), for a target that cannot print
   * what the spec asks. Not enumerable, so the IR clones as plain data (a clone has no `at`).
   */
  at: (pointer: string, message: string) => Diagnostic;
}

export const isProposed = (o: { origin: Origin }): boolean => o.origin.kind === 'proposed';
