import { mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { ROOT } from './paths.js';
import { DEFAULT_SPEC_FILE } from './package.js';
import type { Spec } from './ir.js';
import { GENERATED_MARKER, type Emitter, type GeneratedFile } from './emit/file.js';
import { emitCHeader } from './emit/c-header.js';
import { emitCValidators } from './emit/c-validators.js';
import { emitTypeScript } from './emit/typescript.js';
import { emitAssemblyScript } from './emit/assemblyscript.js';
import { emitMarkdown } from './emit/markdown.js';
import { emitKernelPatch } from './emit/kernel-patch.js';
import { emitWit } from './emit/wit.js';

/** Every target, in the order `generate` lists them. */
export const TARGETS: Record<string, Emitter> = {
  'c-header': emitCHeader,
  'c-validators': emitCValidators,
  typescript: emitTypeScript,
  assemblyscript: emitAssemblyScript,
  markdown: emitMarkdown,
  wit: emitWit,
  'kernel-patch': emitKernelPatch,
};

/**
 * The targets a spec has what it takes for, in TARGETS order: kernel-patch needs uapi.patch, wit
 * needs an mmio section. Asking for one of those explicitly without it is a SpecError.
 */
export function defaultTargets(spec: Spec): string[] {
  return Object.keys(TARGETS).filter((t) => !(t === 'kernel-patch' && spec.uapi.patch === null) && !(t === 'wit' && spec.mmio === null));
}

/** Folders where a spec's generated files live (the top folder of every target path); `check` looks there for stale ones. */
function outputDirs(spec: Spec): string[] {
  const t = spec.targets;
  const paths = [t.cHeader.path, t.cValidators.dir, t.typescript.path, t.assemblyscript.path, t.markdown.path, t.wit.path, t.kernelPatch.dir];
  return [...new Set(paths.map((p) => p.split('/')[0]!))].sort();
}

export function render(spec: Spec, targets: string[] = defaultTargets(spec)): GeneratedFile[] {
  return targets.flatMap((t) => {
    const emit = TARGETS[t];
    if (emit === undefined) throw new Error(`unknown target ${t}`);
    return emit(spec);
  });
}

/** Whether a file is inside the package (one of its own specs). */
export function inPackage(file: string): boolean {
  const rel = relative(ROOT, file);
  return !rel.startsWith('..') && !isAbsolute(rel);
}

/**
 * The spec as its generated files name it (marker, regenerate command, stale-file matching): one of
 * the package's own specs by its path in the package, any other by its path relative to the output
 * root. Either way the bytes depend on where the spec is relative to the output, never on where
 * both live or on the working directory.
 */
export function specForOutput(spec: Spec, specFile: string, root: string): Spec {
  const posix = (p: string): string => p.split('\\').join('/');
  const file = posix(relative(inPackage(specFile) ? ROOT : root, specFile));
  const regenerateSpec = root === ROOT && specFile === resolve(ROOT, DEFAULT_SPEC_FILE) ? null : posix(relative(root, specFile));
  // `at` is not enumerable (the IR clones as plain data): carry it over by its descriptor.
  return Object.defineProperties({ ...spec, file, regenerateSpec }, { at: Object.getOwnPropertyDescriptor(spec, 'at')! });
}

/** A generated file that cannot be written: one line naming the path and why. */
export class OutputError extends Error {}

const why = (e: unknown): string => {
  const { code, message } = e as { code?: string; message: string };
  return code === undefined ? message : `${message.replace(/^\w+: /, '').replace(/, \w+ '.*'$/, '')} (${code})`;
};

/**
 * mkdir -p, one level at a time: Node's recursive mkdir loops forever on a path under /proc, and an
 * existing file on the way is better named than reported as ENOTDIR of the whole path.
 */
function makeDirs(dir: string): void {
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new OutputError(`cannot create a directory at ${dir}: a file is there`);
    return;
  }
  const parent = dirname(dir);
  if (parent !== dir) makeDirs(parent);
  try {
    mkdirSync(dir);
  } catch (e) {
    throw new OutputError(`cannot create directory ${dir}: ${why(e)}`);
  }
}

/** Writes the files under root, touching only those whose content changed. Returns the paths written. */
export function writeFiles(root: string, files: GeneratedFile[]): string[] {
  const written: string[] = [];
  for (const f of files) {
    const path = join(root, f.path);
    if (existsSync(path) && statSync(path).isFile() && readFileSync(path, 'utf8') === f.content) continue;
    makeDirs(dirname(path));
    try {
      writeFileSync(path, f.content);
    } catch (e) {
      throw new OutputError(`cannot write ${path}: ${why(e)}`);
    }
    written.push(f.path);
  }
  return written;
}

function* walk(root: string, dir: string): Generator<string> {
  const full = join(root, dir);
  if (!existsSync(full)) return;
  for (const e of readdirSync(full, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'build' || e.name.startsWith('.')) continue;
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) yield* walk(root, rel);
    else if (e.isFile()) yield rel;
  }
}

export interface CheckResult {
  /** Files whose content would change (or that are missing). */
  changed: string[];
  /** Files marked as generated from this spec that no target produces. */
  stale: string[];
}

/** Compares what generation would produce with what is on disk, writing nothing. */
export function checkFiles(root: string, spec: Spec, files: GeneratedFile[]): CheckResult {
  const changed = files.filter((f) => {
    const path = join(root, f.path);
    return !existsSync(path) || readFileSync(path, 'utf8') !== f.content;
  }).map((f) => f.path);
  const produced = new Set(files.map((f) => f.path));
  const stale: string[] = [];
  for (const dir of outputDirs(spec)) {
    for (const rel of walk(root, dir)) {
      if (produced.has(rel)) continue;
      const head = readFileSync(join(root, rel), 'utf8').slice(0, 4096);
      const m = GENERATED_MARKER.exec(head);
      if (m !== null && m[1] === spec.file) stale.push(rel);
    }
  }
  return { changed, stale };
}
