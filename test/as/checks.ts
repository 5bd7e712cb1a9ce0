import type { Spec, Struct } from '../../codegen/ir.js';
import { ARCHES } from '../../codegen/ioctl-encoding.js';
import { big, capchainIoctl, hex, unhex, type CapchainCase, type DeviceV, type IoctlCase, type LayoutCase, type ValidationCase, type VUint } from '../vectors.js';
import type { Harness } from './wasm.js';

/**
 * One checker per vector kind. Each runs a vector through the compiled harness and returns the
 * mismatches it found (empty: the vector passed), so a failing vector names every difference and
 * the negative tests can show a mutated vector is caught.
 */

const upper = (s: string): string => s.toUpperCase();

/** The slots of a struct value: scalars in member order, nested structs in place, flexible elements last. */
export function flatten(s: Struct, fields: Record<string, unknown>, path = s.name): { slots: bigint[]; count: number } {
  const slots: bigint[] = [];
  let count = 0;
  for (const m of s.members) {
    const v = fields[m.name];
    const p = `${path}.${m.name}`;
    if (v === undefined) throw new Error(`vector has no value for ${p}`);
    const one = (x: unknown, q: string): void => {
      if (m.type.kind !== 'struct') slots.push(big(x as VUint));
      else slots.push(...flatten(m.type.struct, x as Record<string, unknown>, q).slots);
    };
    if (m.count === null) one(v, p);
    else {
      const arr = v as unknown[];
      if (m.count === 'flexible') count = arr.length;
      else if (arr.length !== m.count) throw new Error(`${p} needs ${m.count} elements, vector has ${arr.length}`);
      arr.forEach((x, i) => one(x, `${p}[${i}]`));
    }
  }
  return { slots, count };
}

/** The inverse of flatten: slots back into a fields object (bigints). */
export function unflatten(s: Struct, slots: bigint[], count: number, at = { i: 0 }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const m of s.members) {
    const one = (): unknown => (m.type.kind !== 'struct' ? slots[at.i++] : unflatten(m.type.struct, slots, 0, at));
    if (m.count === null) out[m.name] = one();
    else out[m.name] = Array.from({ length: m.count === 'flexible' ? count : m.count }, one);
  }
  return out;
}

/** Differences between expected vector fields and actual (bigint) fields, by path. */
export function diffFields(expected: unknown, actual: unknown, path: string, out: string[]): void {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) { out.push(`${path}: expected an array, got ${String(actual)}`); return; }
    if (expected.length !== actual.length) out.push(`${path}: expected ${expected.length} elements, got ${actual.length}`);
    expected.forEach((e, i) => diffFields(e, actual[i], `${path}[${i}]`, out));
    return;
  }
  if (typeof expected === 'object' && expected !== null) {
    if (typeof actual !== 'object' || actual === null) { out.push(`${path}: expected an object, got ${String(actual)}`); return; }
    const a = actual as Record<string, unknown>;
    for (const k of Object.keys(expected)) diffFields((expected as Record<string, unknown>)[k], a[k], `${path}.${k}`, out);
    for (const k of Object.keys(a)) if (!(k in expected)) out.push(`${path}.${k}: decoded but not in the vector`);
    return;
  }
  const e = typeof expected === 'boolean' ? BigInt(expected) : big(expected as VUint);
  if (typeof actual !== 'bigint' || actual !== e) out.push(`${path}: expected 0x${e.toString(16)}, got ${typeof actual === 'bigint' ? `0x${actual.toString(16)}` : String(actual)}`);
}

const structOf = (spec: Spec, name: string): Struct => {
  const s = spec.structs.find((x) => x.name === name);
  if (s === undefined) throw new Error(`the spec has no struct ${name}`);
  return s;
};

// ---- layout ----

export function checkLayout(h: Harness, spec: Spec, c: LayoutCase): string[] {
  const out: string[] = [];
  const s = structOf(spec, c.struct);
  const { slots, count } = flatten(s, c.fields);
  const size = h.global(`${upper(c.struct)}_SIZE`);
  if (size !== c.size) out.push(`${upper(c.struct)}_SIZE is ${String(size)}, vector says ${c.size}`);
  // encode: fields -> AS object -> bytes
  h.setSlots(slots);
  h.setBuf(new Uint8Array(0));
  const n = h.call(`encode_${c.struct}`, count);
  const want = unhex(c.bytes);
  if (n !== want.length) out.push(`encode wrote ${n} bytes, vector has ${want.length}`);
  const got = hex(h.buf(Math.max(n, want.length)));
  if (got !== c.bytes) out.push(`encode: bytes ${got}, expected ${c.bytes}`);
  // decode: bytes -> AS object -> fields
  h.setSlots(new Array<bigint>(slots.length + 8).fill(0xdeadn));
  h.setBuf(want);
  const used = h.call(`decode_${c.struct}`, count);
  if (used !== slots.length) out.push(`decode produced ${used} values, expected ${slots.length}`);
  diffFields(c.fields, unflatten(s, h.slots(used), count), `decode ${c.struct}`, out);
  return out;
}

// ---- ioctl ----

const DIRS = { IO: 0, IOR: 1, IOW: 2, IOWR: 3 } as const;

export function checkIoctl(h: Harness, spec: Spec, c: IoctlCase): string[] {
  const out: string[] = [];
  const named = spec.ioctls.some((x) => x.name === c.name);
  for (const arch of ARCHES) {
    const al = h.putStr(arch, 2048);
    const want = c.numbers[arch];
    const enc = BigInt.asIntN(64, h.callBig('h_ioc', al, DIRS[c.encode.dir], Number(big(c.encode.type)), c.encode.nr, c.encode.size));
    if (want === undefined) {
      if (enc !== -1n) out.push(`${arch}: ioc() gave 0x${enc.toString(16)}, but the vector says the size cannot be encoded there`);
      continue;
    }
    if (enc !== big(want)) out.push(`${arch}: ioc() gave ${enc < 0n ? enc : `0x${enc.toString(16)}`}, expected ${want}`);
    if (named) {
      const nl = h.putStr(c.name, 0);
      h.putStr(arch, 2048);
      const num = BigInt.asIntN(64, h.callBig('h_ioctl_number', nl, al));
      if (num !== big(want)) out.push(`${arch}: ioctl_number(${c.name}) gave 0x${num.toString(16)}, expected ${want}`);
      const g = h.global(`${c.name}_${arch.toUpperCase()}`);
      if (g === undefined || BigInt((g as number) >>> 0) !== big(want)) out.push(`${c.name}_${arch.toUpperCase()} is ${String(g)}, expected ${want}`);
    }
  }
  for (const arch of Object.keys(c.numbers)) if (!(ARCHES as string[]).includes(arch)) out.push(`vector arch ${arch} is not one the generator knows`);
  return out;
}

// ---- validation ----

export function loadDevice(h: Harness, d: DeviceV): void {
  h.call('dev_reset', big(d.page_size), d.regions.length, Number(big(d.nr_subregions)), Number(big(d.max_subregions)), big(d.region_span));
  for (const r of d.regions) {
    h.call('dev_add_region', big(r.size), big(r.parent_offset ?? 0), Number(big(r.flags)), Number(big(r.attrs)), Number(big(r.supported_attrs)),
      Number(big(r.parent_index ?? 0)), r.is_subregion ? 1 : 0, r.mapped ? 1 : 0);
  }
}

export function checkValidation(h: Harness, spec: Spec, devices: Record<string, DeviceV>, c: ValidationCase): string[] {
  const out: string[] = [];
  const v = spec.validators.find((x) => x.name === c.op);
  if (v === undefined) return [`the spec has no validator ${c.op}`];
  const d = devices[c.device];
  if (d === undefined) return [`no device ${c.device}`];
  loadDevice(h, d);
  const { slots } = flatten(v.request, c.request);
  h.setSlots(slots);
  const e = h.call(`run_${c.op}`);
  const errno = e === 0 ? '' : h.str(h.call('h_errno_name', e));
  const rule = h.str(h.call('h_last_rule'));
  if ('errno' in c.expect) {
    if (e >= 0) out.push(`passed, expected ${c.expect.errno} from rule ${c.expect.rule}`);
    else {
      if (errno !== c.expect.errno) out.push(`errno ${errno || e}, expected ${c.expect.errno}`);
      if (rule !== c.expect.rule) out.push(`rule ${rule}, expected ${c.expect.rule}`);
    }
    return out;
  }
  if (e !== 0) return [`failed with ${errno || e} (rule ${rule}), expected success`];
  if (rule !== '') out.push(`rule name "${rule}" recorded on success`);
  const fields = spec.state!.region.fields;
  const got = h.slots(slots.length + fields.length);
  const req = unflatten(v.request, got.slice(0, slots.length), 0);
  const region: Record<string, bigint> = {};
  fields.forEach((f, i) => { region[f.name] = got[slots.length + i]!; });
  for (const [key, want] of Object.entries(c.expect.effects)) {
    const [scope, name] = key.split('.') as [string, string];
    const actual = scope === 'req' ? req[name] : scope === 'new' || v.bindings.includes(scope) ? region[name] : undefined;
    if (actual === undefined) { out.push(`${key}: not an effect the harness can see`); continue; }
    diffFields(want, actual, key, out);
  }
  return out;
}

// ---- capchain ----

export function checkCapchain(h: Harness, spec: Spec, c: CapchainCase): string[] {
  const out: string[] = [];
  const buf = unhex(c.buffer);
  h.setBuf(buf, 0xee);
  const chain = capchainIoctl(spec, c);
  const w = chain.arg.name;
  const status = h.call(`walk_${w}`, buf.length, c.data_model === 'ilp32' ? 1 : 0);
  const name = h.str(h.call('h_status_name', status));
  const at = h.callBig(`chain_at_${w}`);
  const info = chain.arg;
  const header = chain.chain.header;
  const x = c.expect;
  if ('error' in x) {
    if (name !== x.error) out.push(`status ${name}, expected ${x.error}`);
    if (at !== BigInt(x.at)) out.push(`at ${at}, expected ${x.at}`);
    return out;
  }
  const gotInfo = unflatten(info, h.slots(h.call(`chain_info_${w}`)), 0);
  diffFields(x.info, gotInfo, 'info', out);
  if ('retry' in x) {
    if (name !== 'retry') out.push(`status ${name}, expected retry`);
    if (at !== BigInt(x.retry)) out.push(`retry with ${at}, expected ${x.retry}`);
    return out;
  }
  if (name !== 'ok') return [...out, `status ${name} (at ${at}), expected ok`];
  const n = h.call(`chain_count_${w}`);
  if (n !== x.caps.length) out.push(`${n} capabilities, expected ${x.caps.length}`);
  for (let i = 0; i < Math.min(n, x.caps.length); i++) {
    const want = x.caps[i]!;
    h.call(`chain_cap_${w}`, i);
    const [offset, id, version, next, known] = h.slots(6);
    const p = `caps[${i}]`;
    if (offset !== BigInt(want.offset)) out.push(`${p}.offset ${offset}, expected ${want.offset}`);
    if (id !== BigInt(want.id)) out.push(`${p}.id ${id}, expected ${want.id}`);
    if (version !== BigInt(want.version)) out.push(`${p}.version ${version}, expected ${want.version}`);
    if (next !== BigInt(want.next)) out.push(`${p}.next ${next}, expected ${want.next}`);
    const cap = spec.capabilities.find((cc) => cc.info === chain && BigInt(cc.id) === id && cc.struct !== null);
    if (want.body === undefined) {
      if (known !== 0n) out.push(`${p}: decoded as a known capability, the vector says it has no body`);
      continue;
    }
    if (known === 0n || cap === undefined) { out.push(`${p}: not decoded, the vector gives a body`); continue; }
    const used = h.call(`chain_body_${w}`, i);
    if (used < 0) { out.push(`${p}: the harness has no decoder for id ${id}`); continue; }
    const s = cap.struct!;
    const count = s.flexible ? (used - flatten(s, zeroFields(s)).slots.length) / slotsPer(s.flexible.type.kind === 'struct' ? s.flexible.type.struct : null) : 0;
    const body = unflatten(s, h.slots(used), count);
    // The body is the payload after the header: a header-only capability has an empty body.
    const bodyOnly: Record<string, unknown> = {};
    if (s !== header) for (const m of s.members) if (!(m.type.kind === 'struct' && m.type.struct === header)) bodyOnly[m.name] = body[m.name];
    diffFields(want.body, bodyOnly, `${p}.body`, out);
  }
  return out;
}

function slotsPer(s: Struct | null): number { return s === null ? 1 : flatten(s, zeroFields(s)).slots.length; }
function zeroFields(s: Struct): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const m of s.members) {
    const one = (): unknown => (m.type.kind !== 'struct' ? 0 : zeroFields(m.type.struct));
    o[m.name] = m.count === null ? one() : m.count === 'flexible' ? [] : Array.from({ length: m.count }, one);
  }
  return o;
}
