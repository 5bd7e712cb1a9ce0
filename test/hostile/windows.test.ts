// Issue 9, windows into anything: mapInto must accept only a real WebAssembly.Memory (a window is
// MAP_FIXED over its bytes), hold it, and register windows process-wide. Without the brand check a
// look-alike would place a window over whatever its `buffer` names (another Mapping's pages, a
// Memory that is then collected); without the process-wide registry a worker and the main thread
// could map overlapping windows into one shared memory.
import { describe, expect, it } from 'vitest';
import { child, dist } from './harness.js';

const notMemory = { thrown: true, name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', isTypeError: true };

describe('windows into anything', () => {
  it('look-alikes of a WebAssembly.Memory are a TypeError naming memory, and nothing is mapped over them', () => {
    const r = child(`
      const dev = openDevice('sim');
      const other = openDevice('sim');
      const victim = other.map(0);
      victim.write32(0, 0xcafe);
      const mem = new WebAssembly.Memory({ initial: 4 });
      const mem2 = new WebAssembly.Memory({ initial: 4 });
      new Uint8Array(mem.buffer).fill(0x11);
      new Uint8Array(mem2.buffer).fill(0x22);
      const at = { at: 0, length: 0x1000 };
      const cases = {
        arrayBuffer: { buffer: new ArrayBuffer(0x20000) },
        plain: {},
        proxy: new Proxy(mem, {}),
        getter: { get buffer() { return mem2.buffer; } },
        memoryBuffer: { buffer: mem.buffer },
        mappingBuffer: { buffer: victim.bytes.buffer },
        prototypeOnly: Object.create(WebAssembly.Memory.prototype),
        arrayBufferItself: mem.buffer,
        func: Object.assign(() => {}, { buffer: mem.buffer }),
      };
      const out = {};
      for (const [k, v] of Object.entries(cases)) out[k] = attempt(() => dev.mapInto(v, 0, at));
      out.windows = native().stats().windows;
      out.memUntouched = new Uint8Array(mem.buffer).every((x) => x === 0x11);
      out.mem2Untouched = new Uint8Array(mem2.buffer).every((x) => x === 0x22);
      // the victim mapping still reaches its device
      victim.write32(4, 0xbeef);
      out.victim = [victim.read32(0), other.read(0, 4, 2)[0], other.read(0, 4, 2)[1]];
      report(out);
    `);
    for (const k of ['arrayBuffer', 'plain', 'proxy', 'getter', 'memoryBuffer', 'mappingBuffer', 'prototypeOnly', 'arrayBufferItself', 'func']) {
      expect(r[k], k).toMatchObject(notMemory);
      expect(r[k].message, k).toMatch(/^memory/);
    }
    expect(r).toMatchObject({ windows: 0, memUntouched: true, mem2Untouched: true, victim: [0xcafe, 0xef, 0xbe] });
  });

  it('a real Memory with a shadowing own `buffer` getter: the window lands in that Memory, not where the getter points', () => {
    const r = child(`
      const dev = openDevice('sim');
      const mem = new WebAssembly.Memory({ initial: 4 });
      const decoy = new WebAssembly.Memory({ initial: 4 });
      const realBuffer = () => Object.getOwnPropertyDescriptor(WebAssembly.Memory.prototype, 'buffer').get.call(mem);
      Object.defineProperty(mem, 'buffer', { get() { return decoy.buffer; } });
      const w = dev.mapInto(mem, 0, { at: 0x10000, length: 0x1000 });
      new Uint8Array(realBuffer())[0x10000] = 0x5a;
      report({ device: dev.read(0, 0, 1)[0], decoy: new Uint8Array(decoy.buffer)[0x10000] });
    `);
    expect(r).toEqual({ device: 0x5a, decoy: 0 });
  });

  it('WebAssembly.Memory.prototype.buffer replaced before the addon loads: a plain object is still refused', () => {
    // The brand check calls the original getter. Captured when the addon loads (lazily, at the
    // first call), it can be user code's replacement: then mapInto({}) maps wherever that getter
    // points, here over another Mapping's pages, which are then cut off from their device.
    const r = child(`
      const original = Object.getOwnPropertyDescriptor(WebAssembly.Memory.prototype, 'buffer').get;
      let target = null;
      Object.defineProperty(WebAssembly.Memory.prototype, 'buffer', { configurable: true, get() { return target ?? original.call(this); } });
      const dev = openDevice('sim');
      const other = openDevice('sim');
      const victim = other.map(0);
      target = victim.bytes.buffer;
      const window = attempt(() => dev.mapInto({}, 0, { at: 0, length: 0x1000 }) && 'mapped');
      target = null;
      victim.write32(0, 0x11223344);
      report({ window, victimReachesItsDevice: other.read(0, 0, 4)[3] === 0x11, otherDevice: dev.read(0, 0, 4)[3] });
    `);
    expect(r.window).toMatchObject(notMemory);
    expect(r.victimReachesItsDevice).toBe(true);
    expect(r.otherDevice).toBe(0);
  });

  it('a window over a real Memory, the Memory and window dropped: no crash, stats().windows back to 0', () => {
    const r = child(`
      const dev = openDevice('sim');
      function place(n) {
        for (let i = 0; i < n; i++) {
          const mem = new WebAssembly.Memory({ initial: 4 });
          dev.mapInto(mem, 0, { at: 0x10000, length: 0x10000 });
          new Uint8Array(mem.buffer)[0x10000 + i] = i + 1;
        }
      }
      place(20);
      const placed = native().stats().windows;
      const released = await settleUntil(() => native().stats().windows === 0, 60);
      const device = [...dev.read(0, 0, 20)];
      // a window whose handle is dropped but whose Memory lives stays: the guest keeps it
      const kept = new WebAssembly.Memory({ initial: 4 });
      (() => { dev.mapInto(kept, 0, { at: 0, length: 0x1000 }); })();
      await settle(4);
      const keptWindows = native().stats().windows;
      new Uint8Array(kept.buffer)[100] = 0x99;
      const keptReaches = dev.read(0, 100, 1)[0];
      dev.close();
      const zeroAfterClose = new Uint8Array(kept.buffer)[100];
      await settleUntil(zeroStats);
      report({ placed, released, device, keptWindows, keptReaches, zeroAfterClose, stats: native().stats() });
    `);
    expect(r.placed).toBe(20);
    expect(r.released).toBe(true);
    expect(r.device).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(r.keptWindows).toBe(1);
    expect(r.keptReaches).toBe(0x99);
    expect(r.zeroAfterClose).toBe(0);
    expect(r.stats).toEqual({ openDevices: 0, ranges: 0, windows: 0, dmaMappings: 0, dmaBuffers: 0, eventfds: 0 });
  });

  it('a fresh Memory at the address of a collected one is never refused because of the old window', () => {
    // V8 frees a collected Memory's pages at GC time and may hand the same addresses to the next
    // Memory, while the old window's finalizer runs later (deferred): the registry must not still
    // hold the old window then (EBUSY for a window that overlaps nothing alive).
    const r = child(`
      const dev = openDevice('sim');
      let i = 0;
      async function run() {
        for (; i < 5000; i++) {
          const mem = new WebAssembly.Memory({ initial: 2 });
          dev.mapInto(mem, 0, { at: 0x10000, length: 0x10000 });
          if (i % 10 === 9) await tick();
          // a collection frees dropped Memories at once; their finalizers run later
          if (i % 50 === 49) globalThis.gc();
        }
      }
      const result = await attemptAsync(run);
      await settleUntil(() => native().stats().windows === 0, 60);
      report({ i, result, windows: native().stats().windows });
    `);
    expect(r.result).toEqual({ ok: true });
    expect(r.i).toBe(5000);
    expect(r.windows).toBe(0);
  });

  it('a worker and the main thread share one Memory: overlapping windows are EBUSY both ways, unmapping one leaves the other working', () => {
    const r = child(`
      import { Worker } from 'node:worker_threads';
      const mem = new WebAssembly.Memory({ initial: 8, maximum: 8, shared: true });
      const bytes = new Uint8Array(mem.buffer);
      const dev = openDevice('sim');
      const a = dev.mapInto(mem, 0, { at: 0, length: 0x10000 });
      const worker = new Worker(\`
        const { parentPort } = await import('node:worker_threads');
        let dev, mem, bytes, b, c;
        const d = (e) => ({ name: e.name, code: e.code, operation: e.operation, message: e.message });
        parentPort.on('message', async (msg) => {
          try {
            if (msg.cmd === 'init') {
              ({ mem } = msg);
              bytes = new Uint8Array(mem.buffer);
              const { openDevice } = await import(msg.url);
              dev = openDevice('sim');
              let overlap;
              try { dev.mapInto(mem, 0, { at: 0x8000, length: 0x10000 }); overlap = 'mapped'; } catch (e) { overlap = d(e); }
              b = dev.mapInto(mem, 0, { at: 0x20000, length: 0x10000 });
              c = dev.mapInto(mem, 0, { offset: 0x10000, at: 0x30000, length: 0x10000 });
              bytes[0x20000] = 0x77;
              parentPort.postMessage({ overlap, reaches: dev.read(0, 0, 1)[0] });
            } else if (msg.cmd === 'unmapB') {
              b.unmap();
              parentPort.postMessage({ bAfter: bytes[0x20000] });
            } else if (msg.cmd === 'useC') {
              bytes.set([1, 2, 3, 4], 0x30000);
              parentPort.postMessage({ c: [...dev.read(0, 0x10000, 4)] });
            }
          } catch (e) { parentPort.postMessage({ error: d(e) }); }
        });
      \`, { eval: true });
      const ask = (msg) => new Promise((res) => { worker.once('message', res); worker.postMessage(msg); });
      const out = {};
      out.init = await ask({ cmd: 'init', mem, url: ${JSON.stringify(dist('runtime/src/device.js'))} });
      // the main thread cannot overlap the worker's windows either
      out.mainOverlap = attempt(() => dev.mapInto(mem, 0, { at: 0x28000, length: 0x1000 }));
      out.windows = native().stats().windows;
      out.unmapB = await ask({ cmd: 'unmapB' });
      bytes.set([9, 8, 7, 6], 0x100);
      out.aAfterB = [...dev.read(0, 0x100, 4)];
      a.unmap();
      out.useC = await ask({ cmd: 'useC' });
      out.aZero = bytes[0x100];
      await worker.terminate();
      dev.close();
      await settleUntil(() => native().stats().windows === 0);
      out.end = native().stats();
      report(out);
    `);
    const busy = { name: 'VfioError', code: 'EBUSY', operation: 'mapInto' };
    expect(r.init.overlap).toMatchObject(busy);
    expect(r.init.reaches).toBe(0x77);
    expect(r.mainOverlap).toMatchObject({ thrown: true, ...busy });
    expect(r.windows).toBe(3);
    expect(r.unmapB).toEqual({ bAfter: 0 });
    expect(r.aAfterB).toEqual([9, 8, 7, 6]);
    expect(r.useC).toEqual({ c: [1, 2, 3, 4] });
    expect(r.aZero).toBe(0);
    expect(r.end).toEqual({ openDevices: 0, ranges: 0, windows: 0, dmaMappings: 0, dmaBuffers: 0, eventfds: 0 });
  });
});
