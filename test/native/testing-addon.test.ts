import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../codegen/paths.js';
import { addonIoctl } from '../../tools/bench.js';
import { openDevice, type Device, type Mapping } from '../../runtime/src/device.js';
import { native } from '../../runtime/src/native.js';
import { testingNative } from '../../tools/testing-native.js';

/**
 * The test/bench-only module (native/testing/, tools/testing-native.ts).
 *
 * Refusals run in a child process on an address nothing is mapped at (page 1): a refusal must come before
 * any access, so a check that let a call through kills the child with SIGSEGV instead of passing.
 * The accessor runs on a simulated device's mapping, and what it wrote or read is checked against
 * the region's backing file (the device's side), with expectations written out by hand.
 */

const MODULE = 'native/build/Release/vfio_testing.node';

// Each case: a call, and the error class it must throw. Runs in the child, as source text.
const REFUSALS = String.raw`
const t = require(process.argv[1]);
const A = 0x1000n;              // page 1: below mmap_min_addr, never mapped
const L = 4096;
const rec = (op, width, off, extra = 0) => { const r = new Uint8Array(16 + extra); const v = new DataView(r.buffer); v.setUint8(0, op); v.setUint8(1, width); v.setUint32(4, off, true); return r; };
const cases = [
  // mmioExec: kinds
  ['exec no args', () => t.mmioExec(), 'TypeError'],
  ['exec address number', () => t.mmioExec(65536, L, new Uint8Array(0)), 'TypeError'],
  ['exec address string', () => t.mmioExec('65536', L, new Uint8Array(0)), 'TypeError'],
  ['exec address null', () => t.mmioExec(null, L, new Uint8Array(0)), 'TypeError'],
  ['exec address symbol', () => t.mmioExec(Symbol('a'), L, new Uint8Array(0)), 'TypeError'],
  ['exec length bigint', () => t.mmioExec(A, 4096n, new Uint8Array(0)), 'TypeError'],
  ['exec length missing', () => t.mmioExec(A), 'TypeError'],
  ['exec program missing', () => t.mmioExec(A, L), 'TypeError'],
  ['exec program Uint16Array', () => t.mmioExec(A, L, new Uint16Array(8)), 'TypeError'],
  ['exec program ArrayBuffer', () => t.mmioExec(A, L, new ArrayBuffer(16)), 'TypeError'],
  ['exec program DataView', () => t.mmioExec(A, L, new DataView(new ArrayBuffer(16))), 'TypeError'],
  ['exec program plain object', () => t.mmioExec(A, L, { length: 16, 0: 1 }), 'TypeError'],
  // mmioExec: ranges
  ['exec address 0n', () => t.mmioExec(0n, L, new Uint8Array(0)), 'RangeError'],
  ['exec address negative', () => t.mmioExec(-4096n, L, new Uint8Array(0)), 'RangeError'],
  ['exec address 2^64', () => t.mmioExec(1n << 64n, L, new Uint8Array(0)), 'RangeError'],
  ['exec address + length wraps', () => t.mmioExec((1n << 64n) - 4096n, 8192, rec(1, 32, 0)), 'RangeError'],
  ['exec length 0', () => t.mmioExec(A, 0, rec(1, 32, 0)), 'RangeError'],
  ['exec length negative', () => t.mmioExec(A, -1, rec(1, 32, 0)), 'RangeError'],
  ['exec length fraction', () => t.mmioExec(A, 4096.5, rec(1, 32, 0)), 'RangeError'],
  ['exec length NaN', () => t.mmioExec(A, NaN, rec(1, 32, 0)), 'RangeError'],
  ['exec length Infinity', () => t.mmioExec(A, Infinity, rec(1, 32, 0)), 'RangeError'],
  ['exec length 2^53', () => t.mmioExec(A, 2 ** 53, rec(1, 32, 0)), 'RangeError'],
  ['exec write past the end', () => t.mmioExec(A, L, rec(1, 32, L)), 'RangeError'],
  ['exec write straddles the end', () => t.mmioExec(A, L, rec(1, 64, L - 4)), 'RangeError'],
  ['exec write offset 2^32-1', () => t.mmioExec(A, L, rec(1, 8, 0xffffffff)), 'RangeError'],
  ['exec read past the end', () => t.mmioExec(A, L, rec(2, 8, L)), 'RangeError'],
  ['exec read unaligned', () => t.mmioExec(A, L, rec(2, 32, 2)), 'RangeError'],
  ['exec write unaligned', () => t.mmioExec(A, L, rec(1, 16, 1)), 'RangeError'],
  ['exec unaligned address', () => t.mmioExec(A + 1n, L, rec(1, 32, 0)), 'RangeError'],
  ['exec width 0', () => t.mmioExec(A, L, rec(1, 0, 0)), 'RangeError'],
  ['exec width 24', () => t.mmioExec(A, L, rec(2, 24, 0)), 'RangeError'],
  ['exec op 0', () => t.mmioExec(A, L, rec(0, 32, 0)), 'RangeError'],
  ['exec op 7', () => t.mmioExec(A, L, rec(7, 32, 0)), 'RangeError'],
  ['exec op 255', () => t.mmioExec(A, L, rec(255, 8, 0)), 'RangeError'],
  ['exec short record', () => t.mmioExec(A, L, new Uint8Array(15).fill(1)), 'RangeError'],
  ['exec burst without source', () => t.mmioExec(A, L, rec(3, 0, 0, 63)), 'RangeError'],
  ['exec burst unaligned', () => t.mmioExec(A, L, rec(3, 0, 32, 64)), 'RangeError'],
  ['exec burst past the end', () => t.mmioExec(A, L, rec(3, 0, L - 32, 64)), 'RangeError'],
  ['exec flush past the end', () => t.mmioExec(A, L, rec(5, 0, L)), 'RangeError'],
  // mmioBench
  ['bench no args', () => t.mmioBench(), 'TypeError'],
  ['bench doorbell address number', () => t.mmioBench(A, L, 0, 0, 1, 1, L, 0), 'TypeError'],
  ['bench offset string', () => t.mmioBench(A, L, '0', 0, 1, A, L, 0), 'TypeError'],
  ['bench doorbell address 0n', () => t.mmioBench(A, L, 0, 0, 1, 0n, L, 0), 'RangeError'],
  ['bench doorbell length 0', () => t.mmioBench(A, L, 0, 0, 1, A, 0, 0), 'RangeError'],
  ['bench op 7', () => t.mmioBench(A, L, 0, 7, 1, A, L, 0), 'RangeError'],
  ['bench op -1', () => t.mmioBench(A, L, 0, -1, 1, A, L, 0), 'RangeError'],
  ['bench iterations 0', () => t.mmioBench(A, L, 0, 0, 0, A, L, 0), 'RangeError'],
  ['bench offset past the end', () => t.mmioBench(A, L, L - 32, 0, 1, A, L, 0), 'RangeError'],
  ['bench offset unaligned', () => t.mmioBench(A, L, 4, 0, 1, A, L, 0), 'RangeError'],
  ['bench doorbell past the end', () => t.mmioBench(A, L, 0, 3, 1, A, L, L), 'RangeError'],
  ['bench doorbell unaligned', () => t.mmioBench(A, L, 0, 3, 1, A, L, 2), 'RangeError'],
  ['bench mapping shorter than 64', () => t.mmioBench(A, 32, 0, 0, 1, A, L, 0), 'RangeError'],
  // floor
  ['floorIntBytes no args', () => t.floorIntBytes(), 'TypeError'],
  ['floorIntBytes fd string', () => t.floorIntBytes('3', new Uint8Array(1)), 'TypeError'],
  ['floorIntBytes fd bigint', () => t.floorIntBytes(3n, new Uint8Array(1)), 'TypeError'],
  ['floorIntBytes fd -1', () => t.floorIntBytes(-1, new Uint8Array(1)), 'RangeError'],
  ['floorIntBytes fd 2^31', () => t.floorIntBytes(2 ** 31, new Uint8Array(1)), 'RangeError'],
  ['floorIntBytes bytes Int8Array', () => t.floorIntBytes(3, new Int8Array(1)), 'TypeError'],
  ['floorIntBytes bytes null', () => t.floorIntBytes(3, null), 'TypeError'],
  // ioctlLoop
  ['ioctlLoop no args', () => t.ioctlLoop(), 'TypeError'],
  ['ioctlLoop fd -1', () => t.ioctlLoop(-1, 0x3b6c, 1), 'RangeError'],
  ['ioctlLoop fd 1.5', () => t.ioctlLoop(1.5, 0x3b6c, 1), 'RangeError'],
  ['ioctlLoop request -1', () => t.ioctlLoop(0, -1, 1), 'RangeError'],
  ['ioctlLoop request 2^32', () => t.ioctlLoop(0, 2 ** 32, 1), 'RangeError'],
  ['ioctlLoop request bigint', () => t.ioctlLoop(0, 0x3b6cn, 1), 'TypeError'],
  ['ioctlLoop iterations 0', () => t.ioctlLoop(0, 0x3b6c, 0), 'RangeError'],
  ['ioctlLoop iterations NaN', () => t.ioctlLoop(0, 0x3b6c, NaN), 'RangeError'],
  ['ioctlLoop request larger than its buffer', () => t.ioctlLoop(0, 0xc0ff0000 + 0x1234, 1), 'RangeError'],
  // the real-device loops
  ['regionInfoLoop no args', () => t.regionInfoLoop(), 'TypeError'],
  ['regionInfoLoop fd -1', () => t.regionInfoLoop(-1, 0, 1), 'RangeError'],
  ['regionInfoLoop index -1', () => t.regionInfoLoop(0, -1, 1), 'RangeError'],
  ['regionInfoLoop iterations 0', () => t.regionInfoLoop(0, 0, 0), 'RangeError'],
  ['subregionLoop no args', () => t.subregionLoop(), 'TypeError'],
  ['subregionLoop offset number', () => t.subregionLoop(0, 0, 0, 4096n, 0, 1), 'TypeError'],
  ['subregionLoop size string', () => t.subregionLoop(0, 0, 0n, '4096', 0, 1), 'TypeError'],
  ['subregionLoop attrs -1', () => t.subregionLoop(0, 0, 0n, 4096n, -1, 1), 'RangeError'],
  ['subregionLoop iterations 0', () => t.subregionLoop(0, 0, 0n, 4096n, 0, 0), 'RangeError'],
  ['dmaLoop no args', () => t.dmaLoop(), 'TypeError'],
  ['dmaLoop bytes null', () => t.dmaLoop(0, null, 4096n, 1), 'TypeError'],
  ['dmaLoop bytes ArrayBuffer', () => t.dmaLoop(0, new ArrayBuffer(4096), 4096n, 1), 'TypeError'],
  ['dmaLoop bytes empty', () => t.dmaLoop(0, new Uint8Array(0), 4096n, 1), 'RangeError'],
  ['dmaLoop iova number', () => t.dmaLoop(0, new Uint8Array(4096), 4096, 1), 'TypeError'],
  ['dmaLoop iterations 0', () => t.dmaLoop(0, new Uint8Array(4096), 4096n, 0), 'RangeError'],
  ['ioasLoop no args', () => t.ioasLoop(), 'TypeError'],
  ['ioasLoop fd -1', () => t.ioasLoop(-1, new Uint8Array(4096), 4096n, 1), 'RangeError'],
  ['ioasLoop bytes ArrayBuffer', () => t.ioasLoop(0, new ArrayBuffer(4096), 4096n, 1), 'TypeError'],
  ['ioasLoop bytes empty', () => t.ioasLoop(0, new Uint8Array(0), 4096n, 1), 'RangeError'],
  ['ioasLoop iova number', () => t.ioasLoop(0, new Uint8Array(4096), 4096, 1), 'TypeError'],
  ['ioasLoop iterations 0', () => t.ioasLoop(0, new Uint8Array(4096), 4096n, 0), 'RangeError'],
];
const out = [];
for (const [name, f, want] of cases) {
  let got = 'no throw';
  try { f(); } catch (e) { got = e && e.constructor ? e.constructor.name : String(e); }
  out.push({ name, want, got });
}
// calls that must succeed on any address: nothing to access
t.mmioExec(A, L, new Uint8Array(0));
t.mmioExec(A, L, Uint8Array.of(4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
const ab = new ArrayBuffer(16); const detached = new Uint8Array(ab); structuredClone(ab, { transfer: [ab] });
t.mmioExec(A, L, detached);
if (t.floorEmpty() !== undefined) throw new Error('floorEmpty returned something');
if (t.floorIntBytes(3, new Uint8Array(5)) !== 8) throw new Error('floorIntBytes');
// a file that is not a VFIO device: each real-device loop stops at its first call, with that call's errno (ENOTTY)
const nul = require('fs').openSync('/dev/null', 'r');
const enotty = [t.regionInfoLoop(nul, 0, 3).errno, t.subregionLoop(nul, 0, 0n, 4096n, 0, 3).errno, t.dmaLoop(nul, new Uint8Array(4096), 4096n, 3).errno];
if (enotty.join() !== '25,25,25') throw new Error('the real-device loops on /dev/null gave errno ' + enotty.join() + ', not ENOTTY (25) each');
// ioasLoop finds no IOAS there (every IOMMU_IOAS_IOVA_RANGES is ENOTTY): ENOENT, nothing mapped
const noIoas = t.ioasLoop(nul, new Uint8Array(4096), 4096n, 3).errno;
if (noIoas !== 2) throw new Error('ioasLoop on /dev/null gave errno ' + noIoas + ', not ENOENT (2)');
process.stdout.write(JSON.stringify(out));
`;

describe('vfio_testing argument refusals', () => {
  it('throws TypeError or RangeError for every bad argument, before touching memory, and never crashes', () => {
    const r = spawnSync(process.execPath, ['-e', REFUSALS, `${ROOT}/${MODULE}`], { encoding: 'utf8', timeout: 60_000 });
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { name: string; want: string; got: string }[];
    expect(out.length).toBeGreaterThan(60);
    for (const c of out) expect(c.got, c.name).toBe(c.want);
  });
});

const LE = {
  u16: (v: number) => Buffer.from([v & 0xff, (v >> 8) & 0xff]),
  u32: (v: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; },
  u64: (v: bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(v); return b; },
};

/** One program record; burst records carry their 64 source bytes. */
function record(op: number, width: number, offset: number, value = 0n, burst?: Uint8Array): Uint8Array {
  const r = new Uint8Array(burst ? 80 : 16);
  const v = new DataView(r.buffer);
  v.setUint8(0, op);
  v.setUint8(1, width);
  v.setUint32(4, offset, true);
  v.setBigUint64(8, value, true);
  if (burst) r.set(burst, 16);
  return r;
}
const concat = (...rs: Uint8Array[]) => Uint8Array.from(rs.flatMap((r) => [...r]));
const valueAt = (prog: Uint8Array, at: number) => new DataView(prog.buffer, prog.byteOffset).getBigUint64(at + 8, true);

describe('vfio_testing on a simulated device mapping', () => {
  const SIZE = 64 * 1024;
  let dev: Device;
  let m: Mapping;
  let path: string;
  let base: number;
  const t = () => testingNative();

  /** The device's side of bytes [off, off + len) of the mapping: its backing file. */
  function device(off: number, len: number): Buffer {
    const fd = openSync(path, 'r');
    try {
      const b = Buffer.alloc(len);
      readSync(fd, b, 0, len, base + off);
      return b;
    } finally {
      closeSync(fd);
    }
  }
  function deviceWrite(off: number, bytes: Uint8Array): void {
    const fd = openSync(path, 'r+');
    try {
      writeSync(fd, bytes, 0, bytes.length, base + off);
    } finally {
      closeSync(fd);
    }
  }

  beforeAll(() => {
    dev = openDevice({
      simulator: {
        regions: [{ size: BigInt(SIZE), kind: 'memory', readable: true, writable: true, mmap: true, supportedAttrs: 0 }],
        numIrqs: 1,
        maxSubregions: 4,
      },
    });
    m = dev.map(0);
    const b = dev.simBacking(0)!;
    path = b.path;
    base = Number(b.offset);
  });
  afterAll(() => dev?.close());

  it('the module exports exactly its nine entry points', () => {
    expect(Object.keys(t()).sort()).toEqual(['dmaLoop', 'floorEmpty', 'floorIntBytes', 'ioasLoop', 'ioctlLoop', 'mmioBench', 'mmioExec', 'regionInfoLoop', 'subregionLoop']);
  });

  it('writes of every width and a burst reach the device, little-endian, and nothing else changes', () => {
    expect(m.length).toBe(SIZE);
    deviceWrite(0, new Uint8Array(256));
    const src = Uint8Array.from({ length: 64 }, (_, i) => 0xa0 ^ i);
    t().mmioExec(m.address, m.length, concat(
      record(1, 32, 0x00, 0xdeadbeefn),
      record(1, 8, 0x05, 0x7fn),
      record(1, 16, 0x06, 0x1234n),
      record(1, 64, 0x08, 0x0102030405060708n),
      record(4, 0, 0),
      record(3, 0, 0x40, 0n, src),
      record(6, 0, 0),
    ));
    const want = Buffer.alloc(256);
    LE.u32(0xdeadbeef).copy(want, 0);
    want[5] = 0x7f;
    LE.u16(0x1234).copy(want, 6);
    LE.u64(0x0102030405060708n).copy(want, 8);
    Buffer.from(src).copy(want, 0x40);
    expect(device(0, 256).toString('hex')).toBe(want.toString('hex'));
  });

  it('reads and flushes return what the device holds, each in its own record', () => {
    const bytes = Buffer.from('f0e1d2c3b4a5968778695a4b3c2d1e0f', 'hex');
    deviceWrite(0x1000, bytes);
    const prog = concat(
      record(2, 8, 0x1001), record(2, 16, 0x1002), record(2, 32, 0x1004), record(2, 64, 0x1008), record(5, 0, 0x1000),
      record(2, 32, SIZE - 4),
    );
    deviceWrite(SIZE - 4, LE.u32(0xcafef00d));
    t().mmioExec(m.address, m.length, prog);
    expect(valueAt(prog, 0)).toBe(0xe1n);
    expect(valueAt(prog, 16)).toBe(0xc3d2n);
    expect(valueAt(prog, 32)).toBe(0x8796a5b4n);
    expect(valueAt(prog, 48)).toBe(0x0f1e2d3c4b5a6978n);
    expect(valueAt(prog, 64)).toBe(0xc3d2e1f0n);
    expect(valueAt(prog, 80)).toBe(0xcafef00dn);
  });

  it('a bad record throws a RangeError; the records before it have run, none after it', () => {
    deviceWrite(0x2000, new Uint8Array(16));
    const prog = concat(record(1, 32, 0x2000, 0x11111111n), record(1, 32, SIZE, 1n), record(1, 32, 0x2004, 0x22222222n));
    expect(() => t().mmioExec(m.address, m.length, prog)).toThrow(RangeError);
    expect(device(0x2000, 8).toString('hex')).toBe('1111111100000000');
    // the length bounds the accesses, not the mapping: a shorter length refuses what lies past it
    expect(() => t().mmioExec(m.address, 0x1000, record(2, 32, 0x1000))).toThrow(RangeError);
  });

  it('mmioBench loops on the mapping and leaves what its last iteration wrote', () => {
    deviceWrite(0x3000, new Uint8Array(8));
    const ns = t().mmioBench(m.address, m.length, 0x3000, 0, 1000, m.address, m.length, 0x3040);
    expect(Number.isFinite(ns) && ns >= 0).toBe(true);
    expect(device(0x3000, 4).readUInt32LE()).toBe(999);
    t().mmioBench(m.address, m.length, 0x3000, 3, 10, m.address, m.length, 0x3044);
    expect(device(0x3044, 4).readUInt32LE()).toBe(9);
    expect(() => t().mmioBench(m.address, m.length, SIZE - 32, 0, 1, m.address, m.length, 0)).toThrow(RangeError);
  });

  it('ioctlLoop reports the errno of a real system call', () => {
    const fd = openSync('/dev/null', 'r');
    try {
      const r = t().ioctlLoop(fd, 0x3b6c, 10); // VFIO_DEVICE_GET_REGION_INFO: not a tty
      expect(r.errno).toBe(25); // ENOTTY
      expect(Number.isFinite(r.ns) && r.ns > 0).toBe(true);
    } finally {
      closeSync(fd);
    }
  });
});

describe("the bench's addon ioctl row", () => {
  it('is a real ioctl on a duplicate of the fd: ENOTTY from /dev/null, and the handle survives the original being closed', () => {
    const fd = openSync('/dev/null', 'r');
    const a = addonIoctl(native(), fd, 0x3b6c);
    closeSync(fd);
    const buf = new Uint8Array(64);
    buf[0] = 32; // argsz
    expect(a.call(buf)).toBe(-25); // ENOTTY, from the kernel: /dev/null has no ioctls
    a.close();
  });
});
