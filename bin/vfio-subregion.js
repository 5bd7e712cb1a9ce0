#!/usr/bin/env node
// Commands that touch a device load the runtime (and its native addon); the generator does not need them.
const command = process.argv[2];
const cli = command === 'info' || command === 'demo'
  ? await import('../dist/cli/commands.js')
  : await import('../dist/codegen/cli.js');
process.exitCode = await cli.main(process.argv.slice(2));
