import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from './paths.js';

export { ROOT };

/**
 * Flags every MMIO guest needs: v128 bursts, the locked fence, and the stub runtime (no GC: no
 * shadow-stack traffic in hot loops; guests allocate a few objects once). The same options as
 * runtime/assembly/asconfig.json, which a guest project's asconfig extends
 * (`"extends": "vfio-subregion/assembly/asconfig.json"`).
 */
export const MMIO_ASC_FLAGS = ['--enable', 'simd', '--enable', 'threads', '--runtime', 'stub'];

export interface AscResult { binary: Uint8Array; text?: string }

export interface AscOptions {
  /** asc's flags; default -O3 --noAssert plus MMIO_ASC_FLAGS. */
  flags?: string[];
  /** Return the WAT as well. */
  text?: boolean;
  /** Sources by path (relative to baseDir) that replace the files on disk. */
  files?: Record<string, string>;
  /** Where a relative entry (and `files`) is resolved; default the current directory. */
  baseDir?: string;
  /**
   * Build a WASI preview1 command with @assemblyscript/wasi-shim (installed next to the guest or
   * this package). asc runs in a child process: the shim adds library files to asc's process-wide
   * state, which would leak into every later in-process compile.
   */
  wasi?: boolean;
}

const PACKAGE = 'vfio-subregion';

/**
 * Where a file asc asks for really is: this package's own sources wherever the guest's
 * node_modules/vfio-subregion would be, so a guest compiles against the package that compiles it,
 * installed next to the guest or not.
 */
function located(path: string): string {
  const at = path.lastIndexOf(`${sep}node_modules${sep}${PACKAGE}${sep}`);
  if (at < 0) return path;
  const rest = path.slice(at + `${sep}node_modules${sep}${PACKAGE}${sep}`.length);
  return join(ROOT, rest);
}

/** The flags a compile that failed for want of a feature lacks, from asc's own diagnostics. */
function missingFeatures(args: string[], stderr: string): string[] {
  const enabled = new Set(args.flatMap((a, i) => (args[i - 1] === '--enable' ? a.split(',') : [])));
  const need: string[] = [];
  if (!enabled.has('simd') && /\bv128\b|SIMD|simd/.test(stderr)) need.push('simd');
  if (!enabled.has('threads') && /[Aa]tomic|threads/.test(stderr)) need.push('threads');
  return need;
}

/**
 * Compiles an AssemblyScript guest with asc's JS API, in memory. `entry` is a path (absolute, or
 * relative to options.baseDir); its imports of `vfio-subregion/runtime/assembly/...` (the path plain
 * asc resolves in node_modules too) reach this package's sources. A compile that fails for want of
 * --enable simd or --enable threads says so in one line instead of Binaryen's validator dump.
 */
export async function compileAs(entry: string, options: AscOptions = {}): Promise<AscResult> {
  const base = resolve(options.baseDir ?? process.cwd());
  const file = isAbsolute(entry) ? entry : resolve(base, entry);
  const flags = options.flags ?? ['-O3', '--noAssert', ...MMIO_ASC_FLAGS];
  if (options.wasi === true) return compileCommand(file, base, flags, options.text === true);
  const { default: asc } = await import('assemblyscript/asc');
  const outputs = new Map<string, Uint8Array | string>();
  let stderr = '';
  const args = [file, '--baseDir', base, '--outFile', 'out.wasm', ...(options.text === true ? ['--textFile', 'out.wat'] : []), ...flags];
  // Binaryen's validator writes its dump to the process's stderr (the console, under vitest) itself: caught here, so a failure
  // can be explained in one line.
  const { write } = process.stderr;
  const con = console as unknown as Record<'error' | 'warn', (...a: unknown[]) => void>;
  const { error: conError, warn: conWarn } = con;
  const caught = (c: unknown): boolean => { stderr += String(c); return true; };
  process.stderr.write = caught as typeof write;
  con.error = con.warn = (...a: unknown[]) => { caught(`${a.join(' ')}\n`); };
  const { error } = await asc.main(args, {
    readFile: (name: string, baseDir: string) => {
      const path = resolve(base, baseDir, name);
      const given = options.files?.[path.startsWith(base + sep) ? path.slice(base.length + 1) : path];
      if (given !== undefined) return given;
      const real = located(path);
      return existsSync(real) ? readFileSync(real, 'utf8') : null;
    },
    writeFile: (name: string, contents: Uint8Array | string) => { outputs.set(name, contents); },
    listFiles: (dir: string, baseDir: string) => {
      const path = located(resolve(base, baseDir, dir));
      return existsSync(path) ? readdirSync(path).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')) : null;
    },
    stdout: asc.createMemoryStream(() => {}),
    stderr: asc.createMemoryStream((c) => { stderr += typeof c === 'string' ? c : Buffer.from(c).toString(); }),
  }).finally(() => {
    process.stderr.write = write;
    con.error = conError;
    con.warn = conWarn;
  });
  if (error !== null) throw ascError(entry, args, stderr, error.message);
  const binary = outputs.get('out.wasm');
  if (!(binary instanceof Uint8Array)) throw new Error(`asc wrote no binary for ${entry}\n${stderr}`);
  const text = outputs.get('out.wat');
  return { binary, ...(typeof text === 'string' ? { text } : {}) };
}

function ascError(entry: string, args: string[], stderr: string, message: string): Error {
  const need = missingFeatures(args, stderr);
  if (need.length > 0) {
    return new Error(`asc ${entry}: the guest uses ${need.map((f) => (f === 'simd' ? 'v128 (bursts)' : 'atomics (the locked fence)')).join(' and ')}: `
      + `compile with ${need.map((f) => `--enable ${f}`).join(' ')} (MMIO_ASC_FLAGS, or extend vfio-subregion/assembly/asconfig.json)`);
  }
  return new Error(`asc ${entry} failed: ${message}\n${stderr}`);
}

/**
 * The WASI command build of compileAs (see AscOptions.wasi): this module, built, run as a script
 * with the shim's asconfig added to the flags.
 */
function compileCommand(file: string, base: string, flags: string[], text: boolean): AscResult {
  const from = (id: string): string => {
    try { return createRequire(join(base, 'package.json')).resolve(id); } catch { return createRequire(import.meta.url).resolve(id); }
  };
  const job = JSON.stringify({ file, base, flags: [...flags, '--config', from('@assemblyscript/wasi-shim/asconfig.json')], text });
  const r = spawnSync(process.execPath, [join(ROOT, 'dist/runtime/src/asc.js'), job], { cwd: base, encoding: 'buffer', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(r.stderr.toString().trim() || `asc ${file}: the compiler process failed (${r.error?.message ?? r.signal ?? r.status})`);
  const out = JSON.parse(r.stdout.toString()) as { binary: string; text?: string };
  return { binary: new Uint8Array(Buffer.from(out.binary, 'base64')), ...(out.text !== undefined ? { text: out.text } : {}) };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url) && process.argv[2] !== undefined) {
  const job = JSON.parse(process.argv[2]) as { file: string; base: string; flags: string[]; text: boolean };
  try {
    const r = await compileAs(job.file, { baseDir: job.base, flags: job.flags, text: job.text });
    process.stdout.write(JSON.stringify({ binary: Buffer.from(r.binary).toString('base64'), text: r.text }));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
