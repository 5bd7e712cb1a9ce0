/**
 * The lowering stage: what every target of a resolved spec says, computed once per Spec and read
 * by the emitters, which only print it in their language (through emit/printer.ts):
 *
 * - validator plans: for each validator, its checks in order (the rule, what it reads, the width the
 *   comparison is computed in, the errno on failure, the region it binds) and its effects (what
 *   they read and write, which bindings and which inputs applying them needs);
 * - capability-chain plans: for each ioctl whose reply carries a chain, the walk (the fixed part,
 *   the members that say whether there is a chain, where it starts and how large the buffer is;
 *   the header's id, version and next; the alignment; the payload decoders) and the walk's errors;
 * - how ioctl numbers are written: a base constant plus an offset, or a constant that is one ioctl's
 *   own number, written alone (the argument table is lowered by the resolver: Spec.ioctlArgs);
 * - the argsz member of each struct an ioctl with the argsz role takes, which the codecs fill in.
 */
import type { Capability, ChainIoctl, Check, Constant, DataModel, Effect, EffectTarget, Expr, FlagBit, Member, Operand, Rule, Spec, StateField, Struct, Validator } from './ir.js';

/** The width a comparison or an assignment is computed in: 1 for a bool. */
export type Width = 1 | 32 | 64;

/** A region a lookup rule binds: its name and the request value that indexes the region table. */
export interface Binding {
  name: string;
  index: Operand;
}

/** One rule of a validator, as every target checks it. */
export interface CheckPlan {
  rule: Rule;
  /** The rule's position among the validator's rules (0-based). */
  index: number;
  check: Check;
  /** What the check reads, in order. */
  reads: Operand[];
  /** The width the check computes in: 64 when anything it reads is 64 bits wide, else 32. */
  width: 32 | 64;
  /** A lookup's binding, and whether a later rule reads it (a target that declares only what it reads needs this). */
  binds: (Binding & { readLater: boolean }) | null;
}

/** One effect of a validator: the value (an expression of what it reads) and the width of its target. */
export interface EffectPlan {
  target: EffectTarget;
  value: Expr;
  reads: Operand[];
  width: Width;
}

export interface ValidatorPlan {
  validator: Validator;
  checks: CheckPlan[];
  /** The bindings a later rule reads, in binding order. */
  checkBindings: string[];
  /** Every effect, in spec order. */
  effects: EffectPlan[];
  /** The bindings the effects read or write, with whether an effect writes the region. */
  applyBindings: (Binding & { written: boolean })[];
  /** Whether applying the effects reads the device state and the request at all. */
  applyUses: { dev: boolean; req: boolean };
  /** For a validator that creates a region: every field of the new region and the value an effect gives it (null: zero). */
  created: { field: StateField; value: EffectPlan | null }[] | null;
}

/** A capability of a chain whose payload the bindings decode, and the bytes it needs from its offset. */
export interface CapDecoder {
  cap: Capability;
  struct: Struct;
  /** The fixed part: sizeof the struct, under each data model (upstream's natural layouts differ). */
  size: Record<DataModel, number>;
  /** A flexible array's count member (its offset under each model) and element size: the payload needs size + count * elementSize bytes. */
  flexible: { count: Member; offset: Record<DataModel, number>; elementSize: Record<DataModel, number> } | null;
}

/** The walk of one ioctl's capability chain, as every walker does it. */
export interface ChainPlan {
  ioctl: ChainIoctl;
  /** The reply's fixed part: the ioctl's argument struct (a shorter buffer is "truncated"). */
  info: Struct;
  /** The argsz member: a reply larger than the buffer asks for a retry with this many bytes. */
  argsz: Member;
  /** The flags member and the bit that says the chain is there. */
  flags: Member;
  flag: FlagBit;
  /** The member holding the offset of the first capability (0: none). */
  start: Member;
  /** The header every capability starts with, and its members. */
  header: Struct;
  id: Member;
  version: Member;
  next: Member;
  /** Capability offsets are multiples of this: the header's alignment. */
  align: number;
  /** Every capability id of the chain, in spec order. */
  caps: Capability[];
  /** The capabilities whose payload is decoded (a struct is known), in spec order. */
  decoders: CapDecoder[];
  /** The reference page's title for the chain's capabilities. */
  title: string;
}

/**
 * Why a walk refuses a reply, in the order the names are numbered (spec/vectors/FORMAT.md's
 * capchain errors). A walk checks each capability offset for loop, backwards, misaligned and
 * out-of-bounds, in that order.
 */
export const CAP_ERRORS = ['truncated', 'out-of-bounds', 'backwards', 'loop', 'misaligned'] as const;
export type CapError = (typeof CAP_ERRORS)[number];

export interface Lowered {
  validators: ValidatorPlan[];
  chains: ChainPlan[];
  /** What each walk error means, for the chains of the spec (docs name their structs). */
  capErrors: { name: CapError; doc: string }[];
  /**
   * The constants an ioctl number is written with that are one ioctl's own number (the only one
   * based on it, at offset 0): C writes `_IOWR(T, _NR_FOO, ...)` as the kernel does, where a base
   * several ioctls share is written `BASE + 0`.
   */
  ownNumbers: Set<Constant>;
  /**
   * The argsz member of every struct that is the argument of an ioctl with an argsz role: its codecs
   * fill it with the bytes they write when the caller leaves it out (one struct, one member, whichever
   * ioctl names it).
   */
  argsz: Map<Struct, Member>;
}

const cache = new WeakMap<Spec, Lowered>();

/** The lowered form of a spec: computed on the first call, the same object after. */
export function lower(spec: Spec): Lowered {
  let l = cache.get(spec);
  if (l === undefined) {
    const chains = spec.ioctls.filter((x): x is ChainIoctl => x.chain !== null).map((x) => chainPlan(spec, x));
    const uses = new Map<Constant, number>();
    for (const x of spec.ioctls) if (x.nrBase !== null) uses.set(x.nrBase.constant, (uses.get(x.nrBase.constant) ?? 0) + 1);
    const ownNumbers = new Set(spec.ioctls.flatMap((x) => (x.nrBase !== null && x.nrBase.offset === 0 && uses.get(x.nrBase.constant) === 1 ? [x.nrBase.constant] : [])));
    const argsz = new Map(spec.ioctls.flatMap((x) => (x.arg !== null && x.argsz !== null ? [[x.arg, x.argsz] as const] : [])));
    l = { validators: spec.validators.map((v) => validatorPlan(spec, v)), chains, capErrors: capErrors(chains), ownNumbers, argsz };
    cache.set(spec, l);
  }
  return l;
}

// ---------------------------------------------------------------------------------------------
// Validators

/** What a check reads, in order. */
function checkReads(c: Check): Operand[] {
  switch (c.kind) {
    case 'zero': case 'nonzero': case 'false': case 'has': return [c.value];
    case 'bits': return [c.value, c.within];
    case 'aligned': return [c.value, c.to];
    case 'lt': return [c.left, c.right];
    case 'within': return [c.offset, c.size, c.limit];
    case 'lookup': return [c.index];
  }
}

/** What an expression reads, in order. */
function exprReads(e: Expr): Operand[] {
  return e.kind === 'or' || e.kind === 'and' ? e.terms.flatMap(exprReads) : [e];
}

/**
 * The width of a value: a request member's or a state field's; for a named value, its flag set's
 * when that is 64 bits wide, else what the value needs.
 */
function operandWidth(spec: Spec, o: Operand): Width {
  if (o.kind === 'request' || o.kind === 'device' || o.kind === 'region') return o.width;
  if (typeof o.value === 'boolean') return 1;
  if (o.kind === 'constant' && (o.source === 'flag' || o.source === 'flagset')) {
    const set = spec.flags.find((f) => f.name === o.name || f.bits.some((b) => b.name === o.name));
    if (set?.width === 64) return 64;
  }
  return o.value > 0xffffffffn ? 64 : 32;
}

const regionsRead = (os: Operand[]): Set<string> => new Set(os.flatMap((o) => (o.kind === 'region' ? [o.binding] : [])));

function targetWidth(t: EffectTarget): Width {
  if (t.kind === 'request') return t.member.type.kind === 'int' && t.member.type.size === 8 ? 64 : 32;
  return t.field.type === 'bool' ? 1 : t.field.type === 'u64' ? 64 : 32;
}

function validatorPlan(spec: Spec, v: Validator): ValidatorPlan {
  const lookups: Binding[] = v.rules.flatMap((r) => (r.check.kind === 'lookup' ? [{ name: r.check.binding, index: r.check.index }] : []));
  const checks = v.rules.map((rule, index): CheckPlan => {
    const reads = checkReads(rule.check);
    const later = regionsRead(v.rules.slice(index + 1).flatMap((r) => checkReads(r.check)));
    return {
      rule, index, check: rule.check, reads,
      width: reads.some((o) => operandWidth(spec, o) === 64) ? 64 : 32,
      binds: rule.check.kind === 'lookup' ? { name: rule.check.binding, index: rule.check.index, readLater: later.has(rule.check.binding) } : null,
    };
  });
  const effect = (e: Effect): EffectPlan => ({ target: e.target, value: e.value, reads: exprReads(e.value), width: targetWidth(e.target) });
  const effects = v.effects.map(effect);
  const read = regionsRead(effects.flatMap((e) => e.reads));
  const written = new Set(v.effects.flatMap((e) => (e.target.kind === 'region' ? [e.target.binding] : [])));
  const applyBindings = lookups.filter((b) => read.has(b.name) || written.has(b.name)).map((b) => ({ ...b, written: written.has(b.name) }));
  const reads = effects.flatMap((e) => e.reads);
  return {
    validator: v,
    checks,
    checkBindings: v.bindings.filter((b) => checks.some((c) => c.binds?.name === b && c.binds.readLater)),
    effects,
    applyBindings,
    applyUses: {
      dev: applyBindings.length > 0 || reads.some((o) => o.kind === 'device'),
      req: applyBindings.length > 0 || reads.some((o) => o.kind === 'request') || v.effects.some((e) => e.target.kind === 'request'),
    },
    created: v.creates && spec.state !== null
      ? spec.state.region.fields.map((field) => ({ field, value: effects.find((e) => e.target.kind === 'new' && e.target.field === field) ?? null }))
      : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Capability chains

function chainPlan(spec: Spec, ioctl: ChainIoctl): ChainPlan {
  const { chain } = ioctl;
  const caps = spec.capabilities.filter((c) => c.info === ioctl);
  return {
    ioctl, info: ioctl.arg, argsz: ioctl.argsz, flags: chain.flags, flag: chain.flag, start: chain.offset,
    header: chain.header, ...chain.header.capHeader, align: chain.header.align, caps, title: chain.title,
    decoders: caps.flatMap((cap) => (cap.struct === null ? [] : [{
      cap, struct: cap.struct, size: perModel((m) => cap.struct!.layouts[m].size),
      flexible: cap.struct.flexible !== null && cap.struct.flexibleCount !== null ? {
        count: cap.struct.flexibleCount,
        offset: perModel((m) => cap.struct!.flexibleCount!.layouts[m].offset),
        elementSize: perModel((m) => cap.struct!.flexible!.layouts[m].elementSize),
      } : null,
    }])),
  };
}

const perModel = (f: (m: DataModel) => number): Record<DataModel, number> => ({ lp64: f('lp64'), ilp32: f('ilp32') });

function capErrors(chains: ChainPlan[]): { name: CapError; doc: string }[] {
  if (chains.length === 0) return [];
  const infos = chains.map((c) => `struct ${c.info.name}`).join(' or ');
  const align = [...new Set(chains.map((c) => c.align))].join(' or ');
  const docs: Record<CapError, string> = {
    truncated: `the buffer is shorter than ${infos}`,
    'out-of-bounds': 'a capability header or its known payload does not fit in the buffer',
    backwards: `an offset points before the current capability (or ${chains[0]!.start.name} into ${infos})`,
    loop: 'an offset points at a capability already visited, itself included',
    misaligned: `a capability offset is not a multiple of ${align}`,
  };
  return CAP_ERRORS.map((name) => ({ name, doc: docs[name] }));
}
