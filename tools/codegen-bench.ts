import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { render } from '../codegen/generate.js';
import { DEFAULT_SPEC, flattenSpec, loadSpec, SHARED_SECTIONS } from '../codegen/load.js';

/**
 * The generation-linearity row of `npm run bench`: generating every target of a spec 10 times the
 * size of the real spec set takes at most 12 times as long (issue 10, Deliver 5). The large spec is
 * the real one (the default spec with its imports inlined) with its shared sections replicated
 * under new names, so every item, reference and chain is there ten times over.
 */

type Json = Record<string, unknown>;

/**
 * The sections a copy replicates. Copies share the fd kinds: the argument table keeps an ioctl's
 * kinds as a 32-bit set, so kinds cannot grow tenfold; an ioctl type character of its own keeps a
 * copy's ioctl numbers apart from the original's on the same kind.
 */
const REPLICATED = SHARED_SECTIONS.filter((s) => s !== 'fd-kinds');

/** Top-level names (C macros and struct names) the replicated sections define: what a copy renames. */
function definedNames(spec: Json): Set<string> {
  const names = new Set<string>();
  for (const section of REPLICATED) {
    for (const item of (spec[section] as Json[] | undefined) ?? []) {
      names.add(item.name as string);
      for (const sub of [...((item.values as Json[] | undefined) ?? []), ...((item.bits as Json[] | undefined) ?? [])]) names.add(sub.name as string);
    }
  }
  return names;
}

/**
 * A copy of a shared-section item with every defined name it mentions suffixed: in references
 * ("struct foo", "A | B", a flag set's name) and in its own names; prose is left as it is. A copy
 * gets ioctl type characters of its own and feature numbers past the real ones.
 */
function renamed(item: unknown, names: Set<string>, suffix: string, copy: number, key = ''): unknown {
  if (typeof item === 'string') {
    if (key === 'doc' || key === 'when' || key === 'title') return item;
    if (key === 'char') return String.fromCharCode(item.charCodeAt(0) + copy);
    return item.replace(/[A-Za-z_][A-Za-z0-9_]*/g, (w) => (names.has(w) ? `${w}${/^_*[a-z]/.test(w) ? suffix.toLowerCase() : suffix}` : w));
  }
  if (Array.isArray(item)) return item.map((x) => renamed(x, names, suffix, copy, key));
  if (item === null || typeof item !== 'object') return item;
  const out: Json = {};
  for (const [k, v] of Object.entries(item)) out[k] = k === 'number' && key === 'features' ? (v as number) + 1000 * copy : renamed(v, names, suffix, copy, k);
  return out;
}

/**
 * The spec with its shared sections `times` times over: the original items and times - 1 renamed
 * copies (a feature's validator stays with the original: validators are not replicated).
 */
export function replicateSpec(spec: Json, times: number): Json {
  const names = definedNames(spec);
  const out = structuredClone(spec);
  for (const section of REPLICATED) {
    const items = (spec[section] as Json[] | undefined) ?? [];
    const copies: unknown[] = [];
    for (let k = 1; k < times; k++) {
      for (const item of items) {
        const c = renamed(item, names, `_R${k}`, k, section) as Json;
        if (section === 'features') for (const op of Object.values((c.ops as Record<string, Json> | undefined) ?? {})) delete op.validator;
        copies.push(c);
      }
    }
    if (copies.length > 0) out[section] = [...items, ...copies];
  }
  return out;
}

/** Median of `runs` timings of fn, in ns. */
function median(runs: number, fn: () => void): number {
  const xs = Array.from({ length: runs }, () => {
    const t0 = process.hrtime.bigint();
    fn();
    return Number(process.hrtime.bigint() - t0);
  }).sort((a, b) => a - b);
  return xs[Math.floor(runs / 2)]!;
}

/**
 * Times load + resolve + every target's emitter (what `npm run gen` does, without writing) on the
 * real spec set and on a `times`-size copy: { ns (large), baselineNs (real), ratio }.
 */
export function runCodegenBench(times = 10, runs = 3): { name: string; ns: number; baselineNs: number; ratio: number }[] {
  const dir = mkdtempSync(join(tmpdir(), 'codegen-bench-'));
  try {
    const flat = { ...flattenSpec(DEFAULT_SPEC), $schema: './schema/abi.schema.json' };
    const small = join(dir, 'x1.json');
    const large = join(dir, `x${times}.json`);
    writeFileSync(small, JSON.stringify(flat));
    writeFileSync(large, JSON.stringify(replicateSpec(flat, times)));
    const generate = (file: string) => () => { render(loadSpec(file)); };
    generate(small)();	// warm the JIT and the schema compiler on the small one
    const baselineNs = median(runs, generate(small));
    const ns = median(runs, generate(large));
    return [{ name: `codegen: ${times}x spec vs 1x`, ns, baselineNs, ratio: ns / baselineNs }];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
