import type { GeneratedFile } from './file.js';
import type { Spec } from '../ir.js';

export function emitMarkdown(_spec: Spec): GeneratedFile[] {
  return [];
}
