import { SpecError } from '../diagnostics.js';
import type { Spec } from '../ir.js';
import { cHeaderPath, uapiDefinitions } from './c-header.js';
import type { GeneratedFile } from './file.js';
import { PACKAGE } from '../package.js';
import { GENERATOR, preamble } from './printer.js';

const SEPARATOR = '/* ***************************************************************** */';

/**
 * The proposal as a kernel developer would post it: a `git format-patch` style RFC that adds the
 * definitions of the generated header to the upstream uapi header, at the place the spec names.
 * `git am` applies it to the kernel version the spec names. A spec without uapi.patch cannot have
 * this target: asking for it is a diagnostic, not an empty result.
 */
export function emitKernelPatch(spec: Spec): GeneratedFile[] {
  const p = spec.uapi.patch;
  if (p === null)
    throw new SpecError([spec.at('/uapi', 'the kernel-patch target needs uapi.patch: the upstream file, kernel version, context lines and commit message of the patch')]);
  const added = [...uapiDefinitions(spec), SEPARATOR, ''];
  const start = p.line - p.context.length + 1;
  const oldCount = p.context.length + 1;
  const slug = p.subject.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  const out = [
    'From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001',
    `From: ${GENERATOR} <${PACKAGE.name}@example.invalid>`,
    `Subject: [PATCH RFC] ${p.subject}`,
    '',
    ...p.body,
    '---',
    ...preamble(spec, 'kernel-patch'),
    `Against Linux ${p.kernel}; the same definitions as ${cHeaderPath(spec)}.`,
    '',
    ` ${p.file} | ${added.length} ${'+'.repeat(Math.min(added.length, 50))}`,
    ` 1 file changed, ${added.length} insertions(+)`,
    '',
    `diff --git a/${p.file} b/${p.file}`,
    `--- a/${p.file}`,
    `+++ b/${p.file}`,
    `@@ -${start},${oldCount} +${start},${oldCount + added.length} @@`,
    ...p.context.map((l) => ` ${l}`),
    ...added.map((l) => `+${l}`),
    ` ${p.before}`,
    '-- ',
    GENERATOR,
    '',
  ];
  return [{ path: `${spec.targets.kernelPatch.dir}/0001-${slug}.patch`, content: out.join('\n') }];
}
