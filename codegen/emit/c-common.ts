/**
 * Helpers shared by the C emitters (c-header.ts, c-validators.ts): C spelling of IR types and
 * ioctl requests. Comments, names and integer literals are printed by printer.ts.
 */
import type { FlagSet, IntType, Ioctl, Member, Spec, Struct } from '../ir.js';
import { lower } from '../lower.js';

/** Splits a doc string into its first sentence and the rest. */
export function firstSentence(doc: string): [string, string] {
  const m = /^(.*?[.!?])\s+(?=[A-Z0-9(])(.*)$/s.exec(doc.trim());
  if (m === null) return [doc.trim(), ''];
  return [m[1]!, m[2]!.trim()];
}

/** How a flag bit is written: (1 << n), with an unsigned one where int would overflow. */
export function flagExpr(bit: number, set: FlagSet): string {
  if (set.width === 64 && bit >= 31) return `(1ULL << ${bit})`;
  if (bit >= 31) return `(1U << ${bit})`;
  return `(1 << ${bit})`;
}

/** The C type of a scalar member (`__u32`, `struct foo`, `__u64 *`). */
export function memberType(m: Member): string {
  const t = (x: IntType | { kind: 'struct'; struct: Struct }): string => (x.kind === 'int' ? x.name : `struct ${x.struct.name}`);
  return m.type.kind === 'pointer' ? `${t(m.type.to)} *` : t(m.type);
}

/**
 * A member's declarator as installed uapi headers spell it: `__u32 flags`, `__u64 *data` (the
 * kernel's `__u64 __user *data`; headers_install drops __user).
 */
export function memberDeclaration(m: Member, suffix = ''): string {
  const type = memberType(m);
  return `${type}${type.endsWith('*') ? '' : ' '}${m.name}${suffix}`;
}

/** The plain (unaligned) C integer type for arithmetic on a value of this IR integer type. */
export function arithType(t: IntType): string {
  return t.aligned ? t.name.replace('__aligned_', '__') : t.name;
}

/** What a user address member points to, as a sentence ("Points to data_len bytes."), or '' for other members. */
export function pointsToText(m: Member): string {
  const p = m.pointsTo;
  if (p === null) return '';
  return `Points to ${p.struct !== null ? `an array of ${p.count.name} struct ${p.struct.name}` : `${p.bytes.name} bytes`}.`;
}

/** Whether a struct (or any struct it contains) ends in a flexible array member. */
export function hasFlexible(s: Struct): boolean {
  return s.flexible !== null || s.members.some((m) => m.type.kind === 'struct' && hasFlexible(m.type.struct));
}

/** A C string literal. */
export function cString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * An ioctl's request number as the C preprocessor computes it for the compiling architecture:
 * `_IO(TYPE, BASE + 8)`, `_IOWR(T, 3, struct foo)`.
 */
export function cIoctlRequest(spec: Spec, x: Ioctl): string {
  const nr = ioctlNr(spec, x);
  if (x.encoding === 'IO') return `_IO(${x.type.name}, ${nr})`;
  const sized = x.argument.kind === 'struct' ? `struct ${x.argument.struct.name}` : x.argument.kind === 'pointer' ? x.argument.type.name : null;
  if (sized === null) throw new Error(`${x.name}: the resolver lets only a struct or a pointer argument have _${x.encoding}`);
  return `_${x.encoding}(${x.type.name}, ${nr}, ${sized})`;
}

/** An ioctl's number as C writes it: an enum member's name, BASE + n, its own constant, or a plain number. */
export function ioctlNr(spec: Spec, x: Ioctl): string {
  if (x.nrEnum !== null) return x.nrEnum.name;
  if (x.nrBase === null) return String(x.nr);
  return lower(spec).ownNumbers.has(x.nrBase.constant) ? x.nrBase.constant.name : `${x.nrBase.constant.name} + ${x.nrBase.offset}`;
}

/** The C type of an ioctl's third argument: `struct foo *`, `int *`, `char *` (a string), `__u32` (by value), or null for none. */
export function ioctlArgCType(x: Ioctl): string | null {
  const a = x.argument;
  switch (a.kind) {
    case 'struct': return `struct ${a.struct.name} *`;
    case 'pointer': return `${a.type.name} *`;
    case 'string': return 'char *';
    case 'value': return a.type.name;
    case 'none': return null;
  }
}

/** What an ioctl's argument is, in words, for documentation: "none", "__u32, by value: ...", "int *: ...". */
export function ioctlArgText(x: Ioctl): string {
  const a = x.argument;
  const t = ioctlArgCType(x);
  switch (a.kind) {
    case 'struct': return `${t}.`;
    case 'none': return `none (the third argument of ioctl() is ignored).${a.doc === null ? '' : ` ${a.doc}`}`;
    case 'value': return `${t}, passed by value (the argument itself, not a pointer): ${a.doc}`;
    case 'pointer': return `${t}, a pointer to one ${a.type.name} (${a.type.size} bytes): ${a.doc}`;
    case 'string': return `${t}, a pointer to a NUL-terminated string: ${a.doc}`;
  }
}
