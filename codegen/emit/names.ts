import type * as IR from '../ir.js';
import { pascal } from './printer.js';

/** A name the generator makes from the spec's name prefix: (uffd, Constants) -> UffdConstants. */
export const prefixed = (spec: IR.Spec, suffix: string): string => pascal(spec.prefix) + suffix;

/** A spec name without the name prefix, for TS/AS names that would repeat it: uffdio_api with prefix uffdio -> api. */
export const unprefixed = (spec: IR.Spec, name: string): string =>
  name.toLowerCase().startsWith(`${spec.prefix}_`) ? name.slice(spec.prefix.length + 1) : name;

/** A provenance note for docs: where the element comes from. */
export function origin(item: { origin: IR.Origin; provisional?: boolean }): string {
  if (item.origin.kind === 'upstream') return `(upstream, Linux ${item.origin.kernel})${versionValues(item)}`;
  return item.provisional === true ? '(proposed; provisional number)' : '(proposed)';
}

/**
 * For a number whose value changed between kernel versions, a note naming them all (the targets
 * print the newest): " (value 1 from 6.12, 2 from 7.2: the newest is used here)"; else "".
 */
export function versionValues(item: { origin: IR.Origin }): string {
  const o = item.origin;
  if (o.kind !== 'upstream' || o.values === undefined) return '';
  return ` (value ${o.values.map((v) => `${v.value} from ${v.kernel}`).join(', ')}: the newest is used here)`;
}

/**
 * A feature's name without the feature ioctl's name it repeats (else without the name prefix), for
 * the TS/AS names of its argument codecs: FOO_FEATURE_BAR of the ioctl FOO_FEATURE -> BAR.
 */
export function featureStem(spec: IR.Spec, f: IR.Feature): string {
  const ioctl = spec.featureIoctl?.ioctl.name;
  return ioctl !== undefined && f.name.startsWith(`${ioctl}_`) ? f.name.slice(ioctl.length + 1) : unprefixed(spec, f.name);
}
