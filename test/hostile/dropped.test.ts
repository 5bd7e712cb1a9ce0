// Issue 9, dropped objects: devices, mappings and windows dropped without close()/unmap() must be
// released by the garbage collector: their fds, their address ranges (vm.max_map_count), their
// backing memory, and the addon's books (stats()). Finalizers run deferred, so the children collect
// and let the event loop turn a few times before they look.
import { describe, expect, it } from 'vitest';
import { child } from './harness.js';

const PROC = `
import { readdirSync, readFileSync, readlinkSync, statfsSync } from 'node:fs';
const fds = () => readdirSync('/proc/self/fd').length;
const memfdFds = () => readdirSync('/proc/self/fd').filter((f) => { try { return readlinkSync('/proc/self/fd/' + f).includes('memfd:vfio-sim'); } catch { return false; } }).length;
const mapLines = () => readFileSync('/proc/self/maps', 'utf8').split('\\n').length;
const memfdMaps = () => readFileSync('/proc/self/maps', 'utf8').split('\\n').filter((l) => l.includes('memfd:vfio-sim')).length;
// what a 4 KiB device mapping can leave: its memfd line, or (revoked, not yet released) one anonymous
// page; V8's heap grows in lines of its own that are no mapping's
const pageLines = () => readFileSync('/proc/self/maps', 'utf8').split('\\n').filter((l) => {
  const m = /^([0-9a-f]+)-([0-9a-f]+) rw-p 00000000 00:00 0\\s*$/.exec(l);
  return l.includes('memfd:vfio-sim') || (m !== null && parseInt(m[2], 16) - parseInt(m[1], 16) === 4096);
}).length;
`;

describe('dropped objects', () => {
  it('2,000 devices (each with a mapping) dropped without close: fds, memfds and maps back to the baseline', () => {
    const r = child(`${PROC}
      (() => { const d = openDevice('sim'); d.map(0); d.close(); })();
      await settle();
      const base = { fds: fds(), memfdFds: memfdFds(), memfdMaps: memfdMaps() };
      async function drop(n) {
        for (let i = 0; i < n; i++) {
          const d = openDevice('sim');
          if (i % 2) d.map(0).write32(0, i);
          if (i % 100 === 99) { globalThis.gc(); await tick(); }
        }
      }
      await drop(2000);
      const back = await settleUntil(() => fds() <= base.fds && native().stats().openDevices === 0, 50);
      report({ base, back, fds: fds(), memfdFds: memfdFds(), memfdMaps: memfdMaps(), stats: native().stats() });
    `);
    expect(r.base).toEqual({ fds: r.base.fds, memfdFds: 0, memfdMaps: 0 });
    expect(r.back).toBe(true);
    expect(r.fds).toBe(r.base.fds);
    expect(r).toMatchObject({ memfdFds: 0, memfdMaps: 0, stats: { openDevices: 0, ranges: 0, windows: 0 } });
  });

  it('devices with their memory in a shmDir, dropped: the tmpfs gets its space back, no file is left', () => {
    const r = child(`${PROC}
      const dir = '/dev/shm';
      const free = () => statfsSync(dir).bfree;
      const config = { ...DEFAULT_SIM, shmDir: dir };
      (() => openDevice({ simulator: config }).close())();
      await settle();
      const base = { free: free(), files: readdirSync(dir).length, fds: fds() };
      async function drop(n) {
        for (let i = 0; i < n; i++) {
          openDevice({ simulator: config }).map(0).write32(0, 1);
          if (i % 50 === 49) { globalThis.gc(); await tick(); }
        }
      }
      await drop(500);
      const back = await settleUntil(() => fds() <= base.fds && native().stats().openDevices === 0, 50);
      report({ back, freeDiff: base.free - free(), files: readdirSync(dir).length - base.files, stats: native().stats() });
    `);
    expect(r.back).toBe(true);
    expect(r.files).toBe(0);
    // what other processes do on /dev/shm meanwhile is noise: 500 devices would be ~165 MiB
    expect(r.freeDiff * 4096).toBeLessThan(16 << 20);
    expect(r.stats).toEqual({ openDevices: 0, ranges: 0, windows: 0, dmaMappings: 0, dmaBuffers: 0, eventfds: 0 });
  });

  it('20,000 mappings dropped without unmap: /proc/self/maps stays flat, no ENOMEM, ranges back to 0', () => {
    const r = child(`${PROC}
      const dev = openDevice('sim');
      (() => dev.map(0, { length: 0x1000 }).unmap())();
      await settle();
      const base = mapLines();
      const basePages = pageLines();
      const heap = process.memoryUsage().heapUsed;
      let peak = 0;
      async function drop(n) {
        for (let i = 0; i < n; i++) {
          const m = dev.map(0, { offset: (i % 64) * 0x1000, length: 0x1000, prot: i % 3 === 0 ? native().PROT_READ : undefined });
          if (m.writable) m.bytes[0] = i & 0xff;
          if (i % 500 === 499) { peak = Math.max(peak, mapLines()); globalThis.gc(); await tick(); }
        }
      }
      const result = await attemptAsync(() => drop(20000));
      const back = await settleUntil(() => native().stats().ranges === 0, 50);
      await settle();
      report({ result, base, peak, basePages, afterPages: pageLines(), back, stats: native().stats(), heapGrowth: process.memoryUsage().heapUsed - heap });
    `, { timeout: 90_000 });
    expect(r.result).toMatchObject({ ok: true });
    expect(r.back).toBe(true);
    // each live mapping is one line; 500 between collections at most, and none left after
    expect(r.peak - r.base).toBeLessThan(1500);
    // and nothing per mapping stays behind in JS either (the device's books of its mappings)
    expect(r.heapGrowth).toBeLessThan(512 * 1024);
    expect(r.afterPages).toBe(r.basePages);
    expect(r.stats).toEqual({ openDevices: 1, ranges: 0, windows: 0, dmaMappings: 0, dmaBuffers: 0, eventfds: 0 });
  });

  it('a dropped writable mapping is released without touching the device, and the process exits cleanly', () => {
    // The ArrayBuffer's finalizer must release the mapping it belongs to: handed anything else (the
    // mapped address), it would leak the range and scribble on device memory, or crash at exit.
    const r = child(`
      const dev = openDevice('sim');
      const pattern = new Uint8Array(0x1000).map((_, i) => (i * 7) & 0xff);
      dev.write(0, 0, pattern);
      (() => { const m = dev.map(0, { length: 0x1000 }); m.bytes; })();
      const back = await settleUntil(() => native().stats().ranges === 0, 30);
      const now = dev.read(0, 0, 0x1000);
      const changed = [];
      for (let i = 0; i < now.length; i++) if (now[i] !== pattern[i]) changed.push(i);
      report({ back, changed: changed.slice(0, 16) });
    `);
    expect(r).toEqual({ back: true, changed: [] });
  });

  it('a Device, a Memory and a window into it, all dropped: stats() back to 0, fds back', () => {
    const r = child(`${PROC}
      (() => { const d = openDevice('sim'); d.close(); })();
      await settle();
      const base = fds();
      async function drop(n) {
        for (let i = 0; i < n; i++) {
          const dev = openDevice('sim');
          const mem = new WebAssembly.Memory({ initial: 4 });
          dev.mapInto(mem, 0, { at: 0x10000, length: 0x10000 });
          dev.map(2, { length: 0x1000 });
          new Uint8Array(mem.buffer)[0x10000] = 1;
          if (i % 20 === 19) { globalThis.gc(); await tick(); }
        }
      }
      const run = await attemptAsync(() => drop(200));
      const back = await settleUntil(() => zeroStats() && fds() <= base, 60);
      report({ run, back, stats: native().stats(), fds: fds(), base });
    `);
    expect(r.run).toEqual({ ok: true });
    expect(r.back).toBe(true);
    expect(r.stats).toEqual({ openDevices: 0, ranges: 0, windows: 0, dmaMappings: 0, dmaBuffers: 0, eventfds: 0 });
    expect(r.fds).toBe(r.base);
  });
});
