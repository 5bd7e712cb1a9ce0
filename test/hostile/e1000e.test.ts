// Issue 13, bad input to the simulator's e1000e model, each in a child process (a crash fails the
// test, not vitest): descriptors and rings at IOVAs nothing maps, a ring length or tail beyond the
// ring, a ring unmapped under a running transmitter, resets with DMA mappings, interrupts and windows
// live. The model counts each fault and carries on; nothing crashes, nothing leaks.
import { describe, expect, it } from 'vitest';
import { child, dist } from './harness.js';

// Register offsets and bits from Linux e1000e regs.h/defines.h, written out here.
const SETUP = `
import { E1000E_SIM } from ${JSON.stringify(dist('runtime/src/sim-presets.js'))};
const TDBAL = 0x3800, TDBAH = 0x3804, TDLEN = 0x3808, TDH = 0x3810, TDT = 0x3818, TCTL = 0x400, IMS = 0xd0, IVAR = 0xe4, CTRL = 0, STATUS = 8;
const rd = (d, off) => Buffer.from(d.read(0, BigInt(off), 4)).readUInt32LE(0);
const wr = (d, off, v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); d.write(0, BigInt(off), b); };
function tx(d, n = 8) {
  const memory = new WebAssembly.Memory({ initial: 8 });
  const io = d.iommu();
  const ring = io.map(memory, { offset: 0x10000, length: 0x1000 });
  const bufs = io.map(memory, { offset: 0x20000, length: 0x10000 });
  const view = new DataView(memory.buffer);
  wr(d, TDBAL, Number(ring.iova)); wr(d, TDBAH, 0); wr(d, TDLEN, n * 16); wr(d, TDH, 0); wr(d, TDT, 0);
  const desc = (i, addr, len, cmd = 0x0b) => { view.setBigUint64(0x10000 + i * 16, addr, true); view.setUint16(0x10000 + i * 16 + 8, len, true); view.setUint8(0x10000 + i * 16 + 11, cmd); view.setUint8(0x10000 + i * 16 + 12, 0); };
  const status = (i) => view.getUint8(0x10000 + i * 16 + 12);
  return { memory, io, ring, bufs, desc, status, buf: (i) => bufs.iova + BigInt(i * 2048) };
}
const books = () => { const s = native().stats(); return { openDevices: s.openDevices, dmaMappings: s.dmaMappings, eventfds: s.eventfds, windows: s.windows }; };
`;

describe('e1000e model, hostile', () => {
  it('a descriptor whose buffer is at an unmapped IOVA: a counted fault, TX stops at it, nothing crashes; TX resumes once it is fixed', () => {
    const r = child(`${SETUP}
      const dev = openDevice({ simulator: E1000E_SIM });
      const t = tx(dev);
      wr(dev, TCTL, 2);
      t.desc(0, t.buf(0), 64);
      t.desc(1, 0x7fff_0000_0000n, 64);
      t.desc(2, t.buf(2), 64);
      wr(dev, TDT, 3);
      const first = { model: dev.simModel(), head: rd(dev, TDH), status: [0, 1, 2].map(t.status), dma: dev.simDmaStats() };
      t.desc(1, t.buf(1), 64);
      wr(dev, TDT, 3);
      report({ first: { ...first.model, head: first.head, status: first.status, faults: first.dma.faults, lastFaultIova: first.dma.lastFaultIova },
               then: { frames: dev.simModel().frames, head: rd(dev, TDH), status: [0, 1, 2].map(t.status) } });
      dev.close();
    `);
    expect(r.first).toMatchObject({ frames: 1, descriptors: 1, faults: 1, head: 1, status: [1, 0, 0], lastFaultIova: '140733193388032n' });
    expect(r.then).toEqual({ frames: 3, head: 3, status: [1, 1, 1] });
  });

  it('a ring at an unmapped IOVA, and a ring unmapped while the transmitter runs: counted faults, nothing moves', () => {
    const r = child(`${SETUP}
      const dev = openDevice({ simulator: E1000E_SIM });
      const t = tx(dev);
      wr(dev, TCTL, 2);
      wr(dev, TDBAL, 0x4000_0000);
      wr(dev, TDT, 1);
      const unmappedBase = { ...dev.simModel(), head: rd(dev, TDH) };
      wr(dev, TDBAL, Number(t.ring.iova));
      t.desc(0, t.buf(0), 64);
      t.ring.unmap();
      wr(dev, TDT, 1);
      report({ unmappedBase, afterUnmap: { ...dev.simModel(), head: rd(dev, TDH) }, faults: dev.simDmaStats().faults });
      dev.close();
    `);
    expect(r.unmappedBase).toMatchObject({ frames: 0, descriptors: 0, faults: 1, head: 0 });
    expect(r.afterUnmap).toMatchObject({ frames: 0, descriptors: 0, faults: 2, head: 0 });
    expect(r.faults).toBe(2);
  });

  it('TDLEN 0 or not a multiple of 128 bytes, a tail or head beyond the ring: ignored and counted, nothing transmitted', () => {
    const r = child(`${SETUP}
      const dev = openDevice({ simulator: E1000E_SIM });
      const t = tx(dev, 8);
      for (let i = 0; i < 8; i++) t.desc(i, t.buf(i), 64);
      wr(dev, TCTL, 2);
      const seen = [];
      wr(dev, TDLEN, 100); seen.push(rd(dev, TDLEN)); wr(dev, TDT, 1);
      wr(dev, TDLEN, 128); wr(dev, TDT, 9);            // 8 descriptors: 9 is past the end
      wr(dev, TDT, 0); wr(dev, TDH, 0xffff); wr(dev, TDT, 3);
      wr(dev, TDLEN, 0xffffffff); seen.push(rd(dev, TDLEN));
      report({ seen, model: dev.simModel(), faults: dev.simDmaStats().faults });
      dev.close();
    `);
    expect(r.seen).toEqual([0, 0xfff80]);
    expect(r.model).toMatchObject({ frames: 0, descriptors: 0, badRing: 3, faults: 0 });
    expect(r.faults).toBe(0);
  });

  it('a reset (VFIO_DEVICE_RESET, then CTRL.RST) with DMA mappings, interrupts and a window live: registers back to power-on, mappings and eventfds kept, TX works after re-init', async () => {
    const r = child(`${SETUP}
      const dev = openDevice({ simulator: E1000E_SIM });
      const t = tx(dev);
      const irqs = dev.interrupts(2, { count: 5 });
      const win = dev.mapInto(new WebAssembly.Memory({ initial: 4 }), 0, { at: 0x10000, length: 0x20000 });
      const live = { maps: t.io.mappings().length, stats: books() };
      wr(dev, TCTL, 2); wr(dev, IMS, 0x400000); wr(dev, IVAR, 0x800);
      dev.reset();
      const afterReset = { tctl: rd(dev, TCTL), tdbal: rd(dev, TDBAL), ims: rd(dev, IMS), link: rd(dev, STATUS) & 2, maps: t.io.mappings().length, stats: books() };
      wr(dev, CTRL, 0x04000000);
      const rst = rd(dev, CTRL) & 0x04000000;
      wr(dev, TDBAL, Number(t.ring.iova)); wr(dev, TDLEN, 128); wr(dev, TDH, 0); wr(dev, TDT, 0); wr(dev, TCTL, 2);
      wr(dev, IVAR, 0x800); wr(dev, IMS, 0x400000);
      t.desc(0, t.buf(0), 64);
      wr(dev, TDT, 1);
      const ev = await irqs.next();
      const winStatus = new DataView(win.memory.buffer).getUint32(win.base + STATUS, true) & 2;
      irqs.close(); win.unmap(); dev.close();
      await settle(3);
      report({ live, afterReset, rst, winStatus, ev, end: books() });
    `);
    // the device and its container are both open devices of the addon
    expect(r.live).toEqual({ maps: 2, stats: { openDevices: 2, dmaMappings: 2, eventfds: 5, windows: 1 } });
    expect(r.afterReset).toEqual({ tctl: 0, tdbal: 0, ims: 0, link: 2, maps: 2, stats: { openDevices: 2, dmaMappings: 2, eventfds: 5, windows: 1 } });
    expect(r.winStatus).toBe(2);
    expect(r.rst).toBe(0);
    expect(r.ev).toEqual({ vector: 0, count: 1 });
    expect(r.end).toEqual({ openDevices: 0, dmaMappings: 0, eventfds: 0, windows: 0 });
  });

  it('random descriptors (addresses, lengths, commands) over a random ring: no crash, every descriptor either consumed or a counted fault', () => {
    const r = child(`${SETUP}
      const dev = openDevice({ simulator: E1000E_SIM });
      const t = tx(dev, 256);
      wr(dev, TCTL, 2 | 8);
      let seed = 12345;
      const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8;   // an LCG's low bits cycle: drop them
      let tail = 0;
      for (let round = 0; round < 200; round++) {
        for (let k = 0; k < 16; k++) {
          const i = (tail + k) % 256;
          const mapped = rnd() % 4 !== 0;
          t.desc(i, mapped ? t.buf(rnd() % 32) : BigInt(rnd()) << 16n, rnd() % 2100, rnd() & 0xff);
        }
        tail = (tail + 16) % 256;
        wr(dev, TDT, tail);
        if (rd(dev, TDH) !== tail) { wr(dev, TDH, tail); }   // skip what faulted
      }
      report({ model: dev.simModel(), faults: dev.simDmaStats().faults });
      dev.close();
    `);
    expect(r.model.faults).toBeGreaterThan(0);
    expect(r.model.faults).toBe(r.faults);
    expect(r.model.descriptors).toBeGreaterThan(0);
  });
});
