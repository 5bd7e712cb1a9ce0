import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../codegen/paths.js';
import { generate } from '../../codegen/index.js';

/**
 * The commands as a user runs them: the built bin and examples in a child process, from a directory
 * outside the package. Every misuse of issue 11 is one line on stderr with the right exit status,
 * never a stack trace; a spec outside the package generates the same bytes wherever it lives.
 */
const BIN = join(ROOT, 'bin/vfio-subregion.js');
const EXAMPLES = join(ROOT, 'examples/run.mjs');
const work = mkdtempSync(join(tmpdir(), 'vfio-cli-user-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Result { status: number | null; out: string; err: string }

function run(cmd: string, args: string[], cwd = work): Promise<Result> {
  return new Promise((res) => {
    execFile(cmd, args, { cwd, encoding: 'utf8', timeout: 120_000 }, (e, out, err) => res({ status: e === null ? 0 : typeof e.code === 'number' ? e.code : null, out, err }));
  });
}
const cli = (...args: string[]): Promise<Result> => run(process.execPath, [BIN, ...args]);
const example = (...args: string[]): Promise<Result> => run(process.execPath, [EXAMPLES, ...args]);

/** A user's project: the fixture spec (a userfaultfd subset) as spec/mine.json, written as a user would. */
function project(dir: string): string {
  mkdirSync(join(dir, 'spec'), { recursive: true });
  const text = readFileSync(join(ROOT, 'test/fixtures/specs/userfaultfd.json'), 'utf8').replace(/"\$schema":\s*"[^"]*"/, '"$schema": "https://example.org/abi.schema.json"');
  writeFileSync(join(dir, 'spec/mine.json'), text);
  return dir;
}

/** One line on stderr, no stack frame, the expected status. */
function expectOneLine(r: Result, status: number, message: RegExp): void {
  expect({ status: r.status, lines: r.err.split('\n').length }, r.err).toEqual({ status, lines: 2 });
  expect(r.err.trimEnd()).toMatch(message);
  expect(r.err).not.toMatch(/^\s+at /m);
}

describe('vfio-subregion misuse, as a user runs it', () => {
  project(work);
  it.concurrent.each([
    [['generate', '--spec', 'spec/mine.json'], 2, /^vfio-subregion: generate needs --out DIR \(the spec is not one of the package's\)/],
    [['check', '--spec', 'spec/mine.json'], 2, /^vfio-subregion: check needs --out DIR/],
    [['generate', '--spec', 'spec/mine.json', '--out', '/etc/passwd'], 2, /^vfio-subregion: --out \/etc\/passwd: not a directory$/],
    [['generate', '--spec', 'spec/mine.json', '--out', '/proc/vfio-subregion-test'], 1, /^vfio-subregion: cannot create directory \/proc\/vfio-subregion-test: .*\(ENOENT\)$/],
    [['generate', '--help', '--colour'], 0, /^$/],
    [['generate', '--colour'], 2, /^vfio-subregion: unknown option --colour \(options: --spec, --out, --target\)$/],
    [['info', '--device', '/dev/null'], 2, /^vfio-subregion: --device: expected sim, a PCI address \(0000:01:00.0 or 01:00.0\) or \/dev\/vfio\/devices\/vfioN, got "\/dev\/null"$/],
    [['info', '--device', '99:00.0'], 2, /^vfio-subregion: cannot open 0000:99:00\.0: no such PCI device \(lspci -D lists the addresses\) \(ENODEV\)$/],
    [['info', '--devise', 'sim'], 2, /^vfio-subregion: unknown option --devise \(options: --device, --json\)$/],
    [['demo', 'now'], 2, /^vfio-subregion: unexpected argument "now"$/],
    [['frobnicate'], 2, /^vfio-subregion: unknown command "frobnicate" \(commands: generate, check, validate, help, info, demo\)$/],
  ])('vfio-subregion %j', async (args, status, message) => {
    const r = await cli(...(args as string[]));
    if (status === 0) expect(r.status).toBe(0);
    else expectOneLine(r, status as number, message as RegExp);
  });

  it('info names the device once: the lspci short address is the full one', async () => {
    const r = await cli('info', '--device', '99:00.0');
    expect(r.err.match(/99:00\.0/g)).toHaveLength(1);
  });

  it('--version, --help, COMMAND --help and help COMMAND for every command', async () => {
    expect((await cli('--version')).out).toMatch(/^vfio-subregion \d+\.\d+\.\d+\n$/);
    const overview = await cli('--help');
    for (const c of ['generate', 'check', 'validate', 'help', 'info', 'demo']) {
      expect(overview.out).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
      const [a, b] = await Promise.all([cli(c, '--help'), cli('help', c)]);
      expect({ status: a.status, err: a.err }, c).toEqual({ status: 0, err: '' });
      expect(a.out, c).toMatch(new RegExp(`^usage: vfio-subregion ${c}\\b`));
      expect(b.out, c).toBe(a.out);
    }
  });

  it('a reader that goes away (| head -1) ends the output quietly', async () => {
    const r = await run('sh', ['-c', `"${process.execPath}" "${BIN}" generate --spec spec/mine.json --out gen-pipe | head -1`]);
    expect(r).toEqual({ status: 0, out: 'wrote     include/linux/userfaultfd_abi.h\n', err: '' });
  });

  it('an example whose reader goes away (| head -1) ends quietly', async () => {
    const r = await run('bash', ['-c', `"${process.execPath}" "${EXAMPLES}" region-info | head -1; echo "status \${PIPESTATUS[0]}"`]);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^device simulator: subregion yes.*\nstatus 0\n$/);
  });
});

describe('generate and check with a spec outside the package', () => {
  it('write only under --out; the bytes do not depend on where spec and output live or where it runs', async () => {
    const a = project(join(work, 'a'));
    const b = join(work, 'elsewhere/b');
    cpSync(a, b, { recursive: true });
    const [ra, rb] = await Promise.all([
      run(process.execPath, [BIN, 'generate', '--spec', 'spec/mine.json', '--out', 'gen'], a),
      run(process.execPath, [BIN, 'generate', '--spec', join(b, 'spec/mine.json'), '--out', join(b, 'gen')], ROOT),
    ]);
    expect([ra.status, rb.status], ra.err + rb.err).toEqual([0, 0]);
    const files = (dir: string): string[] => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1)).sort();
    expect(files(a)).toEqual(['gen/as/userfaultfd.ts', 'gen/c/userfaultfd_validate.c', 'gen/c/userfaultfd_validate.h', 'gen/docs/userfaultfd-abi.md', 'gen/include/linux/userfaultfd_abi.h', 'gen/ts/userfaultfd.ts', 'spec/mine.json']);
    for (const f of files(join(a, 'gen'))) expect(readFileSync(join(b, 'gen', f), 'utf8'), f).toBe(readFileSync(join(a, 'gen', f), 'utf8'));
    const ts = readFileSync(join(a, 'gen/ts/userfaultfd.ts'), 'utf8');
    expect(ts).toMatch(/^\/\/ Code generated by vfio-subregion codegen from \.\.\/spec\/mine\.json\. DO NOT EDIT\.$/m);
    expect(ts).toMatch(/^\/\/ Regenerate: vfio-subregion generate --spec \.\.\/spec\/mine\.json --out \. --target typescript$/m);
  });

  it("the package's own spec into another --out: the Regenerate line is the command that regenerates there, and it does", async () => {
    const out = join(work, 'own');
    const spec = join(ROOT, 'spec/vfio-subregion.json');
    expect((await run(process.execPath, [BIN, 'generate', '--spec', spec, '--out', 'own', '--target', 'typescript'])).status).toBe(0);
    const file = join(out, 'runtime/src/generated/vfio-subregion.ts');
    const first = readFileSync(file, 'utf8');
    expect(first).toMatch(/^\/\/ Code generated by vfio-subregion codegen from spec\/vfio-subregion\.json\. DO NOT EDIT\.$/m);
    const line = /^\/\/ Regenerate: (.*)$/m.exec(first)![1]!;
    expect(line).toBe(`vfio-subregion generate --spec ${relative(out, spec)} --out . --target typescript`);
    rmSync(file);
    const again = await run(process.execPath, [BIN, ...line.split(' ').slice(1)], out);
    expect(again.status, again.err).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(first);
  });

  it('the library generate(spec, { out }) gives the bytes the CLI writes there', async () => {
    const p = project(join(work, 'lib'));
    expect((await run(process.execPath, [BIN, 'generate', '--spec', 'spec/mine.json', '--out', 'gen'], p)).status).toBe(0);
    const files = generate(join(p, 'spec/mine.json'), { out: join(p, 'gen') });
    expect(files).toHaveLength(6);
    for (const f of files) expect(f.content, f.path).toBe(readFileSync(join(p, 'gen', f.path), 'utf8'));
  });

  it('check names what is out of date and what is stale, with the commands that fix it; they do', async () => {
    const p = project(join(work, 'c'));
    expect((await run(process.execPath, [BIN, 'generate', '--spec', 'spec/mine.json', '--out', 'gen'], p)).status).toBe(0);
    writeFileSync(join(p, 'gen/ts/userfaultfd.ts'), 'edited\n');
    writeFileSync(join(p, 'gen/ts/old.ts'), '// Code generated by vfio-subregion codegen from ../spec/mine.json. DO NOT EDIT.\n');
    const r = await run(process.execPath, [BIN, 'check', '--spec', 'spec/mine.json', '--out', 'gen'], p);
    expect(r.status).toBe(1);
    expect(r.err).toBe([
      'out of date: ts/userfaultfd.ts',
      'stale (no target produces it any more): ts/old.ts',
      'to fix: vfio-subregion generate --spec spec/mine.json --out gen && rm -- gen/ts/old.ts', '',
    ].join('\n'));
    const fix = r.err.split('\n').find((l) => l.startsWith('to fix: '))!.slice('to fix: '.length).replace(/^vfio-subregion/, `"${process.execPath}" "${BIN}"`);
    expect((await run('sh', ['-c', fix], p)).status).toBe(0);
    expect(await run(process.execPath, [BIN, 'check', '--spec', 'spec/mine.json', '--out', 'gen'], p)).toMatchObject({ status: 0, err: '' });
  });
});

describe("the README's commands for your own project", () => {
  it('run as written, with npx, in a project that has the package (linked here; the pack-and-install test installs it)', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const block = /From your own project, with your own spec:\n\n```sh\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toMatch(/^npx vfio-subregion generate --spec spec\/mine\.json --out gen\/$/m);
    const p = project(join(work, 'readme'));
    writeFileSync(join(p, 'package.json'), '{ "name": "app", "private": true }\n');
    mkdirSync(join(p, 'node_modules/.bin'), { recursive: true });
    symlinkSync(ROOT, join(p, 'node_modules/vfio-subregion'));
    symlinkSync('../vfio-subregion/bin/vfio-subregion.js', join(p, 'node_modules/.bin/vfio-subregion'));
    const r = await run('sh', ['-ec', block!], p);
    expect({ status: r.status, err: r.err }).toEqual({ status: 0, err: '' });
    expect(r.out).toMatch(/^spec\/mine\.json: ok .*\n(.*\n)*generated 6 file\(s\) .*\n(.*\n)*generated files are up to date/);
  });
});

describe('examples: arguments checked like the CLI\'s, run from dist/', () => {
  it.concurrent.each([
    [['nic-tx', '--wasii'], /^nic-tx: unknown option --wasii \(options: --wasi, --component, --host-fence, --device\)$/],
    [['nic-tx', '--device', 'eth0'], /^nic-tx: --device: expected sim, a PCI address \(0000:01:00.0 or 01:00.0\) or \/dev\/vfio\/devices\/vfioN, got "eth0"$/],
    [['ring-producer', '--device', '1:2:3'], /^ring-producer: --device: expected sim, a PCI address/],
    [['nic-tx', 'abc'], /^nic-tx: DESCRIPTORS: expected a whole number from 1 to 1000000000, got "abc"$/],
    [['nic-tx', '-5'], /^nic-tx: unknown option -5/],
    [['nic-tx', '0'], /^nic-tx: DESCRIPTORS: expected a whole number from 1 to 1000000000, got "0"$/],
    [['nic-tx', '--wasi', '--component'], /^nic-tx: --wasi and --component exclude each other$/],
    [['ring-producer', '1e3'], /^ring-producer: RECORDS: expected a whole number/],
    [['ring-producer', '10', '20'], /^ring-producer: unexpected argument "20"$/],
    [['region-info', 'bogus'], /^region-info: DEVICE: expected sim, a PCI address \(0000:01:00.0 or 01:00.0\) or \/dev\/vfio\/devices\/vfioN, got "bogus"$/],
  ])('%j', async (args, message) => {
    expectOneLine(await example(...(args as string[])), 2, message as RegExp);
  });

  it('region-info takes the lspci short address (and fails on one line when there is no such device)', async () => {
    expectOneLine(await example('region-info', '99:00.0'), 1, /^region-info: openDevice: 0000:99:00\.0: no such PCI device/);
  });

  it('nic-tx and ring-producer on a device that is not there fail on one line', async () => {
    expectOneLine(await example('nic-tx', '10', '--device', '99:00.0'), 1, /^nic-tx: openDevice: 0000:99:00\.0: no such PCI device/);
    expectOneLine(await example('ring-producer', '--device', '0000:99:00.0'), 1, /^ring-producer: openDevice: 0000:99:00\.0: no such PCI device/);
  });

  it('an example that is not built is one line naming the fix', async () => {
    expectOneLine(await example('no-such-example'), 1, /^example no-such-example: .*dist\/examples\/no-such-example\/main\.js is missing: run `npm run build` first$/);
  });

  it('each prints its summary', async () => {
    const [nic, ring, info] = await Promise.all([example('nic-tx', '2000'), example('ring-producer', '2000'), example('region-info')]);
    expect({ status: nic.status, err: nic.err }).toEqual({ status: 0, err: '' });
    expect(nic.out).toMatch(/^nic-tx \(core module\): 2000 descriptors .*\n(.*\n)*  device model: consumed 2000, every descriptor in order and intact\n/);
    expect({ status: ring.status, err: ring.err }).toEqual({ status: 0, err: '' });
    expect(ring.out).toMatch(/^ring-producer: 2000 records .* every record intact and in order\n$/);
    expect({ status: info.status, err: info.err }).toEqual({ status: 0, err: '' });
    expect(info.out).toMatch(/^device simulator: subregion yes/);
  });
});
