import { readFileSync } from 'node:fs';
import { findNodeAtLocation, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { SpecError, type Diagnostic } from './diagnostics.js';

/** A JSON document together with the positions of its values, for error messages. */
export interface JsonSource {
  file: string;
  value: unknown;
  /** Diagnostic for the value at `pointer` (or the nearest existing parent). */
  at(pointer: string, message: string): Diagnostic;
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}

function decodePointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Parses strict JSON (no comments, no trailing commas); throws SpecError with positions. */
export function parseJsonText(file: string, text: string): JsonSource {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  if (errors.length > 0 || root === undefined) {
    // Only the first syntax error: the ones after it are usually its echoes.
    const first = errors[0];
    throw new SpecError([first !== undefined
      ? { file, ...lineColumn(text, first.offset), pointer: '', message: `invalid JSON: ${printParseErrorCode(first.error)}` }
      : { file, line: 1, column: 1, pointer: '', message: 'invalid JSON: empty document' }]);
  }
  const value: unknown = JSON.parse(text);
  const at = (pointer: string, message: string): Diagnostic => {
    const path = decodePointer(pointer).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
    let node: Node | undefined;
    for (let n = path.length; n >= 0 && node === undefined; n--) node = findNodeAtLocation(root, path.slice(0, n));
    // A property's value node: point at its key, which is where an editor puts the cursor.
    const target = node?.parent?.type === 'property' ? node.parent : node;
    const { line, column } = lineColumn(text, target?.offset ?? 0);
    return { file, line, column, pointer, message };
  };
  return { file, value, at };
}

export function readJsonFile(file: string, displayName = file): JsonSource {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new SpecError([{ file: displayName, line: 0, column: 0, pointer: '', message: `cannot read: ${err.code ?? err.message}` }]);
  }
  return parseJsonText(displayName, text);
}
