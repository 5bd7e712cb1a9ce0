// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * The host-call MMIO path: single volatile accesses through a mapping or window, what a wasm guest
 * uses for registers whose reads have side effects (a plain wasm load could be merged by the
 * optimiser), and what a read-only mapping is read through. Each call is exactly one access of
 * the given width, aligned and inside the mapping; a revoked mapping throws ERR_UNMAPPED and a store
 * to a read-only one ERR_READ_ONLY, before anything touches memory.
 */
#include "addon.h"

#include <string.h>
#include <sys/mman.h>

#include "fence.h"

static void *mmio_at(napi_env env, napi_value vm, napi_value voff, unsigned int width, bool write, struct vmap **out)
{
	struct vmap *m;
	double d;

	if (get_vmap(env, vm, &m) || get_integer(env, voff, "offset", 0, MAX_SAFE_INTEGER, &d))
		return NULL;
	if (m->revoked) {
		throw_state(env, "ERR_UNMAPPED", "the mapping is unmapped");
		return NULL;
	}
	if (write && !(m->prot & PROT_WRITE)) {
		throw_state(env, "ERR_READ_ONLY", "the mapping is read-only");
		return NULL;
	}
	if ((size_t)d > m->len || width / 8 > m->len - (size_t)d || ((size_t)d & (width / 8 - 1))) {
		RANGE_ERR(env, "offset %.0f: a %u-bit access must be aligned and inside the %zu-byte mapping", d, width, m->len);
		return NULL;
	}
	*out = m;
	return m->addr + (size_t)d;
}

/*
 * A simulated device's model performs the access when it owns the register (a read that clears, a
 * write that starts DMA: what a real device does on an uncached access); true when it did.
 */
static bool sim_trapped(struct vmap *m, void *p, unsigned int width, int write, uint64_t *v)
{
	return m->dev && m->dev->ops == &sim_ops && sim_mmio(m->dev->sim, p, width / 8, write, v) == 0;
}

static int get_width(napi_env env, napi_value v, unsigned int *w)
{
	uint32_t x;

	if (get_u32(env, v, "width", &x))
		return -1;
	if (x != 8 && x != 16 && x != 32 && x != 64) {
		RANGE_ERR(env, "width must be 8, 16, 32 or 64, got %u", x);
		return -1;
	}
	*w = x;
	return 0;
}

/* mmioRead(mapping, offset, width): a number, or a bigint for width 64. */
napi_value js_mmio_read(napi_env env, napi_callback_info info)
{
	napi_value argv[3], r;
	struct vmap *m;
	unsigned int w;
	uint64_t v;
	void *p;

	if (get_args(env, info, 3, argv, NULL) || get_width(env, argv[2], &w))
		return NULL;
	p = mmio_at(env, argv[0], argv[1], w, false, &m);
	if (!p)
		return NULL;
	if (sim_trapped(m, p, w, 0, &v)) {
		NAPI_OK(env, napi_create_uint32(env, (uint32_t)v, &r));
		return r;
	}
	switch (w) {
	case 8: NAPI_OK(env, napi_create_uint32(env, *(volatile uint8_t *)p, &r)); break;
	case 16: NAPI_OK(env, napi_create_uint32(env, *(volatile uint16_t *)p, &r)); break;
	case 32: NAPI_OK(env, napi_create_uint32(env, *(volatile uint32_t *)p, &r)); break;
	default: NAPI_OK(env, napi_create_bigint_uint64(env, *(volatile uint64_t *)p, &r)); break;
	}
	return r;
}

/* mmioWrite(mapping, offset, width, value): value a number, or a bigint. */
napi_value js_mmio_write(napi_env env, napi_callback_info info)
{
	napi_value argv[4];
	struct vmap *m;
	uint64_t v = 0;
	unsigned int w;
	double d;
	void *p;

	if (get_args(env, info, 4, argv, NULL) || get_width(env, argv[2], &w))
		return NULL;
	if (type_of(env, argv[3]) == napi_bigint) {
		if (get_u64_bigint(env, argv[3], "value", &v))
			return NULL;
	} else {
		if (get_integer(env, argv[3], "value", 0, 4294967295.0, &d))
			return NULL;
		v = (uint64_t)d;
	}
	if (w < 64 && v >> w)
		return RANGE_ERR(env, "value 0x%llx does not fit in %u bits", (unsigned long long)v, w);
	p = mmio_at(env, argv[0], argv[1], w, true, &m);
	if (!p || sim_trapped(m, p, w, 1, &v))
		return NULL;
	switch (w) {
	case 8: *(volatile uint8_t *)p = (uint8_t)v; break;
	case 16: *(volatile uint16_t *)p = (uint16_t)v; break;
	case 32: *(volatile uint32_t *)p = (uint32_t)v; break;
	default: *(volatile uint64_t *)p = v; break;
	}
	return NULL;
}

/* copyFrom(mapping, offset, dst): copies dst.length bytes of the mapping at offset into dst. */
napi_value js_copy_from(napi_env env, napi_callback_info info)
{
	napi_value argv[3];
	struct vmap *m;
	size_t len;
	double d;
	void *dst;

	if (get_args(env, info, 3, argv, NULL) || get_vmap(env, argv[0], &m) ||
	    get_integer(env, argv[1], "offset", 0, MAX_SAFE_INTEGER, &d) ||
	    get_bytes(env, argv[2], "dst", &dst, &len))
		return NULL;
	if (m->revoked)
		return throw_state(env, "ERR_UNMAPPED", "the mapping is unmapped");
	if ((size_t)d > m->len || len > m->len - (size_t)d)
		return RANGE_ERR(env, "%zu bytes at offset %.0f run past the %zu-byte mapping", len, d, m->len);
	memmove(dst, m->addr + (size_t)d, len);
	return NULL;
}

napi_value js_wmb(napi_env env, napi_callback_info info)
{
	(void)env;
	(void)info;
	cpu_wmb();
	return NULL;
}

napi_value js_mb(napi_env env, napi_callback_info info)
{
	(void)env;
	(void)info;
	cpu_mb();
	return NULL;
}

napi_value js_rmb(napi_env env, napi_callback_info info)
{
	(void)env;
	(void)info;
	cpu_rmb();
	return NULL;
}
