import type { Reporter, TestModule } from 'vitest/node';

/**
 * Lists every skipped test with its reason after the run: the default reporter only counts them.
 * The reason is the note of ctx.skip(note), or the test's name, which says it for a test skipped by
 * skipIf ("... (skipped: why)").
 */
export default class SkipReasons implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const lines = modules.flatMap((m) => [...m.children.allTests('skipped')].map((t) => {
      const r = t.result();
      const note = r.state === 'skipped' ? r.note : undefined;
      return `  ${m.moduleId.replace(`${process.cwd()}/`, '')} > ${t.fullName}${note !== undefined && note !== '' ? `: ${note}` : ''}`;
    }));
    if (lines.length > 0) process.stdout.write(`\nskipped (${lines.length}):\n${lines.join('\n')}\n`);
  }
}
