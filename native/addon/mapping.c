// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Mappings: their lifetime (see addon.h) and the calls that make and revoke them.
 *
 * A read-only mapping gets no ArrayBuffer: JavaScript cannot be stopped from storing into one, and
 * a store into a PROT_READ page kills the process. It is read through mmioRead and copyFrom.
 */
#include "addon.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/*
 * Ranges not yet released, process-wide. Each is a VMA until its last reference is collected;
 * past this bound mmap answers ENOMEM instead of letting vm.max_map_count run out under V8.
 */
#define MAX_RANGES 16384
/*
 * What V8 is told each range costs: not its bytes (device memory, or untouched anonymous pages once
 * revoked, which cost nothing), but enough that a few thousand pending ranges make it collect.
 */
#define RANGE_WEIGHT 4096
static atomic_size_t nr_ranges;

size_t live_ranges(void)
{
	return atomic_load(&nr_ranges);
}

struct vmap *vmap_new(napi_env env, struct addon *a, struct vdev *d, void *addr, size_t len, size_t span,
		      int prot, bool window)
{
	struct vmap *m = calloc(1, sizeof(*m));

	(void)a;
	if (!m)
		return NULL;
	m->env = env;
	m->addr = addr;
	m->len = len;
	m->span = span;
	m->prot = prot;
	m->window = window;
	m->dev = d;
	vdev_get(d);
	m->next = d->maps;
	d->maps = m;
	if (!window) {
		atomic_fetch_add(&nr_ranges, 1);
		napi_adjust_external_memory(env, RANGE_WEIGHT, &(int64_t){ 0 });
	}
	return m;
}

static void range_released(struct vmap *m)
{
	m->released = true;
	atomic_fetch_sub(&nr_ranges, 1);
	napi_adjust_external_memory(m->env, -RANGE_WEIGHT, &(int64_t){ 0 });
}

static bool memory_alive(struct vmap *m)
{
	napi_value v = NULL;

	return m->memory && napi_get_reference_value(m->env, m->memory, &v) == napi_ok && v;
}

/* Device pages out, anonymous pages in, in place; the range stays ours until vmap_put frees it. */
void vmap_revoke(struct vmap *m)
{
	struct vdev *d = m->dev;
	struct vmap **pp;
	napi_value ab;

	if (m->revoked)
		return;
	m->revoked = true;
	if (!m->window && !m->exposed) {
		/* nothing outside the addon can reach the range: release it now */
		munmap(m->addr, m->span);
		range_released(m);
	} else if (!m->window || memory_alive(m)) {
		mmap(m->addr, m->span, PROT_READ | PROT_WRITE,
		     MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	}
	if (m->window)
		window_release(m->addr, m);
	if (m->buffer && napi_get_reference_value(m->env, m->buffer, &ab) == napi_ok && ab)
		napi_detach_arraybuffer(m->env, ab);
	for (pp = &d->maps; *pp; pp = &(*pp)->next) {
		if (*pp == m) {
			*pp = m->next;
			break;
		}
	}
	if (!d->closed)
		d->ops->unmapped(d, m->addr);
	m->dev = NULL;
	vdev_put(d);
}

void vmap_put(struct vmap *m)
{
	if (--m->refs)
		return;
	vmap_revoke(m);
	if (!m->window && !m->released) {
		munmap(m->addr, m->span);
		range_released(m);
	}
	if (m->buffer)
		napi_delete_reference(m->env, m->buffer);
	if (m->memory)
		napi_delete_reference(m->env, m->memory);
	handle_del(m);
	free(m);
}

static void ref_finalize(napi_env env, void *data, void *hint)
{
	(void)env;
	(void)hint;
	vmap_put(data);
}


int get_vmap(napi_env env, napi_value v, struct vmap **out)
{
	if (type_of(env, v) != napi_external || napi_get_value_external(env, v, (void **)out) != napi_ok ||
	    !handle_is(*out, HANDLE_MAPPING)) {
		TYPE_ERR(env, "mapping must be a mapping handle");
		return -1;
	}
	return 0;
}

/* The handle of a new mapping; it holds a reference. */
napi_value vmap_handle(napi_env env, struct vmap *m)
{
	napi_value h;

	if (!handle_is(m, HANDLE_MAPPING) && handle_add(m, HANDLE_MAPPING) < 0)
		return NULL;
	if (napi_create_external(env, m, ref_finalize, NULL, &h) != napi_ok)
		return NULL;
	m->refs++;
	return h;
}

/* The mapping of mmap and mmapHandle, with a reference of its own the caller drops; NULL with *ret set or an exception. */
static struct vmap *map_new(napi_env env, napi_callback_info info, int *ret)
{
	napi_value argv[4];
	struct vdev *d;
	struct vmap *m;
	struct addon *a;
	uint64_t off;
	uint32_t prot;
	size_t len, span, ps = (size_t)sim_page_size();
	double dlen;
	void *p;

	*ret = 0;
	if (get_args(env, info, 4, argv, &a) || get_vdev(env, argv[0], &d) ||
	    get_u64_bigint(env, argv[1], "offset", &off) ||
	    get_integer(env, argv[2], "length", 1, MAX_SAFE_INTEGER, &dlen) ||
	    get_u32(env, argv[3], "prot", &prot))
		return NULL;
	if (prot != PROT_READ && prot != (PROT_READ | PROT_WRITE)) {
		RANGE_ERR(env, "prot must be PROT_READ or PROT_READ | PROT_WRITE, got %u", prot);
		return NULL;
	}
	len = (size_t)dlen;
	span = (len + ps - 1) & ~(ps - 1);
	d->rule = NULL;
	if (d->closed) {
		*ret = -EBADF;
		return NULL;
	}
	if (live_ranges() >= MAX_RANGES) {
		throw_errno(env, ENOMEM, "mmap", "too many mappings wait to be collected: unmap them, or let the event loop run so that dropped ones are released",
			    "mmap(length %zu)", len);
		return NULL;
	}
	*ret = vdev_result(d, d->ops->map(d, off, len, (int)prot, NULL, &p));
	if (*ret < 0)
		return NULL;
	m = vmap_new(env, a, d, p, len, span, (int)prot, false);
	if (!m) {
		munmap(p, span);
		d->ops->unmapped(d, p);
		*ret = -ENOMEM;
		return NULL;
	}
	m->refs++;	/* the caller's, until the handle (and buffer) exist */
	return m;
}

/*
 * A new ArrayBuffer over a writable mapping; revoking detaches it. Its reference is held by the
 * ArrayBuffer *object* (a finalizer on it), not by its backing store: detaching frees the backing
 * store at once, while a job that was handed the buffer (fs.read, crypto.randomFill) keeps the
 * object, and writes through the address it took, until it completes.
 */
static napi_value vmap_buffer(napi_env env, struct vmap *m)
{
	napi_value ab;

	if (napi_create_external_arraybuffer(env, m->addr, m->len, NULL, NULL, &ab) != napi_ok ||
	    napi_add_finalizer(env, ab, m, ref_finalize, NULL, NULL) != napi_ok)
		return NULL;
	m->refs++;
	m->exposed = true;
	if (m->buffer)
		napi_delete_reference(env, m->buffer);
	m->buffer = NULL;
	if (napi_create_reference(env, ab, 0, &m->buffer) != napi_ok)
		return NULL;
	return ab;
}

/* What mmap and wasmMap return: { handle, buffer (when ab), address }; NULL when Node-API fails. */
napi_value vmap_result(napi_env env, struct vmap *m, napi_value h, napi_value ab)
{
	napi_value o, v;

	if (napi_create_object(env, &o) != napi_ok ||
	    napi_set_named_property(env, o, "handle", h) != napi_ok ||
	    (ab && napi_set_named_property(env, o, "buffer", ab) != napi_ok) ||
	    napi_create_bigint_uint64(env, (uint64_t)(uintptr_t)m->addr, &v) != napi_ok ||
	    napi_set_named_property(env, o, "address", v) != napi_ok)
		return NULL;
	return o;
}

/*
 * mmap(device, offset, length, prot): { handle, buffer, address }, buffer null for a read-only
 * mapping; or -errno.
 */
napi_value js_mmap(napi_env env, napi_callback_info info)
{
	napi_value o, h, ab = NULL;
	struct vmap *m;
	int ret;

	if (!(m = map_new(env, info, &ret)))
		return ret < 0 ? make_int(env, ret) : NULL;
	/* mmap's contract, read-only mappings included: revoked in place, released when collected */
	m->exposed = true;
	if (!(h = vmap_handle(env, m)))
		goto fail;
	if (m->prot & PROT_WRITE) {
		if (!(ab = vmap_buffer(env, m)))
			goto fail;
	} else if (napi_get_null(env, &ab) != napi_ok) {
		goto fail;
	}
	if (!(o = vmap_result(env, m, h, ab)))
		goto fail;
	vmap_put(m);
	return o;
fail:
	vmap_revoke(m);
	vmap_put(m);
	return napi_fail(env);
}

/*
 * mmapHandle(device, offset, length, prot): a mapping handle, or -errno. No ArrayBuffer: until
 * mappingBuffer hands one out, only the addon reaches the range, and unmapping releases it at once.
 */
napi_value js_mmap_handle(napi_env env, napi_callback_info info)
{
	struct vmap *m;
	napi_value h;
	int ret;

	if (!(m = map_new(env, info, &ret)))
		return ret < 0 ? make_int(env, ret) : NULL;
	h = vmap_handle(env, m);
	if (!h)
		vmap_revoke(m);
	vmap_put(m);
	return h ? h : napi_fail(env);
}

/*
 * mappingBuffer(mapping): an ArrayBuffer over a live writable mapping (the one handed out before
 * while it is alive), null for a read-only one; ERR_UNMAPPED once revoked.
 */
napi_value js_mapping_buffer(napi_env env, napi_callback_info info)
{
	napi_value argv[1], ab = NULL;
	struct vmap *m;

	if (get_args(env, info, 1, argv, NULL) || get_vmap(env, argv[0], &m))
		return NULL;
	if (m->window)
		return TYPE_ERR(env, "mapping must be a mapping handle, not a window's");
	if (m->revoked)
		return throw_state(env, "ERR_UNMAPPED", "the mapping is unmapped");
	if (!(m->prot & PROT_WRITE)) {
		NAPI_OK(env, napi_get_null(env, &ab));
		return ab;
	}
	if (m->buffer && napi_get_reference_value(env, m->buffer, &ab) == napi_ok && ab)
		return ab;
	return (ab = vmap_buffer(env, m)) ? ab : napi_fail(env);
}

/* mappingAddress(mapping): the process address of the mapping's (or window's) first byte. */
napi_value js_mapping_address(napi_env env, napi_callback_info info)
{
	napi_value argv[1], v;
	struct vmap *m;

	if (get_args(env, info, 1, argv, NULL) || get_vmap(env, argv[0], &m))
		return NULL;
	NAPI_OK(env, napi_create_bigint_uint64(env, (uint64_t)(uintptr_t)m->addr, &v));
	return v;
}

/* munmap(mapping): revokes it (see addon.h). Idempotent. */
napi_value js_munmap(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	struct vmap *m;

	if (get_args(env, info, 1, argv, NULL) || get_vmap(env, argv[0], &m))
		return NULL;
	vmap_revoke(m);
	return NULL;
}
