#!/usr/bin/env node
// The native addon, three ways:
// - `node native/build.mjs` (the install script): in an installed package, keep the prebuilt addon
//   (prebuilds/<platform>-<arch>/, chosen by node-gyp-build) when it loads here, else build it from
//   source. In the checkout it always builds from source: native/build/Release/vfio_native.node and
//   the test/bench-only module vfio_testing.node (native/testing/, which does not ship).
// - `node native/build.mjs --prebuild` (prepack): builds the addon for this platform with
//   prebuildify into prebuilds/, from a copy of only the native sources the package ships.
// Builds use the headers of the Node that runs this script (--nodedir is the install prefix of
// process.execPath), so nothing is downloaded.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const nodedir = resolve(process.execPath, '../..');
const require = createRequire(import.meta.url);
const checkout = existsSync(join(here, 'testing'));
/** What the package ships of native/ (package.json "files"): enough to build the addon, nothing test-only. */
const SOURCES = ['binding.gyp', 'addon', 'src', 'include', 'validators'];

const HELP =
  'Building the native addon needs python3, make and a C compiler (gcc or clang), plus the Node ' +
  'headers under the Node install prefix (' + nodedir + '/include/node).\n' +
  '  Debian/Ubuntu: apt-get install python3 make gcc linux-libc-dev\n' +
  '  Fedora:        dnf install python3 make gcc\n' +
  '  Alpine:        apk add python3 make gcc musl-dev linux-headers\n' +
  (checkout ? 'then run `npm install` again.' : 'then run `npm rebuild vfio-subregion` in your project.');

function fail(msg) {
  console.error(`native/build.mjs: ${msg}\n${HELP}`);
  process.exit(1);
}

/** node-gyp: the checkout's devDependency, else npm's own (npm names it to every script it runs). */
function nodeGyp() {
  try {
    return require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    if (process.env.npm_config_node_gyp) return process.env.npm_config_node_gyp;
    return fail('node-gyp was not found: run this script through npm (`npm rebuild vfio-subregion`), which brings its own.');
  }
}

function run(args, what, options = {}) {
  const r = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root, ...options });
  if (r.error) fail(`could not run ${what}: ${r.error.message}`);
  if (r.status !== 0) fail(`${what} failed (exit ${r.status ?? r.signal}).`);
}

function checkHeaders() {
  if (!existsSync(resolve(nodedir, 'include/node/node_api.h'))) fail(`no Node-API headers at ${resolve(nodedir, 'include/node')}.`);
}

/** The prebuilt addon node-gyp-build picks for this machine, if it loads; otherwise why not. */
function prebuild() {
  try {
    const file = require('node-gyp-build').resolve(root);
    require(file);
    return { file };
  } catch (e) {
    return { why: e.message.split('\n')[0] };
  }
}

function buildFromSource() {
  checkHeaders();
  const args = [nodeGyp(), 'rebuild', '--directory', here, `--nodedir=${nodedir}`];
  if (process.env.VFIO_NATIVE_DEBUG) args.push('--debug');
  run(args, 'node-gyp');
  console.log(`native/build.mjs: built native/build/Release/vfio_native.node${checkout ? ' and native/build/Release/vfio_testing.node (test/bench only)' : ''}`);
}

function buildPrebuild() {
  checkHeaders();
  const dir = mkdtempSync(join(tmpdir(), 'vfio-subregion-prebuild-'));
  try {
    for (const s of SOURCES) cpSync(join(here, s), join(dir, s), { recursive: true });
    rmSync(join(root, 'prebuilds'), { recursive: true, force: true });
    const args = [require.resolve('prebuildify/bin.js'), '--napi', '--strip', '--tag-libc', '--name', 'vfio_native',
      '--cwd', dir, '--out', root, '--node-gyp', require.resolve('node-gyp/bin/node-gyp.js')];
    // node-gyp takes --nodedir from the environment here: prebuildify passes only its own options.
    run(args, 'prebuildify', { env: { ...process.env, npm_config_nodedir: nodedir } });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const out = `prebuilds/${process.platform}-${process.arch}`;
  console.log(`native/build.mjs: built ${readdirSync(join(root, out)).map((f) => `${out}/${f}`).join(', ')}`);
}

if (process.argv[2] === '--prebuild') {
  buildPrebuild();
} else if (checkout || process.env.npm_config_build_from_source) {
  buildFromSource();
} else {
  const p = prebuild();
  if (p.file !== undefined) {
    console.log(`native/build.mjs: using the prebuilt addon ${p.file.slice(root.length + 1)}`);
  } else {
    console.log(`native/build.mjs: no prebuilt addon loads on ${process.platform}-${process.arch} (${p.why}); building it from source`);
    buildFromSource();
  }
}
