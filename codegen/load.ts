import { relative, resolve } from 'node:path';
import { SpecError } from './diagnostics.js';
import type { Spec } from './ir.js';
import { readJsonFile } from './json-source.js';
import { resolveSpec } from './resolve.js';
import { validateAgainst } from './schema.js';
import { ROOT } from './paths.js';
import { DEFAULT_SPEC_FILE } from './package.js';

export { ROOT };
export const SCHEMA = resolve(ROOT, 'spec/schema/abi.schema.json');
/** The spec the CLI reads without --spec: package.json's codegen.spec. */
export const DEFAULT_SPEC = resolve(ROOT, DEFAULT_SPEC_FILE);

/** Loads, schema-checks and resolves a spec file. Throws SpecError with positions on any problem. */
export function loadSpec(file: string = DEFAULT_SPEC): Spec {
  const shown = relative(process.cwd(), file) || file;
  const src = readJsonFile(file, shown);
  const doc = src.value as { $schema?: unknown };
  if (typeof doc === 'object' && doc !== null && typeof doc.$schema === 'string' && !doc.$schema.endsWith('abi.schema.json'))
    throw new SpecError([src.at('/$schema', `this tool reads specs written for abi.schema.json, not ${doc.$schema}`)]);
  validateAgainst(SCHEMA, src);
  const rel = relative(ROOT, resolve(file)).split('\\').join('/');
  return resolveSpec(src, rel.startsWith('..') ? shown : rel);
}
