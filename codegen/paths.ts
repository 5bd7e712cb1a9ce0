import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository root, for code that runs from the sources (vitest) and from dist/ (the CLI):
 * this file is codegen/paths.ts or dist/codegen/paths.js. Dependency-free, so the runtime can use
 * it without loading the generator.
 */
const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, here.endsWith('/dist/codegen') ? '../..' : '..');
