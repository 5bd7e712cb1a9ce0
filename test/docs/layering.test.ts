import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../codegen/paths.js';

/**
 * Dependencies point one way: the runtime (what apps import) loads nothing of the generator, the
 * examples, the CLI or the tools; the generator nothing of the runtime.
 */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*)'(\.{1,2}\/[^']+)'/g)].map((m) => relative(ROOT, resolve(file, '..', m[1]!)));
}

describe('layering', () => {
  const cases: [string, string[]][] = [
    ['runtime/src', ['codegen/', 'examples/', 'cli/', 'tools/', 'test/']],
    ['codegen', ['runtime/', 'examples/', 'cli/', 'tools/', 'test/']],
  ];
  for (const [dir, forbidden] of cases) {
    it(`${dir} imports none of ${forbidden.join(', ')}`, () => {
      const files = sources(resolve(ROOT, dir));
      expect(files.length).toBeGreaterThan(3);
      const bad = files.flatMap((f) => imports(f).filter((p) => forbidden.some((x) => p.startsWith(x))).map((p) => `${relative(ROOT, f)} -> ${p}`));
      expect(bad).toEqual([]);
    });
  }
});
