import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compileAs, MMIO_ASC_FLAGS } from './asc.js';
import { MMIO_INTERFACE, type MmioHost } from './mmio.js';
import type { WasmMemory } from './device.js';
import { ROOT } from './paths.js';

/**
 * A wasm driver as a WebAssembly component, built from any guest against the shipped WIT
 * (runtime/wit/vfio-subregion.wit): the core module imports the host functions under the WIT
 * interface's own names (the generated accessor declares them so), so nothing is renamed; the
 * builder embeds a world that includes one of the shipped worlds, adds the guest's exports and a
 * trap interface (the abort message of an AssemblyScript guest), makes the component and
 * transpiles it with jco (instantiation 'async'). The host binds its MmioHost to the core module's
 * memory in jco's instantiateCore hook, so windows are mapped into the component's core memory and
 * the hot path stays plain wasm stores.
 *
 * jco's componentEmbed needs @bytecodealliance/preview2-shim 0.26.0 (a later one panics): this
 * package pins it with an npm override; a project of its own pins it the same way.
 */

/** The interface the builder adds for the abort message: the core module imports it as "trap" "abort". */
export const TRAP_INTERFACE = 'trap';

export interface ComponentOptions {
  /** Component name (kebab-case): the transpiled files are NAME.js, NAME.d.ts, NAME.core*.wasm. */
  name: string;
  /** Where the transpiled component goes. */
  outDir: string;
  /** An AssemblyScript entry (compiled with compileAs, its abort reported through the trap interface)... */
  entry?: string;
  /** ...or a core module's bytes (a hand-written WAT guest, parsed with jco.parse or wabt). */
  binary?: Uint8Array;
  /** A relative entry's directory (compileAs's baseDir). */
  baseDir?: string;
  /** A world of the shipped WIT the component includes (default "guest"). */
  world?: string;
  /**
   * The guest's exports as WIT (e.g. `export run: func(n: u32) -> s64;`): single-word names, since
   * an AssemblyScript export cannot contain '-'.
   */
  exports: string;
  /** asc flags for `entry` (default -O3 --noAssert and the MMIO flags). */
  flags?: string[];
}

export interface BuiltComponent {
  name: string;
  /** The directory of the transpiled files. */
  dir: string;
  /** The component's bytes. */
  component: Uint8Array;
}

type Jco = {
  componentEmbed(o: { binary: Uint8Array; witSource: string; world: string; stringEncoding: 'utf8' | 'utf16' }): Promise<Uint8Array>;
  componentNew(b: Uint8Array): Promise<Uint8Array>;
  transpile(b: Uint8Array, o: { name: string; instantiation: 'async'; map: Record<string, string> }): Promise<{ files: Record<string, Uint8Array> }>;
};

const KEBAB = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** The shipped WIT. */
export function witSource(): string {
  return readFileSync(join(ROOT, 'runtime/wit/vfio-subregion.wit'), 'utf8');
}

/** Builds and transpiles a component from a guest (see ComponentOptions) into options.outDir. */
export async function buildComponent(options: ComponentOptions): Promise<BuiltComponent> {
  const { name, exports } = options;
  if (typeof name !== 'string' || !KEBAB.test(name)) throw new TypeError(`buildComponent: name must be kebab-case (a WIT name), got ${JSON.stringify(name)}`);
  if ((options.entry === undefined) === (options.binary === undefined)) throw new TypeError('buildComponent: give either entry (an AssemblyScript file) or binary (a core module)');
  const wit = witSource();
  const world = options.world ?? 'guest';
  const worlds = [...wit.matchAll(/^world ([a-z][a-z0-9-]*) \{/gm)].map((m) => m[1]!);
  if (!worlds.includes(world)) throw new TypeError(`buildComponent: the shipped WIT has no world ${JSON.stringify(world)} (it has ${worlds.join(', ')})`);
  const binary = options.binary ?? (await compileAs(options.entry!, {
    ...(options.baseDir !== undefined ? { baseDir: options.baseDir } : {}),
    flags: [...(options.flags ?? ['-O3', '--noAssert', ...MMIO_ASC_FLAGS]), '--lib', join(ROOT, 'runtime/assembly/component'), '--use', 'abort=vfio_trap_abort'],
  })).binary;
  const jco = (await import('@bytecodealliance/jco')) as unknown as Jco;
  const own = `${name}-component`;
  const source = `${wit}\nworld ${own} {\n  include ${world};\n  import ${TRAP_INTERFACE}: interface {\n    abort: func(message: string, file: string, line: u32, column: u32);\n  }\n${exports}\n}\n`;
  let component: Uint8Array;
  try {
    const embedded = await jco.componentEmbed({ binary, witSource: source, world: own, stringEncoding: options.entry !== undefined ? 'utf16' : 'utf8' });
    component = await jco.componentNew(embedded);
  } catch (e) {
    throw new Error(`buildComponent ${name}: ${String((e as Error).message ?? e).split('\n')[0]}`);
  }
  // The map makes the transpiled JS read the import by the versioned name its .d.ts declares.
  const { files } = await jco.transpile(component, { name, instantiation: 'async', map: { [MMIO_INTERFACE]: MMIO_INTERFACE } });
  const dir = resolve(options.outDir);
  for (const [file, data] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), data);
  }
  return { name, dir, component };
}

const WA = (globalThis as unknown as { WebAssembly: { compile(b: Uint8Array): Promise<object>; instantiate(m: object, i: object): Promise<{ exports: Record<string, unknown> }> } }).WebAssembly;

/** jco's names for the host functions: map-window -> mapWindow. */
function camel(imports: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(imports).map(([k, v]) => [k.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase()), v]));
}

/**
 * Instantiates a built component with the host's functions (and the trap interface: an abort in
 * the guest throws a RangeError with its message, file, line and column), binding the host to the
 * component's core memory. T types the component's exports (jco names them in camelCase).
 */
export async function instantiateComponent<T extends object = Record<string, unknown>>(built: Pick<BuiltComponent, 'name' | 'dir'>, host: MmioHost): Promise<T> {
  const mod = (await import(pathToFileURL(join(built.dir, `${built.name}.js`)).href)) as {
    instantiate(get: (file: string) => Promise<object>, imports: object, core: (m: object, i: object) => Promise<{ exports: Record<string, unknown> }>): Promise<T>;
  };
  const trap = {
    abort: (message: string, file: string, line: number, column: number): never => { throw new RangeError(`${message} (${file}:${line}:${column})`); },
  };
  return mod.instantiate(
    async (file) => WA.compile(readFileSync(join(built.dir, file))),
    { [MMIO_INTERFACE]: camel(host.imports()), [TRAP_INTERFACE]: trap },
    async (m, imports) => {
      const inst = await WA.instantiate(m, imports);
      if (inst.exports.memory !== undefined) host.bind(inst.exports.memory as WasmMemory);
      return inst;
    },
  );
}
