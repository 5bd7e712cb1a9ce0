import { getSystemErrorMap } from 'node:util';
import { Errno } from './generated/vfio-subregion.js';

/**
 * The errors of this package, one family:
 *
 * - arguments: a `TypeError` (code `ERR_INVALID_ARG_TYPE`: the wrong kind of value) or `RangeError`
 *   (`ERR_OUT_OF_RANGE`, or `ERR_INVALID_ARG_VALUE` for a value of the right kind that means
 *   nothing), its message starting with the parameter's name as the API names it (`options.prot`);
 *   nothing has reached the device;
 * - {@link VfioError}: the device (kernel or simulator) refused: `errno`, `code`, the `operation`
 *   of this API, the `syscall`, and the spec's `rule` behind the refusal when it is known;
 * - {@link DeviceStateError}: an object used after it was closed or unmapped, or a store to a
 *   read-only mapping.
 */

const SPEC_NAMES = new Map<number, string>(Object.entries(Errno).map(([name, n]) => [n, name]));
/** libuv's table, built by Node on every getSystemErrorMap() call: read once, when first needed. */
let systemErrors: Map<number, [string, string]> | undefined;

/**
 * The errno name (`EINVAL`) and message of a positive errno: the spec's name where it has one
 * (EOPNOTSUPP, where libuv says ENOTSUP for the same number), else libuv's.
 */
function describeErrno(errno: number): { code: string; text: string } {
  const e = (systemErrors ??= getSystemErrorMap()).get(-errno);
  return { code: SPEC_NAMES.get(errno) ?? e?.[0] ?? `E${errno}`, text: e?.[1] ?? `errno ${errno}` };
}

/** The name of a positive errno as this package reports it (`EOPNOTSUPP`, `EINVAL`). */
export function errnoName(errno: number): string {
  return describeErrno(errno).code;
}

/** A device refused an operation. */
export class VfioError extends Error {
  /** The errno name, e.g. `EINVAL`. */
  readonly code: string;
  /** The errno number. */
  readonly errno: number;
  /** The operation of this API that was refused, e.g. `createSubregion`. */
  readonly operation: string;
  /** The system call (or simulated one): `ioctl`, `mmap`, `pread`, `pwrite`, `open`. */
  readonly syscall: string;
  /**
   * The spec's rule behind the refusal (`within-parent`, `one-memtype-per-page`): the simulator's
   * own answer, or on a kernel the rule the generated validator finds on the state this API knows
   * when it gives the same errno; null when no rule explains it.
   */
  readonly rule: string | null;

  constructor(operation: string, syscall: string, errno: number, rule: string | null = null, detail?: string) {
    const { code, text } = describeErrno(errno);
    super(`${operation}: ${detail !== undefined ? `${detail} (${code})` : `${code} (${text})`}${rule !== null ? `: rule ${rule}` : ''}`);
    this.name = 'VfioError';
    this.code = code;
    this.errno = errno;
    this.operation = operation;
    this.syscall = syscall;
    this.rule = rule;
  }
}

/** What a {@link DeviceStateError} says. */
export type DeviceStateCode = 'ERR_DEVICE_CLOSED' | 'ERR_UNMAPPED' | 'ERR_READ_ONLY';

/** An object used in a state that does not allow the call. */
export class DeviceStateError extends Error {
  readonly code: DeviceStateCode;
  constructor(code: DeviceStateCode, message: string) {
    super(message);
    this.name = 'DeviceStateError';
    this.code = code;
  }
}

const show = (v: unknown): string => {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null) return 'null';
  if (typeof v === 'object') return Array.isArray(v) ? 'an array' : v.constructor?.name !== undefined ? `an instance of ${v.constructor.name}` : 'an object';
  if (typeof v === 'function') return 'a function';
  return String(v);
};

/** `name` has the wrong kind of value. */
export function argType(name: string, expected: string, got: unknown): TypeError {
  return Object.assign(new TypeError(`${name}: expected ${expected}, got ${show(got)}`), { code: 'ERR_INVALID_ARG_TYPE' });
}

/** `name` is out of range. */
export function argRange(name: string, expected: string, got: unknown): RangeError {
  return Object.assign(new RangeError(`${name}: expected ${expected}, got ${show(got)}`), { code: 'ERR_OUT_OF_RANGE' });
}

/** `name` has a value of the right kind that means nothing here. */
export function argValue(name: string, why: string): RangeError {
  return Object.assign(new RangeError(`${name}: ${why}`), { code: 'ERR_INVALID_ARG_VALUE' });
}
