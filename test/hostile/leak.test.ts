// Issue 9, the leak test: 10,000 cycles of open, map, window into a fresh Memory, store, and drop
// everything without close() or unmap(), under --expose-gc. fds, /proc/self/maps, stats() and RSS
// must come back after collection. V8's own heap pages (256 KiB each, one maps line apiece) are
// allowed for: the heap may grow and keep its pages while what lives in it stays flat.
import { describe, expect, it } from 'vitest';
import { child } from './harness.js';

describe('leak test', () => {
  it('10,000 dropped device + mapping + window cycles: fds, maps, stats() and RSS flat', () => {
    const r = child(`
      import { readdirSync, readFileSync } from 'node:fs';
      const fds = () => readdirSync('/proc/self/fd').length;
      const maps = () => readFileSync('/proc/self/maps', 'utf8').split('\\n');
      const memfdMaps = () => maps().filter((l) => l.includes('memfd:vfio-sim')).length;
      const mem = () => process.memoryUsage();
      let failure = null;
      async function cycles(n) {
        for (let i = 0; i < n; i++) {
          const dev = openDevice('sim');
          const m = dev.map(0, { length: 0x10000 });
          m.write32(0, i);
          const memory = new WebAssembly.Memory({ initial: 2 });
          dev.mapInto(memory, 0, { offset: 0x10000, at: 0x10000, length: 0x10000 });
          new Uint8Array(memory.buffer)[0x10000] = i & 0xff;
          if (i % 100 === 99) { globalThis.gc(); await tick(); }
        }
      }
      // warm up (V8 and the allocator reach their working set), then measure
      const warm = await attemptAsync(() => cycles(1000));
      await settleUntil(zeroStats, 30);
      await settle(3);
      const base = { fds: fds(), maps: maps().length, rss: mem().rss, heapTotal: mem().heapTotal };
      const run = await attemptAsync(() => cycles(10000));
      const back = await settleUntil(zeroStats, 60);
      await settle(3);
      report({
        warm, run, back, base, fds: fds(), maps: maps().length, memfdMaps: memfdMaps(), stats: native().stats(),
        rssGrowth: mem().rss - base.rss, heapPages: Math.max(0, Math.ceil((mem().heapTotal - base.heapTotal) / (256 * 1024))),
      });
    `, { timeout: 110_000 });
    expect(r.warm).toEqual({ ok: true });
    expect(r.run).toEqual({ ok: true });
    expect(r.back).toBe(true);
    expect(r.stats).toEqual({ openDevices: 0, ranges: 0, windows: 0, dmaMappings: 0, dmaBuffers: 0, eventfds: 0 });
    expect(r.fds).toBe(r.base.fds);
    expect(r.memfdMaps).toBe(0);
    expect(r.maps - r.base.maps).toBeLessThanOrEqual(r.heapPages + 32);
    expect(r.rssGrowth).toBeLessThan(16 * 1024 * 1024);
  }, 120_000);
});
