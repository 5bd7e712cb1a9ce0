import { openDevice, VfioError, type Device } from '../../runtime/src/device.js';
import type { SimConfig } from '../../runtime/src/native.js';
import { DEFAULT_SIM } from '../../runtime/src/sim-presets.js';

/** fn on a fresh simulated device (DEFAULT_SIM unless config), closed afterwards. */
export function withSim<T>(fn: (dev: Device) => T, config: SimConfig = DEFAULT_SIM): T {
  const dev = openDevice({ simulator: config });
  try {
    return fn(dev);
  } finally {
    dev.close();
  }
}

/** The VfioError fn throws; anything else thrown, or nothing, fails the test. */
export function refusal(fn: () => unknown): VfioError {
  try {
    fn();
  } catch (e) {
    if (e instanceof VfioError) return e;
    throw e;
  }
  throw new Error('expected a VfioError');
}
