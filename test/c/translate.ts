/**
 * Test-only translator (NOT the generator): turns the hand-written vectors into one C program
 * that checks them against the real headers (<linux/vfio.h>, the generated
 * <linux/vfio_subregion.h>) and the generated validators. The program prints one
 * `FAIL <kind> <vector>: <detail>` line per failed check and ends with `RESULT pass=N fail=M`.
 *
 * The IR (loadSpec) is only used to know the shape of structs and validators: which C member a
 * vector field is, which struct a capability id decodes to, which request member a lookup reads.
 */
import type { Capability, Member, Spec, Struct, Validator } from '../../codegen/ir.js';
import { big, capchainIoctl, type CapchainCase, type DeviceV, type IoctlCase, type LayoutCase, type ValidationCase, type VectorFiles, type VUint } from '../vectors.js';

const cstr = (s: string): string => JSON.stringify(s);

/** An unsigned 64-bit C literal. */
const lit = (v: VUint | boolean): string => (typeof v === 'boolean' ? (v ? '1ULL' : '0ULL') : `0x${big(v).toString(16)}ULL`);

function bytesArray(name: string, hex: string): string[] {
  const bytes = hex.match(/../g) ?? [];
  const body = bytes.length === 0 ? '0' : bytes.map((b) => `0x${b}`).join(', ');
  return [`static const unsigned char ${name}[] = { ${body} };`, `static const unsigned int ${name}_len = ${bytes.length};`];
}

function findStruct(spec: Spec, name: string): Struct {
  const s = spec.structs.find((x) => x.name === name);
  if (s === undefined) throw new Error(`vector names unknown struct ${name}`);
  return s;
}

function member(s: Struct, name: string): Member {
  const m = s.members.find((x) => x.name === name);
  if (m === undefined) throw new Error(`struct ${s.name} has no member ${name}`);
  return m;
}

/** argsz-extensible: an upstream ioctl argument starting with argsz; newer kernels may append members. */
export function extensible(spec: Spec, s: Struct): boolean {
  return s.origin.kind === 'upstream' && spec.ioctls.some((i) => i.arg === s && i.argsz !== null);
}

/**
 * Walks vector fields against a struct. `scalar(lvalue, value)` is called for every scalar;
 * `flex(member, elements)` for a flexible array member.
 */
function walkFields(s: Struct, fields: Record<string, unknown>, prefix: string, scalar: (lv: string, v: VUint, path: string) => void,
  flex: (m: Member, elements: unknown[]) => void, path = ''): void {
  for (const [k, v] of Object.entries(fields)) {
    const m = member(s, k);
    const p = path === '' ? k : `${path}.${k}`;
    if (m.count === 'flexible') {
      flex(m, v as unknown[]);
    } else if (typeof m.count === 'number') {
      (v as unknown[]).forEach((e, i) => {
        if (m.type.kind === 'struct') walkFields(m.type.struct, e as Record<string, unknown>, `${prefix}${k}[${i}].`, scalar, flex, `${p}[${i}]`);
        else scalar(`${prefix}${k}[${i}]`, e as VUint, `${p}[${i}]`);
      });
    } else if (m.type.kind === 'struct') {
      walkFields(m.type.struct, v as Record<string, unknown>, `${prefix}${k}.`, scalar, flex, p);
    } else {
      scalar(`${prefix}${k}`, v as VUint, p);
    }
  }
}

// ---------------------------------------------------------------------------------------------

function layoutCase(spec: Spec, c: LayoutCase, i: number): string[] {
  const s = findStruct(spec, c.struct);
  const T = `struct ${s.name}`;
  const out: string[] = [`/* layout: ${c.name} */`, `static void layout_${i}(void)`, '{', `\tconst char *name = ${cstr(c.name)};`];
  out.push(...bytesArray('expect', c.bytes).map((l) => `\t${l}`));
  out.push(`\tunsigned char got[${Math.max(c.bytes.length / 2, 1)} + sizeof(${T})];`, `\t${T} s;`, '\tint bad = 0;', '');
  out.push('\tmemset(got, 0, sizeof(got));', '\tmemset(&s, 0, sizeof(s));');
  const flexLines: string[] = [];
  walkFields(s, c.fields, 's.', (lv, v) => out.push(`\t${lv} = ${lit(v)};`), (m, elements) => {
    if (s.origin.kind === 'proposed') flexLines.push('#ifndef __cplusplus');
    elements.forEach((e, k) => {
      flexLines.push('\t{');
      if (m.type.kind === 'struct') {
        flexLines.push(`\t\tstruct ${m.type.struct.name} e;`, '\t\tmemset(&e, 0, sizeof(e));');
        walkFields(m.type.struct, e as Record<string, unknown>, 'e.', (lv, v) => flexLines.push(`\t\t${lv} = ${lit(v)};`), () => { throw new Error('nested flexible array'); });
      } else {
        flexLines.push(`\t\t${m.type.kind === 'int' ? m.type.name : '__u64'} e = ${lit(e as VUint)};`);
      }
      flexLines.push(`\t\tmemcpy(got + offsetof(${T}, ${m.name}) + ${k} * sizeof(e), &e, sizeof(e));`, '\t}');
    });
    if (s.origin.kind === 'proposed') flexLines.push('#endif');
  });
  out.push('\tmemcpy(got, &s, sizeof(s));', ...flexLines);
  if (extensible(spec, s)) {
    // Newer kernels may append members to an argsz struct: the vector's size must then be where the
    // members it knows end.
    const last = s.members.filter((m) => m.count !== 'flexible').at(-1)!;
    out.push(`\tif (sizeof(${T}) != ${c.size} && !(sizeof(${T}) > ${c.size} && offsetof(${T}, ${last.name}) + sizeof(s.${last.name}) == ${c.size})) {`);
  } else {
    out.push(`\tif (sizeof(${T}) != ${c.size}) {`);
  }
  out.push(`\t\tfailf("layout", name, "sizeof(${T}) is %u, vector says ${c.size}", (unsigned)sizeof(${T}));`, '\t\tbad = 1;', '\t}');
  out.push('\tif (memcmp(got, expect, expect_len) != 0) {', '\t\tfailf("layout", name, "bytes differ");', '\t\tdump("got   ", got, expect_len);', '\t\tdump("expect", expect, expect_len);', '\t\tbad = 1;', '\t}');
  out.push('\tif (!bad)', '\t\tpasses++;', '}', '');
  return out;
}

// ---------------------------------------------------------------------------------------------

const ARCH_MACROS: [string, string][] = [
  ['x86_64', 'defined(__x86_64__)'],
  ['i386', 'defined(__i386__)'],
  ['aarch64', 'defined(__aarch64__)'],
  ['riscv64', 'defined(__riscv) && __riscv_xlen == 64'],
  ['ppc64le', 'defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)'],
  ['s390x', 'defined(__s390x__)'],
  ['mips64el', 'defined(__mips64) && defined(__MIPSEL__)'],
];

const IOC_DIR: Record<IoctlCase['encode']['dir'], string> = { IO: '_IOC_NONE', IOR: '_IOC_READ', IOW: '_IOC_WRITE', IOWR: '(_IOC_READ | _IOC_WRITE)' };

function ioctlCase(spec: Spec, c: IoctlCase, i: number): string[] {
  const out: string[] = [`/* ioctl: ${c.name} */`, `static void ioctl_${i}(void)`, '{', `\tconst char *name = ${cstr(c.name)};`];
  const e = c.encode;
  const raw = `_IOC(${IOC_DIR[e.dir]}, ${lit(e.type)}, ${e.nr}, ${e.size})`;
  const named = spec.ioctls.some((x) => x.name === c.name);
  out.push(`\tunsigned long long raw = (unsigned int)${raw};`);
  // an ioctl newer than the header compiled against has no macro there: the encoding alone is checked
  if (named) out.push(`#ifdef ${c.name}`, `\tunsigned long long got = (unsigned int)(${c.name});`, '#else', '\tunsigned long long got = raw;', '#endif');
  else out.push('\tunsigned long long got = raw;');
  out.push('\tunsigned long long want = 0;', '\tint have = 0;', '');
  ARCH_MACROS.forEach(([arch, cond], k) => {
    out.push(`${k === 0 ? '#if' : '#elif'} ${cond}`);
    const n = c.numbers[arch];
    if (n !== undefined) out.push(`\twant = ${lit(n)};`, '\thave = 1;');
  });
  out.push('#endif');
  out.push('\tif (!have) {', '\t\tskips++;', '\t\treturn;', '\t}');
  out.push('\tif (got != want || raw != want)', `\t\tfailf("ioctl", name, "${named ? `${c.name} is 0x%llx, _IOC(...) is 0x%llx` : '_IOC(...) is 0x%llx (0x%llx)'}, vector says 0x%llx", got, raw, want);`);
  out.push('\telse', '\t\tpasses++;', '}', '');
  return out;
}

// ---------------------------------------------------------------------------------------------

function validationCase(spec: Spec, devices: Record<string, DeviceV>, c: ValidationCase, i: number): string[] {
  const v: Validator | undefined = spec.validators.find((x) => x.name === c.op);
  if (v === undefined) throw new Error(`${c.name}: unknown op ${c.op}`);
  const d = devices[c.device];
  if (d === undefined) throw new Error(`${c.name}: unknown device ${c.device}`);
  const D = spec.state!.device;
  const R = spec.state!.region;
  const out: string[] = [`/* validation: ${c.name} */`, `static void validation_${i}(void)`, '{', `\tconst char *name = ${cstr(c.name)};`];
  out.push(`\tstruct ${R.name} regions[${Math.max(d.regions.length, 1)}];`, `\tstruct ${D.name} dev;`, `\tstruct ${v.request.name} req;`);
  if (v.creates) out.push(`\tstruct ${R.name} new_region;`);
  out.push('\tenum vfio_subregion_rule rule = VFIO_RULE_NONE;', '\tint ret, ret_null;', '\tint bad = 0;', '');
  out.push('\tmemset(regions, 0, sizeof(regions));', '\tmemset(&dev, 0, sizeof(dev));', '\tmemset(&req, 0, sizeof(req));');
  if (v.creates) out.push('\tmemset(&new_region, 0xa5, sizeof(new_region));');
  d.regions.forEach((r, k) => {
    const rv = r as unknown as Record<string, VUint | boolean>;
    for (const f of R.fields) if (rv[f.name] !== undefined) out.push(`\tregions[${k}].${f.name} = ${lit(rv[f.name]!)};`);
  });
  const dv = d as unknown as Record<string, VUint | boolean>;
  for (const f of D.fields) {
    const val = f.name === 'num_regions' && dv[f.name] === undefined ? d.regions.length : dv[f.name];
    if (val !== undefined) out.push(`\tdev.${f.name} = ${lit(val as VUint)};`);
  }
  out.push('\tdev.regions = regions;');
  for (const [k, val] of Object.entries(c.request)) { member(v.request, k); out.push(`\treq.${k} = ${lit(val)};`); }
  out.push('', `\tret = vfio_check_${v.name}(&dev, &req, &rule);`, `\tret_null = vfio_check_${v.name}(&dev, &req, NULL);`);
  out.push('\tif (ret != ret_null) {', '\t\tfailf("validation", name, "result %d with a rule pointer, %d without", ret, ret_null);', '\t\tbad = 1;', '\t}');
  if ('errno' in c.expect) {
    out.push(`\tif (ret != -${c.expect.errno} || strcmp(vfio_subregion_rule_name(rule), ${cstr(c.expect.rule)}) != 0) {`);
    out.push(`\t\tfailf("validation", name, "got %s rule %s, vector says ${c.expect.errno} rule ${c.expect.rule}", errname(ret), vfio_subregion_rule_name(rule));`, '\t\tbad = 1;', '\t}');
  } else {
    out.push('\tif (ret != 0 || rule != VFIO_RULE_NONE) {', '\t\tfailf("validation", name, "got %s rule %s, vector says ok", errname(ret), vfio_subregion_rule_name(rule));', '\t\tbad = 1;', '\t} else {');
    // Region bindings: the index the lookup read, taken before apply can change the request.
    const binds = v.bindings.map((b) => {
      const r = v.rules.find((x) => x.check.kind === 'lookup' && x.check.binding === b)!;
      const idx = r.check.kind === 'lookup' && r.check.index.kind === 'request' ? r.check.index.member.name : null;
      if (idx === null) throw new Error(`${v.name}: lookup of ${b} does not read a request member`);
      return [b, idx] as const;
    });
    const scopes = new Set(Object.keys(c.expect.effects).map((k) => k.split('.')[0]));
    for (const [b, idx] of binds) if (scopes.has(b)) out.push(`\t\tunsigned long long bind_${b} = req.${idx};`);
    out.push(`\t\tvfio_apply_${v.name}(&dev, &req${v.creates ? ', &new_region' : ''});`);
    for (const [key, want] of Object.entries(c.expect.effects)) {
      const [scope, field] = key.split('.') as [string, string];
      let lv: string;
      if (scope === 'req') { member(v.request, field); lv = `req.${field}`; }
      else if (scope === 'new') lv = `new_region.${field}`;
      else if (binds.some(([b]) => b === scope)) lv = `regions[bind_${scope}].${field}`;
      else throw new Error(`${c.name}: effect ${key} names no request, new region or binding`);
      out.push(`\t\tif ((unsigned long long)${lv} != ${lit(want)}) {`,
        `\t\t\tfailf("validation", name, "effect ${key} is 0x%llx, vector says ${typeof want === 'boolean' ? String(want) : want}", (unsigned long long)${lv});`, '\t\t\tbad = 1;', '\t\t}');
    }
    out.push('\t}');
  }
  out.push('\tif (!bad)', '\t\tpasses++;', '}', '');
  return out;
}

// ---------------------------------------------------------------------------------------------

function capStruct(spec: Spec, c: CapchainCase, id: number): Capability | undefined {
  const x = capchainIoctl(spec, c);
  return spec.capabilities.find((cap) => cap.info === x && cap.id === id && cap.struct !== null);
}

function capchainCase(spec: Spec, c: CapchainCase, i: number, shift: number): string[] {
  const fn = `capchain_${i}_${shift}`;
  const info = capchainIoctl(spec, c).arg;
  const walker = info.name;
  const out: string[] = [`/* capchain: ${c.name} (buffer at offset ${shift} of an 8-aligned array) */`, `static void ${fn}(void)`, '{',
    `\tconst char *name = ${cstr(shift === 0 ? c.name : `${c.name}`)};`];
  out.push(...bytesArray('in', c.buffer).map((l) => `\t${l}`));
  out.push(`\tunsigned long long store[${Math.ceil(c.buffer.length / 16) + 2}];`, '\tunsigned char *p = (unsigned char *)store + ' + shift + ';');
  out.push('\tstruct vfio_cap_cursor cur;', ...('error' in c.expect ? ['\tint n = 0;'] : [`\tstruct ${info.name} info;`]), '\tint r;', '\tint bad = 0;', '');
  out.push('\tmemset(store, 0xee, sizeof(store));', '\tmemcpy(p, in, in_len);', `\tr = ${walker}_cap_first(p, in_len, &cur);`);
  const e = c.expect;
  const walk = ['\twhile (r == 1 && n < 64) {', '\t\tn++;', `\t\tr = ${walker}_cap_next(&cur);`, '\t}'];
  if ('error' in e) {
    out.push(...walk);
    out.push(`\tif (r != -EINVAL || strcmp(vfio_cap_error_name(cur.error), ${cstr(e.error)}) != 0 || cur.at != ${e.at}U) {`,
      `\t\tfailf("capchain", name, "got r=%d error %s at %u, vector says ${e.error} at ${e.at}", r, vfio_cap_error_name(cur.error), cur.at);`, '\t\tbad = 1;', '\t}');
  } else {
    out.push('\tmemcpy(&info, p, sizeof(info));');
    walkFields(info, e.info as unknown as Record<string, unknown>, 'info.', (lv, want, path) => {
      out.push(`\tif ((unsigned long long)${lv} != ${lit(want)}) {`, `\t\tfailf("capchain", name, "info.${path} is 0x%llx, vector says ${want}", (unsigned long long)${lv});`, '\t\tbad = 1;', '\t}');
    }, () => { throw new Error(`${c.name}: info has a flexible array`); });
    if ('retry' in e) {
      out.push(`\tif (r != -ENOSPC || cur.retry != ${e.retry}U) {`, `\t\tfailf("capchain", name, "got r=%d retry %u, vector says retry ${e.retry}", r, cur.retry);`, '\t\tbad = 1;', '\t}');
    } else {
      e.caps.forEach((cap, k) => {
        out.push(`\t/* capability ${k} */`, `\tif (r != 1) {`, `\t\tfailf("capchain", name, "capability ${k}: walker returned %d (error %s at %u)", r, vfio_cap_error_name(cur.error), cur.at);`, '\t\tbad = 1;', '\t\tgoto out;', '\t}');
        for (const f of ['offset', 'id', 'version', 'next'] as const) {
          out.push(`\tif (cur.${f} != ${cap[f]}U) {`, `\t\tfailf("capchain", name, "capability ${k}: ${f} is %u, vector says ${cap[f]}", (unsigned)cur.${f});`, '\t\tbad = 1;', '\t}');
        }
        if (cap.body === undefined) {
          out.push('\tif (cur.known) {', `\t\tfailf("capchain", name, "capability ${k}: walker knows id %u, vector has no body", (unsigned)cur.id);`, '\t\tbad = 1;', '\t}');
        } else {
          const cs = capStruct(spec, c, cap.id);
          if (cs === undefined) throw new Error(`${c.name}: body for capability id ${cap.id} that the spec has no struct for`);
          const s = cs.struct!;
          const T = `struct ${s.name}`;
          out.push('\tif (!cur.known) {', `\t\tfailf("capchain", name, "capability ${k}: walker does not know id %u", (unsigned)cur.id);`, '\t\tbad = 1;', '\t} else {');
          out.push(`\t\t${T} s;`, '', '\t\tmemcpy(&s, p + cur.offset, sizeof(s));');
          const cmp = (lv: string, want: VUint, path: string, ind: string): void => {
            out.push(`${ind}if ((unsigned long long)${lv} != ${lit(want)}) {`, `${ind}\tfailf("capchain", name, "capability ${k}: ${path} is 0x%llx, vector says ${want}", (unsigned long long)${lv});`, `${ind}\tbad = 1;`, `${ind}}`);
          };
          walkFields(s, cap.body, 's.', (lv, v, path) => cmp(lv, v, path, '\t\t'), (m, elements) => {
            elements.forEach((el, j) => {
              out.push('\t\t{');
              if (m.type.kind === 'struct') {
                out.push(`\t\t\tstruct ${m.type.struct.name} e;`, '', `\t\t\tmemcpy(&e, p + cur.offset + offsetof(${T}, ${m.name}) + ${j} * sizeof(e), sizeof(e));`);
                walkFields(m.type.struct, el as Record<string, unknown>, 'e.', (lv, v, path) => cmp(lv, v, `${m.name}[${j}].${path}`, '\t\t\t'), () => { throw new Error('nested flexible array'); });
              } else {
                out.push(`\t\t\t${m.type.kind === 'int' ? m.type.name : '__u64'} e;`, '', `\t\t\tmemcpy(&e, p + cur.offset + offsetof(${T}, ${m.name}) + ${j} * sizeof(e), sizeof(e));`);
                cmp('e', el as VUint, `${m.name}[${j}]`, '\t\t\t');
              }
              out.push('\t\t}');
            });
          });
          out.push('\t}');
        }
        out.push(`\tr = ${walker}_cap_next(&cur);`);
      });
      out.push(`\tif (r != 0) {`, `\t\tfailf("capchain", name, "after ${e.caps.length} capabilities the walker returned %d (error %s at %u), vector says end", r, vfio_cap_error_name(cur.error), cur.at);`, '\t\tbad = 1;', '\t}');
    }
  }
  if ('caps' in e && e.caps.length > 0) out.push('out:');
  out.push('\tif (!bad)', '\t\tpasses++;', '}', '');
  return out;
}

// ---------------------------------------------------------------------------------------------

/** The whole C test program for a vector set. */
export function translate(spec: Spec, v: VectorFiles): string {
  const out: string[] = [
    '/* Generated by test/c/translate.ts from spec/vectors: a test program, not part of the product. */',
    '#include <stdarg.h>', '#include <stddef.h>', '#include <stdio.h>', '#include <string.h>', '#include <errno.h>',
    '#include <linux/vfio.h>', `#include <${spec.uapi.header}>`, '#include "vfio_subregion_validate.h"', '',
    'static int passes, failures, skips;', '',
    'static void failf(const char *kind, const char *name, const char *fmt, ...)', '{', '\tva_list ap;', '',
    '\tfailures++;', '\tprintf("FAIL %s %s: ", kind, name);', '\tva_start(ap, fmt);', '\tvprintf(fmt, ap);', '\tva_end(ap);', '\tprintf("\\n");', '}', '',
    'static void dump(const char *label, const unsigned char *b, unsigned int n)', '{', '\tunsigned int i;', '',
    '\tprintf("  %s ", label);', '\tfor (i = 0; i < n; i++)', '\t\tprintf("%02x", b[i]);', '\tprintf("\\n");', '}', '',
    'static const char *errname(int e)', '{', '\tif (e == 0)', '\t\treturn "ok";',
  ];
  for (const e of spec.errnos) out.push(`\tif (e == -${e.name})`, `\t\treturn "${e.name}";`);
  out.push('\treturn "?";', '}', '');

  const calls: string[] = [];
  v.layout.forEach((c, i) => { out.push(...layoutCase(spec, c, i)); calls.push(`layout_${i}();`); });
  v.ioctl.forEach((c, i) => { out.push(...ioctlCase(spec, c, i)); calls.push(`ioctl_${i}();`); });
  v.validation.cases.forEach((c, i) => { out.push(...validationCase(spec, v.validation.devices, c, i)); calls.push(`validation_${i}();`); });
  v.capchain.forEach((c, i) => {
    // Once 8-aligned, once at an odd address: the walker must not rely on the buffer's alignment.
    // A reply laid out for one data model runs where the compiler's is that one (-m32: ILP32), and is skipped elsewhere.
    const model = c.data_model === 'ilp32' ? '__ILP32__' : '__LP64__';
    for (const shift of [0, 1]) {
      out.push(`#ifdef ${model}`, ...capchainCase(spec, c, i, shift), '#endif');
      calls.push(`#ifdef ${model}`, `capchain_${i}_${shift}();`, '#else', 'skips++;', '#endif');
    }
  });
  out.push('int main(void)', '{', ...calls.map((c) => (c.startsWith('#') ? c : `\t${c}`)), '\tprintf("RESULT pass=%d fail=%d skip=%d\\n", passes, failures, skips);', '\treturn failures != 0;', '}', '');
  return out.join('\n');
}

export interface RunResult {
  pass: number;
  fail: number;
  skip: number;
  /** `kind name: detail` of every failed check. */
  failures: string[];
}

export function parseOutput(stdout: string): RunResult {
  const m = /RESULT pass=(\d+) fail=(\d+) skip=(\d+)/.exec(stdout);
  if (m === null) throw new Error(`the vector program printed no RESULT line:\n${stdout.slice(-2000)}`);
  const failures = stdout.split('\n').filter((l) => l.startsWith('FAIL ')).map((l) => l.slice(5));
  return { pass: Number(m[1]), fail: Number(m[2]), skip: Number(m[3]), failures };
}
