import {
  IndentationText, NewLineKind, Project, QuoteKind, StructureKind, VariableDeclarationKind,
  type ClassDeclarationStructure, type FunctionDeclarationStructure, type InterfaceDeclarationStructure, type OptionalKind,
  type StatementStructures, type TypeAliasDeclarationStructure, type VariableStatementStructure, type WriterFunction,
} from 'ts-morph';
import type * as IR from '../ir.js';
import { ARCHES } from '../ioctl-encoding.js';
import { ioctlNr } from './c-common.js';
import type { GeneratedFile } from './file.js';
import { featureStem, origin, prefixed, unprefixed } from './names.js';
import { CAP_ERRORS, lower, type ChainPlan, type CheckPlan, type FeaturePlan } from '../lower.js';
import { pascal, specConstantRole, preambleComment, tsDocComments, tsNumber } from './printer.js';

/**
 * TypeScript bindings: constants as `as const` objects, per-architecture ioctl numbers, a codec per
 * struct, the validators and the capability-chain walkers. Built with ts-morph so the output is
 * formatted like hand-written code.
 */
export function emitTypeScript(spec: IR.Spec): GeneratedFile[] {
  const project = new Project({
    useInMemoryFileSystem: true,
    manipulationSettings: { indentationText: IndentationText.TwoSpaces, quoteKind: QuoteKind.Single, newLineKind: NewLineKind.LineFeed, useTrailingCommas: true },
  });
  const path = spec.targets.typescript.path;
  const sf = new Statements();
  const head = [...preambleComment(spec, 'typescript', 'line'), `// ${spec.doc.split('. ')[0]}.`];
  sf.addStatements(head);
  emitArches(sf);
  emitConstants(sf, spec);
  emitEnums(sf, spec);
  emitFlags(sf, spec);
  emitCapabilityIds(sf, spec);
  emitFeatures(sf, spec);
  emitIoctls(sf, spec);
  emitErrnos(sf, spec);
  for (const s of spec.structs) emitStruct(sf, s, lower(spec).argsz.get(s) ?? null);
  for (const f of lower(spec).features) emitFeatureArgument(sf, spec, f);
  if (spec.state !== null) emitValidation(sf, spec, spec.state);
  emitMmapRules(sf, spec);
  const { chains } = lower(spec);
  if (chains.length > 0) emitCapWalkerSupport(sf);
  for (const chain of chains) emitCapWalker(sf, spec, chain);
  // One insertion of every statement: ts-morph re-parses the file on each, so adding them one by one was quadratic.
  const file = project.createSourceFile(path, '');
  file.addStatements(sf.statements);
  // What the code uses: a name only a doc comment mentions ({@link CodecError}) is not imported (noUnusedLocals).
  const body = file.getFullText().replace(/\/\*\*[\s\S]*?\*\//g, '');
  const helpers = ['CodecError', 'checkArch', 'checkBig', 'checkInt', 'checkLength', 'checkReserved', 'checkRoom', 'checkUint', 'dataModelOf', 'readPointer', 'writePointer'].filter((h) => new RegExp(`\\b${h}\\b`).test(body));
  file.insertImportDeclaration(head.length, { moduleSpecifier: spec.targets.typescript.support, namedImports: [...helpers, 'kernelArch', 'knownName', 'type CodecOptions', 'type NodeArch'] });
  file.formatText({ indentSize: 2, convertTabsToSpaces: true, ensureNewLineAtEndOfFile: true });
  // Doc comments are written whole by ts-morph and wrapped here, by the printer, in one pass.
  return [{ path, content: tsDocComments(file.getFullText()) }];
}

/** The file's statements as ts-morph structures, in order, for one insertion. */
class Statements {
  readonly statements: (string | WriterFunction | StatementStructures)[] = [];
  addStatements(lines: string[]): void { this.statements.push(...lines); }
  /** Declarations are separated by a blank line, as ts-morph separates them when added one by one. */
  private add(s: StatementStructures): void {
    if (typeof this.statements.at(-1) === 'object') this.statements.push((w) => w.blankLineIfLastNot());
    this.statements.push(s);
  }
  addVariableStatement(s: OptionalKind<VariableStatementStructure>): void { this.add({ ...s, kind: StructureKind.VariableStatement }); }
  addTypeAlias(s: OptionalKind<TypeAliasDeclarationStructure>): void { this.add({ ...s, kind: StructureKind.TypeAlias }); }
  addInterface(s: OptionalKind<InterfaceDeclarationStructure>): void { this.add({ ...s, kind: StructureKind.Interface }); }
  addFunction(s: OptionalKind<FunctionDeclarationStructure>): void { this.add({ ...s, kind: StructureKind.Function }); }
  addClass(s: OptionalKind<ClassDeclarationStructure>): void { this.add({ ...s, kind: StructureKind.Class }); }
}

const doc = (text: string, ...tags: string[]): string => [text, ...tags].join('\n');

function constObject(sf: Statements, name: string, docs: string, entries: [string, string, string][]): void {
  sf.addVariableStatement({
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    docs: [docs],
    declarations: [{
      name,
      initializer: (w) => {
        w.write('{').newLine();
        w.indent(() => {
          for (const [key, value, d] of entries) {
            w.writeLine(`/** ${d} */`);
            w.writeLine(`${key}: ${value},`);
          }
        });
        w.write('} as const');
      },
    }],
  });
  sf.addTypeAlias({ isExported: true, name, type: `(typeof ${name})[keyof typeof ${name}]`, docs: [`A value of {@link ${name}}.`] });
}

function emitArches(sf: Statements): void {
  sf.addVariableStatement({
    isExported: true, declarationKind: VariableDeclarationKind.Const,
    docs: ['Architectures whose ioctl request numbers the bindings carry (powerpc and mips encode `_IO` differently).'],
    declarations: [{ name: 'ARCHES', initializer: `[${ARCHES.map((a) => `'${a}'`).join(', ')}] as const` }],
  });
  sf.addTypeAlias({ isExported: true, name: 'Arch', type: '(typeof ARCHES)[number]', docs: ['One of {@link ARCHES}.'] });
}

function emitConstants(sf: Statements, spec: IR.Spec): void {
  constObject(sf, constantsName(spec), 'Plain constants of the ABI.', spec.constants.map((c) => [
    c.name, c.string !== null ? `'${c.string.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'` : tsNumber(c.value, specConstantRole(c)), `${c.doc}${c.char !== null ? ` (\`'${c.char}'\`)` : ''}${c.or !== null ? ` (\`${c.or.map((t) => t.name).join(' | ')}\`)` : ''} ${origin(c)}`,
  ]));
}

function emitEnums(sf: Statements, spec: IR.Spec): void {
  for (const e of spec.enums) constObject(sf, pascal(e.name), doc(e.doc, origin(e)), e.values.map((v) => [v.name, tsNumber(v.value, 'quantity'), `${v.doc} ${origin(v)}`]));
}

function emitFlags(sf: Statements, spec: IR.Spec): void {
  for (const f of spec.flags) {
    // A 64-bit set's bits and mask are bigints, as the members that carry them are.
    const big = f.width === 64;
    constObject(sf, pascal(f.name), doc(f.doc, origin(f)), f.bits.map((b) => [b.name, tsNumber(b.value, 'bits', big), `Bit ${b.bit}: ${b.doc}`]));
    sf.addVariableStatement({
      isExported: true, declarationKind: VariableDeclarationKind.Const,
      docs: [`Every defined bit of {@link ${pascal(f.name)}}; any other bit is reserved.`],
      declarations: [{ name: `${pascal(f.name)}Mask`, initializer: tsNumber(f.mask, 'bits', big) }],
    });
  }
}

/** The const object of a chain's capability ids. */
const capGroup = (info: IR.Struct): string => `${pascal(info.name)}Cap`;

/** The names the generator makes from the name prefix: PrefixConstants, PrefixIoctl. */
const constantsName = (spec: IR.Spec): string => prefixed(spec, 'Constants');
const ioctlName = (spec: IR.Spec): string => prefixed(spec, 'Ioctl');

function emitCapabilityIds(sf: Statements, spec: IR.Spec): void {
  for (const { ioctl, info, caps } of lower(spec).chains) {
    if (caps.length === 0) continue;
    constObject(sf, capGroup(info), `Capability ids in a ${ioctl.name} reply chain.`,
      caps.map((c) => [c.name, String(c.id), `${c.doc} Version ${c.version}.${c.deprecated ? ' @deprecated' : ''} ${origin(c)}`]));
  }
}

function emitFeatures(sf: Statements, spec: IR.Spec): void {
  const fx = spec.featureIoctl;
  if (fx === null) return;
  constObject(sf, `${pascal(fx.ioctl.name)}Id`, `Feature numbers of ${fx.ioctl.name} (the low 16 bits of its flags).`,
    spec.features.map((f) => [f.name, String(f.number), `${f.doc} ${origin(f)}`]));
}

function emitIoctls(sf: Statements, spec: IR.Spec): void {
  sf.addVariableStatement({
    isExported: true, declarationKind: VariableDeclarationKind.Const,
    docs: ['ioctl request numbers, per architecture.'],
    declarations: [{
      name: ioctlName(spec),
      initializer: (w) => {
        w.write('{').newLine();
        w.indent(() => {
          for (const x of spec.ioctls) {
            w.writeLine(`/** ${x.doc} \`_${x.encoding}(${x.type.name}, ${ioctlNr(spec, x)})\` on the ${x.fd} fd. ${origin(x)} */`);
            w.writeLine(`${x.name}: { ${ARCHES.map((a) => `${a}: ${tsNumber(BigInt(x.numbers[a]), 'bits')}`).join(', ')} },`);
          }
        });
        w.write('} as const');
      },
    }],
  });
  sf.addVariableStatement({
    isExported: true, declarationKind: VariableDeclarationKind.Const,
    docs: [doc(`What the third argument of each ioctl is, and the kind of fd (\`fd\`) it is issued on: \`struct\` (a pointer to the named struct; \`argsz\` names its argsz member, if any), \`none\` (nothing), \`value\` (an integer of \`type\`, \`size\` bytes, passed by value), \`pointer\` (a pointer to one integer of \`type\`, exactly \`size\` bytes) or \`string\` (a pointer to a NUL-terminated string).`)],
    declarations: [{
      name: prefixed(spec, 'IoctlArg'),
      initializer: (w) => {
        w.write('{').newLine();
        w.indent(() => {
          for (const x of spec.ioctls) {
            const a = x.argument;
            const fields = a.kind === 'struct' ? `kind: 'struct', struct: '${a.struct.name}'${x.argsz !== null ? `, argsz: '${x.argsz.name}'` : ''}`
              : a.kind === 'value' || a.kind === 'pointer' ? `kind: '${a.kind}', type: '${a.type.name}', size: ${a.type.size}`
              : `kind: '${a.kind}'`;
            w.writeLine(`${x.name}: { ${fields}, fd: '${x.fd}' },`);
          }
        });
        w.write('} as const');
      },
    }],
  });
  sf.addVariableStatement({
    isExported: true, declarationKind: VariableDeclarationKind.Const,
    docs: [doc(`The kinds of file descriptor the ioctls are issued on (\`fd\` of ${prefixed(spec, 'IoctlArg')}); the native addon's open and adoptFd take one, and accept on the handle the ioctls of that kind and of every kind it extends. ${spec.fdKinds.map((k) => `\`${k.name}\`${k.extends !== null ? ` (extends \`${k.extends}\`)` : ''}${k.doc !== null ? `: ${k.doc}` : ''}`).join(' ')}`)],
    declarations: [{
      name: prefixed(spec, 'FdKinds'),
      initializer: (w) => { w.write(`[${spec.fdKinds.map((k) => `'${k.name}'`).join(', ')}] as const`); },
    }],
  });
  sf.addFunction({
    isExported: true, name: 'ioctlNumber',
    docs: [doc('The request number of an ioctl on an architecture.', `@param name - An ioctl of {@link ${ioctlName(spec)}}.`, '@param arch - The target architecture: the kernel\'s name or Node\'s (`process.arch`).', '@throws RangeError (a CodecError) listing the valid names, for an unknown ioctl or architecture.')],
    parameters: [{ name: 'name', type: `keyof typeof ${ioctlName(spec)}` }, { name: 'arch', type: 'Arch | NodeArch' }],
    returnType: 'number',
    statements: `return ${ioctlName(spec)}[knownName(${ioctlName(spec)}, name, 'ioctl')][kernelArch(arch)];`,
  });
}

function emitErrnos(sf: Statements, spec: IR.Spec): void {
  constObject(sf, 'Errno', 'errno values the ABI names (Linux asm-generic numbering).', spec.errnos.map((e) => [e.name, String(e.value), `${e.name}.`]));
  sf.addTypeAlias({ isExported: true, name: 'ErrnoName', type: 'keyof typeof Errno', docs: ['The name of an errno in {@link Errno}.'] });
}

// ---------------------------------------------------------------------------------------------
// Structs

function tsType(m: IR.Member): string {
  const el = m.type.kind === 'struct' ? pascal(m.type.struct.name) : m.type.kind === 'pointer' || m.type.size === 8 ? 'bigint' : 'number';
  if (m.count === null) return el;
  if (m.type.kind === 'int' && m.type.name === '__u8') return 'Uint8Array';
  return `${el}[]`;
}

/** The C spelling of a member's type, with its array suffix. */
function cTypeText(m: IR.Member): string {
  const t = (x: IR.IntType | IR.StructRef): string => (x.kind === 'int' ? x.name : `struct ${x.struct.name}`);
  const base = m.type.kind === 'pointer' ? `${t(m.type.to)} *` : t(m.type);
  return `${base}${m.count === 'flexible' ? '[]' : m.count !== null ? `[${m.count}]` : ''}`;
}

function memberDoc(m: IR.Member, s: IR.Struct): string {
  const notes: string[] = [];
  const at = s.uniform ? `at offset ${m.offset}` : `at offset ${m.layouts.lp64.offset} (LP64), ${m.layouts.ilp32.offset} (ILP32)`;
  notes.push(`\`${cTypeText(m)}\` ${at}`);
  if (m.type.kind === 'pointer') notes.push('a user address');
  if (m.origin !== null) notes.push(origin({ origin: m.origin }).slice(1, -1));
  if (m.union !== null) notes.push(`a member of a union with ${m.union.members.filter((x) => x !== m).map((x) => `\`${x.name}\``).join(', ') || 'no other member'}: read always, written when given (the last one given wins)`);
  if (m.pointsTo !== null) notes.push(m.pointsTo.struct !== null ? `a user address: an array of \`${m.pointsTo.count.name}\` {@link ${pascal(m.pointsTo.struct.name)}}` : `a user address: \`${m.pointsTo.bytes.name}\` bytes`);
  if (m.dir !== null) notes.push(m.dir);
  if (m.reserved) notes.push('reserved, zero');
  if (m.flags !== null) notes.push(`bits of {@link ${pascal(m.flags.name)}}`);
  if (m.enum !== null) notes.push(`a {@link ${pascal(m.enum.name)}}`);
  if (m.elements !== null) notes.push(`the bytes of ${s.flexibleCount?.name ?? 'count'} elements of ${m.elements.types.map((t) => `${t.size} bytes with ${t.bit.name}`).join(', ')} in ${m.elements.by.name}`);
  return `${m.doc} (${notes.join('; ')})`;
}

/** The (path, member[, index]) arguments of a check: joined into a string only on failure. */
const where = (m: IR.Member, index?: string): string => `path, '${m.name}'${index !== undefined ? `, ${index}` : ''}`;

/** The path a nested struct codec reports under. */
const nestedPath = (m: IR.Member, index?: string): string => (index === undefined ? `path + '.${m.name}'` : `\`\${path}.${m.name}[\${${index}}]\``);

/** Statements writing one element of type `m.type` at `at` from `src`. */
function writeElement(m: IR.Member, at: string, src: string, index?: string): string {
  if (m.type.kind === 'struct') return `${pascal(m.type.struct.name)}.write(view, ${at}, ${src}, options, ${nestedPath(m, index)});`;
  if (m.type.kind === 'pointer') return `writePointer(view, ${at}, ${src}, L.model, ${where(m, index)});`;
  const t = m.type;
  if (t.size === 8) return `view.set${t.signed ? 'BigInt64' : 'BigUint64'}(${at}, checkBig(${src}, ${t.signed}, ${where(m, index)}), true);`;
  const bits = t.size * 8;
  const setter = `set${t.signed ? 'Int' : 'Uint'}${bits}`;
  return `view.${setter}(${at}, ${t.signed ? 'checkInt' : 'checkUint'}(${src}, ${bits}, ${where(m, index)})${t.size > 1 ? ', true' : ''});`;
}

function readElement(m: IR.Member, at: string, index?: string): string {
  if (m.type.kind === 'struct') return `${pascal(m.type.struct.name)}.read(view, ${at}, options, ${nestedPath(m, index)})`;
  if (m.type.kind === 'pointer') return `readPointer(view, ${at}, L.model)`;
  const t = m.type;
  if (t.size === 8) return `view.get${t.signed ? 'BigInt64' : 'BigUint64'}(${at}, true)`;
  return `view.get${t.signed ? 'Int' : 'Uint'}${t.size * 8}(${at}${t.size > 1 ? ', true' : ''})`;
}

/** Names the codec methods use for their own parameters; a member may not take one. */
const CODEC_LOCALS = new Set(['view', 'at', 'options', 'path', 'value', 'bytes', 'L']);

/**
 * A struct's codec. A struct laid out alike on every data model has its numbers inline; one whose
 * layout differs (upstream's natural layout, a pointer) has a layout per data model and picks the
 * one of options.arch (default: the host's) into L. A struct with the argsz role (`argsz`, the
 * member) is encoded from an input type where that member is optional: left out, the codec writes
 * the bytes it encodes there.
 */
function emitStruct(sf: Statements, s: IR.Struct, argsz: IR.Member | null): void {
  const name = pascal(s.name);
  for (const m of s.members) {
    if (CODEC_LOCALS.has(m.name) || m.name.endsWith('Count')) throw new Error(`struct ${s.name}: member name ${m.name} clashes with the TypeScript codec's locals`);
  }
  const u = s.uniform;
  const sizeText = u ? `${s.size} bytes` : `${s.layouts.lp64.size} bytes on LP64, ${s.layouts.ilp32.size} on ILP32 (i386)`;
  sf.addInterface({
    isExported: true, name,
    docs: [doc(s.doc, `\`struct ${s.name}\`, ${sizeText}${s.flexible !== null ? ` plus ${s.flexible.name}[]` : ''}. ${origin(s)}`)],
    properties: s.members.map((m) => ({ name: m.name, type: tsType(m), hasQuestionToken: m.union !== null, docs: [memberDoc(m, s)] })),
  });
  const input = argsz !== null ? `${name}Input` : name;
  if (argsz !== null) {
    sf.addTypeAlias({
      isExported: true, name: input, type: `Omit<${name}, '${argsz.name}'> & { ${argsz.name}?: number }`,
      docs: [`A {@link ${name}} to encode: \`${argsz.name}\` may be left out, and the codec then writes the bytes the encoding takes there ({@link ${name}.byteLength}: ${s.flexible !== null ? `the fixed part and every element of \`${s.flexible.name}\`` : 'the size of the struct'}). A given \`${argsz.name}\` is written as it is: the caller may offer more room than that (for a capability chain, or a payload it writes after the struct).`],
    });
  }
  const flex = s.flexible;
  const count = s.flexibleCount;
  const off = (m: IR.Member): string => (u ? String(m.offset) : `L.offsets.${m.name}`);
  const stride = (m: IR.Member): string => (u ? String(m.elementSize) : `L.strides.${m.name}`);
  const size = u ? String(s.size) : 'L.size';
  const arrays = s.members.filter((m) => m.count !== null);
  if (!u) {
    sf.addVariableStatement({
      declarationKind: VariableDeclarationKind.Const,
      docs: [`The layouts of {@link ${name}} per data model.`],
      declarations: [{
        name: `${name}Layouts`,
        initializer: (w) => {
          w.write('{').newLine();
          w.indent(() => {
            for (const model of ['lp64', 'ilp32'] as const) {
              const strides = arrays.length > 0 ? `, strides: { ${arrays.map((m) => `${m.name}: ${m.layouts[model].elementSize}`).join(', ')} }` : '';
              w.writeLine(`${model}: { model: '${model}', size: ${s.layouts[model].size}, offsets: { ${s.members.map((m) => `${m.name}: ${m.layouts[model].offset}`).join(', ')} }${strides} },`);
            }
          });
          w.write('} as const');
        },
      }],
    });
  }
  const writer: WriterFunction = (w) => {
    w.write('{').newLine();
    w.indent(() => {
      if (u) {
        w.writeLine(`/** \`sizeof(struct ${s.name})\`${flex !== null ? ', without flexible array elements' : ''}. */`);
        w.writeLine(`size: ${s.size},`);
        w.writeLine('/** Byte offset of each member. */');
        w.writeLine(`offsets: { ${s.members.map((m) => `${m.name}: ${m.offset}`).join(', ')} },`);
      } else {
        w.writeLine(`/** The layout under each data model (upstream's natural layout${s.members.some((m) => m.type.kind === 'pointer') ? ', pointers' : ''}): \`sizeof\`${flex !== null ? ' without flexible array elements' : ''}, member offsets${arrays.length > 0 ? ', array element sizes' : ''}. */`);
        w.writeLine(`layouts: ${name}Layouts,`);
        w.writeLine('/** The layout of `options.arch` (default: the host\'s architecture). */');
        w.writeLine(`layout(options: CodecOptions = {}): (typeof ${name}Layouts)['lp64' | 'ilp32'] {`);
        w.indent(() => w.writeLine(`return ${name}.layouts[dataModelOf(options.arch)];`));
        w.writeLine('},');
      }
      w.writeLine('/** Bytes an encoding of `value` takes. */');
      w.writeLine(`byteLength(${flex !== null ? 'value' : '_value'}: ${input}${u ? '' : ', options: CodecOptions = {}'}): number {`);
      w.indent(() => {
        if (!u) w.writeLine(`const L = ${name}.layout(options);`);
        w.writeLine(flex !== null ? `return ${size} + value.${flex.name}.length * ${stride(flex)};` : `return ${size};`);
      });
      w.writeLine('},');
      w.writeLine(`/** Encodes \`value\` into a new buffer${argsz !== null ? ` (\`${argsz.name}\` left out: its byteLength)` : ''}. Throws {@link CodecError} naming the member that does not fit. */`);
      w.writeLine(`encode(value: ${input}, options: CodecOptions = {}): Uint8Array {`);
      w.indent(() => {
        w.writeLine(`const bytes = new Uint8Array(${name}.byteLength(value${u ? '' : ', options'}));`);
        w.writeLine(`${name}.write(new DataView(bytes.buffer), 0, value, options);`);
        w.writeLine('return bytes;');
      });
      w.writeLine('},');
      w.writeLine(`/** Writes \`value\` at byte \`at\` of \`view\`${argsz !== null ? ` (\`${argsz.name}\` left out: its byteLength)` : ''}. */`);
      w.writeLine(`write(view: DataView, at: number, value: ${input}, options: CodecOptions = {}, path = '${s.name}'): void {`);
      w.indent(() => {
        // A layout alike on every architecture still refuses an architecture that is none of them.
        w.writeLine(u ? 'checkArch(options);' : `const L = ${name}.layout(options);`);
        if (argsz !== null) {
          w.writeLine(`const bytes = ${name}.byteLength(value${u ? '' : ', options'});`);
          w.writeLine('checkRoom(view, at, bytes, path);');
        } else w.writeLine(`checkRoom(view, at, ${name}.byteLength(value${u ? '' : ', options'}), path);`);
        const writeMember = (m: IR.Member, at: string): void => {
          if (m.reserved || m.padding) {
            if (m.count === null) w.writeLine(`if (!options.raw) checkReserved(value.${m.name}, ${where(m)});`);
            else w.writeLine(`if (!options.raw) value.${m.name}.forEach((e, i) => checkReserved(${m.type.kind === 'struct' ? '0' : 'e'}, ${where(m, 'i')}));`);
          }
          if (m.count === null) { w.writeLine(writeElement(m, at, m === argsz ? `value.${m.name} ?? bytes` : `value.${m.name}`)); return; }
          if (m.count !== 'flexible') w.writeLine(`checkLength(value.${m.name}.length, ${m.count}, ${where(m)});`);
          if (m === count) return;
          if (m.type.kind === 'int' && m.type.name === '__u8') {
            w.writeLine(`new Uint8Array(view.buffer, view.byteOffset + ${at}, value.${m.name}.length).set(value.${m.name});`);
          } else {
            w.writeLine(`value.${m.name}.forEach((e, i) => {`);
            w.indent(() => w.writeLine(writeElement(m, `${at} + i * ${stride(m)}`, 'e', 'i')));
            w.writeLine('});');
          }
        };
        for (const m of s.members) {
          const at = `at + ${off(m)}`;
          // A union's members share their bytes: each is written only when the value gives it.
          if (m.union !== null) w.write(`if (value.${m.name} !== undefined)`).block(() => writeMember(m, at));
          else writeMember(m, at);
        }
        if (count !== null && flex !== null && flex.elements !== null) {
          // counted in elements whose type a flag bit chooses: count * sizeof(element) bytes
          const e = flex.elements;
          if (e.by.type.kind !== 'int' || e.by.type.size > 4) throw new Error(`${s.name}.${e.by.name}: element types are chosen by a flag word of at most 32 bits`);
          w.writeLine('let elementBytes = -1;');
          e.types.forEach((t, i) => w.writeLine(`${i > 0 ? 'else ' : ''}if ((value.${e.by.name} & ${pascal(e.by.flags!.name)}.${t.bit.name}) !== 0) elementBytes = ${t.size};`));
          w.writeLine('if (!options.raw && elementBytes < 0)');
          w.indent(() => w.writeLine(`throw new CodecError(path + '.${e.by.name}', 'sets none of ${e.types.map((t) => t.bit.name).join(', ')}: the type of ${flex.name}[] is unknown');`));
          w.writeLine(`if (!options.raw && value.${count.name} * elementBytes !== value.${flex.name}.length)`);
          w.indent(() => w.writeLine(`throw new CodecError(path + '.${count.name}', \`says \${value.${count.name}} elements of \${elementBytes} bytes, ${flex.name} has \${value.${flex.name}.length} bytes\`);`));
        } else if (count !== null && flex !== null) {
          w.writeLine(`if (!options.raw && value.${count.name} !== value.${flex.name}.length)`);
          w.indent(() => w.writeLine(`throw new CodecError(path + '.${count.name}', \`says \${value.${count.name}} elements, ${flex.name} has \${value.${flex.name}.length}\`);`));
        }
      });
      w.writeLine('},');
      w.writeLine('/** Decodes a whole buffer. Throws {@link CodecError} if it is too short or a reserved member is set. */');
      w.writeLine(`decode(bytes: Uint8Array, options: CodecOptions = {}): ${name} {`);
      w.indent(() => w.writeLine(`return ${name}.read(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0, options);`));
      w.writeLine('},');
      w.writeLine('/** Reads a value at byte `at` of `view`. */');
      w.writeLine(`read(view: DataView, at: number, options: CodecOptions = {}, path = '${s.name}'): ${name} {`);
      w.indent(() => {
        w.writeLine(u ? 'checkArch(options);' : `const L = ${name}.layout(options);`);
        w.writeLine(`checkRoom(view, at, ${size}, path);`);
        for (const m of s.members) {
          if (m.count !== null) continue;
          w.writeLine(`const ${m.name} = ${readElement(m, `at + ${off(m)}`)};`);
          if (m.reserved || m.padding) w.writeLine(`if (!options.raw) checkReserved(${m.name}, ${where(m)});`);
        }
        for (const m of s.members) {
          if (m.count === null) continue;
          const n = m.count === 'flexible'
            ? count !== null ? `options.count ?? ${count.name}` : `options.count ?? Math.floor((view.byteLength - at - ${off(m)}) / ${stride(m)})`
            : String(m.count);
          w.writeLine(`const ${m.name}Count = ${n};`);
          if (m.count === 'flexible') w.writeLine(`checkRoom(view, at + ${off(m)}, ${m.name}Count * ${stride(m)}, ${where(m)});`);
          if (m.type.kind === 'int' && m.type.name === '__u8') {
            w.writeLine(`const ${m.name} = new Uint8Array(view.buffer.slice(view.byteOffset + at + ${off(m)}, view.byteOffset + at + ${off(m)} + ${m.name}Count));`);
          } else {
            w.writeLine(`const ${m.name} = Array.from({ length: ${m.name}Count }, (_, i) => ${readElement(m, `at + ${off(m)} + i * ${stride(m)}`, 'i')});`);
          }
          if (m.reserved || m.padding) w.writeLine(`if (!options.raw) ${m.name}.forEach((e, i) => checkReserved(${m.type.kind === 'struct' ? '0' : 'e'}, ${where(m, 'i')}));`);
        }
        w.writeLine(`return { ${s.members.map((m) => m.name).join(', ')} };`);
      });
      w.writeLine('},');
    });
    w.write('} as const');
  };
  sf.addVariableStatement({
    isExported: true, declarationKind: VariableDeclarationKind.Const,
    docs: [`Layout and codec of {@link ${name}} (little-endian, as every supported architecture but s390x stores it).`],
    declarations: [{ name, initializer: writer }],
  });
}

/** The codec of a feature operation's whole argument: `Feature<Stem><Op>` (e.g. FeatureMigrationGet). */
export const featureArgName = (spec: IR.Spec, f: FeaturePlan): string => `Feature${pascal(featureStem(spec, f.feature))}${pascal(f.op)}`;

/**
 * The codec of one feature operation's whole ioctl argument: the header (argsz the whole argument,
 * flags the operation's bit | the feature number) with the payload after it, through the two
 * structs' codecs.
 */
function emitFeatureArgument(sf: Statements, spec: IR.Spec, f: FeaturePlan): void {
  const name = featureArgName(spec, f);
  const { struct: hs, argsz, flags, payload: data } = f.header;
  const header = pascal(hs.name);
  const payload = pascal(f.payload.name);
  const input = lower(spec).argsz.has(f.payload) ? `${payload}Input` : payload;
  const model = f.payload.uniform ? '' : ', options';
  const others = hs.members.filter((m) => m !== argsz && m !== flags && m !== data);
  if (others.some((m) => m.count !== null || m.type.kind !== 'int')) throw new Error(`typescript: ${hs.name}: a feature header's other members must be integers (written as zero)`);
  const fields = [`${argsz.name}: ${name}.byteLength(payload${model})`, `${flags.name}: ${name}.flags`, `${data.name}: new Uint8Array(0)`, ...others.map((m) => `${m.name}: ${m.type.kind === 'int' && m.type.size === 8 ? '0n' : '0'}`)];
  const op = f.op.toUpperCase();
  const writer: WriterFunction = (w) => {
    w.write('{').newLine();
    w.indent(() => {
      w.writeLine(`/** \`${flags.name}\` of the header: \`${f.bit.name} | ${f.feature.name}\`. */`);
      w.writeLine(`${flags.name}: ${pascal(flags.flags!.name)}.${f.bit.name} | ${pascal(spec.featureIoctl!.ioctl.name)}Id.${f.feature.name},`);
      w.writeLine(`/** Where the payload starts: the offset of the header's \`${data.name}\`. */`);
      w.writeLine(`at: ${f.at},`);
      w.writeLine(`/** Bytes the whole argument takes: the header and \`payload\`. */`);
      w.writeLine(`byteLength(payload: ${input}${model ? ', options: CodecOptions = {}' : ''}): number {`);
      w.indent(() => w.writeLine(`return ${f.at} + ${payload}.byteLength(payload${model});`));
      w.writeLine('},');
      w.writeLine('/** Encodes the whole argument into a new buffer. Throws {@link CodecError} naming the member that does not fit. */');
      w.writeLine(`encode(payload: ${input}, options: CodecOptions = {}): Uint8Array {`);
      w.indent(() => {
        w.writeLine(`const bytes = new Uint8Array(${name}.byteLength(payload${model}));`);
        w.writeLine(`${name}.write(new DataView(bytes.buffer), 0, payload, options);`);
        w.writeLine('return bytes;');
      });
      w.writeLine('},');
      w.writeLine('/** Writes the whole argument at byte `at` of `view`. */');
      w.writeLine(`write(view: DataView, at: number, payload: ${input}, options: CodecOptions = {}): void {`);
      w.indent(() => {
        w.writeLine(`${header}.write(view, at, { ${fields.join(', ')} }, options);`);
        w.writeLine(`${payload}.write(view, at + ${f.at}, payload, options);`);
      });
      w.writeLine('},');
      w.writeLine(`/** Decodes the payload after the header (what ${op} ${f.op === 'get' ? 'returned' : 'was given'}). Throws {@link CodecError} if it is too short. */`);
      w.writeLine(`decode(bytes: Uint8Array, options: CodecOptions = {}): ${payload} {`);
      w.indent(() => w.writeLine(`return ${payload}.read(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), ${f.at}, options);`));
      w.writeLine('},');
    });
    w.write('} as const');
  };
  const op0 = f.feature[f.op]!;
  sf.addVariableStatement({
    isExported: true, declarationKind: VariableDeclarationKind.Const,
    docs: [doc(`The whole ${spec.featureIoctl!.ioctl.name} argument of ${f.feature.name} ${op}: \`struct ${hs.name}\` (\`${argsz.name}\` the whole argument, \`${flags.name}\` \`${f.bit.name} | ${f.feature.name}\`) with {@link ${payload}} in \`${data.name}\`. ${op0.doc}`, origin(f.feature))],
    declarations: [{ name, initializer: writer }],
  });
}

// ---------------------------------------------------------------------------------------------
// Validation

interface Rendered { code: string; big: boolean }

function stateType(f: IR.StateField): string {
  return f.type === 'u64' ? 'bigint' : f.type === 'u32' ? 'number' : 'boolean';
}

function operand(o: IR.Operand, spec: IR.Spec): Rendered {
  switch (o.kind) {
    case 'request': return { code: `req.${o.member.name}`, big: o.width === 64 };
    case 'device': return { code: `dev.${o.field.name}`, big: o.width === 64 };
    case 'region': return { code: `${o.binding}.${o.field.name}`, big: o.width === 64 };
    case 'literal': return { code: typeof o.value === 'boolean' ? String(o.value) : tsNumber(o.value, 'quantity'), big: false };
    case 'constant': return { code: constantRef(o, spec), big: constantIsBig(o, spec) };
  }
}

/** Whether a named value prints as a bigint: a bit or mask of a 64-bit flag set, or a value a number cannot hold. */
function constantIsBig(o: Extract<IR.Operand, { kind: 'constant' }>, spec: IR.Spec): boolean {
  if (o.value > BigInt(Number.MAX_SAFE_INTEGER)) return true;
  if (o.source === 'flagset') return spec.flags.some((f) => f.name === o.name && f.width === 64);
  return o.source === 'flag' && spec.flags.some((f) => f.width === 64 && f.bits.some((b) => b.name === o.name));
}

function constantRef(o: Extract<IR.Operand, { kind: 'constant' }>, spec: IR.Spec): string {
  if (o.source === 'flagset') return `${pascal(o.name)}Mask`;
  if (o.source === 'flag') return `${pascal(spec.flags.find((f) => f.bits.some((b) => b.name === o.name))!.name)}.${o.name}`;
  if (o.source === 'enum') return `${pascal(spec.enums.find((e) => e.values.some((v) => v.name === o.name))!.name)}.${o.name}`;
  return `${constantsName(spec)}.${o.name}`;
}

/** The condition under which a check fails, computed in the check's width (bigint for 64 bits). */
function failExpr(p: CheckPlan, spec: IR.Spec): string {
  const c = p.check;
  const op = (o: IR.Operand) => operand(o, spec);
  const zero = (big: boolean) => (big ? '0n' : '0');
  const domain = p.width === 64;
  const lift = (r: Rendered) => (domain && !r.big ? `BigInt(${r.code})` : r.code);
  const pair = (a: Rendered, b: Rendered): [string, string, boolean] => [lift(a), lift(b), domain];
  switch (c.kind) {
    case 'zero': { const a = op(c.value); return `${a.code} !== ${zero(a.big)}`; }
    case 'nonzero': { const a = op(c.value); return `${a.code} === ${zero(a.big)}`; }
    case 'false': return op(c.value).code;
    case 'bits': { const [a, b, big] = pair(op(c.value), op(c.within)); return `(${a} & ~${b}) !== ${zero(big)}`; }
    case 'has': {
      const a = op(c.value);
      const flag = op({ kind: 'constant', name: c.flag.name, value: c.flag.value, source: 'flag' });
      return `(${a.code} & ${a.big && !flag.big ? `BigInt(${flag.code})` : flag.code}) === ${zero(a.big)}`;
    }
    case 'aligned': { const [a, to, big] = pair(op(c.value), op(c.to)); return `(${a} & (${to} - ${big ? '1n' : '1'})) !== ${zero(big)}`; }
    case 'lt': { const [a, b] = pair(op(c.left), op(c.right)); return `${a} >= ${b}`; }
    case 'within': {
      const o = op(c.offset); const s = op(c.size); const l = op(c.limit);
      return `${lift(o)} > ${lift(l)} || ${lift(s)} > ${lift(l)} - ${lift(o)}`;
    }
    case 'lookup': return `${op(c.index).code} >= dev.num_regions`;
  }
}

/** An effect's value; a 32-bit bitwise result is brought back to unsigned once, at the top. */
function exprCode(e: IR.Expr, spec: IR.Spec, big: boolean, top = true): string {
  if (e.kind === 'or' || e.kind === 'and') {
    const sym = e.kind === 'or' ? ' | ' : ' & ';
    const inner = e.terms.map((t) => exprCode(t, spec, big, false)).join(sym);
    return top ? (big ? inner : `(${inner}) >>> 0`) : `(${inner})`;
  }
  const r = operand(e, spec);
  if (e.kind === 'literal' && typeof e.value === 'boolean') return r.code;
  if (big && !r.big) return e.kind === 'literal' ? `${r.code}n` : `BigInt(${r.code})`;
  return r.code;
}

function ruleConst(v: IR.Validator): string {
  return `${pascal(v.name)}Rules`;
}

function emitValidation(sf: Statements, spec: IR.Spec, state: NonNullable<IR.Spec['state']>): void {
  const { device, region } = state;
  sf.addInterface({
    isExported: true, name: pascal(region.name), docs: [region.doc],
    properties: region.fields.map((f) => ({ name: f.name, type: stateType(f), docs: [f.doc] })),
  });
  sf.addInterface({
    isExported: true, name: pascal(device.name), docs: [doc(device.doc, `\`regions\` holds \`num_regions\` entries, indexed by region index.`)],
    properties: [
      ...device.fields.map((f) => ({ name: f.name, type: stateType(f), docs: [f.doc] })),
      { name: 'regions', type: `${pascal(region.name)}[]`, docs: ['The region table.'] },
    ],
  });
  sf.addTypeAlias({
    isExported: true, name: 'CheckResult', typeParameters: ['Rule extends string = string'],
    docs: ['What a validator says about a request: accepted, or the errno and the rule that refused it.'],
    type: '{ ok: true } | { ok: false; errno: ErrnoName; rule: Rule }',
  });
  for (const p of lower(spec).validators) {
    const v = p.validator;
    const req = pascal(v.request.name);
    const rules = ruleConst(v);
    sf.addVariableStatement({
      isExported: true, declarationKind: VariableDeclarationKind.Const,
      docs: [`The rules of {@link check${pascal(v.name)}}, in the order they are checked.`],
      declarations: [{ name: rules, initializer: `[${v.rules.map((r) => `'${r.name}'`).join(', ')}] as const` }],
    });
    sf.addFunction({
      isExported: true, name: `check${pascal(v.name)}`,
      docs: [doc(v.doc, ...v.rules.map((r, i) => `${i + 1}. \`${r.name}\` (${r.errno}): ${r.doc}`), '', '@param dev - The device state.', '@param req - The request payload.', '@returns The first rule that fails, or ok.')],
      parameters: [{ name: 'dev', type: pascal(device.name) }, { name: 'req', type: req }],
      returnType: `CheckResult<(typeof ${rules})[number]>`,
      statements: (w) => {
        for (const c of p.checks) {
          w.writeLine(`if (${failExpr(c, spec)}) return { ok: false, errno: '${c.rule.errno}', rule: '${c.rule.name}' };`);
          if (c.binds?.readLater === true) w.writeLine(`const ${c.binds.name} = regionAt(dev, ${operand(c.binds.index, spec).code});`);
        }
        w.writeLine('return { ok: true };');
      },
    });
    const newRegion = v.creates ? pascal(region.name) : null;
    sf.addFunction({
      isExported: true, name: `apply${pascal(v.name)}`,
      docs: [doc(`Applies what a successful {@link check${pascal(v.name)}} allows: ${v.effects.map((e) => `\`${targetName(e.target)}\``).join(', ')}.`, 'Call it only after the check said ok.', newRegion !== null ? '@returns The new region, to append to the table.' : '')],
      parameters: [{ name: 'dev', type: pascal(device.name) }, { name: 'req', type: req }],
      returnType: newRegion ?? 'void',
      statements: (w) => {
        for (const b of p.applyBindings) w.writeLine(`const ${b.name} = regionAt(dev, ${operand(b.index, spec).code});`);
        for (const e of p.effects) if (e.target.kind !== 'new') w.writeLine(`${targetName(e.target)} = ${exprCode(e.value, spec, e.width === 64)};`);
        if (p.created !== null) {
          w.writeLine('return {');
          w.indent(() => {
            for (const { field: f, value: e } of p.created!) {
              w.writeLine(`${f.name}: ${e !== null ? exprCode(e.value, spec, e.width === 64) : f.type === 'u64' ? '0n' : f.type === 'bool' ? 'false' : '0'},`);
            }
          });
          w.writeLine('};');
        }
        if (v.effects.length === 0) w.writeLine('void dev; void req;');
      },
    });
  }
  sf.addFunction({
    name: 'regionAt',
    docs: ['The region at `index`, which a lookup rule has checked against `num_regions`.'],
    parameters: [{ name: 'dev', type: pascal(device.name) }, { name: 'index', type: 'number' }],
    returnType: pascal(region.name),
    statements: [
      'const region = dev.regions[index];',
      "if (region === undefined) throw new RangeError(`device state: num_regions is ${dev.num_regions} but regions has ${dev.regions.length} entries`);",
      'return region;',
    ],
  });
}

function emitMmapRules(sf: Statements, spec: IR.Spec): void {
  if (spec.mmap === null) return;
  sf.addVariableStatement({
    isExported: true, declarationKind: VariableDeclarationKind.Const,
    docs: [doc(spec.mmap.doc, '', ...spec.mmap.rules.map((r) => `- \`${r.name}\` (${r.errno}): ${r.doc}`))],
    declarations: [{
      name: 'MmapRules',
      initializer: (w) => {
        w.write('[').newLine();
        w.indent(() => {
          for (const r of spec.mmap!.rules) w.writeLine(`{ rule: '${r.name}', errno: '${r.errno}' },`);
        });
        w.write('] as const');
      },
    }],
  });
  sf.addTypeAlias({ isExported: true, name: 'MmapRule', type: "(typeof MmapRules)[number]['rule']", docs: ['The name of a rule in {@link MmapRules}.'] });
}

function targetName(t: IR.EffectTarget): string {
  return t.kind === 'request' ? `req.${t.member.name}` : t.kind === 'new' ? `new.${t.field.name}` : `${t.binding}.${t.field.name}`;
}

// ---------------------------------------------------------------------------------------------
// Capability chains

function emitCapWalkerSupport(sf: Statements): void {
  sf.addClass({
    isExported: true, name: 'CapChainError', extends: 'Error',
    docs: ['A malformed capability chain: what is wrong and the buffer offset it concerns.'],
    properties: [
      { name: 'kind', isReadonly: true, type: CAP_ERRORS.map((e) => `'${e}'`).join(' | ') },
      { name: 'at', isReadonly: true, type: 'number', docs: ['The offset the chain pointed at (the buffer length for truncated).'] },
    ],
    ctors: [{
      parameters: [{ name: 'kind', type: "CapChainError['kind']" }, { name: 'at', type: 'number' }, { name: 'message', type: 'string' }],
      statements: ['super(`capability chain: ${message} (offset ${at})`);', "this.name = 'CapChainError';", 'this.kind = kind;', 'this.at = at;'],
    }],
  });
}

function emitCapWalker(sf: Statements, spec: IR.Spec, chain: ChainPlan): void {
  const { ioctl: info, info: arg, argsz, decoders } = chain;
  const argName = pascal(arg.name);
  const header = pascal(chain.header.name);
  const base = unprefixed(spec, arg.name);
  const capType = `${pascal(base)}CapEntry`;
  const replyType = `${pascal(base)}Reply`;

  sf.addTypeAlias({
    isExported: true, name: capType,
    docs: [`One capability of a ${info.name} reply: its offset in the buffer, its header and, for a capability the bindings know, its decoded payload.`],
    type: (w) => {
      for (const d of decoders) w.writeLine(`| { offset: number; header: ${header}; name: '${d.cap.name}'; value: ${pascal(d.struct.name)} }`);
      w.write(`| { offset: number; header: ${header}; name: null; value: null }`);
    },
  });
  sf.addTypeAlias({
    isExported: true, name: replyType,
    docs: [`A decoded ${info.name} reply. \`retry\` is set when the kernel needs a larger buffer: call again with argsz = retry.`],
    type: `{ info: ${argName}; caps: ${capType}[]; retry: number | null }`,
  });
  sf.addFunction({
    isExported: true, name: `parse${pascal(base)}Reply`,
    docs: [doc(
      `Decodes a ${info.name} reply buffer (its length is the argsz the caller gave) and walks its capability chain.`,
      'A DataView is read in place, so a caller with a scratch buffer allocates nothing but the result.',
      'Every offset is checked against the buffer; `next` must move forward, so a loop or a backwards pointer cannot make the walk run forever.',
      '@param bytes - The reply.',
      '@param options - `arch`: the architecture whose layouts the kernel wrote (default: the host\'s), as the codecs take it; upstream\'s natural-layout structs differ between LP64 and i386. Replies are decoded raw: reserved members are not the reader\'s to police.',
      '@throws {@link CapChainError} for a malformed chain.',
    )],
    parameters: [{ name: 'bytes', type: 'Uint8Array | DataView' }, { name: 'options', type: 'CodecOptions', initializer: '{}' }],
    returnType: replyType,
    statements: (w) => {
      // A natural-layout struct's size is its layout's under options.arch; the others' are literals.
      const sizeOf = (s: IR.Struct): string => (s.uniform ? String(s.size) : `${pascal(s.name)}.layout(options).size`);
      w.writeLine('const raw: CodecOptions = { raw: true, arch: options.arch };');
      w.writeLine(`const infoSize = ${sizeOf(arg)};`);
      w.writeLine(`if (bytes.byteLength < infoSize) throw new CapChainError('truncated', bytes.byteLength, \`reply of \${bytes.byteLength} bytes is shorter than struct ${arg.name}\`);`);
      w.writeLine('const view = bytes instanceof DataView ? bytes : new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);');
      w.writeLine(`const info = ${argName}.read(view, 0, raw);`);
      w.writeLine(`const hasCaps = (info.${chain.flags.name} & ${pascal(chain.flags.flags!.name)}.${chain.flag.name}) !== 0;`);
      w.writeLine(`if (hasCaps && info.${argsz.name} > bytes.byteLength) return { info, caps: [], retry: info.${argsz.name} };`);
      w.writeLine(`if (!hasCaps || info.${chain.start.name} === 0) return { info, caps: [], retry: null };`);
      w.writeLine(`const caps: ${capType}[] = [];`);
      w.writeLine('let prev = -1;');
      w.writeLine(`for (let off = info.${chain.start.name}; off !== 0; ) {`);
      w.indent(() => {
        // offsets only grow, so a capability already visited is at or before the previous one: the caps walked so far say which
        w.writeLine("if (off <= prev && caps.some((c) => c.offset === off)) throw new CapChainError('loop', off, 'next points at a capability already visited');");
        w.writeLine(`if (off < infoSize || off < prev) throw new CapChainError('backwards', off, 'next points backwards');`);
        w.writeLine(`if (off % ${chain.align} !== 0) throw new CapChainError('misaligned', off, 'capability offset is not a multiple of ${chain.align}');`);
        w.writeLine(`if (off + ${header}.size > bytes.byteLength) throw new CapChainError('out-of-bounds', off, 'capability header runs past the buffer');`);
        w.writeLine(`const header = ${header}.read(view, off);`);
        w.writeLine('let entry: ' + capType + ';');
        w.writeLine(`switch (header.${chain.id.name}) {`);
        w.indent(() => {
          for (const { cap: c, struct: s, size, flexible } of decoders) {
            w.writeLine(`case ${capGroup(arg)}.${c.name}: {`);
            w.indent(() => {
              const L = `${pascal(s.name)}.layout(options)`;
              const at = s.uniform ? String(size.lp64) : 'size';
              if (!s.uniform) w.writeLine(`const size = ${L}.size;`);
              w.writeLine(`if (off + ${at} > bytes.byteLength) throw new CapChainError('out-of-bounds', off, '${c.name} runs past the buffer');`);
              if (flexible !== null) {
                const t = flexible.count.type;
                if (t.kind !== 'int' || t.size > 4) throw new Error(`${s.name}.${flexible.count.name}: a count read as a number is at most 32 bits`);
                const countAt = s.uniform ? String(flexible.offset.lp64) : `${L}.offsets.${flexible.count.name}`;
                const stride = s.uniform ? String(flexible.elementSize.lp64) : `${L}.strides.${s.flexible!.name}`;
                w.writeLine(`const count = view.get${t.signed ? 'Int' : 'Uint'}${t.size * 8}(off + ${countAt}${t.size > 1 ? ', true' : ''});`);
                w.writeLine(`if (off + ${at} + count * ${stride} > bytes.byteLength) throw new CapChainError('out-of-bounds', off, '${c.name} elements run past the buffer');`);
              }
              w.writeLine(`entry = { offset: off, header, name: '${c.name}', value: ${pascal(s.name)}.read(view, off, raw) };`);
              w.writeLine('break;');
            });
            w.writeLine('}');
          }
          w.writeLine('default:');
          w.indent(() => w.writeLine('entry = { offset: off, header, name: null, value: null };'));
        });
        w.writeLine('}');
        w.writeLine('caps.push(entry);');
        w.writeLine('prev = off;');
        w.writeLine(`off = header.${chain.next.name};`);
      });
      w.writeLine('}');
      w.writeLine('return { info, caps, retry: null };');
    },
  });
}

