/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * CPU fences for device memory, as the kernel's wmb()/mb()/rmb() on x86 and arm64: real
 * instructions, never an access to a mapping.
 */
#ifndef VFIO_FENCE_H
#define VFIO_FENCE_H

static inline void cpu_wmb(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("sfence" ::: "memory");
#elif defined(__aarch64__)
	__asm__ __volatile__("dmb oshst" ::: "memory");
#else
	__sync_synchronize();
#endif
}

static inline void cpu_mb(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("mfence" ::: "memory");
#elif defined(__aarch64__)
	__asm__ __volatile__("dmb osh" ::: "memory");
#else
	__sync_synchronize();
#endif
}

static inline void cpu_rmb(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("lfence" ::: "memory");
#elif defined(__aarch64__)
	__asm__ __volatile__("dmb oshld" ::: "memory");
#else
	__sync_synchronize();
#endif
}

#endif /* VFIO_FENCE_H */
