/**
 * The C validators (DIR/BASE.{h,c}, from the spec's targets): the state the checks read, one check
 * and one apply function per validator of the IR, an allocation-free walker for the capability
 * chain of every ioctl that declares one, and the ioctl argument table. The code builds in the
 * kernel (__KERNEL__) and in userspace, as C11 and as C++17, and calls nothing from libc.
 *
 * Names: support code the spec shares with its ABI starts with the name prefix (PREFIX_cap_cursor,
 * PREFIX_check_*, PREFIX_RULE_*); what belongs to this one spec starts with its name in snake case
 * (NAME_rule, NAME_ioctl_args).
 */
import { SpecError } from '../diagnostics.js';
import type { GeneratedFile } from './file.js';
import type { EffectTarget, Expr, IoctlArg, Member, Operand, Spec, StateField, StateRecord, Struct, Validator } from '../ir.js';
import { lower, type CapDecoder, type ChainPlan, type CheckPlan, type EffectPlan, type ValidatorPlan } from '../lower.js';
import { arithType, cIoctlRequest, cString } from './c-common.js';
import { cComment, cItem, cProse, cUnsigned, preambleComment, snake, upper } from './printer.js';

/** The name prefix, as C support identifiers start with it (PREFIX_cap_cursor). */
export const cPrefix = (spec: Spec): string => spec.prefix;
/** This spec's own C identifiers start with its name in snake case (my-abi -> my_abi_rule). */
const cModule = (spec: Spec): string => snake(spec.name);
const macroPrefix = (spec: Spec): string => upper(spec.prefix);

export const ruleEnum = (spec: Spec, v: Validator, rule: string): string => `${macroPrefix(spec)}_RULE_${upper(v.name)}_${upper(rule)}`;
/** The enum NAME_rule value of an mmap rule (the resolver keeps "mmap" free of validators). */
export const mmapRuleEnum = (spec: Spec, rule: string): string => `${macroPrefix(spec)}_RULE_MMAP_${upper(rule)}`;
const ruleNone = (spec: Spec): string => `${macroPrefix(spec)}_RULE_NONE`;
export const capErrorEnum = (spec: Spec, e: string): string => `${macroPrefix(spec)}_CAP_ERR_${upper(e)}`;
const ruleType = (spec: Spec): string => `enum ${cModule(spec)}_rule`;

/** The two files of the target, from the spec's targets. */
export function cValidatorsPaths(spec: Spec): { h: string; c: string } {
  const { dir, base } = spec.targets.cValidators;
  return { h: `${dir}/${base}.h`, c: `${dir}/${base}.c` };
}

function stateType(f: StateField): string {
  return f.type === 'u64' ? '__u64' : f.type === 'u32' ? '__u32' : '__u8';
}

function stateStruct(r: StateRecord, extra: string[]): string[] {
  const paras = [[
    ...cItem(`struct ${r.name} - ${r.doc}`),
    ...r.fields.flatMap((f) => cItem(`@${f.name}: ${f.type === 'bool' ? '(bool, 0 or 1) ' : ''}${f.doc}`)),
    ...extra.flatMap((e) => cItem(e)),
  ]];
  return [...cComment(paras, '/**'), `struct ${r.name} {`, ...r.fields.map((f) => `\t${stateType(f)} ${f.name};`)];
}

// ---------------------------------------------------------------------------------------------
// Expressions

function memberArith(m: Member): string {
  if (m.type.kind !== 'int' || m.count !== null) throw new Error(`validator operand ${m.name} is not a scalar integer`);
  return arithType(m.type);
}

/** The C type of an operand, or null for a constant whose type C decides. */
function operandType(o: Operand): string | null {
  switch (o.kind) {
    case 'request': return memberArith(o.member);
    case 'device': case 'region': return stateType(o.field);
    default: return null;
  }
}

function operand(o: Operand): string {
  switch (o.kind) {
    case 'request': return `req->${o.member.name}`;
    case 'device': return `dev->${o.field.name}`;
    case 'region': return `${o.binding}->${o.field.name}`;
    case 'constant':
      // A flag set's mask has no macro of its own: a hex literal says which set it is.
      return o.source === 'flagset' ? `${cUnsigned(o.value, 32, 'bits')} /* ${o.name} */` : o.name;
    case 'literal':
      return typeof o.value === 'boolean' ? (o.value ? '1' : '0') : cUnsigned(o.value, o.value > 0xffffffffn ? 64 : 32, 'quantity');
  }
}

/** An operand cast to type t (when it is not already of that type). */
function as(o: Operand, t: string): string {
  return operandType(o) === t ? operand(o) : `(${t})${operand(o)}`;
}

function expr(e: Expr): string {
  if (e.kind === 'or' || e.kind === 'and') return `(${e.terms.map(expr).join(e.kind === 'or' ? ' | ' : ' & ')})`;
  return operand(e);
}

/** The C condition under which a check FAILS, computed in the check's width. */
function failCondition(p: CheckPlan): string {
  const c = p.check;
  const t = `__u${p.width}`;
  switch (c.kind) {
    case 'zero': return `${operand(c.value)} != 0`;
    case 'nonzero': return `${operand(c.value)} == 0`;
    case 'false': return `${operand(c.value)} != 0`;
    case 'bits': return `(${operand(c.value)} & ~${as(c.within, t)}) != 0`;
    case 'has': return `(${operand(c.value)} & ${c.flag.name}) == 0`;
    case 'aligned': return `(${operand(c.value)} & (${as(c.to, t)} - 1)) != 0`;
    case 'lt': return `${as(c.left, t)} >= ${as(c.right, t)}`;
    case 'within': {
      const [o, s, l] = [as(c.offset, t), as(c.size, t), as(c.limit, t)];
      return `${o} > ${l} || ${s} > ${l} - ${o}`;
    }
    case 'lookup': return `${operand(c.index)} >= dev->num_regions`;
  }
}

// ---------------------------------------------------------------------------------------------
// Validators

const checkName = (spec: Spec, v: Validator): string => `${cPrefix(spec)}_check_${v.name}`;
const applyName = (spec: Spec, v: Validator): string => `${cPrefix(spec)}_apply_${v.name}`;

/** The validator state; validators exist only in a spec that has it (the resolver's rule). */
function state(spec: Spec): NonNullable<Spec['state']> {
  if (spec.state === null) throw new Error('validators without a state section');
  return spec.state;
}

function checkSignature(spec: Spec, v: Validator): string {
  return `int ${checkName(spec, v)}(const struct ${state(spec).device.name} *dev,\n\t\tconst struct ${v.request.name} *req,\n\t\t${ruleType(spec)} *rule)`;
}

function applySignature(spec: Spec, v: Validator): string {
  const extra = v.creates ? `,\n\t\tstruct ${state(spec).region.name} *new_region` : '';
  return `void ${applyName(spec, v)}(const struct ${state(spec).device.name} *dev,\n\t\tstruct ${v.request.name} *req${extra})`;
}

function validatorDoc(spec: Spec, v: Validator, which: 'check' | 'apply'): string[] {
  const checkName_ = checkName(spec, v);
  const applyName_ = applyName(spec, v);
  const paras: string[][] = [];
  if (which === 'check') {
    paras.push([...cItem(`${checkName_} - ${v.doc}`),
      ' * @dev: The device, read under its lock.',
      ...cItem(`@req: The request (struct ${v.request.name}), already copied from userspace.`),
      ' * @rule: If not NULL, receives the rule that failed.']);
    paras.push(cProse('Rules, in order (the first that fails gives the result and, when rule is not NULL, *rule):'));
    for (const r of v.rules) paras[1]!.push(...cItem(`${r.name} (-${r.errno}): ${r.doc}`));
    paras.push(cProse(`Return: 0 when every rule holds (*rule is then ${ruleNone(spec)}), else a negative errno.`));
  } else {
    paras.push([...cItem(`${applyName_} - Applies the effects of a request ${checkName_} accepted; call it only after that returned 0, under the same lock.`),
      ' * @dev: The device (a region it holds may be updated).',
      ' * @req: The request; its output members are filled.',
      ...(v.creates ? [' * @new_region: Receives the state of the created region.'] : [])]);
    if (v.creates) paras.push(cProse('Adding new_region to the device (and counting it in num_regions and in any count of its own) is the caller\'s job.'));
  }
  return cComment(paras, '/**');
}

function targetLvalue(t: EffectTarget): string {
  switch (t.kind) {
    case 'request': return `req->${t.member.name}`;
    case 'new': return `new_region->${t.field.name}`;
    case 'region': return `${t.binding}->${t.field.name}`;
  }
}

function effectLine(e: EffectPlan): string {
  let value: string;
  if (e.value.kind === 'literal' && typeof e.value.value === 'boolean') value = e.value.value ? '1' : '0';
  else if (e.width === 1) value = `!!(${expr(e.value)})`;
  else value = expr(e.value);
  return `\t${targetLvalue(e.target)} = ${value};`;
}

function emitValidator(spec: Spec, p: ValidatorPlan): string[] {
  const v = p.validator;
  const region = `struct ${state(spec).region.name}`;
  const out: string[] = [...validatorDoc(spec, v, 'check'), checkSignature(spec, v), '{'];
  // Declare only the bindings a later rule reads (an unread one would be set but unused).
  for (const b of p.checkBindings) out.push(`\tconst ${region} *${b};`);
  if (p.checkBindings.length > 0) out.push('');
  for (const c of p.checks) {
    out.push(`\t/* ${c.rule.name} */`);
    out.push(`\tif (${failCondition(c)})`);
    out.push(`\t\treturn ${cModule(spec)}_fail(rule, ${ruleEnum(spec, v, c.rule.name)}, -${c.rule.errno});`);
    if (c.binds?.readLater === true) out.push(`\t${c.binds.name} = &dev->regions[${operand(c.binds.index)}];`);
  }
  out.push('\tif (rule)', `\t\t*rule = ${ruleNone(spec)};`, '\treturn 0;', '}', '');

  out.push(...validatorDoc(spec, v, 'apply'), applySignature(spec, v), '{');
  for (const b of p.applyBindings) out.push(`\t${b.written ? '' : 'const '}${region} *${b.name} = &dev->regions[${operand(b.index)}];`);
  if (p.applyBindings.length > 0) out.push('');
  if (!p.applyUses.dev) out.push('\t(void)dev;');
  if (!p.applyUses.req) out.push('\t(void)req;');
  for (const e of p.effects) out.push(effectLine(e));
  out.push('}', '');
  return out;
}

// ---------------------------------------------------------------------------------------------
// Capability chain walkers: one per ioctl that declares a chain, sharing the cursor and the errors

/** Prefix of a chain walker's functions: the argument struct's name (foo_info -> foo_info_cap_first). */
const walkerFn = (w: ChainPlan): string => w.info.name;

/** The byte reader of a member's width. */
function getter(spec: Spec, size: number, what: string): string {
  if (size !== 1 && size !== 2 && size !== 4) throw new Error(`${what}: a chain walker reads 1, 2 or 4 bytes, not ${size}`);
  return `${cPrefix(spec)}_cap_get${size * 8}`;
}

/** A read of a member of the struct at base, through the byte reader of its width. */
function read(spec: Spec, m: Member, base: string): string {
  return `${getter(spec, m.size, m.name)}(${base}${m.offset === 0 ? '' : ` + ${m.offset}`})`;
}

/** A struct's size as C writes it: the compiler's sizeof where upstream's layout differs between data models, else the number. */
function cSize(s: Struct): string {
  return s.natural ? `sizeof(struct ${s.name})` : String(s.size);
}

function capSizeCase(spec: Spec, d: CapDecoder): string[] {
  const out = [`\tcase ${d.cap.name}:\t/* struct ${d.struct.name} */`];
  const size = cSize(d.struct);
  if (d.flexible !== null) {
    out.push(`\t\tif (avail < ${size})`, `\t\t\treturn ${size};`);
    const { count, offset, elementSize } = d.flexible;
    if (offset.lp64 !== offset.ilp32 || elementSize.lp64 !== elementSize.ilp32)
      throw new SpecError([spec.at(d.struct.pointer, `c-validators: the count or the elements of struct ${d.struct.name}'s flexible array lie differently on LP64 and ILP32; the C walker reads them at one offset`)]);
    out.push(`\t\treturn ${size} + (__u64)${read(spec, count, 'p')} * ${elementSize.lp64};`);
  } else {
    out.push(`\t\treturn ${size};`);
  }
  return d.cap.guarded ? [`#ifdef ${d.cap.name}`, ...out, '#endif'] : out;
}

/** The C type of the cursor's id and version: wide enough for every chain's header. */
function cursorWord(walkers: ChainPlan[], k: 'id' | 'version'): string {
  return walkers.some((w) => w[k].size === 4) ? '__u32' : '__u16';
}

function walkerHeader(spec: Spec): string[] {
  const { chains: walkers, capErrors } = lower(spec);
  if (walkers.length === 0) return [];
  const p = cPrefix(spec);
  const first = walkers[0]!;
  const infos = walkers.map((w) => w.ioctl.name).join(', ');
  const firstFn = walkerFn(first);
  const out: string[] = [];
  out.push(...cComment([
    cItem(`enum ${p}_cap_error - Why a ${infos} reply was refused; ${p}_cap_error_name() gives the names spec/vectors/FORMAT.md uses.`),
  ], '/**'));
  out.push(`enum ${p}_cap_error {`, `\t${capErrorEnum(spec, 'NONE')} = 0,`);
  for (const e of capErrors) out.push(`\t${capErrorEnum(spec, e.name)},\t/* "${e.name}": ${e.doc} */`);
  out.push('};', '');
  out.push(...cComment([
    [...cItem(`struct ${p}_cap_cursor - Position in a capability chain.`),
      ...cItem('@buf: The reply buffer.'),
      ...cItem('@len: Its length in bytes (what the caller gave as argsz).'),
      ...cItem(`@first: ${first.start.name} of the reply: the first capability.`),
      ...cItem('@offset: Offset of the current capability; 0 before the first.'),
      ...cItem('@next: Its next field.'),
      ...cItem('@id: Its id.'),
      ...cItem('@version: Its version.'),
      ...cItem('@known: 1 when the id is a capability this header knows (its payload was checked to fit), else 0.'),
      ...cItem('@size: Bytes checked to fit from @offset: the known struct with its flexible elements, or the header.'),
      ...cItem(`@retry: After -ENOSPC from ${firstFn}_cap_first(), the argsz the kernel asked for.`),
      ...cItem('@error: After -EINVAL, why.'),
      ...cItem(`@at: After -EINVAL, the offset at fault (the buffer length for ${capErrorEnum(spec, 'truncated')}).`)],
    cProse(`Fill it with ${firstFn}_cap_first() and advance it with ${firstFn}_cap_next()${walkers.length > 1 ? ' (or the pair of another chain)' : ''}; both return 1 when the cursor holds a capability, 0 at the end of the chain (or when there is none), -ENOSPC when the reply asks for a larger buffer and -EINVAL for a malformed reply. The walker neither allocates nor recurses; every loop is bounded by the buffer length.`),
  ], '/**'));
  out.push(`struct ${p}_cap_cursor {`, '\tconst __u8 *buf;', '\t__u32 len;', '\t__u32 first;', '\t__u32 offset;', '\t__u32 next;',
    `\t${cursorWord(walkers, 'id')} id;`, `\t${cursorWord(walkers, 'version')} version;`, '\t__u32 known;', '\t__u32 size;', '\t__u32 retry;', `\tenum ${p}_cap_error error;`, '\t__u32 at;', '};', '');
  out.push(`const char *${p}_cap_error_name(enum ${p}_cap_error e);`);
  for (const w of walkers) {
    const fn = walkerFn(w);
    out.push(`__u64 ${fn}_cap_size(${cursorWord(walkers, 'id')} id, const void *cap, __u32 avail);`);
    out.push(`int ${fn}_cap_first(const void *buf, __u32 len,\n\t\tstruct ${p}_cap_cursor *cur);`);
    out.push(`int ${fn}_cap_next(struct ${p}_cap_cursor *cur);`, '');
  }
  return out;
}

function walkerSource(spec: Spec): string[] {
  const { chains: walkers, capErrors } = lower(spec);
  if (walkers.length === 0) return [];
  const p = cPrefix(spec);
  const rd = (m: Member, base: string): string => read(spec, m, base);
  const widths = new Set<number>();
  for (const w of walkers) {
    for (const m of [w.argsz, w.flags, w.start, w.id, w.version, w.next]) widths.add(m.size);
    for (const d of w.decoders) if (d.flexible !== null) widths.add(d.flexible.count.size);
  }
  const out: string[] = [];
  out.push('/* Byte copies: the buffer may not be aligned for the types read from it. */');
  out.push(`static void ${p}_cap_copy(void *dst, const __u8 *src, __u32 n)`, '{', '\t__u8 *d = (__u8 *)dst;', '\t__u32 i;', '',
    '\tfor (i = 0; i < n; i++)', '\t\td[i] = src[i];', '}', '');
  if (widths.has(1)) out.push(`static __u8 ${p}_cap_get8(const __u8 *p)`, '{', '\treturn p[0];', '}', '');
  if (widths.has(2)) out.push(`static __u16 ${p}_cap_get16(const __u8 *p)`, '{', '\t__u16 v;', '', `\t${p}_cap_copy(&v, p, sizeof(v));`, '\treturn v;', '}', '');
  if (widths.has(4)) out.push(`static __u32 ${p}_cap_get32(const __u8 *p)`, '{', '\t__u32 v;', '', `\t${p}_cap_copy(&v, p, sizeof(v));`, '\treturn v;', '}', '');

  out.push(`const char *${p}_cap_error_name(enum ${p}_cap_error e)`, '{', '\tswitch (e) {', `\tcase ${capErrorEnum(spec, 'NONE')}:`, '\t\treturn "none";');
  for (const e of capErrors) out.push(`\tcase ${capErrorEnum(spec, e.name)}:`, `\t\treturn ${cString(e.name)};`);
  out.push('\t}', '\treturn "unknown";', '}', '');
  out.push(`static int ${p}_cap_fail(struct ${p}_cap_cursor *cur, enum ${p}_cap_error e, __u32 at)`, '{',
    '\tcur->error = e;', '\tcur->at = at;', '\treturn -EINVAL;', '}', '');
  const idType = cursorWord(walkers, 'id');

  for (const w of walkers) {
    const fn = walkerFn(w);
    const { info } = w;
    const hdr = w.header.size;
    out.push(...cComment([
      cItem(`${fn}_cap_size - Bytes a ${w.ioctl.name} capability needs from its offset: its struct and, for one ending in a flexible array, the elements its count member names (computed in 64 bits, so a huge count cannot wrap). 0 for an id this header does not know.`),
      cProse('@cap points at the capability and @avail bytes are readable there; a count member outside them is not read (the struct size alone then already exceeds @avail).'),
    ], '/**'));
    out.push(`__u64 ${fn}_cap_size(${idType} id, const void *cap, __u32 avail)`, '{');
    if (w.decoders.some((d) => d.flexible !== null)) out.push('\tconst __u8 *p = (const __u8 *)cap;', '');
    else out.push('\t(void)cap;', '\t(void)avail;', '');
    out.push('\tswitch (id) {');
    for (const d of w.decoders) out.push(...capSizeCase(spec, d));
    out.push('\tdefault:', '\t\treturn 0;', '\t}', '}', '');

    out.push(...cComment([cProse(`Whether off is one of the capabilities visited so far. They were all checked (in bounds, each after the one before), so re-walking from the first ends at the current one within len / ${w.align} steps.`)]));
    out.push(`static int ${fn}_cap_seen(const struct ${p}_cap_cursor *cur, __u32 off)`, '{', '\t__u32 p = cur->first;', '',
      '\twhile (p != 0 && p < cur->offset) {', '\t\tif (p == off)', '\t\t\treturn 1;', `\t\tp = ${rd(w.next, 'cur->buf + p')};`, '\t}',
      '\treturn p == off;', '}', '');
    out.push(...cComment([cProse(`Checks the capability at off (${w.start.name}, or the current one's next) and makes it the current one. Order: loop, backwards, misaligned, out-of-bounds.`)]));
    out.push(`static int ${fn}_cap_visit(struct ${p}_cap_cursor *cur, __u32 off)`, '{', '\t__u64 need;', `\t${idType} id;`, '');
    out.push('\tif (cur->offset != 0) {', '\t\tif (off <= cur->offset)',
      `\t\t\treturn ${p}_cap_fail(cur, ${fn}_cap_seen(cur, off) ? ${capErrorEnum(spec, 'loop')} : ${capErrorEnum(spec, 'backwards')}, off);`,
      `\t} else if (off < ${cSize(info)}) {\t/* inside struct ${info.name} */`,
      `\t\treturn ${p}_cap_fail(cur, ${capErrorEnum(spec, 'backwards')}, off);`, '\t}');
    out.push(`\tif (off & ${w.align - 1})`, `\t\treturn ${p}_cap_fail(cur, ${capErrorEnum(spec, 'misaligned')}, off);`);
    out.push(`\tif (off > cur->len || cur->len - off < ${hdr})\t/* struct ${w.header.name} */`, `\t\treturn ${p}_cap_fail(cur, ${capErrorEnum(spec, 'out-of-bounds')}, off);`);
    out.push(`\tid = ${rd(w.id, 'cur->buf + off')};`);
    out.push(`\tneed = ${fn}_cap_size(id, cur->buf + off, cur->len - off);`);
    out.push('\tif (need > cur->len - off)', `\t\treturn ${p}_cap_fail(cur, ${capErrorEnum(spec, 'out-of-bounds')}, off);`);
    out.push('\tcur->offset = off;', '\tcur->id = id;', `\tcur->version = ${rd(w.version, 'cur->buf + off')};`, `\tcur->next = ${rd(w.next, 'cur->buf + off')};`,
      '\tcur->known = need != 0;', `\tcur->size = need != 0 ? (__u32)need : ${hdr};`, '\treturn 1;', '}', '');

    const off = w.start.name;
    out.push(`int ${fn}_cap_first(const void *buf, __u32 len,\n\t\tstruct ${p}_cap_cursor *cur)`, '{', '\tconst __u8 *b = (const __u8 *)buf;',
      `\t__u32 argsz, flags, ${off};`, '');
    out.push('\tcur->buf = b;', '\tcur->len = len;', '\tcur->first = 0;', '\tcur->offset = 0;', '\tcur->next = 0;', '\tcur->id = 0;', '\tcur->version = 0;',
      '\tcur->known = 0;', '\tcur->size = 0;', '\tcur->retry = 0;', `\tcur->error = ${capErrorEnum(spec, 'NONE')};`, '\tcur->at = 0;', '');
    out.push(`\tif (len < ${cSize(info)})\t/* struct ${info.name} */`, `\t\treturn ${p}_cap_fail(cur, ${capErrorEnum(spec, 'truncated')}, len);`);
    out.push(`\targsz = ${rd(w.argsz, 'b')};`, `\tflags = ${rd(w.flags, 'b')};`, `\t${off} = ${rd(w.start, 'b')};`);
    out.push(`\tif ((flags & ${w.flag.name}) == 0)\t/* no chain, whatever ${off} says */`, '\t\treturn 0;');
    out.push('\tif (argsz > len) {\t/* the kernel asks for a larger buffer */', '\t\tcur->retry = argsz;', '\t\treturn -ENOSPC;', '\t}');
    out.push(`\tif (${off} == 0)`, '\t\treturn 0;', `\tcur->first = ${off};`, `\treturn ${fn}_cap_visit(cur, ${off});`, '}', '');

    out.push(`int ${fn}_cap_next(struct ${p}_cap_cursor *cur)`, '{', `\tif (cur->error != ${capErrorEnum(spec, 'NONE')})`, '\t\treturn -EINVAL;',
      '\tif (cur->offset == 0 || cur->next == 0)', '\t\treturn 0;', `\treturn ${fn}_cap_visit(cur, cur->next);`, '}', '');
  }
  out.pop();
  return out;
}

// ---------------------------------------------------------------------------------------------
// ioctl argument table

/** The enum NAME_ioctl_arg_kind values, in value order. */
const ARG_KINDS = ['NONE', 'FIXED', 'ARGSZ', 'VALUE', 'SCALAR', 'STRING'] as const;
const KIND_OF: Record<IoctlArg['kind'], (typeof ARG_KINDS)[number]> = { none: 'NONE', fixed: 'FIXED', argsz: 'ARGSZ', value: 'VALUE', scalar: 'SCALAR', string: 'STRING' };
/** A kernel-doc name line or @item (continued with a tab), and a prose paragraph. */
const doc = cItem;
const prose = cProse;

/** The names of the argument table: M (this spec's snake-case name), MU (its macro case), the kind and count macros. */
function tableNames(spec: Spec) {
  const M = cModule(spec);
  const MU = upper(M);
  const argKind = (k: (typeof ARG_KINDS)[number]): string => `${MU}_IOCTL_ARG_${k}`;
  const fdKind = (name: string): string => `${MU}_FD_${upper(name)}`;
  return { M, MU, argKind, fdKind, kindOf: (a: IoctlArg): string => argKind(KIND_OF[a.kind]), NR_ARGS: `${M}_nr_ioctl_args`, NR_FDS: `${MU}_NR_FD_KINDS` };
}

function ioctlTableHeader(spec: Spec): string[] {
  const { M, MU, argKind, fdKind, NR_ARGS, NR_FDS } = tableNames(spec);
  const out: string[] = [];
  out.push(...cComment([
    doc(`enum ${M}_fd_kind - The kinds of file descriptor the spec's ioctls are issued on; ${M}_fd_kind_names gives each one's name in the spec.`),
    spec.fdKinds.flatMap((k) => doc(`@${fdKind(k.name)}: ${k.doc ?? `The ${k.name} fd.`}${k.extends !== null ? ` Accepts the ioctls of ${fdKind(k.extends)} too.` : ''}`)),
  ], '/**'));
  out.push(`enum ${M}_fd_kind {`, ...spec.fdKinds.map((k, i) => `	${fdKind(k.name)} = ${i},`), '};', '', `#define ${NR_FDS} ${spec.fdKinds.length}`, '',
    `extern const char *const ${M}_fd_kind_names[${NR_FDS}];`, '');
  out.push(...cComment([
    doc(`enum ${M}_ioctl_arg_kind - How the memory an ioctl's argument pointer lets the kernel touch is sized.`),
    [...doc(`@${argKind('NONE')}: No argument (_IO): nothing is touched, and the argument is not a pointer.`),
      ...doc(`@${argKind('FIXED')}: An _IOR, _IOW or _IOWR struct: exactly @size bytes, the _IOC_SIZE of its request number.`),
      ...doc(`@${argKind('ARGSZ')}: An _IO struct whose __u32 argsz member says how large the caller's buffer is: the buffer holds at least @size bytes (the struct's fixed part) and argsz bytes, and the kernel touches at most max(argsz, @size).`),
      ...doc(`@${argKind('VALUE')}: An integer of @size bytes (signed when @value_signed) passed by value as the argument itself (_IO): nothing is touched, and the argument is not a pointer.`),
      ...doc(`@${argKind('SCALAR')}: A pointer to one integer: a buffer of exactly @size bytes.`),
      ...doc(`@${argKind('STRING')}: A pointer to a NUL-terminated string (_IO): the kernel reads up to and including the first NUL, which must lie inside the buffer.`)],
  ], '/**'));
  out.push(`enum ${M}_ioctl_arg_kind {`, ...ARG_KINDS.map((k, i) => `\t${argKind(k)} = ${i},`), '};', '');
  out.push(...cComment([
    doc(`struct ${M}_ioctl_arg - What the kernel may touch through the argument pointer of an ioctl of the spec.`),
    [...doc('@request: The request number, as the compiling architecture encodes it.'),
      ...doc(`@kind: An enum ${M}_ioctl_arg_kind.`),
      ...doc(`@size: sizeof the argument struct (without flexible array elements), or of the integer for ${MU}_IOCTL_ARG_VALUE and ${MU}_IOCTL_ARG_SCALAR; 0 for ${MU}_IOCTL_ARG_NONE and ${MU}_IOCTL_ARG_STRING.`),
      ...doc(`@argsz_offset: offsetof the argsz member for ${MU}_IOCTL_ARG_ARGSZ; else 0.`),
      ...doc('@name: The ioctl\'s name in the spec.'),
      ...doc(`@value_signed: 1 when the integer of ${MU}_IOCTL_ARG_VALUE or ${MU}_IOCTL_ARG_SCALAR is signed; else 0.`),
      ...doc(`@fds: The fd kinds that accept the ioctl, a bit (1 << enum ${M}_fd_kind) each: its own and every kind that extends it.`)],
    prose(`${M}_ioctl_args holds one entry per ioctl of the spec (${NR_ARGS} of them, in spec order; an upstream ioctl newer than the oldest ones is there only when the included header defines it): a request number may mean other arguments on unrelated fd kinds, so an entry is found by fd kind and request. The compiler, not the generator, computes every request, size and offset.`),
  ], '/**'));
  out.push(`struct ${M}_ioctl_arg {`, '\tunsigned long request;', '\t__u32 kind;', '\t__u32 size;', '\t__u32 argsz_offset;', '\tconst char *name;', '\t__u32 value_signed;', '\t__u32 fds;', '};', '');
  out.push(`extern const struct ${M}_ioctl_arg ${M}_ioctl_args[];`, `extern const __u32 ${NR_ARGS};`, '');
  out.push(`const struct ${M}_ioctl_arg *${M}_ioctl_arg(__u32 fd, unsigned long request);`);
  out.push(`int ${M}_ioctl_arg_size(const struct ${M}_ioctl_arg *a,\n\t\tconst void *arg, size_t len, size_t *out);`, '');
  return out;
}

function ioctlTableSource(spec: Spec): string[] {
  const { M, MU, argKind, fdKind, kindOf, NR_ARGS, NR_FDS } = tableNames(spec);
  const out: string[] = [];
  out.push(`const char *const ${M}_fd_kind_names[${NR_FDS}] = {`, ...spec.fdKinds.map((k) => `\t${cString(k.name)},\t/* ${fdKind(k.name)} */`), '};', '');
  out.push(`const struct ${M}_ioctl_arg ${M}_ioctl_args[] = {`);
  for (const a of spec.ioctlArgs) {
    const x = a.ioctl.argument;
    const sized = a.kind === 'argsz' || a.kind === 'fixed' ? `sizeof(struct ${a.struct.name})` : x.kind === 'value' || x.kind === 'pointer' ? `sizeof(${x.type.name})` : '0';
    const offset = a.kind === 'argsz' ? `offsetof(struct ${a.struct.name}, ${a.argsz.name})` : '0';
    const signed = x.kind === 'value' || x.kind === 'pointer' ? (x.type.signed ? '1' : '0') : '0';
    const fds = a.fds.map((k) => `1u << ${fdKind(k)}`).join(' |\n\t  ');
    const entry = [`\t{ ${cIoctlRequest(spec, a.ioctl)}, ${kindOf(a)},`, `\t  ${sized}, ${offset},`, `\t  ${cString(a.ioctl.name)}, ${signed},`, `\t  ${fds} },`];
    out.push(...(a.guarded ? [`#ifdef ${a.ioctl.name}`, ...entry, '#endif'] : entry));
  }
  out.push('};', '', `const __u32 ${NR_ARGS} = sizeof(${M}_ioctl_args) / sizeof(${M}_ioctl_args[0]);`, '');

  out.push(...cComment([
    doc(`${M}_ioctl_arg - Finds the argument table entry of an ioctl request number on a kind of fd.`),
    [...doc(`@fd: The enum ${M}_fd_kind of the fd the request is issued on.`),
      ...doc('@request: The request number exactly as it would be passed to ioctl().')],
    prose('Return: The entry, or NULL for a request number the spec does not define for that kind of fd (then nothing about its argument is known and it must not be issued with one).'),
  ], '/**'));
  out.push(`const struct ${M}_ioctl_arg *${M}_ioctl_arg(__u32 fd, unsigned long request)`, '{', '\t__u32 i;', '',
    `\tif (fd >= ${NR_FDS})\t/* no entry has its bit, and 1u << fd is undefined from 32 on */`, '\t\treturn NULL;',
    `\tfor (i = 0; i < ${NR_ARGS}; i++)`, `\t\tif (${M}_ioctl_args[i].request == request && (${M}_ioctl_args[i].fds & (1u << fd)))`, `\t\t\treturn &${M}_ioctl_args[i];`,
    '\treturn NULL;', '}', '');

  out.push(...cComment([
    doc(`${M}_ioctl_arg_size - Bytes of an ioctl argument buffer the kernel may read or write.`),
    [...doc(`@a: The ioctl's entry, from ${M}_ioctl_arg(); NULL gives -ENOTTY.`),
      ...doc(`@arg: The argument buffer (read only for ${MU}_IOCTL_ARG_ARGSZ and ${MU}_IOCTL_ARG_STRING; may be NULL otherwise).`),
      ...doc('@len: Its length in bytes.'),
      ...doc('@out: Receives the byte count on success; untouched on failure.')],
    prose('NONE and VALUE give 0: their argument is not a pointer, and a caller passing a buffer for one is wrong (the native addon refuses it before asking). SCALAR needs @len == @a->size and gives @a->size. STRING needs a NUL among the @len bytes and gives the bytes up to and including the first one. FIXED needs @len >= @a->size and gives @a->size. ARGSZ needs @len >= @a->size (the fixed part, which holds argsz) and argsz <= @len, and gives max(argsz, @a->size); an argsz below the fixed part is the kernel\'s to refuse, but it may still read the fixed part. The result never exceeds @len.'),
    prose('argsz is read once, by a single 4-byte __builtin_memcpy (no libc call, no alignment assumed), and the result depends on that one read only. Call this on the private copy the ioctl will be given, never on memory another thread can write, so that the argsz checked is the argsz the kernel sees; copy @len bytes first, pass the copy, and copy *@out bytes back afterwards.'),
    prose('Return: 0 with *@out set; -ENOTTY when @a is NULL; -EINVAL when @len is shorter than the fixed part, is not the size of a SCALAR, holds no NUL for a STRING (or @a is malformed); -ERANGE when argsz exceeds @len.'),
  ], '/**'));
  out.push(`int ${M}_ioctl_arg_size(const struct ${M}_ioctl_arg *a,\n\t\tconst void *arg, size_t len, size_t *out)`, '{', '\t__u32 argsz;', '\tsize_t i;', '',
    '\tif (!a)', '\t\treturn -ENOTTY;',
    '\tswitch (a->kind) {',
    `\tcase ${argKind('NONE')}:`, `\tcase ${argKind('VALUE')}:`, '\t\t*out = 0;', '\t\treturn 0;',
    `\tcase ${argKind('SCALAR')}:`, '\t\tif (len != a->size)', '\t\t\treturn -EINVAL;', '\t\t*out = len;', '\t\treturn 0;',
    `\tcase ${argKind('STRING')}:`, '\t\tfor (i = 0; i < len; i++) {', '\t\t\tif (((const __u8 *)arg)[i] == 0) {', '\t\t\t\t*out = i + 1;', '\t\t\t\treturn 0;', '\t\t\t}', '\t\t}', '\t\treturn -EINVAL;',
    `\tcase ${argKind('FIXED')}:`, '\t\tif (len < a->size)', '\t\t\treturn -EINVAL;', '\t\t*out = a->size;', '\t\treturn 0;',
    `\tcase ${argKind('ARGSZ')}:`,
    '\t\tif (a->size < sizeof(argsz) || a->argsz_offset > a->size - sizeof(argsz))', '\t\t\treturn -EINVAL;\t/* argsz is not inside the fixed part */',
    '\t\tif (len < a->size)', '\t\t\treturn -EINVAL;',
    '\t\t__builtin_memcpy(&argsz, (const __u8 *)arg + a->argsz_offset, sizeof(argsz));',
    '\t\tif (argsz > len)', '\t\t\treturn -ERANGE;',
    '\t\t*out = argsz > a->size ? argsz : a->size;', '\t\treturn 0;',
    '\t}', '\treturn -EINVAL;', '}');
  return out;
}

// ---------------------------------------------------------------------------------------------

function includes(spec: Spec): string[] {
  return ['#ifdef __KERNEL__', '#include <linux/errno.h>', '#include <linux/stddef.h>', '#include <linux/types.h>', '#else', '#include <errno.h>', '#include <stddef.h>', '#include <linux/types.h>', '#endif',
    `#include <${spec.uapi.header}>`];
}

export function emitCValidators(spec: Spec): GeneratedFile[] {
  const M = cModule(spec);
  const paths = cValidatorsPaths(spec);
  const GUARD = `${upper(spec.targets.cValidators.base)}_H`;
  if (spec.ioctlArgs.length === 0)
    throw new SpecError([spec.at('/ioctls', 'the c-validators target needs at least one ioctl: its argument table is a C array, and C has no empty arrays')]);
  const h: string[] = ['/* SPDX-License-Identifier: GPL-2.0-only OR MIT */'];
  h.push(...cComment([preambleComment(spec, 'c-validators', 'c'),
    cProse(`Validators, capability-chain walkers and the ioctl argument table of the ${spec.name} ABI, for the kernel (build with __KERNEL__) and for userspace.${spec.state !== null ? ` ${spec.state.doc}` : ''} Check functions return 0 or a negative errno and call nothing outside this file.`)]));
  h.push(`#ifndef ${GUARD}`, `#define ${GUARD}`, '', ...includes(spec), '', '#ifdef __cplusplus', 'extern "C" {', '#endif', '');
  if (spec.state !== null) {
    h.push(...stateStruct(spec.state.region, []), '};', '');
    h.push(...stateStruct(spec.state.device, [`@regions: num_regions entries, indexed by region index.`]),
      `\tstruct ${spec.state.region.name} *regions;\t/* num_regions entries */`, '};', '');
  }

  if (spec.mmap !== null) {
    h.push(...cComment([
      cProse(`mmap rules - ${spec.mmap.doc}`),
      ...spec.mmap.rules.map((r) => cItem(`${mmapRuleEnum(spec, r.name)} ("${r.name}", -${r.errno}): ${r.doc}`)),
    ]));
  }
  h.push(...cComment([cItem(`enum ${M}_rule - The rule a check failed; ${M}_rule_name() gives its name in the spec.`)], '/**'));
  h.push(`enum ${M}_rule {`, `\t${ruleNone(spec)} = 0,`);
  for (const v of spec.validators) for (const r of v.rules) h.push(`\t${ruleEnum(spec, v, r.name)},`);
  for (const r of spec.mmap?.rules ?? []) h.push(`\t${mmapRuleEnum(spec, r.name)},\t/* enforced by the mmap path */`);
  h.push('};', '', `const char *${M}_rule_name(enum ${M}_rule r);`, '');
  for (const v of spec.validators) h.push(`${checkSignature(spec, v)};`, `${applySignature(spec, v)};`, '');
  h.push(...walkerHeader(spec));
  h.push(...ioctlTableHeader(spec));
  h.push('#ifdef __cplusplus', '}', '#endif', '', `#endif /* ${GUARD} */`, '');

  const c: string[] = ['// SPDX-License-Identifier: GPL-2.0-only OR MIT'];
  c.push(...cComment([preambleComment(spec, 'c-validators', 'c')]));
  c.push(`#include "${spec.targets.cValidators.base}.h"`, '');
  c.push(`const char *${M}_rule_name(enum ${M}_rule r)`, '{', '\tswitch (r) {', `\tcase ${ruleNone(spec)}:`, '\t\treturn "none";');
  for (const v of spec.validators) for (const r of v.rules) c.push(`\tcase ${ruleEnum(spec, v, r.name)}:`, `\t\treturn ${cString(r.name)};`);
  for (const r of spec.mmap?.rules ?? []) c.push(`\tcase ${mmapRuleEnum(spec, r.name)}:`, `\t\treturn ${cString(r.name)};`);
  c.push('\t}', '\treturn "unknown";', '}', '');
  // Only a spec with validators calls it (an unused static function fails -Werror).
  if (spec.validators.length > 0) c.push(`static int ${M}_fail(enum ${M}_rule *rule,`, `\t\tenum ${M}_rule r, int err)`, '{', '\tif (rule)', '\t\t*rule = r;', '\treturn err;', '}', '');
  for (const v of lower(spec).validators) c.push(...emitValidator(spec, v));
  const walker = walkerSource(spec);
  if (walker.length > 0) c.push(...walker, '');
  c.push(...ioctlTableSource(spec), '');

  return [
    { path: paths.h, content: h.join('\n') },
    { path: paths.c, content: c.join('\n') },
  ];
}
