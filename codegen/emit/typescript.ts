import type { GeneratedFile } from './file.js';
import type { Spec } from '../ir.js';

export function emitTypeScript(_spec: Spec): GeneratedFile[] {
  return [];
}
