import { describe, expect, it } from 'vitest';
import * as B from '../../runtime/src/generated/vfio-subregion.js';
import { CodecError } from '../../runtime/src/codec-support.js';
import { big, loadVectors } from '../vectors.js';

/** Node's process.arch names for the kernel's, written out here (not taken from the code under test). */
const NODE_NAMES: Record<string, string> = {
  x86_64: 'x64', i386: 'ia32', aarch64: 'arm64', riscv64: 'riscv64', s390x: 's390x', ppc64le: 'ppc64', mips64el: 'mips64el',
};
const ioctlNumber = B.ioctlNumber as (name: string, arch: string) => number;
const vector = loadVectors().ioctl.find((c) => c.name === 'VFIO_DEVICE_FEATURE')!;

describe('names and architectures in the exported functions', () => {
  it("ioctlNumber takes Node's architecture names: the same numbers as the kernel's in the vectors", () => {
    expect(Object.keys(vector.numbers).sort()).toEqual(Object.keys(NODE_NAMES).sort());
    for (const [arch, n] of Object.entries(vector.numbers)) expect(ioctlNumber('VFIO_DEVICE_FEATURE', NODE_NAMES[arch]!), `${NODE_NAMES[arch]}`).toBe(Number(big(n)));
  });

  it.each([
    ['VFIO_DEVICE_FEATUR', 'x86_64', /^ioctl: unknown ioctl "VFIO_DEVICE_FEATUR": expected one of VFIO_DEVICE_GET_INFO, .*VFIO_DEVICE_FEATURE/],
    ['toString', 'x86_64', /unknown ioctl "toString"/],
    ['VFIO_DEVICE_FEATURE', 'sparc', /^arch: unknown architecture "sparc": expected one of x86_64, i386, aarch64, .* \(or Node's x64, ia32, arm64, /],
    ['VFIO_DEVICE_FEATURE', 'constructor', /unknown architecture "constructor"/],
    ['VFIO_DEVICE_FEATURE', undefined, /unknown architecture undefined/],
  ])('ioctlNumber(%j, %j) is a CodecError listing the valid names', (name, arch, message) => {
    expect(() => ioctlNumber(name, arch as string)).toThrow(CodecError);
    expect(() => ioctlNumber(name, arch as string)).toThrow(message);
  });

  it("a codec's options.arch takes Node's names too, and refuses an unknown one", () => {
    // struct vfio_iommu_type1_info: 24 bytes on LP64, 20 on i386 (test/uapi holds the spec to the real headers).
    expect(B.VfioIommuType1Info.layout({ arch: 'ia32' }).size).toBe(B.VfioIommuType1Info.layout({ arch: 'i386' }).size);
    expect(B.VfioIommuType1Info.layout({ arch: 'arm64' }).size).toBe(B.VfioIommuType1Info.layout({ arch: 'aarch64' }).size);
    expect(() => B.VfioIommuType1Info.layout({ arch: 'i686' as never })).toThrow(/unknown architecture "i686": expected one of/);
  });

  // Every codec (struct, feature argument) and chain walker of the bindings, found by its shape.
  const codecs = Object.entries(B).filter(([, v]) => typeof (v as { decode?: unknown }).decode === 'function') as [string, { decode(b: Uint8Array, o: object): unknown }][];
  const walkers = Object.entries(B).filter(([k, v]) => /^parse\w+Reply$/.test(k) && typeof v === 'function') as [string, (b: Uint8Array, o: object) => unknown][];
  const zeros = new Uint8Array(4096);

  it('every codec and chain walker refuses an unknown architecture, listing the valid ones, whether or not its layout depends on it', () => {
    expect(codecs.map(([k]) => k)).toEqual(expect.arrayContaining(['VfioInfoCapHeader', 'VfioRegionInfo', 'VfioIommuType1Info', 'FeatureSubregionSet']));
    expect(walkers.length).toBeGreaterThanOrEqual(2);
    const refusal = /^arch: unknown architecture "sparc": expected one of x86_64, i386, aarch64, riscv64, s390x, ppc64le, mips64el \(or Node's x64, ia32, arm64, riscv64, s390x, ppc64, mips64el\)$/;
    for (const [name, c] of codecs) expect(() => c.decode(zeros, { arch: 'sparc' }), name).toThrow(refusal);
    for (const [name, parse] of walkers) expect(() => parse(zeros, { arch: 'sparc' }), name).toThrow(refusal);
    const value = { argsz: 32, flags: 0, index: 0, cap_offset: 0, size: 0n, offset: 0n };
    expect(() => B.VfioRegionInfo.encode(value, { arch: 'x86-64' as never })).toThrow(/^arch: unknown architecture "x86-64"/);
    expect(() => B.VfioRegionInfo.write(new DataView(new ArrayBuffer(32)), 0, value, { arch: '' as never })).toThrow(/^arch: unknown architecture ""/);
  });

  it("every codec and chain walker takes the kernel's and Node's names of every architecture", () => {
    for (const arch of [...Object.keys(NODE_NAMES), ...Object.values(NODE_NAMES)]) {
      for (const [name, c] of codecs) expect(() => c.decode(zeros, { arch }), `${name} ${arch}`).not.toThrow();
      for (const [name, parse] of walkers) expect(() => parse(zeros, { arch }), `${name} ${arch}`).not.toThrow();
    }
  });
});
