import { type Diagnostic, SpecError } from './diagnostics.js';
import { ERRNO_VALUES } from './errno.js';
import { ARCHES, encodeIoctl } from './ioctl-encoding.js';
import type * as IR from './ir.js';
import { ARCH_MODEL, DATA_MODELS, INT_TYPES, POINTER_SIZE, alignUp, intAlign } from './layout.js';
import type { JsonSource } from './json-source.js';
import type * as Raw from './raw.js';
import { DEFAULT_SPEC_FILE } from './package.js';

/**
 * Turns a schema-valid spec into the IR. Every semantic rule the schema cannot express is checked
 * here, and every problem is reported (not just the first) with the JSON pointer it concerns.
 */
/** The include guard of a uapi header that names none: _UAPI_LINUX_X_H for linux/x.h. */
const defaultGuard = (header: string): string => `_UAPI_${header.replace(/[^A-Za-z0-9]/g, '_').toUpperCase()}`;

export function resolveSpec(src: JsonSource, specFile: string, fileOf: (pointer: string) => string = () => specFile, files: string[] = [specFile], headers: Record<string, IR.ImportedUapi> = {}): IR.Spec {
  return new Resolver(src, specFile, fileOf, files, headers).run();
}

/** A JSON integer or a decimal / 0x-hex string, with an optional minus sign (BigInt('-0x1') would throw). */
function parseInt(v: Raw.Int): bigint {
  if (typeof v === 'number') return BigInt(v);
  return v.startsWith('-') ? -BigInt(v.slice(1)) : BigInt(v);
}

/** my-abi -> my_abi */
const snake = (kebab: string): string => kebab.replace(/-/g, '_');

function origin(o: Raw.Origin): IR.Origin {
  if (!('upstream' in o)) return { kind: 'proposed' };
  const out: IR.Origin = { kind: 'upstream', kernel: o.upstream };
  if (o.removed !== undefined) out.removed = o.removed;
  if (o.values !== undefined) out.values = Object.entries(o.values).map(([kernel, v]) => ({ kernel, value: parseInt(v) }));
  return out;
}

/** 6.12 -> [6, 12], for ordering kernel versions. */
const kernelOrder = (v: string): number => { const [a, b] = v.split('.').map(Number); return a! * 1000 + b!; };

/** What defined a C macro name; 'string' is a string constant, which has no number. */
type MacroSource = 'constant' | 'string' | 'enum' | 'flag' | 'capability' | 'ioctl' | 'feature';

class Resolver {
  private readonly raw: Raw.Spec;
  private readonly diags: Diagnostic[] = [];
  /** One namespace for every C macro the spec defines (constants, enum values, bits, caps, ioctls, features). */
  private readonly macros = new Map<string, { pointer: string; value: bigint; source: MacroSource }>();
  private readonly structs = new Map<string, IR.Struct>();
  private readonly structRaw = new Map<string, { raw: Raw.Struct; pointer: string }>();
  private readonly resolving = new Set<string>();
  /** Structs already reported as broken, so each problem is reported once. */
  private readonly failed = new Set<string>();
  private readonly flagsets = new Map<string, IR.FlagSet>();
  private readonly flagBits = new Map<string, IR.FlagBit>();
  private readonly enums = new Map<string, IR.Enum>();
  private readonly constants = new Map<string, IR.Constant>();

  /** headers: the uapi header of each imported spec file. */
  constructor(private readonly src: JsonSource, private readonly specFile: string, private readonly fileOf: (pointer: string) => string, private readonly files: string[], private readonly headers: Record<string, IR.ImportedUapi>) {
    this.raw = src.value as Raw.Spec;
  }

  private error(pointer: string, message: string): void {
    this.diags.push(this.src.at(pointer, message));
  }

  /** Where a pointer of the merged spec is: file:line:col and the pointer within that file. */
  private where(pointer: string): string {
    const d = this.src.at(pointer, '');
    return `${d.file}:${d.line}:${d.column} ${d.pointer}`;
  }

  /**
   * The origin, checked: a removed version comes after the version that introduced the element;
   * values per version only where `value` (the element's own, the newest) says a number can change.
   */
  private origin(o: Raw.Origin, pointer: string, value: bigint | null = null): IR.Origin {
    if ('upstream' in o && o.removed !== undefined && kernelOrder(o.removed) <= kernelOrder(o.upstream))
      this.error(`${pointer}/origin/removed`, `removed in ${o.removed}, which is not after ${o.upstream}, the version that introduced it`);
    const ir = origin(o);
    if (ir.kind !== 'upstream' || ir.values === undefined) return ir;
    const p = `${pointer}/origin/values`;
    if (value === null) { this.error(p, 'only a number (a constant or an enum value) has values per version'); return ir; }
    const vs = ir.values;
    if (vs[0]!.kernel !== ir.kernel) this.error(p, `the first version must be ${ir.kernel}, the one that introduced the element (got ${vs[0]!.kernel})`);
    vs.forEach((v, i) => {
      const prev = vs[i - 1];
      if (prev !== undefined && kernelOrder(v.kernel) <= kernelOrder(prev.kernel)) this.error(`${p}/${v.kernel}`, `versions must increase: ${v.kernel} comes after ${prev.kernel}`);
      else if (prev !== undefined && v.value === prev.value) this.error(`${p}/${v.kernel}`, `${v.value} is the value of ${prev.kernel} already: list only the versions where it changed`);
    });
    const newest = vs[vs.length - 1]!;
    if (newest.value !== value) this.error(p, `the newest value (${newest.kernel}: ${newest.value}) must be the element's own value, ${value}: the targets print that one`);
    if (ir.removed !== undefined && vs.some((v) => kernelOrder(v.kernel) >= kernelOrder(ir.removed!))) this.error(p, `a version from ${ir.removed} on, when upstream removed the element`);
    return ir;
  }

  private defineMacro(name: string, pointer: string, value: bigint, source: MacroSource): void {
    const prev = this.macros.get(name);
    if (prev !== undefined) this.error(pointer, `duplicate name ${name} (first defined at ${this.where(prev.pointer)})`);
    else this.macros.set(name, { pointer, value, source });
  }

  private provisional(item: { origin: Raw.Origin; provisional?: boolean }, pointer: string, numbered: boolean): boolean {
    const o = origin(item.origin);
    if (item.provisional !== undefined && o.kind === 'upstream') this.error(`${pointer}/provisional`, 'an upstream element cannot be provisional');
    if (numbered && o.kind === 'proposed' && item.provisional === undefined)
      this.error(pointer, 'a proposed element with a number must say whether the number is provisional');
    return item.provisional ?? false;
  }

  run(): IR.Spec {
    const r = this.raw;
    const constants = (r.constants ?? []).map((c, i) => this.constant(c, `/constants/${i}`));
    const enums = (r.enums ?? []).map((e, i) => this.enumDef(e, `/enums/${i}`));
    // Upstream enums alias values (IOMMUFD_CMD_BASE is IOMMUFD_CMD_DESTROY): only a proposed value is held to a new one.
    for (const e of enums) this.distinct(e.values, (v) => [v.value, ...(v.origin.kind === 'upstream' ? v.origin.values ?? [] : []).map((x) => x.value)].map(String), (v) => `value ${v.value} of enum ${e.name}`, true);
    const flags = (r.flags ?? []).map((f, i) => this.flagset(f, `/flags/${i}`));
    this.orConstants(constants);

    r.structs.forEach((s, i) => {
      const pointer = `/structs/${i}`;
      if (this.structRaw.has(s.name)) this.error(`${pointer}/name`, `duplicate struct ${s.name} (first defined at ${this.where(`${this.structRaw.get(s.name)!.pointer}/name`)})`);
      else this.structRaw.set(s.name, { raw: s, pointer });
    });
    const structs = r.structs.map((s) => this.struct(s.name)).filter((s): s is IR.Struct => s !== null);

    const ioctls = r.ioctls.map((x, i) => this.ioctl(x, `/ioctls/${i}`)).filter((x): x is IR.Ioctl => x !== null);
    const fdKinds = this.fdKinds(r['fd-kinds'] ?? [], ioctls);
    this.uniqueIoctlNumbers(ioctls, fdKinds);
    const ioctlArgs = this.lowerIoctlArgs(ioctls, fdKinds);
    const capabilities = (r.capabilities ?? []).map((c, i) => this.capability(c, `/capabilities/${i}`, ioctls)).filter((c): c is IR.Capability => c !== null);
    this.distinct(capabilities, (c) => [`${c.info.name}:${c.id}`], (c) => `capability id ${c.id} of ${c.info.name}'s chain`);

    const state = r.state === undefined ? null : {
      doc: r.state.doc,
      device: this.stateRecord(r.state.device, '/state/device'),
      region: this.stateRecord(r.state.region, '/state/region'),
    };
    if (state !== null) {
      this.unique([{ name: state.device.name, pointer: '/state/device/name' }, { name: state.region.name, pointer: '/state/region/name' }, ...structs.map((s) => ({ name: s.name, pointer: s.pointer }))], (x) => x.name, (x) => `duplicate type name ${x.name}`);
      if (!state.device.fields.some((f) => f.name === 'num_regions' && f.type === 'u32'))
        this.error('/state/device/fields', 'the device state needs a u32 num_regions field (lookup rules check indexes against it)');
    } else if ((r.validators ?? []).length > 0) {
      this.error('/validators', 'validators read a state section: add "state" (the device and region records they check against)');
    }

    const validators = state === null ? [] : (r.validators ?? []).map((v, i) => this.validator(v, `/validators/${i}`, state)).filter((v): v is IR.Validator => v !== null);
    this.unique(validators, (v) => v.name, (v) => `duplicate validator ${v.name}`);
    const features = (r.features ?? []).map((f, i) => this.feature(f, `/features/${i}`, validators));
    this.distinct(features, (f) => [String(f.number)], (f) => `feature number ${f.number}`);
    const featureIoctl = this.featureIoctl(ioctls, features);

    const mmap = r.mmap === undefined ? null : {
      doc: r.mmap.doc,
      rules: r.mmap.rules.map((x, i): IR.MmapRule => ({ pointer: `/mmap/rules/${i}`, name: x.rule, errno: x.errno, doc: x.doc })),
    };
    if (mmap !== null) {
      this.unique(mmap.rules, (x) => x.name, (x) => `duplicate mmap rule ${x.name}`);
      // Generated code names an mmap rule like a rule of a validator called "mmap".
      for (const v of validators) if (v.name === 'mmap') this.error(`${v.pointer}/name`, 'a validator cannot be called mmap: the names of the mmap rules would clash with its rules');
    }

    this.knownErrnos(r, '');
    if (this.diags.length > 0) throw new SpecError(this.diags);

    const used = new Set<IR.Errno>();
    for (const v of validators) for (const rule of v.rules) used.add(rule.errno);
    for (const x of ioctls) for (const e of x.errors) used.add(e.errno);
    for (const f of features) for (const op of [f.get, f.set]) for (const e of op?.errors ?? []) used.add(e.errno);
    for (const x of mmap?.rules ?? []) used.add(x.errno);
    const errnos = [...used].sort((a, b) => ERRNO_VALUES[a] - ERRNO_VALUES[b]).map((name) => ({ name, value: ERRNO_VALUES[name] }));

    const prefix = r['name-prefix'] ?? snake(r.name);
    const spec: Omit<IR.Spec, 'at'> = {
      name: r.name, doc: r.doc, prefix, file: this.specFile, regenerateSpec: this.specFile === DEFAULT_SPEC_FILE ? null : this.specFile, files: this.files, targets: this.targets(prefix),
      uapi: {
        header: r.uapi.header, guard: r.uapi.guard ?? defaultGuard(r.uapi.header),
        emit: r.uapi.emit ?? 'all', includes: r.uapi.includes, doc: r.uapi.doc, patch: r.uapi.patch ?? null,
      },
      constants, enums, flags, structs, capabilities, fdKinds, ioctls, ioctlArgs, ioctlHeaders: this.ioctlHeaders(ioctlArgs), features, featureIoctl, state, validators, mmap,
      mmio: r.mmio === undefined ? null : { module: r.mmio.module ?? prefix, doc: r.mmio.doc, widths: r.mmio.widths, burst: r.mmio.burst, ordering: r.mmio.ordering },
      errnos,
    };
    // Not enumerable: the IR stays plain data (structuredClone, JSON) and carries the way back to the file.
    return Object.defineProperty(spec, 'at', { value: (pointer: string, message: string) => this.src.at(pointer, message), enumerable: false }) as IR.Spec;
  }

  /** Output paths and target options: the spec's, else defaults derived from the spec name (so two specs never share a file). */
  private targets(prefix: string): IR.Targets {
    const t = this.raw.targets ?? {};
    const name = this.raw.name;
    return {
      cHeader: { path: t['c-header']?.path ?? `native/include/${this.raw.uapi.header}`, fallbackDir: t['c-header']?.['fallback-dir'] ?? null },
      cValidators: { dir: t['c-validators']?.dir ?? 'native/validators', base: t['c-validators']?.base ?? `${snake(name)}_validate` },
      typescript: { path: t.typescript?.path ?? `runtime/src/generated/${name}.ts`, support: t.typescript?.support ?? '../codec-support.js' },
      assemblyscript: { path: t.assemblyscript?.path ?? `runtime/assembly/generated/${name}.ts` },
      markdown: { path: t.markdown?.path ?? `docs/${name}-abi.md` },
      wit: { path: t.wit?.path ?? `runtime/wit/${name}.wit`, package: t.wit?.package ?? `${prefix.replace(/_/g, '-')}:${name}@0.1.0` },
      kernelPatch: { dir: t['kernel-patch']?.dir ?? 'native/kernel' },
    };
  }

  private featureIoctl(ioctls: IR.Ioctl[], features: IR.Feature[]): IR.FeatureIoctl | null {
    const f = this.raw['feature-ioctl'];
    if (f === undefined) {
      if (features.length > 0) this.error('/features', 'features need a "feature-ioctl": the ioctl that multiplexes them and its get, set and probe flag bits');
      return null;
    }
    const ioctl = ioctls.find((x) => x.name === f.ioctl);
    if (ioctl === undefined) this.error('/feature-ioctl/ioctl', `unknown ioctl ${f.ioctl}`);
    const bit = (k: 'get' | 'set' | 'probe'): IR.FlagBit | undefined => {
      const b = this.flagBits.get(f[k]);
      if (b === undefined) this.error(`/feature-ioctl/${k}`, `unknown flag ${f[k]}`);
      return b;
    };
    const [get, set, probe] = [bit('get'), bit('set'), bit('probe')];
    if (ioctl === undefined || get === undefined || set === undefined || probe === undefined) return null;
    const payloads = features.some((x) => x.get?.payload || x.set?.payload);
    return { ioctl, get, set, probe, header: payloads ? this.featureHeader(ioctl, get, set) : null };
  }

  /**
   * The argument of the feature ioctl as the header a payload follows (the codecs of whole feature
   * arguments write it): a uniform struct with argsz, a member whose flag set holds the get and set
   * bits, and a flexible byte array after them.
   */
  private featureHeader(ioctl: IR.Ioctl, get: IR.FlagBit, set: IR.FlagBit): IR.FeatureIoctl['header'] {
    const s = ioctl.arg;
    const at = '/feature-ioctl/ioctl';
    const flags = s?.members.find((m) => m.count === null && m.type.kind === 'int' && m.type.size <= 4 && m.flags?.bits.includes(get) && m.flags.bits.includes(set));
    const payload = s?.flexible;
    // A spec already refused (the ioctl's own argument, say) would only see its error repeated here.
    if (this.diags.length > 0) return null;
    if (s === null || !s.uniform || ioctl.argsz === null || flags === undefined || payload === null || payload === undefined || payload.type.kind !== 'int' || payload.type.size !== 1) {
      this.error(at, `features with a payload need ${ioctl.name} to take a struct laid out alike on every data model with an argsz role, a member of at most 32 bits whose flags hold ${get.name} and ${set.name}, and a flexible __u8 array the payload lies in`);
      return null;
    }
    return { struct: s, argsz: ioctl.argsz, flags, payload };
  }

  /** Every `errno` member anywhere in the spec names an errno of <asm-generic/errno.h>. */
  private knownErrnos(node: unknown, pointer: string): void {
    if (Array.isArray(node)) node.forEach((x, i) => this.knownErrnos(x, `${pointer}/${i}`));
    else if (node !== null && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        const at = `${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
        if (k === 'errno' && typeof v === 'string' && !Object.hasOwn(ERRNO_VALUES, v)) this.error(at, `unknown errno ${v}: not a name of <asm-generic/errno.h>`);
        else this.knownErrnos(v, at);
      }
    }
  }

  /**
   * Items whose numbers (keys) must differ: the second with a taken number is refused, by name and
   * with where the first is. A proposed number upstream has given an item is named as such, with
   * the kernel version: a provisional number upstream has assigned since. onlyProposed: upstream
   * items may share numbers among themselves (aliases), a proposed one may not share upstream's.
   */
  private distinct<T extends { pointer: string; name: string; origin: IR.Origin }>(items: T[], keys: (t: T) => string[], what: (t: T) => string, onlyProposed = false): void {
    const seen = new Map<string, T>();
    for (const it of items) {
      for (const k of new Set(keys(it))) {
        const prev = seen.get(k);
        if (prev === undefined) { seen.set(k, it); continue; }
        if (onlyProposed && (prev.origin.kind === 'upstream') === (it.origin.kind === 'upstream')) continue;
        // the proposed one of a proposed and an upstream item is the one to change, whichever comes first
        const [bad, other] = prev.origin.kind === 'proposed' && it.origin.kind === 'upstream' ? [prev, it] : [it, prev];
        this.error(bad.pointer, this.clash(bad, other, what(bad)));
        break;
      }
    }
  }

  /** Why item may not have the number (what) other has: other is upstream's (and since when), or simply first. */
  private clash(item: { name: string; origin: IR.Origin }, other: { name: string; pointer: string; origin: IR.Origin }, what: string): string {
    const o = other.origin;
    if (item.origin.kind === 'proposed' && o.kind === 'upstream')
      return `${item.name}: proposed ${what} is upstream's ${other.name} since Linux ${o.kernel}${o.removed !== undefined ? ` (removed in ${o.removed}, so older kernels still give it that meaning)` : ''}, at ${this.where(other.pointer)}: a proposed number must be one upstream has not assigned`;
    return `${item.name}: ${what} is already ${other.name}'s (${this.where(other.pointer)})`;
  }

  private unique<T extends { pointer: string }>(items: T[], key: (t: T) => string, message: (t: T) => string): void {
    const seen = new Set<string>();
    for (const it of items) {
      const k = key(it);
      if (seen.has(k)) this.error(it.pointer, message(it));
      seen.add(k);
    }
  }

  private constant(c: Raw.Constant, pointer: string): IR.Constant {
    // An OR's value is known once flags and enums are: orConstants() fills it in.
    const value = c.char !== undefined ? BigInt(c.char.charCodeAt(0)) : c.value !== undefined ? parseInt(c.value) : 0n;
    if (value >= 1n << 64n || value < -(1n << 63n)) this.error(`${pointer}/value`, 'value does not fit in 64 bits (from -2^63 to 2^64-1)');
    if (c.or === undefined) this.defineMacro(c.name, `${pointer}/name`, value, c.string !== undefined ? 'string' : 'constant');
    const ir: IR.Constant = {
      pointer, name: c.name, value, string: c.string ?? null, char: c.char ?? null, or: null, hex: typeof c.value === 'string' && /^-?0x/i.test(c.value), doc: c.doc, spec: this.fileOf(pointer),
      origin: this.origin(c.origin, pointer, c.value !== undefined ? value : null), provisional: this.provisional(c, pointer, c.string === undefined),
    };
    this.constants.set(c.name, ir);
    return ir;
  }

  /**
   * The constants written as an OR: each name a flag bit, an enum value or a constant that is no
   * OR itself or an earlier one (so there is no cycle); defined as macros only now, in spec order.
   */
  private orConstants(constants: IR.Constant[]): void {
    (this.raw.constants ?? []).forEach((c, i) => {
      if (c.or === undefined) return;
      const pointer = `/constants/${i}`;
      const ir = constants[i]!;
      const terms: { name: string; value: bigint }[] = [];
      c.or.forEach((name, j) => {
        const m = this.macros.get(name);
        if (m === undefined || m.source === 'ioctl' || m.source === 'capability' || m.source === 'feature' || m.source === 'string') {
          const later = (this.raw.constants ?? []).findIndex((k, x) => x > i && k.name === name && k.or !== undefined);
          this.error(`${pointer}/or/${j}`, later >= 0 ? `${name} is an OR defined later (at /constants/${later}): an OR may name only earlier ones`
            : m === undefined ? `unknown flag bit, enum value or constant ${name}` : `${name} is a${m.source === 'ioctl' ? 'n' : ''} ${m.source === 'string' ? 'string constant' : m.source}, not a flag bit, enum value or constant`);
          return;
        }
        const k = this.constants.get(name);
        if (k !== undefined && k.char !== null) { this.error(`${pointer}/or/${j}`, `${name} is a character constant`); return; }
        if (m.value < 0n) { this.error(`${pointer}/or/${j}`, `${name} is negative (${m.value}): an OR takes bits`); return; }
        terms.push({ name, value: m.value });
      });
      ir.or = terms;
      ir.value = terms.reduce((v, t) => v | t.value, 0n);
      this.defineMacro(c.name, `${pointer}/name`, ir.value, 'constant');
    });
  }

  private enumDef(e: Raw.Enum, pointer: string): IR.Enum {
    let next = 0n;
    const values = e.values.map((v, i): IR.EnumValue => {
      const p = `${pointer}/values/${i}`;
      const value = v.value !== undefined ? BigInt(v.value) : next;
      if (v.value === undefined && (e.render ?? 'define') === 'define') this.error(p, `${v.name}: a value rendered as #define needs an explicit value`);
      if (value >= 1n << 32n) this.error(p, `${v.name}: enum value does not fit in 32 bits`);
      next = value + 1n;
      const o = v.origin ?? e.origin;
      this.defineMacro(v.name, `${p}/name`, value, 'enum');
      return { pointer: p, name: v.name, value, doc: v.doc, origin: v.origin !== undefined ? this.origin(o, p, value) : origin(o), provisional: this.provisional({ origin: o, provisional: v.provisional }, p, true) };
    });
    if (e.anonymous === true && e.render !== 'enum') this.error(`${pointer}/anonymous`, `enum ${e.name} is rendered as #defines, so it has no C enum to leave untagged: add "render": "enum"`);
    const ir: IR.Enum = { pointer, name: e.name, doc: e.doc, spec: this.fileOf(pointer), origin: this.origin(e.origin, pointer), render: e.render ?? 'define', anonymous: e.anonymous === true, values };
    if (this.enums.has(e.name)) this.error(`${pointer}/name`, `duplicate enum ${e.name} (first defined at ${this.where(`${this.enums.get(e.name)!.pointer}/name`)})`);
    this.enums.set(e.name, ir);
    return ir;
  }

  private flagset(f: Raw.FlagSet, pointer: string): IR.FlagSet {
    const byBit = new Map<number, string>();
    let mask = 0n;
    const bits = f.bits.map((b, i): IR.FlagBit => {
      const p = `${pointer}/bits/${i}`;
      if (b.bit >= f.width) this.error(`${p}/bit`, `${b.name}: bit ${b.bit} does not fit in a ${f.width}-bit word`);
      else if (f.render === 'enum' && b.bit > 30) this.error(`${p}/bit`, `${b.name}: bit ${b.bit} does not fit in a C enumerator (an int): flag set ${f.name} is rendered as an enum, which holds bits 0 to 30`);
      const clash = byBit.get(b.bit);
      if (clash !== undefined) this.error(`${p}/bit`, `${b.name}: bit ${b.bit} overlaps ${clash}`);
      byBit.set(b.bit, b.name);
      const value = 1n << BigInt(b.bit);
      mask |= value;
      this.defineMacro(b.name, `${p}/name`, value, 'flag');
      const bit: IR.FlagBit = { pointer: p, name: b.name, bit: b.bit, value, doc: b.doc, origin: b.origin === undefined ? null : this.origin(b.origin, p) };
      this.flagBits.set(b.name, bit);
      return bit;
    });
    const ir: IR.FlagSet = { pointer, name: f.name, doc: f.doc, spec: this.fileOf(pointer), origin: this.origin(f.origin, pointer), width: f.width, render: f.render ?? 'define', bits, mask };
    if (this.flagsets.has(f.name)) this.error(`${pointer}/name`, `duplicate flag set ${f.name} (first defined at ${this.where(`${this.flagsets.get(f.name)!.pointer}/name`)})`);
    this.flagsets.set(f.name, ir);
    return ir;
  }

  /** Resolves a struct by name (any declaration order), computing and checking its layout. */
  private struct(name: string): IR.Struct | null {
    const done = this.structs.get(name);
    if (done !== undefined) return done;
    const entry = this.structRaw.get(name);
    if (entry === undefined || this.failed.has(name)) return null;
    if (this.resolving.has(name)) {
      this.error(entry.pointer, `struct ${name} contains itself`);
      return null;
    }
    this.resolving.add(name);
    const ir = this.layout(entry.raw, entry.pointer);
    this.resolving.delete(name);
    if (ir !== null) this.structs.set(name, ir);
    else this.failed.add(name);
    return ir;
  }

  private layout(s: Raw.Struct, pointer: string): IR.Struct | null {
    const members: IR.Member[] = [];
    const names = new Set<string>();
    const natural = s.layout === 'natural';
    if (natural && !('upstream' in s.origin))
      this.error(`${pointer}/layout`, `struct ${s.name} is proposed: only an upstream struct may have "layout": "natural" (a proposed struct is laid out without implicit padding and the same on every data model)`);
    const end: Record<IR.DataModel, number> = { lp64: 0, ilp32: 0 };
    const align: Record<IR.DataModel, number> = { lp64: 1, ilp32: 1 };
    const holes: Record<IR.DataModel, IR.Hole[]> = { lp64: [], ilp32: [] };
    let ok = true;
    /** A member's type, or null (reported) when it names a struct that cannot be used. */
    const typeOf = (m: Raw.Member, p: string): IR.Member['type'] | null => {
      const pointed = m.type.endsWith(' *');
      const base = pointed ? m.type.slice(0, -2) : m.type;
      let target: IR.IntType | IR.StructRef;
      if (base.startsWith('struct ')) {
        const name = base.slice('struct '.length);
        if (!this.structRaw.has(name)) {
          this.error(`${p}/type`, `unknown struct ${name}`);
          return null;
        }
        // A pointer only names its target: it may point to a struct that contains this one.
        const inner = pointed && this.resolving.has(name) ? null : this.struct(name);
        if (inner === null && !pointed) return null;
        if (inner === null) { this.error(`${p}/type`, `struct ${name} is not resolved yet where ${s.name}.${m.name} points to it`); return null; }
        if (!pointed && inner.flexible !== null) this.error(`${p}/type`, `struct ${name} ends with a flexible array and cannot be embedded`);
        target = { kind: 'struct', struct: inner };
      } else {
        target = INT_TYPES[base as IR.IntTypeName];
      }
      return pointed ? { kind: 'pointer', to: target } : target;
    };
    /** Element size and alignment of a type under a data model. */
    const measure = (type: IR.Member['type'], model: IR.DataModel): [number, number] => (type.kind === 'pointer' ? [POINTER_SIZE[model], POINTER_SIZE[model]]
      : type.kind === 'int' ? [type.size, intAlign(type, model)]
      : [type.struct.layouts[model].size, type.struct.layouts[model].align]);
    /** Places `size` bytes aligned to `a` at the end of the struct so far, recording (or refusing) the padding before `before`. */
    const place = (model: IR.DataModel, size: number, a: number, before: string, p: string): number => {
      const at = alignUp(end[model], a);
      if (at !== end[model]) {
        if (!natural && model === 'lp64') this.error(p, `implicit padding: ${at - end[model]} byte(s) before ${s.name}.${before} at offset ${end[model]}; add an explicit padding member (or, for upstream's own struct, say "layout": "natural")`);
        holes[model].push({ offset: end[model], size: at - end[model], before });
      }
      end[model] = at + size;
      align[model] = Math.max(align[model], a);
      return at;
    };
    /** The IR member for m, its layouts still to be placed (offsets 0). */
    const member = (m: Raw.Member, p: string, type: IR.Member['type'], union: IR.Union | null): IR.Member => {
      if (names.has(m.name)) this.error(`${p}/name`, `duplicate member ${m.name} in struct ${s.name}`);
      names.add(m.name);
      const count = m.count ?? null;
      if (type.kind === 'pointer' && (m.flags !== undefined || m.enum !== undefined || m.counts !== undefined || m['points-to'] !== undefined)) this.error(p, `${s.name}.${m.name} is a pointer: it carries an address, not flags, an enum value or a count`);
      const base = type.kind === 'pointer' ? type.to : type;
      if (base.kind === 'int' && base.littleEndian && (m.flags !== undefined || m.enum !== undefined || m.counts !== undefined || m['points-to'] !== undefined))
        this.error(p, `${s.name}.${m.name} is ${base.name}, a little-endian value C reads through le*_to_cpu: it cannot carry flags, an enum value, a count or an address; declare it ${base.name.replace('le', 'u')} if the kernel reads it natively`);
      if (m.flags !== undefined && !this.flagsets.has(m.flags)) this.error(`${p}/flags`, `unknown flag set ${m.flags}`);
      if (m.enum !== undefined && !this.enums.has(m.enum)) this.error(`${p}/enum`, `unknown enum ${m.enum}`);
      if (m.reserved === true && m.padding === true) this.error(p, 'a member is reserved or padding, not both');
      const own = m.origin === undefined ? null : this.origin(m.origin, p);
      if (own !== null && (own.kind !== 'upstream' || !('upstream' in s.origin) || kernelOrder(own.kernel) <= kernelOrder(s.origin.upstream) || own.removed !== undefined))
        this.error(`${p}/origin`, `${s.name}.${m.name}: a member's own origin is an upstream version later than its struct's (${'upstream' in s.origin ? s.origin.upstream : 'proposed'}), with no removal`);
      const layouts = {} as Record<IR.DataModel, IR.MemberLayout>;
      for (const model of DATA_MODELS) {
        const [elementSize] = measure(type, model);
        layouts[model] = { offset: 0, elementSize, size: count === 'flexible' ? 0 : elementSize * (count ?? 1) };
      }
      return {
        pointer: p, name: m.name, doc: m.doc, type, count, offset: 0, elementSize: layouts.lp64.elementSize, size: layouts.lp64.size, layouts,
        reserved: m.reserved === true, padding: m.padding === true, union, origin: own, dir: m.dir ?? null,
        flags: m.flags !== undefined ? this.flagsets.get(m.flags) ?? null : null,
        enum: m.enum !== undefined ? this.enums.get(m.enum) ?? null : null,
        elements: m.elements === undefined ? null : this.elements(s, m, members, count, type, p),
        pointsTo: null,
      };
    };
    /** Sets where the members (one, or a union's) lie, and checks the data models agree unless the layout is natural. */
    const settle = (ms: IR.Member[], at: Record<IR.DataModel, number>, p: string, what: string, size: Record<IR.DataModel, number>): void => {
      for (const x of ms) {
        for (const model of DATA_MODELS) x.layouts[model].offset = at[model];
        x.offset = at.lp64;
      }
      if (!natural && (at.lp64 !== at.ilp32 || size.lp64 !== size.ilp32)) {
        const how = at.lp64 !== at.ilp32 ? `is at offset ${at.lp64} on LP64 (x86-64) but ${at.ilp32} on ILP32 (i386)` : `takes ${size.lp64} bytes on LP64 (x86-64) but ${size.ilp32} on ILP32 (i386)`;
        this.error(p, `${s.name}.${what} ${how}; use __aligned_u64 or explicit padding (or, for upstream's own struct, say "layout": "natural")`);
      }
    };
    const rawMembers: { raw: Raw.Member; pointer: string }[] = [];
    const lastIndex = s.members.length - 1;
    s.members.forEach((item, i) => {
      const p = `${pointer}/members/${i}`;
      if ('union' in item) {
        const union: IR.Union = { pointer: p, doc: item.doc, members: [], layouts: { lp64: { offset: 0, size: 0, align: 1 }, ilp32: { offset: 0, size: 0, align: 1 } } };
        item.union.forEach((m, j) => {
          const q = `${p}/union/${j}`;
          rawMembers.push({ raw: m, pointer: q });
          if (m.count === 'flexible') this.error(`${q}/count`, `${s.name}.${m.name}: a union member cannot be a flexible array`);
          if (m.counts !== undefined) this.error(`${q}/counts`, `${s.name}.${m.name}: a union member cannot count a flexible array (its bytes are another member's too)`);
          const type = typeOf(m, q);
          if (type === null) { ok = false; return; }
          union.members.push(member(m, q, type, union));
        });
        if (union.members.length !== item.union.length) return;
        const at = {} as Record<IR.DataModel, number>;
        const size = {} as Record<IR.DataModel, number>;
        for (const model of DATA_MODELS) {
          const a = Math.max(...union.members.map((x) => measure(x.type, model)[1]));
          const largest = Math.max(...union.members.map((x) => x.layouts[model].size));
          size[model] = alignUp(largest, a);
          if (size[model] !== largest && !natural && model === 'lp64') this.error(p, `implicit padding: the union of ${union.members.map((x) => x.name).join(', ')} is ${largest} bytes, padded to ${size[model]} for its ${a}-byte alignment; make its largest member a multiple of that`);
          at[model] = place(model, size[model], a, union.members[0]!.name, p);
          union.layouts[model] = { offset: at[model], size: size[model], align: a };
        }
        settle(union.members, at, p, `(union of ${union.members.map((x) => x.name).join(', ')})`, size);
        members.push(...union.members);
        return;
      }
      rawMembers.push({ raw: item, pointer: p });
      if (item.count === 'flexible' && i !== lastIndex) this.error(`${p}/count`, `flexible array ${item.name} must be the last member of struct ${s.name}`);
      const type = typeOf(item, p);
      if (type === null) { ok = false; return; }
      const ir = member(item, p, type, null);
      const at = {} as Record<IR.DataModel, number>;
      const size = {} as Record<IR.DataModel, number>;
      for (const model of DATA_MODELS) {
        size[model] = ir.layouts[model].size;
        at[model] = place(model, size[model], measure(type, model)[1], item.name, p);
      }
      settle([ir], at, p, item.name, size);
      members.push(ir);
    });
    if (!ok) return null;
    const sizes = {} as Record<IR.DataModel, number>;
    for (const model of DATA_MODELS) {
      sizes[model] = alignUp(end[model], align[model]);
      if (sizes[model] === end[model]) continue;
      if (!natural) {
        this.error(pointer, `struct ${s.name} is ${end[model]} bytes on ${model === 'lp64' ? 'LP64 (x86-64)' : 'ILP32 (i386)'}, not a multiple of its ${align[model]}-byte alignment; add explicit tail padding (or, for upstream's own struct, say "layout": "natural")`);
        return null;
      }
      holes[model].push({ offset: end[model], size: sizes[model] - end[model], before: null });
    }
    if (!natural && sizes.lp64 !== sizes.ilp32) this.error(pointer, `struct ${s.name} is ${sizes.lp64} bytes on LP64 (x86-64) but ${sizes.ilp32} on ILP32 (i386)`);
    const structLayouts = {} as Record<IR.DataModel, IR.StructLayout>;
    for (const model of DATA_MODELS) structLayouts[model] = { size: sizes[model], align: align[model], holes: holes[model] };
    const uniform = sizes.lp64 === sizes.ilp32 && members.every((m) => m.layouts.lp64.offset === m.layouts.ilp32.offset && m.layouts.lp64.elementSize === m.layouts.ilp32.elementSize);
    const last = members[members.length - 1];
    const flexible = last !== undefined && last.count === 'flexible' ? last : null;
    let flexibleCount: IR.Member | null = null;
    rawMembers.forEach(({ raw: m, pointer: at }, i) => {
      if (m.counts === undefined) return;
      const p = `${at}/counts`;
      if (flexibleCount !== null) this.error(p, `struct ${s.name} names the length of its flexible array twice`);
      else if (flexible === null || flexible.name !== m.counts) this.error(p, `${m.counts} is not the flexible array member of struct ${s.name}`);
      else if (members[i]!.type.kind !== 'int' || members[i]!.count !== null) this.error(p, 'an element count must be a scalar integer');
      else flexibleCount = members[i]!;
    });
    if (flexible?.elements != null && flexibleCount === null) this.error(`${flexible.pointer}/elements`, `${s.name}.${flexible.name} is counted in elements of another type: a member must say it "counts" them`);
    rawMembers.forEach(({ raw: m, pointer: at }, i) => { if (m['points-to'] !== undefined) this.pointsTo(s, m['points-to'], members, i, `${at}/points-to`); });
    let capHeader: IR.Struct['capHeader'] = null;
    const role = s['capability-header'];
    if (role !== undefined) {
      const pick = (k: 'id' | 'version' | 'next'): IR.Member | null => {
        const m = members.find((x) => x.name === role[k]);
        if (m === undefined) this.error(`${pointer}/capability-header/${k}`, `struct ${s.name} has no member ${role[k]}`);
        else if (m.type.kind !== 'int' || m.count !== null || m.type.signed || (m.type.size !== 2 && m.type.size !== 4) || m.union !== null)
          this.error(`${pointer}/capability-header/${k}`, `${s.name}.${m.name} must be a __u16 or __u32 scalar outside a union to be a capability ${k}`);
        else return m;
        return null;
      };
      const [id, version, next] = [pick('id'), pick('version'), pick('next')];
      if (id !== null && version !== null && next !== null) capHeader = { id, version, next };
    }
    return {
      pointer, name: s.name, doc: s.doc, spec: this.fileOf(pointer), origin: this.origin(s.origin, pointer), members,
      size: sizes.lp64, align: align.lp64, natural, layouts: structLayouts, uniform, flexible, flexibleCount, capHeader,
    };
  }

  /**
   * The points-to role of members[i]: a 64-bit unsigned integer carrying a user address, and what
   * lies there (an array of a struct counted by a member, or bytes counted by a member).
   */
  private pointsTo(s: Raw.Struct, raw: NonNullable<Raw.Member['points-to']>, members: IR.Member[], i: number, p: string): void {
    const m = members[i]!;
    if (m.type.kind !== 'int' || m.type.size !== 8 || m.type.signed || m.count !== null) {
      this.error(p, `${s.name}.${m.name} must be a scalar __u64 or __aligned_u64 to carry a user address`);
      return;
    }
    const counter = (name: string, k: 'count' | 'bytes'): IR.Member | null => {
      const c = members.find((x) => x.name === name);
      if (c === undefined) this.error(`${p}/${k}`, `struct ${s.name} has no member ${name}`);
      else if (c === m || c.type.kind !== 'int' || c.type.signed || c.type.littleEndian || c.count !== null) this.error(`${p}/${k}`, `${s.name}.${name} must be another scalar unsigned integer member to hold the ${k === 'count' ? 'element count' : 'byte count'}`);
      else return c;
      return null;
    };
    if (raw.bytes !== undefined) {
      if (raw.struct !== undefined) { this.error(`${p}/struct`, `${s.name}.${m.name} points to bytes counted by ${raw.bytes}: "struct" goes with "count" instead`); return; }
      const bytes = counter(raw.bytes, 'bytes');
      if (bytes !== null) m.pointsTo = { struct: null, bytes };
      return;
    }
    if (!this.structRaw.has(raw.struct!)) { this.error(`${p}/struct`, `unknown struct ${raw.struct}`); return; }
    if (this.resolving.has(raw.struct!)) { this.error(`${p}/struct`, `struct ${raw.struct} contains ${s.name}, so ${s.name}.${m.name} cannot describe an array of it`); return; }
    const target = this.struct(raw.struct!);
    const count = counter(raw.count!, 'count');
    if (target !== null && count !== null) m.pointsTo = { struct: target, count };
  }

  private structRef(name: string, pointer: string): IR.Struct | null {
    const s = this.struct(name);
    if (s === null && !this.structRaw.has(name)) this.error(pointer, `unknown struct ${name}`);
    return s;
  }

  /** The IR of an ioctl argument type name. */
  private scalarType(name: Raw.ScalarType): IR.ScalarType {
    if (name === 'int') return { name, size: 4, signed: true };
    if (name === 'unsigned int') return { name, size: 4, signed: false };
    const t = INT_TYPES[name];
    return { name, size: t.size, signed: t.signed };
  }

  private ioctl(x: Raw.Ioctl, pointer: string): IR.Ioctl | null {
    const type = this.constants.get(x.type);
    const badType = type !== undefined && type.char === null && (type.string !== null || type.value > 0xffn || type.value < 0n);
    if (type === undefined) this.error(`${pointer}/type`, `unknown constant ${x.type}`);
    else if (badType) this.error(`${pointer}/type`, `${x.type} is ${type.string !== null ? 'a string constant' : type.value}: an ioctl type is a character constant or a number up to 0xff`);
    let nr: number;
    let nrBase: IR.Ioctl['nrBase'] = null;
    let nrEnum: IR.Ioctl['nrEnum'] = null;
    if (typeof x.nr === 'number') nr = x.nr;
    else if ('enum' in x.nr) {
      const name = x.nr.enum;
      const value = [...this.enums.values()].flatMap((e) => e.values).find((v) => v.name === name);
      if (value === undefined) { this.error(`${pointer}/nr/enum`, `unknown enum member ${name}${this.macros.has(name) ? ' (it is not an enum member: write a constant as { "base": NAME, "offset": 0 })' : ''}`); nr = 0; }
      else { nr = Number(value.value); nrEnum = value; }
      if (nr > 255) this.error(`${pointer}/nr/enum`, `ioctl number ${nr} (${name}) does not fit in 8 bits`);
    } else {
      const base = this.constants.get(x.nr.base);
      if (base === undefined) { this.error(`${pointer}/nr/base`, `unknown constant ${x.nr.base}`); nr = 0; }
      else if (base.string !== null || base.value < 0n) { this.error(`${pointer}/nr/base`, `${x.nr.base} is ${base.string !== null ? 'a string constant' : `negative (${base.value})`}: an ioctl number's base is a number`); nr = 0; }
      else { nr = Number(base.value) + x.nr.offset; nrBase = { constant: base, offset: x.nr.offset }; }
      if (nr > 255) this.error(`${pointer}/nr`, `ioctl number ${nr} does not fit in 8 bits`);
    }
    const provisional = this.provisional(x, pointer, true);
    let argument: IR.IoctlArgument | null;
    if (typeof x.arg === 'string') {
      const s = this.structRef(x.arg, `${pointer}/arg`);
      argument = s === null ? null : { kind: 'struct', struct: s };
    } else {
      const a = x.arg;
      argument = a.kind === 'none' ? { kind: 'none', doc: a.doc ?? null }
        : a.kind === 'string' ? { kind: 'string', doc: a.doc }
        : { kind: a.kind, type: this.scalarType(a.type), doc: a.doc };
      // Only a pointer has a size an _IOR/_IOW/_IOWR number could encode.
      if (a.kind !== 'pointer' && x.encoding !== 'IO')
        this.error(`${pointer}/encoding`, `${x.name} takes ${a.kind === 'none' ? 'no argument' : a.kind === 'value' ? 'an integer by value' : 'a string'}, which has no size for _${x.encoding} to encode: encode it _IO`);
      for (const k of ['argsz', 'outputs', 'chain'] as const)
        if (x[k] !== undefined) this.error(`${pointer}/${k}`, `${x.name} has no argument struct, so it has no ${k === 'chain' ? 'capability chain' : `${k} member`}`);
    }
    if (type === undefined || badType || argument === null) return null;
    const arg = argument.kind === 'struct' ? argument.struct : null;
    let argsz: IR.Member | null = null;
    let outputs: IR.Member[] = [];
    let chain: IR.Chain | null = null;
    if (arg !== null) {
      const member = (name: string, p: string): IR.Member | null => {
        const m = arg.members.find((mm) => mm.name === name);
        if (m === undefined) this.error(p, `struct ${arg.name} has no member ${name}`);
        return m ?? null;
      };
      argsz = x.argsz !== undefined ? member(x.argsz, `${pointer}/argsz`) : null;
      if (argsz !== null && (argsz.type.kind !== 'int' || argsz.type.name !== '__u32' || argsz.count !== null || argsz.offset !== 0 || argsz.union !== null))
        this.error(`${pointer}/argsz`, 'the argsz member must be a __u32 at offset 0, outside a union');
      // What the kernel touches through the argument pointer must follow from the spec (see lowerIoctlArgs).
      if (x.argsz !== undefined && x.encoding !== 'IO')
        this.error(`${pointer}/encoding`, `an ioctl with an argsz member is encoded _IO: the kernel reads argsz bytes, not the _IOC_SIZE of _${x.encoding}`);
      if (x.argsz === undefined && x.encoding === 'IO')
        this.error(pointer, `the _IO number of ${x.name} carries no argument size: name the argsz member of struct ${arg.name}, or encode it _IOR, _IOW or _IOWR`);
      if (x.argsz === undefined && x.encoding !== 'IO' && arg.flexible !== null)
        this.error(`${pointer}/arg`, `struct ${arg.name} ends with a flexible array, so _${x.encoding} cannot give its size: give it an argsz member and encode the ioctl _IO`);
      outputs = (x.outputs ?? []).map((o, i) => member(o, `${pointer}/outputs/${i}`)).filter((m): m is IR.Member => m !== null);
      chain = x.chain === undefined ? null : this.chain(x, arg, argsz, pointer);
    }
    const numbers = {} as Record<IR.Arch, number>;
    for (const arch of ARCHES) {
      const size = arg !== null ? arg.layouts[ARCH_MODEL[arch]].size : argument.kind === 'pointer' ? argument.type.size : 0;
      numbers[arch] = encodeIoctl(arch, x.encoding, Number(type.value), nr, size);
    }
    this.defineMacro(x.name, `${pointer}/name`, BigInt(numbers.x86_64), 'ioctl');
    return {
      pointer, name: x.name, doc: x.doc, spec: this.fileOf(pointer), origin: this.origin(x.origin, pointer), provisional, fd: x.fd, type, nr, nrBase, nrEnum,
      encoding: x.encoding, argument, arg, argsz, outputs, chain, returns: x.returns ?? null, errors: x.errors, numbers,
    };
  }

  /** The chain role of an ioctl: where it starts, the flag that says it is there, its header struct. */
  private chain(x: Raw.Ioctl, arg: IR.Struct, argsz: IR.Member | null, pointer: string): IR.Chain | null {
    const c = x.chain!;
    const p = `${pointer}/chain`;
    if (argsz === null) this.error(p, `${x.name} returns a capability chain, so it needs an argsz member (the size of the whole reply)`);
    const offset = arg.members.find((m) => m.name === c.offset);
    if (offset === undefined) this.error(`${p}/offset`, `struct ${arg.name} has no member ${c.offset}`);
    else if (offset.type.kind !== 'int' || offset.count !== null || offset.type.size !== 4 || offset.type.signed || offset.union !== null)
      this.error(`${p}/offset`, `${arg.name}.${offset.name} must be a __u32 outside a union to hold a chain offset`);
    const flag = this.flagBits.get(c.flag);
    const flags = flag === undefined ? undefined : arg.members.find((m) => m.flags?.bits.includes(flag) === true && m.count === null && m.union === null);
    if (flag === undefined) this.error(`${p}/flag`, `unknown flag ${c.flag}`);
    else if (flags === undefined) this.error(`${p}/flag`, `no member of struct ${arg.name} carries the flag set of ${c.flag}`);
    else if (flags.type.kind !== 'int' || flags.type.size !== 4) this.error(`${p}/flag`, `${arg.name}.${flags.name} must be a __u32 to carry the chain flag`);
    const header = this.structRaw.has(c.header) ? this.struct(c.header) : null;
    if (!this.structRaw.has(c.header)) this.error(`${p}/header`, `unknown struct ${c.header}`);
    else if (header !== null && header.capHeader === null) this.error(`${p}/header`, `struct ${c.header} has no "capability-header" role`);
    if (argsz === null || offset === undefined || flag === undefined || flags === undefined || header === null || header.capHeader === null) return null;
    return { offset, flags, flag, header: header as IR.Chain['header'], title: c.title ?? `Capabilities of ${x.name}` };
  }

  /**
   * The fd kinds: the declared ones, then those only an ioctl names. What extends what must name a
   * kind and form no cycle; the C table keeps a kind set in 32 bits.
   */
  private fdKinds(raw: Raw.FdKind[], ioctls: IR.Ioctl[]): IR.FdKind[] {
    const kinds = new Map<string, { doc: string | null; extends: string | null }>();
    raw.forEach((k, i) => {
      if (kinds.has(k.name)) this.error(`/fd-kinds/${i}/name`, `duplicate fd kind ${k.name}`);
      else kinds.set(k.name, { doc: k.doc, extends: k.extends ?? null });
    });
    for (const x of ioctls) if (!kinds.has(x.fd)) kinds.set(x.fd, { doc: null, extends: null });
    raw.forEach((k, i) => {
      if (k.extends === undefined) return;
      if (!kinds.has(k.extends)) { this.error(`/fd-kinds/${i}/extends`, `unknown fd kind ${k.extends}`); return; }
      for (let at: string | null = k.extends, steps = 0; at !== null; at = kinds.get(at)?.extends ?? null, steps++) {
        if (at === k.name || steps > kinds.size) { this.error(`/fd-kinds/${i}/extends`, `fd kind ${k.name} extends itself (through ${k.extends})`); kinds.get(k.name)!.extends = null; break; }
      }
    });
    if (kinds.size > 32) this.error('/fd-kinds', `${kinds.size} fd kinds: the argument table keeps a set of them in 32 bits`);
    const ancestors = (name: string): string[] => { const out: string[] = []; for (let at = kinds.get(name)?.extends ?? null; at !== null; at = kinds.get(at)?.extends ?? null) out.push(at); return out; };
    return [...kinds].map(([name, k]) => ({ name, doc: k.doc, extends: k.extends, accepting: [...kinds.keys()].filter((n) => n === name || ancestors(n).includes(name)) }));
  }

  /** The element types of a flexible byte array counted in elements of another type (a member's "elements"). */
  private elements(s: Raw.Struct, m: Raw.Member, earlier: IR.Member[], count: IR.Member['count'], type: IR.Member['type'], p: string): IR.Member['elements'] {
    const e = m.elements!;
    if (count !== 'flexible' || type.kind !== 'int' || type.size !== 1) { this.error(`${p}/elements`, `${s.name}.${m.name}: only a flexible __u8 array holds elements of another type`); return null; }
    const by = earlier.find((x) => x.name === e.by);
    if (by === undefined || by.count !== null || by.flags === null) { this.error(`${p}/elements/by`, `${e.by} is not an earlier scalar member of struct ${s.name} that carries a flag set`); return null; }
    const types: { bit: IR.FlagBit; size: number }[] = [];
    e.types.forEach((t, i) => {
      const bit = by.flags!.bits.find((b) => b.name === t.flag);
      if (bit === undefined) this.error(`${p}/elements/types/${i}/flag`, `${t.flag} is not a bit of ${by.flags!.name}, the flag set of ${s.name}.${by.name}`);
      else types.push({ bit, size: t.type === 'none' ? 0 : INT_TYPES[t.type as IR.IntTypeName].size });
    });
    return { by, types };
  }

  /** Two ioctls with one number may not reach one fd: the same kind, or one kind extending the other. */
  private uniqueIoctlNumbers(ioctls: IR.Ioctl[], kinds: IR.FdKind[]): void {
    const seen = new Map<string, IR.Ioctl[]>();
    const accepting = (x: IR.Ioctl): string[] => kinds.find((k) => k.name === x.fd)?.accepting ?? [x.fd];
    for (const x of ioctls) {
      const key = `${x.type.value}:${x.nr}`;
      const prev = (seen.get(key) ?? []).find((p) => accepting(p).some((k) => accepting(x).includes(k)));
      if (prev !== undefined) {
        const both = accepting(prev).find((k) => accepting(x).includes(k))!;
        const [bad, other] = prev.origin.kind === 'proposed' && x.origin.kind === 'upstream' ? [prev, x] : [x, prev];
        this.error(`${bad.pointer}/nr`, bad.origin.kind !== other.origin.kind ? this.clash(bad, other, `ioctl number ${x.nr} of type ${x.type.name} on a ${both} fd`)
          : prev.fd === x.fd ? `${x.name} has the same number as ${prev.name} on the ${x.fd} fd` : `${x.name} (${x.fd} fd) has the same number as ${prev.name} (${prev.fd} fd), and a ${both} fd accepts both`);
      }
      seen.set(key, [...(seen.get(key) ?? []), x]);
    }
  }

  /**
   * Lowers the ioctls into the argument table: per ioctl, what the kernel may touch through the
   * argument pointer, and the fd kinds that accept it. ioctl() already refused the encodings that
   * prove nothing (an _IO number without argsz, an argsz struct under a sized number, a flexible
   * array under a sized number); uniqueIoctlNumbers made (fd kind, request) a key.
   */
  private lowerIoctlArgs(ioctls: IR.Ioctl[], kinds: IR.FdKind[]): IR.IoctlArg[] {
    const table: IR.IoctlArg[] = [];
    for (const x of ioctls) {
      const fds = kinds.find((k) => k.name === x.fd)!.accepting;
      const guarded = this.guarded(x, ioctls);
      const a = x.argument;
      if (a.kind === 'none') table.push({ kind: 'none', ioctl: x, fds, guarded, size: 0 });
      else if (a.kind === 'value') table.push({ kind: 'value', ioctl: x, fds, guarded, size: a.type.size, signed: a.type.signed });
      else if (a.kind === 'pointer') table.push({ kind: 'scalar', ioctl: x, fds, guarded, size: a.type.size, type: a.type });
      else if (a.kind === 'string') table.push({ kind: 'string', ioctl: x, fds, guarded, size: 0 });
      else if (x.argsz !== null) table.push({ kind: 'argsz', ioctl: x, fds, guarded, struct: a.struct, size: a.struct.size, argsz: x.argsz });
      else if (x.encoding !== 'IO') table.push({ kind: 'fixed', ioctl: x, fds, guarded, struct: a.struct, size: a.struct.size });
    }
    return table;
  }

  /** Spec.ioctlHeaders: the imported specs' headers the argument table names, each guarded when all its entries are. */
  private ioctlHeaders(table: IR.IoctlArg[]): IR.Spec['ioctlHeaders'] {
    return this.files.filter((f) => f in this.headers).flatMap((f) => {
      const entries = table.filter((a) => a.ioctl.spec === f);
      const u = this.headers[f]!;
      return entries.length === 0 ? [] : [{ header: u.header, guarded: entries.every((a) => a.guarded), uapi: { ...u, guard: u.guard ?? defaultGuard(u.header) }, spec: f }];
    });
  }

  /**
   * Whether C may name an upstream element only under #ifdef of its macro: the upstream definitions
   * come from the system's headers (uapi.emit proposed), which may be as old as the oldest of the
   * spec's upstream ioctls, and the element is newer.
   */
  private guarded(x: { origin: IR.Origin }, ioctls: IR.Ioctl[]): boolean {
    const since = (o: IR.Origin): number | null => (o.kind === 'upstream' ? kernelOrder(o.kernel) : null);
    const oldest = Math.min(...ioctls.map((y) => since(y.origin) ?? Infinity));
    return (this.raw.uapi.emit ?? 'all') === 'proposed' && (since(x.origin) ?? -Infinity) > oldest;
  }

  private capability(c: Raw.Capability, pointer: string, ioctls: IR.Ioctl[]): IR.Capability | null {
    const info = ioctls.find((x) => x.name === c.info);
    if (info === undefined) this.error(`${pointer}/info`, `unknown ioctl ${c.info}`);
    else if (info.chain === null) this.error(`${pointer}/info`, `${c.info} declares no capability chain (add "chain" to the ioctl)`);
    const struct = c.struct !== undefined ? this.structRef(c.struct, `${pointer}/struct`) : null;
    const header = info?.chain?.header;
    if (struct !== null && header !== undefined && struct !== header) {
      const first = struct.members[0]!;
      if (first.type.kind !== 'struct' || first.type.struct !== header) this.error(`${pointer}/struct`, `struct ${struct.name} must start with struct ${header.name}, the header of ${info!.name}'s chain`);
    }
    this.defineMacro(c.name, `${pointer}/name`, BigInt(c.id), 'capability');
    const provisional = this.provisional(c, pointer, true);
    if (info === undefined) return null;
    const o = this.origin(c.origin, pointer);
    return { pointer, name: c.name, id: c.id, version: c.version, struct, info, deprecated: c.deprecated === true, guarded: this.guarded({ origin: o }, ioctls), doc: c.doc, spec: this.fileOf(pointer), origin: o, provisional };
  }

  private stateRecord(r: Raw.StateRecord, pointer: string): IR.StateRecord {
    this.unique(r.fields.map((f, i) => ({ ...f, pointer: `${pointer}/fields/${i}/name` })), (f) => f.name, (f) => `duplicate field ${f.name} in ${r.name}`);
    return { name: r.name, doc: r.doc, fields: r.fields };
  }

  private validator(v: Raw.Validator, pointer: string, state: NonNullable<IR.Spec['state']>): IR.Validator | null {
    const request = this.structRef(v.request, `${pointer}/request`);
    if (request === null) return null;
    const bindings: string[] = [];
    const widthOf = (t: 'u32' | 'u64' | 'bool'): 1 | 32 | 64 => (t === 'bool' ? 1 : t === 'u32' ? 32 : 64);

    const operand = (o: Raw.Operand, p: string): IR.Operand | null => {
      if (typeof o === 'boolean') return { kind: 'literal', value: o };
      if (typeof o === 'number') return { kind: 'literal', value: BigInt(o) };
      const dot = o.indexOf('.');
      if (dot >= 0) {
        const scope = o.slice(0, dot);
        const field = o.slice(dot + 1);
        if (scope === 'req') {
          const m = request.members.find((mm) => mm.name === field);
          if (m === undefined || m.type.kind !== 'int' || m.count !== null) { this.error(p, `struct ${request.name} has no integer member ${field}`); return null; }
          if (m.union !== null) { this.error(p, `${request.name}.${field} is a union member: which member the bytes hold is not known to a rule`); return null; }
          if (m.type.littleEndian) { this.error(p, `${request.name}.${field} is ${m.type.name}: a rule compares native values, and C would have to convert it with le*_to_cpu first`); return null; }
          return { kind: 'request', member: m, width: m.type.size === 8 ? 64 : 32 };
        }
        const record = scope === 'dev' ? state.device : bindings.includes(scope) ? state.region : null;
        if (record === null) { this.error(p, `unknown name ${scope}: expected req, dev or a region bound by an earlier lookup rule`); return null; }
        const f = record.fields.find((ff) => ff.name === field);
        if (f === undefined) { this.error(p, `${record.name} has no field ${field}`); return null; }
        return scope === 'dev' ? { kind: 'device', field: f, width: widthOf(f.type) } : { kind: 'region', binding: scope, field: f, width: widthOf(f.type) };
      }
      const fs = this.flagsets.get(o);
      if (fs !== undefined) return { kind: 'constant', name: o, value: fs.mask, source: 'flagset' };
      const macro = this.macros.get(o);
      if (macro === undefined || macro.source === 'ioctl' || macro.source === 'capability' || macro.source === 'feature') {
        this.error(p, `unknown constant, flag or flag set ${o}`);
        return null;
      }
      if (macro.source === 'string' || macro.value < 0n) { this.error(p, `${o} is ${macro.source === 'string' ? 'a string constant' : `negative (${macro.value})`}: a rule compares unsigned numbers`); return null; }
      return { kind: 'constant', name: o, value: macro.value, source: macro.source };
    };
    const numeric = (op: IR.Operand | null, p: string): IR.Operand | null => {
      if (op !== null && (('width' in op && op.width === 1) || (op.kind === 'literal' && typeof op.value === 'boolean'))) { this.error(p, 'expected a number, got a boolean'); return null; }
      return op;
    };
    const boolean = (op: IR.Operand | null, p: string): IR.Operand | null => {
      if (op !== null && !('width' in op && op.width === 1)) { this.error(p, 'expected a bool state field'); return null; }
      return op;
    };

    const check = (c: Raw.Check, p: string): IR.Check | null => {
      if ('zero' in c) { const v = numeric(operand(c.zero, `${p}/zero`), `${p}/zero`); return v && { kind: 'zero', value: v }; }
      if ('nonzero' in c) { const v = numeric(operand(c.nonzero, `${p}/nonzero`), `${p}/nonzero`); return v && { kind: 'nonzero', value: v }; }
      if ('false' in c) { const v = boolean(operand(c.false, `${p}/false`), `${p}/false`); return v && { kind: 'false', value: v }; }
      if ('bits' in c) {
        const a = numeric(operand(c.bits, `${p}/bits`), `${p}/bits`);
        const w = numeric(operand(c.within, `${p}/within`), `${p}/within`);
        return a && w && { kind: 'bits', value: a, within: w };
      }
      if ('has' in c) {
        const a = numeric(operand(c.has, `${p}/has`), `${p}/has`);
        const flag = this.flagBits.get(c.flag);
        if (flag === undefined) this.error(`${p}/flag`, `unknown flag ${c.flag}`);
        return a && flag ? { kind: 'has', value: a, flag } : null;
      }
      if ('aligned' in c) {
        const a = numeric(operand(c.aligned, `${p}/aligned`), `${p}/aligned`);
        const to = numeric(operand(c.to, `${p}/to`), `${p}/to`);
        return a && to && { kind: 'aligned', value: a, to };
      }
      if ('lt' in c) {
        const l = numeric(operand(c.lt[0], `${p}/lt/0`), `${p}/lt/0`);
        const r = numeric(operand(c.lt[1], `${p}/lt/1`), `${p}/lt/1`);
        return l && r && { kind: 'lt', left: l, right: r };
      }
      if ('lookup' in c) {
        const idx = numeric(operand(c.lookup, `${p}/lookup`), `${p}/lookup`);
        if (bindings.includes(c.as) || c.as === 'req' || c.as === 'dev' || c.as === 'new') { this.error(`${p}/as`, `name ${c.as} is already taken`); return null; }
        bindings.push(c.as);
        return idx && { kind: 'lookup', index: idx, binding: c.as };
      }
      const off = numeric(operand(c.offset, `${p}/offset`), `${p}/offset`);
      const size = numeric(operand(c.size, `${p}/size`), `${p}/size`);
      const lim = numeric(operand(c.within, `${p}/within`), `${p}/within`);
      return off && size && lim && { kind: 'within', offset: off, size, limit: lim };
    };

    const rules: IR.Rule[] = [];
    v.rules.forEach((r, i) => {
      const p = `${pointer}/rules/${i}`;
      if (rules.some((x) => x.name === r.rule)) this.error(`${p}/rule`, `duplicate rule ${r.rule} in validator ${v.name}`);
      const c = check(r.check, `${p}/check`);
      if (c !== null) rules.push({ pointer: p, name: r.rule, doc: r.doc, errno: r.errno, check: c });
    });

    const expr = (e: Raw.Expr, p: string): IR.Expr | null => {
      if (typeof e === 'object' && e !== null && 'or' in e) {
        const terms = e.or.map((t, i) => expr(t, `${p}/or/${i}`));
        return terms.every((t) => t !== null) ? { kind: 'or', terms: terms as IR.Expr[] } : null;
      }
      if (typeof e === 'object' && e !== null && 'and' in e) {
        const terms = e.and.map((t, i) => expr(t, `${p}/and/${i}`));
        return terms.every((t) => t !== null) ? { kind: 'and', terms: terms as IR.Expr[] } : null;
      }
      return operand(e as Raw.Operand, p);
    };
    let creates = false;
    const effects: IR.Effect[] = [];
    const assigned = new Set<string>();
    v.effects.forEach((e, i) => {
      const p = `${pointer}/effects/${i}`;
      const [scope, field] = e.set.split('.') as [string, string];
      let target: IR.EffectTarget | null = null;
      if (scope === 'req') {
        const m = request.members.find((mm) => mm.name === field);
        if (m === undefined || m.type.kind !== 'int' || m.count !== null) this.error(`${p}/set`, `struct ${request.name} has no integer member ${field}`);
        else if (m.dir === 'in') this.error(`${p}/set`, `${request.name}.${field} is an input member and cannot be written`);
        else if (m.union !== null) this.error(`${p}/set`, `${request.name}.${field} is a union member: an effect would overwrite the others`);
        else if (m.type.littleEndian) this.error(`${p}/set`, `${request.name}.${field} is ${m.type.name}: an effect writes a native value, which C would have to convert with cpu_to_le* first`);
        else target = { kind: 'request', member: m };
      } else {
        const f = state.region.fields.find((ff) => ff.name === field);
        if (f === undefined) this.error(`${p}/set`, `${state.region.name} has no field ${field}`);
        else if (scope === 'new') { creates = true; target = { kind: 'new', field: f }; }
        else if (bindings.includes(scope)) target = { kind: 'region', binding: scope, field: f };
        else this.error(`${p}/set`, `unknown name ${scope}: expected req, new or a bound region`);
      }
      if (assigned.has(e.set)) this.error(`${p}/set`, `${e.set} is set twice`);
      assigned.add(e.set);
      const value = expr(e.to, `${p}/to`);
      if (target !== null && value !== null) effects.push({ target, value });
    });
    return { pointer, name: v.name, doc: v.doc, request, rules, effects, bindings, creates };
  }

  private feature(f: Raw.Feature, pointer: string, validators: IR.Validator[]): IR.Feature {
    const op = (o: Raw.FeatureOp | undefined, p: string): IR.FeatureOp | null => {
      if (o === undefined) return null;
      const payload = o.payload !== undefined ? this.structRef(o.payload, `${p}/payload`) : null;
      const validator = o.validator !== undefined ? validators.find((v) => v.name === o.validator) ?? null : null;
      if (o.validator !== undefined && validator === null) this.error(`${p}/validator`, `unknown validator ${o.validator}`);
      if (validator !== null && payload !== null && validator.request !== payload)
        this.error(`${p}/validator`, `validator ${validator.name} checks struct ${validator.request.name}, not the payload ${payload.name}`);
      return { payload, validator, doc: o.doc, returns: o.returns ?? null, errors: o.errors ?? [] };
    };
    this.defineMacro(f.name, `${pointer}/name`, BigInt(f.number), 'feature');
    return {
      pointer, name: f.name, number: f.number, doc: f.doc, spec: this.fileOf(pointer), origin: this.origin(f.origin, pointer), provisional: this.provisional(f, pointer, true),
      get: op(f.ops.get, `${pointer}/ops/get`), set: op(f.ops.set, `${pointer}/ops/set`),
    };
  }
}
