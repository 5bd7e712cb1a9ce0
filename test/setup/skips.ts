import type { Reporter, TestModule, Vitest } from 'vitest/node';

/**
 * Lists every skipped test with its reason after the run: the default reporter only counts them.
 * The reason is the note of ctx.skip(note), or the test's name, which says it for a test skipped by
 * skipIf ("... (skipped: why)").
 */
export default class SkipReasons implements Reporter {
  /** Under -t, the tests the pattern leaves out count as skipped too: list only those skipped with a note then. */
  #filtered = false;

  onInit(vitest: Vitest): void {
    this.#filtered = vitest.config.testNamePattern !== undefined;
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const lines = modules.flatMap((m) => [...m.children.allTests('skipped')].flatMap((t) => {
      const r = t.result();
      const note = r.state === 'skipped' && r.note !== undefined && r.note !== '' ? r.note : null;
      if (note === null && this.#filtered) return [];
      return [`  ${m.moduleId.replace(`${process.cwd()}/`, '')} > ${t.fullName}${note !== null ? `: ${note}` : ''}`];
    }));
    if (lines.length > 0) process.stdout.write(`\nskipped (${lines.length}):\n${lines.join('\n')}\n`);
  }
}
