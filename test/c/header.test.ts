/**
 * The generated C files themselves: deterministic, up to date on disk, kernel-header shaped,
 * only proposed elements in the uapi header, and warning-free with every compiler variant.
 */
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { emitCHeader } from '../../codegen/emit/c-header.js';
import { emitCValidators } from '../../codegen/emit/c-validators.js';
import { GENERATED_MARKER } from '../../codegen/emit/printer.js';
import { loadSpec, ROOT } from '../../codegen/load.js';
import type { Spec } from '../../codegen/ir.js';
import { columns } from '../../codegen/emit/printer.js';
import { compileOnly, unavailable, VARIANTS, workspace } from './cc.js';

let spec: Spec;
let header: string;
beforeAll(() => {
  spec = loadSpec();
  header = emitCHeader(spec)[0]!.content;
});

const defined = (text: string): Set<string> => new Set([...text.matchAll(/^#define\s+(\w+)/gm)].map((m) => m[1]!));

describe('generated C files', () => {
  it('are deterministic', () => {
    expect(emitCHeader(loadSpec())).toEqual(emitCHeader(spec));
    expect(emitCValidators(loadSpec())).toEqual(emitCValidators(spec));
  });

  it('are up to date on disk (run `node bin/vfio-subregion.js generate`)', () => {
    for (const f of [...emitCHeader(spec), ...emitCValidators(spec)]) {
      const path = join(ROOT, f.path);
      expect(existsSync(path), `${f.path} is missing`).toBe(true);
      expect(readFileSync(path, 'utf8') === f.content, `${f.path} is stale`).toBe(true);
    }
  });

  it('the uapi header looks like a kernel uapi header', () => {
    const files = emitCHeader(spec);
    // and the fallback copy of the one imported header the table guards as a whole (test/uapi/fallback.test.ts)
    expect(files.map((f) => f.path)).toEqual(['native/include/linux/vfio_subregion.h', 'native/include/fallback/linux/iommufd.h']);
    const lines = header.split('\n');
    expect(lines[0]).toBe('/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */');
    expect(GENERATED_MARKER.exec(header.slice(0, 512))?.[1]).toBe(spec.file);
    expect(header).toContain('#ifndef _UAPI_LINUX_VFIO_SUBREGION_H\n#define _UAPI_LINUX_VFIO_SUBREGION_H\n');
    expect(header.trimEnd().endsWith('#endif /* _UAPI_LINUX_VFIO_SUBREGION_H */')).toBe(true);
    const includes = [...header.matchAll(/^#include <([^>]+)>/gm)].map((m) => m[1]);
    expect(includes).toEqual(spec.uapi.includes);
    for (const l of lines) {
      // The generated marker is one unbreakable line (GENERATED_MARKER must match it whole).
      if (GENERATED_MARKER.test(l)) continue;
      expect(columns(l), `over 80 columns: ${l}`).toBeLessThanOrEqual(80);
      expect(l, 'indentation uses tabs').not.toMatch(/^ {2,}\S/);
      expect(l).not.toMatch(/\s$/);
    }
    expect(header).toMatch(/^#define VFIO_DEVICE_FEATURE_SUBREGION 15 \/\* provisional \*\/$/m);
    expect(header).toMatch(/^#define VFIO_REGION_ATTR_WC\t\(1 << 0\)$/m);
    expect(header).toMatch(/^ \* struct vfio_device_feature_subregion - /m);
    expect(header).toMatch(/^ \* @parent_index: /m);
    expect(header).toMatch(/^\t__aligned_u64 offset;$/m);
    expect(header).not.toMatch(/\d{4}-\d{2}-\d{2}/);
  });

  it('the uapi header defines every proposed element and no upstream one', () => {
    const defs = defined(header);
    const proposed = (o: { origin: { kind: string } }): boolean => o.origin.kind === 'proposed';
    for (const f of spec.flags) for (const b of f.bits) expect(defs.has(b.name), b.name).toBe(proposed(f));
    for (const c of spec.constants) expect(defs.has(c.name), c.name).toBe(proposed(c));
    for (const c of spec.capabilities) expect(defs.has(c.name), c.name).toBe(proposed(c));
    for (const f of spec.features) expect(defs.has(f.name), f.name).toBe(proposed(f));
    for (const s of spec.structs) expect(header.includes(`struct ${s.name} {`), s.name).toBe(proposed(s));
    for (const c of spec.capabilities.filter((x) => x.provisional)) expect(header).toMatch(new RegExp(`^#define ${c.name} ${c.id} /\\* provisional \\*/$`, 'm'));
  });

  it('the validators expose the documented API', () => {
    const [h, c] = emitCValidators(spec);
    expect(h!.path).toBe('native/validators/vfio_subregion_validate.h');
    expect(c!.path).toBe('native/validators/vfio_subregion_validate.c');
    expect(h!.content).toContain('#ifdef __KERNEL__\n#include <linux/errno.h>\n#include <linux/stddef.h>\n#include <linux/types.h>\n#else\n#include <errno.h>\n#include <stddef.h>\n#include <linux/types.h>\n#endif\n#include <linux/vfio_subregion.h>');
    expect(h!.content).toContain('\tstruct vfio_subregion_region_state *regions;\t/* num_regions entries */');
    expect(h!.content).toContain('\tVFIO_RULE_SUBREGION_CREATE_FLAGS_ZERO,');
    for (const v of spec.validators) {
      expect(h!.content).toContain(`int vfio_check_${v.name}(const struct vfio_subregion_device_state *dev,`);
      expect(h!.content).toContain(`void vfio_apply_${v.name}(const struct vfio_subregion_device_state *dev,`);
    }
    expect(h!.content).toContain('int vfio_region_info_cap_first(const void *buf, __u32 len,');
    expect(h!.content).toContain('const struct vfio_subregion_ioctl_arg *vfio_subregion_ioctl_arg(__u32 fd, unsigned long request);');
    expect(h!.content).toContain('int vfio_subregion_ioctl_arg_size(const struct vfio_subregion_ioctl_arg *a,\n\t\tconst void *arg, size_t len, size_t *out);');
    // No libc: nothing but the headers it includes.
    expect(c!.content).not.toMatch(/\b(memcpy|memset|malloc|printf|strlen)\s*\(/);
    // argsz is fetched once, by one 4-byte copy into a local (no double fetch).
    expect([...c!.content.matchAll(/__builtin_memcpy\(.*\);/g)].map((m) => m[0])).toEqual(['__builtin_memcpy(&argsz, (const __u8 *)arg + a->argsz_offset, sizeof(argsz));']);
    expect([...c!.content.matchAll(/^#include (.+)$/gm)].map((m) => m[1])).toEqual(['"vfio_subregion_validate.h"']);
  });
});

describe('generated C files compile warning-free', () => {
  for (const v of VARIANTS) {
    it(`with ${v.name}`, (ctx) => {
      const why = unavailable(v);
      if (why !== null) ctx.skip(`skipped ${v.name}: ${why}`);
      const ws = workspace(spec, 'vfio-header-');
      // The uapi header alone, then with the validators header, then the validators source.
      const alone = join(ws.dir, 'alone.c');
      writeFileSync(alone, '#include <linux/vfio_subregion.h>\n#include <linux/vfio_subregion.h>\nint vfio_subregion_header_ok(void);\nint vfio_subregion_header_ok(void) { return (int)sizeof(struct vfio_device_feature_subregion); }\n');
      const both = join(ws.dir, 'both.c');
      writeFileSync(both, '#include "vfio_subregion_validate.h"\n#include "vfio_subregion_validate.h"\nint vfio_subregion_both_ok(void);\nint vfio_subregion_both_ok(void) { return VFIO_RULE_NONE; }\n');
      for (const src of [alone, both, ws.validators]) {
        const r = compileOnly(v, src, ws.include);
        expect(r.ok, `${v.name} on ${src}:\n${r.stderr}`).toBe(true);
      }
    });
  }
});
