import { SpecError } from '../diagnostics.js';
import type { Spec } from '../ir.js';
import type { GeneratedFile } from './file.js';
import { preambleComment, witDoc } from './printer.js';

/**
 * The WIT target: the host side of the MMIO accessor as a WebAssembly component interface, so a
 * guest built as a component imports exactly what the core-module guest imports from the spec's
 * mmio.module:
 * the ordering points, the host-call path for every width of the spec's "mmio" section, and
 * map-window (the guest's request for a granted window). The hot path (plain loads and stores on a
 * window the host maps into the component's core memory) needs nothing from WIT.
 *
 * Names are single lowercase words, the names the AssemblyScript core module imports, unchanged:
 * the spec's mmio.module is this interface's name (package/mmio@version), so the core module's
 * imports already name it and a component build renames nothing. Path and package come from the
 * spec's targets.wit.
 */

/** The interface a component imports: PACKAGE's mmio interface (ns:name@1.0.0 -> ns:name/mmio@1.0.0). */
export function witInterface(spec: Spec): string {
  const [name, version] = spec.targets.wit.package.split('@') as [string, string];
  return `${name}/mmio@${version}`;
}

export function emitWit(spec: Spec): GeneratedFile[] {
  const mm = spec.mmio;
  if (mm === null) throw new SpecError([spec.at('', 'the wit target describes the MMIO accessor: the spec needs an "mmio" section')]);
  const o: string[] = [...preambleComment(spec, 'wit', 'line'), '//', `// WIT for the MMIO accessor of ${spec.name}: the host functions a wasm driver built as a component imports.`, ''];
  o.push(`package ${spec.targets.wit.package};`, '');
  o.push(...witDoc(`${mm.doc} Addresses are linear-memory addresses of the guest's core memory; each host function touches only windows the host mapped there (anything else traps).`, ''));
  o.push('interface mmio {');
  for (const p of mm.ordering) o.push(...witDoc(`${p.doc} window: base address of the window being ordered.`, '  '), `  ${p.name}: func(window: u32);`);
  o.push('');
  for (const w of mm.widths) {
    o.push(`  /// One volatile ${w}-bit read at addr, through the host (never merged or dropped).`, `  read${w}: func(addr: u32) -> u${w};`);
    o.push(`  /// One volatile ${w}-bit write at addr, through the host.`, `  write${w}: func(addr: u32, value: u${w});`);
  }
  o.push('');
  o.push(...witDoc('Asks the host to map the window it grants as slot at linear address at (page-aligned, inside the memory), bytes long. Returns 0 or a positive errno.', '  '));
  o.push('  map-window: func(slot: u32, at: u32, bytes: u32) -> s32;', '}', '');
  o.push('/// A driver guest: it imports the accessor\'s host side; its exports are its own.', 'world guest {', '  import mmio;', '}', '');
  return [{ path: spec.targets.wit.path, content: o.join('\n') }];
}
