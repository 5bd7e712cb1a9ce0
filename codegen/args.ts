import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * Command-line parsing shared by the package's commands and examples: node:util parseArgs in strict
 * mode, its errors turned into one-line UsageErrors (exit 2) that name the option as typed.
 * Dependency-free, so the device commands and the examples load none of the generator with it.
 */

/** Where a command writes: stdout and stderr, or a test's strings. */
export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

export const STDIO: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

/** A misuse of a command: the caller prints its message on one line and exits 2. */
export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: true }>>;

/** Node's messages, reworded: they quote unevenly and suggest `--` for what is usually a typo. */
function message(e: unknown, options: Options): string {
  const { code, message: text } = e as { code?: string; message: string };
  const name = /'(-[^' ]+)/.exec(text)?.[1] ?? '';
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const known = Object.keys(options).map((o) => `--${o}`);
      return `unknown option ${name}${known.length > 0 ? ` (options: ${known.join(', ')})` : ' (this command takes no options)'}`;
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /argument missing/.test(text) ? `option ${name} needs a value` : `option ${name} takes no value`;
    default:
      return text.split('\n')[0]!;
  }
}

/** Parses `args` against `options`, allowing at most `positionals` positional arguments. */
export function parseCommandLine<O extends Options>(args: string[], options: O, positionals = 0): Parsed<O> {
  let parsed: Parsed<O>;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (e) {
    throw new UsageError(message(e, options));
  }
  if (parsed.positionals.length > positionals) throw new UsageError(`unexpected argument "${parsed.positionals[positionals]}"`);
  return parsed;
}

/** A whole number in [min, max] from the command line, e.g. a descriptor count. */
export function integerArg(name: string, text: string, min: number, max: number): number {
  const n = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) throw new UsageError(`${name}: expected a whole number from ${min} to ${max}, got "${text}"`);
  return n;
}
