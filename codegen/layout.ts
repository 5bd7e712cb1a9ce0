import type { IntType, IntTypeName } from './ir.js';

/** Target ABIs whose layouts must agree: a uapi struct has one layout for 32- and 64-bit userspace. */
export type LayoutAbi = 'x86_64' | 'i386';

export const INT_TYPES: Record<IntTypeName, IntType> = {
  __u8: { kind: 'int', name: '__u8', size: 1, signed: false },
  __u16: { kind: 'int', name: '__u16', size: 2, signed: false },
  __u32: { kind: 'int', name: '__u32', size: 4, signed: false },
  __u64: { kind: 'int', name: '__u64', size: 8, signed: false },
  __s8: { kind: 'int', name: '__s8', size: 1, signed: true },
  __s16: { kind: 'int', name: '__s16', size: 2, signed: true },
  __s32: { kind: 'int', name: '__s32', size: 4, signed: true },
  __s64: { kind: 'int', name: '__s64', size: 8, signed: true },
  __aligned_u64: { kind: 'int', name: '__aligned_u64', size: 8, signed: false },
};

/** Alignment of an integer type: i386 aligns 64-bit integers to 4 unless __aligned_u64 says 8. */
export function intAlign(t: IntType, abi: LayoutAbi): number {
  if (abi === 'i386' && t.size === 8 && t.name !== '__aligned_u64') return 4;
  return t.size;
}

export const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;
