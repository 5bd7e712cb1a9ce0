import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runNicTx, formatNicTx } from '../../examples/nic-tx/main.js';

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
