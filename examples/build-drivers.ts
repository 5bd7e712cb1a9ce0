import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { compileAs, ROOT } from '../runtime/src/asc.js';
import * as nicTx from './nic-tx/main.js';
import * as e1000e from './e1000e/main.js';

/**
 * Part of `npm run build` (so of prepare and of the package): the demo's drivers compiled once, so
 * the demo runs where AssemblyScript is not installed (an app that installed the package).
 */
for (const { DRIVER, DRIVER_WASM, WASI } of [{ ...nicTx, WASI: false }, { ...e1000e, WASI: true }]) {
  const out = resolve(ROOT, DRIVER_WASM);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, (await compileAs(DRIVER, { baseDir: ROOT, wasi: WASI })).binary);
}
