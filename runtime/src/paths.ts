import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package root, for the files the runtime loads (the native addon, AssemblyScript sources): this
 * file is runtime/src/paths.ts or dist/runtime/src/paths.js.
 */
const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, here.endsWith('/dist/runtime/src') ? '../../..' : '../..');
