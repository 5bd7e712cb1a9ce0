import { afterEach, describe, expect, it } from 'vitest';
import { openDevice, type Device } from '../../runtime/src/device.js';
import { native } from '../../runtime/src/native.js';
import { NIC_LAYOUT } from '../../runtime/src/sim-presets.js';
import { VfioRegionAttr } from '../../runtime/src/generated/vfio-subregion.js';
import { fileBytes, guest, type Guest } from './guest.js';

const WC = VfioRegionAttr.VFIO_REGION_ATTR_WC;
const PS = native().pageSize;
let dev: Device | undefined;
afterEach(() => { dev?.close(); dev = undefined; });

/** A guest with the NIC's TX push buffer (a WC subregion) mapped as its window. */
async function setup(): Promise<{ g: Guest; dev: Device; at: number; size: number; path: string; barOff: number }> {
  const g = await guest();
  dev = openDevice('sim');
  const sub = dev.createSubregion({ parent: 0, offset: NIC_LAYOUT.txPush.offset, size: NIC_LAYOUT.txPush.size, attrs: WC });
  const size = Number(NIC_LAYOUT.txPush.size);
  const at = (g.f('window_reserve')(size, PS) as number) >>> 0;
  g.host.map(dev, sub, { at });
  g.f('bind')(at, size);
  const b = dev.simBacking(0)!;
  return { g, dev, at, size, path: b.path, barOff: Number(b.offset) };
}

describe('wasm window data path', () => {
  it('plain wasm stores and loads reach the region and back, every width and a burst', async () => {
    const { g, path, barOff } = await setup();
    const push = barOff + Number(NIC_LAYOUT.txPush.offset);
    g.f('w8')(0, 0xab); g.f('w16')(2, 0xbeef); g.f('w32')(4, 0xdeadbeef); g.f('w64')(8, 0x0123456789abcdefn);
    const src = g.f('src')() as number;
    new Uint8Array((g.ex.memory as { buffer: ArrayBuffer }).buffer, src, 64).set(Array.from({ length: 64 }, (_, i) => i + 1));
    g.f('b64')(64, src);
    const seen = fileBytes(path, push, 128);
    expect(seen.readUInt8(0)).toBe(0xab);
    expect(seen.readUInt16LE(2)).toBe(0xbeef);
    expect(seen.readUInt32LE(4)).toBe(0xdeadbeef);
    expect(seen.readBigUInt64LE(8)).toBe(0x0123456789abcdefn);
    expect([...seen.subarray(64, 128)]).toEqual(Array.from({ length: 64 }, (_, i) => i + 1));
    // and the device's writes are what the guest loads
    dev!.write(0, NIC_LAYOUT.txPush.offset + 256n, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]));
    expect(g.f('r32')(256)).toBe(0x04030201);
    expect(g.f('r64')(256)).toBe(0x0807060504030201n);
    expect(g.f('hr32')(260)).toBe(0x08070605);
    expect(g.f('hr64')(256)).toBe(0x0807060504030201n);
    g.f('hw16')(300, 0x1234); g.f('hw8')(302, 0x56); g.f('hw64')(304, 0xfedcba9876543210n);
    expect(fileBytes(path, push + 300, 3)).toEqual(Buffer.from([0x34, 0x12, 0x56]));
    expect(fileBytes(path, push + 304, 8).readBigUInt64LE(0)).toBe(0xfedcba9876543210n);
  });

  it('a guest access outside its windows never reaches device memory', async () => {
    const { g, at, size, path, barOff } = await setup();
    const bar = Number(NIC_LAYOUT.txPush.offset) * 2;
    const before = fileBytes(path, barOff, bar);
    // plain stores just below and just above the window land in ordinary linear memory
    g.f('poke32')(at - 4, 0x11111111);
    g.f('poke32')(at + size, 0x22222222);
    expect(g.f('peek32')(at - 4)).toBe(0x11111111);
    // the host-call path refuses addresses outside every window (the guest traps)
    expect(() => g.f('hw32')(size, 0x33333333)).toThrow(/not inside a mapped window/);
    expect(() => g.f('hr32')(-8)).toThrow(/not inside a mapped window/);
    // an access inside the window changes exactly those bytes
    g.f('w32')(size - 4, 0x44444444);
    const after = fileBytes(path, barOff, bar);
    const diff: number[] = [];
    for (let i = 0; i < bar; i++) if (before[i] !== after[i]) diff.push(i);
    const last = Number(NIC_LAYOUT.txPush.offset) + size - 4;
    expect(diff).toEqual([last, last + 1, last + 2, last + 3]);
  });

  it('a misaligned or short burst is a clear error', async () => {
    const { g } = await setup();
    const src = g.f('src')() as number;
    expect(() => g.f('bchecked')(32, src, 64)).toThrow(/not 64-byte aligned/);
    expect(() => g.f('bchecked')(0, src, 48)).toThrow(/not a whole number of 64-byte blocks/);
    expect(() => g.f('bchecked')(0, src, 0)).toThrow(/not a whole number of 64-byte blocks/);
    expect(() => g.f('bchecked')(Number(NIC_LAYOUT.txPush.size) - 64, src, 128)).toThrow(/outside the window/);
    g.f('bchecked')(128, src, 256);
  });

  it('refuses a window larger than the region, not page-aligned, outside the memory, or overlapping', async () => {
    const { g, at } = await setup();
    const mem = g.ex.memory as { buffer: ArrayBuffer; grow(n: number): number };
    const sub = dev!.regions().find((r) => r.subregion !== null)!;
    expect(() => dev!.mapInto(mem, sub, { at, length: Number(sub.size) + PS })).toThrow(/run past the end of region/);
    expect(() => dev!.mapInto(mem, sub, { at: at + 100, length: PS })).toThrow(/page-aligned/);
    expect(() => dev!.mapInto(mem, sub, { at, length: 100 })).toThrow(/page-aligned/);
    expect(() => dev!.mapInto(mem, sub, { at, offset: 100, length: PS })).toThrow(/page-aligned/);
    const end = mem.buffer.byteLength;
    expect(() => dev!.mapInto(mem, sub, { at: end, length: PS })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', message: expect.stringMatching(/inside the memory's current/) }));
    expect(() => dev!.mapInto(mem, sub, { at: end - PS, length: 2 * PS })).toThrow(/inside the memory's current/);
    expect(() => dev!.mapInto(mem, sub, { at, length: PS })).toThrow(expect.objectContaining({ code: 'EBUSY', operation: 'mapInto', rule: null, message: expect.stringMatching(/overlaps a window already mapped there/) }));
    // a region that cannot be mmapped (BAR4: I/O ports)
    expect(() => dev!.mapInto(mem, 4, { at: end - PS, length: PS })).toThrow(/cannot be mmapped/);
  });

  it('closing the device while the module holds a window unmaps it first: zero pages, no SIGBUS', async () => {
    const { g, at, path, barOff } = await setup();
    g.f('w32')(0, 0xcafef00d);
    expect(fileBytes(path, barOff + Number(NIC_LAYOUT.txPush.offset), 4).readUInt32LE(0)).toBe(0xcafef00d);
    expect(g.host.windows.length).toBe(1);
    dev!.close();
    dev = undefined;
    expect(g.host.windows.length).toBe(0);
    // the guest keeps running: its window is ordinary zeroed memory now
    expect(g.f('r32')(0)).toBe(0);
    g.f('w32')(0, 7);
    expect(g.f('r32')(0)).toBe(7);
    expect(g.f('peek32')(at)).toBe(7);
    expect(() => g.f('hr32')(0)).toThrow(/not inside a mapped window/);
  });

  it('the native side unmaps windows when a simulated device closes under them (no JS bookkeeping)', async () => {
    const { g, dev: d } = await setup();
    native().close(d.handle);   // behind Device's back: the addon's teardown restores the pages itself
    expect(g.f('r32')(0)).toBe(0);
    g.f('w32')(8, 9);
    expect(g.f('r32')(8)).toBe(9);
    dev = undefined;
  });
});

/** One function's text in the WAT. */
function funcText(t: string, name: string): string {
  const m = new RegExp(`\\(func \\$runtime/assembly/mmio-probe/${name}[ \\n]`).exec(t);
  if (m === null) throw new Error(`no function ${name}`);
  const end = t.indexOf('\n (func', m.index + 5);
  return t.slice(m.index, end < 0 ? undefined : end);
}

describe('accessor in the -O3 binary', () => {
  it('two host reads of one register stay two reads (two plain loads are merged)', async () => {
    const { g } = await setup();
    const fn = (name: string) => funcText(g.text!, name);
    expect(fn('two_host_reads').match(/call \$runtime\/assembly\/generated\/vfio-subregion\/host_read32/g)?.length).toBe(2);
    // the pitfall the host path avoids: Binaryen keeps one i32.load for the two plain reads
    expect(fn('two_plain_reads').match(/i32\.load\n/g)?.length).toBe(2); // one for win.base, one for the register
    g.calls.length = 0;
    dev!.write(0, NIC_LAYOUT.txPush.offset + 16n, Buffer.from([5, 0, 0, 0]));
    expect(g.f('two_host_reads')(16)).toBe(10);
    expect(g.calls).toEqual(['read32', 'read32']);
  });

  it('the fence is a real locked RMW on the module\'s scratch word (never the window), or the host sfence', async () => {
    const { g, at, size } = await setup();
    const t = g.text!;
    const body = funcText(t, 'wmb');
    const m = /i32\.const (\d+)\n\s+i32\.const 0\n\s+i32\.atomic\.rmw\.add/.exec(body);
    expect(m).not.toBeNull();
    const scratch = Number(m![1]);
    expect(scratch < at || scratch >= at + size).toBe(true);
    expect(body).toMatch(/call \$runtime\/assembly\/generated\/vfio-subregion\/wmb/);
    // every atomic instruction in the binary is that locked add of 0 on that constant word
    const all = [...t.matchAll(/i32\.const (\d+)\n\s+i32\.const 0\n\s+i32\.atomic\.rmw\.add/g)].map((x) => Number(x[1]));
    expect(all.length).toBe(t.match(/atomic/g)?.length);
    expect(new Set(all)).toEqual(new Set([scratch]));
    g.calls.length = 0;
    g.f('set_inline_fence')(0);
    g.f('wmb')();
    expect(g.calls).toEqual(['wmb']);
    g.f('set_inline_fence')(1);
    g.f('wmb')();
    expect(g.calls).toEqual(['wmb']);
  });
});
