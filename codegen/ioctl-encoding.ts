import type { Arch } from './ir.js';

/**
 * The _IOC() encodings Linux uses. Most architectures take asm-generic/ioctl.h; powerpc and mips
 * have a 13-bit size field and a 3-bit direction field in which "none" is a bit of its own.
 */
interface IocLayout {
  sizeBits: number;
  none: number;
  read: number;
  write: number;
}

const GENERIC: IocLayout = { sizeBits: 14, none: 0, read: 2, write: 1 };
const POWERPC_MIPS: IocLayout = { sizeBits: 13, none: 1, read: 2, write: 4 };

export const ARCH_LAYOUT: Record<Arch, IocLayout> = {
  x86_64: GENERIC,
  i386: GENERIC,
  aarch64: GENERIC,
  riscv64: GENERIC,
  s390x: GENERIC,
  ppc64le: POWERPC_MIPS,
  mips64el: POWERPC_MIPS,
};

export const ARCHES = Object.keys(ARCH_LAYOUT) as Arch[];

export type IocDir = 'IO' | 'IOR' | 'IOW' | 'IOWR';

/** _IOC(dir, type, nr, size) for one architecture, as an unsigned 32-bit number. */
export function encodeIoctl(arch: Arch, dir: IocDir, type: number, nr: number, size: number): number {
  const l = ARCH_LAYOUT[arch];
  const d = { IO: l.none, IOR: l.read, IOW: l.write, IOWR: l.read | l.write }[dir];
  const sz = dir === 'IO' ? 0 : size;
  if (sz >= 2 ** l.sizeBits) throw new RangeError(`ioctl argument size ${sz} does not fit the ${l.sizeBits}-bit size field on ${arch}`);
  return ((d << (16 + l.sizeBits)) | (sz << 16) | ((type & 0xff) << 8) | (nr & 0xff)) >>> 0;
}
