// Issue 9, the raw ioctl: a request whose argument size the addon cannot prove (legacy
// direction-less numbers like FIONREAD and SIOCGIFNAME, anything outside the spec's table) must be
// refused before it runs, and a proven one must work on a private copy: an argsz larger than the
// buffer is refused, and argsz changed by another thread after the check (a SharedArrayBuffer) never
// lets the device reach past the view. Each argument is a view inside a larger buffer filled with a
// canary: a write past the view would show there.
import { describe, expect, it } from 'vitest';
import { child } from './harness.js';

const CANARY = `
const CANARY = 0xa5;
/** A view of n bytes at offset 64 of a 4 KiB canary-filled buffer (or a SharedArrayBuffer). */
function framed(n, shared = false) {
  const whole = new Uint8Array(shared ? new SharedArrayBuffer(4096) : new ArrayBuffer(4096)).fill(CANARY);
  return { whole, arg: whole.subarray(64, 64 + n) };
}
const untouched = (whole, from, to) => whole.subarray(from, to).every((x) => x === CANARY);
const VFIO_DEVICE_GET_INFO = 0x3b6b, VFIO_DEVICE_GET_REGION_INFO = 0x3b6c;
`;

describe('raw ioctl', () => {
  it('FIONREAD, SIOCGIFNAME and other numbers outside the table are a RangeError; nothing is written', () => {
    const r = child(`${CANARY}
      const n = native();
      const dev = openDevice('sim');
      const out = {};
      // legacy direction-less numbers, _IO numbers of another type, VFIO-type numbers outside the table, junk
      const requests = { FIONREAD: 0x541b, SIOCGIFNAME: 0x8910, TCGETS: 0x5401, FIOCLEX: 0x5451, io_x_1: 0x7801,
        vfio_unknown: 0x3b7f, vfio_base_30: 0x3b82, zero: 0, max: 0xffffffff, dirBits: 0xc0203b6c };
      for (const [name, req] of Object.entries(requests)) {
        const { whole, arg } = framed(64);
        out[name] = { r: attempt(() => n.ioctl(dev.handle, req, arg)), clean: untouched(whole, 0, 4096) };
      }
      report(out);
    `);
    for (const [name, v] of Object.entries(r as Record<string, any>)) {
      expect(v.r, name).toMatchObject({ thrown: true, name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
      expect(v.r.message, name).toMatch(/^request 0x[0-9a-f]+ is not an ioctl of the spec/);
      expect(v.clean, name).toBe(true);
    }
  });

  it('the same numbers on a real fd (a socket, where SIOCGIFNAME writes 40 bytes) are refused before the kernel sees them', () => {
    const r = child(`${CANARY}
      import { createServer } from 'node:net';
      const n = native();
      const server = createServer().listen(0, '127.0.0.1');
      await new Promise((res) => server.once('listening', res));
      const dev = n.adoptFd(server._handle.fd);
      const out = {};
      for (const [name, req] of Object.entries({ FIONREAD: 0x541b, SIOCGIFNAME: 0x8910 })) {
        const { whole, arg } = framed(4);
        out[name] = { r: attempt(() => n.ioctl(dev, req, arg)), clean: untouched(whole, 0, 4096) };
      }
      n.close(dev);
      server.close();
      report(out);
    `);
    for (const name of ['FIONREAD', 'SIOCGIFNAME']) {
      expect(r[name].r, name).toMatchObject({ thrown: true, name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
      expect(r[name].clean, name).toBe(true);
    }
  });

  it('argsz larger than the buffer, or a buffer shorter than the struct: RangeError, nothing written', () => {
    const r = child(`${CANARY}
      const n = native();
      const dev = openDevice('sim');
      const out = {};
      const cases = { regionArgszBig: [VFIO_DEVICE_GET_REGION_INFO, 32, 4096], regionArgszOneOver: [VFIO_DEVICE_GET_REGION_INFO, 32, 33],
        regionShort: [VFIO_DEVICE_GET_REGION_INFO, 16, 16], infoArgszBig: [VFIO_DEVICE_GET_INFO, 24, 0xffffffff], empty: [VFIO_DEVICE_GET_INFO, 0, 0] };
      for (const [name, [req, len, argsz]] of Object.entries(cases)) {
        const { whole, arg } = framed(len);
        const view = new DataView(whole.buffer, 64);
        if (len >= 4) view.setUint32(0, argsz, true);
        if (len >= 12) view.setUint32(8, 0, true); // region index 0
        const before = [...arg];
        out[name] = { r: attempt(() => n.ioctl(dev.handle, req, arg)), clean: untouched(whole, 0, 64) && untouched(whole, 64 + len, 4096), same: [...arg].every((x, i) => x === before[i]) };
      }
      // and a proven one with argsz exactly the buffer works, writing inside it only
      const { whole, arg } = framed(256);
      arg.fill(0);
      new DataView(whole.buffer, 64).setUint32(0, 256, true);
      out.exact = { r: attempt(() => n.ioctl(dev.handle, VFIO_DEVICE_GET_REGION_INFO, arg)), clean: untouched(whole, 0, 64) && untouched(whole, 320, 4096),
        size: new DataView(whole.buffer, 64).getBigUint64(16, true) };
      report(out);
    `);
    for (const name of ['regionArgszBig', 'regionArgszOneOver', 'regionShort', 'infoArgszBig', 'empty']) {
      expect(r[name].r, name).toMatchObject({ thrown: true, name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
      expect(r[name].r.message, name).toMatch(/^arg \(\d+ bytes\) (does not hold|is shorter than)/);
      expect(r[name].clean, name).toBe(true);
      expect(r[name].same, name).toBe(true);
    }
    expect(r.exact).toMatchObject({ r: { ok: true, value: 0 }, clean: true, size: `${256 * 1024}n` });
  });

  it('argsz flipped by a Worker in a tight loop during many GET_REGION_INFO ioctls: no crash, the canary after the view never changes', () => {
    const r = child(`${CANARY}
      import { Worker } from 'node:worker_threads';
      const n = native();
      const dev = openDevice('sim');
      const { whole, arg } = framed(64, true);
      const words = new Int32Array(whole.buffer);
      const ARGSZ = 64 / 4; // arg starts at byte 64: its argsz is word 16
      const stop = new Int32Array(new SharedArrayBuffer(4));
      const worker = new Worker(\`
        const { workerData } = await import('node:worker_threads');
        const words = new Int32Array(workerData.sab), stop = new Int32Array(workerData.stop);
        // 32: fits; 64: the whole view; 4096 and 0xffffffff: past it
        const values = [32, 4096, 64, -1, 16, 0x100000];
        let i = 0;
        Atomics.store(stop, 0, 1);
        while (Atomics.load(stop, 0) === 1) Atomics.store(words, \${ARGSZ}, values[i++ % values.length]);
      \`, { eval: true, workerData: { sab: whole.buffer, stop: stop.buffer } });
      while (Atomics.load(stop, 0) !== 1) await new Promise((res) => setTimeout(res, 1));
      const seen = { ok: 0, refused: 0, errno: 0, other: [] };
      let canaryChanged = false;
      const index = [0, 2, 6, 7];
      // 30,000 calls, and on a loaded machine (the Worker scheduled in long slices) more, until both outcomes were seen
      const deadline = performance.now() + 30_000;
      for (let i = 0; i < 30000 || ((seen.ok === 0 || seen.refused === 0) && performance.now() < deadline); i++) {
        // the request's fields, rewritten each time (the device writes its reply into them)
        Atomics.store(words, ARGSZ + 1, 0);
        Atomics.store(words, ARGSZ + 2, index[i % 4]);
        Atomics.store(words, ARGSZ + 3, 0);
        try {
          const v = n.ioctl(dev.handle, VFIO_DEVICE_GET_REGION_INFO, arg);
          if (v >= 0) seen.ok++; else seen.errno++;
        } catch (e) {
          if (e instanceof RangeError) seen.refused++; else if (seen.other.length < 5) seen.other.push(String(e));
        }
        if ((i & 255) === 0 && !(untouched(whole, 0, 64) && untouched(whole, 128, 4096))) { canaryChanged = true; break; }
      }
      Atomics.store(stop, 0, 2);
      await new Promise((res) => worker.once('exit', res));
      canaryChanged ||= !(untouched(whole, 0, 64) && untouched(whole, 128, 4096));
      report({ seen, canaryChanged });
    `, { timeout: 90_000 });
    expect(r.canaryChanged).toBe(false);
    expect(r.seen.other).toEqual([]);
    // the flipping was seen both ways
    expect(r.seen.ok).toBeGreaterThan(0);
    expect(r.seen.refused).toBeGreaterThan(0);
  });
});
