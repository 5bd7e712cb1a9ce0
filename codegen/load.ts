import { dirname, relative, resolve } from 'node:path';
import { SpecError, type Diagnostic } from './diagnostics.js';
import type { ImportedUapi, Spec } from './ir.js';
import { readJsonFile, type JsonSource } from './json-source.js';
import { resolveSpec } from './resolve.js';
import { validateAgainst } from './schema.js';
import { ROOT } from './paths.js';
import { DEFAULT_SPEC_FILE } from './package.js';

export { ROOT };
export const SCHEMA = resolve(ROOT, 'spec/schema/abi.schema.json');
/** The spec the CLI reads without --spec: package.json's codegen.spec. */
export const DEFAULT_SPEC = resolve(ROOT, DEFAULT_SPEC_FILE);

/**
 * The sections an import contributes to the importing spec's one namespace. Everything else
 * (name, targets, uapi, state, validators, mmap, mmio) is the importing spec's own; feature-ioctl
 * is the importing spec's, else the first imported spec's that has one.
 */
export const SHARED_SECTIONS = ['constants', 'enums', 'flags', 'structs', 'capabilities', 'fd-kinds', 'ioctls', 'features'] as const;
type Section = (typeof SHARED_SECTIONS)[number];

/** A spec file as read: its source and its name as diagnostics and the IR show it. */
interface SpecFile { src: JsonSource; name: string; path: string }

const shownName = (file: string): string => {
  const rel = relative(ROOT, resolve(file)).split('\\').join('/');
  return rel.startsWith('..') ? (relative(process.cwd(), file) || file) : rel;
};

function readSpecFile(file: string): SpecFile {
  const name = shownName(file);
  const src = readJsonFile(file, name);
  const doc = src.value as { $schema?: unknown };
  if (typeof doc === 'object' && doc !== null && typeof doc.$schema === 'string' && !doc.$schema.endsWith('abi.schema.json'))
    throw new SpecError([src.at('/$schema', `this tool reads specs written for abi.schema.json, not ${doc.$schema}`)]);
  validateAgainst(SCHEMA, src);
  return { src, name, path: resolve(file) };
}

/**
 * The spec and every spec it imports, transitively, in the order their elements are merged: each
 * imported spec before the spec that imports it (depth first, in "imports" order), each file once.
 * An import is a path relative to the importing spec's folder. A cycle is an error at the import
 * that closes it.
 */
function collect(file: string): SpecFile[] {
  const out: SpecFile[] = [];
  const done = new Set<string>();
  const visit = (path: string, stack: SpecFile[], from: Diagnostic | null): void => {
    if (done.has(path)) return;
    const cycle = stack.findIndex((s) => s.path === path);
    if (cycle >= 0) {
      const names = [...stack.slice(cycle).map((s) => s.name), stack[cycle]!.name];
      throw new SpecError([{ ...from!, message: `import cycle: ${names.join(' -> ')}` }]);
    }
    let f: SpecFile;
    try {
      f = readSpecFile(path);
    } catch (e) {
      // a file that cannot be read is reported at the import that names it
      if (from !== null && e instanceof SpecError && e.diagnostics.length === 1 && e.diagnostics[0]!.line === 0)
        throw new SpecError([{ ...from, message: `cannot import ${shownName(path)}: ${e.diagnostics[0]!.message}` }]);
      throw e;
    }
    const imports = (f.src.value as { imports?: string[] }).imports ?? [];
    imports.forEach((imp, i) => visit(resolve(dirname(path), imp), [...stack, f], f.src.at(`/imports/${i}`, '')));
    done.add(path);
    out.push(f);
  };
  visit(resolve(file), [], null);
  return out;
}

/** The merged document: every shared section of every file, imported ones first; each element remembers its file. */
interface Merged {
  value: Record<string, unknown>;
  /** For each merged section, where each element came from: its file and its index there. */
  from: Record<Section, { file: SpecFile; index: number }[]>;
  files: SpecFile[];
}

function merge(files: SpecFile[]): Merged {
  const root = files[files.length - 1]!;
  const value: Record<string, unknown> = { ...(root.src.value as Record<string, unknown>) };
  delete value.imports;
  const from = {} as Merged['from'];
  for (const section of SHARED_SECTIONS) {
    const items: unknown[] = [];
    from[section] = [];
    for (const f of files) {
      const xs = (f.src.value as Record<string, unknown[] | undefined>)[section] ?? [];
      xs.forEach((x, index) => { items.push(x); from[section].push({ file: f, index }); });
    }
    if (items.length > 0 || section in value) value[section] = items;
  }
  if (value['feature-ioctl'] === undefined) {
    const f = files.find((x) => (x.src.value as Record<string, unknown>)['feature-ioctl'] !== undefined);
    if (f !== undefined) value['feature-ioctl'] = (f.src.value as Record<string, unknown>)['feature-ioctl'];
  }
  return { value, from, files };
}

/**
 * The merged spec as one JsonSource: a pointer into a shared section (/structs/12/...) is mapped
 * back to the file that declares the element and its pointer there, so diagnostics name that
 * file's line and column; `fileOf` names the file an element comes from.
 */
function mergedSource(m: Merged): { src: JsonSource; fileOf: (pointer: string) => string } {
  const root = m.files[m.files.length - 1]!;
  const locate = (pointer: string): { file: SpecFile; pointer: string } => {
    const match = /^\/([a-z-]+)\/(\d+)(\/.*)?$/.exec(pointer);
    if (match !== null && (SHARED_SECTIONS as readonly string[]).includes(match[1]!)) {
      const e = m.from[match[1] as Section][Number(match[2])];
      if (e !== undefined) return { file: e.file, pointer: `/${match[1]}/${e.index}${match[3] ?? ''}` };
    }
    if (pointer === '/feature-ioctl' || pointer.startsWith('/feature-ioctl/')) {
      const f = [...m.files].reverse().find((x) => (x.src.value as Record<string, unknown>)['feature-ioctl'] !== undefined);
      if (f !== undefined) return { file: f, pointer };
    }
    return { file: root, pointer };
  };
  return {
    src: { file: root.name, value: m.value, at: (pointer, message) => { const l = locate(pointer); return l.file.src.at(l.pointer, message); } },
    fileOf: (pointer) => locate(pointer).file.name,
  };
}

/**
 * A spec with its imports inlined, as one self-contained document (no "imports"): what the
 * resolver sees. Tests derive variants of a spec from it.
 */
export function flattenSpec(file: string = DEFAULT_SPEC): Record<string, unknown> {
  return structuredClone(merge(collect(file)).value);
}

/** The files a spec is made of: the spec and every spec it imports (repository-relative where inside it). */
export function specFiles(file: string = DEFAULT_SPEC): string[] {
  return collect(file).map((f) => f.name);
}

/** Loads, schema-checks and resolves a spec file and the specs it imports. Throws SpecError with positions on any problem. */
export function loadSpec(file: string = DEFAULT_SPEC): Spec {
  const files = collect(file);
  const { src, fileOf } = mergedSource(merge(files));
  const headers = Object.fromEntries(files.slice(0, -1).map((f) => [f.name, (f.src.value as { uapi: ImportedUapi }).uapi]));
  return resolveSpec(src, files[files.length - 1]!.name, fileOf, files.map((f) => f.name), headers);
}
