// The simulator's e1000e model (native/src/sim_e1000e.c) against the Intel 82574 as Linux's e1000e
// driver and QEMU describe it. Every register offset and bit below is written out here by hand from
// drivers/net/ethernet/intel/e1000e/regs.h and defines.h (and QEMU hw/net/e1000_regs.h for IVAR), not
// imported from the model; every frame is built by the test and compared byte for byte with the
// model's frame log. The DMA-fault and bad-ring cases run in child processes: test/hostile/e1000e.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { openDevice, type Device } from '../../runtime/src/device.js';
import { native } from '../../runtime/src/native.js';
import { E1000E_SIM } from '../../runtime/src/sim-presets.js';

const CTRL = 0x00000, STATUS = 0x00008, ICR = 0x000c0, ICS = 0x000c8, IMS = 0x000d0, IMC = 0x000d8, IVAR = 0x000e4;
const TCTL = 0x00400, TIPG = 0x00410, TDBAL = 0x03800, TDBAH = 0x03804, TDLEN = 0x03808, TDH = 0x03810, TDT = 0x03818;
const RAL0 = 0x05400, RAH0 = 0x05404;
const CTRL_RST = 0x04000000;
const STATUS_FD = 0x1, STATUS_LU = 0x2, STATUS_SPEED_1000 = 0x80;
const ICR_TXDW = 0x1, ICR_LSC = 0x4, ICR_TXQ0 = 0x00400000, ICR_OTHER = 0x01000000, ICR_INT_ASSERTED = 0x80000000;
const TCTL_EN = 0x2, TCTL_PSP = 0x8;
const CMD_EOP = 0x01, CMD_IFCS = 0x02, CMD_RS = 0x08;
const MSIX = 2, MSI = 1;

/** The lib here has no WebAssembly typings: just what these tests use. */
const WA = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number }) => { buffer: ArrayBuffer } } }).WebAssembly;

let dev: Device | undefined;
afterEach(() => {
  dev?.close();
  dev = undefined;
});

function open(): Device {
  dev = openDevice({ simulator: E1000E_SIM });
  return dev;
}

/** 32-bit register access through the device fd (pread/pwrite, as vfio-pci's ioread32/iowrite32). */
const rd = (d: Device, off: number): number => Buffer.from(d.read(0, BigInt(off), 4)).readUInt32LE(0);
const wr = (d: Device, off: number, v: number): void => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  d.write(0, BigInt(off), b);
};

/** A TX ring of `n` descriptors and 2 KiB buffers in a WebAssembly.Memory, mapped for DMA. */
function txSetup(d: Device, n = 8) {
  const memory = new WA.Memory({ initial: 8 });
  const io = d.iommu();
  const ring = io.map(memory, { offset: 0x10000, length: 0x1000 });
  const bufs = io.map(memory, { offset: 0x20000, length: 0x20000 });
  const view = new DataView(memory.buffer);
  const bytes = new Uint8Array(memory.buffer);
  wr(d, TDBAL, Number(ring.iova & 0xffffffffn));
  wr(d, TDBAH, Number(ring.iova >> 32n));
  wr(d, TDLEN, n * 16);
  wr(d, TDH, 0);
  wr(d, TDT, 0);
  /** Descriptor i: buffer i, `len` bytes, cmd; status cleared. */
  const desc = (i: number, len: number, cmd: number): void => {
    view.setBigUint64(0x10000 + i * 16, bufs.iova + BigInt(i * 2048), true);
    view.setUint16(0x10000 + i * 16 + 8, len, true);
    view.setUint8(0x10000 + i * 16 + 10, 0);
    view.setUint8(0x10000 + i * 16 + 11, cmd);
    view.setUint32(0x10000 + i * 16 + 12, 0, true);
  };
  const fill = (i: number, data: Uint8Array): void => bytes.set(data, 0x20000 + i * 2048);
  const status = (i: number): number => view.getUint8(0x10000 + i * 16 + 12);
  return { memory, ring, bufs, desc, fill, status };
}

function pattern(len: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: len }, (_, i) => (seed * 31 + i * 7) & 0xff);
}

describe('e1000e model: identity and power-on state', () => {
  it('is an 82574L (8086:10d3, Ethernet controller) with BAR0 128 KiB, BAR3 the MSI-X BAR, 1 MSI and 5 MSI-X vectors', () => {
    const d = open();
    const cfg = Buffer.from(d.read(7, 0n, 12));
    expect(cfg.readUInt16LE(0)).toBe(0x8086);
    expect(cfg.readUInt16LE(2)).toBe(0x10d3);
    expect(cfg.readUIntLE(9, 3)).toBe(0x020000);
    expect(d.region(0).size).toBe(0x20000n);
    expect(d.region(3).caps.map((c) => c.name)).toEqual(['VFIO_REGION_INFO_CAP_MSIX_MAPPABLE']);
    expect(d.irqInfo(MSI).count).toBe(1);
    expect(d.irqInfo(MSIX).count).toBe(5);
  });

  it('link up at 1000 Mb/s full duplex; the MAC address 52:54:00:12:34:56 in RAL0/RAH0 with Address Valid; TIPG 8/8/6', () => {
    const d = open();
    const status = rd(d, STATUS);
    expect(status & (STATUS_FD | STATUS_LU | STATUS_SPEED_1000)).toBe(STATUS_FD | STATUS_LU | STATUS_SPEED_1000);
    expect(rd(d, RAL0)).toBe(0x12005452);
    expect(rd(d, RAH0) >>> 0).toBe(0x80005634);
    expect(rd(d, TIPG)).toBe(8 | (8 << 10) | (6 << 20));
    expect(rd(d, TCTL)).toBe(0);
    expect(rd(d, IMS)).toBe(0);
  });

  it('CTRL.RST resets every register and reads back clear; STATUS ignores writes', () => {
    const d = open();
    for (const [r, v] of [[TDBAL, 0x123000], [TDLEN, 0x400], [IMS, 0x5], [TCTL, TCTL_EN]] as const) wr(d, r, v);
    wr(d, STATUS, 0);
    expect(rd(d, STATUS) & STATUS_LU).toBe(STATUS_LU);
    wr(d, CTRL, rd(d, CTRL) | CTRL_RST);
    expect(rd(d, CTRL) & CTRL_RST).toBe(0);
    expect([TDBAL, TDLEN, IMS, TCTL].map((r) => rd(d, r))).toEqual([0, 0, 0, 0]);
  });

  it('VFIO_DEVICE_RESET resets the registers too', () => {
    const d = open();
    wr(d, TDBAL, 0x5000);
    d.reset();
    expect(rd(d, TDBAL)).toBe(0);
    expect(rd(d, STATUS) & STATUS_LU).toBe(STATUS_LU);
  });
});

describe('e1000e model: interrupt cause and mask registers', () => {
  it('ICR is read-to-clear, INT_ASSERTED while a cause is set; a link change is also an "other" cause', () => {
    const d = open();
    wr(d, ICS, ICR_LSC);
    expect(rd(d, ICR) >>> 0).toBe((ICR_LSC | ICR_OTHER | ICR_INT_ASSERTED) >>> 0);
    expect(rd(d, ICR)).toBe(0);
  });

  it('writing ICR clears the bits written (write 1 to clear)', () => {
    const d = open();
    wr(d, ICS, ICR_TXDW | ICR_TXQ0);
    wr(d, ICR, ICR_TXDW);
    expect(rd(d, ICR) >>> 0).toBe((ICR_TXQ0 | ICR_INT_ASSERTED) >>> 0);
  });

  it('IMS sets mask bits, IMC clears them; ICS and IMC read as 0', () => {
    const d = open();
    wr(d, IMS, ICR_TXDW | ICR_LSC);
    wr(d, IMS, ICR_TXQ0);
    expect(rd(d, IMS)).toBe(ICR_TXDW | ICR_LSC | ICR_TXQ0);
    wr(d, IMC, ICR_LSC);
    expect(rd(d, IMS)).toBe(ICR_TXDW | ICR_TXQ0);
    wr(d, ICS, ICR_LSC);
    expect([rd(d, ICS), rd(d, IMC)]).toEqual([0, 0]);
  });

  it('the host-call MMIO path is trapped (ICR clears on it); a plain load of the mapping is not', () => {
    const d = open();
    const m = d.map(0, { length: 0x1000 });
    wr(d, ICS, ICR_TXDW);
    expect(m.read32(ICR)).toBe(ICR_TXDW);   // the plain load sees the register file, clears nothing
    expect(native().mmioRead(m.handle, ICR, 32) >>> 0).toBe((ICR_TXDW | ICR_INT_ASSERTED) >>> 0);
    expect(native().mmioRead(m.handle, ICR, 32)).toBe(0);
    native().mmioWrite(m.handle, ICS, 32, ICR_LSC);
    expect(rd(d, ICR) & ICR_LSC).toBe(ICR_LSC);
  });
});

describe('e1000e model: TX', () => {
  it('transmits every frame byte for byte, pads a short one to 60 bytes (PSP), gathers a two-descriptor frame, writes DD back only for RS', () => {
    const d = open();
    const t = txSetup(d);
    const f0 = pattern(64, 1), f1 = pattern(42, 2), f2a = pattern(100, 3), f2b = pattern(1000, 4), f3 = pattern(1514, 5);
    t.fill(0, f0); t.desc(0, 64, CMD_EOP | CMD_IFCS | CMD_RS);
    t.fill(1, f1); t.desc(1, 42, CMD_EOP | CMD_IFCS);
    t.fill(2, f2a); t.desc(2, 100, CMD_IFCS);
    t.fill(3, f2b); t.desc(3, 1000, CMD_EOP | CMD_IFCS | CMD_RS);
    t.fill(4, f3); t.desc(4, 1514, CMD_EOP | CMD_IFCS | CMD_RS);
    wr(d, TCTL, TCTL_EN | TCTL_PSP);
    wr(d, TDT, 5);
    const m = d.simModel({ takeFrames: true })!;
    const padded = new Uint8Array(60);
    padded.set(f1);
    const joined = new Uint8Array(1100);
    joined.set(f2a);
    joined.set(f2b, 100);
    expect(m.log!.map((f) => Buffer.from(f).toString('hex'))).toEqual([f0, padded, joined, f3].map((f) => Buffer.from(f).toString('hex')));
    expect(m).toMatchObject({ frames: 4, bytes: 64 + 60 + 1100 + 1514, descriptors: 5, faults: 0, badRing: 0, dropped: 0 });
    expect([0, 1, 2, 3, 4].map((i) => t.status(i))).toEqual([1, 0, 0, 1, 1]);
    expect(rd(d, TDH)).toBe(5);
    expect(rd(d, ICR) & ICR_TXDW).toBe(ICR_TXDW);
    expect(d.simModel({ takeFrames: true })!.log).toEqual([]);
  });

  it('without TCTL.PSP a short frame goes out as it is; without TCTL.EN nothing goes until EN is set', () => {
    const d = open();
    const t = txSetup(d);
    t.fill(0, pattern(20, 9));
    t.desc(0, 20, CMD_EOP | CMD_RS);
    wr(d, TDT, 1);
    expect(d.simModel()!.frames).toBe(0);
    expect(rd(d, TDH)).toBe(0);
    wr(d, TCTL, TCTL_EN);
    const m = d.simModel({ takeFrames: true })!;
    expect(m.log!.map((f) => Buffer.from(f).toString('hex'))).toEqual([Buffer.from(pattern(20, 9)).toString('hex')]);
    expect(t.status(0)).toBe(1);
  });

  it('wraps around the ring, and TDLEN/TDT keep only their defined bits', () => {
    const d = open();
    const t = txSetup(d, 8);
    wr(d, TCTL, TCTL_EN);
    for (let i = 0; i < 8; i++) { t.fill(i, pattern(64, i)); t.desc(i, 64, CMD_EOP | CMD_RS); }
    wr(d, TDH, 6);
    wr(d, TDT, 6);
    wr(d, TDT, 2);   // 6, 7, 0, 1
    expect(d.simModel({ takeFrames: true })!.log!.map((f) => f[0])).toEqual([6, 7, 0, 1].map((i) => pattern(64, i)[0]));
    wr(d, TDLEN, 0x1234);
    expect(rd(d, TDLEN)).toBe(0x1200);
    wr(d, TDT, 0x12345);
    expect(rd(d, TDT)).toBe(0x2345);
  });

  it('a written-back descriptor raises MSI-X on the vector IVAR gives TX queue 0, when IMS allows it', async () => {
    const d = open();
    const t = txSetup(d);
    const irqs = d.interrupts(MSIX, { count: 5 });
    try {
      wr(d, TCTL, TCTL_EN);
      wr(d, IVAR, (0x8 | 3) << 8);   // TxQ0 -> vector 3, valid
      t.fill(0, pattern(64, 0)); t.desc(0, 64, CMD_EOP | CMD_RS);
      wr(d, TDT, 1);   // masked: no message
      expect(d.simDmaStats().interrupts).toBe(0);
      expect(rd(d, ICR) >>> 0).toBe((ICR_TXDW | ICR_TXQ0 | ICR_INT_ASSERTED) >>> 0);
      wr(d, IMS, ICR_TXQ0);
      t.fill(1, pattern(64, 1)); t.desc(1, 64, CMD_EOP | CMD_RS);
      wr(d, TDT, 2);
      expect(await irqs.next()).toEqual({ vector: 3, count: 1 });
      wr(d, ICS, ICR_TXQ0);   // a cause set while unmasked raises it too
      expect(await irqs.next()).toEqual({ vector: 3, count: 1 });
      wr(d, IVAR, 0x3 << 8);  // the entry without its valid bit: nothing
      wr(d, ICS, ICR_TXQ0);
      expect(d.simDmaStats().interrupts).toBe(2);
    } finally {
      irqs.close();
    }
  });

  it('with MSI enabled, TXDW raises MSI vector 0 and ICR has no queue cause', async () => {
    const d = open();
    const t = txSetup(d);
    const irqs = d.interrupts(MSI, { count: 1 });
    try {
      wr(d, TCTL, TCTL_EN);
      wr(d, IMS, ICR_TXDW);
      t.fill(0, pattern(64, 0)); t.desc(0, 64, CMD_EOP | CMD_RS);
      wr(d, TDT, 1);
      expect(await irqs.next()).toEqual({ vector: 0, count: 1 });
      expect(rd(d, ICR) >>> 0).toBe((ICR_TXDW | ICR_INT_ASSERTED) >>> 0);
    } finally {
      irqs.close();
    }
  });

  it('a device without a model has no simModel, and SimConfig.model is checked', () => {
    dev = openDevice('sim');
    expect(dev.simModel()).toBeNull();
    expect(() => openDevice({ simulator: { ...E1000E_SIM, model: 'rtl8139' as 'e1000e' } })).toThrow("target.simulator.model must be 'e1000e' (the only device model), or absent");
    expect(() => openDevice({ simulator: { ...E1000E_SIM, regions: [{ ...E1000E_SIM.regions[0]!, size: 0x10000n }, ...E1000E_SIM.regions.slice(1)] } }))
      .toThrow("target.simulator.model 'e1000e' needs region 0 to be memory of at least 128 KiB (its registers)");
  });
});
