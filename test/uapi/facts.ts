/**
 * Ground truth for a uapi header: every named item of <linux/vfio.h> or <linux/iommufd.h> (or
 * <linux/userfaultfd.h>, for the second spec's fixture) of one kernel version, for one data model
 * (x86_64 `-m64`, i386 `-m32`).
 *
 * The parser here only finds NAMES (in the preprocessed header: `gcc -E -dD`, lines of the header
 * file itself); every number comes from the C compiler, printed by a generated program:
 *   - object-like #defines whose body is an integer constant expression (ioctl numbers `_IO…(…)`
 *     included; function-like macros, empty ones such as the include guard, and bodies that are not
 *     integer constants are listed as skipped, with the compiler's reason);
 *   - enum members (and named enum types);
 *   - structs and unions: sizeof, alignof, and every member's offset and size (offset only for a
 *     flexible array; members of anonymous nested structs and unions flattened under their own
 *     names, members of a named nested one as `outer.inner`).
 *
 * Facts are cached as JSON under ~/.cache/vfio-subregion/uapi/facts/, keyed by the preprocessed
 * header, the compiler, the data model and this extractor's version.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Bump when the extractor's output changes meaning (invalidates cached facts). */
const EXTRACTOR_VERSION = 2;

export type DataModel = 'x86_64' | 'i386';
export const DATA_MODELS: DataModel[] = ['x86_64', 'i386'];
export type HeaderName = 'linux/vfio.h' | 'linux/iommufd.h' | 'linux/userfaultfd.h';
/** The headers the project's own spec is checked against (test/uapi/coverage.test.ts). */
export const HEADERS: HeaderName[] = ['linux/vfio.h', 'linux/iommufd.h'];

/**
 * What a header needs included before it to compile on its own: 6.1's <linux/userfaultfd.h> uses
 * _IOWR without including <linux/ioctl.h> (its users include <sys/ioctl.h> first).
 */
const PRELUDE: Partial<Record<HeaderName, string[]>> = { 'linux/userfaultfd.h': ['linux/ioctl.h'] };

/** The #include lines of a program that uses header. */
function includes(header: HeaderName): string[] {
  return [...(PRELUDE[header] ?? []), header].map((h) => `#include <${h}>`);
}

export const CACHE = process.env.UAPI_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'vfio-subregion', 'uapi');
const HERE = dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------- header versions

export interface HeaderVersion {
  /** 6.1, 6.12, 7.2, 7.3 */
  version: string;
  /** The Debian linux-libc-dev version. */
  packageVersion: string;
  /** The unpacked package root ('/' for the system's own headers). */
  root: string;
  /** Seconds fetch.sh spent downloading and unpacking it now (0 when cached). */
  fetchSeconds: number;
}

export interface Versions {
  ok: HeaderVersion[];
  skipped: { version: string; reason: string }[];
  /** Wall time of fetch.sh, seconds. */
  seconds: number;
}

/** Runs test/uapi/fetch.sh: the headers of each version, downloaded once into the cache. */
export function fetchVersions(versions: string[] = []): Versions {
  const t0 = performance.now();
  const r = spawnSync('bash', [join(HERE, 'fetch.sh'), ...versions], { encoding: 'utf8', timeout: 900_000 });
  const out: Versions = { ok: [], skipped: [], seconds: 0 };
  if (r.status !== 0 && r.stdout.trim() === '') {
    for (const v of versions.length > 0 ? versions : ['6.1', '6.12', '7.2', '7.3']) out.skipped.push({ version: v, reason: `fetch.sh failed: ${(r.stderr ?? String(r.error)).trim().split('\n')[0]}` });
  }
  for (const line of r.stdout.split('\n')) {
    const f = line.split(' ');
    if (f[0] === 'OK') out.ok.push({ version: f[1]!, packageVersion: f[2]!, root: f[3]!, fetchSeconds: Number(f[4]) });
    else if (f[0] === 'SKIP') out.skipped.push({ version: f[1]!, reason: f.slice(2).join(' ') });
  }
  out.seconds = (performance.now() - t0) / 1000;
  return out;
}

// ---------------------------------------------------------------- facts

export interface MemberFact {
  /** The name offsetof() takes: `flags`, or `outer.inner` inside a named nested struct. */
  name: string;
  offset: number;
  /** Bytes; null for a flexible array (offset only) and for a bit-field. */
  size: number | null;
  flexible: boolean;
  bitfield: boolean;
}

export interface StructFact {
  kind: 'struct' | 'union';
  name: string;
  size: number;
  align: number;
  members: MemberFact[];
}

export interface ValueFact {
  name: string;
  /** The value, decimal (negative when the C expression is). */
  value: string;
  /** sizeof the expression's type. */
  bytes: number;
}

export interface MacroFact extends ValueFact {
  body: string;
  /** The body is an _IO/_IOR/_IOW/_IOWR request number. */
  ioctl: boolean;
  /** A string literal (VFIO_DEVICE_API_PCI_STRING): value is the string, bytes its sizeof. */
  string?: true;
}

export interface EnumMemberFact extends ValueFact {
  /** The enum's tag, or null for an anonymous enum. */
  enum: string | null;
}

export interface Facts {
  header: HeaderName;
  version: string;
  packageVersion: string;
  arch: DataModel;
  compiler: string;
  key: string;
  structs: StructFact[];
  /** Named enum types. */
  enums: { name: string; size: number; members: string[] }[];
  enumMembers: EnumMemberFact[];
  macros: MacroFact[];
  /** Macros of the header with no integer value, and why. */
  skippedMacros: { name: string; body: string; why: string }[];
}

/** The kinds of named items coverage counts. */
export type ItemKind = 'struct' | 'union' | 'enum' | 'enum member' | 'ioctl' | 'define';

export interface Item {
  kind: ItemKind;
  name: string;
}

/** Every named item of a facts file (what coverage is measured against). */
export function items(f: Facts): Item[] {
  return [
    ...f.structs.map((s) => ({ kind: s.kind, name: s.name })),
    ...f.enums.map((e) => ({ kind: 'enum' as const, name: e.name })),
    ...f.enumMembers.map((e) => ({ kind: 'enum member' as const, name: e.name })),
    ...f.macros.map((m) => ({ kind: m.ioctl ? ('ioctl' as const) : ('define' as const), name: m.name })),
  ];
}

/** A printed integer value as the unsigned bit pattern of its C type (a negative int such as 1 << 31 reads as 0x80000000). */
export function pattern(v: ValueFact): bigint {
  const x = BigInt(v.value);
  return x < 0n ? BigInt.asUintN(v.bytes * 8, x) : x;
}

function gcc(args: string[], input?: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync('gcc', args, { encoding: 'utf8', input, maxBuffer: 64 << 20 });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? String(r.error ?? '') };
}

let compilerVersion: string | null = null;

/** Why facts cannot be extracted for a data model here, or null. */
export function unavailable(arch: DataModel): string | null {
  if (gcc(['--version']).status !== 0) return 'gcc is not installed';
  if (arch === 'i386') {
    const dir = mkdtempSync(join(tmpdir(), 'uapi-m32-'));
    const r = gcc(['-m32', '-x', 'c', '-', '-o', join(dir, 'a.out')], '#include <stdio.h>\nint main(void) { return printf("x") < 0; }\n');
    rmSync(dir, { recursive: true, force: true });
    if (r.status !== 0) return `gcc -m32 cannot build a libc program here (install gcc-multilib): ${r.stderr.split('\n')[0]}`;
  }
  return null;
}

/** Compiler flags that make `#include <linux/…>` find the given version's headers. */
export function includeFlags(v: HeaderVersion, arch: DataModel): string[] {
  const m = arch === 'i386' ? ['-m32'] : ['-m64'];
  if (v.root === '/') return m;
  const inc = join(v.root, 'usr/include');
  const triplet = join(inc, arch === 'i386' ? 'i386-linux-gnu' : 'x86_64-linux-gnu');
  return [...m, ...(existsSync(triplet) ? ['-isystem', triplet] : []), '-isystem', inc];
}

/** Where a version's header file is, or null when that version has none. */
export function headerPath(v: HeaderVersion, header: HeaderName): string | null {
  const p = join(v.root === '/' ? '/usr/include' : join(v.root, 'usr/include'), header);
  return existsSync(p) ? p : null;
}

// ---- the preprocessed header: macros (from -dD) and code lines, of the header file only

interface Preprocessed {
  text: string;
  defines: { name: string; body: string; functionLike: boolean }[];
  code: string;
}

function preprocess(header: HeaderName, flags: string[]): Preprocessed {
  const r = gcc([...flags, '-E', '-dD', '-x', 'c', '-'], `${includes(header).join('\n')}\n`);
  if (r.status !== 0) throw new Error(`gcc -E of <${header}> failed:\n${r.stderr}`);
  const defines: Preprocessed['defines'] = [];
  const code: string[] = [];
  let mine = false;
  for (const line of r.stdout.split('\n')) {
    const marker = /^# \d+ "([^"]*)"/.exec(line);
    if (marker !== null) { mine = marker[1]!.endsWith(`/${header}`); continue; }
    if (!mine) continue;
    const d = /^#define ([A-Za-z_]\w*)(\([^)]*\))?\s*(.*)$/.exec(line);
    if (d !== null) { defines.push({ name: d[1]!, functionLike: d[2] !== undefined, body: d[3]!.trim() }); continue; }
    if (line.startsWith('#')) continue;
    code.push(line);
  }
  return { text: r.stdout, defines, code: code.join('\n') };
}

// ---- names of structs, unions, enums and their members, from the code tokens

type Tok = string;

function tokenize(src: string): Tok[] {
  const re = /\s+|\/\*[\s\S]*?\*\/|\/\/[^\n]*|("(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|[A-Za-z_]\w*|0[xX][0-9a-fA-F]+\w*|\d+\w*|->|<<|>>|[^\s])/g;
  const out: Tok[] = [];
  for (let m = re.exec(src); m !== null; m = re.exec(src)) if (m[1] !== undefined) out.push(m[1]);
  return out;
}

interface Aggregate {
  kind: 'struct' | 'union';
  name: string;
  members: { name: string; flexible: boolean; bitfield: boolean }[];
}

interface Names {
  aggregates: Aggregate[];
  enums: { name: string | null; members: string[] }[];
}

function findNames(code: string): Names {
  const t = tokenize(code);
  const names: Names = { aggregates: [], enums: [] };
  let i = 0;

  const skipGroup = (): void => {	// t[i] is an opener: skip to past its closer
    const open = t[i]!, close = ({ '(': ')', '[': ']', '{': '}' } as Record<string, string>)[open]!;
    let depth = 0;
    for (; i < t.length; i++) {
      if (t[i] === open) depth++;
      else if (t[i] === close && --depth === 0) { i++; return; }
    }
  };
  const skipAttributes = (): void => {
    while (t[i] === '__attribute__' || t[i] === '__extension__') { i++; if (t[i] === '(') skipGroup(); }
  };

  /** t[i] is after `enum [tag]`, at `{` */
  const enumBody = (tag: string | null): void => {
    const members: string[] = [];
    i++;
    let expectName = true;
    let depth = 0;
    for (; i < t.length; i++) {
      const x = t[i]!;
      if (depth === 0 && x === '}') { i++; break; }
      if (x === '(' || x === '[') depth++;
      else if (x === ')' || x === ']') depth--;
      else if (depth === 0 && x === ',') expectName = true;
      else if (expectName && /^[A-Za-z_]\w*$/.test(x)) { members.push(x); expectName = false; }
    }
    names.enums.push({ name: tag, members });
  };

  /** t[i] is at `{` of a struct/union body: its members, flattened */
  const body = (): Aggregate['members'] => {
    const members: Aggregate['members'] = [];
    i++;
    while (i < t.length && t[i] !== '}') {
      skipAttributes();
      let nested: Aggregate['members'] | null = null;
      if ((t[i] === 'struct' || t[i] === 'union') && (t[i + 1] === '{' || t[i + 2] === '{')) {
        const kind = t[i] as 'struct' | 'union';
        i++;
        let tag: string | null = null;
        if (t[i] !== '{') tag = t[i++]!;
        nested = body();
        if (tag !== null) names.aggregates.push({ kind, name: tag, members: nested });
      } else if (t[i] === 'enum' && (t[i + 1] === '{' || t[i + 2] === '{')) {
        i++;
        const tag = t[i] !== '{' ? t[i++]! : null;
        enumBody(tag);
      }
      // declarators up to `;`
      const decls: Tok[][] = [[]];
      while (i < t.length && t[i] !== ';') {
        if (t[i] === '__attribute__') { skipAttributes(); continue; }
        if (t[i] === '(' || t[i] === '[' || t[i] === '{') {
          const from = i;
          skipGroup();
          decls[decls.length - 1]!.push(...t.slice(from, i));
          continue;
        }
        if (t[i] === ',') decls.push([]);
        else decls[decls.length - 1]!.push(t[i]!);
        i++;
      }
      i++;	// ;
      if (nested !== null && decls.length === 1 && decls[0]!.length === 0) {
        members.push(...nested);	// anonymous: flattened under the members' own names
        continue;
      }
      for (const d of decls) {
        // the name: the last identifier outside brackets, before any bit-field width
        let name: string | null = null, flexible = false, bitfield = false, depth = 0;
        for (let k = 0; k < d.length; k++) {
          const x = d[k]!;
          if (x === '[') { if (depth === 0 && (d[k + 1] === ']' || (d[k + 1] === '0' && d[k + 2] === ']'))) flexible = true; depth++; }
          else if (x === ']') depth--;
          else if (depth === 0 && x === ':') { bitfield = true; break; }
          else if (depth === 0 && /^[A-Za-z_]\w*$/.test(x) && !['const', 'volatile', 'struct', 'union', 'enum', 'signed', 'unsigned'].includes(x)) name = x;
        }
        if (name === null) continue;
        members.push({ name, flexible, bitfield });
        if (nested !== null) for (const n of nested) members.push({ ...n, name: `${name}.${n.name}` });
      }
    }
    i++;	// }
    return members;
  };

  while (i < t.length) {
    const x = t[i]!;
    if ((x === 'struct' || x === 'union') && /^[A-Za-z_]\w*$/.test(t[i + 1] ?? '')) {
      const name = t[i + 1]!;
      i += 2;
      skipAttributes();
      if (t[i] === '{') names.aggregates.push({ kind: x, name, members: body() });
      continue;
    }
    if (x === 'enum' && (t[i + 1] === '{' || t[i + 2] === '{')) {
      i++;
      const tag = t[i] !== '{' ? t[i++]! : null;
      enumBody(tag);
      continue;
    }
    i++;
  }
  return names;
}

// ---- the generated programs

/** Drops the macros whose body is not an integer constant expression (the compiler decides). */
function integerMacros(header: HeaderName, flags: string[], defs: Preprocessed['defines']): { keep: Preprocessed['defines']; skipped: Facts['skippedMacros'] } {
  const skipped: Facts['skippedMacros'] = [];
  let keep = defs.filter((d) => {
    if (d.functionLike) skipped.push({ name: d.name, body: d.body, why: 'function-like macro' });
    else if (d.body === '') skipped.push({ name: d.name, body: d.body, why: 'empty body' });
    else return true;
    return false;
  });
  for (let round = 0; round < 4; round++) {
    const lines = includes(header);
    const first = lines.length + 1;
    for (const d of keep) lines.push(`static const char ck_${d.name}[__builtin_classify_type(${d.name}) <= 4 ? 1 : -1] = { 0 }; static const unsigned long long v_${d.name} = (unsigned long long)(${d.name});`);
    const r = gcc([...flags, '-fsyntax-only', '-fmax-errors=0', '-w', '-x', 'c', '-'], lines.join('\n') + '\n');
    if (r.status === 0) return { keep, skipped };
    const bad = new Map<number, string>();
    for (const m of r.stderr.matchAll(/^<stdin>:(\d+):\d+: error: (.*)$/gm)) {
      const k = Number(m[1]) - first;
      if (k >= 0 && k < keep.length && !bad.has(k)) bad.set(k, m[2]!);
    }
    if (bad.size === 0) throw new Error(`the macro check program for <${header}> does not compile, and no error names a macro line:\n${r.stderr}`);
    keep = keep.filter((d, k) => {
      if (!bad.has(k)) return true;
      skipped.push({ name: d.name, body: d.body, why: `not an integer constant: ${bad.get(k)}` });
      return false;
    });
  }
  throw new Error(`the macro check program for <${header}> still fails after 4 rounds`);
}

function valueLine(k: number, expr: string): string {
  return `\tif ((${expr}) < 0) printf("${k} %lld %d\\n", (long long)(${expr}), (int)sizeof(${expr})); else printf("${k} %llu %d\\n", (unsigned long long)(${expr}), (int)sizeof(${expr}));`;
}

export interface ExtractOptions {
  /** Ignore a cached facts file. */
  fresh?: boolean;
}

/** Facts of one header, version and data model; from the cache when its key matches. */
export function extract(header: HeaderName, v: HeaderVersion, arch: DataModel, opts: ExtractOptions = {}): Facts {
  const flags = includeFlags(v, arch);
  if (compilerVersion === null) compilerVersion = gcc(['-dumpfullversion']).stdout.trim();
  const pre = preprocess(header, flags);
  const key = createHash('sha256').update(`${EXTRACTOR_VERSION}\0${compilerVersion}\0${arch}\0${pre.text}`).digest('hex').slice(0, 24);
  const file = factsFile(header, v.version, arch);
  if (opts.fresh !== true && existsSync(file)) {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as Facts;
    if (cached.key === key) return cached;
  }

  const names = findNames(pre.code);
  const { keep, skipped } = integerMacros(header, flags, pre.defines);
  const body: string[] = [];
  type Slot = (value: string, bytes: number) => void;
  const slots: Slot[] = [];
  const facts: Facts = {
    header, version: v.version, packageVersion: v.packageVersion, arch, compiler: `gcc ${compilerVersion}`, key,
    structs: [], enums: [], enumMembers: [], macros: [], skippedMacros: skipped,
  };
  const num = (expr: string, set: (n: number) => void): void => {
    body.push(valueLine(slots.length, expr));
    slots.push((value) => set(Number(value)));
  };

  for (const a of names.aggregates) {
    const T = `${a.kind} ${a.name}`;
    const s: StructFact = { kind: a.kind, name: a.name, size: 0, align: 0, members: [] };
    facts.structs.push(s);
    num(`sizeof(${T})`, (n) => { s.size = n; });
    num(`_Alignof(${T})`, (n) => { s.align = n; });
    for (const m of a.members) {
      if (m.name.startsWith('__empty_') || m.name.includes('.__empty_')) continue;	// __DECLARE_FLEX_ARRAY's placeholder
      const mf: MemberFact = { name: m.name, offset: -1, size: null, flexible: m.flexible, bitfield: m.bitfield };
      s.members.push(mf);
      if (m.bitfield) continue;
      num(`offsetof(${T}, ${m.name})`, (n) => { mf.offset = n; });
      if (!m.flexible) num(`sizeof(((${T} *)0)->${m.name})`, (n) => { mf.size = n; });
    }
  }
  for (const e of names.enums) {
    if (e.name !== null) {
      const ef = { name: e.name, size: 0, members: e.members };
      facts.enums.push(ef);
      num(`sizeof(enum ${e.name})`, (n) => { ef.size = n; });
    }
    for (const m of e.members) {
      const mf: EnumMemberFact = { name: m, enum: e.name, value: '', bytes: 0 };
      facts.enumMembers.push(mf);
      body.push(valueLine(slots.length, m));
      slots.push((value, bytes) => { mf.value = value; mf.bytes = bytes; });
    }
  }
  for (const d of skipped.filter((x) => /^"/.test(x.body) && x.why.startsWith('not an integer'))) {
    skipped.splice(skipped.indexOf(d), 1);
    const mf: MacroFact = { name: d.name, body: d.body, ioctl: false, string: true, value: '', bytes: 0 };
    facts.macros.push(mf);
    body.push(`\tprintf("${slots.length} %s %d\\n", ${d.name}, (int)sizeof(${d.name}));`);
    slots.push((value, bytes) => { mf.value = value; mf.bytes = bytes; });
  }
  for (const d of keep) {
    const mf: MacroFact = { name: d.name, body: d.body, ioctl: /\b_IO(R|W|WR)?\s*\(/.test(d.body), value: '', bytes: 0 };
    facts.macros.push(mf);
    body.push(valueLine(slots.length, d.name));
    slots.push((value, bytes) => { mf.value = value; mf.bytes = bytes; });
  }

  const src = ['#include <stddef.h>', '#include <stdio.h>', ...includes(header), '', 'int main(void)', '{', ...body, '\treturn 0;', '}', ''].join('\n');
  const dir = mkdtempSync(join(tmpdir(), 'uapi-facts-'));
  try {
    writeFileSync(join(dir, 'facts.c'), src);
    const b = gcc([...flags, '-w', join(dir, 'facts.c'), '-o', join(dir, 'facts')]);
    if (b.status !== 0) throw new Error(`the facts program for <${header}> ${v.version} ${arch} does not build (kept in ${dir}):\n${b.stderr}`);
    const r = spawnSync(join(dir, 'facts'), { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`the facts program for <${header}> ${v.version} ${arch} exited ${r.status}`);
    const seen = new Set<number>();
    for (const line of r.stdout.trim().split('\n')) {
      const m = /^(\d+) (.*) (\d+)$/.exec(line);
      if (m === null) throw new Error(`the facts program printed an unexpected line: ${line}`);
      const [, k, value, bytes] = m;
      slots[Number(k)]!(value!, Number(bytes));
      seen.add(Number(k));
    }
    if (seen.size !== slots.length) throw new Error(`the facts program printed ${seen.size} of ${slots.length} values`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(facts, null, 1) + '\n');
  return facts;
}

export function factsFile(header: HeaderName, version: string, arch: DataModel): string {
  return join(CACHE, 'facts', `${header.replace(/^linux\//, '').replace(/\.h$/, '')}-${version}-${arch}.json`);
}

// ---------------------------------------------------------------- history

export interface Span {
  kind: ItemKind;
  /** The first and the last version (of those given) whose header has the item. */
  first: string;
  last: string;
  /** Versions between first and last that lack it (normally none). */
  gaps?: string[];
}

/** For each item of a header, the first and last version that has it; facts must be in version order. */
export function history(perVersion: Facts[]): Record<string, Span> {
  const out: Record<string, Span> = {};
  perVersion.forEach((f, k) => {
    for (const it of items(f)) {
      const key = `${it.kind} ${it.name}`;
      const span = out[key];
      if (span === undefined) {
        out[key] = { kind: it.kind, first: f.version, last: f.version };
        continue;
      }
      const lastIndex = perVersion.findIndex((g) => g.version === span.last);
      if (lastIndex < k - 1) span.gaps = [...(span.gaps ?? []), ...perVersion.slice(lastIndex + 1, k).map((g) => g.version)];
      span.last = f.version;
    }
  });
  return out;
}

/** Compares versions such as 6.1 < 6.12 < 7.2. */
export function versionOrder(a: string, b: string): number {
  const x = a.split('.').map(Number), y = b.split('.').map(Number);
  for (let k = 0; k < Math.max(x.length, y.length); k++) if ((x[k] ?? 0) !== (y[k] ?? 0)) return (x[k] ?? 0) - (y[k] ?? 0);
  return 0;
}
