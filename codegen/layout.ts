import type { Arch, DataModel, IntType, IntTypeName } from './ir.js';

/**
 * The C data models a uapi struct is laid out under. LP64 (x86_64, aarch64, riscv64, ppc64le,
 * s390x, mips64el): 64-bit integers aligned to 8, pointers and long 8 bytes. ILP32 as i386 has it:
 * 64-bit integers aligned to 4 unless __aligned_u64, pointers and long 4 bytes.
 */
export const DATA_MODELS: DataModel[] = ['lp64', 'ilp32'];

/** The data model of each architecture's userspace. */
export const ARCH_MODEL: Record<Arch, DataModel> = {
  x86_64: 'lp64', i386: 'ilp32', aarch64: 'lp64', riscv64: 'lp64', s390x: 'lp64', ppc64le: 'lp64', mips64el: 'lp64',
};

/** Bytes of a pointer (and of long) in a data model; also its alignment. */
export const POINTER_SIZE: Record<DataModel, 4 | 8> = { lp64: 8, ilp32: 4 };

export const INT_TYPES: Record<IntTypeName, IntType> = {
  __u8: { kind: 'int', name: '__u8', size: 1, signed: false, aligned: false, littleEndian: false },
  __u16: { kind: 'int', name: '__u16', size: 2, signed: false, aligned: false, littleEndian: false },
  __u32: { kind: 'int', name: '__u32', size: 4, signed: false, aligned: false, littleEndian: false },
  __u64: { kind: 'int', name: '__u64', size: 8, signed: false, aligned: false, littleEndian: false },
  __s8: { kind: 'int', name: '__s8', size: 1, signed: true, aligned: false, littleEndian: false },
  __s16: { kind: 'int', name: '__s16', size: 2, signed: true, aligned: false, littleEndian: false },
  __s32: { kind: 'int', name: '__s32', size: 4, signed: true, aligned: false, littleEndian: false },
  __s64: { kind: 'int', name: '__s64', size: 8, signed: true, aligned: false, littleEndian: false },
  __aligned_u64: { kind: 'int', name: '__aligned_u64', size: 8, signed: false, aligned: true, littleEndian: false },
  __le16: { kind: 'int', name: '__le16', size: 2, signed: false, aligned: false, littleEndian: true },
  __le32: { kind: 'int', name: '__le32', size: 4, signed: false, aligned: false, littleEndian: true },
  __le64: { kind: 'int', name: '__le64', size: 8, signed: false, aligned: false, littleEndian: true },
  __aligned_le64: { kind: 'int', name: '__aligned_le64', size: 8, signed: false, aligned: true, littleEndian: true },
};

/** Alignment of an integer type: ILP32 (i386) aligns 64-bit integers to 4 unless __aligned_u64 (or __aligned_le64) says 8. */
export function intAlign(t: IntType, model: DataModel): number {
  if (model === 'ilp32' && t.size === 8 && !t.aligned) return 4;
  return t.size;
}

export const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;
