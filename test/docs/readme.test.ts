import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../codegen/paths.js';

/**
 * Every TypeScript snippet of the README runs as written: compiled as it stands (no edits), run from
 * the repository root in its own process against the built package, exit status 0 and no signal.
 */
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const snippets = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m, i) => ({
  line: readme.slice(0, m.index).split('\n').length + 1,
  code: m[1]!,
  i,
}));

describe('README snippets', () => {
  it('has snippets to run', () => expect(snippets.length).toBeGreaterThanOrEqual(3));
  for (const s of snippets) {
    it(`the snippet at README.md:${s.line} runs`, () => {
      const js = ts.transpileModule(s.code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
      const file = join(ROOT, `.readme-snippet-${process.pid}-${s.i}.mjs`);
      writeFileSync(file, js);
      try {
        // node:wasi's ExperimentalWarning is Node's own, not the snippet's: a guest's WASI mode needs it.
        const r = spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', file], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
        expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
      } finally {
        rmSync(file, { force: true });
      }
    });
  }
});
