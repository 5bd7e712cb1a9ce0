import { UsageError } from '../codegen/args.js';
import { pciAddress } from '../runtime/src/device.js';

export { integerArg, parseCommandLine, STDIO, UsageError, type Io } from '../codegen/args.js';

/**
 * A device argument of `info` and the examples: `sim`, a PCI address (the lspci short form
 * `01:00.0` means domain 0000) or an iommufd cdev path. Anything else is a misuse.
 */
export function deviceArg(text: string, name = '--device'): string {
  if (text === 'sim' || /^\/dev\/vfio\/devices\/vfio\d+$/.test(text)) return text;
  const pci = pciAddress(text);
  if (pci !== null) return pci;
  throw new UsageError(`${name}: expected sim, a PCI address (0000:01:00.0 or 01:00.0) or /dev/vfio/devices/vfioN, got "${text}"`);
}

/**
 * Runs a command-line entry point: a UsageError is one line and exit 2, any other error one line
 * (its message, and its code when it has one) and exit 1; never a stack trace. A reader that goes
 * away (`| head -1`) ends the output, not the command with an unhandled EPIPE.
 */
export async function runMain(name: string, body: () => Promise<number>): Promise<void> {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
      process.exit(process.exitCode ?? 0);
    });
  }
  try {
    process.exitCode = await body();
  } catch (e) {
    const { message, code } = e as { message?: string; code?: unknown };
    process.stderr.write(`${name}: ${String(message ?? e).split('\n')[0]}${typeof code === 'string' && !String(message).includes(code) ? ` (${code})` : ''}\n`);
    process.exitCode = e instanceof UsageError ? 2 : 1;
  }
}
