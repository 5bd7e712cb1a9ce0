import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SpecError } from './diagnostics.js';
import { checkFiles, defaultTargets, render, TARGETS, writeFiles } from './generate.js';
import { DEFAULT_SPEC, loadSpec, ROOT } from './load.js';
import { DEFAULT_SPEC_FILE } from './package.js';
import { PACKAGE } from './emit/file.js';

/** The usage text; `more` adds the lines of commands the package's binary routes elsewhere. */
export function usage(more = ''): string {
  return `usage: ${PACKAGE.name} <command> [options]

commands:
  generate [--spec FILE] [--out DIR] [--target NAME]...
                      write the generated files (default: every target the spec has what it
                      takes for, into the paths its targets name under the repository or DIR)
  check [--spec FILE] [--out DIR]
                      exit 1 and list the files when regenerating would change anything
                      (under the repository, or DIR for files generated there)
  validate SPEC        check a spec file against the schema and the resolver's rules
${more}
targets: ${Object.keys(TARGETS).join(', ')}
`;
}

export const USAGE = usage();

export class UsageError extends Error {}

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

/** Runs the CLI; returns the exit status (0 ok, 1 spec or check failure, 2 usage). */
export async function main(argv: string[], io: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) }, more = ''): Promise<number> {
  const USAGE = usage(more);
  try {
    const [command, ...rest] = argv;
    switch (command) {
      case 'generate': return generate(rest, io);
      case 'check': return check(rest, io);
      case 'validate': return validate(rest, io);
      case '-h': case '--help': case 'help': io.out(USAGE); return 0;
      case undefined: throw new UsageError('missing command');
      default: throw new UsageError(`unknown command "${command}"`);
    }
  } catch (e) {
    if (e instanceof UsageError) { io.err(`${PACKAGE.name}: ${e.message}\n${USAGE}`); return 2; }
    if (e instanceof SpecError) { io.err(`${e.message}\n`); return 1; }
    const code = (e as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) { io.err(`${PACKAGE.name}: ${(e as Error).message}\n${USAGE}`); return 2; }
    throw e;
  }
}

const OPTIONS = {
  spec: { type: 'string' },
  out: { type: 'string' },
  target: { type: 'string', multiple: true },
} as const;

function options(args: string[], allowed: (keyof typeof OPTIONS)[], positionals = 0) {
  const parsed = parseArgs({ args, strict: true, allowPositionals: true, options: OPTIONS });
  for (const k of Object.keys(parsed.values)) {
    if (!allowed.includes(k as keyof typeof OPTIONS)) throw new UsageError(`option --${k} does not apply here`);
  }
  if (parsed.positionals.length > positionals) throw new UsageError(`unexpected argument "${parsed.positionals[positionals]}"`);
  return parsed;
}

/** A spec path from the command line; a missing file is a usage error, not a spec error. */
function specPath(given: string | undefined): string {
  const file = resolve(given ?? DEFAULT_SPEC);
  if (!existsSync(file)) throw new UsageError(`no such spec file: ${given ?? file}`);
  return file;
}

/** Milliseconds since `t0`, as the timing lines print them. */
const since = (t0: bigint): string => `${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(0)} ms`;

function generate(args: string[], io: Io): number {
  const t0 = process.hrtime.bigint();
  const { values } = options(args, ['spec', 'out', 'target']);
  for (const t of values.target ?? []) if (!(t in TARGETS)) throw new UsageError(`unknown target "${t}"`);
  const spec = loadSpec(specPath(values.spec));
  const targets = values.target ?? defaultTargets(spec);
  const files = render(spec, targets);
  const root = values.out !== undefined ? resolve(values.out) : ROOT;
  const written = new Set(writeFiles(root, files));
  for (const f of files) io.out(`${written.has(f.path) ? 'wrote    ' : 'unchanged'} ${f.path}\n`);
  io.out(`generated ${files.length} file(s) from ${spec.files.length} spec file(s) in ${since(t0)}\n`);
  return 0;
}

function check(args: string[], io: Io): number {
  const t0 = process.hrtime.bigint();
  const { values } = options(args, ['spec', 'out']);
  const spec = loadSpec(specPath(values.spec));
  const { changed, stale } = checkFiles(values.out !== undefined ? resolve(values.out) : ROOT, spec, render(spec));
  for (const f of changed) io.err(`out of date: ${f}\n`);
  for (const f of stale) io.err(`stale (no target produces it): ${f}\n`);
  if (changed.length + stale.length > 0) {
    io.err(spec.file === DEFAULT_SPEC_FILE && values.out === undefined ? 'run `npm run gen` and commit the result\n'
      : `run \`${PACKAGE.name} generate --spec ${spec.file}${values.out !== undefined ? ` --out ${values.out}` : ''}\`\n`);
    return 1;
  }
  io.out(`generated files are up to date (checked in ${since(t0)})\n`);
  return 0;
}

function validate(args: string[], io: Io): number {
  const { positionals } = options(args, [], 1);
  const file = positionals[0];
  if (file === undefined) throw new UsageError('validate needs a spec file');
  const spec = loadSpec(specPath(file));
  io.out(`${file}: ok (${spec.structs.length} structs, ${spec.ioctls.length} ioctls, ${spec.features.length} features, ${spec.validators.length} validators, ${spec.ioctls.filter((x) => x.chain !== null).length} capability chains)\n`);
  return 0;
}

