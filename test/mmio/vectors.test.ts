import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDevice, type Device, type RegionInfo } from '../../runtime/src/device.js';
import { native } from '../../runtime/src/native.js';
import { testingNative } from '../../tools/testing-native.js';
import { NIC_LAYOUT } from '../../runtime/src/sim-presets.js';
import { VfioRegionAttr } from '../../runtime/src/generated/vfio-subregion.js';
import { loadMmioVectors, unhex, type MmioCase, type MmioOp, type MmioPatch } from '../vectors.js';
import { fileBytes, guest, type Guest } from './guest.js';

/**
 * spec/vectors/mmio.json through three accessors: AssemblyScript on the window (plain loads and
 * stores), AssemblyScript through the host-call path, and the native C accessor (mmioExec of the
 * test-only module, on the window's address). Each must leave the same bytes, read the same values, and let the device see what each ordering point promises.
 */

const cases = loadMmioVectors();
const PATHS = ['window', 'host-call', 'c'] as const;
type Path = typeof PATHS[number];

interface Ctx { dev: Device; sub: RegionInfo; g: Guest; path: string; subOff: number }
let ctx: Ctx;

beforeAll(async () => {
  const g = await guest();
  const dev = openDevice('sim');
  const sub = dev.createSubregion({ parent: 0, offset: NIC_LAYOUT.txPush.offset, size: NIC_LAYOUT.txPush.size, attrs: VfioRegionAttr.VFIO_REGION_ATTR_WC });
  const b = dev.simBacking(sub.index)!;
  ctx = { dev, sub, g, path: b.path, subOff: Number(b.offset) };
});
afterAll(() => ctx?.dev.close());

/** The device's view of the window: the backing file. */
const seen = (c: MmioCase): Buffer => fileBytes(ctx.path, ctx.subOff, c.window);

function expectPatches(view: Buffer, patches: MmioPatch[], what: string): void {
  for (const p of patches) expect(view.subarray(p.offset, p.offset + p.bytes.length / 2).toString('hex'), `${what} at +${p.offset}`).toBe(p.bytes);
}

const W = { 8: '8', 16: '16', 32: '32', 64: '64' } as const;

/** Runs one case through one path on a fresh window; returns the values its reads returned. */
async function run(c: MmioCase, path: Path): Promise<bigint[]> {
  const { dev, sub, g } = ctx;
  const n = native();
  // the device's initial state: zeros, then the patches (written by the device, through the fd)
  dev.write(sub.index, 0, new Uint8Array(c.window));
  for (const p of c.initial ?? []) dev.write(sub.index, p.offset, unhex(p.bytes));
  const at = (g.f('window_reserve')(c.window, n.pageSize) as number) >>> 0;
  const w = g.host.map(dev, sub, { at, length: c.window });
  try {
    g.f('bind')(at, c.window);
    g.f('set_inline_fence')(0);        // ordering points through the host: the fence is the native sfence
    const reads: bigint[] = [];
    const src = g.f('src')() as number;
    for (const op of c.ops) {
      switch (path) {
        case 'window':
        case 'host-call': {
          const h = path === 'host-call' ? 'h' : '';
          if (op.op === 'write') g.f(`${h}w${W[op.width]}`)(op.offset, op.width === 64 ? BigInt(op.value) : Number(op.value));
          else if (op.op === 'read') reads.push(BigInt.asUintN(op.width, BigInt(g.f(`${h}r${W[op.width]}`)(op.offset) as number | bigint)));
          else if (op.op === 'burst') {
            const bytes = unhex(op.bytes);
            if (path === 'window') {
              new Uint8Array((g.ex.memory as { buffer: ArrayBuffer }).buffer, src, 64).set(bytes);
              g.f('b64')(op.offset, src);
            } else {
              const v = new DataView(bytes.buffer, bytes.byteOffset);
              for (let k = 0; k < 64; k += 8) g.f('hw64')(op.offset + k, v.getBigUint64(k, true));
            }
          } else if (op.op === 'wmb') g.f('wmb')();
          else g.host.imports().flush!(...([at + op.offset] as never[]));
          break;
        }
        case 'c': {
          const rec = encode(op);
          testingNative().mmioExec(w.address, w.size, rec);
          if (op.op === 'read') reads.push(BigInt.asUintN(op.width, new DataView(rec.buffer).getBigUint64(8, true)));
          break;
        }
      }
      if (op.op === 'read') expect(reads[reads.length - 1], `${path}: read${op.width} at +${op.offset}`).toBe(BigInt(op.expect));
      if (op.op === 'wmb' || op.op === 'flush') expectPatches(seen(c), op.seen, `${path}: device view at ${op.op}`);
    }
    // the final window: initial, with the final patches, and nothing else
    const want = Buffer.alloc(c.window);
    for (const p of c.initial ?? []) Buffer.from(p.bytes, 'hex').copy(want, p.offset);
    for (const p of c.final) Buffer.from(p.bytes, 'hex').copy(want, p.offset);
    expect(seen(c).equals(want), `${path}: final window`).toBe(true);
    return reads;
  } finally {
    w.unmap();
  }
}

/** One op as a record of the C accessor's program (tools/testing-native.ts: mmioExec). */
function encode(op: MmioOp): Uint8Array {
  const rec = new Uint8Array(op.op === 'burst' ? 80 : 16);
  const v = new DataView(rec.buffer);
  const code = { write: 1, read: 2, burst: 3, wmb: 4, flush: 5 }[op.op];
  v.setUint8(0, code);
  if (op.op === 'write' || op.op === 'read') v.setUint8(1, op.width);
  if (op.op !== 'wmb') v.setUint32(4, op.offset, true);
  if (op.op === 'write') v.setBigUint64(8, BigInt(op.value), true);
  if (op.op === 'burst') rec.set(unhex(op.bytes), 16);
  return rec;
}

describe('MMIO vectors', () => {
  for (const c of cases) {
    describe(c.name, () => {
      const results = new Map<Path, bigint[]>();
      for (const p of PATHS) it(p, async () => { results.set(p, await run(c, p)); });
      it('every path read the same values', () => {
        expect(results.size).toBe(PATHS.length);
        expect(results.get('host-call')).toEqual(results.get('window'));
        expect(results.get('c')).toEqual(results.get('window'));
      });
    });
  }
});
