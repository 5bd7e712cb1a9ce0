import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './paths.js';

/**
 * The package the generator ships in, read once from package.json: its name and version (the
 * generator's, named in every generated file) and its "codegen" config (the default spec).
 */
export const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  codegen?: { spec?: string };
};

/** The spec the CLI reads without --spec, relative to the repository root: package.json's codegen.spec. */
export const DEFAULT_SPEC_FILE = PACKAGE.codegen?.spec ?? 'spec/abi.json';
