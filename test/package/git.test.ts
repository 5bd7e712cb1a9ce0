import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../codegen/paths.js';
import { appProject, noCompilerEnv, npmInstall, run } from './app.js';

/**
 * The package installed from a git URL on a machine without a C compiler, offline: npm clones it,
 * installs its devDependencies in the clone (from the npm cache) and runs `prepare` there (tsc and
 * the demo's driver), packs it by `files` and installs that, whose install script keeps the
 * committed prebuilt addon; then the app uses it by the package's name.
 */
const work = mkdtempSync(join(tmpdir(), 'vfio-subregion-git-'));
const env = noCompilerEnv(work);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the package from a git URL', () => {
  it('npm install from a git URL, no compiler: npm prepares the clone (tsc builds dist/) and the install keeps the committed prebuilt addon', () => {
    // The checkout as a clone would have it: its tracked and untracked-but-not-ignored files, committed in a repository of their own.
    const repo = join(work, 'repo');
    const files = run('git (ls-files)', 'git', ['ls-files', '-z', '-co', '--exclude-standard'], { cwd: ROOT }).split('\0').filter((f) => f !== '' && existsSync(join(ROOT, f)));
    for (const f of files) cpSync(join(ROOT, f), join(repo, f));
    const git = (...args: string[]): string => run('git (git)', 'git', ['-c', 'user.name=test', '-c', 'user.email=test@example.org', '-c', 'commit.gpgsign=false', ...args], { cwd: repo });
    git('init', '-q');
    git('add', '-A');
    git('commit', '-q', '-m', 'the checkout');
    const gitApp = join(work, 'git-app');
    mkdirSync(gitApp);
    appProject(gitApp, 'git-app', { git: `git+file://${repo}`, commit: git('rev-parse', 'HEAD').trim() }, { type: 'module' });
    const out = npmInstall('git (npm install)', gitApp, env);
    expect(out, 'git: the install script keeps the prebuild').toContain(`native/build.mjs: using the prebuilt addon prebuilds/${process.platform}-${process.arch}/vfio_native.glibc.node\n`);
    const dep = join(gitApp, 'node_modules/vfio-subregion');
    expect(existsSync(join(dep, 'dist/runtime/src/device.js')), 'git: dist/ built by prepare').toBe(true);
    expect(existsSync(join(dep, 'native/build')), 'git: nothing built from source').toBe(false);
    writeFileSync(join(gitApp, 'step.mjs'), `
      import { openDevice } from 'vfio-subregion';
      import { generate } from 'vfio-subregion/codegen';
      const dev = openDevice('sim');
      const n = dev.regions().length;
      dev.close();
      console.log(n, generate('node_modules/vfio-subregion/spec/vfio-subregion.json', { targets: ['c-header'], out: 'gen' })[0].path);
    `);
    expect(run('git (use)', process.execPath, ['step.mjs'], { cwd: gitApp, env })).toBe('9 native/include/linux/vfio_subregion.h\n');
  }, 600_000);
});
