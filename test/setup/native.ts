import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT as root } from '../../codegen/paths.js';

/**
 * vitest globalSetup: `npm install` builds the addon, but a checkout that pulled new C sources would
 * otherwise test a stale binary. Rebuild when any source the addon or the test/bench module
 * (vfio_testing) compiles is newer than the older of the two.
 */
export default function setup(): void {
  const outputs = ['vfio_native.node', 'vfio_testing.node'].map((f) => join(root, 'native/build/Release', f));
  const sources = ['native/addon', 'native/src', 'native/validators', 'native/include/linux', 'native/include/fallback/linux', 'native/testing']
    .flatMap((d) => readdirSync(join(root, d)).map((f) => join(root, d, f)))
    .concat(join(root, 'native/binding.gyp'));
  const built = Math.min(...outputs.map((f) => (existsSync(f) ? statSync(f).mtimeMs : 0)));
  if (sources.every((f) => statSync(f).mtimeMs <= built)) return;
  // node-gyp's progress lines would be stray output in the test run: shown only when the build fails.
  const r = spawnSync(process.execPath, [join(root, 'native/build.mjs')], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`the native addon does not build:\n${r.stderr}`);
}
