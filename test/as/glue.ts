import type { IntType, Member, Spec, Struct, StructRef } from '../../codegen/ir.js';
import { chainTakesModel, structClass } from '../../codegen/emit/assemblyscript.js';
import { lower } from '../../codegen/lower.js';

/**
 * Prints the struct <-> slots glue of the AssemblyScript vector harness from the IR: for every
 * struct of a spec, get_<s>/put_<s> (slots <-> object fields) and encode_<s>/decode_<s> (slots ->
 * object -> generated <s>_write, and back through <s>_read), with _ilp32 variants where the codec
 * takes a data model; and for every capability chain, cap_body_<info>(id, at) and the calls that walk
 * a reply and read the walk back (walk_<info>, chain_at_/info_/count_/cap_/body_<info>). The glue only moves
 * integers between slots and fields: sizes and offsets are the generated codec's, and the vectors
 * (spec/vectors, the real headers) are what they are held to.
 *
 * Slots protocol: one u64 per scalar member in declaration order, nested structs flattened in
 * place, fixed arrays element by element, flexible array elements last (their count passed
 * separately, as `n`). Names are the emitter's (structClass, <s>_write, <s>_read): the glue is
 * printed fresh for each compile (never on disk), so it follows whatever spec is compiled.
 */

/** The path the harness imports the glue from (served in memory by compileHarness). */
export const GLUE = 'test/as/assembly/glue.ts';

const asInt = (t: IntType): string => `${t.signed ? 'i' : 'u'}${t.size * 8}`;

/** Lines that fill o.<m> from the slots (get) and append it to them (put). */
interface Glue { get: string[]; put: string[] }

// One function per member kind: a new kind of member (a union, say) is one more case in glue().

function intGlue(lv: string, t: IntType): Glue {
  return { get: [`${lv} = <${asInt(t)}>next_slot();`], put: [`put_slot(<u64>${lv});`] };
}

/** A user pointer travels as the u64 address the codec stores in 8 or 4 bytes. */
function pointerGlue(lv: string): Glue {
  return { get: [`${lv} = next_slot();`], put: [`put_slot(${lv});`] };
}

function structGlue(lv: string, t: StructRef): Glue {
  if (t.struct.flexible !== null) throw new Error(`glue: struct ${t.struct.name} has a flexible array and cannot be nested`);
  return { get: [`get_${t.struct.name}(${lv});`], put: [`put_${t.struct.name}(${lv});`] };
}

function elementGlue(m: Member, lv: string): Glue {
  switch (m.type.kind) {
    case 'int': return intGlue(lv, m.type);
    case 'pointer': return pointerGlue(lv);
    case 'struct': return structGlue(lv, m.type);
    default: return unknownKind(m.type);
  }
}

function unknownKind(t: never): never { throw new Error(`glue: no glue for member type ${JSON.stringify(t)}`); }

function glue(m: Member, argsz: Member | null): Glue {
  const lv = `o.${m.name}`;
  // The argsz member is an i64 in the class (-1: left out, filled by the codec); a slot of -1 leaves it out.
  if (m === argsz) return { get: [`${lv} = <i64>next_slot();`], put: [`put_slot(<u64>${lv});`] };
  if (m.count === null) return elementGlue(m, lv);
  const el = elementGlue(m, `${lv}[i]`);
  const put = [`for (let i = 0; i < ${lv}.length; i++) { ${el.put.join(' ')} }`];
  if (typeof m.count === 'number') return { get: [`for (let i = 0; i < ${m.count}; i++) { ${el.get.join(' ')} }`], put };
  // Flexible: elements are appended, n of them.
  const fresh = m.type.kind === 'struct'
    ? [`const e = new V.${structClass(m.type.struct)}();`, ...elementGlue(m, 'e').get, `${lv}.push(e);`]
    : [`${lv}.push(<${m.type.kind === 'int' ? asInt(m.type) : 'u64'}>next_slot());`];
  return { get: [`for (let i = 0; i < n; i++) { ${fresh.join(' ')} }`], put };
}

function structCode(s: Struct, argsz: Member | null): string[] {
  const C = `V.${structClass(s)}`;
  const parts = s.members.map((m) => glue(m, argsz));
  const flex = s.flexible !== null;
  const out = [
    '', `// struct ${s.name}`,
    `export function get_${s.name}(o: ${C}${flex ? ', n: i32' : ''}): void {`, ...parts.flatMap((p) => p.get).map((l) => `  ${l}`), '}',
    `export function put_${s.name}(o: ${C}): void {`, ...parts.flatMap((p) => p.put).map((l) => `  ${l}`), '}',
  ];
  // The codec takes a data model only when the struct's layout differs between them.
  for (const [suffix, model] of s.uniform ? [['', '']] : [['', ', false'], ['_ilp32', ', true']]) {
    out.push(
      `export function encode_${s.name}${suffix}(n: i32): i32 {`,
      `  rewind_slots(); const o = new ${C}(); get_${s.name}(o${flex ? ', n' : ''}); return V.${s.name}_write(BUF, o${model});`, '}',
      `export function decode_${s.name}${suffix}(n: i32): i32 {`,
      `  const o = new ${C}(); V.${s.name}_read(BUF, o${flex ? ', n' : ''}${model}); rewind_slots(); put_${s.name}(o); return slots_used();`, '}',
    );
  }
  return out;
}

/** cap_body_<info>(id, at): decodes the capability of a chain at `at` with the struct its id names into the slots; walk_<info> and the chain_*_<info> readers. */
function chainCode(spec: Spec): string[] {
  const out: string[] = [];
  for (const x of spec.ioctls) {
    if (x.chain === null || x.arg === null) continue;
    out.push('', `/** Decodes the ${x.name} capability at \`at\` by its id into the slots; returns the slots used, -1 for an id without a struct. */`,
      `export function cap_body_${x.arg.name}(id: u32, at: usize, ilp32: bool): i32 {`, '  rewind_slots();', '  switch (id) {');
    for (const c of spec.capabilities) {
      if (c.info !== x || c.struct === null) continue;
      const s = c.struct;
      // A natural-layout payload is read in the data model the reply was walked in.
      const model = s.uniform ? '' : ', ilp32';
      const read = s.flexible === null ? [`V.${s.name}_read(at, o${model});`]
        // The count member sizes the flexible array: read the fixed part first, then again with it.
        : [`V.${s.name}_read(at, o, 0${model});`, ...(s.flexibleCount ? [`V.${s.name}_read(at, o, <i32>o.${s.flexibleCount.name}${model});`] : [])];
      out.push(`    case ${c.id}: { // ${c.name}`, `      const o = new V.${structClass(s)}(); ${read.join(' ')} put_${s.name}(o); return slots_used();`, '    }');
    }
    out.push('  }', '  return -1;', '}');
    // The walk of one reply of this chain, kept for the calls that read it back.
    const c = `chain_${x.arg.name}`;
    out.push('', `const ${c} = new V.${structClass(x.arg)}CapChain();`, `let ${c}_ilp32 = false;`,
      `/** Walks the len-byte ${x.name} reply at BUF (laid out for i386 when ilp32, where the walker takes a data model); returns the status. */`,
      `export function walk_${x.arg.name}(len: u32, ilp32: bool): i32 { ${c}_ilp32 = ilp32; return V.${x.arg.name}_walk_caps(BUF, len, ${c}${chainTakesModel(lower(spec).chains.find((w) => w.ioctl === x)!) ? ', ilp32' : ''}); }`,
      `export function chain_at_${x.arg.name}(): u64 { return ${c}.at; }`,
      `export function chain_info_${x.arg.name}(): i32 { rewind_slots(); put_${x.arg.name}(${c}.info); return slots_used(); }`,
      `export function chain_count_${x.arg.name}(): i32 { return ${c}.caps.length; }`,
      '/** Slots: offset, id, version, next, known, size. */',
      `export function chain_cap_${x.arg.name}(i: i32): void {`,
      `  const e = ${c}.caps[i];`,
      '  rewind_slots(); put_slot(e.offset); put_slot(e.id); put_slot(e.version); put_slot(e.next); put_slot(e.known ? 1 : 0); put_slot(e.size);', '}',
      '/** Decodes the body of cap i with the generated codec for its id (header included); -1 without one. */',
      `export function chain_body_${x.arg.name}(i: i32): i32 {`,
      `  const e = ${c}.caps[i];`,
      `  return e.known ? cap_body_${x.arg.name}(e.id, BUF + <usize>e.offset, ${c}_ilp32) : -1;`, '}');
  }
  return out;
}

/** The glue module for a spec whose generated AssemblyScript module the glue imports as `module`. */
export function asGlue(spec: Spec, module: string): string {
  return [
    `// Printed by test/as/glue.ts from the IR of ${spec.file} for the vector harness (never on disk).`,
    `import * as V from "${module}";`,
    '',
    'export const SLOTS: usize = memory.data(32768, 16);',
    'export const BUF: usize = memory.data(32768, 64);',
    'export function h_slots(): usize { return SLOTS; }',
    'export function h_buf(): usize { return BUF; }',
    'let cur: usize = SLOTS;',
    'export function rewind_slots(): void { cur = SLOTS; }',
    'export function next_slot(): u64 { const v = load<u64>(cur); cur += 8; return v; }',
    'export function put_slot(v: u64): void { store<u64>(cur, v); cur += 8; }',
    'export function slots_used(): i32 { return <i32>((cur - SLOTS) >> 3); }',
    ...spec.structs.flatMap((s) => structCode(s, lower(spec).argsz.get(s) ?? null)),
    ...chainCode(spec),
    '',
  ].join('\n');
}
