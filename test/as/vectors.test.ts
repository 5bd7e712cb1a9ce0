import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { asOutputPath, emitAssemblyScript } from '../../codegen/emit/assemblyscript.js';
import { generatedLine } from '../../codegen/emit/printer.js';
import { loadSpec, ROOT } from '../../codegen/load.js';
import { hex, loadVectors } from '../vectors.js';
import { checkCapchain, checkIoctl, checkLayout, checkValidation, flatten } from './checks.js';
import { compileHarness, emitted, Harness } from './wasm.js';

const spec = loadSpec();
const AS_OUTPUT = asOutputPath(spec);
const vectors = loadVectors();

describe('assemblyscript target', () => {
  it('emits one module with the generated marker first', () => {
    const files = emitAssemblyScript(spec);
    expect(files.map((f) => f.path)).toEqual([AS_OUTPUT]);
    expect(files[0]!.content.split('\n')[0]).toBe(`// ${generatedLine(spec)}`);
  });
  it('is up to date on disk (run `node bin/vfio-subregion.js generate`)', () => {
    expect(readFileSync(resolve(ROOT, AS_OUTPUT), 'utf8')).toBe(emitAssemblyScript(spec)[0]!.content);
  });
});

describe('assemblyscript vectors catch a wrong codec', () => {
  it('a codec with one member\'s offset moved fails the layout vectors of its struct, and only those', async () => {
    const s = spec.structs.find((x) => x.name === 'vfio_region_info')!;
    const m = s.members.find((x) => x.name === 'size')!;
    // The generated write and read of vfio_region_info.size, both moved 8 bytes up (onto .offset).
    const mark = `, ${m.offset}); // ${s.name.toUpperCase()}_OFFSET_${m.name.toUpperCase()}`;
    const good = emitted(spec);
    const bad = good.split(mark).join(`, ${m.offset + 8}); // moved by the test`);
    expect(good.split(mark)).toHaveLength(3);
    const h = await Harness.instantiate((await compileHarness(spec, ['-O0'], bad)).binary);
    const failed = vectors.layout.filter((c) => {
      const diff = checkLayout(h, spec, c);
      if (c.struct === s.name) expect(diff.some((d) => d.startsWith('encode: bytes')), c.name).toBe(true);
      // Where size and offset differ, decoding reads the wrong one.
      if (c.name === `${s.name}/mixed`) expect(diff.some((d) => d.startsWith(`decode ${s.name}.size:`)), c.name).toBe(true);
      return diff.length > 0;
    });
    expect(failed.map((c) => c.struct)).toEqual(vectors.layout.filter((c) => c.struct === s.name).map(() => s.name));
    expect(failed.length).toBeGreaterThan(0);
  }, 60_000);
});

/** Compile modes: every vector runs under each. */
const MODES: Record<string, string[]> = { O3: ['-O3'], O0: ['-O0', '--debug'] };

for (const [mode, flags] of Object.entries(MODES)) {
  describe(`assemblyscript vectors (${mode})`, () => {
    let h: Harness;
    let ran = 0;
    beforeAll(async () => {
      const { binary } = await compileHarness(spec, flags);
      h = await Harness.instantiate(binary);
    });

    it('harness covers every struct (each data model its codec takes), capability chain and validator of the spec', () => {
      for (const s of spec.structs) {
        for (const suffix of s.uniform ? [''] : ['', '_ilp32']) {
          expect(typeof h.ex[`encode_${s.name}${suffix}`], `encode_${s.name}${suffix}`).toBe('function');
          expect(typeof h.ex[`decode_${s.name}${suffix}`], `decode_${s.name}${suffix}`).toBe('function');
        }
      }
      for (const x of spec.ioctls) if (x.chain !== null) expect(typeof h.ex[`cap_body_${x.arg!.name}`], `cap_body_${x.arg!.name}`).toBe('function');
      for (const v of spec.validators) expect(typeof h.ex[`run_${v.name}`], `run_${v.name}`).toBe('function');
    });

    it('natural layouts: LP64 by default, the i386 layout with ilp32 (sizes and offsets of the real header)', () => {
      const mig = [2n, 1n, 0n, 0n, 0x1000n, 0x100000n];
      h.setSlots(mig);
      expect(h.call('encode_vfio_iommu_type1_info_cap_migration', 0)).toBe(32);
      expect(new DataView(h.buf(32).buffer).getBigUint64(16, true)).toBe(0x1000n);
      h.setSlots(mig);
      expect(h.call('encode_vfio_iommu_type1_info_cap_migration_ilp32', 0)).toBe(28);
      expect(new DataView(h.buf(28).buffer).getBigUint64(12, true)).toBe(0x1000n);
      expect(h.call('decode_vfio_iommu_type1_info_cap_migration_ilp32', 0)).toBe(6);
      expect(h.slots(6)).toEqual(mig);
      h.setSlots([4096n, 8n, 0xdeadbeefn]);
      expect(h.call('encode_vfio_bitmap_ilp32', 0)).toBe(20);
      expect(new DataView(h.buf(20).buffer).getUint32(16, true)).toBe(0xdeadbeef);
      h.setSlots([1n, 2n, 3n, 4n]);
      expect([h.call('encode_vfio_iommu_type1_info', 0), h.call('encode_vfio_iommu_type1_info_ilp32', 0)]).toEqual([24, 20]);
    });

    describe('layout', () => {
      for (const c of vectors.layout) it(c.name, () => { ran++; expect(checkLayout(h, spec, c)).toEqual([]); });
    });

    describe('argsz left out (-1) is filled with the bytes written (layout vectors whose argsz is the whole encoding; others keep theirs)', () => {
      const roles = new Map(spec.ioctls.flatMap((x) => (x.arg !== null && x.argsz !== null ? [[x.arg, x.argsz] as const] : [])));
      for (const c of vectors.layout) {
        const s = spec.structs.find((x) => x.name === c.struct)!;
        const role = roles.get(s);
        if (role === undefined || Number(c.fields[role.name]) !== c.bytes.length / 2) continue;
        it(c.name, () => {
          const { slots, count } = flatten(s, { ...c.fields, [role.name]: '0xffffffffffffffff' });
          h.setSlots(slots);
          h.setBuf(new Uint8Array(0));
          expect(h.call(`encode_${c.struct}`, count)).toBe(c.bytes.length / 2);
          expect(hex(h.buf(c.bytes.length / 2))).toBe(c.bytes);
        });
      }
    });

    it('vfio_irq_set: data must be count elements of the type the DATA flag chooses (as the TypeScript codec checks)', () => {
      const irqSet = spec.structs.find((x) => x.name === 'vfio_irq_set')!;
      const encode = (flags: number, n: number, data: number[]): number => {
        h.setSlots(flatten(irqSet, { argsz: '0xffffffffffffffff', flags, index: 2, start: 0, count: n, data }).slots);
        return h.call('encode_vfio_irq_set', data.length);
      };
      expect(encode(0x24, 2, [10, 0, 0, 0, 11, 0, 0, 0])).toBe(28);
      expect(encode(0x12, 3, [1, 0, 1])).toBe(23);
      expect(encode(0x21, 4, [])).toBe(20);
      expect(() => encode(0x24, 2, [10, 0, 0, 0])).toThrow(/vfio_irq_set\.count: says 2 elements of 4 bytes, data has 4 bytes/);
      expect(() => encode(0x01, 1, [1])).toThrow(/says 1 elements of 0 bytes, data has 1 bytes/);
      expect(() => encode(0x20, 1, [1])).toThrow(/vfio_irq_set\.flags: sets none of VFIO_IRQ_SET_DATA_NONE, VFIO_IRQ_SET_DATA_BOOL, VFIO_IRQ_SET_DATA_EVENTFD/);
    });
    describe('ioctl', () => {
      for (const c of vectors.ioctl) it(c.name, () => { ran++; expect(checkIoctl(h, spec, c)).toEqual([]); });
    });
    describe('validation', () => {
      for (const c of vectors.validation.cases) {
        it(`${c.op}/${c.name}`, () => { ran++; expect(checkValidation(h, spec, vectors.validation.devices, c)).toEqual([]); });
      }
    });
    describe('capchain', () => {
      for (const c of vectors.capchain) it(c.name, () => { ran++; expect(checkCapchain(h, spec, c)).toEqual([]); });
    });

    it('ran every vector', () => {
      expect(ran).toBe(vectors.layout.length + vectors.ioctl.length + vectors.validation.cases.length + vectors.capchain.length);
    });

    describe('the harness can fail', () => {
      it('a layout vector with one byte changed', () => {
        const c = vectors.layout.find((x) => x.name === 'vfio_region_info/mixed')!;
        const bytes = `${c.bytes.slice(0, 32)}ff${c.bytes.slice(34)}`;
        const diff = checkLayout(h, spec, { ...c, bytes });
        expect(diff.some((d) => d.startsWith('encode: bytes'))).toBe(true);
        expect(diff.some((d) => d.includes('decode vfio_region_info.size'))).toBe(true);
      });
      it('a validation vector expecting another rule', () => {
        const c = vectors.validation.cases.find((x) => 'errno' in x.expect)!;
        expect(checkValidation(h, spec, vectors.validation.devices, { ...c, expect: { errno: 'ENOSPC', rule: 'no-such-rule' } })).toHaveLength(2);
      });
      it('a validation vector expecting other effects', () => {
        const c = vectors.validation.cases.find((x) => x.name === 'create-ok-wc')!;
        const effects = { ...(c.expect as { effects: Record<string, number> }).effects, 'req.index': 11, 'new.is_subregion': false };
        expect(checkValidation(h, spec, vectors.validation.devices, { ...c, expect: { ok: true, effects } })).toHaveLength(2);
      });
      it('the i386 capchain vector walked with the LP64 layouts', () => {
        const c = vectors.capchain.find((x) => x.name === 'type1-migration-i386')!;
        expect(checkCapchain(h, spec, { ...c, data_model: 'lp64' })).toEqual(['status backwards (at 20), expected ok']);
      });
      it('a capchain vector with the error offset moved', () => {
        const c = vectors.capchain.find((x) => x.name === 'loop-self')!;
        expect(checkCapchain(h, spec, { ...c, expect: { error: 'loop', at: 36 } })).toEqual(['at 32, expected 36']);
      });
      it('a capchain vector with a body changed', () => {
        const c = vectors.capchain.find((x) => x.name === 'subregion-reply')!;
        const x = structuredClone(c);
        const caps = (x.expect as { caps: { body?: Record<string, unknown> }[] }).caps;
        caps[0]!.body!['offset'] = '0x20000';
        expect(checkCapchain(h, spec, x)).toEqual(['caps[0].body.offset: expected 0x20000, got 0x10000']);
      });
      it('an ioctl vector with a number changed', () => {
        const c = vectors.ioctl.find((x) => x.name === 'VFIO_DEVICE_FEATURE')!;
        const diff = checkIoctl(h, spec, { ...c, numbers: { ...c.numbers, aarch64: '0x00003b76' } });
        expect(diff.length).toBeGreaterThanOrEqual(2);
        expect(diff.every((d) => d.startsWith('aarch64:') || d.startsWith('VFIO_DEVICE_FEATURE_AARCH64'))).toBe(true);
      });
    });

    describe('MMIO window', () => {
      const win = (): DataView => new DataView(h.ex.memory.buffer, h.ptr('h_win'), 4096);
      it('reads and writes every width little-endian at base + offset', () => {
        new Uint8Array(h.ex.memory.buffer, h.ptr('h_win'), 4096).fill(0);
        h.call('mm_write', 8, 3, 0xabn);
        h.call('mm_write', 16, 6, 0xbeefn);
        h.call('mm_write', 32, 8, 0xdeadbeefn);
        h.call('mm_write', 64, 16, 0x0123456789abcdefn);
        const w = win();
        expect(w.getUint8(3)).toBe(0xab);
        expect(w.getUint16(6, true)).toBe(0xbeef);
        expect(w.getUint32(8, true)).toBe(0xdeadbeef);
        expect(w.getBigUint64(16, true)).toBe(0x0123456789abcdefn);
        expect(w.getUint8(2)).toBe(0);
        expect(w.getUint8(24)).toBe(0);
        w.setBigUint64(4088, 0xfeedfacecafebeefn, true);
        expect(h.callBig('mm_read', 64, 4088)).toBe(0xfeedfacecafebeefn);
        expect(h.callBig('mm_read', 32, 4092)).toBe(0xfeedfacen);
        expect(h.callBig('mm_read', 16, 4088)).toBe(0xbeefn);
        expect(h.callBig('mm_read', 8, 4095)).toBe(0xfen);
      });
      it('checked accessors refuse out-of-window and misaligned accesses', () => {
        expect(h.callBig('mm_read_checked', 64, 4088)).toBe(0xfeedfacecafebeefn);
        h.call('mm_write_checked', 32, 4092, 0x11223344n);
        expect(win().getUint32(4092, true)).toBe(0x11223344);
        expect(() => h.call('mm_read_checked', 64, 4096)).toThrow(/outside the window/);
        expect(() => h.call('mm_read_checked', 8, 4096)).toThrow(/outside the window/);
        expect(() => h.call('mm_write_checked', 32, 4094, 0n)).toThrow(/outside the window/);
        expect(() => h.call('mm_read_checked', 64, 0xfffffff8)).toThrow(/outside the window/);
        expect(() => h.call('mm_write_checked', 16, 5, 0n)).toThrow(/misaligned/);
        expect(() => h.call('mm_read_checked', 64, 4)).toThrow(/misaligned/);
      });
      it('bursts 64 bytes, and only those', () => {
        new Uint8Array(h.ex.memory.buffer, h.ptr('h_win'), 4096).fill(0);
        const src = Uint8Array.from({ length: 64 }, (_, i) => i + 1);
        h.setBuf(src);
        h.call('mm_burst', 128);
        const w = new Uint8Array(h.ex.memory.buffer, h.ptr('h_win'), 4096);
        expect(Array.from(w.slice(128, 192))).toEqual(Array.from(src));
        expect(w[127]).toBe(0);
        expect(w[192]).toBe(0);
        h.call('mm_burst_checked', 4032);
        expect(Array.from(w.slice(4032, 4096))).toEqual(Array.from(src));
        expect(() => h.call('mm_burst_checked', 4064)).toThrow(/outside the window/);
        expect(() => h.call('mm_burst_checked', 32)).toThrow(/misaligned/);
      });
      it('ordering points call the host with the window base', () => {
        h.log.calls.length = 0;
        h.call('mm_write', 32, 0, 1n);
        h.call('mm_wmb');
        h.call('mm_flush');
        expect(h.log.calls).toEqual([{ name: 'wmb', window: h.ptr('h_win') }, { name: 'flush', window: h.ptr('h_win') }]);
      });
    });
  });
}
