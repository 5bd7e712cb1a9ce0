import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDevice } from '../../runtime/src/device.js';
import { attrWords, size } from '../../runtime/src/info.js';
import { NIC_LAYOUT } from '../../runtime/src/sim-presets.js';
import { VfioRegionAttr } from '../../runtime/src/generated/vfio-subregion.js';
import { deviceArg, parseCommandLine, runMain } from '../../cli/args.js';

/**
 * region-info: the TypeScript API on its own. Opens a device (the simulator, or a PCI address / cdev
 * given as the argument), asks what of the subregion ABI it supports, carves a write-combined window
 * out of BAR0 when it can, and prints every region with its attributes and capabilities.
 */
export function regionInfo(target = 'sim', out: (s: string) => void = (s) => process.stdout.write(s)): void {
  const dev = openDevice(target);
  try {
    const support = dev.support();
    out(`device ${dev.source}: subregion ${support.subregion ? 'yes' : 'no'}, region attrs get ${support.regionAttrsGet ? 'yes' : 'no'} / set ${support.regionAttrsSet ? 'yes' : 'no'}\n`);
    if (support.subregion && target === 'sim') {
      const sub = dev.createSubregion({ parent: NIC_LAYOUT.bar, offset: NIC_LAYOUT.txPush.offset, size: NIC_LAYOUT.txPush.size, attrs: VfioRegionAttr.VFIO_REGION_ATTR_WC });
      out(`created region ${sub.index}: ${size(sub.size)} of BAR${NIC_LAYOUT.bar} at +0x${NIC_LAYOUT.txPush.offset.toString(16)}\n`);
    }
    out('index  size      flags          attrs          caps\n');
    for (const r of dev.regions()) {
      if (r.size === 0n) continue;
      const caps = r.caps.map((c) => (c.name ?? `cap ${c.header.id}`).replace('VFIO_REGION_INFO_CAP_', '')).join(' ');
      const parent = r.subregion !== null ? ` (BAR${r.subregion.parent} +0x${r.subregion.offset.toString(16)})` : '';
      out(`${String(r.index).padStart(5)}  ${size(r.size).padEnd(8)}  0x${r.flags.toString(16).padEnd(11)}  ${attrWords(r.attrs).padEnd(13)}  ${caps}${parent}\n`);
    }
  } finally {
    dev.close();
  }
}

export const USAGE = 'region-info [DEVICE]';

/** The example's command line: the device (sim, a PCI address, 01:00.0 as lspci prints it, or a cdev). */
export async function main(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const { positionals } = parseCommandLine(argv, {}, 1);
  regionInfo(deviceArg(positionals[0] ?? 'sim', 'DEVICE'), out);
  return 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await runMain('region-info', () => main(process.argv.slice(2)));
