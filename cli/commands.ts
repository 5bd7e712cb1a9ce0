import { deviceArg, parseCommandLine, STDIO, UsageError, type Io } from './args.js';
import { DEVICE_HELP } from './usage.js';
import { openDevice, VfioError } from '../runtime/src/device.js';
import { runStart } from './demo.js';
import { formatInfo, gatherInfo, toJson } from '../runtime/src/info.js';

/** The commands that need a device: `info` and `demo`. bin/vfio-subregion.js routes them here. */
export const RUNTIME_COMMANDS = Object.keys(DEVICE_HELP);

/** Runs a device command; returns the exit status (0 ok, 1 the device refused a query, 2 misuse or a device that cannot be opened). */
export async function main(argv: string[], io: Io = STDIO): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || DEVICE_HELP[command] === undefined) throw new UsageError(`unknown device command "${command}"`);
    if (rest.includes('--help') || rest.includes('-h')) {
      io.out(`usage: vfio-subregion ${DEVICE_HELP[command]}\n`);
      return 0;
    }
    if (command === 'demo') {
      parseCommandLine(rest, {});
      await runStart(io.out);
      return process.exitCode === 1 ? 1 : 0;
    }
    const { values } = parseCommandLine(rest, { device: { type: 'string' }, json: { type: 'boolean' } });
    return info(deviceArg(values.device ?? 'sim'), values.json === true, io);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.err(`vfio-subregion: ${e.message}\n`);
    return 2;
  }
}

function info(target: string, json: boolean, io: Io): number {
  let dev;
  try {
    dev = openDevice(target);
  } catch (e) {
    const err = e as { code?: string; message: string };
    // The message may start with the target (or openDevice's name) already: name it once.
    const why = err.message.replace(/^openDevice: /, '').replace(`${target}: `, '');
    io.err(`vfio-subregion: cannot open ${target}: ${why}${err.code !== undefined && !why.includes(err.code) ? ` (${err.code})` : ''}\n`);
    // the caller's setup to fix (binding, /dev/vfio, permissions, a group held elsewhere), as misuse is
    return 2;
  }
  try {
    const report = gatherInfo(dev);
    io.out(json ? toJson(report) : formatInfo(report));
  } catch (e) {
    // A device that refuses a query (a VfioError, with its errno by name) is a failure, not a bug.
    if (!(e instanceof VfioError)) throw e;
    io.err(`vfio-subregion: ${target}: ${e.message}\n`);
    return 1;
  } finally {
    dev.close();
  }
  return 0;
}
