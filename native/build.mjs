#!/usr/bin/env node
// Builds the native addon (native/build/Release/vfio_native.node) and the test/bench-only module
// (native/build/Release/vfio_testing.node from native/testing/; one node-gyp rebuild builds both
// targets) against the headers of the Node that runs this script: --nodedir is the install prefix of
// process.execPath, so no download and no hard-coded path.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const nodedir = resolve(process.execPath, '../..');
const require = createRequire(import.meta.url);

const HELP =
  'Building the native addon needs python3, make and a C compiler (gcc or clang), plus the Node ' +
  'headers under the Node install prefix (' + nodedir + '/include/node).\n' +
  '  Debian/Ubuntu: apt-get install python3 make gcc linux-libc-dev\n' +
  '  Fedora:        dnf install python3 make gcc\n' +
  '  Alpine:        apk add python3 make gcc musl-dev linux-headers';

function fail(msg) {
  console.error(`native/build.mjs: ${msg}\n${HELP}`);
  process.exit(1);
}

let gyp;
try {
  gyp = require.resolve('node-gyp/bin/node-gyp.js');
} catch {
  fail('the node-gyp package is not installed (it is a devDependency: run `npm install`).');
}
if (!existsSync(resolve(nodedir, 'include/node/node_api.h'))) {
  fail(`no Node-API headers at ${resolve(nodedir, 'include/node')}.`);
}

const args = [gyp, 'rebuild', '--directory', resolve(root, 'native'), `--nodedir=${nodedir}`];
if (process.env.VFIO_NATIVE_DEBUG) args.push('--debug');
const r = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root });
if (r.error) fail(`could not run node-gyp: ${r.error.message}`);
if (r.status !== 0) fail(`node-gyp failed (exit ${r.status ?? r.signal}).`);
console.log('native/build.mjs: built native/build/Release/vfio_native.node and native/build/Release/vfio_testing.node (test/bench only)');
