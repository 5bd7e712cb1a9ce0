import type { Spec } from '../ir.js';
import { PACKAGE } from '../package.js';

export { PACKAGE };
/** The marker and the preamble are printed by printer.ts; re-exported for code that knows them from here. */
export { GENERATED_MARKER, GENERATOR, generatedLine } from './printer.js';

/** One generated file: its path relative to the repository root, and its exact content. */
export interface GeneratedFile {
  path: string;
  content: string;
}

/** An emitter reads the IR and returns the files of one target. */
export type Emitter = (spec: Spec) => GeneratedFile[];
