/**
 * Conformance of the second spec (test/fixtures/specs/userfaultfd.json) against the real
 * <linux/userfaultfd.h>, through the facts machinery (test/uapi/facts.ts: names from the
 * preprocessed header, every number from the compiler), for x86_64 and i386: every struct's size
 * and alignment and every member's offset and size (against the IR's LP64 and ILP32 layouts),
 * every constant, enum value and flag bit, and every ioctl number of each data model.
 *
 * The spec dates every item to 6.1, the system's header, which must be there and match. The later
 * versions (6.12, 7.2, 7.3) are checked too where test/uapi/fetch.sh has already unpacked them
 * (test/uapi/coverage.test.ts downloads them; this file never does, so the two never fetch at
 * once) — the userfaultfd ABI only grows — and skipped with the reason otherwise.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSpec, ROOT } from '../../codegen/load.js';
import type { Spec } from '../../codegen/ir.js';
import { CACHE, DATA_MODELS, extract, fetchVersions, headerPath, items, pattern, unavailable, type DataModel, type Facts, type Versions } from './facts.js';

const HEADER = 'linux/userfaultfd.h';
const VERSIONS = ['6.1', '6.12', '7.2', '7.3'];
const MODEL = { x86_64: 'lp64', i386: 'ilp32' } as const;

/** Every mismatch between the spec and the header's facts for one data model; [] when they agree. */
export function mismatches(spec: Spec, f: Facts, arch: DataModel): string[] {
  const out: string[] = [];
  const values = new Map<string, bigint>();
  for (const m of f.macros) if (m.string !== true) values.set(m.name, pattern(m));
  for (const e of f.enumMembers) values.set(e.name, pattern(e));
  const value = (name: string, what: string, v: bigint): void => {
    const h = values.get(name);
    if (h === undefined) out.push(`${name} (${what}) is not in <${HEADER}> ${f.version}`);
    else if (h !== v) out.push(`${name} (${what}): header 0x${h.toString(16)}, spec 0x${v.toString(16)}`);
  };
  for (const c of spec.constants) value(c.name, 'constant', c.value);
  for (const e of spec.enums) for (const v of e.values) value(v.name, `enum ${e.name}`, v.value);
  for (const s of spec.flags) for (const b of s.bits) value(b.name, `flag of ${s.name}`, b.value);
  for (const x of spec.ioctls) value(x.name, `ioctl, ${arch}`, BigInt(x.numbers[arch]));
  const model = MODEL[arch];
  for (const s of spec.structs) {
    const h = f.structs.find((y) => y.name === s.name);
    if (h === undefined) { out.push(`struct ${s.name} is not in <${HEADER}> ${f.version}`); continue; }
    const l = s.layouts[model];
    if (h.size !== l.size) out.push(`sizeof(struct ${s.name}): header ${h.size}, spec ${l.size} (${model})`);
    if (h.align !== l.align) out.push(`_Alignof(struct ${s.name}): header ${h.align}, spec ${l.align} (${model})`);
    for (const m of s.members) {
      const hm = h.members.find((y) => y.name === m.name);
      const ml = m.layouts[model];
      if (hm === undefined) { out.push(`struct ${s.name}: member ${m.name} is not in the header`); continue; }
      if (hm.offset !== ml.offset) out.push(`offsetof(struct ${s.name}, ${m.name}): header ${hm.offset}, spec ${ml.offset} (${model})`);
      if (hm.size !== ml.size) out.push(`sizeof(struct ${s.name}.${m.name}): header ${hm.size}, spec ${ml.size} (${model})`);
    }
    const unnamed = h.members.filter((hm) => !hm.name.includes('.') && !s.members.some((m) => m.name === hm.name));
    if (unnamed.length > 0) out.push(`struct ${s.name}: members of the header the spec lacks: ${unnamed.map((x) => x.name).join(', ')}`);
  }
  return out;
}

let spec: Spec;
let fetched: Versions;

beforeAll(() => {
  spec = loadSpec(join(ROOT, 'test/fixtures/specs/userfaultfd.json'));
  fetched = fetchVersions(VERSIONS.filter((v) => v === '6.1' || existsSync(join(CACHE, v, '.done'))));
}, 900_000);

function facts(v: string, a: DataModel): Facts | string {
  const hv = fetched.ok.find((x) => x.version === v);
  if (hv === undefined) return `${v} is not available: ${fetched.skipped.find((x) => x.version === v)?.reason ?? 'not downloaded yet (test/uapi/coverage.test.ts fetches it)'}`;
  if (headerPath(hv, HEADER) === null) return `<${HEADER}> does not exist in ${v}`;
  return unavailable(a) ?? extract(HEADER, hv, a);
}

describe(`<${HEADER}> and test/fixtures/specs/userfaultfd.json`, () => {
  for (const v of VERSIONS) {
    for (const a of DATA_MODELS) {
      it(`${v} ${a}: every item of the spec matches the header`, (ctx) => {
        const f = facts(v, a);
        if (typeof f === 'string') {
          if (v === '6.1' && a === 'x86_64') throw new Error(`the system's header is the spec's origin and must be checked: ${f}`);
          ctx.skip(f);
          return;
        }
        const names = new Set([...spec.constants.map((c) => c.name), ...spec.enums.flatMap((e) => e.values.map((x) => x.name)),
          ...spec.flags.flatMap((s) => s.bits.map((b) => b.name)), ...spec.ioctls.map((x) => x.name), ...spec.structs.map((s) => s.name)]);
        const all = items(f);
        console.log(`userfaultfd.h ${v} ${a}: the fixture describes ${all.filter((x) => names.has(x.name)).length}/${all.length} named items of the header`);
        expect(mismatches(spec, f, a)).toEqual([]);
      });
    }
  }

  it('the check notices a wrong size, offset, value or ioctl number', (ctx) => {
    const f = facts('6.1', 'i386');
    if (typeof f === 'string') { ctx.skip(f); return; }
    const bad = structuredClone(spec);
    const copy = bad.structs.find((s) => s.name === 'uffdio_copy')!;
    copy.layouts.ilp32.align = 8;
    copy.members.find((m) => m.name === 'copy')!.layouts.ilp32.offset = 36;
    bad.constants.find((c) => c.name === '_UFFDIO_API')!.value = 0x3en;
    bad.ioctls.find((x) => x.name === 'UFFDIO_ZEROPAGE')!.numbers.i386 += 1;
    expect(mismatches(bad, f, 'i386')).toEqual([
      '_UFFDIO_API (constant): header 0x3f, spec 0x3e',
      'UFFDIO_ZEROPAGE (ioctl, i386): header 0xc020aa04, spec 0xc020aa05',
      '_Alignof(struct uffdio_copy): header 4, spec 8 (ilp32)',
      'offsetof(struct uffdio_copy, copy): header 32, spec 36 (ilp32)',
    ]);
  });
});
