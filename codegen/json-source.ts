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

const encodeSegment = (s: string | number): string => String(s).replace(/~/g, '~0').replace(/\//g, '~1');

/** Every key that appears twice in one object, at its second appearance, with the object's pointer. */
function duplicateKeys(node: Node, pointer = ''): { node: Node; pointer: string; key: string }[] {
  const out: { node: Node; pointer: string; key: string }[] = [];
  if (node.type === 'object') {
    const seen = new Set<string>();
    for (const prop of node.children ?? []) {
      const [keyNode, valueNode] = prop.children ?? [];
      if (keyNode === undefined) continue;
      const key = String(keyNode.value);
      if (seen.has(key)) out.push({ node: prop, pointer: `${pointer}/${encodeSegment(key)}`, key });
      seen.add(key);
      if (valueNode !== undefined) out.push(...duplicateKeys(valueNode, `${pointer}/${encodeSegment(key)}`));
    }
  } else if (node.type === 'array') {
    (node.children ?? []).forEach((child, i) => out.push(...duplicateKeys(child, `${pointer}/${i}`)));
  }
  return out;
}

/** Parses strict JSON (no comments, no trailing commas, no key twice in an object); throws SpecError with positions. */
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
  const duplicates = duplicateKeys(root).map(({ node, pointer, key }) => ({
    file, ...lineColumn(text, node.offset), pointer, message: `duplicate key "${key}" (JSON.parse would keep only the last one)`,
  }));
  if (duplicates.length > 0) throw new SpecError(duplicates);
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
