// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Interrupts as events: an interrupt set is `count` non-blocking eventfds, one per vector, each
 * watched by a uv_poll_t on the environment's event loop. When a device (the kernel's vfio-pci, or
 * the simulator) signals one, the loop wakes, the counter is read (which resets it) and the
 * callback gets (vector, count): nothing blocks the event loop and no thread is spent waiting.
 *
 * The fds are the addon's: irqSetEventfds writes them into VFIO_DEVICE_SET_IRQS itself, so
 * JavaScript never handles an fd number. A set keeps the event loop alive while it is open, unless
 * unref'd; closing it (or collecting it, or the environment going) stops the polls and closes the
 * fds. The device keeps its own reference to each eventfd until SET_IRQS releases it, as the kernel
 * does.
 */
#include "addon.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <uv.h>

#include <linux/vfio.h>
#include <linux/vfio_subregion.h>
#include "vfio_subregion_validate.h"

struct virq_vec {
	uv_poll_t poll;			/* first: the uv handle's address is the vector's */
	struct virq *irq;
	uint32_t vector;
	int fd;
};

struct virq {
	struct virq *next, **pprev;	/* in the addon's list while open */
	napi_env env;
	napi_ref callback;
	napi_async_context async;
	uint32_t count;
	struct virq_vec *vecs;
	unsigned int refs;		/* the handle, each uv handle not yet closed */
	bool closed;
};

static atomic_size_t nr_eventfds;

size_t live_eventfds(void)
{
	return atomic_load(&nr_eventfds);
}

static void virq_put(struct virq *q)
{
	if (--q->refs)
		return;
	free(q->vecs);
	free(q);
}

static void on_uv_closed(uv_handle_t *h)
{
	virq_put(((struct virq_vec *)h)->irq);
}

/* Stops every poll and closes every fd; the uv handles go when libuv is done with them. */
static void virq_close(struct virq *q)
{
	if (q->closed)
		return;
	q->closed = true;
	if (q->pprev) {
		*q->pprev = q->next;
		if (q->next)
			q->next->pprev = q->pprev;
		q->pprev = NULL;
	}
	for (uint32_t i = 0; i < q->count; i++) {
		struct virq_vec *v = &q->vecs[i];

		if (v->fd < 0)
			continue;
		uv_poll_stop(&v->poll);
		close(v->fd);
		v->fd = -1;
		atomic_fetch_sub(&nr_eventfds, 1);
		uv_close((uv_handle_t *)&v->poll, on_uv_closed);
	}
	if (q->callback)
		napi_delete_reference(q->env, q->callback);
	q->callback = NULL;
	if (q->async)
		napi_async_destroy(q->env, q->async);
	q->async = NULL;
}

void irq_teardown(struct addon *a)
{
	while (a->irqs)
		virq_close(a->irqs);
}

static void on_readable(uv_poll_t *h, int status, int events)
{
	struct virq_vec *v = (struct virq_vec *)h;
	struct virq *q = v->irq;
	napi_env env = q->env;
	napi_handle_scope scope;
	napi_value cb, recv, args[2], ignored;
	uint64_t n;

	(void)events;
	if (status < 0 || q->closed || read(v->fd, &n, sizeof(n)) != sizeof(n))
		return;
	if (napi_open_handle_scope(env, &scope) != napi_ok)
		return;
	if (napi_get_reference_value(env, q->callback, &cb) == napi_ok && cb &&
	    napi_get_global(env, &recv) == napi_ok &&
	    napi_create_uint32(env, v->vector, &args[0]) == napi_ok &&
	    napi_create_double(env, (double)n, &args[1]) == napi_ok &&
	    napi_make_callback(env, q->async, recv, cb, 2, args, &ignored) == napi_pending_exception) {
		napi_value e;

		/* an exception in the callback is the process's uncaught exception, as in any event callback */
		if (napi_get_and_clear_last_exception(env, &e) == napi_ok)
			napi_fatal_exception(env, e);
	}
	napi_close_handle_scope(env, scope);
}

static void irq_finalize(napi_env env, void *data, void *hint)
{
	struct virq *q = data;

	(void)env;
	(void)hint;
	handle_del(q);
	virq_close(q);
	virq_put(q);
}

static int get_virq(napi_env env, napi_value v, struct virq **out)
{
	if (napi_get_value_external(env, v, (void **)out) != napi_ok || !handle_is(*out, HANDLE_IRQ)) {
		TYPE_ERR(env, "irq must be an interrupt set handle (irqCreate)");
		return -1;
	}
	return 0;
}

/* irqCreate(count, callback): `count` eventfds watched on the event loop; callback(vector, count) on each signal. */
napi_value js_irq_create(napi_env env, napi_callback_info info)
{
	napi_value argv[2], h, name;
	struct addon *a;
	struct virq *q;
	uv_loop_t *loop;
	double count;

	if (get_args(env, info, 2, argv, &a) || get_integer(env, argv[0], "count", 1, 2048, &count))
		return NULL;
	if (type_of(env, argv[1]) != napi_function)
		return TYPE_ERR(env, "callback must be a function");
	NAPI_OK(env, napi_get_uv_event_loop(env, &loop));
	q = calloc(1, sizeof(*q));
	if (!q || !(q->vecs = calloc((size_t)count, sizeof(*q->vecs)))) {
		free(q);
		return throw_errno(env, ENOMEM, "malloc", NULL, "irqCreate");
	}
	q->env = env;
	q->count = (uint32_t)count;
	q->refs = 1;
	for (uint32_t i = 0; i < q->count; i++)
		q->vecs[i].fd = -1;
	q->next = a->irqs;
	if (q->next)
		q->next->pprev = &q->next;
	q->pprev = &a->irqs;
	a->irqs = q;
	for (uint32_t i = 0; i < q->count; i++) {
		struct virq_vec *v = &q->vecs[i];
		int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), err;

		if (fd < 0) {
			err = errno;
			virq_close(q);
			virq_put(q);
			return throw_errno(env, err, "eventfd", NULL, "irqCreate: vector %u", i);
		}
		err = uv_poll_init(loop, &v->poll, fd);
		if (err) {
			close(fd);
			virq_close(q);
			virq_put(q);
			return throw_errno(env, -err, "uv_poll_init", NULL, "irqCreate: vector %u", i);
		}
		v->irq = q;
		v->vector = i;
		v->fd = fd;
		q->refs++;
		atomic_fetch_add(&nr_eventfds, 1);
		err = uv_poll_start(&v->poll, UV_READABLE, on_readable);
		if (err) {
			virq_close(q);
			virq_put(q);
			return throw_errno(env, -err, "uv_poll_start", NULL, "irqCreate: vector %u", i);
		}
	}
	if (napi_create_reference(env, argv[1], 1, &q->callback) != napi_ok ||
	    napi_create_string_utf8(env, "vfio-interrupt", NAPI_AUTO_LENGTH, &name) != napi_ok ||
	    napi_async_init(env, NULL, name, &q->async) != napi_ok ||
	    handle_add(q, HANDLE_IRQ) < 0) {
		virq_close(q);
		virq_put(q);
		return napi_fail(env);
	}
	if (napi_create_external(env, q, irq_finalize, NULL, &h) != napi_ok) {
		handle_del(q);
		virq_close(q);
		virq_put(q);
		return napi_fail(env);
	}
	return h;
}

/*
 * irqSetEventfds(device, irq, arg): VFIO_DEVICE_SET_IRQS with DATA_EVENTFD, arg the encoded struct
 * vfio_irq_set (flags, index, start, count == the set's count) whose data the addon fills with the
 * set's eventfds, vector i for start + i. 0, or -errno.
 */
napi_value js_irq_set_eventfds(napi_env env, napi_callback_info info)
{
	struct vfio_irq_set hdr, *set;
	napi_value argv[3];
	struct virq *q;
	struct vdev *d;
	size_t alen, size;
	void *arg;
	int ret;

	if (get_args(env, info, 3, argv, NULL) || get_vdev(env, argv[0], &d) || get_virq(env, argv[1], &q) ||
	    get_bytes(env, argv[2], "arg", &arg, &alen))
		return NULL;
	if (d->fd_kind != VFIO_SUBREGION_FD_DEVICE)
		return TYPE_ERR(env, "device must be a device handle, not a %s handle", vfio_subregion_fd_kind_names[d->fd_kind]);
	if (alen < sizeof(hdr))
		return RANGE_ERR(env, "arg (%zu bytes) is shorter than struct vfio_irq_set (%zu)", alen, sizeof(hdr));
	memcpy(&hdr, arg, sizeof(hdr));
	if (hdr.count != q->count)
		return RANGE_ERR(env, "arg.count (%u) must be the interrupt set's count (%u)", hdr.count, q->count);
	if ((hdr.flags & VFIO_IRQ_SET_DATA_TYPE_MASK) != VFIO_IRQ_SET_DATA_EVENTFD)
		return RANGE_ERR(env, "arg.flags must say VFIO_IRQ_SET_DATA_EVENTFD");
	if (q->closed)
		return throw_state(env, "ERR_IRQ_CLOSED", "irqSetEventfds: the interrupt set is closed");
	size = sizeof(hdr) + (size_t)q->count * sizeof(int32_t);
	set = malloc(size);
	if (!set)
		return make_int(env, -ENOMEM);
	*set = hdr;
	set->argsz = (uint32_t)size;
	for (uint32_t i = 0; i < q->count; i++) {
		int32_t fd = q->vecs[i].fd;

		memcpy(set->data + i * sizeof(fd), &fd, sizeof(fd));
	}
	d->rule = NULL;
	ret = d->closed ? -EBADF : (int)vdev_result(d, d->ops->ioctl(d, VFIO_DEVICE_SET_IRQS, set, size));
	free(set);
	return make_int(env, ret);
}

/* irqRef(irq, ref): whether the open set keeps the event loop alive (uv_ref / uv_unref). */
napi_value js_irq_ref(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	struct virq *q;
	int ref;

	if (get_args(env, info, 2, argv, NULL) || get_virq(env, argv[0], &q) || get_bool(env, argv[1], "ref", false, &ref))
		return NULL;
	for (uint32_t i = 0; i < q->count && !q->closed; i++) {
		if (ref)
			uv_ref((uv_handle_t *)&q->vecs[i].poll);
		else
			uv_unref((uv_handle_t *)&q->vecs[i].poll);
	}
	return NULL;
}

/* irqClose(irq): stops the polls and closes the eventfds. Idempotent. */
napi_value js_irq_close(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	struct virq *q;

	if (get_args(env, info, 1, argv, NULL) || get_virq(env, argv[0], &q))
		return NULL;
	virq_close(q);
	return NULL;
}
