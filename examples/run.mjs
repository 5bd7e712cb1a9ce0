#!/usr/bin/env node
// `npm run example:NAME -- ARGS`: runs an example from dist/, built once (`npm run build`, which
// `npm install` runs as prepare) rather than on every run.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [name, ...args] = process.argv.slice(2);
const main = fileURLToPath(new URL(`../dist/examples/${name}/main.js`, import.meta.url));
if (!existsSync(main)) {
  process.stderr.write(`example ${name}: ${main} is missing: run \`npm run build\` first\n`);
  process.exit(1);
}
const { runMain } = await import('../dist/cli/args.js');
const example = await import(main);
await runMain(name, () => example.main(args));
