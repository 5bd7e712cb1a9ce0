import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, loadSpec } from '../../codegen/load.js';
import { emitKernelPatch } from '../../codegen/emit/kernel-patch.js';

/**
 * The RFC patch applies with `git am` to the upstream header it names, and the patched header alone
 * compiles strictly and defines the proposal. The upstream file is rebuilt from the system's
 * <linux/vfio.h>: headers_install only renames the include guard, line for line.
 */
const SYSTEM = '/usr/include/linux/vfio.h';
const spec = loadSpec();
const patchFile = emitKernelPatch(spec)[0]!;

describe('the kernel patch', () => {
  it('is committed as generated', () => {
    expect(readFileSync(join(ROOT, patchFile.path), 'utf8')).toBe(patchFile.content);
  });

  it.skipIf(!existsSync(SYSTEM))(`applies with git am to the 6.1 uapi header, which then compiles and defines the proposal${existsSync(SYSTEM) ? '' : ` (skipped: no ${SYSTEM})`}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'vfio-patch-'));
    const upstream = readFileSync(SYSTEM, 'utf8').replace(/^(#ifndef|#define) VFIO_H$/gm, '$1 _UAPIVFIO_H').replace('#endif /* VFIO_H */', '#endif /* _UAPIVFIO_H */');
    mkdirSync(join(dir, 'include/uapi/linux'), { recursive: true });
    writeFileSync(join(dir, 'include/uapi/linux/vfio.h'), upstream);
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    git('init', '-q');
    git('add', '.');
    git('commit', '-qm', 'Linux 6.1 uapi');
    writeFileSync(join(dir, 'rfc.patch'), patchFile.content);
    git('am', '-q', 'rfc.patch');
    expect(git('log', '-1', '--format=%s')).toBe(`${spec.uapi.patch!.subject}\n`);
    const patched = readFileSync(join(dir, 'include/uapi/linux/vfio.h'), 'utf8');
    expect(patched.startsWith(upstream.slice(0, upstream.lastIndexOf('#endif')))).toBe(true);
    expect(patched.trimEnd().endsWith('#endif /* _UAPIVFIO_H */')).toBe(true);
    writeFileSync(join(dir, 'use.c'), [
      '#include <linux/vfio.h>',
      '_Static_assert(VFIO_DEVICE_FEATURE_SUBREGION == 15, "feature number");',
      '_Static_assert(VFIO_DEVICE_FEATURE_REGION_ATTRS == 16, "feature number");',
      '_Static_assert(VFIO_REGION_INFO_CAP_SUBREGION == 6 && VFIO_REGION_INFO_CAP_ATTRS == 7, "cap ids");',
      '_Static_assert(VFIO_REGION_ATTR_WC == 1, "attribute bit");',
      '_Static_assert(sizeof(struct vfio_device_feature_subregion) == 32, "layout");',
      '_Static_assert(sizeof(struct vfio_region_info_cap_subregion) == 24, "layout");',
      'int main(void) { return 0; }',
      '',
    ].join('\n'));
    execFileSync('gcc', ['-std=c11', '-Wall', '-Wextra', '-Werror', '-pedantic', '-fsyntax-only', '-I', join(dir, 'include/uapi'), join(dir, 'use.c')], { stdio: ['ignore', 'pipe', 'pipe'] });
  });
});
