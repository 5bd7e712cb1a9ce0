import type { Errno } from './ir.js';

/** asm-generic errno values (x86, arm64, riscv, s390, powerpc; mips and sparc differ). */
export const ERRNO_VALUES: Record<Errno, number> = {
  EPERM: 1,
  ENXIO: 6,
  E2BIG: 7,
  ENOMEM: 12,
  EFAULT: 14,
  EBUSY: 16,
  ENODEV: 19,
  EINVAL: 22,
  ENOTTY: 25,
  ENOSPC: 28,
  ERANGE: 34,
  EOVERFLOW: 75,
  EOPNOTSUPP: 95,
};
