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
}
