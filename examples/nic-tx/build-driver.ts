import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { compileAs, ROOT } from '../../runtime/src/asc.js';
import { DRIVER, DRIVER_WASM } from './main.js';

/**
 * Part of `npm run build` (so of prepare and of the package): the nic-tx driver compiled once, so the
 * demo runs where AssemblyScript is not installed (an app that installed the package).
 */
const out = resolve(ROOT, DRIVER_WASM);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, (await compileAs(DRIVER, { baseDir: ROOT })).binary);
