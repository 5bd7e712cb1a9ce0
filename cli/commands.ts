import { parseArgs } from 'node:util';
import type { Io } from '../codegen/cli.js';
import { DEVICE_COMMANDS } from './usage.js';
import { openDevice } from '../runtime/src/device.js';
import { runStart } from './demo.js';
import { formatInfo, gatherInfo, toJson } from '../runtime/src/info.js';

/** The commands that need a device: `info` and `demo`. bin/vfio-subregion.js routes them here. */
export const RUNTIME_COMMANDS = ['info', 'demo'];

/** The generator's CLI (and the TypeScript toolchain under it) loads only to print the usage: `info` starts without it. */
async function usage(io: Io, message: string): Promise<number> {
  const { usage: usageText } = await import('../codegen/cli.js');
  io.err(`vfio-subregion: ${message}\n${usageText(DEVICE_COMMANDS)}`);
  return 2;
}

export async function main(argv: string[], io: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) }): Promise<number> {
  const [command, ...rest] = argv;
  let parsed;
  try {
    parsed = parseArgs({ args: rest, strict: true, allowPositionals: false, options: command === 'info' ? { device: { type: 'string' }, json: { type: 'boolean' } } : {} });
  } catch (e) {
    return usage(io, (e as Error).message);
  }
  if (command === 'demo') {
    await runStart(io.out);
    return process.exitCode === 1 ? 1 : 0;
  }
  const target = (parsed.values as { device?: string }).device ?? 'sim';
  let dev;
  try {
    dev = openDevice(target);
  } catch (e) {
    const err = e as { code?: string; message: string };
    const why = err.message.replace(/^openDevice: /, '');
    io.err(`vfio-subregion: cannot open ${target}: ${why}${err.code !== undefined && !why.includes(err.code) ? ` (${err.code})` : ''}\n`);
    // a device that cannot be opened is the caller's setup to fix (binding, /dev/vfio, permissions), like misuse
    return 2;
  }
  try {
    const report = gatherInfo(dev);
    io.out((parsed.values as { json?: boolean }).json === true ? toJson(report) : formatInfo(report));
  } finally {
    dev.close();
  }
  return 0;
}
