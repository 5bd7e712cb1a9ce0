/**
 * Argument checks for the public API: a wrong kind of value from JS (negative, too large, NaN, a
 * string) is a TypeError or RangeError naming the argument, before anything reaches the device.
 */

const describe = (v: unknown): string => (typeof v === 'bigint' ? `${v}n` : typeof v === 'string' ? JSON.stringify(v) : String(v));

/** A 64-bit unsigned value from a bigint or a non-negative safe integer. */
export function checkedU64(v: unknown, name: string): bigint {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name}: expected a non-negative integer, got ${describe(v)}`);
    return BigInt(v);
  }
  if (typeof v !== 'bigint') throw new TypeError(`${name}: expected a bigint or a number, got ${typeof v} ${describe(v)}`);
  if (v < 0n || v >= 1n << 64n) throw new RangeError(`${name}: ${describe(v)} is outside [0, 2^64)`);
  return v;
}

/** A 32-bit unsigned value (or a narrower one, up to `max`). */
export function checkedU32(v: unknown, name: string, max = 0xffff_ffff): number {
  if (typeof v !== 'number') throw new TypeError(`${name}: expected a number, got ${typeof v} ${describe(v)}`);
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`${name}: expected an integer in [0, ${max}], got ${describe(v)}`);
  return v;
}

/** A region index. */
export function checkedIndex(v: unknown, name: string): number {
  return checkedU32(v, name);
}

/** A byte count for a buffer or mapping: a positive safe integer. */
export function checkedLength(v: unknown, name: string): number {
  if (typeof v !== 'number') throw new TypeError(`${name}: expected a number, got ${typeof v} ${describe(v)}`);
  if (!Number.isSafeInteger(v) || v <= 0) throw new RangeError(`${name}: expected a positive integer, got ${describe(v)}`);
  return v;
}
