import type { GeneratedFile } from './file.js';
import { asNumber, constantRole, jsDoc, specConstantRole, lineComment, pascal, preambleComment, upper } from './printer.js';
import { ARCH_LAYOUT, ARCHES } from '../ioctl-encoding.js';
import { cString, ioctlArgText, ioctlNr } from './c-common.js';
import { versionValues } from './names.js';
import type { Check, Expr, IntType, Ioctl, Member, Operand, Spec, StateField, StateRecord, Struct, Union } from '../ir.js';
import { lower, type ChainPlan, type ValidatorPlan } from '../lower.js';
import { SpecError } from '../diagnostics.js';

/**
 * The AssemblyScript target: one module with the ABI's numbers, little-endian codecs over linear
 * memory for every struct, the validators, a capability-chain walker and the MMIO window surface.
 */

/** Where the target writes: the spec's targets.assemblyscript.path. */
export const asOutputPath = (spec: Spec): string => spec.targets.assemblyscript.path;

/** A doc comment at indent, printed by the printer. */
const doc = (text: string, indent = ''): string[] => jsDoc(text, indent, 'as');
/** A plain // comment block. */
const comment = (text: string): string[] => lineComment(text, '', '//', 'as');

const AS_INT: Record<string, string> = {
  __u8: 'u8', __u16: 'u16', __u32: 'u32', __u64: 'u64', __aligned_u64: 'u64',
  __s8: 'i8', __s16: 'i16', __s32: 'i32', __s64: 'i64',
  // wasm memory is little-endian, so a __le value loads and stores as it is
  __le16: 'u16', __le32: 'u32', __le64: 'u64', __aligned_le64: 'u64',
};
const asInt = (t: IntType): string => AS_INT[t.name]!;

/** Tracks exported names so two spec elements can never silently map onto one AS name. */
class Out {
  readonly lines: string[] = [];
  private readonly names = new Map<string, string>();
  claim(name: string, what: string): string {
    const prev = this.names.get(name);
    if (prev !== undefined) throw new Error(`assemblyscript: ${what} and ${prev} both map to ${name}`);
    this.names.set(name, what);
    return name;
  }
  push(...l: string[]): void { this.lines.push(...l); }
}

export const structClass = (s: Struct): string => pascal(s.name);
export const stateClass = (r: StateRecord): string => pascal(r.name);

function constants(spec: Spec, o: Out, names: Map<string, string>): void {
  o.push('// ---- Constants ----', '');
  for (const c of spec.constants) {
    o.push(...doc(c.doc + (c.char !== null ? ` The character '${c.char}'.` : '') + versionValues(c)));
    const name = o.claim(c.name, `constant ${c.name}`);
    if (c.string !== null) {
      o.push(`export const ${name}: string = ${cString(c.string)};`);
      continue;
    }
    const t = c.value < 0n ? (c.value < -(1n << 31n) ? 'i64' : 'i32') : c.value > 0xffffffffn ? 'u64' : 'u32';
    o.push(`export const ${name}: ${t} = ${asNumber(c.value, specConstantRole(c))};`);
    names.set(c.name, c.name);
  }
  for (const e of spec.enums) {
    o.push('', `// enum ${e.name}`, ...doc(e.doc));
    for (const v of e.values) {
      const t = v.value > 0xffffffffn ? 'u64' : 'u32';
      o.push(...doc(v.doc + versionValues(v)), `export const ${o.claim(v.name, `enum value ${v.name}`)}: ${t} = ${asNumber(v.value, 'quantity')};`);
      names.set(v.name, v.name);
    }
  }
  for (const f of spec.flags) {
    const t = f.width === 64 ? 'u64' : 'u32';
    o.push('', `// flags ${f.name} (${f.width} bits)`, ...doc(f.doc));
    for (const b of f.bits) {
      o.push(...doc(b.doc), `export const ${o.claim(b.name, `flag ${b.name}`)}: ${t} = ${asNumber(b.value, 'bits')}; // 1 << ${b.bit}`);
      names.set(b.name, b.name);
    }
    const mask = o.claim(`${upper(f.name)}_MASK`, `mask of flag set ${f.name}`);
    o.push(`/** Every defined bit of ${f.name}: what a request may carry. */`, `export const ${mask}: ${t} = ${asNumber(f.mask, 'bits')};`);
    names.set(f.name, mask);
  }
  o.push('', '// ---- Capabilities ----', '');
  for (const c of spec.capabilities) {
    o.push(...doc(`${c.doc}${c.deprecated ? ' Deprecated.' : ''}${c.provisional ? ' Provisional number.' : ''}`));
    o.push(`export const ${o.claim(c.name, `capability ${c.name}`)}: u32 = ${c.id};`);
    o.push(`export const ${o.claim(`${c.name}_VERSION`, `capability ${c.name} version`)}: u32 = ${c.version};`);
  }
  if (spec.featureIoctl !== null) o.push('', `// ---- Features (${spec.featureIoctl.ioctl.name} numbers) ----`, '');
  for (const f of spec.features) {
    o.push(...doc(f.doc + (f.provisional ? ' Provisional number.' : '')));
    o.push(`export const ${o.claim(f.name, `feature ${f.name}`)}: u32 = ${f.number};`);
  }
  o.push('', '// ---- Errno values (asm-generic) ----', '');
  for (const e of spec.errnos) o.push(`export const ${o.claim(e.name, `errno ${e.name}`)}: i32 = ${e.value};`);
  o.push('', '/** The name of an errno value (positive or negative), "" if the spec names no such errno. */');
  o.push('export function errno_name(e: i32): string {', '  switch (e < 0 ? -e : e) {');
  for (const e of spec.errnos) o.push(`    case ${e.value}: return "${e.name}";`);
  o.push('  }', '  return "";', '}');
}

function ioctls(spec: Spec, o: Out): void {
  o.push('', '// ---- ioctl numbers ----', '');
  o.push('/** The architectures ioctl numbers are given for (their _IOC layouts differ). */');
  o.push('export enum Arch {', ...ARCHES.map((a, i) => `  ${a} = ${i},`), '}');
  o.push(`export const ARCH_COUNT: i32 = ${ARCHES.length};`);
  o.push('/** The Arch with this name (as Linux spells the architecture), or -1. */');
  o.push('export function arch_index(name: string): i32 {');
  ARCHES.forEach((a, i) => o.push(`  if (name == "${a}") return ${i};`));
  o.push('  return -1;', '}');
  o.push('', '/** _IO, _IOR, _IOW, _IOWR. */', 'export enum IocDir { IO = 0, IOR = 1, IOW = 2, IOWR = 3 }');
  o.push('/**', ' * _IOC(dir, type, nr, size) on one architecture, or -1 when size does not fit that', ' * architecture\'s size field (14 bits generic, 13 on powerpc and mips).', ' */');
  o.push('export function ioc(arch: Arch, dir: IocDir, type: u32, nr: u32, size: u32): i64 {');
  o.push('  let sizeBits: u32 = 14, none: u32 = 0, read: u32 = 2, write: u32 = 1;');
  const odd = ARCHES.filter((a) => ARCH_LAYOUT[a] !== ARCH_LAYOUT.x86_64);
  const l = ARCH_LAYOUT[odd[0] ?? 'x86_64'];
  for (const a of odd) if (ARCH_LAYOUT[a] !== l) throw new Error('assemblyscript: more than two _IOC layouts');
  if (odd.length > 0) {
    o.push(`  if (${odd.map((a) => `arch == Arch.${a}`).join(' || ')}) { sizeBits = ${l.sizeBits}; none = ${l.none}; read = ${l.read}; write = ${l.write}; }`);
  }
  const g = ARCH_LAYOUT.x86_64;
  if (g.sizeBits !== 14 || g.none !== 0 || g.read !== 2 || g.write !== 1) throw new Error('assemblyscript: unexpected generic _IOC layout');
  o.push('  const d: u32 = dir == IocDir.IO ? none : dir == IocDir.IOR ? read : dir == IocDir.IOW ? write : read | write;');
  o.push('  const sz: u32 = dir == IocDir.IO ? 0 : size;');
  o.push('  if (sz >= (<u32>1 << sizeBits)) return -1;');
  o.push('  return <i64>((d << (16 + sizeBits)) | (sz << 16) | ((type & 0xff) << 8) | (nr & 0xff));');
  o.push('}', '');
  o.push('/** The ioctls of the spec, for ioctl_number. */');
  o.push('export enum Ioctl {', ...spec.ioctls.map((x, i) => `  ${x.name} = ${i},`), '}');
  o.push('/** The Ioctl with this name, or -1. */', 'export function ioctl_index(name: string): i32 {');
  spec.ioctls.forEach((x, i) => o.push(`  if (name == "${x.name}") return ${i};`));
  o.push('  return -1;', '}');
  for (const x of spec.ioctls) ioctlConsts(spec, x, o);
  o.push('', `const IOCTL_NUMBERS: StaticArray<u32> = [${spec.ioctls.flatMap((x) => ARCHES.map((a) => asNumber(BigInt(x.numbers[a]), 'bits'))).join(', ')}];`);
  o.push('/** The request number of an ioctl on an architecture (0 for an index out of range). */');
  o.push('export function ioctl_number(ioctl: i32, arch: i32): u32 {');
  o.push(`  if (<u32>ioctl >= ${spec.ioctls.length} || <u32>arch >= ${ARCHES.length}) return 0;`);
  o.push(`  return unchecked(IOCTL_NUMBERS[ioctl * ${ARCHES.length} + arch]);`, '}');
}

function ioctlConsts(spec: Spec, x: Ioctl, o: Out): void {
  const arg = x.arg !== null ? `argument struct ${x.arg.name}.` : `argument ${ioctlArgText(x)}`;
  o.push('', ...doc(`${x.name}: _${x.encoding}(${x.type.name}, ${ioctlNr(spec, x)}), ${arg} ${x.doc}`));
  for (const a of ARCHES) o.push(`export const ${o.claim(`${x.name}_${upper(a)}`, `ioctl ${x.name} on ${a}`)}: u32 = ${asNumber(BigInt(x.numbers[a]), 'bits')};`);
}

// ---- structs ----

function memberType(m: Member): string {
  const el = m.type.kind === 'int' ? asInt(m.type) : m.type.kind === 'pointer' ? 'u64' : structClass(m.type.struct);
  if (m.count === null) return el;
  if (m.count === 'flexible') return `Array<${el}>`;
  return m.type.kind === 'struct' ? `Array<${el}>` : `StaticArray<${el}>`;
}

function memberInit(m: Member): string {
  if (m.count === null) return m.type.kind === 'struct' ? `new ${structClass(m.type.struct)}()` : '0';
  if (m.count === 'flexible') return `[]`;
  if (m.type.kind !== 'struct') return `new StaticArray<${m.type.kind === 'int' ? asInt(m.type) : 'u64'}>(${m.count})`;
  const c = structClass(m.type.struct);
  return `[${Array.from({ length: m.count }, () => `new ${c}()`).join(', ')}]`;
}

/**
 * A struct's constants and codec. One whose layout differs between data models (upstream's natural
 * layout, a pointer) also has _ILP32 constants, and its functions take `ilp32` (false: LP64, every
 * 64-bit host; true: i386); a user pointer is a u64 there, stored in 4 bytes under ILP32. The
 * argsz member of a struct with that role (argsz) is an i64 in the class, -1 until set: left at -1,
 * it is written as the bytes written.
 */
function structCode(s: Struct, o: Out, argsz: Member | null): void {
  const cls = o.claim(structClass(s), `struct ${s.name}`);
  const U = upper(s.name);
  const u = s.uniform;
  const fn = (suffix: string): string => o.claim(`${s.name}_${suffix}`, `codec of ${s.name}`);
  o.push('', `// struct ${s.name}`, '');
  o.push(`/** sizeof(struct ${s.name})${s.flexible ? ', without flexible array elements' : ''}${u ? '' : ' on LP64'}. */`);
  o.push(`export const ${o.claim(`${U}_SIZE`, `size of ${s.name}`)}: i32 = ${s.size};`);
  if (!u) o.push(`/** sizeof(struct ${s.name}) on ILP32 (i386). */`, `export const ${o.claim(`${U}_SIZE_ILP32`, `ILP32 size of ${s.name}`)}: i32 = ${s.layouts.ilp32.size};`);
  for (const m of s.members) {
    o.push(`export const ${o.claim(`${U}_OFFSET_${upper(m.name)}`, `offset of ${s.name}.${m.name}`)}: i32 = ${m.offset};`);
    if (!u) o.push(`export const ${o.claim(`${U}_OFFSET_${upper(m.name)}_ILP32`, `ILP32 offset of ${s.name}.${m.name}`)}: i32 = ${m.layouts.ilp32.offset};`);
  }
  if (s.flexible) {
    o.push(`/** Bytes of one ${s.flexible.name}[] element. */`);
    o.push(`export const ${o.claim(`${U}_${upper(s.flexible.name)}_ELEMENT_SIZE`, `element size of ${s.name}.${s.flexible.name}`)}: i32 = ${s.flexible.elementSize};`);
  }
  o.push(...doc(`struct ${s.name}: ${s.doc} A plain value; its bytes are made by ${s.name}_write and read by ${s.name}_read.`));
  o.push(`export class ${cls} {`);
  for (const m of s.members) {
    const extra = [m.dir ? `[${m.dir}]` : '', m.reserved ? '[reserved]' : '', m.flags ? `(${m.flags.name})` : '', m.enum ? `(${m.enum.name})` : '',
      m.type.kind === 'pointer' ? '[user address]' : '',
      m.count === 'flexible' ? '[flexible array]' : typeof m.count === 'number' ? `[${m.count}]` : '', s.flexibleCount === m ? `[count of ${s.flexible!.name}]` : '',
      m.union !== null ? `[union with ${m.union.members.filter((x) => x !== m).map((x) => x.name).join(', ') || 'no other member'}]` : '',
      m === argsz ? '[-1 (left out): written as the bytes the codec writes; else its low 32 bits]' : ''].filter(Boolean).join(' ');
    // An i64 so that "left out" (-1) is not a value argsz can have: 0 and 0xffffffff are encodable.
    if (m === argsz) o.push(...doc(`${m.doc}${extra ? ` ${extra}` : ''}`, '  '), `  ${m.name}: i64 = -1;`);
    else o.push(...doc(`${m.doc}${extra ? ` ${extra}` : ''}`, '  '), `  ${m.name}: ${memberType(m)} = ${memberInit(m)};`);
  }
  o.push('}');

  // An offset or element size: a literal when the data models agree, else chosen by ilp32.
  const pick = (lp: number, ilp: number): string => (lp === ilp ? String(lp) : `(ilp32 ? ${ilp} : ${lp})`);
  const passModel = (t: Struct): string => (t.uniform ? '' : ', ilp32');
  const wr: string[] = [];
  const rd: string[] = [];
  /** The lines that write each member of a union, until the union is complete. */
  const held = new Map<Member, string[]>();
  for (const m of s.members) {
    const off = `${U}_OFFSET_${upper(m.name)}`;
    if (m.union !== null) {
      const from = wr.length;
      memberCode(m, off);
      held.set(m, wr.splice(from));
      if (s.members[s.members.indexOf(m) + 1]?.union !== m.union) unionWrite(m.union);
      continue;
    }
    memberCode(m, off);
  }
  /**
   * A union's members share their bytes: they are zeroed, then the struct and array members are
   * written, then each scalar member that is not zero, so the member the caller set wins.
   */
  function unionWrite(union: Union): void {
    const l = union.layouts;
    wr.push(`  memory.fill(ptr + <usize>${pick(l.lp64.offset, l.ilp32.offset)}, 0, ${pick(l.lp64.size, l.ilp32.size)}); // union of ${union.members.map((x) => x.name).join(', ')}`);
    const scalar = (x: Member): boolean => x.count === null && x.type.kind !== 'struct';
    for (const x of union.members.filter((y) => !scalar(y))) wr.push(...held.get(x)!);
    for (const x of union.members.filter(scalar)) wr.push(...held.get(x)!.map((line) => `  if (v.${x.name} != 0) { ${line.trim().replace(/ \/\/.*$/, '')} }`));
  }
  function memberCode(m: Member, off: string): void {
    const offExpr = pick(m.layouts.lp64.offset, m.layouts.ilp32.offset);
    if (m.count === null) {
      if (m.type.kind === 'int') {
        const value = m === argsz ? `<${asInt(m.type)}>(v.${m.name} < 0 ? bytes : v.${m.name})` : `v.${m.name}`;
        if (u) {
          wr.push(`  store<${asInt(m.type)}>(ptr, ${value}, ${m.offset}); // ${off}`);
          rd.push(`  out.${m.name} = load<${asInt(m.type)}>(ptr, ${m.offset}); // ${off}`);
        } else {
          wr.push(`  store<${asInt(m.type)}>(ptr + <usize>${offExpr}, ${value});`);
          rd.push(`  out.${m.name} = load<${asInt(m.type)}>(ptr + <usize>${offExpr});`);
        }
      } else if (m.type.kind === 'pointer') {
        wr.push(`  if (ilp32) { assert(v.${m.name} <= 0xffffffff, "${s.name}.${m.name}: address does not fit a 32-bit pointer"); store<u32>(ptr + <usize>${offExpr}, <u32>v.${m.name}); } else store<u64>(ptr + <usize>${offExpr}, v.${m.name});`);
        rd.push(`  out.${m.name} = ilp32 ? <u64>load<u32>(ptr + <usize>${offExpr}) : load<u64>(ptr + <usize>${offExpr});`);
      } else {
        const at = u ? off : `<usize>${offExpr}`;
        wr.push(`  ${m.type.struct.name}_write(ptr + ${at}, v.${m.name}${passModel(m.type.struct)});`);
        rd.push(`  ${m.type.struct.name}_read(ptr + ${at}, out.${m.name}${passModel(m.type.struct)});`);
      }
      return;
    }
    const n = m.count === 'flexible' ? `v.${m.name}.length` : `${m.count}`;
    const at = u ? `ptr + ${off} + <usize>i * ${m.elementSize}` : `ptr + <usize>${offExpr} + <usize>i * ${pick(m.layouts.lp64.elementSize, m.layouts.ilp32.elementSize)}`;
    if (m.type.kind === 'int' || m.type.kind === 'pointer') {
      if (m.type.kind === 'pointer') throw new Error(`assemblyscript: ${s.name}.${m.name}: an array of pointers is not supported`);
      const t = asInt(m.type);
      wr.push(`  for (let i = 0, n = ${n}; i < n; i++) store<${t}>(${at}, unchecked(v.${m.name}[i]));`);
      if (m.count === 'flexible') {
        rd.push(`  const ${m.name} = new Array<${t}>(count);`, `  for (let i = 0; i < count; i++) unchecked(${m.name}[i] = load<${t}>(${at}));`, `  out.${m.name} = ${m.name};`);
      } else rd.push(`  for (let i = 0; i < ${m.count}; i++) unchecked(out.${m.name}[i] = load<${t}>(${at}));`);
    } else {
      const es = m.type.struct;
      wr.push(`  for (let i = 0, n = ${n}; i < n; i++) ${es.name}_write(${at}, unchecked(v.${m.name}[i])${passModel(es)});`);
      if (m.count === 'flexible') {
        rd.push(`  const ${m.name} = new Array<${structClass(es)}>(0);`,
          `  for (let i = 0; i < count; i++) { const e = new ${structClass(es)}(); ${es.name}_read(${at}, e${passModel(es)}); ${m.name}.push(e); }`,
          `  out.${m.name} = ${m.name};`);
      } else rd.push(`  for (let i = 0; i < ${m.count}; i++) ${es.name}_read(${at}, unchecked(out.${m.name}[i])${passModel(es)});`);
    }
  }
  const flex = s.flexible;
  const model = u ? '' : ', ilp32: bool = false';
  const size = pick(s.layouts.lp64.size, s.layouts.ilp32.size);
  const bytes = flex ? `${size} + v.${flex.name}.length * ${pick(flex.layouts.lp64.elementSize, flex.layouts.ilp32.elementSize)}` : size;
  const elements = flex?.elements ?? null;
  const count = s.flexibleCount;
  const checks = elements !== null && count !== null && flex !== null ? elementsCheck(s, flex, count, elements) : [];
  o.push('', ...doc(`Encodes v at ptr (little-endian${u ? '' : '; ilp32: the i386 layout, else LP64'})${flex ? `, with every element of v.${flex.name}` : ''}${argsz !== null ? `, v.${argsz.name} -1 (left out) written as the bytes written` : ''}; returns the bytes written.${checks.length > 0 ? ` Throws, writing nothing, when v.${count!.name} elements of the type the ${elements!.by.name} bits choose are not the bytes of v.${flex!.name}, or no bit chooses one.` : ''}`));
  o.push(`export function ${fn('write')}(ptr: usize, v: ${cls}${model}): i32 {`, ...checks);
  if (argsz !== null) o.push(`  const bytes: i64 = ${bytes};`, ...wr, '  return <i32>bytes;', '}');
  else o.push(...wr, `  return ${bytes};`, '}');
  if (flex) {
    o.push(...doc(`Decodes the struct at ptr into out, with count ${flex.name}[] elements${s.flexibleCount ? ` (the caller checks count, normally ${s.flexibleCount.name}, against the bytes it has)` : ''}.`));
    o.push(`export function ${fn('read')}(ptr: usize, out: ${cls}, count: i32 = 0${model}): void {`, ...rd, '}');
  } else {
    o.push(`/** Decodes the struct at ptr into out${u ? '' : ' (ilp32: the i386 layout, else LP64)'}. */`);
    o.push(`export function ${fn('read')}(ptr: usize, out: ${cls}${model}): void {`, ...rd, '}');
  }
}

/**
 * The check of a flexible __u8 array counted in elements of a type a flag bit chooses (TypeScript's
 * codec checks the same): count * sizeof(element) must be its bytes.
 */
function elementsCheck(s: Struct, flex: Member, count: Member, e: NonNullable<Member['elements']>): string[] {
  if (e.by.type.kind !== 'int' || e.by.type.size > 4) throw new Error(`assemblyscript: ${s.name}.${e.by.name}: element types are chosen by a flag word of at most 32 bits`);
  return [
    '  let elementBytes: i64 = -1;',
    ...e.types.map((t, i) => `  ${i > 0 ? 'else ' : ''}if ((v.${e.by.name} & ${t.bit.name}) != 0) elementBytes = ${t.size};`),
    `  if (elementBytes < 0) throw new Error("${s.name}.${e.by.name}: sets none of ${e.types.map((t) => t.bit.name).join(', ')}: the type of ${flex.name}[] is unknown");`,
    `  if (<i64>v.${count.name} * elementBytes != <i64>v.${flex.name}.length)`,
    `    throw new Error("${s.name}.${count.name}: says " + v.${count.name}.toString() + " elements of " + elementBytes.toString() + " bytes, ${flex.name} has " + v.${flex.name}.length.toString() + " bytes");`,
  ];
}

// ---- validators ----

function stateCode(spec: Spec, o: Out): void {
  if (spec.state === null) return;
  const field = (f: StateField): string[] => [...doc(f.doc, '  '), `  ${f.name}: ${f.type} = ${f.type === 'bool' ? 'false' : '0'};`];
  const reg = o.claim(stateClass(spec.state.region), `state ${spec.state.region.name}`);
  const dev = o.claim(stateClass(spec.state.device), `state ${spec.state.device.name}`);
  o.push('', '// ---- Validator state ----', '', ...comment(spec.state.doc), '');
  o.push(...doc(spec.state.region.doc), `export class ${reg} {`, ...spec.state.region.fields.flatMap(field), '}', '');
  o.push(...doc(spec.state.device.doc), `export class ${dev} {`, ...spec.state.device.fields.flatMap(field));
  o.push(...doc('The region table, by index: num_regions entries (a lookup checks an index against num_regions; a shorter table aborts).', '  '));
  o.push(`  regions: Array<${reg}> = [];`, '}');
}

function operand(op: Operand, names: Map<string, string>): { code: string; bool: boolean } {
  switch (op.kind) {
    case 'request': return { code: op.width === 64 ? `req.${op.member.name}` : `<u64>req.${op.member.name}`, bool: false };
    case 'device': return op.width === 1 ? { code: `dev.${op.field.name}`, bool: true } : { code: op.width === 64 ? `dev.${op.field.name}` : `<u64>dev.${op.field.name}`, bool: false };
    case 'region': return op.width === 1 ? { code: `${op.binding}.${op.field.name}`, bool: true } : { code: op.width === 64 ? `${op.binding}.${op.field.name}` : `<u64>${op.binding}.${op.field.name}`, bool: false };
    case 'constant': {
      const n = names.get(op.name);
      return { code: n !== undefined ? `<u64>${n}` : `<u64>${asNumber(op.value, constantRole(op.name, op.source))} /* ${op.name} */`, bool: false };
    }
    case 'literal': return typeof op.value === 'boolean' ? { code: String(op.value), bool: true } : { code: `<u64>${asNumber(op.value, 'quantity')}`, bool: false };
  }
}

function expr(e: Expr, names: Map<string, string>): { code: string; bool: boolean } {
  if (e.kind === 'or' || e.kind === 'and') {
    const terms = e.terms.map((t) => expr(t, names));
    if (terms.some((t) => t.bool)) throw new Error('assemblyscript: boolean term in a bitwise expression');
    return { code: `(${terms.map((t) => t.code).join(e.kind === 'or' ? ' | ' : ' & ')})`, bool: false };
  }
  return operand(e, names);
}

/** The condition under which a rule fails. */
function fails(c: Check, names: Map<string, string>): string {
  const v = (x: Operand): string => operand(x, names).code;
  switch (c.kind) {
    case 'zero': return `${v(c.value)} != 0`;
    case 'nonzero': return `${v(c.value)} == 0`;
    case 'false': return v(c.value);
    case 'bits': return `(${v(c.value)} & ~${v(c.within)}) != 0`;
    case 'has': return `(${v(c.value)} & <u64>${names.get(c.flag.name) ?? asNumber(c.flag.value, 'bits')}) == 0`;
    case 'aligned': return `(${v(c.value)} & (${v(c.to)} - 1)) != 0`;
    case 'lt': return `${v(c.left)} >= ${v(c.right)}`;
    case 'within': return `${v(c.offset)} > ${v(c.limit)} || ${v(c.size)} > ${v(c.limit)} - ${v(c.offset)}`;
    case 'lookup': return `${v(c.index)} >= <u64>dev.num_regions`;
  }
}

function validatorCode(plan: ValidatorPlan, spec: Spec, o: Out, names: Map<string, string>): void {
  const val = plan.validator;
  const req = structClass(val.request);
  if (spec.state === null) throw new Error('validators without a state section');
  const dev = stateClass(spec.state.device);
  const reg = stateClass(spec.state.region);
  const R = upper(val.name);
  const res = o.claim(`${pascal(val.name)}Result`, `result of validator ${val.name}`);
  o.push('', `// validator ${val.name}`, '');
  o.push(`/** Rule names of ${val.name}, by index. */`);
  o.push(`export const ${o.claim(`${R}_RULES`, `rules of ${val.name}`)}: StaticArray<string> = [${val.rules.map((r) => `"${r.name}"`).join(', ')}];`);
  val.rules.forEach((r, i) => o.push(`export const ${o.claim(`${R}_RULE_${upper(r.name)}`, `rule ${val.name}/${r.name}`)}: i32 = ${i};`));
  o.push(`/** What ${val.name}_check decided, and the regions its lookups bound. */`, `export class ${res} {`);
  o.push('  /** 0, or the negative errno of the first rule that failed. */', '  errno: i32 = 0;');
  o.push(`  /** Index in ${R}_RULES of the rule that failed; -1 when every rule passed. */`, '  rule: i32 = -1;');
  for (const b of val.bindings) o.push(`  /** Index of the region bound as "${b}" (valid once its lookup passed). */`, `  ${b}: i32 = -1;`);
  o.push(`  /** The failing rule's name, "" when every rule passed. */`, `  get ruleName(): string { return this.rule < 0 ? "" : ${R}_RULES[this.rule]; }`, '}');
  o.push('', ...doc(`${val.doc} Returns 0 when every rule passes, else the negative errno of the first rule that fails; res records both and the regions bound.`));
  o.push(`export function ${o.claim(`${val.name}_check`, `validator ${val.name}`)}(dev: ${dev}, req: ${req}, res: ${res}): i32 {`);
  o.push('  res.errno = 0;', '  res.rule = -1;');
  for (const { rule: r, index: i, check, binds } of plan.checks) {
    o.push(`  // ${r.name}: ${r.doc.replace(/\s+/g, ' ')}`);
    o.push(`  if (${fails(check, names)}) { res.rule = ${i}; return res.errno = -${r.errno}; }`);
    if (binds === null) continue;
    o.push(`  res.${binds.name} = <i32>${operand(binds.index, names).code};`);
    // A checked read: a table shorter than num_regions aborts, as TypeScript's regionAt throws.
    if (binds.readLater) o.push(`  const ${binds.name} = dev.regions[res.${binds.name}];`);
  }
  o.push('  return 0;', '}');

  const created = val.creates ? `, created: ${reg}` : '';
  o.push('', ...doc(`Applies the effects of a ${val.name} request that passed ${val.name}_check with res${val.creates ? '; created receives the new region' : ''}.`));
  o.push(`export function ${o.claim(`${val.name}_apply`, `apply of ${val.name}`)}(dev: ${dev}, req: ${req}, res: ${res}${created}): void {`);
  for (const b of plan.applyBindings) o.push(`  const ${b.name} = dev.regions[res.${b.name}];`);
  for (const e of plan.effects) {
    const x = expr(e.value, names);
    let lhs: string; let type: string;
    if (e.target.kind === 'request') { lhs = `req.${e.target.member.name}`; type = asInt(e.target.member.type as IntType); }
    else if (e.target.kind === 'new') { lhs = `created.${e.target.field.name}`; type = e.target.field.type; }
    else { lhs = `${e.target.binding}.${e.target.field.name}`; type = e.target.field.type; }
    if ((type === 'bool') !== x.bool) throw new Error(`assemblyscript: ${val.name}: type mismatch assigning ${lhs}`);
    o.push(`  ${lhs} = ${type === 'bool' || type === 'u64' ? x.code : `<${type}>(${x.code})`};`);
  }
  o.push('}');
}

// ---- capability chains ----

/** Whether a chain's walker takes a data model: its info struct or a payload it sizes has upstream's natural layout. */
export const chainTakesModel = (w: ChainPlan): boolean => !w.info.uniform || w.decoders.some((d) => d.size.lp64 !== d.size.ilp32 || (d.flexible !== null && (d.flexible.offset.lp64 !== d.flexible.offset.ilp32 || d.flexible.elementSize.lp64 !== d.flexible.elementSize.ilp32)));

function capchainCode(spec: Spec, o: Out, names: Map<string, string>): void {
  const { chains, capErrors } = lower(spec);
  if (chains.length === 0) return;
  // One CapEntry for every chain: its id/version/next types are the first chain header's, and every other must match.
  const { header, id: hid, version: hver, next: hnext } = chains[0]!;
  for (const x of chains) {
    if (x.id.size !== hid.size || x.version.size !== hver.size || x.next.size !== hnext.size)
      throw new SpecError([spec.at(`${x.ioctl.pointer}/chain/header`, `assemblyscript: the capability header of ${x.ioctl.name} (struct ${x.header.name}) has other member widths than struct ${header.name}; one CapEntry class holds both`)]);
  }

  o.push('', '// ---- Capability chains ----', '');
  o.push('// Outcomes of a capability-chain walk: >= 0 usable, < 0 a malformed reply.');
  // The errors are negative, numbered in the lowered order.
  const st: [string, number, string, string][] = [
    ['OK', 0, 'ok', 'The reply and its whole chain were read.'],
    ['RETRY', 1, 'retry', 'The kernel asked for a bigger buffer (CAPS set, argsz > buffer length): retry with argsz bytes (in at).'],
    ...capErrors.map((e, i): [string, number, string, string] => [upper(e.name), -1 - i, e.name, `${e.doc[0]!.toUpperCase()}${e.doc.slice(1)}.`]),
  ];
  for (const [n, v, , d] of st) o.push(...doc(d), `export const ${o.claim(`CAPCHAIN_${n}`, 'capchain status')}: i32 = ${v};`);
  o.push('/** The vector-format name of a walk status ("ok", "retry", "out-of-bounds", ...). */', 'export function capchain_status_name(s: i32): string {', '  switch (s) {');
  for (const [, v, name] of st) o.push(`    case ${v}: return "${name}";`);
  o.push('  }', '  return "";', '}', '');
  o.push('/** One capability met on a walk: its offset in the reply and its header. */', `export class ${o.claim('CapEntry', 'capchain entry')} {`);
  o.push('  /** Offset of the capability from the start of the reply. */', '  offset: u32 = 0;', `  id: ${asInt(hid.type as IntType)} = 0;`, `  version: ${asInt(hver.type as IntType)} = 0;`, `  next: ${asInt(hnext.type as IntType)} = 0;`);
  o.push(...doc('The id is one the spec describes with a struct, whose bytes (flexible elements included) were checked to fit.', '  '), '  known: bool = false;');
  o.push('  /** Bytes of the known struct, flexible elements included; 0 when not known. */', '  size: u64 = 0;', '}');

  for (const w of chains) {
    const { ioctl, info, flags, flag: capsBit, argsz, start: capOffset, header, id: hid, version: hver, next: hnext } = w;
    const I = structClass(info);
    const chain = o.claim(`${I}CapChain`, `cap chain of ${info.name}`);
    const known = o.claim(`${info.name}_cap_known_size`, `cap sizes of ${info.name}`);
    const walk = o.claim(`${info.name}_walk_caps`, `cap walker of ${info.name}`);
    // A chain with a natural-layout struct (the info or a payload) is walked under a data model, as the codecs take one.
    const natural = chainTakesModel(w);
    const model = natural ? ', ilp32: bool = false' : '';
    const pick = (r: Record<'lp64' | 'ilp32', number>): string => (r.lp64 === r.ilp32 ? String(r.lp64) : `(ilp32 ? ${r.ilp32} : ${r.lp64})`);
    const infoSize = pick({ lp64: info.layouts.lp64.size, ilp32: info.layouts.ilp32.size });
    // A literal compares with a u64 as it is; a choice between two is an i32 expression.
    const wide = (x: string): string => (/^\d+$/.test(x) ? x : `<u64>${x}`);
    o.push('', `/** A decoded ${ioctl.name} reply and its capability chain. */`, `export class ${chain} {`);
    o.push('  /** CAPCHAIN_* outcome. */', '  status: i32 = CAPCHAIN_OK;', ...doc('RETRY: the argsz to retry with. An error: the offset where it was found (the buffer length for TRUNCATED).', '  '), '  at: u64 = 0;');
    o.push(`  info: ${I} = new ${I}();`, '  caps: Array<CapEntry> = [];', '}', '');
    o.push(...doc(`The bytes a capability of ${ioctl.name} at cap needs, when the spec describes its id with a struct: the struct, plus the flexible array its count member sizes. -1 for an id without a struct (unknown or deprecated). avail is the bytes from cap to the end of the buffer; a count is only read once the fixed part fits (else the fixed size is returned).`));
    o.push(`export function ${known}(id: u32, cap: usize, avail: u64${model}): i64 {`, '  switch (id) {');
    for (const { cap: c, struct: s, size: sizes, flexible } of w.decoders) {
      const size = pick(sizes);
      o.push(`    case ${names.get(c.name) ?? c.id}: {`);
      if (flexible !== null) {
        const cnt = flexible.count;
        const at = pick(flexible.offset);
        o.push(`      if (avail < ${wide(size)}) return ${size};`);
        o.push(`      return ${size} + <i64>load<${asInt(cnt.type as IntType)}>(${/^\d+$/.test(at) ? `cap, ${at}` : `cap + <usize>${at}`}) * ${pick(flexible.elementSize)}; // ${s.name}.${cnt.name}`);
      } else o.push(`      return ${size}; // ${s.name}`);
      o.push('    }');
    }
    o.push('  }', '  return -1;', '}', '');
    o.push(...doc(`Decodes a ${ioctl.name} reply of len bytes at buf and walks its capability chain into out. In order: a buffer shorter than ${info.name} is TRUNCATED; without ${capsBit.name} there is no chain; with it, an argsz larger than the buffer asks for a RETRY; then from ${capOffset.name} (0: no chain) each offset is checked for LOOP (already visited), BACKWARDS (before the current capability, or inside the info struct), MISALIGNED (not a multiple of ${w.align}), OUT_OF_BOUNDS (the header, or a known capability's struct with its flexible elements, past the end), and the walk follows next until 0. Returns out.status.`));
    o.push(`export function ${walk}(buf: usize, len: u64, out: ${chain}${model}): i32 {`);
    o.push('  out.caps = [];', '  out.at = 0;');
    o.push(`  if (len < ${wide(infoSize)}) { out.at = len; return out.status = CAPCHAIN_TRUNCATED; }`);
    o.push(`  ${info.name}_read(buf, out.info${info.uniform ? '' : ', ilp32'});`);
    o.push(`  if ((out.info.${flags.name} & ${capsBit.name}) == 0) return out.status = CAPCHAIN_OK;`);
    o.push(`  if (<u64>out.info.${argsz.name} > len) { out.at = <u64>out.info.${argsz.name}; return out.status = CAPCHAIN_RETRY; }`);
    o.push(`  let off: u64 = out.info.${capOffset.name};`, `  let floor: u64 = ${infoSize};`);
    o.push('  while (off != 0) {');
    o.push('    for (let i = 0, n = out.caps.length; i < n; i++) {');
    o.push('      if (<u64>unchecked(out.caps[i]).offset == off) { out.at = off; return out.status = CAPCHAIN_LOOP; }', '    }');
    o.push('    if (off < floor) { out.at = off; return out.status = CAPCHAIN_BACKWARDS; }');
    o.push(`    if ((off & ${w.align - 1}) != 0) { out.at = off; return out.status = CAPCHAIN_MISALIGNED; }`);
    o.push(`    if (off > len || len - off < ${header.size}) { out.at = off; return out.status = CAPCHAIN_OUT_OF_BOUNDS; }`);
    o.push('    const cap = buf + <usize>off;', '    const e = new CapEntry();', '    e.offset = <u32>off;');
    o.push(`    e.id = load<${asInt(hid.type as IntType)}>(cap, ${hid.offset});`, `    e.version = load<${asInt(hver.type as IntType)}>(cap, ${hver.offset});`, `    e.next = load<${asInt(hnext.type as IntType)}>(cap, ${hnext.offset});`);
    o.push(`    const need = ${known}(<u32>e.id, cap, len - off${natural ? ', ilp32' : ''});`);
    o.push('    if (need >= 0) {', '      if (<u64>need > len - off) { out.at = off; return out.status = CAPCHAIN_OUT_OF_BOUNDS; }', '      e.known = true;', '      e.size = <u64>need;', '    }');
    o.push('    out.caps.push(e);', '    floor = off;', '    off = e.next;', '  }', '  return out.status = CAPCHAIN_OK;', '}');
  }
}

// ---- MMIO ----

function mmioCode(spec: Spec, o: Out): void {
  const mm = spec.mmio;
  if (mm === null) return;
  const mod = mm.module;
  o.push('', '// ---- MMIO windows ----', '', ...comment(mm.doc), '');
  o.push(...comment(`Ordering points are host functions (module "${mod}"): AssemblyScript 0.28's atomic.fence fails validation or is deleted by the optimiser, and a fence must never target the window itself. Each takes the base of the window it orders, so a host with several mappings knows which device is meant. Bursts use v128 stores: compile with --enable simd. The _checked accessors throw (env.abort).`), '');
  for (const p of mm.ordering) {
    o.push(...doc(p.doc), `@external("${mod}", "${p.name}")`, `export declare function ${o.claim(p.name, `ordering point ${p.name}`)}(window: usize): void;`);
  }
  o.push('', ...comment(`The host-call path (module "${mod}"): one host function per access, which performs exactly one volatile access of that width at that linear-memory address, and only inside a window the host mapped (anything else traps). Use it for registers whose reads have side effects (clear-on-read, FIFOs): Binaryen merges two plain loads of one address into one, and an import call is opaque to it, so two host reads stay two reads.`));
  for (const w of mm.widths) {
    const t = `u${w}`;
    o.push(`@external("${mod}", "read${w}")`, `export declare function ${o.claim(`host_read${w}`, `host read ${w}`)}(addr: usize): ${t};`);
    o.push(`@external("${mod}", "write${w}")`, `export declare function ${o.claim(`host_write${w}`, `host write ${w}`)}(addr: usize, value: ${t}): void;`);
  }
  const B = mm.burst.bytes;
  o.push('', ...doc(`Bytes of one burst. ${mm.burst.doc}`), `export const ${o.claim('MMIO_BURST_BYTES', 'burst size')}: i32 = ${B};`);
  o.push('', ...doc('A mapped region window inside linear memory: base is where the host mapped it, size its length. The plain accessors are single aligned loads and stores at base + offset, with no checks (the hot path); the _checked ones first check that the access lies inside the window and is naturally aligned, and throw otherwise. Binaryen may merge repeated plain loads of one address, so registers with read side effects (clear-on-read, FIFOs) need a host read (the _host accessors).'));
  o.push(`export class ${o.claim('Region', 'MMIO region')} {`);
  o.push('  constructor(', '    /** Address of the window in linear memory (page-aligned when the host maps it). */', '    public readonly base: usize,', '    /** Bytes in the window. */', '    public readonly size: usize,', '  ) {}', '');
  o.push(...doc('Throws a RangeError unless [offset, offset + bytes) lies in the window and base + offset is a multiple of align.', '  '));
  o.push('  check(offset: usize, bytes: usize, align: usize): void {');
  o.push('    if (offset > this.size || bytes > this.size - offset) throw new RangeError("MMIO access outside the window");');
  o.push('    if (((this.base + offset) & (align - 1)) != 0) throw new RangeError("misaligned MMIO access");', '  }');
  for (const w of mm.widths) {
    const t = `u${w}`; const b = w / 8;
    o.push('', `  /** Reads ${b} byte${b > 1 ? 's' : ''} at offset (unchecked). */`, `  @inline read${w}(offset: usize): ${t} { return load<${t}>(this.base + offset); }`);
    o.push(`  /** Writes ${b} byte${b > 1 ? 's' : ''} at offset (unchecked). */`, `  @inline write${w}(offset: usize, value: ${t}): void { store<${t}>(this.base + offset, value); }`);
    o.push(`  read${w}_checked(offset: usize): ${t} { this.check(offset, ${b}, ${b}); return load<${t}>(this.base + offset); }`);
    o.push(`  write${w}_checked(offset: usize, value: ${t}): void { this.check(offset, ${b}, ${b}); store<${t}>(this.base + offset, value); }`);
    o.push(`  /** Reads ${b} byte${b > 1 ? 's' : ''} at offset through the host (never merged, dropped or reordered by the compiler). */`, `  @inline read${w}_host(offset: usize): ${t} { return host_read${w}(this.base + offset); }`);
    o.push(`  /** Writes ${b} byte${b > 1 ? 's' : ''} at offset through the host. */`, `  @inline write${w}_host(offset: usize, value: ${t}): void { host_write${w}(this.base + offset, value); }`);
  }
  const n = B / 16;
  o.push('', ...doc(`Copies ${B} bytes from src (linear memory) to offset as ${n} whole v128 stores, in order (unchecked; base + offset should be ${B}-aligned).`, '  '));
  o.push(`  @inline burst${B}(offset: usize, src: usize): void {`, '    const dst = this.base + offset;');
  for (let i = 0; i < n; i++) o.push(`    v128.store(dst, v128.load(src, ${i * 16}), ${i * 16});`);
  o.push('  }');
  o.push(`  burst${B}_checked(offset: usize, src: usize): void { this.check(offset, ${B}, ${B}); this.burst${B}(offset, src); }`);
  for (const p of mm.ordering) o.push(`  /** ${p.name}() for this window. */`, `  @inline ${p.name}(): void { ${p.name}(this.base); }`);
  o.push('}');
}

export function emitAssemblyScript(spec: Spec): GeneratedFile[] {
  const o = new Out();
  const names = new Map<string, string>();
  o.push(...preambleComment(spec, 'assemblyscript', 'line'), '//', `// AssemblyScript bindings for ${spec.name}: the ABI's numbers, little-endian struct codecs over`,
    '// linear memory, the validators, the capability-chain walker and the MMIO window surface.', '');
  o.push(...comment(spec.doc), '');
  constants(spec, o, names);
  ioctls(spec, o);
  o.push('', '// ---- Structs: sizes, offsets, codecs (little-endian, wasm\'s native order) ----');
  for (const s of spec.structs) structCode(s, o, lower(spec).argsz.get(s) ?? null);
  stateCode(spec, o);
  for (const v of lower(spec).validators) validatorCode(v, spec, o, names);
  capchainCode(spec, o, names);
  mmioCode(spec, o);
  return [{ path: asOutputPath(spec), content: `${o.lines.join('\n')}\n` }];
}
