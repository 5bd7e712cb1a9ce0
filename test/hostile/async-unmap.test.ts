// Issue 9, use after unmap from async work: detaching the ArrayBuffer protects synchronous JS, not a
// threadpool job that already holds the pointer (crypto.randomFill, fs.read). Were the range
// munmapped at unmap()/close(), those jobs would fault (SIGSEGV) in the child.
import { describe, expect, it } from 'vitest';
import { child } from './harness.js';

describe('use after unmap from async work', () => {
  it('crypto.randomFill(m.bytes) then m.unmap(), many times: the process survives, every callback runs', () => {
    const r = child(`
      import { randomFill } from 'node:crypto';
      const dev = openDevice('sim');
      const after = [];
      async function run() {
        const jobs = [];
        for (let i = 0; i < 300; i++) {
          const m = dev.map(0); // all 256 KiB, so the job is still running when unmap() comes
          const b = m.bytes;
          jobs.push(new Promise((res) => randomFill(b, (err) => res(err ? String(err) : 'ok'))));
          m.unmap();
          if (i < 5) after.push({ bytes: attempt(() => m.bytes), byteLength: b.byteLength, bufferLength: b.buffer.byteLength, mapped: m.mapped });
        }
        return Promise.all(jobs);
      }
      const results = await run();
      // the revoked ranges are released once the buffers and handles are collected
      const released = await settleUntil(() => native().stats().ranges === 0);
      report({ callbacks: results.length, allOk: results.every((x) => x === 'ok'), after, released, devRead: dev.read(0, 0, 4).length });
    `);
    expect(r.callbacks).toBe(300);
    expect(r.allOk).toBe(true);
    expect(r.devRead).toBe(4);
    for (const a of r.after) {
      expect(a).toMatchObject({ bytes: { thrown: true, name: 'DeviceStateError', code: 'ERR_UNMAPPED' }, byteLength: 0, bufferLength: 0, mapped: false });
    }
    expect(r.released).toBe(true);
  });

  it('crypto.randomFill(m.bytes) then dev.close(), many devices: the process survives, every callback runs', () => {
    const r = child(`
      import { randomFill } from 'node:crypto';
      const after = [];
      async function run() {
        const jobs = [];
        for (let i = 0; i < 200; i++) {
          const dev = openDevice('sim');
          const m = dev.map(0);
          const b = m.bytes;
          jobs.push(new Promise((res) => randomFill(b, (err) => res(err ? String(err) : 'ok'))));
          dev.close();
          if (i < 5) after.push({ bytes: attempt(() => m.bytes), byteLength: b.byteLength, mapped: m.mapped });
        }
        return Promise.all(jobs);
      }
      const results = await run();
      await settleUntil(zeroStats);
      report({ callbacks: results.length, allOk: results.every((x) => x === 'ok'), after, stats: native().stats() });
    `);
    expect(r.callbacks).toBe(200);
    expect(r.allOk).toBe(true);
    for (const a of r.after) {
      expect(a).toMatchObject({ bytes: { thrown: true, name: 'DeviceStateError', code: 'ERR_UNMAPPED' }, byteLength: 0, mapped: false });
      expect(a.bytes.message).toMatch(/closed/);
    }
    expect(r.stats).toEqual({ openDevices: 0, ranges: 0, windows: 0, dmaMappings: 0, dmaBuffers: 0, eventfds: 0 });
  });

  it('fs.read into m.bytes then unmap() or close(), interleaved with randomFill: the process survives', () => {
    const r = child(`
      import { randomFill } from 'node:crypto';
      import { openSync, read, closeSync } from 'node:fs';
      const fd = openSync('/dev/urandom', 'r');
      const lengths = [];
      async function run() {
        const jobs = [];
        for (let i = 0; i < 200; i++) {
          const dev = openDevice('sim');
          const a = dev.map(0);
          const b = dev.map(0, { offset: 0x20000, length: 0x20000 });
          const ab = a.bytes, bb = b.bytes;
          jobs.push(new Promise((res) => read(fd, ab, 0, ab.length, null, (err, n) => res(err ? 'read ' + err.code : 'ok'))));
          jobs.push(new Promise((res) => randomFill(bb, (err) => res(err ? String(err) : 'ok'))));
          jobs.push(new Promise((res) => read(fd, bb, 0, 0x1000, null, (err, n) => res(err ? 'read ' + err.code : 'ok'))));
          if (i % 2) { a.unmap(); b.unmap(); } else dev.close();
          lengths.push(ab.byteLength + bb.byteLength);
        }
        return Promise.all(jobs);
      }
      const results = await run();
      closeSync(fd);
      await settleUntil(zeroStats);
      // what the callbacks saw is theirs to report; the point is that every one ran
      report({ callbacks: results.length, kinds: [...new Set(results)], lengths: [...new Set(lengths)], stats: native().stats() });
    `);
    expect(r.callbacks).toBe(600);
    expect(r.lengths).toEqual([0]);
    for (const k of r.kinds) expect(k).toMatch(/^(ok|read E\w+)$/);
    expect(r.stats).toEqual({ openDevices: 0, ranges: 0, windows: 0, dmaMappings: 0, dmaBuffers: 0, eventfds: 0 });
  });

  /**
   * A child's start for the read-job cases: an empty FIFO opened read-write as fd (a read(2) of it
   * blocks in the threadpool until something is written), dir to remove, and the default device.
   */
  const FIFO = `
      import { openSync, read, writeSync, closeSync, rmSync, mkdtempSync } from 'node:fs';
      import { execFileSync } from 'node:child_process';
      import { join } from 'node:path';
      import { tmpdir } from 'node:os';
      const dir = mkdtempSync(join(tmpdir(), 'vfio-fifo-'));
      const fifo = join(dir, 'p');
      execFileSync('mkfifo', [fifo]);
      const fd = openSync(fifo, 'r+');
      const dev = openDevice('sim');`;

  it('a read job blocked across unmap() lands in anonymous pages, never in the device', () => {
    // fs.read from an empty FIFO waits in the threadpool with the mapping's address; the data comes
    // only after unmap() and after the device was given new bytes at that place.
    const r = child(`${FIFO}
      const m = dev.map(0);
      const b = m.bytes;
      const done = new Promise((res) => read(fd, b, 0x3000, 0x1000, null, (err, n) => res(err ? err.code : n)));
      await new Promise((res) => setTimeout(res, 50)); // the job is blocked in read(2) now
      m.unmap();
      dev.write(0, 0x3000, new Uint8Array(0x1000).fill(0x5a));
      writeSync(fd, new Uint8Array(0x1000).fill(0xc3));
      const n = await done;
      closeSync(fd);
      rmSync(dir, { recursive: true });
      report({ n, byteLength: b.byteLength, device: [...new Set(dev.read(0, 0x3000, 0x1000))] });
    `);
    expect(r.n).toBe(0x1000);
    expect(r.byteLength).toBe(0);
    expect(r.device).toEqual([0x5a]);
  });

  it('the range outlives the Mapping while a job still holds its (detached) buffer: dropped and collected mid-read, no EFAULT', () => {
    // Detaching frees the buffer's backing store at once; what keeps the range is the ArrayBuffer
    // object the job holds. Drop the Mapping, collect, let other mappings take addresses, then
    // complete the read: it must land in the revoked range, not fault and not hit anything else.
    const r = child(`${FIFO}
      // the read's callback must not close over the Mapping (a closure keeps its whole scope alive)
      const startRead = (bytes) => new Promise((res) => read(fd, bytes, 0x3000, 0x1000, null, (err, n) => res(err ? err.code : n)));
      const job = await (() => {
        const m = dev.map(0);
        const p = startRead(m.bytes);
        // unmap 50 ms later, with the read blocked; { p } so that awaiting this does not wait for the read
        return new Promise((res) => setTimeout(() => { m.unmap(); res({ p }); }, 50));
      })();
      const pending = await Promise.race([job.p.then(() => 'settled'), new Promise((res) => setTimeout(() => res('waiting'), 10))]);
      for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((res) => setImmediate(res)); }
      const statsBefore = native().stats();
      const others = Array.from({ length: 64 }, () => dev.map(0, { length: 0x10000 }));
      for (const o of others) o.bytes.fill(0x11);
      writeSync(fd, new Uint8Array(0x1000).fill(0xc3));
      const n = await job.p;
      const touched = others.filter((o) => o.bytes.some((x) => x !== 0x11)).length;
      closeSync(fd);
      rmSync(dir, { recursive: true });
      report({ pending, n, touched, held: statsBefore.ranges });
    `);
    expect(r.pending).toBe('waiting');
    expect(r.n).toBe(0x1000);
    expect(r.touched).toBe(0);
    expect(r.held).toBe(1); // the revoked range, held by the job's buffer alone
  });
});
