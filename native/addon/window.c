// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * wasm windows: a region mapped MAP_FIXED over page-aligned bytes of a WebAssembly.Memory, so plain
 * wasm loads and stores there reach the device.
 *
 * Only a real WebAssembly.Memory is accepted: the addon calls the `buffer` getter of
 * WebAssembly.Memory.prototype, taken from a fresh context (init), on it (its brand check), once, so
 * no look-alike object or replaced getter can hand over other memory. The window is referenced by its handle and by the Memory (a
 * finalizer on it): dropping the handle leaves a running guest its window; once both are gone the
 * window goes too. Revoking puts anonymous zero pages back while the Memory lives, and leaves the
 * range alone once V8 has released it.
 *
 * Windows are registered process-wide, so a worker and the main thread sharing one memory cannot
 * place overlapping windows (unmapping one would silently take the other's pages).
 */
#include "addon.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct window_slot {
	uint8_t *start, *end;
	struct vmap *m;			/* NULL while the window is being mapped */
	napi_env env;			/* whose thread may look at m */
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct window_slot *slots;
static size_t nr_slots, cap_slots;

size_t live_windows(void)
{
	size_t n;

	pthread_mutex_lock(&registry_lock);
	n = nr_slots;
	pthread_mutex_unlock(&registry_lock);
	return n;
}

/*
 * A window of this thread whose Memory was collected: V8 has released its pages, only the finalizer
 * that would say so has not run yet. Its slot is stale and a new Memory may already be there.
 */
static bool stale(const struct window_slot *s, napi_env env)
{
	napi_value v = NULL;

	return s->env == env && s->m && s->m->memory &&
	       napi_get_reference_value(env, s->m->memory, &v) == napi_ok && !v;
}

/*
 * Registers [start, start + len) for env; -EBUSY when it overlaps a live window anywhere in the
 * process. A stale window of this thread in the way is revoked first (its device record goes; its
 * pages are V8's again and are left alone).
 */
int window_claim(napi_env env, uint8_t *start, size_t len)
{
	uint8_t *end = start + len;
	struct vmap *gone;
	int err;

again:
	err = 0;
	gone = NULL;
	pthread_mutex_lock(&registry_lock);
	for (size_t i = 0; i < nr_slots; i++) {
		if (slots[i].start < end && start < slots[i].end) {
			if (stale(&slots[i], env))
				gone = slots[i].m;
			else
				err = -EBUSY;
			goto out;
		}
	}
	if (nr_slots == cap_slots) {
		size_t cap = cap_slots ? cap_slots * 2 : 16;
		struct window_slot *s = realloc(slots, cap * sizeof(*s));

		if (!s) {
			err = -ENOMEM;
			goto out;
		}
		slots = s;
		cap_slots = cap;
	}
	slots[nr_slots++] = (struct window_slot){ start, end, NULL, env };
out:
	pthread_mutex_unlock(&registry_lock);
	if (gone) {
		vmap_revoke(gone);	/* releases its slot */
		goto again;
	}
	return err;
}

/* The window mapped at start is m (its slot was claimed with window_claim). */
void window_attach(uint8_t *start, struct vmap *m)
{
	pthread_mutex_lock(&registry_lock);
	for (size_t i = 0; i < nr_slots; i++)
		if (slots[i].start == start && !slots[i].m)
			slots[i].m = m;
	pthread_mutex_unlock(&registry_lock);
}

/*
 * Releases the slot at start held by m, or with m NULL the one claimed there that no window was
 * attached to (its map failed). Slots never overlap, so start and m name one.
 */
void window_release(uint8_t *start, struct vmap *m)
{
	pthread_mutex_lock(&registry_lock);
	for (size_t i = 0; i < nr_slots; i++) {
		if (slots[i].start == start && slots[i].m == m) {
			slots[i] = slots[--nr_slots];
			break;
		}
	}
	pthread_mutex_unlock(&registry_lock);
}

/* The bytes of a real WebAssembly.Memory (shared or not), or -1 with a TypeError thrown. */
int memory_bytes(napi_env env, struct addon *a, napi_value memory, uint8_t **base, size_t *len)
{
	napi_value getter, buf, ctor, view, ignored;
	napi_typedarray_type t;
	bool pending = false, is_ab = false;

	if (!a->memory_buffer) {
		throw_state(env, "ERR_NOT_INITIALIZED", "wasmMap before init(): the runtime initialises the addon when it loads it");
		return -1;
	}
	if (napi_get_reference_value(env, a->memory_buffer, &getter) != napi_ok || !getter ||
	    napi_get_reference_value(env, a->uint8array, &ctor) != napi_ok || !ctor) {
		napi_fail(env);
		return -1;
	}
	if (napi_call_function(env, memory, getter, 0, NULL, &buf) != napi_ok) {
		napi_is_exception_pending(env, &pending);
		if (pending)
			napi_get_and_clear_last_exception(env, &ignored);
		TYPE_ERR(env, "memory must be a WebAssembly.Memory");
		return -1;
	}
	napi_is_arraybuffer(env, buf, &is_ab);
	if (is_ab) {
		if (napi_get_arraybuffer_info(env, buf, (void **)base, len) != napi_ok) {
			napi_fail(env);
			return -1;
		}
		return 0;
	}
	/* a SharedArrayBuffer: Node-API reads its bytes through a view */
	if (napi_new_instance(env, ctor, 1, &buf, &view) != napi_ok ||
	    napi_get_typedarray_info(env, view, &t, len, (void **)base, NULL, NULL) != napi_ok) {
		napi_fail(env);
		return -1;
	}
	return 0;
}

static void memory_finalize(napi_env env, void *data, void *hint)
{
	(void)env;
	(void)hint;
	vmap_put(data);
}

/*
 * wasmMap(device, offset, length, memory, at): { handle, address } for a window over linear-memory
 * bytes [at, at + length) (page-aligned, inside the memory's current size), or -errno: EBUSY when
 * it overlaps another window anywhere in the process.
 */
napi_value js_wasm_map(napi_env env, napi_callback_info info)
{
	napi_value argv[5], o, h;
	struct addon *a;
	struct vdev *d;
	struct vmap *m;
	uint64_t off;
	double dlen, dat;
	size_t len, at, mlen, ps = (size_t)sim_page_size();
	uint8_t *base;
	void *p;
	int ret;

	if (get_args(env, info, 5, argv, &a) || get_vdev(env, argv[0], &d) ||
	    get_u64_bigint(env, argv[1], "offset", &off) ||
	    get_integer(env, argv[2], "length", 1, MAX_SAFE_INTEGER, &dlen) ||
	    get_integer(env, argv[4], "at", 0, MAX_SAFE_INTEGER, &dat) ||
	    memory_bytes(env, a, argv[3], &base, &mlen))
		return NULL;
	len = (size_t)dlen;
	at = (size_t)dat;
	if (((uintptr_t)base & (ps - 1)) || (at & (ps - 1)) || (len & (ps - 1)))
		return RANGE_ERR(env, "a window must be page-aligned (%zu bytes): at 0x%zx, length 0x%zx", ps, at, len);
	if (at > mlen || len > mlen - at)
		return RANGE_ERR(env, "the window [0x%zx, 0x%zx) must lie inside the memory's current %zu bytes", at, at + len, mlen);
	d->rule = NULL;
	if (d->closed)
		return make_int(env, -EBADF);
	ret = window_claim(env, base + at, len);
	if (ret < 0)
		return throw_errno(env, -ret, "mmap", ret == -EBUSY ? "overlaps a window already mapped there (by this or another thread)" : NULL,
				   "wasmMap(at 0x%zx, length 0x%zx)", at, len);
	ret = vdev_result(d, d->ops->map(d, off, len, PROT_READ | PROT_WRITE, base + at, &p));
	if (ret < 0) {
		window_release(base + at, NULL);
		return make_int(env, ret);
	}
	m = vmap_new(env, a, d, p, len, len, PROT_READ | PROT_WRITE, true);
	if (!m) {
		mmap(p, len, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		d->ops->unmapped(d, p);
		window_release(p, NULL);
		return make_int(env, -ENOMEM);
	}
	window_attach(p, m);
	m->refs++;	/* until the handle exists */
	if (napi_create_reference(env, argv[3], 0, &m->memory) != napi_ok ||
	    napi_add_finalizer(env, argv[3], m, memory_finalize, NULL, NULL) != napi_ok)
		goto fail;
	m->refs++;
	if (!(h = vmap_handle(env, m)) || !(o = vmap_result(env, m, h, NULL)))
		goto fail;
	vmap_put(m);
	return o;
fail:
	vmap_revoke(m);
	vmap_put(m);
	return napi_fail(env);
}
