import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import { native } from '../../runtime/src/native.js';
import { standardConfig } from './helpers.js';

/**
 * bindIoctl: the device and request checked once, then calls with no arguments on the device's
 * argument area. Expected replies are the standard device's as its config writes them.
 */
const E = constants.errno;
const GET_REGION_INFO = 0x3b6c;

describe('bindIoctl', () => {
  it('refuses what ioctl refuses, once, when binding', () => {
    const n = native();
    const d = n.simCreate(standardConfig());
    expect(() => n.bindIoctl(d, GET_REGION_INFO)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
    n.deviceScratch(d);
    expect(() => n.bindIoctl(d, 0x541b)).toThrow(expect.objectContaining({ name: 'RangeError', message: expect.stringMatching(/not an ioctl of the spec/) }));
    expect(() => n.bindIoctl({} as never, GET_REGION_INFO)).toThrow(TypeError);
    expect(() => n.bindIoctl(d, -1)).toThrow(RangeError);
    n.close(d);
  });

  it('answers on the argument area as ioctl does, and -EBADF once the device is closed', () => {
    const n = native();
    const d = n.simCreate(standardConfig());
    const area = new DataView(n.deviceScratch(d));
    const info = n.bindIoctl(d, GET_REGION_INFO);
    area.setUint32(0, 32, true);   // argsz
    area.setUint32(8, 4, true);    // index: BAR4, 256 bytes of I/O ports
    expect(info()).toBe(0);
    expect(area.getBigUint64(16, true)).toBe(256n);
    expect(area.getBigUint64(24, true)).toBe(4n << 40n);
    area.setUint32(0, 8, true);    // argsz below the struct: the device's EINVAL
    expect(info()).toBe(-E.EINVAL);
    area.setUint32(0, 8192, true); // argsz past the area: refused before the device sees it
    expect(() => info()).toThrow(RangeError);
    n.close(d);
    area.setUint32(0, 32, true);
    expect(info()).toBe(-E.EBADF);
  });
});
