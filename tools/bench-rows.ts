/**
 * What every bench prints and how it times: the row, the table, and the timing helpers. Kept apart
 * from tools/bench.ts so that the guest's bench (test/kernel/bench-guest.mjs, under an emulated CPU)
 * loads them without the generator that bench.ts's codegen row imports.
 */

export interface BenchRow {
  name: string;
  ns: number;
  baselineNs: number;
  ratio: number;
}

/** ns per call of fn, over n calls after n / 10 of warm-up. */
export function time(n: number, fn: () => void): number {
  for (let i = 0; i < Math.max(1, n / 10); i++) fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - t0) / n;
}

/** Median of `runs` timings of fn(n), in ns per iteration. */
export function median(runs: number, fn: () => number): number {
  const xs = Array.from({ length: runs }, fn).sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)]!;
}

/** ns per iteration of a wasm loop fn(n) (its own loop inside), after one shorter run that tiers it up. */
export function timeWasm(n: number, fn: (n: number) => unknown): number {
  fn(Math.min(n, 100_000));
  const t0 = process.hrtime.bigint();
  fn(n);
  return Number(process.hrtime.bigint() - t0) / n;
}

export function formatRows(rows: BenchRow[]): string {
  const w = Math.max(32, ...rows.map((r) => r.name.length));
  const lines = [`${'benchmark'.padEnd(w + 3)}TS ns/op   C ns/op   ratio`];
  for (const r of rows) lines.push(`${r.name.padEnd(w)} ${r.ns.toFixed(1).padStart(10)} ${r.baselineNs.toFixed(1).padStart(9)} ${r.ratio.toFixed(2).padStart(7)}`);
  return lines.join('\n') + '\n';
}
