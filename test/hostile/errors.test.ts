// Issue 9, errors: argument errors are a TypeError/RangeError with a code, naming the parameter as
// the API names it (never an engine TypeError like "Cannot use 'in' operator", never null taken as
// "use the default"); device refusals are a VfioError with errno, code, the operation and the
// spec's rule.
import { describe, expect, it } from 'vitest';
import { child } from './harness.js';

type Case = [name: string, expr: string, kind: 'TypeError' | 'RangeError', code: string, param: string];

const CASES: Case[] = [
  ['openDevice({})', 'openDevice({})', 'RangeError', 'ERR_INVALID_ARG_VALUE', 'target'],
  ['openDevice(42)', 'openDevice(42)', 'TypeError', 'ERR_INVALID_ARG_TYPE', 'target'],
  ['openDevice(null)', 'openDevice(null)', 'TypeError', 'ERR_INVALID_ARG_TYPE', 'target'],
  ['openDevice([])', 'openDevice([])', 'TypeError', 'ERR_INVALID_ARG_TYPE', 'target'],
  ['openDevice(() => {})', 'openDevice(() => {})', 'TypeError', 'ERR_INVALID_ARG_TYPE', 'target'],
  ["openDevice('bogus')", "openDevice('bogus')", 'RangeError', 'ERR_INVALID_ARG_VALUE', 'target'],
  ['openDevice({ simulator: null })', 'openDevice({ simulator: null })', 'TypeError', 'ERR_INVALID_ARG_TYPE', 'target.simulator'],
  ['openDevice({ simulator: { regions: 5 } })', 'openDevice({ simulator: { regions: 5 } })', 'TypeError', 'ERR_INVALID_ARG_TYPE', 'target.simulator.regions'],
  ['openDevice({ simulator, cdev })', "openDevice({ simulator: DEFAULT_SIM, cdev: '/dev/null' })", 'RangeError', 'ERR_INVALID_ARG_VALUE', 'target'],
  ['openDevice({ cdev: 5 })', 'openDevice({ cdev: 5 })', 'TypeError', 'ERR_INVALID_ARG_TYPE', 'target.cdev'],
  ["openDevice({ group: '/x' })", "openDevice({ group: '/x' })", 'TypeError', 'ERR_INVALID_ARG_TYPE', 'target.device'],
  ['createSubregion(null)', 'dev.createSubregion(null)', 'TypeError', 'ERR_INVALID_ARG_TYPE', 'request'],
  ['createSubregion(undefined)', 'dev.createSubregion(undefined)', 'TypeError', 'ERR_INVALID_ARG_TYPE', 'request'],
  ['createSubregion({ parent: null })', 'dev.createSubregion({ parent: null, offset: 0n, size: 0x1000n })', 'TypeError', 'ERR_INVALID_ARG_TYPE', 'request.parent'],
  ["createSubregion({ size: '4096' })", "dev.createSubregion({ parent: 0, offset: 0n, size: '4096' })", 'TypeError', 'ERR_INVALID_ARG_TYPE', 'request.size'],
  ['createSubregion({ offset: -1 })', 'dev.createSubregion({ parent: 0, offset: -1, size: 0x1000n })', 'RangeError', 'ERR_OUT_OF_RANGE', 'request.offset'],
  ['createSubregion({ attrs: null })', 'dev.createSubregion({ parent: 0, offset: 0n, size: 0x1000n, attrs: null })', 'TypeError', 'ERR_INVALID_ARG_TYPE', 'request.attrs'],
  ['mapInto(undefined, ...)', 'dev.mapInto(undefined, 0, { at: 0 })', 'TypeError', 'ERR_INVALID_ARG_TYPE', 'memory'],
  ['mapInto(null, ...)', 'dev.mapInto(null, 0, { at: 0 })', 'TypeError', 'ERR_INVALID_ARG_TYPE', 'memory'],
  ['mapInto(mem, 0)', 'dev.mapInto(new WebAssembly.Memory({ initial: 1 }), 0)', 'TypeError', 'ERR_INVALID_ARG_TYPE', 'options'],
  ['mapInto(mem, 0, { at: -1 })', 'dev.mapInto(new WebAssembly.Memory({ initial: 1 }), 0, { at: -1 })', 'RangeError', 'ERR_OUT_OF_RANGE', 'options.at'],
  ['map({})', 'dev.map({})', 'TypeError', 'ERR_INVALID_ARG_TYPE', 'region'],
  ['map({ ...region(0) })', 'dev.map({ ...dev.region(0) })', 'TypeError', 'ERR_INVALID_ARG_TYPE', 'region'],
  ['map(structuredClone(region(0)))', 'dev.map(structuredClone(dev.region(0)))', 'TypeError', 'ERR_INVALID_ARG_TYPE', 'region'],
  ['map(null)', 'dev.map(null)', 'TypeError', 'ERR_INVALID_ARG_TYPE', 'region'],
  ["map('0')", "dev.map('0')", 'TypeError', 'ERR_INVALID_ARG_TYPE', 'region'],
  ['map(0, null)', 'dev.map(0, null)', 'TypeError', 'ERR_INVALID_ARG_TYPE', 'options'],
  ['map(0, 5)', 'dev.map(0, 5)', 'TypeError', 'ERR_INVALID_ARG_TYPE', 'options'],
  ['map(0, { offset: null })', 'dev.map(0, { offset: null })', 'TypeError', 'ERR_INVALID_ARG_TYPE', 'options.offset'],
  ['map(0, { length: null })', 'dev.map(0, { length: null })', 'TypeError', 'ERR_INVALID_ARG_TYPE', 'options.length'],
  ['map(0, { prot: null })', 'dev.map(0, { prot: null })', 'TypeError', 'ERR_INVALID_ARG_TYPE', 'options.prot'],
  ['map(0, { prot: 2 })', 'dev.map(0, { prot: 2 })', 'RangeError', 'ERR_INVALID_ARG_VALUE', 'options.prot'],
  ['map(0, { offset: 1n << 64n })', 'dev.map(0, { offset: 1n << 64n })', 'RangeError', 'ERR_OUT_OF_RANGE', 'options.offset'],
  ['map(0, { length: 2 ** 53 })', 'dev.map(0, { length: 2 ** 53 })', 'RangeError', 'ERR_OUT_OF_RANGE', 'options.length'],
  ['region(NaN)', 'dev.region(NaN)', 'RangeError', 'ERR_OUT_OF_RANGE', 'index'],
  ["setRegionAttrs(0, '1')", "dev.setRegionAttrs(0, '1')", 'TypeError', 'ERR_INVALID_ARG_TYPE', 'attrs'],
];

describe('errors', () => {
  it('argument errors: TypeError/RangeError with a code, naming the parameter; nothing reaches the device', () => {
    const r = child(`
      const dev = openDevice('sim');
      const out = {};
      const cases = { ${CASES.map(([name, expr]) => `${JSON.stringify(name)}: () => ${expr}`).join(',\n')} };
      for (const [name, fn] of Object.entries(cases)) out[name] = attempt(fn);
      // nothing was mapped or created by any of them
      out.after = { mappings: dev.simMappings().length, regions: dev.info().numRegions, stats: native().stats() };
      report(out);
    `);
    // every case checked, then one assertion listing all that differ
    const wrong: string[] = [];
    for (const [name, , kind, code, param] of CASES) {
      const e = r[name];
      const named = new RegExp(`^${param.replace(/[.[\]]/g, '\\$&')}\\b`);
      if (!e.thrown || e.name !== kind || e.code !== code || !named.test(e.message) || /Cannot use|Cannot read|is not a function|undefined: ERR/.test(e.message))
        wrong.push(`${name}: expected ${kind} ${code} naming ${param}, got ${e.thrown ? `${e.name} ${e.code}: ${e.message}` : 'no error (it ran)'}`);
    }
    expect(wrong).toEqual([]);
    expect(r.after).toEqual({ mappings: 0, regions: 9, stats: { openDevices: 1, ranges: 0, windows: 0, dmaMappings: 0, dmaBuffers: 0, eventfds: 0 } });
  });

  it('device refusals: a VfioError with errno, code, the operation and the rule', () => {
    const r = child(`
      const dev = openDevice('sim');
      const out = {};
      out.sizeAligned = attempt(() => dev.createSubregion({ parent: 0, offset: 0n, size: 0x800n }));
      out.offsetAligned = attempt(() => dev.createSubregion({ parent: 0, offset: 0x800n, size: 0x1000n }));
      out.withinParent = attempt(() => dev.createSubregion({ parent: 0, offset: 0x40000n, size: 0x1000n }));
      const m = dev.map(0);
      out.notMapped = attempt(() => dev.setRegionAttrs(0, 1));
      m.unmap();
      out.afterUnmap = attempt(() => { dev.setRegionAttrs(0, 0); return 'ok'; });
      const wc = dev.createSubregion({ parent: 0, offset: 0n, size: 0x1000n, attrs: 1 });
      const mw = dev.map(wc);
      out.oneMemtype = attempt(() => dev.map(0, { length: 0x1000 }));
      out.oneMemtypeWindow = attempt(() => dev.mapInto(new WebAssembly.Memory({ initial: 1 }), 0, { at: 0, length: 0x1000 }));
      out.otherPage = attempt(() => dev.map(0, { offset: 0x1000, length: 0x1000 }) && 'ok');
      report(out);
    `);
    const refusal = (operation: string, code: string, rule: string) => ({ thrown: true, name: 'VfioError', isVfioError: true, operation, code, rule, syscall: expect.any(String), errno: expect.any(Number) });
    expect(r.sizeAligned).toMatchObject(refusal('createSubregion', 'EINVAL', 'size-aligned'));
    expect(r.sizeAligned.errno).toBe(22);
    expect(r.sizeAligned.message).toMatch(/^createSubregion: .*EINVAL.*rule size-aligned/);
    expect(r.offsetAligned).toMatchObject(refusal('createSubregion', 'EINVAL', 'offset-aligned'));
    expect(r.withinParent).toMatchObject(refusal('createSubregion', 'EINVAL', 'within-parent'));
    expect(r.notMapped).toMatchObject(refusal('setRegionAttrs', 'EBUSY', 'not-mapped'));
    expect(r.notMapped.errno).toBe(16);
    expect(r.afterUnmap).toEqual({ ok: true, value: 'ok' });
    expect(r.oneMemtype).toMatchObject(refusal('map', 'EBUSY', 'one-memtype-per-page'));
    expect(r.oneMemtype.syscall).toBe('mmap');
    expect(r.oneMemtypeWindow).toMatchObject(refusal('mapInto', 'EBUSY', 'one-memtype-per-page'));
    expect(r.otherPage).toEqual({ ok: true, value: 'ok' });
  });

  it('use after close and unmap: DeviceStateError with its code', () => {
    const r = child(`
      const dev = openDevice('sim');
      const m = dev.map(0);
      const w = dev.mapInto(new WebAssembly.Memory({ initial: 4 }), 0, { at: 0, length: 0x1000 });
      const m2 = dev.map(2, { length: 0x1000 });
      m2.unmap();
      const unmapped = { read: attempt(() => m2.read32(0)), write: attempt(() => m2.write32(0, 1)), copy: attempt(() => m2.read(0, 4)) };
      dev.close();
      report({
        unmapped,
        region: attempt(() => dev.region(0)), map: attempt(() => dev.map(0)), read: attempt(() => dev.read(0, 0, 4)),
        mapping: attempt(() => m.read32(0)), windowHandle: attempt(() => w.handle), mapped: [m.mapped, w.mapped],
        closeAgain: attempt(() => dev.close()), unmapAgain: attempt(() => m.unmap()),
      });
    `);
    const state = (code: string) => ({ thrown: true, name: 'DeviceStateError', isDeviceStateError: true, code });
    for (const k of ['read', 'write', 'copy']) expect(r.unmapped[k], k).toMatchObject(state('ERR_UNMAPPED'));
    for (const k of ['region', 'map', 'read']) expect(r[k], k).toMatchObject(state('ERR_DEVICE_CLOSED'));
    expect(r.mapping).toMatchObject(state('ERR_UNMAPPED'));
    expect(r.windowHandle).toMatchObject(state('ERR_UNMAPPED'));
    expect(r.mapped).toEqual([false, false]);
    expect(r.closeAgain).toMatchObject({ ok: true });
    expect(r.unmapAgain).toMatchObject({ ok: true });
  });
});
