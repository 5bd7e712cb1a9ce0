import { resolve } from 'node:path';
import { defaultTargets, render, specForOutput, TARGETS, writeFiles } from './generate.js';
import { loadSpec } from './load.js';
import type { GeneratedFile } from './emit/file.js';
import type { Spec } from './ir.js';

/**
 * The generator as a library (the package's `./codegen` export): load a spec, generate its files in memory,
 * write them where you want. Nothing here loads the native addon.
 */
export { defaultTargets, loadSpec, writeFiles };
export { SpecError, formatDiagnostic, type Diagnostic } from './diagnostics.js';
export type { GeneratedFile, Spec };

/** Every target name, in the order `generate` emits them. */
export const TARGET_NAMES: readonly string[] = Object.keys(TARGETS);

export interface GenerateOptions {
  /** The targets to emit (names from {@link TARGET_NAMES}); default: every target the spec has what it takes for. */
  targets?: readonly string[];
  /**
   * The folder the files will be written under (default: the current directory): generated files
   * name a spec outside the package by its path relative to it, as the CLI's --out does.
   */
  out?: string;
}

/**
 * The files generated from a spec, in memory (nothing is written): `spec` is a spec file's path (read
 * with {@link loadSpec}: a SpecError with file:line:col for any problem) or a loaded spec. Each
 * file's path is the one its target names in the spec, relative to the output folder.
 */
export function generate(spec: string | Spec, options: GenerateOptions = {}): GeneratedFile[] {
  const loaded = typeof spec === 'string' ? specForOutput(loadSpec(spec), resolve(spec), resolve(options.out ?? '.')) : spec;
  const targets = options.targets ?? defaultTargets(loaded);
  const unknown = targets.filter((t) => !(t in TARGETS));
  if (unknown.length > 0) throw new RangeError(`unknown target "${unknown[0]}" (targets: ${TARGET_NAMES.join(', ')})`);
  return render(loaded, [...targets]);
}
