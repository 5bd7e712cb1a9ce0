import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT as root } from '../../codegen/paths.js';

/**
 * vitest globalSetup: `npm install` builds the addon, but a checkout that pulled new C sources would
 * otherwise test a stale binary. Rebuild when any source the addon compiles is newer than it.
 */
export default function setup(): void {
  const addon = join(root, 'native/build/Release/vfio_native.node');
  const sources = ['native/src', 'native/validators', 'native/include/linux']
    .flatMap((d) => readdirSync(join(root, d)).map((f) => join(root, d, f)))
    .concat(join(root, 'native/binding.gyp'));
  const built = existsSync(addon) ? statSync(addon).mtimeMs : 0;
  if (sources.every((f) => statSync(f).mtimeMs <= built)) return;
  const r = spawnSync(process.execPath, [join(root, 'native/build.mjs')], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error('the native addon does not build: see the message above');
}
