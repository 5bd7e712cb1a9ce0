import type * as IR from '../ir.js';
import { ARCHES } from '../ioctl-encoding.js';
import { ioctlArgCType, ioctlArgText, ioctlNr, pointsToText } from './c-common.js';
import type { GeneratedFile } from './file.js';
import { versionValues } from './names.js';
import { lower, type ValidatorPlan } from '../lower.js';
import { constantRole, digits, mdParagraph, preambleComment, specConstantRole } from './printer.js';

/**
 * The reference page a kernel reviewer reads: the proposal first, then every layout and number.
 * A section the spec has nothing for is left out; chain sections take their titles from the spec.
 */
export function emitMarkdown(spec: IR.Spec): GeneratedFile[] {
  const out: string[] = [];
  const p = (...lines: string[]) => out.push(...lines);
  const proposed = <T extends { origin: IR.Origin }>(xs: T[]) => xs.filter((x) => x.origin.kind === 'proposed');
  const upstream = <T extends { origin: IR.Origin }>(xs: T[]) => xs.filter((x) => x.origin.kind === 'upstream');

  p(...preambleComment(spec, 'markdown', 'md'), '', `# The ${spec.name} ABI`, '', ...mdParagraph(spec.doc), '');
  const anyProposed = [...spec.constants, ...spec.enums, ...spec.flags, ...spec.structs, ...spec.capabilities, ...spec.ioctls, ...spec.features].some((x) => x.origin.kind === 'proposed');
  p(...mdParagraph(`${spec.uapi.emit === 'proposed' || anyProposed ? 'The proposed definitions go in' : 'The definitions are in'} \`<${spec.uapi.header}>\`: ${spec.uapi.doc}`), '');
  const provisional = [...spec.constants, ...spec.enums.flatMap((e) => e.values), ...spec.capabilities, ...spec.ioctls, ...spec.features].some((x) => x.provisional);
  if (provisional) p(...mdParagraph('Numbers marked *provisional* are not assigned upstream and may change when the proposal is merged.'), '');

  const { validators: plans, chains } = lower(spec);
  const fx = spec.featureIoctl;
  if (fx !== null && proposed(spec.features).length > 0) p('## Features', '');
  for (const f of proposed(spec.features)) {
    if (fx === null) break;
    p(`### ${f.name} (${f.number}${f.provisional ? ', provisional' : ''})`, '', ...mdParagraph(f.doc), '');
    for (const [opName, op] of [['GET', f.get], ['SET', f.set]] as const) {
      if (op === null) continue;
      p(`#### ${opName}${op.payload !== null ? `: \`struct ${op.payload.name}\`` : ''}`, '', ...mdParagraph(`${op.doc}${op.returns !== null ? ` Return: ${op.returns}${op.errors.length > 0 ? ' on success' : ''}.` : ''}`), '');
      if (op.validator !== null) validator(p, plans.find((x) => x.validator === op.validator)!);
      if (op.errors.length > 0) {
        p('| errno | when |', '|---|---|', ...op.errors.map((e) => `| ${e.errno} | ${e.when} |`), '');
      }
    }
    p(...mdParagraph(`PROBE: \`${[fx.probe.name, f.get && fx.get.name, f.set && fx.set.name].filter(Boolean).join(' | ')} | ${f.name}\` succeeds when the kernel supports the feature.`), '');
  }

  if (spec.mmap !== null) {
    p('## mmap', '', ...mdParagraph(spec.mmap.doc), '');
    p('| rule | errno | why |', '|---|---|---|', ...spec.mmap.rules.map((r) => `| \`${r.name}\` | ${r.errno} | ${r.doc} |`), '');
  }

  for (const { ioctl: x, caps, title, flag, flags, start, header } of chains) {
    p(`## ${title}`, '', ...mdParagraph(`The chain of a ${x.name} reply: \`${flag.name}\` in \`${flags.name}\` says it is there, \`${start.name}\` where it starts; every capability starts with \`struct ${header.name}\`.`), '');
    if (caps.length > 0) {
      p('| name | id | version | payload | origin |', '|---|---|---|---|---|');
      for (const c of caps) {
        p(`| ${c.name} | ${c.id}${c.provisional ? ' (provisional)' : ''} | ${c.version} | ${c.struct !== null ? `\`struct ${c.struct.name}\`` : '—'} | ${originText(c)}${c.deprecated ? ', deprecated' : ''} |`);
      }
      p('');
    }
    const described = proposed(caps);
    for (const c of described) p(...mdParagraph(`- **${c.name}**: ${c.doc}`));
    if (described.length > 0) p('');
  }

  if (spec.constants.length > 0) {
    p('## Constants', '', '| name | value | origin | meaning |', '|---|---|---|---|');
    for (const c of spec.constants) {
      const value = c.string !== null ? JSON.stringify(c.string) : c.char !== null ? `'${c.char}' (${c.value})` : digits(c.value, specConstantRole(c));
      p(`| ${c.name} | \`${value}\`${c.provisional ? ' (provisional)' : ''} | ${originText(c)} | ${c.doc} |`);
    }
    p('');
  }

  if (spec.enums.length > 0) p('## Enumerations', '');
  for (const e of spec.enums) {
    p(`### ${e.name} (${originText(e)}${e.anonymous ? ', an anonymous enum in C' : ''})`, '', ...mdParagraph(e.doc), '', '| name | value | meaning |', '|---|---|---|');
    for (const v of e.values) p(`| ${v.name} | \`${digits(v.value, 'quantity')}\`${v.provisional ? ' (provisional)' : ''} | ${v.doc}${v.origin.kind !== e.origin.kind || versionValues(v) !== '' || (v.origin.kind === 'upstream' && e.origin.kind === 'upstream' && v.origin.kernel !== e.origin.kernel) ? ` (${originText(v)})` : ''} |`);
    p('');
  }

  if (spec.flags.length > 0) p('## Flag bits', '');
  for (const f of spec.flags) {
    p(`### ${f.name} (${f.width}-bit, ${originText(f)})`, '', ...mdParagraph(f.doc), '', '| name | value | meaning |', '|---|---|---|');
    for (const b of f.bits) p(`| ${b.name} | \`1 << ${b.bit}\` | ${b.doc} |`);
    p('');
  }

  if (spec.structs.length > 0) {
    p('## Structures', '', ...mdParagraph(spec.structs.every((s) => s.uniform)
      ? 'Offsets and sizes are in bytes and identical on every supported architecture (i386 included).'
      : 'Offsets and sizes are in bytes and identical on every supported architecture (i386 included), except in structs marked "natural layout": upstream\'s own structs whose layout differs between LP64 (every 64-bit architecture) and ILP32 (i386); there a cell reads LP64 / ILP32.'), '');
  }
  for (const s of [...proposed(spec.structs), ...upstream(spec.structs)]) {
    const both = (f: (x: 'lp64' | 'ilp32') => number): string => (s.uniform || f('lp64') === f('ilp32') ? String(f('lp64')) : `${f('lp64')} / ${f('ilp32')}`);
    const size = s.uniform ? `${s.size} bytes` : `${s.layouts.lp64.size} / ${s.layouts.ilp32.size} bytes`;
    p(`### struct ${s.name} (${size}${s.flexible !== null ? ' + flexible array' : ''}, ${originText(s)}${s.natural ? ', natural layout' : ''})`, '', ...mdParagraph(s.doc), '');
    p('| offset | size | member | type | dir | meaning |', '|---|---|---|---|---|---|');
    for (const m of s.members) {
      const t = (x: { kind: 'int'; name: string } | { kind: 'struct'; struct: { name: string } }): string => (x.kind === 'int' ? x.name : `struct ${x.struct.name}`);
      const type = (m.type.kind === 'pointer' ? `${t(m.type.to)} *` : t(m.type)) + (m.count === 'flexible' ? '[]' : m.count !== null ? `[${m.count}]` : '');
      const notes = [m.origin !== null ? `Since ${originText({ origin: m.origin })}.` : '', m.union !== null ? `In a union with ${m.union.members.filter((x) => x !== m).map((x) => `\`${x.name}\``).join(', ') || 'no other member'} (the same bytes).` : '', m.reserved ? 'reserved, must be zero.' : '', m.flags !== null ? `Bits: ${m.flags.name}.` : '', m.type.kind === 'pointer' ? 'A user address.' : '', pointsToText(m)].filter(Boolean).join(' ');
      p(`| ${both((x) => m.layouts[x].offset)} | ${m.count === 'flexible' ? `${both((x) => m.layouts[x].elementSize)} each` : both((x) => m.layouts[x].size)} | \`${m.name}\` | \`${type}\` | ${m.dir ?? ''} | ${m.doc}${notes ? ' ' + notes : ''} |`);
    }
    const holes = (x: 'lp64' | 'ilp32'): string => s.layouts[x].holes.map((h) => `${h.size} at ${h.offset}${h.before === null ? ' (tail)' : ` (before ${h.before})`}`).join(', ');
    if (s.natural && (holes('lp64') !== '' || holes('ilp32') !== '')) p('', `Implicit padding: LP64 ${holes('lp64') || 'none'}; ILP32 ${holes('ilp32') || 'none'}.`);
    p('');
  }

  if (spec.ioctls.length > 0) p('## ioctls', '', `| ioctl | encoding | argument | fd | ${ARCHES.join(' | ')} |`, `|---|---|---|---|${ARCHES.map(() => '---').join('|')}|`);
  for (const x of spec.ioctls) {
    const argType = ioctlArgCType(x);
    const arg = argType === null ? 'none' : `\`${argType}\`${x.argument.kind === 'value' ? ' by value' : x.argument.kind === 'string' ? ' (string)' : ''}`;
    p(`| ${x.name} | \`_${x.encoding}(${x.type.name}, ${ioctlNr(spec, x)})\` | ${arg} | ${x.fd} | ${ARCHES.map((a) => `\`${digits(BigInt(x.numbers[a]), 'bits')}\``).join(' | ')} |`);
  }
  p('');
  for (const x of spec.ioctls) {
    p(...mdParagraph(`- **${x.name}**: ${x.doc}${x.arg === null ? ` Argument: ${ioctlArgText(x)}` : ''}${x.returns !== null ? ` Return: ${x.returns}${x.errors.length > 0 ? ' on success' : ''}.` : ''}`));
    for (const e of x.errors) p(...mdParagraph(`  - ${e.errno}: ${e.when}`));
  }
  p('');

  if (spec.state !== null) {
    p('## Validator state', '', ...mdParagraph(spec.state.doc), '');
    for (const r of [spec.state.device, spec.state.region]) {
      p(`### ${r.name}`, '', ...mdParagraph(r.doc), '', '| field | type | meaning |', '|---|---|---|', ...r.fields.map((f) => `| \`${f.name}\` | ${f.type} | ${f.doc} |`), '');
    }
  }

  const mm = spec.mmio;
  if (mm !== null) {
    p('## MMIO accessor (wasm)', '', ...mdParagraph(mm.doc), '');
    p(`- Access widths: ${mm.widths.map((w) => `${w}-bit`).join(', ')}.`);
    p(...mdParagraph(`- Burst: ${mm.burst.bytes} bytes. ${mm.burst.doc}`));
    for (const o of mm.ordering) p(...mdParagraph(`- \`${o.name}\`: ${o.doc}`));
    p('');
  }

  if (spec.errnos.length > 0) p('## errno values', '', '| errno | value |', '|---|---|', ...spec.errnos.map((e) => `| ${e.name} | ${e.value} |`), '');
  return [{ path: spec.targets.markdown.path, content: out.join('\n') }];
}

function originText(o: { origin: IR.Origin }): string {
  return o.origin.kind === 'upstream' ? `upstream ${o.origin.kernel}${versionValues(o)}` : 'proposed';
}

function validator(p: (...lines: string[]) => void, plan: ValidatorPlan): void {
  p(...mdParagraph(`Checked by \`${plan.validator.name}\`, in this order; the first rule that fails gives the errno.`), '');
  p('| # | rule | errno | must hold | why |', '|---|---|---|---|---|');
  for (const { rule: r, index, check } of plan.checks) p(`| ${index + 1} | \`${r.name}\` | ${r.errno} | \`${condition(check)}\` | ${r.doc} |`);
  p('');
  if (plan.effects.length > 0) {
    p('On success:', '');
    for (const e of plan.effects) p(`- \`${target(e.target)} = ${expr(e.value)}\``);
    p('');
  }
}

function operand(o: IR.Operand): string {
  switch (o.kind) {
    case 'request': return `req.${o.member.name}`;
    case 'device': return `dev.${o.field.name}`;
    case 'region': return `${o.binding}.${o.field.name}`;
    case 'constant': return o.source === 'flagset' ? `${digits(o.value, constantRole(o.name, o.source))} /* all ${o.name} bits */` : o.name;
    case 'literal': return typeof o.value === 'boolean' ? String(o.value) : digits(o.value, 'quantity');
  }
}

function condition(c: IR.Check): string {
  switch (c.kind) {
    case 'zero': return `${operand(c.value)} == 0`;
    case 'nonzero': return `${operand(c.value)} != 0`;
    case 'false': return `!${operand(c.value)}`;
    case 'bits': return `(${operand(c.value)} & ~${operand(c.within)}) == 0`;
    case 'has': return `${operand(c.value)} & ${c.flag.name}`;
    case 'aligned': return `${operand(c.value)} % ${operand(c.to)} == 0`;
    case 'lt': return `${operand(c.left)} < ${operand(c.right)}`;
    case 'within': return `${operand(c.offset)} + ${operand(c.size)} <= ${operand(c.limit)} (no overflow)`;
    case 'lookup': return `${operand(c.index)} < dev.num_regions; ${c.binding} = that region`;
  }
}

function expr(e: IR.Expr): string {
  if (e.kind === 'or') return e.terms.map((t) => (t.kind === 'and' ? `(${expr(t)})` : expr(t))).join(' | ');
  if (e.kind === 'and') return e.terms.map((t) => (t.kind === 'or' ? `(${expr(t)})` : expr(t))).join(' & ');
  return operand(e);
}

function target(t: IR.EffectTarget): string {
  return t.kind === 'request' ? `req.${t.member.name}` : t.kind === 'new' ? `new.${t.field.name}` : `${t.binding}.${t.field.name}`;
}
