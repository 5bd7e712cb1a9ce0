// Issue 9, Device.read/write: bounded by the region (no fd offset of another region reachable,
// no read near the end returning padding, no partial write reported as success), and a region the
// device refuses writes to is a VfioError of 'write'.
import { describe, expect, it } from 'vitest';
import { child } from './harness.js';

const pastEnd = { thrown: true, name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE', isRangeError: true };

describe('Device.read / Device.write bounds', () => {
  it('offsets past the region and lengths running past its end are a RangeError naming offset; nothing moves', () => {
    const r = child(`
      const dev = openDevice('sim');
      const END = 256 * 1024;
      dev.write(0, END - 4, new Uint8Array([1, 2, 3, 4]));
      const out = {
        readPast: attempt(() => dev.read(0, END + 4, 4)),
        readAtEnd: attempt(() => dev.read(0, END, 1)),
        readRunning: attempt(() => dev.read(0, END - 2, 4)),
        readBigint: attempt(() => dev.read(0, BigInt(END - 1), 2)),
        // BAR0 at config space's fd offset (region 7 << 40) was config space once
        readOtherRegion: attempt(() => dev.read(0, 7n << 40n, 4)),
        writeOtherRegion: attempt(() => dev.write(0, 7n << 40n, new Uint8Array(4))),
        readHuge: attempt(() => dev.read(0, (1n << 64n) - 1n, 4)),
        writeRunning: attempt(() => dev.write(0, END - 2, new Uint8Array([9, 9, 9, 9]))),
        writePast: attempt(() => dev.write(0, END, new Uint8Array([9]))),
        ioRunning: attempt(() => dev.read(4, 254, 4)),
        configRunning: attempt(() => dev.write(7, 4094, new Uint8Array(4))),
        last: [...dev.read(0, END - 4, 4)],
        // the last bytes exactly, of each kind of region
        lastIo: attempt(() => dev.read(4, 252, 4).length),
        lastConfig: attempt(() => dev.read(7, 4092, 4).length),
        lastRom: attempt(() => dev.read(6, 64 * 1024 - 4, 4).length),
        lastByte: attempt(() => dev.read(0, END - 1, 1)[0]),
      };
      report(out);
    `);
    for (const k of ['readPast', 'readAtEnd', 'readRunning', 'readBigint', 'readOtherRegion', 'writeOtherRegion', 'readHuge', 'writeRunning', 'writePast', 'ioRunning', 'configRunning']) {
      expect(r[k], k).toMatchObject(pastEnd);
      expect(r[k].message, k).toMatch(/^offset: /);
    }
    expect(r.last).toEqual([1, 2, 3, 4]); // the refused write moved nothing, not even its first bytes
    expect(r).toMatchObject({ lastIo: { ok: true, value: 4 }, lastConfig: { ok: true, value: 4 }, lastRom: { ok: true, value: 4 }, lastByte: { ok: true, value: 4 } });
  });

  it("a subregion is bounded by its own size, not its parent's", () => {
    const r = child(`
      const dev = openDevice('sim');
      const sub = dev.createSubregion({ parent: 0, offset: 0x10000n, size: 0x1000n });
      dev.write(0, 0x11000, new Uint8Array([7]));
      report({
        inside: attempt(() => dev.write(sub.index, 0xffc, new Uint8Array([1, 2, 3, 4]))),
        parentSees: [...dev.read(0, 0x10ffc, 5)],
        running: attempt(() => dev.read(sub.index, 0xffc, 8)),
        past: attempt(() => dev.write(sub.index, 0x1000, new Uint8Array([1]))),
      });
    `);
    expect(r.inside).toMatchObject({ ok: true });
    expect(r.parentSees).toEqual([1, 2, 3, 4, 7]);
    expect(r.running).toMatchObject(pastEnd);
    expect(r.past).toMatchObject(pastEnd);
  });

  it('hostile offsets and lengths are a TypeError or RangeError naming the parameter', () => {
    const r = child(`
      const dev = openDevice('sim');
      const out = {};
      const offsets = { nan: NaN, negative: -1, fraction: 0.5, big: 2 ** 53, negBig: -1n, over64: 1n << 64n, string: '0', nul: null };
      for (const [k, v] of Object.entries(offsets)) out['offset_' + k] = attempt(() => dev.read(0, v, 4));
      const lengths = { nan: NaN, negative: -1, zero: 0, big: 2 ** 53, bigint: 4n, string: '4' };
      for (const [k, v] of Object.entries(lengths)) out['length_' + k] = attempt(() => dev.read(0, 0, v));
      out.data_array = attempt(() => dev.write(0, 0, [1, 2]));
      out.data_buffer = attempt(() => dev.write(0, 0, new ArrayBuffer(4)));
      out.data_int8 = attempt(() => dev.write(0, 0, new Int8Array(4)));
      out.index_negative = attempt(() => dev.read(-1, 0, 4));
      out.index_string = attempt(() => dev.read('0', 0, 4));
      report(out);
    `);
    for (const [k, v] of Object.entries(r as Record<string, any>)) {
      const param = k.split('_')[0];
      expect(v, k).toMatchObject({ thrown: true });
      expect(v.isTypeError || v.isRangeError, k).toBe(true);
      expect(v.code, k).toMatch(/^ERR_(INVALID_ARG_TYPE|OUT_OF_RANGE|INVALID_ARG_VALUE)$/);
      expect(v.message, k).toMatch(new RegExp(`^${param}\\b`));
    }
  });

  it('writing to a read-only region (the ROM, region 6) is a VfioError of operation write', () => {
    const r = child(`
      const dev = openDevice('sim');
      report({ rom: attempt(() => dev.write(6, 0, new Uint8Array([1]))), romLast: attempt(() => dev.write(6, 64 * 1024 - 1, new Uint8Array([1]))), after: dev.read(6, 0, 1)[0] });
    `);
    for (const k of ['rom', 'romLast']) expect(r[k], k).toMatchObject({ thrown: true, name: 'VfioError', operation: 'write', syscall: 'pwrite', isVfioError: true });
    expect(r.after).toBe(0);
  });
});
