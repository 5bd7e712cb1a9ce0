/** A problem found in a spec (or vector) file, with where it is. */
export interface Diagnostic {
  file: string;
  /** 1-based; 0 when the position is unknown. */
  line: number;
  column: number;
  /** RFC 6901 JSON pointer of the offending value ("" for the document). */
  pointer: string;
  message: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}:${d.column}` : d.file;
  return d.pointer === '' ? `${where}: ${d.message}` : `${where}: ${d.pointer}: ${d.message}`;
}

/** Thrown when a spec cannot be used; carries every diagnostic found. */
export class SpecError extends Error {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.name = 'SpecError';
    this.diagnostics = diagnostics;
  }
}

export function pointerOf(path: readonly (string | number)[]): string {
  return path.map((p) => '/' + String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}
