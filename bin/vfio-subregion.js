#!/usr/bin/env node
// Commands that touch a device load the runtime (and its native addon); the generator does not need them.
const command = process.argv[2];
if (command === 'info' || command === 'demo') {
  const cli = await import('../dist/cli/commands.js');
  process.exitCode = await cli.main(process.argv.slice(2));
} else {
  // The generator's CLI knows nothing of devices: the device commands' usage lines are handed to it
  // (absent when only the generator is built, as `npm run gen` builds it).
  const cli = await import('../dist/codegen/cli.js');
  const more = await import('../dist/cli/usage.js').then((m) => m.DEVICE_COMMANDS, () => '');
  process.exitCode = await cli.main(process.argv.slice(2), undefined, more);
}
