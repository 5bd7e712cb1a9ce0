// The guest side of DMA and interrupts (issue 13): an AssemblyScript guest allocates a DMA buffer in
// its own memory (dma_alloc: the IOVA from the host's dma-map), the simulated device model reads
// and writes it through that IOVA, and raises MSI-X vectors the host delivers by calling the
// guest's export interrupt(vector, count).
import { describe, expect, it } from 'vitest';
import { compileAs } from '../../runtime/src/asc.js';
import { openDevice } from '../../runtime/src/device.js';
import { MmioHost, instantiateGuest } from '../../runtime/src/mmio.js';
import { native } from '../../runtime/src/native.js';

const GUEST = `
import { dma_alloc, dma_unmap, irq_enable, DmaBuffer } from "vfio-subregion/runtime/assembly/mmio";

let ring: DmaBuffer | null = null;
let seen: u32 = 0;
let lastVector: u32 = 0xffffffff;

/** A ring of 'bytes' in this guest's memory, filled with i & 0xff: its IOVA. */
export function setup(bytes: u32): u64 {
  const r = dma_alloc(bytes, 4096);
  for (let i: u32 = 0; i < bytes; i++) store<u8>(r.at + i, <u8>i);
  ring = r;
  return r.iova;
}
export function ring_at(): usize { return ring!.at; }
export function iova_of(offset: u32): u64 { return ring!.addr(offset); }
export function enable(index: u32, start: u32, count: u32): i32 { return irq_enable(index, start, count); }
export function release(): i32 { return dma_unmap(ring!.at); }
export function interrupt(vector: u32, count: u32): void { seen += count; lastVector = vector; }
export function interrupts(): u32 { return seen; }
export function last_vector(): u32 { return lastVector; }
`;

interface Ex {
  setup(bytes: number): bigint;
  ring_at(): number;
  iova_of(offset: number): bigint;
  enable(index: number, start: number, count: number): number;
  release(): number;
  interrupts(): number;
  last_vector(): number;
  memory: { buffer: ArrayBuffer };
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

describe('a wasm guest doing DMA and taking interrupts', () => {
  it('dma_alloc maps guest memory for the device; interrupts arrive through the guest export', async () => {
    const { binary } = await compileAs('guest.ts', { files: { 'guest.ts': GUEST } });
    const dev = openDevice('sim');
    const host = new MmioHost({ device: dev });
    try {
      const g = await instantiateGuest<Ex>(binary, host);
      const iova = g.setup(0x2000);
      expect(iova % 4096n).toBe(0n);
      // the device model reads what the guest wrote, at the IOVA the guest was given
      expect([...dev.simDmaRead(iova + 0x100n, 4)!]).toEqual([0, 1, 2, 3]);
      expect(g.iova_of(0x1fff)).toBe(iova + 0x1fffn);
      // and writes where the guest reads
      expect(dev.simDmaWrite(iova + 0x10n, new Uint8Array([0xee]))).toBe(true);
      expect(new Uint8Array(g.memory.buffer)[g.ring_at() + 0x10]).toBe(0xee);
      // interrupts: MSI-X vectors 2 and 3, delivered to the guest's export from the event loop
      expect(g.enable(2, 2, 2)).toBe(0);
      expect(g.enable(2, 3, 1)).toBe(16); // EBUSY: vector 3 has its eventfd (a second one would take it away)
      dev.simInterrupt(2, 3);
      for (let i = 0; i < 40 && g.interrupts() === 0; i++) await tick();
      expect([g.interrupts(), g.last_vector()]).toEqual([1, 3]);
      expect(g.enable(7, 0, 1)).toBe(22);
      expect(g.release()).toBe(0);
      expect(dev.simDmaRead(iova, 1)).toBeNull();
      expect(g.release()).toBe(2); // ENOENT: nothing mapped there any more
    } finally {
      host.unmapAll();
      dev.close();
    }
    expect(native().stats()).toMatchObject({ dmaMappings: 0, eventfds: 0 });
  }, 60_000);

  it('without a device, or without an interrupt export, the guest gets EPERM / ENOSYS', async () => {
    const { binary } = await compileAs('guest.ts', { files: { 'guest.ts': GUEST.replace(/export function interrupt\(/, 'function interrupt_(') } });
    const noDevice = await instantiateGuest<Ex>(binary, new MmioHost());
    expect(noDevice.enable(2, 0, 1)).toBe(1);
    expect(() => noDevice.setup(4096)).toThrow(/DMA buffer: the host refused \(errno 1\)/);
    const dev = openDevice('sim');
    try {
      const g = await instantiateGuest<Ex>(binary, new MmioHost({ device: dev }));
      expect(g.enable(2, 0, 1)).toBe(38);
    } finally {
      dev.close();
    }
  }, 60_000);
});
