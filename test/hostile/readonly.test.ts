// Issue 9, read-only mappings: a store into a PROT_READ page kills the process (SIGSEGV), so a
// read-only mapping must offer no write path and no writable view. Each snippet, after expecting
// the refusal, tries the store anyway: were the protection gone, the child would die by a signal.
import { describe, expect, it } from 'vitest';
import { child } from './harness.js';

/** DEFAULT_SIM with BAR2 replaced by a 4 KiB region that is mmap-able but not writable. */
const RO_BAR2 = `
const roConfig = { ...DEFAULT_SIM, regions: DEFAULT_SIM.regions.map((r, i) => i === 2
  ? { size: 0x1000n, kind: 'memory', readable: true, writable: false, mmap: true, supportedAttrs: 0 } : r) };
`;

const readOnly = { thrown: true, name: 'DeviceStateError', code: 'ERR_READ_ONLY', isDeviceStateError: true };

describe('read-only mappings', () => {
  it('map(0, { prot: PROT_READ }): write32 and bytes throw ERR_READ_ONLY, reads work', () => {
    const r = child(`
      const n = native();
      const dev = openDevice('sim');
      dev.write(0, 0x40, new Uint8Array([0x78, 0x56, 0x34, 0x12, 0xaa, 0xbb]));
      const m = dev.map(0, { prot: n.PROT_READ });
      report({
        writable: m.writable, prot: m.prot,
        write8: attempt(() => m.write8(0, 1)),
        write32: attempt(() => m.write32(0, 1)),
        write64: attempt(() => m.write64(0, 1n)),
        // were a view handed out, this store would be SIGSEGV
        bytes: attempt(() => { const b = m.bytes; b[0x40] = 1; return 'stored'; }),
        read32: attempt(() => m.read32(0x40)),
        read8: attempt(() => m.read8(0x44)),
        read: attempt(() => [...m.read(0x40, 6)]),
        device: [...dev.read(0, 0x40, 6)],
      });
    `);
    expect(r).toMatchObject({
      writable: false, prot: 1,
      write8: readOnly, write32: readOnly, write64: readOnly, bytes: readOnly,
      read32: { ok: true, value: 0x12345678 },
      read8: { ok: true, value: 0xaa },
      read: { ok: true, value: [0x78, 0x56, 0x34, 0x12, 0xaa, 0xbb] },
      device: [0x78, 0x56, 0x34, 0x12, 0xaa, 0xbb],
    });
    expect(r.write32.message).toMatch(/read-only/);
  });

  it('the raw addon: mmap(PROT_READ) has no buffer, mmioWrite on it is ERR_READ_ONLY, mmioRead and copyFrom work', () => {
    const r = child(`
      const n = native();
      const dev = openDevice('sim');
      dev.write(0, 0, new Uint8Array([1, 2, 3, 4]));
      const m = dev.map(0, { prot: n.PROT_READ });
      const raw = n.mmap(dev.handle, 0n, 4096, n.PROT_READ);
      const dst = new Uint8Array(4);
      report({
        rawBuffer: raw.buffer,
        viaMapping: attempt(() => { n.mmioWrite(m.handle, 0, 32, 1); return 'stored'; }),
        viaRaw8: attempt(() => { n.mmioWrite(raw.handle, 0, 8, 1); return 'stored'; }),
        viaRaw64: attempt(() => { n.mmioWrite(raw.handle, 8, 64, 1n); return 'stored'; }),
        read: attempt(() => n.mmioRead(raw.handle, 0, 32)),
        copy: attempt(() => { n.copyFrom(raw.handle, 0, dst); return [...dst]; }),
        device: [...dev.read(0, 0, 4)],
      });
    `);
    const rawReadOnly = { thrown: true, name: 'Error', code: 'ERR_READ_ONLY' };
    expect(r).toMatchObject({
      rawBuffer: null,
      viaMapping: rawReadOnly, viaRaw8: rawReadOnly, viaRaw64: rawReadOnly,
      read: { ok: true, value: 0x04030201 },
      copy: { ok: true, value: [1, 2, 3, 4] },
      device: [1, 2, 3, 4],
    });
  });

  it('a region without the WRITE flag mapped with the default prot gets a read-only mapping; reads see the device', () => {
    const r = child(`${RO_BAR2}
      import { openSync, writeSync, closeSync } from 'node:fs';
      const n = native();
      const dev = openDevice({ simulator: roConfig });
      const info = dev.region(2);
      // the device's bytes, put there through the simulator's backing (the region refuses writes)
      const backing = dev.simBacking(2);
      const fd = openSync(backing.path, 'r+');
      writeSync(fd, new Uint8Array([0xef, 0xbe, 0xad, 0xde, 9, 8, 7]), 0, 7, Number(backing.offset) + 0x10);
      closeSync(fd);
      const m = dev.map(2);
      report({
        flags: info.flags,
        prot: m.prot, writable: m.writable,
        write32: attempt(() => m.write32(0x10, 1)),
        write16: attempt(() => m.write16(0x10, 1)),
        bytes: attempt(() => { m.bytes[0x10] = 1; return 'stored'; }),
        raw: attempt(() => { n.mmioWrite(m.handle, 0x10, 32, 1); return 'stored'; }),
        read32: attempt(() => m.read32(0x10)),
        read: attempt(() => [...m.read(0x10, 7)]),
        deviceWrite: attempt(() => dev.write(2, 0x10, new Uint8Array([1]))),
        // asking for write access to it is a refusal, not a writable view
        rw: attempt(() => dev.map(2, { prot: n.PROT_READ | n.PROT_WRITE })),
        rawRw: attempt(() => n.mmap(dev.handle, info.offset, 4096, n.PROT_READ | n.PROT_WRITE)),
        window: attempt(() => dev.mapInto(new WebAssembly.Memory({ initial: 1 }), 2, { at: 0 })),
        rawWindow: attempt(() => n.wasmMap(dev.handle, info.offset, 4096, new WebAssembly.Memory({ initial: 1 }), 0)),
        after: [...dev.read(2, 0x10, 4)],
      });
    `);
    expect(r.flags & 2).toBe(0);
    expect(r).toMatchObject({
      prot: 1, writable: false,
      write32: readOnly, write16: readOnly, bytes: readOnly,
      raw: { thrown: true, code: 'ERR_READ_ONLY' },
      read32: { ok: true, value: 0xdeadbeef },
      read: { ok: true, value: [0xef, 0xbe, 0xad, 0xde, 9, 8, 7] },
      deviceWrite: { thrown: true, name: 'VfioError', operation: 'write' },
      rw: { thrown: true, name: 'VfioError', operation: 'map', code: 'EINVAL' },
      rawRw: { ok: true, value: -22 },
      window: { thrown: true, name: 'VfioError', operation: 'mapInto', code: 'EINVAL' },
      rawWindow: { ok: true, value: -22 },
      after: [0xef, 0xbe, 0xad, 0xde],
    });
  });
});
