/**
 * The C uapi header of the spec (its targets name the path, uapi.guard the include guard). With
 * uapi.emit "proposed" only proposed elements are emitted, the upstream ones coming from the headers
 * it includes; with "all" (the default) it is a standalone header.
 */
import type { GeneratedFile } from './file.js';
import { isProposed, type Capability, type Constant, type Enum, type ErrorCase, type Feature, type FeatureOp, type FlagSet, type Ioctl, type Spec, type Struct } from '../ir.js';
import { cIoctlRequest, cString, firstSentence, ioctlArgText, flagExpr, memberDeclaration, pointsToText } from './c-common.js';
import { cComment, cDefineValue, cItem, cProse, cUnsigned, digits, preambleComment, specConstantRole } from './printer.js';
import { versionValues } from './names.js';

export function cHeaderPath(spec: Spec): string {
  return spec.targets.cHeader.path;
}

const PROVISIONAL = '/* provisional */';

/** `#define NAME<tab>VALUE`, with an optional trailing comment. */
function define(name: string, value: string, comment: string | null = null): string {
  return `#define ${name}\t${value}${comment === null ? '' : `\t${comment}`}`;
}

function constantValue(c: Constant): string {
  if (c.string !== null) return cString(c.string);
  if (c.value < 0n) return `(-${digits(-c.value, specConstantRole(c))})`;
  if (c.or !== null) return `(${c.or.map((t) => t.name).join(' | ')})`;
  if (c.char !== null) return `'${c.char === "'" || c.char === '\\' ? `\\${c.char}` : c.char}'`;
  return cDefineValue(c.value, specConstantRole(c));
}

/** A plain comment block: a heading paragraph and optional further paragraphs. */
function docBlock(heading: string, ...more: string[]): string[] {
  const paras = [cProse(heading)];
  for (const p of more) if (p.trim() !== '') paras.push(cProse(p));
  return cComment(paras);
}

/**
 * The kernel-doc Return section of an ioctl or feature operation, worded as the kernel's are: what
 * a success returns (the spec's `returns`: 0, a new fd, a flag) and the failures the spec lists.
 * Empty when the spec says neither.
 */
function returnLines(op: { returns: string | null; errors: ErrorCase[] }): string[] {
  const { returns, errors } = op;
  if (errors.length === 0) return returns === null ? [] : cProse(`Return: ${returns}.`);
  const head = returns === null ? 'Return: a negative errno on failure:' : `Return: ${returns} on success, -errno on failure:`;
  return [...cProse(head), ...errors.flatMap((e) => cItem(`-${e.errno}: ${e.when}`))];
}

function emitConstant(c: Constant): string[] {
  return [...docBlock(`${c.name} - ${c.doc}${versionValues(c)}`), define(c.name, constantValue(c), c.provisional ? PROVISIONAL : null)];
}

/** A kernel-doc comment and the #define of an ioctl's request number. */
function emitIoctlDefine(spec: Spec, x: Ioctl): string[] {
  const request = cIoctlRequest(spec, x);
  const paras = [cItem(`${x.name} - ${request}`), cProse(x.doc), cProse(`Argument: ${ioctlArgText(x)}`)];
  const ret = returnLines(x);
  if (ret.length > 0) paras.push(ret);
  return [...cComment(paras, '/**'), define(x.name, request, x.provisional ? PROVISIONAL : null)];
}

function emitEnum(e: Enum, out: string[], responsible: (o: { origin: Enum['origin'] }) => boolean): void {
  const proposed = responsible(e);
  const values = proposed ? e.values : e.values.filter(responsible);
  if (values.length === 0) return;
  if (proposed && e.render === 'enum') {
    const para = [cItem(e.anonymous ? `${e.doc} (${e.name})` : `enum ${e.name} - ${e.doc}`)];
    para.push(values.flatMap((v) => cItem(`@${v.name}: ${v.doc}`)));
    out.push(...cComment([para[0]!, para[1]!], '/**'));
    out.push(e.anonymous ? 'enum {' : `enum ${e.name} {`);
    let next = 0n;
    for (const v of values) {
      const explicit = v.value !== next ? ` = ${cUnsigned(v.value, 32, 'quantity')}` : '';
      if (v.origin.kind === 'upstream' && v.origin.values !== undefined) out.push(`\t/* ${versionValues(v).trim()} */`);
      out.push(`\t${v.name}${explicit},${v.provisional ? ` ${PROVISIONAL}` : ''}`);
      next = v.value + 1n;
    }
    out.push('};', '');
    return;
  }
  out.push(...docBlock(proposed ? `${e.name} - ${e.doc}` : `More values of ${e.name} (the others are upstream's).`,
    ...values.map((v) => `${v.name}: ${v.doc}${versionValues(v)}`)));
  for (const v of values) out.push(define(v.name, cDefineValue(v.value, 'quantity'), v.provisional ? PROVISIONAL : null));
  out.push('');
}

function emitFlags(f: FlagSet, out: string[]): void {
  if (f.render === 'enum') {
    out.push(...cComment([[...cItem(`enum ${f.name} - ${f.doc}`), ...f.bits.flatMap((b) => cItem(`@${b.name}: ${b.doc}`))]], '/**'));
    out.push(`enum ${f.name} {`, ...f.bits.map((b) => `\t${b.name} = ${flagExpr(b.bit, f)},`), '};', '');
    return;
  }
  out.push(...docBlock(`${f.name} (__u${f.width}) - ${f.doc}`, ...f.bits.map((b) => `${b.name}: ${b.doc}`)));
  for (const b of f.bits) out.push(define(b.name, flagExpr(b.bit, f)));
  out.push('');
}

function opDoc(label: string, op: FeatureOp): string[] {
  const head = `${label}: ${op.doc}${op.payload === null ? '' : ` Payload: struct ${op.payload.name}.`}`;
  const lines = cProse(head);
  lines.push(...returnLines(op));
  return lines;
}

function emitFeatureDefine(f: Feature): string[] {
  const paras = [cProse(`${f.name} - ${f.doc}`)];
  if (f.get !== null) paras.push(opDoc('GET', f.get));
  if (f.set !== null) paras.push(opDoc('SET', f.set));
  return [...cComment(paras), `#define ${f.name} ${f.number}${f.provisional ? ` ${PROVISIONAL}` : ''}`];
}

function emitCapabilityDefine(c: Capability): string[] {
  const doc = `${c.name} - ${c.doc} Returned by ${c.info.name}${c.struct === null ? '' : ` as struct ${c.struct.name}`}, version ${c.version}.`;
  return [...docBlock(doc), `#define ${c.name} ${c.id}${c.provisional ? ` ${PROVISIONAL}` : ''}`];
}

/** A kernel-doc comment and definition of one struct. */
function structLines(s: Struct): string[] {
  const [brief, rest] = firstSentence(s.doc);
  const paras = [[
    ...cItem(`struct ${s.name} - ${brief}`),
    ...s.members.flatMap((m) => cItem(`@${m.name}: ${[m.doc, pointsToText(m)].filter(Boolean).join(' ')}`)),
  ]];
  if (rest !== '') paras.push(cProse(rest));
  const out = cComment(paras, '/**');
  out.push(`struct ${s.name} {`);
  s.members.forEach((m, i) => {
    // An anonymous union is written around its members, as the kernel writes it.
    const tab = m.union === null ? '\t' : '\t\t';
    if (m.union !== null && s.members[i - 1]?.union !== m.union) out.push('\tunion {');
    if (m.count === 'flexible') {
      // Flexible array members are not standard C++: the member is left out there.
      out.push('#ifndef __cplusplus', `${tab}${memberDeclaration(m, '[]')};`, '#endif');
    } else if (typeof m.count === 'number') {
      out.push(`${tab}${memberDeclaration(m, `[${m.count}]`)};`);
    } else {
      out.push(`${tab}${memberDeclaration(m)};`);
    }
    if (m.union !== null && s.members[i + 1]?.union !== m.union) out.push('\t};');
  });
  out.push('};');
  return out;
}

/**
 * The proposed definitions, as they read in the header: shared by the header itself and by the
 * patch that adds them to the upstream one.
 */
export function uapiDefinitions(spec: Spec): string[] {
  // What this header is responsible for: everything, or (uapi.emit "proposed") what its includes lack.
  const mine = (o: { origin: Spec['structs'][number]['origin'] }): boolean => spec.uapi.emit === 'all' || isProposed(o);
  const out: string[] = [];
  for (const c of spec.constants.filter(mine)) out.push(...emitConstant(c), '');
  for (const e of spec.enums) emitEnum(e, out, mine);
  for (const f of spec.flags.filter(mine)) emitFlags(f, out);

  const emitted = new Set<string>();
  const emitStruct = (s: Struct): void => {
    if (!mine(s) || emitted.has(s.name)) return;
    emitted.add(s.name);
    for (const m of s.members) if (m.type.kind === 'struct') emitStruct(m.type.struct);
    out.push(...structLines(s), '');
  };

  for (const f of spec.features.filter(mine)) {
    out.push(...emitFeatureDefine(f), '');
    for (const op of [f.get, f.set]) if (op?.payload) emitStruct(op.payload);
  }
  for (const c of spec.capabilities.filter(mine)) {
    out.push(...emitCapabilityDefine(c), '');
    if (c.struct !== null) emitStruct(c.struct);
  }
  for (const s of spec.structs) emitStruct(s);
  for (const x of spec.ioctls.filter(mine)) out.push(...emitIoctlDefine(spec, x), '');
  if (spec.mmap !== null) {
    out.push(...cComment([
      cProse(`mmap of a region - ${spec.mmap.doc}`),
      ...spec.mmap.rules.map((r) => cItem(`-${r.errno} (${r.name}): ${r.doc}`)),
    ]), '');
  }
  return out;
}

/** A standalone header: the spec's uapi section and definitions (what `mine` keeps). */
function headerFile(spec: Spec, path: string): GeneratedFile {
  const out: string[] = [];
  out.push('/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */');
  // The marker stays on one line so GENERATED_MARKER finds it.
  out.push(...cComment([preambleComment(spec, 'c-header', 'c'), cProse(spec.uapi.doc)]));
  const guard = spec.uapi.guard;
  out.push(`#ifndef ${guard}`, `#define ${guard}`, '');
  for (const inc of spec.uapi.includes) out.push(`#include <${inc}>`);
  out.push('', ...uapiDefinitions(spec));
  out.push(`#endif /* ${guard} */`, '');
  return { path, content: out.join('\n') };
}

/** An imported spec's part of the IR, as a standalone header of its own elements. */
function importedSpec(spec: Spec, h: Spec['ioctlHeaders'][number]): Spec {
  const own = <T extends { spec: string }>(xs: T[]): T[] => xs.filter((x) => x.spec === h.spec);
  return {
    ...spec, uapi: { ...h.uapi, emit: 'all', patch: null },
    constants: own(spec.constants), enums: own(spec.enums), flags: own(spec.flags), structs: own(spec.structs),
    capabilities: own(spec.capabilities), features: own(spec.features), ioctls: own(spec.ioctls), mmap: null,
  };
}

export function emitCHeader(spec: Spec): GeneratedFile[] {
  const dir = spec.targets.cHeader.fallbackDir;
  const fallbacks = dir === null ? [] : spec.ioctlHeaders.filter((h) => h.guarded).map((h) => headerFile(importedSpec(spec, h), `${dir}/${h.header}`));
  return [headerFile(spec, cHeaderPath(spec)), ...fallbacks];
}
