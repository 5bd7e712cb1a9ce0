import { argRange, argType } from './errors.js';

/**
 * Argument checks for the public API: a wrong kind of value from JS (negative, too large, NaN, a
 * string) is a TypeError or RangeError naming the argument, before anything reaches the device.
 */

/** A 64-bit unsigned value from a bigint or a non-negative safe integer. */
export function checkedU64(v: unknown, name: string): bigint {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) throw argRange(name, 'a non-negative safe integer or a bigint', v);
    return BigInt(v);
  }
  if (typeof v !== 'bigint') throw argType(name, 'a bigint or a number', v);
  if (v < 0n || v >= 1n << 64n) throw argRange(name, 'a value in [0, 2^64)', v);
  return v;
}

/** A 32-bit unsigned value (or a narrower one, up to `max`). */
export function checkedU32(v: unknown, name: string, max = 0xffff_ffff): number {
  if (typeof v !== 'number') throw argType(name, 'a number', v);
  if (!Number.isInteger(v) || v < 0 || v > max) throw argRange(name, `an integer in [0, ${max}]`, v);
  return v;
}

/** A region index. */
export function checkedIndex(v: unknown, name: string): number {
  return checkedU32(v, name);
}

/** A byte count for a buffer or mapping: a positive safe integer. */
export function checkedLength(v: unknown, name: string): number {
  if (typeof v !== 'number') throw argType(name, 'a number', v);
  if (!Number.isSafeInteger(v) || v <= 0) throw argRange(name, 'a positive safe integer', v);
  return v;
}

/** An options object: undefined gives {}, anything but a plain object is a TypeError. */
export function checkedOptions<T extends object>(v: unknown, name: string): Partial<T> {
  if (v === undefined) return {};
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw argType(name, 'an object', v);
  return v as Partial<T>;
}
