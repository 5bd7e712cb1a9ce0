/**
 * The one printer every emitter prints through. Emitters decide what to say; this module decides
 * how it reads in each target's syntax:
 *
 * - doc comments: one greedy word-wrapping algorithm (wrap) and one width policy (WIDTH), rendered
 *   as C kernel-doc blocks, TSDoc / AssemblyScript `/** *\/` blocks, `//` and WIT `///` line
 *   comments, and Markdown paragraphs;
 * - names: one word splitter (words) from which pascal, camel, snake and upper (macro) case derive;
 * - numbers: one rule (HEX_FROM) for when a value prints in hex, spelled per target (C suffixes,
 *   TS bigint `n`);
 * - the preamble every generated file starts with: the generated-file marker, the generator's name
 *   and version, and the command that regenerates the file.
 */
import type { Spec } from '../ir.js';
import { PACKAGE } from '../package.js';

// ---------------------------------------------------------------------------------------------
// Width and wrapping

/** The comment syntaxes the emitters print. */
export type Syntax = 'c' | 'ts' | 'as' | 'wit' | 'md';

/**
 * The width policy: no wrapped line is wider than this many columns (tabs at 8) unless one word
 * is. C follows the kernel's 80 columns (checkpatch); every other target allows 100.
 */
export const WIDTH: Record<Syntax, number> = { c: 80, ts: 100, as: 100, wit: 100, md: 100 };

/** Display width of a line, tabs expanded to 8 columns as kernel style assumes. */
export function columns(s: string): number {
  let col = 0;
  for (const ch of s) col = ch === '\t' ? col + 8 - (col % 8) : col + 1;
  return col;
}

/**
 * The wrapping algorithm, the only one: greedy, words are split at whitespace only, so a long word
 * (a URL, a path, an identifier) is never broken and stands alone on a line that may be wider than
 * `width`. The first line starts with `first`, the others with `rest`; trailing blanks are dropped.
 */
export function wrap(text: string, first: string, rest: string, width: number): string[] {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const w of units(text)) {
    const candidate = empty ? line + w : `${line} ${w}`;
    if (!empty && columns(candidate) > width) {
      lines.push(line);
      line = rest + w;
    } else {
      line = candidate;
    }
    empty = false;
  }
  lines.push(line.replace(/\s+$/, ''));
  return lines;
}

/**
 * A word that would change meaning at the start of a continuation line: a tag or kernel-doc member
 * (`@x`), a list marker (`-`, `*`, `1.`), a heading (`#`), a quote (`>`), a setext rule (`---`).
 */
const LINE_START_SENSITIVE = /^(?:@\S|[-+*>=]+$|#{1,6}$|\d+[.)]$)/;

/**
 * The unbreakable units of text: its words, except that a `code span` stays whole and a
 * line-start-sensitive word stays with the one before.
 */
function units(text: string): string[] {
  const out: string[] = [];
  let inCode = false;
  for (const w of text.split(/\s+/)) {
    if (w === '') continue;
    if (out.length > 0 && (inCode || LINE_START_SENSITIVE.test(w))) out[out.length - 1] += ` ${w}`;
    else out.push(w);
    if ((w.split('`').length - 1) % 2 === 1) inCode = !inCode;
  }
  return out;
}

/** A list marker at the start of a line of doc text: `- `, `* `, `1. `. */
const LIST_ITEM = /^(\s*)([-*]|\d+\.)\s+/;

/**
 * Doc text as wrapped lines under a line prefix (` * `, `/// `, ``): every line of the text is a
 * paragraph of its own (empty lines are kept, as prefix without trailing blanks), a line's leading
 * indentation is kept, and a list item continues under its text (a hanging indent).
 */
export function wrapDoc(text: string, prefix: string, width: number): string[] {
  const out: string[] = [];
  for (const raw of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (raw.trim() === '') { out.push(prefix.trimEnd()); continue; }
    const lead = /^\s*/.exec(raw)![0];
    const item = LIST_ITEM.exec(raw);
    const hang = item !== null ? ' '.repeat(item[0].length) : lead;
    out.push(...wrap(raw.trim(), prefix + lead, prefix + hang, width));
  }
  return out;
}

/** Doc text without blank lines at either end; `*\/` escaped so no comment can end early. */
function clean(text: string): string {
  return text.replace(/\*\//g, '*\\/').replace(/^\s*\n|\n\s*$/g, '').replace(/[ \t]+$/gm, '');
}

// ---- C (kernel-doc)

/**
 * A kernel-doc line: a name line (`name - brief`) or an `@member: text` item, whose continuation
 * lines are indented by a tab.
 */
export const cItem = (text: string): string[] => wrap(clean(text), ' * ', ' *\t', WIDTH.c);
/** A prose paragraph of a C block comment. */
export const cProse = (text: string): string[] => wrap(clean(text), ' * ', ' * ', WIDTH.c);

/**
 * A C block comment (`/*`, or `/**` for kernel-doc) of paragraphs already wrapped with cItem and
 * cProse (each line starts with ` * `), separated by ` *` lines.
 */
export function cComment(paragraphs: string[][], opener: '/*' | '/**' = '/*', indent = ''): string[] {
  const out = [`${indent}${opener}`];
  paragraphs.forEach((p, i) => {
    if (i > 0) out.push(`${indent} *`);
    out.push(...p.map((l) => indent + l));
  });
  out.push(`${indent} */`);
  return out;
}

// ---- TSDoc and AssemblyScript

/**
 * A `/** ... *\/` doc comment (TSDoc, AssemblyScript) at `indent`: on one line when it fits and
 * the text is one paragraph, else one ` * ` line per wrapped line. Nothing for empty text.
 */
export function jsDoc(text: string, indent = '', syntax: 'ts' | 'as' = 'as'): string[] {
  return jsDocLines(text, columns(indent), syntax).map((l) => indent + l);
}

/** jsDoc's lines without the indentation, for writers that indent themselves (`indentCols` still counts). */
export function jsDocLines(text: string, indentCols: number, syntax: 'ts' | 'as'): string[] {
  const body = jsDocBody(text, indentCols, syntax);
  if (body === '') return [];
  if (!body.startsWith('\n')) return [`/** ${body} */`];
  return ['/**', ...body.slice(1).split('\n').map((l) => ` *${l === '' ? '' : ` ${l}`}`), ' */'];
}

/**
 * Every `/** ... *\/` doc comment that starts a line of printed TypeScript (ts-morph writes each
 * doc text whole, a paragraph or tag per line), rewritten as jsDoc prints it at its indentation.
 */
export function tsDocComments(source: string): string {
  return source.replace(/^([ \t]*)\/\*\*([\s\S]*?)\*\//gm, (_all, indent: string, inner: string) => {
    const text = inner.includes('\n') ? inner.split('\n').map((l) => l.replace(/^\s*\* ?/, '')).join('\n') : inner.trim();
    return jsDoc(text, indent, 'ts').join('\n');
  });
}

function jsDocBody(text: string, indentCols: number, syntax: 'ts' | 'as'): string {
  const t = clean(text);
  if (t.trim() === '') return '';
  const width = WIDTH[syntax];
  const one = t.replace(/\s+/g, ' ').trim();
  if (!t.includes('\n') && indentCols + columns(`/** ${one} */`) <= width) return one;
  return `\n${wrapDoc(t, '', width - indentCols - 3).join('\n')}`;
}

// ---- Line comments: `//` (TS, AS, WIT) and WIT's `///` doc comments

/** Doc text as `//` (or `///`) lines at `indent`, wrapped like every other comment. */
export function lineComment(text: string, indent = '', marker: '//' | '///' = '//', syntax: Syntax = 'as'): string[] {
  const t = clean(text);
  if (t.trim() === '') return [];
  return wrapDoc(t, `${indent}${marker} `, WIDTH[syntax]);
}

/** A WIT `///` doc comment. */
export const witDoc = (text: string, indent = ''): string[] => lineComment(text, indent, '///', 'wit');

// ---- Markdown

/** A Markdown paragraph (or list item, continued under its text), wrapped; soft breaks render as spaces. */
export function mdParagraph(text: string): string[] {
  return wrapDoc(text.trim(), '', WIDTH.md);
}

// ---------------------------------------------------------------------------------------------
// Names

/**
 * The words of a spec name: split at anything but letters and digits, and at a case change inside
 * a token (regionInfo -> region, Info; HTTPServer -> HTTP, Server). Digits stay with the letters
 * before them, and so does a lowercase run after digits, as in a kernel name's version suffix
 * (IOMMU_TYPE1v2_CAP -> IOMMU, TYPE1v2, CAP).
 */
export function words(name: string): string[] {
  const out: string[] = [];
  for (const token of name.split(/[^A-Za-z0-9]+/)) {
    if (token === '') continue;
    out.push(...token.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/([A-Z])(?=[A-Z][a-z])/g, '$1 ').split(' '));
  }
  return out;
}

const capitalized = (w: string): string => w[0]!.toUpperCase() + w.slice(1).toLowerCase();

/** region_info -> RegionInfo; IOMMU_TYPE1v2_CAP -> IommuType1v2Cap. */
export const pascal = (name: string): string => words(name).map(capitalized).join('');
/** region_info -> regionInfo; IOMMU_TYPE1v2_CAP -> iommuType1v2Cap. */
export const camel = (name: string): string => {
  const p = pascal(name);
  return p === '' ? p : p[0]!.toLowerCase() + p.slice(1);
};
/** RegionInfo, region-info -> region_info. */
export const snake = (name: string): string => words(name).map((w) => w.toLowerCase()).join('_');
/** flags-zero, subregion_create -> FLAGS_ZERO, SUBREGION_CREATE (C macro case). */
export const upper = (name: string): string => words(name).map((w) => w.toUpperCase()).join('_');

// ---------------------------------------------------------------------------------------------
// Numbers

/**
 * What a value is, which decides how it reads: a bit pattern (flag bits, masks, ioctl request
 * numbers) or a quantity (counts, sizes, ids, enum values, alignments).
 */
export type NumberRole = 'bits' | 'quantity' | 'hex';

/**
 * The number rule, the only one: a value prints in hex from this magnitude on, in decimal below.
 * Bit patterns are hex as soon as hex differs from decimal; quantities from 4096 (a page), where
 * round powers of two read better in hex; a value the spec spelled in hex always.
 */
export const HEX_FROM: Record<NumberRole, bigint> = { bits: 10n, quantity: 4096n, hex: 0n };

/**
 * The role of a named value: a flag bit or a flag set's mask (`source`), or a constant whose name
 * says MASK, is a bit pattern; anything else is a quantity.
 */
export const constantRole = (name: string, source?: string): NumberRole =>
  (source === 'flag' || source === 'flagset' || /MASK/i.test(name) ? 'bits' : 'quantity');

/** The role of a constant of the spec: hex when the spec wrote it in hex, else by its name. */
export const specConstantRole = (c: { name: string; hex: boolean }): NumberRole => (c.hex ? 'hex' : constantRole(c.name));

/** Whether the rule prints v in hex. */
export const isHex = (v: bigint, role: NumberRole): boolean => (v < 0n ? -v : v) >= HEX_FROM[role];

/** The digits of v under the rule (`0x1000`, `64`, `-0x1000`): what TS, AS and Markdown print. */
export function digits(v: bigint, role: NumberRole): string {
  const m = v < 0n ? -v : v;
  return `${v < 0n ? '-' : ''}${isHex(v, role) ? `0x${m.toString(16)}` : m.toString()}`;
}

/**
 * A C integer literal for an unsigned value of a `width`-bit type: ULL when the type or the value
 * is wider than 32 bits, U for a hex literal or a value that int cannot hold, none otherwise.
 */
export function cUnsigned(v: bigint, width: number, role: NumberRole): string {
  if (v < 0n) throw new Error(`cUnsigned: ${v} is negative`);
  const hex = isHex(v, role);
  const body = digits(v, role);
  if (width > 32 || v > 0xffffffffn) return `${body}ULL`;
  return v > 0x7fffffffn || hex ? `${body}U` : body;
}

/**
 * The value of a #define as kernel uapi headers spell it, so the macro has the type the kernel's
 * has: a bare literal (int) while int holds the value, U while only unsigned int does, ULL beyond
 * (a ULL on a small value would make it 64-bit, on i386 too); parenthesized unless it is plain
 * decimal digits, as kernel headers write `#define X_BASE 100` and `#define X_MASK (0xffff)`.
 */
export function cDefineValue(v: bigint, role: NumberRole): string {
  const body = digits(v, role);
  const suffix = v < 0n || v <= 0x7fffffffn ? '' : v <= 0xffffffffn ? 'U' : 'ULL';
  return /^\d+$/.test(body) ? body : `(${body}${suffix})`;
}

/** A TypeScript number literal, or a bigint one (`n`) when asked or when a number cannot hold v exactly. */
export function tsNumber(v: bigint, role: NumberRole, bigint = false): string {
  const big = bigint || v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER);
  return `${digits(v, role)}${big ? 'n' : ''}`;
}

/** An AssemblyScript integer literal (its integer types hold every 64-bit value). */
export const asNumber = (v: bigint, role: NumberRole): string => digits(v, role);

// WIT has no value literals (an interface declares types and functions only): nothing to print.

// ---------------------------------------------------------------------------------------------
// Preamble

export const GENERATOR = `${PACKAGE.name} codegen`;

/** The marker line every generated file carries (the Go convention linters recognise). */
export function generatedLine(spec: Spec): string {
  return `Code generated by ${GENERATOR} from ${spec.file}. DO NOT EDIT.`;
}

/** Matches the marker in any generated file, whatever its comment syntax. */
export const GENERATED_MARKER = /Code generated by \S+ codegen from (\S+)\. DO NOT EDIT\./;

/**
 * The command that regenerates a target's files: `npm run gen` for the package's default spec in
 * the package, else the CLI with that spec and target, run in the output root.
 */
export function regenerateCommand(spec: Spec, target: string): string {
  if (spec.regenerateSpec === null) return 'npm run gen';
  return `${PACKAGE.name} generate --spec ${spec.regenerateSpec} --out . --target ${target}`;
}

/**
 * The preamble of a generated file, without comment syntax: the marker (one line, never wrapped:
 * GENERATED_MARKER must find it whole), the generator and its version (package.json's, so the
 * output is the same on every run), and the command that regenerates the file.
 */
export function preamble(spec: Spec, target: string): string[] {
  return [generatedLine(spec), `Generator: ${GENERATOR} ${PACKAGE.version}`, `Regenerate: ${regenerateCommand(spec, target)}`];
}

/**
 * The preamble in a target's comment syntax: `c` gives the first paragraph of a cComment (the file's
 * first block comment), `line` gives `//` lines, `md` an HTML comment.
 */
export function preambleComment(spec: Spec, target: string, syntax: 'c' | 'line' | 'md'): string[] {
  const lines = preamble(spec, target);
  if (syntax === 'md') return [`<!-- ${lines[0]}`, ...lines.slice(1).map((l) => `     ${l}`), '-->'];
  return lines.map((l) => `${syntax === 'c' ? ' * ' : '// '}${l}`);
}
