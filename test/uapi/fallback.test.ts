/**
 * The fallback headers the c-header target writes (native/include/fallback/linux/iommufd.h): the
 * addon is built with -idirafter on that folder, so where the build machine has no <linux/iommufd.h>
 * (Debian 12's 6.1 headers) the generated copy stands in for it. It must BE the upstream header to
 * the compiler: its facts (every struct's size, alignment and member offsets, every macro's and
 * enum member's value, per data model: test/uapi/facts.ts) equal those of the real 7.3 header.
 * And a 6.1-header build of the ioctl table with the folder after the system's has the iommufd rows.
 */
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../codegen/load.js';
import { DATA_MODELS, extract, fetchVersions, unavailable, type Facts, type HeaderVersion } from './facts.js';

const FALLBACK = join(ROOT, 'native/include/fallback');
const real = fetchVersions(['7.3']).ok[0];

/** An include root whose usr/include is the fallback folder, as facts.ts takes a version's headers. */
function fallbackRoot(): HeaderVersion {
  const root = mkdtempSync(join(tmpdir(), 'vfio-fallback-'));
  mkdirSync(join(root, 'usr'));
  symlinkSync(FALLBACK, join(root, 'usr/include'));
  return { version: 'fallback', packageVersion: 'generated', root, fetchSeconds: 0 };
}

/**
 * What the compiler says, without how the source spells it: macro bodies, and the order of members
 * at one offset (the spec lists a union's older member first: iommu_hw_info's out_data_type, which
 * 7.2's in_data_type shares with, comes after it upstream).
 */
function numbers(f: Facts): unknown {
  const byOffset = (s: Facts['structs'][number]): unknown => ({ ...s, members: [...s.members].sort((a, b) => a.offset - b.offset || a.name.localeCompare(b.name)) });
  return {
    structs: [...f.structs].sort((a, b) => a.name.localeCompare(b.name)).map(byOffset),
    enums: [...f.enums].sort((a, b) => a.name.localeCompare(b.name)),
    enumMembers: [...f.enumMembers].sort((a, b) => a.name.localeCompare(b.name)),
    macros: f.macros.map((m) => ({ name: m.name, value: m.value, bytes: m.bytes, ioctl: m.ioctl })).sort((a, b) => a.name.localeCompare(b.name)),
  };
}

describe('the generated fallback <linux/iommufd.h>', () => {
  for (const arch of DATA_MODELS) {
    const why = real === undefined ? 'the 7.3 uapi headers could not be fetched (test/uapi/fetch.sh)' : unavailable(arch);
    it.skipIf(why !== null)(`is the real 7.3 header to the compiler (${arch})${why !== null ? ` — skipped: ${why}` : ''}`, () => {
      const want = extract('linux/iommufd.h', real!, arch);
      const got = extract('linux/iommufd.h', fallbackRoot(), arch, { fresh: true });
      expect(got.structs.length).toBeGreaterThan(30);
      expect(numbers(got)).toEqual(numbers(want));
    });
  }

  it('gives a build on the system headers the iommufd rows of the ioctl table (-idirafter)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vfio-fallback-table-'));
    const src = join(dir, 't.c');
    writeFileSync(src, [
      '#include <stdio.h>', '#include <string.h>', '#include "vfio_subregion_validate.h"',
      'int main(void)', '{',
      '\tconst struct vfio_subregion_ioctl_arg *a = vfio_subregion_ioctl_arg(VFIO_SUBREGION_FD_IOMMUFD, IOMMU_IOAS_MAP);',
      '\tprintf("%s %zu %zu\\n", a ? a->name : "none", a ? (size_t)a->size : 0, sizeof(struct iommu_ioas_map));',
      '\treturn 0;', '}', ''].join('\n'));
    const exe = join(dir, 't');
    const cc = spawnSync('gcc', ['-std=gnu11', '-Wall', '-Werror', '-I', join(ROOT, 'native/include'), '-I', join(ROOT, 'native/validators'), '-idirafter', FALLBACK,
      src, join(ROOT, 'native/validators/vfio_subregion_validate.c'), '-o', exe], { encoding: 'utf8' });
    expect(cc.stderr).toBe('');
    // struct iommu_ioas_map is 40 bytes in every version of the header (6.12 on: size, flags, ioas_id, __reserved, user_va, length, iova)
    expect(spawnSync(exe, { encoding: 'utf8' }).stdout).toBe('IOMMU_IOAS_MAP 40 40\n');
  });
});
