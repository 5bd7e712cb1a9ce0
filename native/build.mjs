#!/usr/bin/env node
// The native addon, four ways:
// - `node native/build.mjs` (the install script): builds it from source in a checkout that has a C
//   compiler (native/build/Release/vfio_native.node and the test/bench-only module vfio_testing.node,
//   from native/testing/, which does not ship). Elsewhere (an installed package, or a checkout without a
//   compiler, as npm prepares a git dependency) it keeps the prebuilt addon (prebuilds/<platform>-<arch>/,
//   chosen by node-gyp-build) when it loads here, else builds it from source.
// - `node native/build.mjs --prebuild [--arch A] [--out DIR]`: builds the addon with prebuildify into
//   prebuilds/<platform>-<arch>/ (or DIR/<platform>-<arch>/), from a copy of only the native sources
//   the package ships, stripped: the bytes depend on the sources and the compiler, not on where the
//   checkout lives, so the prebuilds are committed and a rebuild proves them current. Into
//   prebuilds/ it records the sources' hash, the file's hash and the compiler in prebuilds/manifest.json.
//   --arch arm64 cross-builds with $CC (default aarch64-linux-gnu-gcc).
// - `node native/build.mjs --check-prebuild` (prepack): fails when a committed prebuild was not built
//   from the current sources, so no package ships a stale addon.
// Builds use the headers of the Node that runs this script (--nodedir is the install prefix of
// process.execPath), so nothing is downloaded.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

const MANIFEST = join(root, 'prebuilds/manifest.json');
const sha256 = (data) => createHash('sha256').update(data).digest('hex');

/** One hash over every native source the package ships (path and bytes), in a fixed order. */
function sourcesHash() {
  const h = createHash('sha256');
  const files = SOURCES.flatMap((s) => (statSync(join(here, s)).isDirectory()
    ? readdirSync(join(here, s), { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => relative(here, join(d.parentPath, d.name)))
    : [s])).sort();
  for (const f of files) {
    const data = readFileSync(join(here, f));
    h.update(`${f}\0${data.length}\0`).update(data);
  }
  return h.digest('hex');
}

/** The compiler's version line, without the name it was run by (gcc's "cc (Debian 12.2.0-14) 12.2.0"): part of what a prebuild's bytes depend on. */
function compilerVersion(cc) {
  const r = spawnSync(`${cc} --version`, { shell: true, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n')[0].replace(/^\S+ (?=\()/, '') : undefined;
}

function readManifest() {
  return existsSync(MANIFEST) ? JSON.parse(readFileSync(MANIFEST, 'utf8')) : {};
}

function option(name) {
  const at = process.argv.indexOf(name);
  return at < 0 ? undefined : process.argv[at + 1];
}

function buildPrebuild() {
  checkHeaders();
  const arch = option('--arch') ?? process.arch;
  const cross = arch !== process.arch;
  const triple = `${{ arm64: 'aarch64' }[arch] ?? arch}-linux-gnu`;
  const cc = process.env.CC ?? (cross ? `${triple}-gcc` : 'cc');
  const compiler = compilerVersion(cc);
  if (compiler === undefined) fail(`no C compiler for ${arch}: \`${cc} --version\` fails${cross ? ' (test/package/cross-arm64.sh unpacks Debian\'s: then PATH=<its bin>:$PATH CC=aarch64-linux-gnu-gcc-12)' : ''}.`);
  const out = resolve(option('--out') ?? root);
  const tuple = `${process.platform}-${arch}`;
  const dir = mkdtempSync(join(tmpdir(), 'vfio-subregion-prebuild-'));
  try {
    for (const s of SOURCES) cpSync(join(here, s), join(dir, s), { recursive: true });
    rmSync(join(out, 'prebuilds', tuple), { recursive: true, force: true });
    const args = [require.resolve('prebuildify/bin.js'), '--napi', '--strip', '--tag-libc', '--name', 'vfio_native', '--arch', arch,
      '--cwd', dir, '--out', out, '--node-gyp', require.resolve('node-gyp/bin/node-gyp.js')];
    // node-gyp takes --nodedir from the environment here: prebuildify passes only its own options.
    const env = { ...process.env, npm_config_nodedir: nodedir, CC: cc,
      // The addon is C only: the compiler links it too (a cross g++ need not be installed).
      ...(cross ? { PREBUILD_STRIP_BIN: `${triple}-strip`, LINK: cc } : {}) };
    run(args, 'prebuildify', { env });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const built = readdirSync(join(out, 'prebuilds', tuple)).map((f) => `${tuple}/${f}`);
  if (out === root) {
    const manifest = readManifest();
    for (const f of built) manifest[f] = { sources: sourcesHash(), sha256: sha256(readFileSync(join(root, 'prebuilds', f))), compiler };
    writeFileSync(MANIFEST, `${JSON.stringify(Object.fromEntries(Object.entries(manifest).sort()), null, 2)}\n`);
  }
  console.log(`native/build.mjs: built ${built.map((f) => relative(process.cwd(), join(out, 'prebuilds', f))).join(', ')} with ${compiler}`);
}

/** Every committed prebuild is the one recorded, built from the sources as they are now. */
function checkPrebuild() {
  const sources = sourcesHash();
  const manifest = readManifest();
  const files = existsSync(join(root, 'prebuilds')) ? readdirSync(join(root, 'prebuilds'), { recursive: true }).filter((f) => f.endsWith('.node')).sort() : [];
  const stale = [
    ...files.filter((f) => manifest[f] === undefined).map((f) => `prebuilds/${f} is not in prebuilds/manifest.json`),
    ...Object.keys(manifest).filter((f) => !files.includes(f)).map((f) => `prebuilds/${f} is missing`),
    ...files.filter((f) => manifest[f] !== undefined && manifest[f].sha256 !== sha256(readFileSync(join(root, 'prebuilds', f)))).map((f) => `prebuilds/${f} is not the file the manifest records`),
    ...files.filter((f) => manifest[f] !== undefined && manifest[f].sources !== sources).map((f) => `prebuilds/${f} was built from other native sources`),
  ];
  if (files.length === 0) stale.push('prebuilds/ holds no prebuilt addon');
  if (stale.length > 0) {
    console.error(`native/build.mjs: ${stale.join('; ')}: run \`node native/build.mjs --prebuild\` (and --arch arm64) and commit prebuilds/`);
    process.exit(1);
  }
  console.log(`native/build.mjs: prebuilds current: ${files.map((f) => `prebuilds/${f}`).join(', ')}`);
}

const hasCompiler = () => compilerVersion(process.env.CC ?? 'cc') !== undefined;

if (process.argv[2] === '--prebuild') {
  buildPrebuild();
} else if (process.argv[2] === '--check-prebuild') {
  checkPrebuild();
} else if (process.env.npm_config_build_from_source || (checkout && hasCompiler())) {
  buildFromSource();
} else {
  const p = prebuild();
  if (p.file !== undefined) {
    const why = checkout ? ` (no C compiler here: \`${process.env.CC ?? 'cc'} --version\` fails; the test-only module needs a build from source)` : '';
    console.log(`native/build.mjs: using the prebuilt addon ${p.file.slice(root.length + 1)}${why}`);
  } else {
    console.log(`native/build.mjs: no prebuilt addon loads on ${process.platform}-${process.arch} (${p.why}); building it from source`);
    buildFromSource();
  }
}
