#!/usr/bin/env node
// A reader that goes away (`vfio-subregion generate | head -3`) ends the output, not the command
// with a stack trace; the work (files written) is done before anything is printed.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(process.exitCode ?? 0);
  });
}

/** A module of dist/, or one line saying how to build it (a checkout that was never built). */
async function load(path) {
  try {
    return await import(path);
  } catch (e) {
    if (e.code !== 'ERR_MODULE_NOT_FOUND' || !String(e.message).includes(new URL(path, import.meta.url).pathname)) throw e;
    process.stderr.write(`vfio-subregion: ${new URL(path, import.meta.url).pathname} is missing: run \`npm run build\` in ${new URL('..', import.meta.url).pathname}\n`);
    process.exit(1);
  }
}

// Commands that touch a device load the runtime (and its native addon); the generator does not need them.
const command = process.argv[2];
if (command === 'info' || command === 'demo') {
  const cli = await load('../dist/cli/commands.js');
  process.exitCode = await cli.main(process.argv.slice(2));
} else {
  // The generator's CLI knows nothing of devices: the device commands' help is handed to it
  // (absent when only the generator is built, as `npm run gen` builds it).
  const cli = await load('../dist/codegen/cli.js');
  const device = await import('../dist/cli/usage.js').then((m) => m.DEVICE_HELP, () => ({}));
  process.exitCode = await cli.main(process.argv.slice(2), undefined, device);
}
