// The simulator (native/src/sim.c) and the generated validators under AddressSanitizer and UBSan:
// test/native/sim_driver.c runs every ioctl path with known answers, then thousands of random
// requests from a fixed seed, checking the ABI's invariants after each, on memfd memory and on
// unnamed O_TMPFILE files in a directory, with sim_forget (pages replaced by the caller, as the
// addon revokes) among the random steps. Any sanitizer report, leak or failed invariant is a
// non-zero exit. The driver's device is standardConfig() (test/native/helpers.ts), printed as a C
// header by tools/sim-config-c.ts into the build directory.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT as root } from '../../codegen/paths.js';
import { simConfigToC } from '../../tools/sim-config-c.js';
import { standardConfig } from './helpers.js';
import { E1000E_SIM } from '../../runtime/src/sim-presets.js';
import { C_TWIN_SOURCES } from '../../tools/e1000e-bench.js';

const CC = process.env.CC ?? 'gcc';
const FLAGS = ['-std=gnu11', '-Wall', '-Wextra', '-Werror', '-g', '-O1', '-fno-omit-frame-pointer',
  '-fsanitize=address,undefined', '-fno-sanitize-recover=all'];

let work: string;
/** Why this machine cannot run the sanitized driver, or null when it can. */
let noSanitizers: string | null = null;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'vfio-sim-asan-'));
  // Can this machine build and run a sanitized program at all?
  writeFileSync(join(work, 'probe.c'), 'int main(void) { return 0; }\n');
  const probe = spawnSync(CC, [...FLAGS, join(work, 'probe.c'), '-o', join(work, 'probe')], { encoding: 'utf8' });
  noSanitizers = probe.status === 0 && spawnSync(join(work, 'probe')).status === 0
    ? null : `${CC} cannot build and run a program with -fsanitize=address,undefined: ${String(probe.stderr || probe.error || 'the probe failed').trim().split('\n')[0]}`;
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('simulator under ASan and UBSan', () => {
  it('builds and runs the driver: every ioctl path, memfd and shm-dir memory, sim_forget, 5000 random requests', (ctx) => {
    if (noSanitizers !== null) ctx.skip(noSanitizers);
    const exe = join(work, 'sim_driver');
    writeFileSync(join(work, 'standard_config.h'), simConfigToC(standardConfig(), 'standard_config'));
    const build = spawnSync(CC, [
      ...FLAGS,
      '-I', work, '-I', join(root, 'native/include'), '-idirafter', join(root, 'native/include/fallback'), '-I', join(root, 'native/validators'), '-I', join(root, 'native/src'),
      join(root, 'test/native/sim_driver.c'), join(root, 'native/src/sim.c'), join(root, 'native/src/sim_iommu.c'), join(root, 'native/src/sim_irq.c'), join(root, 'native/src/sim_e1000e.c'),
      join(root, 'native/validators/vfio_subregion_validate.c'), '-o', exe,
    ], { encoding: 'utf8' });
    expect(build.status, build.stderr).toBe(0);
    const shm = mkdtempSync(join(work, 'shm-'));
    const run = spawnSync(exe, [shm, '5000'], {
      encoding: 'utf8',
      timeout: 110_000,
      env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0', UBSAN_OPTIONS: 'print_stacktrace=1' },
    });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(/^ok 5000 iterations: [1-9]\d* subregions, [1-9]\d* mappings, [1-9]\d* refused for their memory type, .* [1-9]\d* forgotten$/m);
    // the memory there was never named
    expect(readdirSync(shm)).toEqual([]);
  });

  it('the e1000e model under the C twin of the example driver: reset, 20000 frames over a wrapping ring, MSI-X, the frame log', (ctx) => {
    if (noSanitizers !== null) ctx.skip(noSanitizers);
    const exe = join(work, 'e1000e_driver');
    writeFileSync(join(work, 'e1000e_device.h'), simConfigToC(E1000E_SIM, 'e1000e_device'));
    const build = spawnSync(CC, [
      ...FLAGS,
      '-I', work, '-I', join(root, 'native/include'), '-idirafter', join(root, 'native/include/fallback'), '-I', join(root, 'native/validators'), '-I', join(root, 'native/src'),
      ...C_TWIN_SOURCES.map((f) => join(root, f)), '-o', exe,
    ], { encoding: 'utf8' });
    expect(build.status, build.stderr).toBe(0);
    const run = spawnSync(exe, ['20000', '100'], {
      encoding: 'utf8',
      timeout: 110_000,
      env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0', UBSAN_OPTIONS: 'print_stacktrace=1' },
    });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ frames: 20000, modelFrames: 20000, faults: 0, checked: 1024, mismatches: 0 });
  });
});
