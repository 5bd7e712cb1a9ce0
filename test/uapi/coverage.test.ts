/**
 * The spec against the real uapi headers of every version (test/uapi/fetch.sh: the system's 6.1,
 * 6.12 from trixie, 7.2 from sid, 7.3 from trixie-backports) and both data models (x86_64, i386),
 * with the compiler's numbers as the truth (test/uapi/facts.ts):
 *
 *   conformance  every upstream item of the spec that a header version has matches it, per data
 *                model: struct sizes and alignments, member offsets and sizes (x86_64 against the
 *                IR's LP64 layout, i386 against its ILP32 one), constants, enum values, flag bits,
 *                capability ids, feature numbers, and the ioctl numbers of each data model.
 *                Mismatches fail. Structs of the header whose i386 layout differs from x86_64 and
 *                that the spec does not describe yet are listed.
 *   coverage     how many of the header's named items the spec describes, per header, version and
 *                data model; the missing ones are written to ~/.cache/vfio-subregion/uapi/coverage/.
 *                Fails only when coverage drops below REQUIRED_COVERAGE.
 *
 * Each header is checked against the spec that describes it (SPECS): <linux/vfio.h> against the
 * proposal (which imports spec/linux/vfio.json), <linux/iommufd.h> against spec/linux/iommufd.json.
 * A version the mirror cannot give (offline, gone) is skipped with the reason, never failed; so is
 * a version whose uapi has no such header (6.1 has no <linux/iommufd.h>).
 * test/c/conformance.test.ts stays: it checks the same IR against the system header under the
 * C and C++ compiler variants the generated C must build with, and tests the check itself.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSpec, ROOT } from '../../codegen/load.js';
import type { Arch, DataModel as IRDataModel, Spec, Struct } from '../../codegen/ir.js';
import { extensible } from '../c/translate.js';
import {
  CACHE, DATA_MODELS, extract, factsFile, fetchVersions, headerPath, HEADERS, history, items, pattern, unavailable, versionOrder,
  type DataModel, type Facts, type HeaderName, type HeaderVersion, type ItemKind, type Versions,
} from './facts.js';

/**
 * The coverage (covered items / named items of the header) a header version may not drop below,
 * for every data model: every named item of <linux/vfio.h> and <linux/iommufd.h> of every version is in
 * the specs (issue 10), so a new header version's items fail here until they are written.
 */
const REQUIRED_COVERAGE: Record<string, number> = {
  'vfio.h 6.1': 1,
  'vfio.h 6.12': 1,
  'vfio.h 7.2': 1,
  'vfio.h 7.3': 1,
  'iommufd.h 6.12': 1,
  'iommufd.h 7.2': 1,
  'iommufd.h 7.3': 1,
};

/**
 * The spec each header is checked against: the proposal (loadSpec's default, importing
 * spec/linux/vfio.json) for <linux/vfio.h>; spec/linux/iommufd.json on its own for
 * <linux/iommufd.h> until the proposal imports it (that needs the ioctl table keyed by fd kind and
 * the generic vector harnesses: the project's C is built against the system's 6.1 headers, which
 * have no <linux/iommufd.h>).
 */
const SPECS: Record<string, string | undefined> = { 'linux/vfio.h': undefined, 'linux/iommufd.h': join(ROOT, 'spec/linux/iommufd.json') };

/**
 * Members of a described struct that a header has and the spec does not name, per header (coverage
 * counts named items only, so these would go unseen): each with why. The conformance test fails on
 * any other; <linux/vfio.h> is not held to it yet (its pads and reserved words are reported as notes).
 */
const MEMBERS_OUT: Partial<Record<HeaderName, Record<string, string>>> = {
  'linux/iommufd.h': {},
};

const VERSIONS = ['6.1', '6.12', '7.2', '7.3'];
const short = (h: HeaderName): string => h.replace(/^linux\//, '');

/** One number the spec states about an upstream item, and where it belongs in the header's facts. */
interface Expect {
  kind: 'struct' | 'value';
  name: string;
  /** What it is in the spec (constant, enum value, flag bit, capability, feature, ioctl). */
  category: string;
  value?: bigint;
  /** A string constant's string (then value is unset). */
  string?: string;
  /** Values from a version on, for a number that changed between versions (origin.values). */
  values?: { kernel: string; value: bigint }[];
  struct?: Struct;
  /** The version of the spec's origin: the header of that version must have the item. */
  since: string;
  /** The first version without it (origin.removed), if upstream removed it. */
  removed?: string;
}

function expectations(spec: Spec, arch: DataModel): Expect[] {
  const up = (o: { origin: { kind: string } }): boolean => o.origin.kind === 'upstream';
  const since = (o: { origin: { kind: string; kernel?: string } }): string => o.origin.kernel ?? '?';
  const out: Expect[] = [];
  const removed = (o: { origin: { kind: string; removed?: string } } | { origin: null }): Partial<Expect> => (o.origin !== null && o.origin.removed !== undefined ? { removed: o.origin.removed } : {});
  for (const s of spec.structs.filter(up)) out.push({ kind: 'struct', name: s.name, category: 'struct', struct: s, since: since(s) });
  const values = (o: { origin: { kind: string; values?: { kernel: string; value: bigint }[] } }): Partial<Expect> => (o.origin.values !== undefined ? { values: o.origin.values } : {});
  for (const c of spec.constants.filter(up)) out.push({ kind: 'value', name: c.name, category: 'constant', ...(c.string !== null ? { string: c.string } : { value: c.value }), since: since(c), ...removed(c), ...values(c) });
  for (const e of spec.enums) for (const v of e.values.filter(up)) out.push({ kind: 'value', name: v.name, category: 'enum value', value: v.value, since: since(v), ...removed(v), ...values(v) });
  for (const f of spec.flags.filter(up)) for (const b of f.bits) out.push({ kind: 'value', name: b.name, category: 'flag bit', value: b.value, since: since(b.origin !== null ? { origin: b.origin } : f) });
  for (const c of spec.capabilities.filter(up)) out.push({ kind: 'value', name: c.name, category: 'capability', value: BigInt(c.id), since: since(c) });
  for (const f of spec.features.filter(up)) out.push({ kind: 'value', name: f.name, category: 'feature', value: BigInt(f.number), since: since(f) });
  for (const i of spec.ioctls.filter(up)) out.push({ kind: 'value', name: i.name, category: `ioctl (${arch})`, value: BigInt(i.numbers[arch as Arch]), since: since(i) });
  return out;
}

/** Every name the spec gives an upstream item (what coverage counts). */
function upstreamNames(spec: Spec): Set<string> {
  const up = (o: { origin: { kind: string } }): boolean => o.origin.kind === 'upstream';
  return new Set([
    ...spec.structs.filter(up).map((s) => s.name),
    ...spec.constants.filter(up).map((c) => c.name),
    ...spec.enums.filter(up).map((e) => e.name),
    ...spec.enums.flatMap((e) => e.values.filter(up).map((v) => v.name)),
    ...spec.flags.filter(up).map((f) => f.name),
    ...spec.flags.filter(up).flatMap((f) => f.bits.map((b) => b.name)),
    ...spec.capabilities.filter(up).map((c) => c.name),
    ...spec.features.filter(up).map((f) => f.name),
    ...spec.ioctls.filter(up).map((i) => i.name),
  ]);
}

interface Checked {
  mismatches: string[];
  /** Upstream spec items this version lacks (newer or removed ones), with their origin. */
  absent: Expect[];
  /** Upstream spec items this version has. */
  present: Expect[];
  notes: string[];
  /** Members of described structs the header has and the spec does not name, as struct.member. */
  unnamed: string[];
}

/** The IR's data model for a facts data model (named by its architecture). */
const MODEL: Record<DataModel, IRDataModel> = { x86_64: 'lp64', i386: 'ilp32' };

function conform(spec: Spec, f: Facts, arch: DataModel): Checked {
  const out: Checked = { mismatches: [], absent: [], present: [], notes: [], unnamed: [] };
  // each value as its unsigned bit pattern and as the signed number C gives it (-1 for VFIO_PCI_DEVID_NOT_OWNED)
  const values = new Map<string, { v: bigint; signed: bigint } | { string: string }>();
  for (const m of f.macros) values.set(m.name, m.string === true ? { string: m.value } : { v: pattern(m), signed: BigInt(m.value) });
  for (const e of f.enumMembers) values.set(e.name, { v: pattern(e), signed: BigInt(e.value) });
  // layouts: the IR's layout of this data model against the compiler's for it
  const model = MODEL[arch];
  const structs = new Map(f.structs.map((s) => [s.name, s]));
  for (const x of expectations(spec, arch)) {
    const here = x.kind === 'struct' ? f.structs.some((s) => s.name === x.name) : values.has(x.name);
    if (!here) { out.absent.push(x); continue; }
    out.present.push(x);
    if (x.kind === 'value') {
      const h = values.get(x.name)!;
      // a number that changed between versions: the value of the newest entry at or before this version
      const want = x.values?.filter((e) => versionOrder(e.kernel, f.version) <= 0).at(-1)?.value ?? x.value;
      const stated = x.string !== undefined ? JSON.stringify(x.string) : `${want} (0x${want!.toString(16)})`;
      if ('string' in h) { if (h.string !== x.string) out.mismatches.push(`${x.name} (${x.category}): header ${JSON.stringify(h.string)}, spec ${stated}`); }
      else if (x.string !== undefined) out.mismatches.push(`${x.name} (${x.category}): header ${h.signed}, spec the string ${stated}`);
      else if ((want! < 0n ? h.signed : h.v) !== want) out.mismatches.push(`${x.name} (${x.category}): header ${h.signed} (0x${h.v.toString(16)}), spec ${stated}${x.values !== undefined ? ` in ${f.version}` : ''}`);
      continue;
    }
    const s = x.struct!, h = structs.get(s.name)!, sl = s.layouts[model];
    let membersOk = true;
    for (const m of s.members) {
      if (m.origin !== null && m.origin.kind === 'upstream' && versionOrder(m.origin.kernel, f.version) > 0) continue;
      const hm = h.members.find((y) => y.name === m.name);
      const ml = m.layouts[model];
      if (hm === undefined) { out.mismatches.push(`struct ${s.name}: member ${m.name} is not in the header`); membersOk = false; continue; }
      if (hm.offset !== ml.offset) { out.mismatches.push(`offsetof(struct ${s.name}, ${m.name}): header ${hm.offset}, spec ${ml.offset} (${model})`); membersOk = false; }
      if ((m.count === 'flexible') !== hm.flexible) { out.mismatches.push(`struct ${s.name}.${m.name}: ${hm.flexible ? '' : 'not '}a flexible array in the header, ${m.count === 'flexible' ? '' : 'not '}one in the spec`); membersOk = false; }
      else if (!hm.flexible && hm.size !== ml.size) { out.mismatches.push(`sizeof(struct ${s.name}.${m.name}): header ${hm.size}, spec ${ml.size} (${model})`); membersOk = false; }
    }
    // A kernel newer than the spec's origin may have grown a struct's alignment (__u64 made
    // __aligned_u64, as 6.12 did for i386) or appended members, keeping every member's place: the
    // spec describes its origin version exactly, so these are reported against later versions, not failed.
    const later = membersOk && x.since !== f.version;
    if (h.align !== sl.align) {
      if (later && h.align > sl.align) out.notes.push(`struct ${s.name} is aligned to ${h.align} in ${f.version} ${arch}, ${sl.align} in the spec (${x.since}): upstream changed it since (members in place)`);
      else out.mismatches.push(`_Alignof(struct ${s.name}): header ${h.align}, spec ${sl.align} (${model})`);
    }
    if (h.size !== sl.size) {
      const appended = h.members.filter((m) => m.offset >= sl.size).map((m) => m.name);
      if (membersOk && h.size > sl.size && extensible(spec, s)) out.notes.push(`struct ${s.name} is ${h.size} bytes in ${f.version} ${arch}, ${sl.size} in the spec: members appended by a newer kernel (argsz absorbs them): ${appended.join(', ')}`);
      else if (later && h.size > sl.size) out.notes.push(`struct ${s.name} is ${h.size} bytes in ${f.version} ${arch}, ${sl.size} in the spec (${x.since}): upstream changed it since (members in place${appended.length > 0 ? `; appended: ${appended.join(', ')}` : ''})`);
      else out.mismatches.push(`sizeof(struct ${s.name}): header ${h.size}, spec ${sl.size} (${model})`);
    }
    const extra = h.members.filter((m) => m.offset < sl.size && !s.members.some((y) => y.name === m.name));
    if (extra.length > 0) out.notes.push(`struct ${s.name}: members of the header the spec does not name: ${extra.map((m) => m.name).join(', ')}`);
    out.unnamed.push(...extra.map((m) => `${s.name}.${m.name}`));
  }
  return out;
}

interface Coverage {
  covered: number;
  total: number;
  byKind: Map<ItemKind, { covered: number; total: number; missing: string[] }>;
}

function coverage(spec: Spec, f: Facts): Coverage {
  const names = upstreamNames(spec);
  const c: Coverage = { covered: 0, total: 0, byKind: new Map() };
  for (const it of items(f)) {
    const k = c.byKind.get(it.kind) ?? { covered: 0, total: 0, missing: [] };
    c.byKind.set(it.kind, k);
    k.total++; c.total++;
    if (names.has(it.name)) { k.covered++; c.covered++; } else k.missing.push(it.name);
  }
  return c;
}

/** Structs whose i386 layout differs from their x86_64 one: name and the first difference. */
function i386Differences(x64: Facts, x32: Facts): string[] {
  const out: string[] = [];
  for (const a of x64.structs) {
    const b = x32.structs.find((s) => s.name === a.name);
    if (b === undefined) continue;
    const diffs: string[] = [];
    if (a.size !== b.size) diffs.push(`size ${a.size}/${b.size}`);
    if (a.align !== b.align) diffs.push(`align ${a.align}/${b.align}`);
    for (const m of a.members) {
      const n = b.members.find((y) => y.name === m.name);
      if (n !== undefined && n.offset !== m.offset) diffs.push(`${m.name} @${m.offset}/${n.offset}`);
    }
    if (diffs.length > 0) out.push(`${a.kind} ${a.name} (${diffs.join(', ')})`);
  }
  return out;
}

/** A family of numbered names (VFIO_DEVICE_FEATURE_, VFIO_REGION_INFO_CAP_): the common `_`-prefix of the spec's upstream names. */
function family(names: string[]): string | null {
  if (names.length < 2) return null;
  let p = names[0]!.split('_');
  for (const n of names.slice(1)) {
    const q = n.split('_');
    let k = 0;
    while (k < p.length && k < q.length && p[k] === q[k]) k++;
    p = p.slice(0, k);
  }
  return p.length === 0 ? null : `${p.join('_')}_`;
}

/**
 * Proposed (provisional) numbers upstream has given to something else since: a proposed name the
 * header defines, or a proposed capability id / feature number that a header macro of the same
 * family already has.
 */
function proposedClashes(spec: Spec, f: Facts): string[] {
  const out: string[] = [];
  const macros = new Map(f.macros.filter((m) => m.string !== true).map((m) => [m.name, pattern(m)]));
  const groups: { what: string; items: { name: string; value: bigint; proposed: boolean }[] }[] = [
    // capability ids are numbered per chain
    ...[...new Set(spec.capabilities.map((c) => c.info))].map((info) => ({ what: 'capability id', items: spec.capabilities.filter((c) => c.info === info).map((c) => ({ name: c.name, value: BigInt(c.id), proposed: c.origin.kind === 'proposed' })) })),
    { what: 'feature number', items: spec.features.map((x) => ({ name: x.name, value: BigInt(x.number), proposed: x.origin.kind === 'proposed' })) },
  ];
  for (const g of groups) {
    const fam = family(g.items.filter((x) => !x.proposed).map((x) => x.name));
    const upstream = new Set(g.items.filter((x) => !x.proposed).map((x) => x.name));
    for (const x of g.items.filter((y) => y.proposed)) {
      if (macros.has(x.name)) { out.push(`${x.name} (proposed ${g.what} ${x.value}) is defined by <${f.header}> ${f.version} as ${macros.get(x.name)}`); continue; }
      if (fam === null) continue;
      const taken = [...macros].filter(([n, v]) => n.startsWith(fam) && v === x.value && !upstream.has(n) && !n.endsWith('_MASK'));
      const spec_ = [...macros].filter(([n, v]) => n.startsWith(fam) && v === x.value && upstream.has(n));
      for (const [n] of [...spec_, ...taken]) out.push(`${x.name} (proposed ${g.what} ${x.value}): <${f.header}> ${f.version} already uses ${x.value} for ${n}`);
    }
  }
  return out;
}

const specs = new Map<HeaderName, Spec>();
let spec: Spec;
let fetched: Versions;
const factsOf = new Map<string, Facts>();
const key = (h: HeaderName, v: string, a: DataModel): string => `${h} ${v} ${a}`;

beforeAll(() => {
  for (const h of HEADERS) specs.set(h, loadSpec(SPECS[h]));
  spec = specs.get('linux/vfio.h')!;
  fetched = fetchVersions();
  const lines = [`uapi headers (test/uapi/fetch.sh, ${fetched.seconds.toFixed(1)} s in all):`];
  for (const v of fetched.ok) lines.push(`  ${v.version}: linux-libc-dev ${v.packageVersion}, ${v.root === '/' ? 'the system\'s /usr/include' : v.fetchSeconds > 0 ? `downloaded and unpacked in ${v.fetchSeconds} s` : 'cached'}`);
  for (const s of fetched.skipped) lines.push(`  ${s.version}: SKIPPED: ${s.reason}`);
  console.log(lines.join('\n'));
}, 900_000);

function version(v: string): HeaderVersion | string {
  const ok = fetched.ok.find((x) => x.version === v);
  if (ok !== undefined) return ok;
  return fetched.skipped.find((x) => x.version === v)?.reason ?? 'test/uapi/fetch.sh did not report it';
}

/** Facts for a combination, or the reason there are none. */
function factsFor(h: HeaderName, v: string, a: DataModel): Facts | string {
  const k = key(h, v, a);
  if (factsOf.has(k)) return factsOf.get(k)!;
  const hv = version(v);
  if (typeof hv === 'string') return `${v} is not available: ${hv}`;
  if (headerPath(hv, h) === null) return `<${h}> does not exist in ${v}`;
  const why = unavailable(a);
  if (why !== null) return why;
  const f = extract(h, hv, a);
  factsOf.set(k, f);
  return f;
}

for (const h of HEADERS) {
  describe(`<${h}>`, () => {
    let spec: Spec;
    beforeAll(() => { spec = specs.get(h)!; });
    for (const v of VERSIONS) {
      for (const a of DATA_MODELS) {
        describe(`${v} ${a}`, () => {
          it('conformance: every upstream item of the spec in this header matches it', (ctx) => {
            const f = factsFor(h, v, a);
            if (typeof f === 'string') { console.log(`${short(h)} ${v} ${a}: skipped: ${f}`); ctx.skip(f); return; }
            const r = conform(spec, f, a);
            // an upstream item must be in the header of the version the spec says it came from
            // ... and in every later one until the version that removed it, and in none from there on
            const order = (x: string): number => { const [p, q] = x.split('.').map(Number); return p! * 1000 + q!; };
            const wrong = r.absent.filter((x) => order(v) >= order(x.since) && (x.removed === undefined || order(v) < order(x.removed)));
            const lingering = r.present.filter((x) => x.removed !== undefined && order(v) >= order(x.removed));
            const report = [
              ...r.notes.map((n) => `note: ${n}`),
              ...(r.absent.length > 0 ? [`not in ${short(h)} ${v} (${r.absent.length}): ${r.absent.map((x) => `${x.name} (upstream ${x.since})`).join(', ')}`] : []),
            ];
            if (report.length > 0) console.log(`${short(h)} ${v} ${a}:\n  ${report.join('\n  ')}`);
            const ref = a === 'i386' ? factsFor(h, v, 'x86_64') : null;
            if (ref !== null && typeof ref !== 'string') {
              // the spec's own structs were checked above, per data model; these are the ones it does not describe yet
              const ours = new Set(spec.structs.map((s) => s.name));
              const d = i386Differences(ref, f).filter((x) => !ours.has(x.split(' ')[1]!));
              const layout = d.filter((x) => !/\(align \d+\/\d+\)$/.test(x)), alignOnly = d.filter((x) => /\(align \d+\/\d+\)$/.test(x));
              if (d.length > 0) console.log(`${short(h)} ${v}: structs the spec does not describe whose i386 layout differs from x86_64 (x86_64/i386):\n  size or offsets (${layout.length}): ${layout.join('; ')}\n  alignment only, 8/4 (${alignOnly.length}): ${alignOnly.map((x) => x.split(' ')[1]).join(', ')}`);
            }
            expect(wrong.map((x) => `${x.name} (${x.category})`), `upstream items the spec dates to ${v} or earlier (and not removed) that <${h}> ${v} lacks`).toEqual([]);
            const out = MEMBERS_OUT[h];
            if (out !== undefined) expect(r.unnamed.filter((m) => !(m in out)), `members of <${h}> ${v} the spec neither names nor lists in MEMBERS_OUT`).toEqual([]);
            expect(lingering.map((x) => `${x.name} (removed ${x.removed})`), `items the spec says upstream removed that <${h}> ${v} still has`).toEqual([]);
            expect(r.mismatches, `spec items that differ from <${h}> ${v} ${a}:\n  ${r.mismatches.join('\n  ')}`).toEqual([]);
          });

          it('coverage: the share of the header\'s named items the spec describes', (ctx) => {
            const f = factsFor(h, v, a);
            if (typeof f === 'string') { ctx.skip(f); return; }
            const c = coverage(spec, f);
            const kinds = [...c.byKind].map(([k, x]) => `${k}s ${x.covered}/${x.total}`).join(', ');
            const missing = [...c.byKind].map(([k, x]) => `## ${k}s missing (${x.missing.length})\n${x.missing.join('\n')}`).join('\n\n');
            const file = join(CACHE, 'coverage', `${short(h).replace(/\.h$/, '')}-${v}-${a}.txt`);
            mkdirSync(join(CACHE, 'coverage'), { recursive: true });
            writeFileSync(file, `# <${h}> ${v} (linux-libc-dev ${f.packageVersion}) ${a}: ${c.covered}/${c.total} items the spec describes\n# facts: ${factsFile(h, v, a)}\n\n${missing}\n`);
            const share = c.total === 0 ? 1 : c.covered / c.total;
            const sample = [...c.byKind.values()].flatMap((x) => x.missing).slice(0, 8);
            console.log(`${short(h)} ${v} ${a}: ${c.covered}/${c.total} items (${(share * 100).toFixed(1)}%; ${kinds}); missing e.g. ${sample.join(', ')}${c.total - c.covered > sample.length ? ', …' : ''} (all: ${file})`);
            const required = REQUIRED_COVERAGE[`${short(h)} ${v}`];
            expect(required, `REQUIRED_COVERAGE has no entry for '${short(h)} ${v}'`).toBeDefined();
            expect(share, `coverage of <${h}> ${v} ${a} dropped below REQUIRED_COVERAGE (${required})`).toBeGreaterThanOrEqual(required!);
          });
        });
      }
    }

    it('proposed numbers: none that upstream has assigned since (to the same name or another)', (ctx) => {
      const clashes: string[] = [];
      let any = false;
      for (const v of VERSIONS) {
        const f = factsFor(h, v, 'x86_64');
        if (typeof f === 'string') continue;
        any = true;
        clashes.push(...proposedClashes(spec, f));
      }
      if (!any) { ctx.skip(`no version of <${h}> is available`); return; }
      if (clashes.length > 0) console.log(`${short(h)}: proposed numbers upstream uses:\n  ${clashes.join('\n  ')}`);
      expect(clashes).toEqual([]);
    });

    it('history: the first and last version of every item (removed items show their range)', (ctx) => {
      let any = false;
      for (const a of DATA_MODELS) {
        const per = VERSIONS.map((v) => factsFor(h, v, a)).filter((f): f is Facts => typeof f !== 'string');
        if (per.length === 0) continue;
        any = true;
        const hist = history(per);
        const file = join(CACHE, 'facts', `history-${short(h).replace(/\.h$/, '')}-${a}.json`);
        writeFileSync(file, JSON.stringify({ header: h, arch: a, versions: per.map((f) => `${f.version} (${f.packageVersion})`), items: hist }, null, 1) + '\n');
        const newest = per[per.length - 1]!.version, oldest = per[0]!.version;
        const removed = Object.entries(hist).filter(([, s]) => s.last !== newest);
        const added = Object.entries(hist).filter(([, s]) => s.first !== oldest);
        if (a === 'x86_64') {
          console.log(`${short(h)} history (${per.map((f) => f.version).join(', ')}; ${file}):\n  removed since ${oldest} (${removed.length}): ${removed.map(([n, s]) => `${n} [${s.first}..${s.last}]`).join(', ')}\n  added after ${oldest}: ${added.length}`);
        }
        expect(Object.values(hist).every((s) => s.gaps === undefined), 'an item vanished and came back').toBe(true);
      }
      if (!any) ctx.skip(`no version of <${h}> is available`);
    });
  });
}

describe('the checks themselves', () => {
  it('check i386 layouts against the IR\'s ILP32 layout: one layout for both data models fails there', (ctx) => {
    const f = factsFor('linux/vfio.h', '6.1', 'i386');
    if (typeof f === 'string') { ctx.skip(f); return; }
    // the real header's i386 layouts, independent of the IR: natural alignment on i386 differs from x86_64
    const h = (n: string) => f.structs.find((s) => s.name === n)!;
    expect([h('vfio_iommu_type1_info').size, h('vfio_bitmap').size, h('vfio_iommu_type1_info_cap_migration').members.find((m) => m.name === 'pgsize_bitmap')!.offset]).toEqual([20, 20, 12]);
    expect(conform(spec, f, 'i386').mismatches).toEqual([]);
    const one = structuredClone(spec);
    const mig = one.structs.find((s) => s.name === 'vfio_iommu_type1_info_cap_migration')!;
    mig.layouts.ilp32 = { ...mig.layouts.lp64 };
    for (const m of mig.members) m.layouts.ilp32 = { ...m.layouts.lp64 };
    expect(conform(one, f, 'i386').mismatches).toEqual([
      'offsetof(struct vfio_iommu_type1_info_cap_migration, pgsize_bitmap): header 12, spec 16 (ilp32)',
      'offsetof(struct vfio_iommu_type1_info_cap_migration, max_dirty_bitmap_size): header 20, spec 24 (ilp32)',
      '_Alignof(struct vfio_iommu_type1_info_cap_migration): header 4, spec 8 (ilp32)',
      'sizeof(struct vfio_iommu_type1_info_cap_migration): header 28, spec 32 (ilp32)',
    ]);
  });

  it('name a spec value that differs from the header, and a proposed number upstream took', (ctx) => {
    const f = factsFor('linux/vfio.h', '6.1', 'x86_64');
    const g = factsFor('linux/vfio.h', '7.3', 'x86_64');
    if (typeof f === 'string') { ctx.skip(f); return; }
    const bad = structuredClone(spec);
    bad.structs.find((s) => s.name === 'vfio_region_info')!.members.find((m) => m.name === 'size')!.layouts.lp64.offset = 20;
    bad.flags.flatMap((x) => x.bits).find((b) => b.name === 'VFIO_REGION_INFO_FLAG_CAPS')!.value = 4n;
    bad.ioctls.find((i) => i.name === 'VFIO_DEVICE_GET_INFO')!.numbers.x86_64 += 1;
    const r = conform(bad, f, 'x86_64');
    expect(r.mismatches).toEqual([
      'offsetof(struct vfio_region_info, size): header 16, spec 20 (lp64)',
      'VFIO_REGION_INFO_FLAG_CAPS (flag bit): header 8 (0x8), spec 4 (0x4)',
      expect.stringMatching(/^VFIO_DEVICE_GET_INFO \(ioctl \(x86_64\)\): header 15211 \(0x3b6b\), spec 15212/),
    ]);
    if (typeof g === 'string') { ctx.skip(`the proposed-number half needs 7.3: ${g}`); return; }
    const dmaBuf = g.macros.find((m) => m.name === 'VFIO_DEVICE_FEATURE_DMA_BUF');
    expect(dmaBuf?.value, '7.3 assigns feature 11 to DMA_BUF').toBe('11');
    const proposed = bad.features.find((x) => x.origin.kind === 'proposed')!;
    proposed.number = 11;
    expect(proposedClashes(bad, g)).toEqual([`${proposed.name} (proposed feature number 11): <linux/vfio.h> 7.3 already uses 11 for VFIO_DEVICE_FEATURE_DMA_BUF`]);
    expect(proposedClashes(bad, f)).toEqual([]);
  });
});
