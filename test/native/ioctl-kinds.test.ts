/**
 * The addon's contract for ioctls whose argument is not a struct: no argument (VFIO_DEVICE_RESET),
 * an integer by value (VFIO_CHECK_EXTENSION, VFIO_SET_IOMMU), a pointer to an int
 * (VFIO_GROUP_SET_CONTAINER) and a NUL-terminated string (VFIO_GROUP_GET_DEVICE_FD). The request
 * numbers are written out by hand from <linux/vfio.h> (type ';', VFIO_BASE 100, generic _IOC); the
 * simulator implements none of these (-ENOTTY after every check passed), nor does /dev/null. The
 * refusals that concern what the kernel would be handed run again in a child process, where a
 * crash would show as a signal instead of taking the test runner down.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ROOT } from '../../codegen/paths.js';
import { VfioExtension, VfioIoctl, VfioIoctlArg } from '../../runtime/src/generated/vfio-subregion.js';
import { native, type DeviceHandle } from '../../runtime/src/native.js';
import { GENERIC_IOC, VFIO_DEVICE_GET_INFO, expectArgError, neg, standardConfig } from './helpers.js';

const VFIO_CHECK_EXTENSION = 0x3b65; // _IO(';', 100 + 1)
const VFIO_SET_IOMMU = 0x3b66; // _IO(';', 100 + 2)
const VFIO_GROUP_SET_CONTAINER = 0x3b68; // _IO(';', 100 + 4)
const VFIO_GROUP_GET_DEVICE_FD = 0x3b6a; // _IO(';', 100 + 6)
const VFIO_DEVICE_RESET = 0x3b6f; // _IO(';', 100 + 11)
const FIONREAD = 0x541b;
const VFIO_TYPE1v2_IOMMU = 3;

const n = native();
const ADDON = resolve(ROOT, 'native/build/Release/vfio_native.node');
const cstr = (s: string): Uint8Array => new TextEncoder().encode(`${s}\0`);

let sim: DeviceHandle;
let host: DeviceHandle;
/** /dev/null as a container and as a group: the kinds of fd those ioctls are issued on. */
let container: DeviceHandle;
let group: DeviceHandle;
beforeEach(() => {
  sim = n.simCreate(standardConfig());
  host = n.open('/dev/null');
  container = n.open('/dev/null', 'container');
  group = n.open('/dev/null', 'group');
});
afterEach(() => {
  for (const d of [sim, host, container, group]) n.close(d);
});

describe.skipIf(!GENERIC_IOC)('ioctl arguments that are not a struct', () => {
  it('ioctlValue issues NONE and VALUE requests (the simulator resets; -ENOTTY from /dev/null)', () => {
    expect(n.ioctlValue(sim, VFIO_DEVICE_RESET, 0)).toBe(0);
    expect(n.ioctlValue(host, VFIO_DEVICE_RESET, 0)).toBe(neg('ENOTTY'));
    expect(n.ioctlValue(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU)).toBe(neg('ENOTTY'));
    expect(n.ioctlValue(container, VFIO_CHECK_EXTENSION, 0xffffffff)).toBe(neg('ENOTTY'));
    expect(n.ioctlValue(container, VFIO_SET_IOMMU, -1)).toBe(neg('ENOTTY'));
    expect(n.ioctlValue(container, VFIO_SET_IOMMU, 0x7fffffff)).toBe(neg('ENOTTY'));
    expect(n.lastRule(sim)).toBeNull();
  });

  it('ioctlValue refuses a value outside the argument type, and a NONE request with a value', () => {
    expectArgError(() => n.ioctlValue(sim, VFIO_DEVICE_RESET, 1), RangeError, /^value must be an integer in \[0, 0\], got 1$/);
    expectArgError(() => n.ioctlValue(container, VFIO_CHECK_EXTENSION, -1), RangeError, /^value must be an integer in \[0, 4294967295\]/);
    expectArgError(() => n.ioctlValue(container, VFIO_CHECK_EXTENSION, 2 ** 32), RangeError, /value/);
    expectArgError(() => n.ioctlValue(container, VFIO_CHECK_EXTENSION, 1.5), RangeError, /value/);
    expectArgError(() => n.ioctlValue(container, VFIO_SET_IOMMU, 2 ** 31), RangeError, /^value must be an integer in \[-2147483648, 2147483647\]/);
    expectArgError(() => n.ioctlValue(container, VFIO_SET_IOMMU, -(2 ** 31) - 1), RangeError, /value/);
    expectArgError(() => n.ioctlValue(container, VFIO_CHECK_EXTENSION, '3' as unknown as number), TypeError, /value must be a number/);
  });

  it('ioctlValue refuses the requests that take a buffer, and those not in the spec', () => {
    for (const [d, req] of [[host, VFIO_DEVICE_GET_INFO], [group, VFIO_GROUP_SET_CONTAINER], [group, VFIO_GROUP_GET_DEVICE_FD]] as const)
      expectArgError(() => n.ioctlValue(d, req, 0), RangeError, /^VFIO_\w+ takes a buffer, not a value: issue it with ioctl\(device, request, arg\)$/);
    expectArgError(() => n.ioctlValue(host, FIONREAD, 0), RangeError, /^request 0x541b is not an ioctl of the spec on a device fd/);
  });

  it('the buffer entry points refuse NONE and VALUE requests, naming ioctlValue', () => {
    const d = n.simCreate(standardConfig());
    try {
      n.deviceScratch(d);
      expectArgError(() => n.ioctl(d, VFIO_DEVICE_RESET, new Uint8Array(4)), RangeError, /^VFIO_DEVICE_RESET takes no argument, not a buffer: issue it with ioctlValue\(device, request, 0\)$/);
      expectArgError(() => n.ioctl(d, VFIO_DEVICE_RESET, new Uint8Array(0)), RangeError, /ioctlValue/);
      expectArgError(() => n.bindIoctl(d, VFIO_DEVICE_RESET), RangeError, /^VFIO_DEVICE_RESET takes no argument.*ioctlValue/);
      n.deviceScratch(container);
      expectArgError(() => n.ioctl(container, VFIO_CHECK_EXTENSION, new Uint8Array(4)), RangeError, /^VFIO_CHECK_EXTENSION takes a 4-byte integer by value, not a buffer: issue it with ioctlValue\(device, request, value\)$/);
      expectArgError(() => n.ioctlScratch(container, VFIO_SET_IOMMU), RangeError, /^VFIO_SET_IOMMU takes a 4-byte integer by value.*ioctlValue/);
      expectArgError(() => n.bindIoctl(container, VFIO_CHECK_EXTENSION), RangeError, /ioctlValue/);
    } finally {
      n.close(d);
    }
  });

  it('a pointer to an int: exactly 4 bytes, on a private copy', () => {
    const fd = new Uint8Array(new Int32Array([5]).buffer);
    expect(n.ioctl(group, VFIO_GROUP_SET_CONTAINER, fd)).toBe(neg('ENOTTY'));
    expect([...fd]).toEqual([5, 0, 0, 0]);
    for (const len of [0, 3, 5, 8])
      expectArgError(() => n.ioctl(group, VFIO_GROUP_SET_CONTAINER, new Uint8Array(len)), RangeError, new RegExp(`^arg \\(${len} bytes\\) must be exactly the 4-byte integer VFIO_GROUP_SET_CONTAINER points to$`));
    // through the argument area: 4096 bytes are not an int
    n.deviceScratch(group);
    expectArgError(() => n.ioctlScratch(group, VFIO_GROUP_SET_CONTAINER), RangeError, /4096 bytes/);
    const bound = n.bindIoctl(group, VFIO_GROUP_SET_CONTAINER);
    expectArgError(() => bound(), RangeError, /exactly the 4-byte integer/);
  });

  it('a string: accepted only with a NUL inside the buffer', () => {
    expect(n.ioctl(group, VFIO_GROUP_GET_DEVICE_FD, cstr('0000:01:00.0'))).toBe(neg('ENOTTY'));
    expect(n.ioctl(group, VFIO_GROUP_GET_DEVICE_FD, cstr(''))).toBe(neg('ENOTTY'));
    // bytes after the NUL are allowed (and not handed on); a string longer than the addon's stack copy
    expect(n.ioctl(group, VFIO_GROUP_GET_DEVICE_FD, new Uint8Array([0x61, 0, 0x62, 0x63]))).toBe(neg('ENOTTY'));
    const long = new Uint8Array(10_000).fill(0x61);
    long[long.length - 1] = 0;
    expect(n.ioctl(group, VFIO_GROUP_GET_DEVICE_FD, long)).toBe(neg('ENOTTY'));
    expectArgError(() => n.ioctl(group, VFIO_GROUP_GET_DEVICE_FD, new TextEncoder().encode('0000:01:00.0')), RangeError, /^arg \(12 bytes\) holds no NUL: VFIO_GROUP_GET_DEVICE_FD takes a NUL-terminated string, which must end inside arg$/);
    expectArgError(() => n.ioctl(group, VFIO_GROUP_GET_DEVICE_FD, new Uint8Array(0)), RangeError, /^arg \(0 bytes\) holds no NUL/);
    expectArgError(() => n.ioctl(group, VFIO_GROUP_GET_DEVICE_FD, new Uint8Array(10_000).fill(1)), RangeError, /^arg \(10000 bytes\) holds no NUL/);
    // a NUL just past the view's end does not count
    const backing = new Uint8Array([0x61, 0x62, 0]);
    expectArgError(() => n.ioctl(group, VFIO_GROUP_GET_DEVICE_FD, backing.subarray(0, 2)), RangeError, /^arg \(2 bytes\) holds no NUL/);
    expect(n.ioctl(group, VFIO_GROUP_GET_DEVICE_FD, backing.subarray(0, 3))).toBe(neg('ENOTTY'));
  });

  it('a closed device gives -EBADF for every kind', () => {
    const d = n.simCreate(standardConfig());
    n.close(d);
    expect(n.ioctlValue(d, VFIO_DEVICE_RESET, 0)).toBe(neg('EBADF'));
    n.close(container);
    n.close(group);
    expect(n.ioctlValue(container, VFIO_CHECK_EXTENSION, 3)).toBe(neg('EBADF'));
    expect(n.ioctl(group, VFIO_GROUP_SET_CONTAINER, new Uint8Array(4))).toBe(neg('EBADF'));
    expect(n.ioctl(group, VFIO_GROUP_GET_DEVICE_FD, cstr('x'))).toBe(neg('EBADF'));
  });

  it('the refusals, in a child process: each is an exception, never a signal', () => {
    const script = [
      "import { createRequire } from 'node:module';",
      `const n = createRequire(import.meta.url)(${JSON.stringify(ADDON)});`,
      "n.init(...(await import('node:vm')).runInNewContext('[Object.getOwnPropertyDescriptor(WebAssembly.Memory.prototype, \"buffer\").get, Uint8Array]'));",
      'const out = {};',
      'const code = (f) => { try { return f(); } catch (e) { return `${e.constructor.name} ${e.code}`; } };',
      "const d = n.open('/dev/null'), c = n.open('/dev/null', 'container'), g = n.open('/dev/null', 'group');",
      'out.noNul = code(() => n.ioctl(g, 0x3b6a, new Uint8Array(1 << 20).fill(0x61)));',
      'out.empty = code(() => n.ioctl(g, 0x3b6a, new Uint8Array(0)));',
      'out.shortInt = code(() => n.ioctl(g, 0x3b68, new Uint8Array(3)));',
      'out.noneAsBuffer = code(() => n.ioctl(d, 0x3b6f, new Uint8Array(0)));',
      'out.valueAsBuffer = code(() => n.ioctl(c, 0x3b65, new Uint8Array(8)));',
      'out.bufferAsValue = code(() => n.ioctlValue(d, 0x3b6b, 0x1000));',
      'out.setContainerAsValue = code(() => n.ioctlValue(g, 0x3b68, 0x1000));',
      'out.stringAsValue = code(() => n.ioctlValue(g, 0x3b6a, 0x1000));',
      'for (const h of [d, c, g]) n.close(h);',
      'process.stdout.write(JSON.stringify(out));',
    ].join('\n');
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect({ status: r.status, signal: r.signal }, `${r.stdout}\n${r.stderr}`).toEqual({ status: 0, signal: null });
    const range = 'RangeError ERR_OUT_OF_RANGE';
    expect(JSON.parse(r.stdout)).toEqual({
      noNul: range, empty: range, shortInt: range, noneAsBuffer: range, valueAsBuffer: range,
      bufferAsValue: range, setContainerAsValue: range, stringAsValue: range,
    });
  });
});

describe.skipIf(!GENERIC_IOC)('the kind of fd a handle was opened as decides its ioctls', () => {
  // 117 is the device's VFIO_DEVICE_FEATURE, type1's VFIO_IOMMU_DIRTY_PAGES and sPAPR's VFIO_IOMMU_SPAPR_REGISTER_MEMORY; 113 is every IOMMU model's VFIO_IOMMU_MAP_DMA
  const NR_117 = 0x3b75, VFIO_IOMMU_MAP_DMA = 0x3b71;
  const feature = (): Uint8Array => { const b = new Uint8Array(16); new DataView(b.buffer).setUint32(0, 16, true); return b; };

  it('one number, other arguments: each kind finds its own ioctl', () => {
    const spapr = n.open('/dev/null', 'spapr_container');
    const type1 = n.open('/dev/null', 'type1_container');
    try {
      // VFIO_DEVICE_FEATURE takes an argsz header of 8 bytes, REGISTER_MEMORY 24
      expect(n.ioctl(host, NR_117, feature())).toBe(neg('ENOTTY'));
      expectArgError(() => n.ioctl(spapr, NR_117, feature()), RangeError, /^arg \(16 bytes\) is shorter than the 24-byte argument of VFIO_IOMMU_SPAPR_REGISTER_MEMORY$/);
      // type1's VFIO_IOMMU_DIRTY_PAGES takes an 8-byte argsz header too; a group has no 117
      expect(n.ioctl(type1, NR_117, feature())).toBe(neg('ENOTTY'));
      expectArgError(() => n.ioctl(group, NR_117, feature()), RangeError, /^request 0x3b75 is not an ioctl of the spec on a group fd/);
      // a kind accepts the ioctls of the kinds it extends: a type1 container is an IOMMU container and a container
      const map = new Uint8Array(32);
      new DataView(map.buffer).setUint32(0, 32, true);
      for (const d of [type1, spapr]) expect(n.ioctl(d, VFIO_IOMMU_MAP_DMA, map)).toBe(neg('ENOTTY'));
      expect(n.ioctlValue(type1, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU)).toBe(neg('ENOTTY'));
      expectArgError(() => n.ioctl(container, VFIO_IOMMU_MAP_DMA, map), RangeError, /not an ioctl of the spec on a container fd/);
      expectArgError(() => n.ioctl(group, VFIO_IOMMU_MAP_DMA, map), RangeError, /not an ioctl of the spec on a group fd/);
      // on a device, 113 is VFIO_DEVICE_PCI_HOT_RESET: 12 bytes and an argsz
      expect(n.ioctl(host, VFIO_IOMMU_MAP_DMA, map)).toBe(neg('ENOTTY'));
      expectArgError(() => n.ioctlValue(sim, VFIO_CHECK_EXTENSION, 3), RangeError, /^request 0x3b65 is not an ioctl of the spec on a device fd/);
    } finally {
      n.close(spapr);
      n.close(type1);
    }
  });

  it('open and adoptFd take a kind of the spec, device by default', () => {
    expectArgError(() => n.open('/dev/null', 'pipe' as never), RangeError, /^fdKind must be a kind of fd of the spec \(VfioFdKind\), got 'pipe'$/);
    expectArgError(() => n.open('/dev/null', 3 as never), TypeError, /fdKind/);
    expectArgError(() => n.adoptFd(0, 'Device' as never), RangeError, /got 'Device'/);
    const fd = openSync('/dev/null', 'r+');
    const g = n.adoptFd(fd, 'group');
    closeSync(fd);
    try {
      expect(n.ioctl(g, VFIO_GROUP_GET_DEVICE_FD, cstr('x'))).toBe(neg('ENOTTY'));
      expectArgError(() => n.ioctl(g, VFIO_DEVICE_GET_INFO, new Uint8Array(20)), RangeError, /on a group fd/);
    } finally {
      n.close(g);
    }
  });

  it('an iommufd (/dev/iommu) is a kind of the spec: its ioctls are in the table, on 6.1 headers too (native/include/fallback)', () => {
    const IOMMU_IOAS_ALLOC = 0x3b81; // _IO(IOMMUFD_TYPE ';', IOMMUFD_CMD_IOAS_ALLOC 0x81)
    const alloc = new Uint8Array(12); // struct iommu_ioas_alloc: size (its argsz), flags, out_ioas_id
    new DataView(alloc.buffer).setUint32(0, alloc.length, true);
    const fd = openSync('/dev/null', 'r+');
    const iommufd = n.adoptFd(fd, 'iommufd');
    closeSync(fd);
    try {
      // the addon is built with the generated <linux/iommufd.h> after the system's headers: /dev/null answers, not the table
      expect(n.ioctl(iommufd, IOMMU_IOAS_ALLOC, alloc)).toBe(neg('ENOTTY'));
      expectArgError(() => n.ioctl(iommufd, VFIO_DEVICE_GET_INFO, new Uint8Array(20)), RangeError, /on a iommufd fd/);
      expectArgError(() => n.ioctl(host, IOMMU_IOAS_ALLOC, alloc), RangeError, /^request 0x3b81 is not an ioctl of the spec on a device fd/);
    } finally {
      n.close(iommufd);
    }
  });
});

describe('the generated TypeScript says what each argument is', () => {
  it('VfioIoctlArg: the kind (and integer type) of each ioctl, as <linux/vfio.h> documents them', () => {
    expect(VfioIoctlArg.VFIO_DEVICE_RESET).toEqual({ kind: 'none', fd: 'device' });
    expect(VfioIoctlArg.VFIO_CHECK_EXTENSION).toEqual({ kind: 'value', type: '__u32', size: 4, fd: 'container' });
    expect(VfioIoctlArg.VFIO_SET_IOMMU).toEqual({ kind: 'value', type: '__s32', size: 4, fd: 'container' });
    expect(VfioIoctlArg.VFIO_GROUP_SET_CONTAINER).toEqual({ kind: 'pointer', type: 'int', size: 4, fd: 'group' });
    expect(VfioIoctlArg.VFIO_GROUP_GET_DEVICE_FD).toEqual({ kind: 'string', fd: 'group' });
    expect(VfioIoctlArg.VFIO_DEVICE_GET_INFO).toEqual({ kind: 'struct', struct: 'vfio_device_info', argsz: 'argsz', fd: 'device' });
    // sPAPR reuses type1's numbers on the container: one kind of fd per IOMMU model
    expect([VfioIoctlArg.VFIO_IOMMU_GET_INFO.fd, VfioIoctlArg.VFIO_IOMMU_MAP_DMA.fd, VfioIoctlArg.VFIO_IOMMU_SPAPR_REGISTER_MEMORY.fd]).toEqual(['type1_container', 'iommu_container', 'spapr_container']);
    expect(Object.keys(VfioIoctlArg)).toEqual(Object.keys(VfioIoctl));
    // a macro name with lower-case letters keeps its spelling
    expect([VfioExtension.VFIO_TYPE1_IOMMU, VfioExtension.VFIO_TYPE1v2_IOMMU]).toEqual([1, VFIO_TYPE1v2_IOMMU]);
    expect([VfioIoctl.VFIO_DEVICE_RESET.x86_64, VfioIoctl.VFIO_GROUP_GET_DEVICE_FD.x86_64]).toEqual([VFIO_DEVICE_RESET, VFIO_GROUP_GET_DEVICE_FD]);
  });
});
