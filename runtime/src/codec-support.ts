/**
 * The hand-written part of the generated TypeScript bindings: range checks and errors shared by
 * every struct codec, validator and capability walker in ./generated/.
 */

/** A value that cannot be encoded or a buffer that cannot be decoded, with the field path. */
export class CodecError extends RangeError {
  /** e.g. "vfio_region_info.size" or "vfio_region_info_cap_sparse_mmap.areas[1].offset". */
  readonly path: string;
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = 'CodecError';
    this.path = path;
  }
}

/*
 * The checks take the struct's path and the member's name separately and join them only to report
 * a failure: codecs sit on ioctl hot paths, and building a string per member would cost more than
 * the encoding itself.
 */
const where = (path: string, member?: string, index?: number): string =>
  member === undefined ? path : index === undefined ? `${path}.${member}` : `${path}.${member}[${index}]`;

const U64_LIMIT = 1n << 64n;
const S64_LIMIT = 1n << 63n;

/** Checks a number for an unsigned field of 8, 16 or 32 bits. */
export function checkUint(value: unknown, bits: 8 | 16 | 32, path: string, member?: string, index?: number): number {
  if (typeof value === 'number' && (bits === 32 ? value >>> 0 === value : Number.isInteger(value) && value >= 0 && value < 2 ** bits)) return value;
  throw new CodecError(where(path, member, index), `expected an integer in [0, 2^${bits}), got ${describe(value)}`);
}

/** Checks a number for a signed field of 8, 16 or 32 bits. */
export function checkInt(value: unknown, bits: 8 | 16 | 32, path: string, member?: string, index?: number): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= -(2 ** (bits - 1)) && value < 2 ** (bits - 1)) return value;
  throw new CodecError(where(path, member, index), `expected an integer in [-2^${bits - 1}, 2^${bits - 1}), got ${describe(value)}`);
}

/** Checks a bigint for a 64-bit field. */
export function checkBig(value: unknown, signed: boolean, path: string, member?: string, index?: number): bigint {
  if (typeof value === 'bigint' && (signed ? value >= -S64_LIMIT && value < S64_LIMIT : value >= 0n && value < U64_LIMIT)) return value;
  throw new CodecError(where(path, member, index), `expected a bigint in [${signed ? '-2^63, 2^63' : '0, 2^64'}), got ${describe(value)}`);
}

/** Reserved members must be zero unless the caller asked for raw bytes. */
export function checkReserved(value: number | bigint, path: string, member?: string, index?: number): void {
  if (value !== 0 && value !== 0n) throw new CodecError(where(path, member, index), `reserved, must be zero, got ${String(value)}`);
}

export function checkLength(actual: number, expected: number, path: string, member?: string): void {
  if (actual !== expected) throw new CodecError(where(path, member), `expected ${expected} elements, got ${actual}`);
}

export function checkRoom(view: DataView, offset: number, size: number, path: string, member?: string): void {
  if (!(offset >= 0 && offset + size <= view.byteLength && Number.isInteger(offset)))
    throw new CodecError(where(path, member), `needs ${size} bytes at offset ${offset}, the buffer has ${view.byteLength}`);
}


function describe(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

/** Options of every struct codec. */
export interface CodecOptions {
  /**
   * Encode or decode exactly what is there: nonzero reserved members and an element count that
   * disagrees with the flexible array pass through. Off by default: both are errors.
   */
  raw?: boolean;
  /** Decoding only: how many flexible array elements to read, instead of the member that counts them. */
  count?: number;
  /**
   * The architecture whose layout to use, for a struct whose layout differs between data models
   * (an upstream struct with its natural layout, a pointer member). Default: the host's. Structs
   * laid out alike everywhere ignore it.
   */
  arch?: CodecArch | NodeArch;
}

/** The architectures a struct layout is computed for (as the generated bindings name them). */
export type CodecArch = 'x86_64' | 'i386' | 'aarch64' | 'riscv64' | 's390x' | 'ppc64le' | 'mips64el';

/** Node's names for them (process.arch), accepted wherever an architecture is. */
export type NodeArch = 'x64' | 'ia32' | 'arm64' | 'riscv64' | 's390x' | 'ppc64' | 'mips64el';

/**
 * A C data model: LP64 (every 64-bit architecture: 64-bit integers aligned to 8, pointers 8 bytes)
 * or ILP32 as i386 has it (64-bit integers aligned to 4 unless __aligned_u64, pointers 4 bytes).
 */
export type DataModel = 'lp64' | 'ilp32';

const NODE_ARCH: Record<NodeArch, CodecArch> = {
  x64: 'x86_64', ia32: 'i386', arm64: 'aarch64', riscv64: 'riscv64', s390x: 's390x', ppc64: 'ppc64le', mips64el: 'mips64el',
};
const KERNEL_ARCHES = new Set<string>(Object.values(NODE_ARCH));

/** The kernel's name of an architecture given by the kernel's name or Node's; anything else is a RangeError listing both. */
export function kernelArch(arch: unknown): CodecArch {
  if (typeof arch === 'string') {
    if (KERNEL_ARCHES.has(arch)) return arch as CodecArch;
    if (Object.hasOwn(NODE_ARCH, arch)) return NODE_ARCH[arch as NodeArch];
  }
  throw new CodecError('arch', `unknown architecture ${describe(arch)}: expected one of ${[...KERNEL_ARCHES].join(', ')} (or Node's ${Object.keys(NODE_ARCH).join(', ')})`);
}

/** `name` when `table` has it; anything else is a RangeError listing the names it has. */
export function knownName<T extends object>(table: T, name: unknown, what: string): keyof T {
  if (typeof name === 'string' && Object.hasOwn(table, name)) return name as keyof T;
  throw new CodecError(what, `unknown ${what} ${describe(name)}: expected one of ${Object.keys(table).join(', ')}`);
}

/** Refuses an unknown options.arch where the layout is the same on every architecture (so nothing else looks at it). */
export function checkArch(options: CodecOptions): void {
  if (options.arch !== undefined) kernelArch(options.arch);
}

/** The architecture this process runs on (process.arch mapped), or null where it is none of CodecArch. */
export function hostArch(): CodecArch | null {
  const a = (globalThis as { process?: { arch?: string } }).process?.arch;
  return a !== undefined && Object.hasOwn(NODE_ARCH, a) ? NODE_ARCH[a as NodeArch] : null;
}

/** The data model of an architecture (the kernel's name or Node's); without one, the host's. Throws where the host has none the bindings know. */
export function dataModelOf(arch: CodecArch | NodeArch | undefined): DataModel {
  const a = arch === undefined ? hostArch() : kernelArch(arch);
  if (a === null) throw new CodecError('arch', `this host (${(globalThis as { process?: { arch?: string } }).process?.arch ?? 'unknown'}) is none of the architectures the layouts are computed for: pass options.arch`);
  return a === 'i386' ? 'ilp32' : 'lp64';
}

/** Writes a user pointer (an address, as a bigint) of the data model's size. */
export function writePointer(view: DataView, at: number, value: unknown, model: DataModel, path: string, member?: string, index?: number): void {
  const v = checkBig(value, false, path, member, index);
  if (model === 'lp64') { view.setBigUint64(at, v, true); return; }
  if (v >= 1n << 32n) throw new CodecError(where(path, member, index), `address ${describe(v)} does not fit a 32-bit (ILP32) pointer`);
  view.setUint32(at, Number(v), true);
}

/** Reads a user pointer of the data model's size, as a bigint. */
export function readPointer(view: DataView, at: number, model: DataModel): bigint {
  return model === 'lp64' ? view.getBigUint64(at, true) : BigInt(view.getUint32(at, true));
}
