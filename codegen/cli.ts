import { existsSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseCommandLine, STDIO, UsageError, type Io } from './args.js';
import { SpecError } from './diagnostics.js';
import { checkFiles, defaultTargets, inPackage, OutputError, render, specForOutput, TARGETS, writeFiles } from './generate.js';
import { DEFAULT_SPEC, loadSpec, ROOT } from './load.js';
import { DEFAULT_SPEC_FILE } from './package.js';
import { PACKAGE } from './emit/file.js';

export { STDIO, UsageError, type Io };

const NAME = PACKAGE.name;

/** Each command's help: its synopsis line (the overview lists it) and what follows it. */
const HELP: Record<string, string> = {
  generate: `generate [--spec FILE] [--out DIR] [--target NAME]...
      Writes the files the spec generates under DIR, at the paths its "targets" section names
      (relative to DIR); a file whose content is unchanged is not touched.
      --spec FILE     the spec (default: the package's own, ${DEFAULT_SPEC_FILE})
      --out DIR       the output root; needed unless the spec is the package's own and the package is
                      a git checkout (then the checkout is the root)
      --target NAME   only this target (repeatable): ${Object.keys(TARGETS).join(', ')}`,
  check: `check [--spec FILE] [--out DIR] [--json]
      Exits 1 when generate with the same --spec and --out would change anything: files out of
      date or missing, and stale files (marked as generated from this spec, produced by no target
      any more); prints the commands that fix it. Writes nothing.
      --json          print { ok, changed, stale, fix } on stdout`,
  validate: `validate SPEC [--json]
      Checks a spec (and the specs it imports) against the schema and the resolver's rules; every
      problem is printed as file:line:col: JSON pointer: message.
      --json          print { spec, ok, counts } or { spec, ok, diagnostics } on stdout`,
  help: `help [COMMAND]
      This overview, or one command's help (as COMMAND --help prints it).`,
};

/**
 * The overview. `device` holds the help of the commands the package's binary routes elsewhere
 * (the device commands, which this module knows nothing of), by name.
 */
export function usage(device: Record<string, string> = {}): string {
  const all = { ...HELP, ...device };
  return `usage: ${NAME} <command> [options]      (${NAME} --version, ${NAME} <command> --help)

commands:
${Object.values(all).map((h) => `  ${h.split('\n')[0]}`).join('\n')}

exit status: 0 ok, 1 a spec problem, out-of-date files or a failed operation, 2 misuse
`;
}

const commands = (device: Record<string, string>): string => [...Object.keys(HELP), ...Object.keys(device)].join(', ');

/** One command's help text. */
export function commandHelp(command: string, device: Record<string, string> = {}): string {
  const text = { ...HELP, ...device }[command];
  if (text === undefined) throw new UsageError(`unknown command "${command}" (commands: ${commands(device)})`);
  return `usage: ${NAME} ${text}\n`;
}

/**
 * Runs the CLI; returns the exit status (0 ok, 1 a spec problem, out-of-date files or a failed
 * write, 2 misuse). Every user error is one line on stderr (a spec error: one per diagnostic).
 */
export async function main(argv: string[], io: Io = STDIO, device: Record<string, string> = {}): Promise<number> {
  try {
    const [command, ...rest] = argv;
    if (rest.includes('--help') || rest.includes('-h')) { io.out(commandHelp(command!, device)); return 0; }
    switch (command) {
      case 'generate': return generate(rest, io);
      case 'check': return check(rest, io);
      case 'validate': return validate(rest, io);
      case 'help': case '--help': case '-h': {
        const { positionals } = parseCommandLine(rest, {}, 1);
        io.out(positionals[0] === undefined ? usage(device) : commandHelp(positionals[0], device));
        return 0;
      }
      case '--version': case '-V':
        parseCommandLine(rest, {});
        io.out(`${NAME} ${PACKAGE.version}\n`);
        return 0;
      case undefined: throw new UsageError(`missing command (commands: ${commands(device)}; see ${NAME} --help)`);
      default: throw new UsageError(`unknown command "${command}" (commands: ${commands(device)})`);
    }
  } catch (e) {
    if (e instanceof UsageError) { io.err(`${NAME}: ${e.message}\n`); return 2; }
    if (e instanceof SpecError) { io.err(`${e.message}\n`); return 1; }
    if (e instanceof OutputError) { io.err(`${NAME}: ${e.message}\n`); return 1; }
    // A file the system refused (a spec or import that cannot be read): Node's message names it.
    const { code, syscall } = e as { code?: unknown; syscall?: unknown };
    if (typeof code === 'string' && typeof syscall === 'string') { io.err(`${NAME}: ${(e as Error).message}\n`); return 1; }
    throw e;
  }
}

const OPTIONS = {
  spec: { type: 'string' },
  out: { type: 'string' },
  target: { type: 'string', multiple: true },
  json: { type: 'boolean' },
} as const;

/** A spec path from the command line; a missing file is a usage error, not a spec error. */
function specPath(given: string | undefined): string {
  const file = resolve(given ?? DEFAULT_SPEC);
  if (!existsSync(file)) throw new UsageError(`no such spec file: ${given ?? file}`);
  if (statSync(file).isDirectory()) throw new UsageError(`${given}: is a directory, not a spec file`);
  return file;
}

/** A git checkout of the package (not an installed copy): the only place files are written without --out. */
const CHECKOUT = existsSync(join(ROOT, '.git'));

/**
 * Where generated files go: under --out; without it, into the checkout for one of the package's own
 * specs, and nowhere else (an installed package's directory is not the user's to write into).
 */
function outputRoot(out: string | undefined, spec: string, command: string): string {
  if (out === undefined) {
    if (CHECKOUT && inPackage(spec)) return ROOT;
    throw new UsageError(`${command} needs --out DIR (${inPackage(spec) ? 'the package is installed, not a checkout' : 'the spec is not one of the package\'s'}): the files go under DIR, at the paths the spec's "targets" name`);
  }
  const root = resolve(out);
  if (existsSync(root) && !statSync(root).isDirectory()) throw new UsageError(`--out ${out}: not a directory`);
  return root;
}

/** Milliseconds since `t0`, as the timing lines print them. */
const since = (t0: bigint): string => `${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(0)} ms`;

/** An argument as a POSIX shell reads it back. */
const shellWord = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

function generate(args: string[], io: Io): number {
  const t0 = process.hrtime.bigint();
  const { values } = parseCommandLine(args, { spec: OPTIONS.spec, out: OPTIONS.out, target: OPTIONS.target });
  for (const t of values.target ?? []) if (!(t in TARGETS)) throw new UsageError(`unknown target "${t}" (targets: ${Object.keys(TARGETS).join(', ')})`);
  const file = specPath(values.spec);
  const root = outputRoot(values.out, file, 'generate');
  const spec = specForOutput(loadSpec(file), file, root);
  const files = render(spec, values.target ?? defaultTargets(spec));
  const written = new Set(writeFiles(root, files));
  for (const f of files) io.out(`${written.has(f.path) ? 'wrote    ' : 'unchanged'} ${f.path}\n`);
  io.out(`generated ${files.length} file(s) from ${spec.files.length} spec file(s) in ${since(t0)}\n`);
  return 0;
}

function check(args: string[], io: Io): number {
  const t0 = process.hrtime.bigint();
  const { values } = parseCommandLine(args, { spec: OPTIONS.spec, out: OPTIONS.out, json: OPTIONS.json });
  const file = specPath(values.spec);
  const root = outputRoot(values.out, file, 'check');
  let spec;
  try {
    spec = specForOutput(loadSpec(file), file, root);
  } catch (e) {
    if (!(e instanceof SpecError) || values.json !== true) throw e;
    io.out(`${JSON.stringify({ ok: false, diagnostics: e.diagnostics }, null, 2)}\n`);
    return 1;
  }
  const { changed, stale } = checkFiles(root, spec, render(spec));
  const fix: string[] = [];
  if (changed.length > 0) {
    fix.push(values.out === undefined && values.spec === undefined ? 'npm run gen'
      : [NAME, 'generate', ...(values.spec !== undefined ? ['--spec', values.spec] : []), ...(values.out !== undefined ? ['--out', values.out] : [])].map(shellWord).join(' '));
  }
  if (stale.length > 0) fix.push(['rm', '--', ...stale.map((f) => relative(process.cwd(), join(root, f)) || f)].map(shellWord).join(' '));
  if (values.json === true) {
    io.out(`${JSON.stringify({ ok: fix.length === 0, changed, stale, fix }, null, 2)}\n`);
    return fix.length === 0 ? 0 : 1;
  }
  for (const f of changed) io.err(`out of date: ${f}\n`);
  for (const f of stale) io.err(`stale (no target produces it any more): ${f}\n`);
  if (fix.length > 0) {
    io.err(`to fix: ${fix.join(' && ')}\n`);
    return 1;
  }
  io.out(`generated files are up to date (checked in ${since(t0)})\n`);
  return 0;
}

function validate(args: string[], io: Io): number {
  const { values, positionals } = parseCommandLine(args, { json: OPTIONS.json }, 1);
  const given = positionals[0];
  if (given === undefined) throw new UsageError('validate needs a spec file (validate SPEC)');
  const file = specPath(given);
  let spec;
  try {
    spec = loadSpec(file);
  } catch (e) {
    if (!(e instanceof SpecError) || values.json !== true) throw e;
    io.out(`${JSON.stringify({ spec: given, ok: false, diagnostics: e.diagnostics }, null, 2)}\n`);
    return 1;
  }
  const counts = {
    structs: spec.structs.length, ioctls: spec.ioctls.length, features: spec.features.length,
    validators: spec.validators.length, chains: spec.ioctls.filter((x) => x.chain !== null).length,
  };
  if (values.json === true) io.out(`${JSON.stringify({ spec: given, ok: true, counts }, null, 2)}\n`);
  else io.out(`${given}: ok (${counts.structs} structs, ${counts.ioctls} ioctls, ${counts.features} features, ${counts.validators} validators, ${counts.chains} capability chains)\n`);
  return 0;
}
