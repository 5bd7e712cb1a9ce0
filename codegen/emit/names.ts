import type * as IR from '../ir.js';
import { pascal } from './printer.js';

/** A name the generator makes from the spec's name prefix: (uffd, Constants) -> UffdConstants. */
export const prefixed = (spec: IR.Spec, suffix: string): string => pascal(spec.prefix) + suffix;

/** A spec name without the name prefix, for TS/AS names that would repeat it: uffdio_api with prefix uffdio -> api. */
export const unprefixed = (spec: IR.Spec, name: string): string =>
  name.toLowerCase().startsWith(`${spec.prefix}_`) ? name.slice(spec.prefix.length + 1) : name;

/** A provenance note for docs: where the element comes from. */
export function origin(item: { origin: IR.Origin; provisional?: boolean }): string {
  if (item.origin.kind === 'upstream') return `(upstream, Linux ${item.origin.kernel})`;
  return item.provisional === true ? '(proposed; provisional number)' : '(proposed)';
}
