import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { SpecError, type Diagnostic } from './diagnostics.js';
import type { JsonSource } from './json-source.js';

const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
const compiled = new Map<string, ValidateFunction>();

function describe(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': return `unknown key "${String(p.additionalProperty)}"`;
    case 'required': return `missing required key "${String(p.missingProperty)}"`;
    case 'type': return `expected ${String(p.type)}`;
    case 'enum': return `expected one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const': return `expected ${JSON.stringify(p.allowedValue)}`;
    case 'pattern': return `expected a string matching ${String(p.pattern)}`;
    default: return e.message ?? e.keyword;
  }
}

/**
 * Ajv reports every branch of a failed oneOf; keep the errors of the branch that got furthest
 * (the deepest instance path), so "unknown key" inside an object is not drowned by "expected integer".
 */
function relevant(errors: ErrorObject[]): ErrorObject[] {
  const byPath = new Map<string, ErrorObject[]>();
  for (const e of errors) byPath.set(e.instancePath, [...(byPath.get(e.instancePath) ?? []), e]);
  const out: ErrorObject[] = [];
  const paths = [...byPath.keys()];
  for (const [path, errs] of byPath) {
    if (paths.some((q) => q !== path && q.startsWith(path + '/'))) continue;
    const concrete = errs.filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'if');
    const seen = new Set<string>();
    for (const e of concrete.length > 0 ? concrete : errs) {
      const key = describe(e);
      if (!seen.has(key)) { seen.add(key); out.push(e); }
    }
  }
  return out;
}

/** Validates a parsed document against a JSON Schema file; throws SpecError listing each violation. */
export function validateAgainst(schemaFile: string, doc: JsonSource): void {
  let validate = compiled.get(schemaFile);
  if (validate === undefined) {
    validate = ajv.compile(JSON.parse(readFileSync(schemaFile, 'utf8')) as object);
    compiled.set(schemaFile, validate);
  }
  if (validate(doc.value)) return;
  const diags: Diagnostic[] = relevant(validate.errors ?? []).map((e) => doc.at(e.instancePath, describe(e)));
  throw new SpecError(diags);
}
