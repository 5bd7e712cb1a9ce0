import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ROOT } from './paths.js';

export { ROOT };

/** Flags every MMIO guest here uses: v128 bursts, the locked fence, and the stub runtime (no GC: no shadow-stack traffic in hot loops; guests allocate a few objects once). */
export const MMIO_ASC_FLAGS = ['--enable', 'simd', '--enable', 'threads', '--runtime', 'stub'];

export interface AscResult { binary: Uint8Array; text?: string }

/**
 * Compiles an AssemblyScript entry file (relative to the checkout) with asc's JS API, in memory.
 * `flags` defaults to -O3 plus the MMIO flags; pass `text: true` to get the WAT as well.
 */
export async function compileAs(entry: string, options: { flags?: string[]; text?: boolean; files?: Record<string, string> } = {}): Promise<AscResult> {
  const { default: asc } = await import('assemblyscript/asc');
  const outputs = new Map<string, Uint8Array | string>();
  let stderr = '';
  const args = [entry, '--outFile', 'out.wasm', ...(options.text ? ['--textFile', 'out.wat'] : []), ...(options.flags ?? ['-O3', '--noAssert', ...MMIO_ASC_FLAGS])];
  const { error } = await asc.main(args, {
    readFile: (name: string, baseDir: string) => {
      const path = resolve(ROOT, baseDir, name);
      const rel = path.startsWith(ROOT + '/') ? path.slice(ROOT.length + 1) : path;
      if (options.files?.[rel] !== undefined) return options.files[rel]!;
      return existsSync(path) ? readFileSync(path, 'utf8') : null;
    },
    writeFile: (name: string, contents: Uint8Array | string) => { outputs.set(name, contents); },
    listFiles: (dir: string, baseDir: string) => {
      const path = resolve(ROOT, baseDir, dir);
      return existsSync(path) ? readdirSync(path).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')) : null;
    },
    stdout: asc.createMemoryStream(() => {}),
    stderr: asc.createMemoryStream((c) => { stderr += typeof c === 'string' ? c : Buffer.from(c).toString(); }),
  });
  if (error !== null) throw new Error(`asc ${entry} failed: ${error.message}\n${stderr}`);
  const binary = outputs.get('out.wasm');
  if (!(binary instanceof Uint8Array)) throw new Error(`asc wrote no binary for ${entry}\n${stderr}`);
  const text = outputs.get('out.wat');
  return { binary, ...(typeof text === 'string' ? { text } : {}) };
}
