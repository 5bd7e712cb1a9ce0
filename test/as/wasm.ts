import asc from 'assemblyscript/asc';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { ROOT } from '../../codegen/load.js';
import { asOutputPath, emitAssemblyScript } from '../../codegen/emit/assemblyscript.js';
import type { Spec } from '../../codegen/ir.js';
import { asGlue, GLUE } from './glue.js';

/**
 * Compiles test/as/harness.ts (which imports the generated AssemblyScript module and the glue) with
 * asc, in memory: the generated module is served from the emitter's current output, so the tests
 * check what `generate` would write, and the glue is printed from the same IR; nothing touches the
 * disk. `generated` replaces the emitter's module (a test mutating the codec passes its copy).
 */

export const HARNESS = 'test/as/assembly/harness.ts';

export interface Compiled { binary: Uint8Array; stderr: string }

export async function compileHarness(spec: Spec, flags: string[], generated = emitted(spec)): Promise<Compiled> {
  const glue = asGlue(spec, relative(dirname(GLUE), asOutputPath(spec)).replace(/\.ts$/, ''));
  const outputs = new Map<string, Uint8Array | string>();
  let stderr = '';
  let stdout = '';
  const { error } = await asc.main([HARNESS, '--outFile', 'harness.wasm', '--enable', 'simd', '--disableWarning', '235', ...flags], {
    readFile: (name: string, baseDir: string) => {
      const path = resolve(ROOT, baseDir, name);
      if (path === resolve(ROOT, asOutputPath(spec))) return generated;
      if (path === resolve(ROOT, GLUE)) return glue;
      return existsSync(path) ? readFileSync(path, 'utf8') : null;
    },
    writeFile: (name: string, contents: Uint8Array | string) => { outputs.set(name, contents); },
    listFiles: () => [],
    stdout: asc.createMemoryStream((c) => { stdout += typeof c === 'string' ? c : Buffer.from(c).toString(); }),
    stderr: asc.createMemoryStream((c) => { stderr += typeof c === 'string' ? c : Buffer.from(c).toString(); }),
  });
  if (error !== null) throw new Error(`asc ${flags.join(' ')} failed: ${error.message}\n${stderr}${stdout}`);
  const bin = outputs.get('harness.wasm');
  if (!(bin instanceof Uint8Array)) throw new Error(`asc wrote no harness.wasm\n${stderr}`);
  return { binary: bin, stderr };
}

/** The generated AssemblyScript module as `generate` would write it. */
export function emitted(spec: Spec): string {
  const f = emitAssemblyScript(spec).find((x) => x.path === asOutputPath(spec));
  if (f === undefined) throw new Error(`the assemblyscript target did not produce ${asOutputPath(spec)}`);
  return f.content;
}

/** Host side of the MMIO imports (the spec's mmio.module): records every ordering point with the window it names. */
export interface HostLog { calls: { name: string; window: number }[] }

// The WebAssembly namespace has no typings under this project's lib (ES2022 + node): the little used here.
interface WasmMemory { readonly buffer: ArrayBuffer }
interface WasmGlobal { readonly value: unknown }
interface WasmApi {
  instantiate(bytes: Uint8Array, imports: Record<string, Record<string, unknown>>): Promise<{ instance: { exports: Record<string, unknown> } }>;
  Global: abstract new (...args: never[]) => WasmGlobal;
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export type Exports = Record<string, unknown> & { memory: WasmMemory };

export class Harness {
  constructor(readonly ex: Exports, readonly log: HostLog) {}

  /** `module`: the import module of the host functions (the shipped spec's mmio.module by default). */
  static async instantiate(binary: Uint8Array, module = 'vfio:subregion/mmio@0.1.0'): Promise<Harness> {
    const log: HostLog = { calls: [] };
    let self: Harness | undefined;
    const { instance } = await WA.instantiate(binary, {
      env: {
        abort: (msg: number, file: number, line: number, col: number) => {
          const h = self!;
          throw new Error(`abort: ${h.asString(msg)} at ${h.asString(file)}:${line}:${col}`);
        },
      },
      [module]: {
        wmb: (w: number) => { log.calls.push({ name: 'wmb', window: w >>> 0 }); },
        flush: (w: number) => { log.calls.push({ name: 'flush', window: w >>> 0 }); },
        // the host-call path over ordinary linear memory (the real host is runtime/src/mmio.ts)
        ...Object.fromEntries([8, 16, 32, 64].flatMap((bits) => {
          const dv = () => new DataView(self!.ex.memory.buffer);
          const get = (a: number): number | bigint => bits === 8 ? dv().getUint8(a) : bits === 16 ? dv().getUint16(a, true) : bits === 32 ? dv().getUint32(a, true) : dv().getBigUint64(a, true);
          const set = (a: number, v: number | bigint): void => { if (bits === 64) dv().setBigUint64(a, BigInt(v), true); else if (bits === 32) dv().setUint32(a, Number(v), true); else if (bits === 16) dv().setUint16(a, Number(v), true); else dv().setUint8(a, Number(v)); };
          return [
            [`read${bits}`, (a: number) => { log.calls.push({ name: `read${bits}`, window: a >>> 0 }); return get(a >>> 0); }],
            [`write${bits}`, (a: number, v: number | bigint) => { log.calls.push({ name: `write${bits}`, window: a >>> 0 }); set(a >>> 0, v); }],
          ];
        })),
      },
    });
    self = new Harness(instance.exports as Exports, log);
    return self;
  }

  fn(name: string): (...a: unknown[]) => unknown {
    const f = this.ex[name];
    if (typeof f !== 'function') throw new Error(`harness has no export ${name}`);
    return f as (...a: unknown[]) => unknown;
  }
  call(name: string, ...a: unknown[]): number { return this.fn(name)(...a) as number; }
  callBig(name: string, ...a: unknown[]): bigint { return BigInt.asUintN(64, this.fn(name)(...a) as bigint); }
  global(name: string): number | bigint | undefined {
    const g = this.ex[name];
    return g instanceof WA.Global ? (g.value as number | bigint) : undefined;
  }

  get bytes(): Uint8Array { return new Uint8Array(this.ex.memory.buffer); }
  ptr(name: 'h_slots' | 'h_buf' | 'h_str' | 'h_win'): number { return this.call(name) >>> 0; }

  setSlots(v: bigint[]): void {
    const p = this.ptr('h_slots');
    const view = new BigUint64Array(this.ex.memory.buffer, p, v.length);
    v.forEach((x, i) => { view[i] = BigInt.asUintN(64, x); });
  }
  slots(n: number): bigint[] { return Array.from(new BigUint64Array(this.ex.memory.buffer, this.ptr('h_slots'), n)); }

  setBuf(b: Uint8Array, fill = 0xcc, span = 4096): void {
    const p = this.ptr('h_buf');
    this.bytes.fill(fill, p, p + Math.max(span, b.length));
    this.bytes.set(b, p);
  }
  buf(n: number): Uint8Array { const p = this.ptr('h_buf'); return this.bytes.slice(p, p + n); }

  /** Writes s as UTF-16 at h_str + at; returns its length. */
  putStr(s: string, at = 0): number {
    const p = this.ptr('h_str') + at;
    const v = new DataView(this.ex.memory.buffer);
    for (let i = 0; i < s.length; i++) v.setUint16(p + 2 * i, s.charCodeAt(i), true);
    return s.length;
  }
  /** Reads the len UTF-16 units the harness left at h_str. */
  str(len: number): string {
    const p = this.ptr('h_str');
    const v = new DataView(this.ex.memory.buffer);
    let s = '';
    for (let i = 0; i < len; i++) s += String.fromCharCode(v.getUint16(p + 2 * i, true));
    return s;
  }
  /** An AssemblyScript string object (byte length in the word before it). */
  asString(ptr: number): string {
    if (ptr === 0) return '';
    const v = new DataView(this.ex.memory.buffer);
    const bytes = v.getUint32((ptr >>> 0) - 4, true);
    let s = '';
    for (let i = 0; i < bytes; i += 2) s += String.fromCharCode(v.getUint16((ptr >>> 0) + i, true));
    return s;
  }
}
