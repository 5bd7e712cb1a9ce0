import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDevice } from './device.js';
import { VfioRegionAttr } from './generated/vfio-subregion.js';

/**
 * `npm run bench`: the TypeScript API against the simulator vs the same call sequence in C
 * (native/bench/bench_sim.c), measured in the same run. Prints a table, and with --json one JSON
 * array as the last line: {name, ns, baselineNs, ratio} per row.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), fileURLToPath(import.meta.url).includes('/dist/') ? '../../..' : '../..');

export interface BenchRow {
  name: string;
  ns: number;
  baselineNs: number;
  ratio: number;
}

function nativeBaseline(iterations: number, creates: number): Record<string, number> {
  const dir = mkdtempSync(join(tmpdir(), 'vfio-bench-'));
  try {
    const exe = join(dir, 'bench_sim');
    execFileSync('gcc', [
      '-O2', '-std=gnu11', '-I', join(ROOT, 'native/include'), '-I', join(ROOT, 'native/validators'), '-I', join(ROOT, 'native/src'),
      join(ROOT, 'native/bench/bench_sim.c'), join(ROOT, 'native/src/sim.c'), join(ROOT, 'native/validators/vfio_subregion_validate.c'), '-o', exe,
    ], { stdio: ['ignore', 'inherit', 'inherit'] });
    return JSON.parse(execFileSync(exe, [String(iterations), String(creates)], { encoding: 'utf8' })) as Record<string, number>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function time(n: number, fn: () => void): number {
  for (let i = 0; i < Math.max(1, n / 10); i++) fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - t0) / n;
}

export function runApiBench(iterations = 100_000, creates = 3_500): BenchRow[] {
  const baseline = nativeBaseline(iterations, creates);
  const dev = openDevice({
    simulator: {
      regions: [{ size: 256n << 10n, kind: 'memory', readable: true, writable: true, mmap: true, supportedAttrs: VfioRegionAttr.VFIO_REGION_ATTR_WC }],
      numIrqs: 1,
      maxSubregions: 4096,
    },
  });
  try {
    const regionInfo = time(iterations, () => dev.region(0));
    const create = time(creates, () => {
      const sub = dev.createSubregion({ parent: 0, offset: 128n << 10n, size: 64n << 10n, attrs: VfioRegionAttr.VFIO_REGION_ATTR_WC });
      dev.map(sub).unmap();
    });
    return [
      { name: 'region-info', ns: regionInfo, baselineNs: baseline['region-info']! },
      { name: 'subregion-create-map-unmap', ns: create, baselineNs: baseline['subregion-create-map-unmap']! },
    ].map((r) => ({ ...r, ratio: r.ns / r.baselineNs }));
  } finally {
    dev.close();
  }
}

export function formatRows(rows: BenchRow[]): string {
  const lines = ['benchmark                          TS ns/op   C ns/op   ratio'];
  for (const r of rows) lines.push(`${r.name.padEnd(32)} ${r.ns.toFixed(1).padStart(10)} ${r.baselineNs.toFixed(1).padStart(9)} ${r.ratio.toFixed(2).padStart(7)}`);
  return lines.join('\n') + '\n';
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const json = process.argv.includes('--json');
  const rows = runApiBench();
  process.stdout.write(`${formatRows(rows)}(target: TypeScript within 2x of C per call; ${process.arch}, Node ${process.version})\n`);
  if (json) process.stdout.write(JSON.stringify(rows) + '\n');
}
