import type { GeneratedFile } from './file.js';
import type { Spec } from '../ir.js';

export function emitAssemblyScript(_spec: Spec): GeneratedFile[] {
  return [];
}
