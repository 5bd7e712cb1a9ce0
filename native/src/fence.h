/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * CPU fences shared by the production addon (addon/mmio.c, host-call MMIO path) and the test/bench
 * module (testing/testing.c): real instructions, never an access to a mapping.
 *   cpu_wmb: store fence: sfence (x86), dmb oshst (arm64)
 *   cpu_mb:  full fence:  mfence (x86), dmb osh (arm64)
 *   cpu_rmb: load fence:  lfence (x86), dmb oshld (arm64)
 * Elsewhere a full compiler + CPU barrier (__sync_synchronize).
 */
#ifndef VFIO_SUBREGION_FENCE_H
#define VFIO_SUBREGION_FENCE_H

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

#endif /* VFIO_SUBREGION_FENCE_H */
