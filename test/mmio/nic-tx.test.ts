import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IVSHMEM_LAYOUT, PREBUILT, prebuildNicTx, runNicTx, formatNicTx, type WindowSummary } from '../../examples/nic-tx/main.js';
import { prebuildRingProducer, ringProducer } from '../../examples/ring-producer/main.js';
import { openDevice } from '../../runtime/src/device.js';
import { IVSHMEM_SIM } from '../../runtime/src/sim-presets.js';

describe('example nic-tx', () => {
  it('the device model sees every descriptor, intact and in order (locked fence)', async () => {
    const r = await runNicTx({ descriptors: 20_000, batch: 16 });
    expect(r.device).toMatchObject({ consumed: 20_000, errors: 0, firstError: null });
    expect(r.fence).toBe(process.arch === 'x64' ? 'locked-rmw' : 'host-wmb');
    expect(r.windows.map((w) => w.attrs)).toEqual([0, 1]);
    expect(formatNicTx(r)).toMatch(/every descriptor in order and intact/);
  });
  it('the same with the host wmb() (native sfence) and a ring that wraps many times', async () => {
    const r = await runNicTx({ descriptors: 10_000, batch: 7, hostFence: true });
    expect(r.device).toMatchObject({ consumed: 10_000, errors: 0 });
    expect(r.fence).toBe('host-wmb');
  });
});

describe('nic-tx as a WASI command and as a component', () => {
  it('WASI preview1 (node:wasi): the guest requests its windows through vfio.map_window', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nic-tx-wasi-out-'));
    const fd = openSync(join(dir, 'stdout'), 'w');
    try {
      const r = await runNicTx({ descriptors: 20_000, mode: 'wasi', stdout: fd });
      expect(r.device).toMatchObject({ consumed: 20_000, errors: 0 });
      expect(r.windows.map((w) => w.name)).toEqual(['registers (doorbell)', 'TX push buffer']);
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(join(dir, 'stdout'), 'utf8')).toBe('nic-tx (wasi): pushed 20000 descriptors, 1280000 bytes\n');
    rmSync(dir, { recursive: true, force: true });
  });
  it('component (jco, instantiation async): windows mapped into the component\'s core memory', async () => {
    const r = await runNicTx({ descriptors: 20_000, mode: 'component' });
    expect(r.device).toMatchObject({ consumed: 20_000, errors: 0 });
    expect(r.mode).toBe('component');
  });
});

describe('examples region-info and ring-producer', () => {
  it('region-info lists the WC subregion it created', async () => {
    const { regionInfo } = await import('../../examples/region-info/main.js');
    let out = '';
    regionInfo('sim', (s) => { out += s; });
    expect(out).toMatch(/subregion yes/);
    expect(out).toMatch(/\n\s+9\s+128K\s+0xf\s+WC\s+SUBREGION ATTRS \(BAR0 \+0x20000\)/);
  });
  it('ring-producer: every record intact and in order across many wraps', async () => {
    const { ringProducer } = await import('../../examples/ring-producer/main.js');
    let out = '';
    const r = await ringProducer(20_000, (s) => { out += s; });
    expect(r).toMatchObject({ records: 20_000, errors: 0 });
    expect(out).toMatch(/every record intact and in order/);
  });
});

describe('the examples as test:kernel runs them in the guest: ivshmem\'s layout, prebuilt drivers', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nic-tx-prebuilt-'));
    await prebuildNicTx(dir);
    await prebuildRingProducer(dir);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['core', 'wasi', 'component'] as const)('nic-tx (%s) on BAR2 of a simulated ivshmem: the push buffer a WC subregion, the registers an uncached page', async (mode) => {
    const dev = openDevice({ simulator: IVSHMEM_SIM });
    const stdout = openSync('/dev/null', 'w');
    try {
      const seen: number[] = [];
      const r = await runNicTx({ device: dev, layout: IVSHMEM_LAYOUT, prebuilt: dir, mode, descriptors: 5000, stdout, onMapped: (w: WindowSummary[]) => seen.push(w.length) });
      expect({ device: r.device, consumed: r.consumed, uncached: r.uncachedBecause }).toMatchObject({ device: { consumed: 5000, errors: 0, firstError: null }, consumed: 5000, uncached: null });
      // region 9: the subregion of BAR2 at +0xe0000 (IVSHMEM_SIM has regions 0-8)
      expect(r.windows.map((w) => [w.region, w.offset, w.size, w.attrs])).toEqual([[2, 0x20000n, 0x10000, 0], [9, 0n, 0x20000, 1]]);
      expect(dev.region(9).subregion).toEqual({ parent: 2, offset: 0xe0000n });
      expect(seen).toEqual([1, 2]);
    } finally {
      closeSync(stdout);
      dev.close();
    }
  });

  it('ring-producer on the same layout', async () => {
    const dev = openDevice({ simulator: IVSHMEM_SIM });
    try {
      const r = await ringProducer(5000, () => {}, { device: dev, layout: IVSHMEM_LAYOUT, prebuilt: dir });
      expect(r).toMatchObject({ records: 5000, errors: 0, uncachedBecause: null });
      expect(r.consumedSlots).toBe(r.producedSlots);
      expect(r.windows.map((w) => [w.region, w.offset, w.attrs])).toEqual([[2, 0x20000n, 0], [9, 0n, 1]]);
    } finally {
      dev.close();
    }
  });

  it('the prebuilt driver is the one that runs', async () => {
    const bad = mkdtempSync(join(tmpdir(), 'nic-tx-prebuilt-bad-'));
    try {
      writeFileSync(join(bad, PREBUILT.core), 'not wasm');
      await expect(runNicTx({ prebuilt: bad, descriptors: 10 })).rejects.toThrow(/^WebAssembly.*: expected magic word|CompileError/);
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });
});
