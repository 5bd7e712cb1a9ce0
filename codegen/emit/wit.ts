import { SpecError } from '../diagnostics.js';
import type { Spec } from '../ir.js';
import type { GeneratedFile } from './file.js';
import { preambleComment, witDoc } from './printer.js';

/**
 * The WIT target: the host side of the MMIO accessor as a WebAssembly component interface, so a
 * guest built as a component imports exactly what the core-module guest imports from the spec's
 * mmio.module:
 * the ordering points, the host-call path for every width of the spec's "mmio" section,
 * map-window (the guest's request for a granted window), and what a driver that does DMA and takes
 * interrupts asks of its host: dma-map/dma-unmap of its own memory and irq-enable, whose interrupts
 * the host delivers by calling the guest's export `interrupt` (world driver) from its event loop: a
 * guest on the host's thread cannot block waiting. The hot path (plain loads and stores on a window
 * the host maps into the component's core memory) needs nothing from WIT.
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
  o.push('  map-window: func(slot: u32, at: u32, bytes: u32) -> s32;', '');
  o.push(...witDoc('Asks the host to map bytes of the guest\'s memory from at (both page-aligned) for DMA by its device. Returns the IOVA the device reaches them at, or a negative errno.', '  '));
  o.push('  dma-map: func(at: u32, bytes: u32) -> s64;');
  o.push(...witDoc('Unmaps the DMA mapping dma-map made at at. Returns 0 or a positive errno.', '  '));
  o.push('  dma-unmap: func(at: u32) -> s32;');
  o.push(...witDoc('Asks the host to deliver the interrupts of vectors [start, start + count) of the device\'s IRQ index: it calls the guest\'s export interrupt(vector, count) for each, from its event loop. Returns 0 or a positive errno.', '  '));
  o.push('  irq-enable: func(index: u32, start: u32, count: u32) -> s32;', '}', '');
  o.push('/// A driver guest: it imports the accessor\'s host side; its exports are its own.', 'world guest {', '  import mmio;', '}', '');
  o.push(...witDoc('A driver that takes interrupts: the host calls interrupt(vector, count) once per interrupt (count: signals since the last call of that vector), never while the guest runs.', ''));
  o.push('world driver {', '  include guest;', '  export interrupt: func(vector: u32, count: u32);', '}', '');
  return [{ path: spec.targets.wit.path, content: o.join('\n') }];
}
