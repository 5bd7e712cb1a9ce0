/**
 * The harness glue (test/as/glue.ts) for every spec the tests load: the project's spec, the
 * upstream specs under spec/linux and the fixture specs. Each glue compiles with asc next to its
 * spec's generated module, exports encode_/decode_ for every struct (and _ilp32 where the codec
 * takes a data model) and cap_body_ for every capability chain, and its get and put are inverses
 * (slots -> object -> bytes -> object -> slots). Whether the bytes are right is the vectors' part
 * (vectors.test.ts), the second spec's (test/codegen/second-spec.test.ts).
 */
import { readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { asOutputPath } from '../../codegen/emit/assemblyscript.js';
import type { Struct } from '../../codegen/ir.js';
import { loadSpec, ROOT } from '../../codegen/load.js';
import { compileAs } from '../../runtime/src/asc.js';
import { asGlue, GLUE } from './glue.js';
import { emitted, Harness } from './wasm.js';

const jsonIn = (dir: string): string[] => readdirSync(join(ROOT, dir)).filter((f) => f.endsWith('.json')).sort().map((f) => `${dir}/${f}`);
const SPECS = ['spec/vfio-subregion.json', ...jsonIn('spec/linux'), ...jsonIn('test/fixtures/specs')];

/** Slots a value of s takes with n flexible elements (the protocol glue.ts describes, restated). */
function slotCount(s: Struct, n: number): number {
  let k = 0;
  for (const m of s.members) {
    const per = m.type.kind === 'struct' ? slotCount(m.type.struct, 0) : 1;
    k += per * (m.count === null ? 1 : m.count === 'flexible' ? n : m.count);
  }
  return k;
}

/**
 * The members of a union share their bytes, so they round-trip only holding one value: each scalar
 * member of a union takes the first one's slot value, in nested structs and array elements too (a
 * union of structs or arrays is not handled).
 */
function unionSlots(s: Struct, slots: bigint[], at = 0, n = 0): number {
  let k = at;
  const first = new Map<unknown, number>();
  for (const m of s.members) {
    const count = m.count === null ? 1 : m.count === 'flexible' ? n : m.count;
    const shared = m.union !== null && m.union.members.length > 1;
    if (shared && (m.type.kind === 'struct' || m.count !== null)) throw new Error(`${s.name}.${m.name}: a union member that is not a scalar`);
    // the elements of a struct array (a flexible one included) hold unions of their own
    if (m.type.kind === 'struct') { for (let i = 0; i < count; i++) k = unionSlots(m.type.struct, slots, k); continue; }
    if (shared) {
      if (first.has(m.union)) slots[k] = slots[first.get(m.union)!]!;
      else first.set(m.union, k);
    }
    k += count;
  }
  return k;
}

/**
 * A flexible array counted in elements of a type a flag bit chooses is written only when the count
 * and the bytes agree: the flag word takes a bit of a 1-byte type and the count the n elements.
 */
function elementSlots(s: Struct, slots: bigint[], n: number): void {
  const e = s.flexible?.elements;
  if (e === undefined || e === null || s.flexibleCount === null) return;
  const slot = (m: Struct['members'][number]): number => slotCount({ ...s, members: s.members.slice(0, s.members.indexOf(m)) }, 0);
  slots[slot(e.by)] = e.types.find((t) => t.size === 1)!.bit.value;
  slots[slot(s.flexibleCount)] = BigInt(n);
}

describe('harness glue', () => {
  for (const file of SPECS) {
    it(`covers every struct and capability chain of ${file}, and round-trips each`, async () => {
      const spec = loadSpec(join(ROOT, file));
      const glue = asGlue(spec, relative(dirname(GLUE), asOutputPath(spec)).replace(/\.ts$/, ''));
      const { binary } = await compileAs(GLUE, { flags: ['-O0', '--enable', 'simd', '--disableWarning', '235'], files: { [GLUE]: glue, [asOutputPath(spec)]: emitted(spec) } });
      const h = await Harness.instantiate(binary);
      for (const x of spec.ioctls) if (x.chain !== null) expect(typeof h.ex[`cap_body_${x.arg!.name}`], `cap_body_${x.arg!.name}`).toBe('function');
      for (const s of spec.structs) {
        const n = s.flexible === null ? 0 : 2;
        const slots = Array.from({ length: slotCount(s, n) }, (_, i) => BigInt((i % 100) + 1));
        unionSlots(s, slots, 0, n);
        elementSlots(s, slots, n);
        for (const suffix of s.uniform ? [''] : ['', '_ilp32']) {
          const [enc, dec] = [`encode_${s.name}${suffix}`, `decode_${s.name}${suffix}`];
          expect([typeof h.ex[enc], typeof h.ex[dec]], `${enc}, ${dec}`).toEqual(['function', 'function']);
          h.setSlots(slots);
          h.setBuf(new Uint8Array(0));
          h.call(enc, n);
          h.setSlots(slots.map(() => 0xdeadn));
          expect(h.call(dec, n), dec).toBe(slots.length);
          expect(h.slots(slots.length), `${enc} then ${dec}`).toEqual(slots);
        }
      }
    }, 60_000);
  }
});
