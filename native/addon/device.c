// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Device handles and the calls on them. A handle is an external handles.c knows: a number cannot be
 * passed for it, and closing an fd behind the addon's back (fs.closeSync) cannot make a handle
 * reach another file. ioctl, pread and pwrite return a byte count or result, or a negative errno:
 * the runtime turns that into its error (with the operation and the spec's rule), so a refusal
 * costs no exception here.
 */
#include "addon.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/vfio.h>
#include <linux/vfio_subregion.h>
#include "vfio_subregion_validate.h"
#include "sim.h"
#include "vfio_host.h"

/* Each open device counts as this much external memory, so that V8 collects dropped ones. */
#define DEVICE_WEIGHT (1 << 20)

/* ---------------------------------------------------------------- host backend */

static int host_ioctl(struct vdev *d, unsigned long request, void *arg, size_t len)
{
	int r = ioctl(d->host.fd, request, len ? arg : NULL);

	return r < 0 ? -errno : r;
}

static ssize_t host_rw(struct vdev *d, void *buf, size_t len, uint64_t offset, bool write)
{
	ssize_t n;

	if (offset > INT64_MAX)
		return -EINVAL;
	do {
		n = write ? pwrite(d->host.fd, buf, len, (off_t)offset) : pread(d->host.fd, buf, len, (off_t)offset);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

/*
 * A window is mapped somewhere first and then moved over the caller's pages, so a refused mmap
 * leaves the caller's memory as it was (a failed MAP_FIXED would already have unmapped it).
 */
/*
 * A store to a page of a regular file past its end is SIGBUS, and so is one after someone shrinks
 * it: only a file sealed against shrinking (a simulator's memfd) is mapped, and only inside it. A
 * handle's fd is its own and never changes file, so one known at open not to be a regular file (a
 * VFIO device) maps without the fstat.
 */
static int host_map_allowed(const struct vdev *d, uint64_t offset, size_t len)
{
	int fd = d->host.fd;
	struct stat st;
	int seals;

	if (!d->host.regular)
		return 0;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return 0;
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK))
		return -EPERM;
	if (offset > (uint64_t)st.st_size || len > (uint64_t)st.st_size - offset)
		return -EINVAL;
	return 0;
}

static int host_map(struct vdev *d, uint64_t offset, size_t len, int prot, void *at, void **out)
{
	void *p;
	int err;

	if (offset > INT64_MAX)
		return -EINVAL;
	err = host_map_allowed(d, offset, len);
	if (err)
		return err;
	p = mmap(NULL, len, prot, MAP_SHARED, d->host.fd, (off_t)offset);
	if (p == MAP_FAILED)
		return -errno;
	if (at) {
		void *q = mremap(p, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, at);

		if (q == MAP_FAILED) {
			int err = errno;

			munmap(p, len);
			/* mremap unmaps the target before it can fail: never leave a hole in it */
			mmap(at, len, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			return -err;
		}
		p = q;
	}
	*out = p;
	return 0;
}

static void host_unmapped(struct vdev *d, void *addr)
{
	(void)d;
	(void)addr;
}

static const char *host_last_rule(const struct vdev *d)
{
	(void)d;
	return NULL;
}

static void host_release(struct vdev *d)
{
	close(d->host.fd);
	for (int i = 0; i < 2; i++)
		if (d->host.extra[i] >= 0)
			close(d->host.extra[i]);
}

const struct vdev_ops host_ops = {
	.name = "host",
	.ioctl = host_ioctl,
	.rw = host_rw,
	.map = host_map,
	.unmapped = host_unmapped,
	.last_rule = host_last_rule,
	.release = host_release,
};

/* ---------------------------------------------------------------- simulator backend */

static int sim_ops_ioctl(struct vdev *d, unsigned long request, void *arg, size_t len)
{
	return sim_ioctl(d->sim, request, arg, len);
}

static ssize_t sim_ops_rw(struct vdev *d, void *buf, size_t len, uint64_t offset, bool write)
{
	return sim_rw(d->sim, buf, len, offset, write);
}

static int sim_ops_map(struct vdev *d, uint64_t offset, size_t len, int prot, void *at, void **out)
{
	if (at) {
		*out = at;
		return sim_mmap_fixed(d->sim, offset, len, prot, at);
	}
	return sim_mmap(d->sim, offset, len, prot, out);
}

static void sim_ops_unmapped(struct vdev *d, void *addr)
{
	sim_forget(d->sim, addr);
}

static const char *sim_ops_last_rule(const struct vdev *d)
{
	return sim_last_rule(d->sim);
}

static void sim_ops_release(struct vdev *d)
{
	sim_destroy(d->sim);
}

const struct vdev_ops sim_ops = {
	.name = "sim",
	.ioctl = sim_ops_ioctl,
	.rw = sim_ops_rw,
	.map = sim_ops_map,
	.unmapped = sim_ops_unmapped,
	.last_rule = sim_ops_last_rule,
	.release = sim_ops_release,
};

/* ---------------------------------------------------------------- lifetime */

struct vdev *vdev_new(napi_env env, struct addon *a, const struct vdev_ops *ops)
{
	struct vdev *d = calloc(1, sizeof(*d));

	if (!d) {
		throw_errno(env, ENOMEM, "malloc", NULL, "device");
		return NULL;
	}
	d->ops = ops;
	d->host.fd = -1;
	d->host.extra[0] = d->host.extra[1] = -1;
	d->host.regular = true;
	d->fd_kind = VFIO_SUBREGION_FD_DEVICE;
	d->owner = a;
	d->next = a->devices;
	if (d->next)
		d->next->pprev = &d->next;
	d->pprev = &a->devices;
	a->devices = d;
	return d;
}

/* Records the rule behind a backend's refusal (or none) for lastRule, and passes ret on. */
ssize_t vdev_result(struct vdev *d, ssize_t ret)
{
	d->rule = ret < 0 ? d->ops->last_rule(d) : NULL;
	return ret;
}

void vdev_get(struct vdev *d)
{
	d->refs++;
}

/* Revokes every mapping (windows first: a guest then sees zero pages, never a torn-down BAR). */
void vdev_close(napi_env env, struct vdev *d)
{
	struct vmap **pp;

	if (d->closed)
		return;
	vdev_get(d);	/* revoking drops the mappings' references */
	for (int pass = 0; pass < 2; pass++) {
		for (pp = &d->maps; *pp;) {
			struct vmap *m = *pp;

			if (m->window == (pass == 0))
				vmap_revoke(m);	/* unlinks m */
			else
				pp = &m->next;
		}
	}
	dma_unpin_all(d);
	d->ops->release(d);
	d->closed = true;
	if (d->external && d->owner)
		napi_adjust_external_memory(env, -d->external, &(int64_t){ 0 });
	d->external = 0;
	vdev_put(d);
}

void vdev_put(struct vdev *d)
{
	if (--d->refs)
		return;
	if (!d->closed) {
		/* dropped without close: no live mapping is left (each held a reference) */
		dma_unpin_all(d);
		d->ops->release(d);
		d->closed = true;
	}
	if (d->owner) {
		*d->pprev = d->next;
		if (d->next)
			d->next->pprev = d->pprev;
	}
	handle_del(d);
	free(d->scratch);
	free(d);
}

static void handle_finalize(napi_env env, void *data, void *hint)
{
	struct vdev *d = data;

	(void)hint;
	if (d->external && d->owner)
		napi_adjust_external_memory(env, -d->external, &(int64_t){ 0 });
	d->external = 0;
	vdev_put(d);
}

/* The JS handle of a new device; it holds the first reference. */
napi_value vdev_handle(napi_env env, struct vdev *d, int64_t external)
{
	napi_value h;

	if (handle_add(d, HANDLE_DEVICE) < 0 || napi_create_external(env, d, handle_finalize, NULL, &h) != napi_ok) {
		vdev_get(d);
		vdev_close(env, d);
		vdev_put(d);
		return napi_fail(env);
	}
	vdev_get(d);
	d->external = DEVICE_WEIGHT + external;
	napi_adjust_external_memory(env, d->external, &(int64_t){ 0 });
	return h;
}

int get_vdev(napi_env env, napi_value v, struct vdev **out)
{
	if (napi_get_value_external(env, v, (void **)out) != napi_ok || !handle_is(*out, HANDLE_DEVICE)) {
		TYPE_ERR(env, "device must be a device handle");
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- open */

static napi_value host_handle(napi_env env, struct addon *a, int fd, uint32_t fd_kind, const int *extra, int nr_extra, uint32_t ioas)
{
	struct vdev *d = vdev_new(env, a, &host_ops);
	struct stat st;

	if (!d) {
		close(fd);
		for (int i = 0; i < nr_extra; i++)
			close(extra[i]);
		return NULL;
	}
	d->host.fd = fd;
	d->host.regular = fstat(fd, &st) < 0 || S_ISREG(st.st_mode);
	d->fd_kind = fd_kind;
	d->ioas = ioas;
	for (int i = 0; i < nr_extra; i++)
		d->host.extra[i] = extra[i];
	return vdev_handle(env, d, 0);
}

/*
 * The spec's fd kind named by v (undefined: device), which decides the ioctls a handle takes: a
 * request number means other arguments on other kinds of fd.
 */
static int get_fd_kind(napi_env env, napi_value v, uint32_t *out)
{
	char *name;
	uint32_t i;

	if (type_of(env, v) == napi_undefined) {
		*out = VFIO_SUBREGION_FD_DEVICE;
		return 0;
	}
	if (get_string(env, v, "fdKind", &name))
		return -1;
	for (i = 0; i < VFIO_SUBREGION_NR_FD_KINDS; i++)
		if (!strcmp(name, vfio_subregion_fd_kind_names[i]))
			break;
	if (i == VFIO_SUBREGION_NR_FD_KINDS) {
		RANGE_ERR(env, "fdKind must be a kind of fd of the spec (VfioFdKind), got '%s'", name);
		free(name);
		return -1;
	}
	free(name);
	*out = i;
	return 0;
}

/* open(path, fdKind): a handle over open(path, O_RDWR | O_CLOEXEC) whose ioctls are those of fdKind. */
napi_value js_open(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	struct addon *a;
	uint32_t kind;
	char *path;
	int fd;

	if (get_args(env, info, 2, argv, &a) || get_fd_kind(env, argv[1], &kind) || get_string(env, argv[0], "path", &path))
		return NULL;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;

		throw_errno(env, err, "open", NULL, "open(%s)", path);
		free(path);
		return NULL;
	}
	free(path);
	return host_handle(env, a, fd, kind, NULL, 0, 0);
}

/* adoptFd(fd, fdKind): a handle over a duplicate of fd (the caller keeps, and closes, its own). */
napi_value js_adopt_fd(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	struct addon *a;
	uint32_t kind;
	double d;
	int fd;

	if (get_args(env, info, 2, argv, &a) || get_integer(env, argv[0], "fd", 0, INT32_MAX, &d) || get_fd_kind(env, argv[1], &kind))
		return NULL;
	fd = fcntl((int)d, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return throw_errno(env, errno, "fcntl", NULL, "adoptFd(%d)", (int)d);
	return host_handle(env, a, fd, kind, NULL, 0, 0);
}

napi_value js_open_group_device(napi_env env, napi_callback_info info)
{
	char *cpath = NULL, *gpath = NULL, *name = NULL;
	napi_value argv[3], r = NULL;
	struct host_err e;
	struct addon *a;
	int fds[3];

	if (get_args(env, info, 3, argv, &a))
		return NULL;
	if (get_string(env, argv[0], "containerPath", &cpath) ||
	    get_string(env, argv[1], "groupPath", &gpath) ||
	    get_string(env, argv[2], "deviceName", &name))
		goto out;
	if (host_open_group_device(cpath, gpath, name, fds, &e) < 0) {
		throw_errno(env, e.err, e.syscall, e.note, "openGroupDevice: %s", e.what);
		goto out;
	}
	r = host_handle(env, a, fds[2], VFIO_SUBREGION_FD_DEVICE, (int[]){ fds[1], fds[0] }, 2, 0);
out:
	free(cpath);
	free(gpath);
	free(name);
	return r;
}

napi_value js_open_cdev_device(napi_env env, napi_callback_info info)
{
	char *cpath = NULL, *ipath = NULL;
	napi_value argv[2], r = NULL;
	struct host_err e;
	struct addon *a;
	uint32_t ioas;
	int fds[2];

	if (get_args(env, info, 2, argv, &a))
		return NULL;
	if (get_string(env, argv[0], "cdevPath", &cpath) ||
	    get_string(env, argv[1], "iommuPath", &ipath))
		goto out;
	if (host_open_cdev_device(cpath, ipath, fds, &ioas, &e) < 0) {
		throw_errno(env, e.err, e.syscall, e.note, "openCdevDevice: %s", e.what);
		goto out;
	}
	r = host_handle(env, a, fds[1], VFIO_SUBREGION_FD_DEVICE, (int[]){ fds[0] }, 1, ioas);
out:
	free(cpath);
	free(ipath);
	return r;
}

/* ---------------------------------------------------------------- calls */

/*
 * The ioctl of js_ioctl and js_ioctl_scratch: only requests of the spec's ioctl table, whose
 * argument size the addon can prove; the kernel (or simulator) works on a private copy of exactly
 * the bytes it may touch, so it never reaches past arg, and a thread changing argsz in shared memory
 * after the check changes nothing.
 */
/* Small copies without the inline `rep movs` gcc emits for a memcpy of unknown size (its start-up costs more than these bytes). */
static void copy_bytes(uint8_t *dst, const uint8_t *src, size_t n)
{
	for (; n >= 8; n -= 8, dst += 8, src += 8)
		__builtin_memcpy(dst, src, 8);
	for (; n; n--)
		*dst++ = *src++;
}

/*
 * A request whose argument is not a pointer (NONE, VALUE) cannot be issued with a buffer: the
 * caller meant ioctlValue. NULL when the kind takes a buffer.
 */
static napi_value refuse_value_kind(napi_env env, const struct vfio_subregion_ioctl_arg *spec)
{
	if (spec->kind == VFIO_SUBREGION_IOCTL_ARG_NONE)
		return RANGE_ERR(env, "%s takes no argument, not a buffer: issue it with ioctlValue(device, request, 0)", spec->name);
	return RANGE_ERR(env, "%s takes a %u-byte integer by value, not a buffer: issue it with ioctlValue(device, request, value)", spec->name, spec->size);
}

/*
 * A STRING request: the whole buffer is copied, the string must end with a NUL inside it, and the
 * device is given the private copy up to that NUL (it reads nothing past it).
 */
static napi_value do_ioctl_string(napi_env env, struct vdev *d, uint32_t req, const struct vfio_subregion_ioctl_arg *spec, const uint8_t *data, size_t len)
{
	uint8_t stack[512], *copy = stack;
	size_t n;
	int ret;

	if (len > sizeof(stack)) {
		copy = malloc(len);
		if (!copy)
			return make_int(env, -ENOMEM);
	}
	copy_bytes(copy, data, len);
	if (!len || vfio_subregion_ioctl_arg_size(spec, copy, len, &n) < 0) {
		if (copy != stack)
			free(copy);
		return RANGE_ERR(env, "arg (%zu bytes) holds no NUL: %s takes a NUL-terminated string, which must end inside arg", len, spec->name);
	}
	d->rule = NULL;
	ret = d->closed ? -EBADF : vdev_result(d, d->ops->ioctl(d, req, copy, n));
	if (copy != stack)
		free(copy);
	return make_int(env, ret);
}

static inline __attribute__((always_inline)) napi_value
do_ioctl_spec(napi_env env, struct vdev *d, uint32_t req, const struct vfio_subregion_ioctl_arg *spec, uint8_t *data, size_t len)
{
	uint8_t stack[512], *copy = stack;
	size_t n;
	int ret;

	if (__builtin_expect(spec->kind != VFIO_SUBREGION_IOCTL_ARG_ARGSZ && spec->kind != VFIO_SUBREGION_IOCTL_ARG_FIXED, 0)) {
		if (spec->kind == VFIO_SUBREGION_IOCTL_ARG_NONE || spec->kind == VFIO_SUBREGION_IOCTL_ARG_VALUE)
			return refuse_value_kind(env, spec);
		if (spec->kind == VFIO_SUBREGION_IOCTL_ARG_STRING)
			return do_ioctl_string(env, d, req, spec, data, len);
		if (spec->kind != VFIO_SUBREGION_IOCTL_ARG_SCALAR)
			return RANGE_ERR(env, "%s has an argument kind (%u) this addon does not know: its size cannot be proven", spec->name, spec->kind);
		if (len != spec->size)
			return RANGE_ERR(env, "arg (%zu bytes) must be exactly the %u-byte integer %s points to", len, spec->size, spec->name);
	}
	if (len < spec->size || spec->size > sizeof(stack))
		return RANGE_ERR(env, "arg (%zu bytes) is shorter than the %u-byte argument of %s", len, spec->size, spec->name);
	/* the fixed part first, and argsz read from the copy only: another thread may be changing arg */
	copy_bytes(stack, data, spec->size);
	if (vfio_subregion_ioctl_arg_size(spec, stack, len, &n) < 0)
		return RANGE_ERR(env, "arg (%zu bytes) does not hold the argument of %s: its argsz is larger", len, spec->name);
	d->rule = NULL;
	if (d->closed)
		return make_int(env, -EBADF);
	if (n > sizeof(stack)) {
		copy = malloc(n);
		if (!copy)
			return make_int(env, -ENOMEM);
		memcpy(copy, stack, spec->size);
	}
	copy_bytes(copy + spec->size, data + spec->size, n - spec->size);
	ret = vdev_result(d, d->ops->ioctl(d, req, n ? copy : NULL, n));
	copy_bytes(data, copy, n);
	if (copy != stack)
		free(copy);
	return make_int(env, ret);
}

static inline __attribute__((always_inline)) napi_value do_ioctl(napi_env env, struct vdev *d, uint32_t req, uint8_t *data, size_t len)
{
	const struct vfio_subregion_ioctl_arg *spec = vfio_subregion_ioctl_arg(d->fd_kind, req);

	if (!spec)
		return RANGE_ERR(env, "request 0x%x is not an ioctl of the spec on a %s fd: its argument size cannot be proven", req, vfio_subregion_fd_kind_names[d->fd_kind]);
	return do_ioctl_spec(env, d, req, spec, data, len);
}

/* ioctl(device, request, arg): the result, or -errno (see do_ioctl). */
napi_value js_ioctl(napi_env env, napi_callback_info info)
{
	napi_value argv[3];
	struct vdev *d;
	uint32_t req;
	size_t len;
	void *data;

	if (get_args(env, info, 3, argv, NULL) || get_vdev(env, argv[0], &d) ||
	    get_u32(env, argv[1], "request", &req) || get_bytes(env, argv[2], "arg", &data, &len))
		return NULL;
	return do_ioctl(env, d, req, data, len);
}

static void scratch_finalize(napi_env env, void *data, void *hint)
{
	(void)env;
	(void)data;
	vdev_put(hint);
}

/*
 * deviceScratch(device): an ArrayBuffer of VDEV_SCRATCH bytes, the device's own argument area for
 * ioctlScratch, once per device. The memory is the device's: it lives until both the device and the
 * buffer are gone, so nothing done to the buffer (detaching it, transferring it) can free it under
 * a call.
 */
napi_value js_device_scratch(napi_env env, napi_callback_info info)
{
	napi_value argv[1], ab;
	struct vdev *d;

	if (get_args(env, info, 1, argv, NULL) || get_vdev(env, argv[0], &d))
		return NULL;
	if (d->scratch)
		return throw_state(env, "ERR_INVALID_STATE", "deviceScratch: the device's argument area was already handed out");
	d->scratch = calloc(1, VDEV_SCRATCH);
	if (!d->scratch)
		return throw_errno(env, ENOMEM, "malloc", NULL, "deviceScratch");
	vdev_get(d);
	if (napi_create_external_arraybuffer(env, d->scratch, VDEV_SCRATCH, scratch_finalize, d, &ab) != napi_ok) {
		vdev_put(d);
		return napi_fail(env);
	}
	return ab;
}

/*
 * ioctlScratch(device, request): ioctl with the device's argument area (deviceScratch) as arg, all
 * VDEV_SCRATCH bytes of it bounding argsz: what ioctl(device, request, new Uint8Array(scratch))
 * does, without a typed array to look into on every call.
 */
napi_value js_ioctl_scratch(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	struct vdev *d;
	uint32_t req;

	if (get_args(env, info, 2, argv, NULL) || get_vdev(env, argv[0], &d) ||
	    get_u32(env, argv[1], "request", &req))
		return NULL;
	if (!d->scratch)
		return throw_state(env, "ERR_INVALID_STATE", "ioctlScratch: the device's argument area was never asked for (deviceScratch)");
	return do_ioctl(env, d, req, d->scratch, VDEV_SCRATCH);
}

/* One request on one device's argument area: what a function made by bindIoctl holds. */
struct bound_ioctl {
	struct vdev *d;
	const struct vfio_subregion_ioctl_arg *spec;
	uint32_t req;
};

static napi_value js_bound_ioctl(napi_env env, napi_callback_info info)
{
	struct bound_ioctl *b;
	size_t argc = 0;

	if (napi_get_cb_info(env, info, &argc, NULL, NULL, (void **)&b) != napi_ok)
		return napi_fail(env);
	return do_ioctl_spec(env, b->d, b->req, b->spec, b->d->scratch, VDEV_SCRATCH);
}

static void bound_finalize(napi_env env, void *data, void *hint)
{
	struct bound_ioctl *b = data;

	(void)env;
	(void)hint;
	vdev_put(b->d);
	free(b);
}

/*
 * bindIoctl(device, request): a function of no arguments that issues `request` on the device's
 * argument area (deviceScratch) and returns the result or -errno: the device and the request are
 * checked once, here, instead of on every call. It holds the device until it is collected.
 */
napi_value js_bind_ioctl(napi_env env, napi_callback_info info)
{
	const struct vfio_subregion_ioctl_arg *spec;
	struct bound_ioctl *b;
	napi_value argv[2], fn;
	struct vdev *d;
	uint32_t req;

	if (get_args(env, info, 2, argv, NULL) || get_vdev(env, argv[0], &d) ||
	    get_u32(env, argv[1], "request", &req))
		return NULL;
	spec = vfio_subregion_ioctl_arg(d->fd_kind, req);
	if (!spec)
		return RANGE_ERR(env, "request 0x%x is not an ioctl of the spec on a %s fd: its argument size cannot be proven", req, vfio_subregion_fd_kind_names[d->fd_kind]);
	if (spec->kind == VFIO_SUBREGION_IOCTL_ARG_NONE || spec->kind == VFIO_SUBREGION_IOCTL_ARG_VALUE)
		return refuse_value_kind(env, spec);
	if (!d->scratch)
		return throw_state(env, "ERR_INVALID_STATE", "bindIoctl: the device's argument area was never asked for (deviceScratch)");
	b = malloc(sizeof(*b));
	if (!b)
		return throw_errno(env, ENOMEM, "malloc", NULL, "bindIoctl");
	*b = (struct bound_ioctl){ d, spec, req };
	if (napi_create_function(env, spec->name, NAPI_AUTO_LENGTH, js_bound_ioctl, b, &fn) != napi_ok) {
		free(b);
		return napi_fail(env);
	}
	vdev_get(d);
	if (napi_add_finalizer(env, fn, b, bound_finalize, NULL, NULL) != napi_ok) {
		vdev_put(d);
		free(b);	/* the function is unreachable: nothing calls it */
		return napi_fail(env);
	}
	return fn;
}

/*
 * ioctlValue(device, request, value): a request of the spec's table whose argument is not a pointer
 * (NONE: value must be 0; VALUE: an integer that fits the argument's type), issued with the value
 * itself as the argument. Returns the result, or -errno. Any other kind is a RangeError: it takes a
 * buffer (ioctl), and passing an integer where the kernel expects a pointer would let it touch
 * memory nobody proved.
 */
napi_value js_ioctl_value(napi_env env, napi_callback_info info)
{
	const struct vfio_subregion_ioctl_arg *spec;
	napi_value argv[3];
	struct vdev *d;
	double lo, hi, v;
	uint32_t req;
	int64_t value;

	if (get_args(env, info, 3, argv, NULL) || get_vdev(env, argv[0], &d) ||
	    get_u32(env, argv[1], "request", &req))
		return NULL;
	spec = vfio_subregion_ioctl_arg(d->fd_kind, req);
	if (!spec)
		return RANGE_ERR(env, "request 0x%x is not an ioctl of the spec on a %s fd: what its argument is cannot be proven", req, vfio_subregion_fd_kind_names[d->fd_kind]);
	if (spec->kind == VFIO_SUBREGION_IOCTL_ARG_NONE) {
		lo = hi = 0;
	} else if (spec->kind == VFIO_SUBREGION_IOCTL_ARG_VALUE && spec->size >= 1 && spec->size <= 8) {
		/* the type's range, within what a double holds exactly */
		int bits = 8 * (int)spec->size;
		lo = spec->value_signed ? -ldexp(1.0, bits - 1) : 0;
		hi = (spec->value_signed ? ldexp(1.0, bits - 1) : ldexp(1.0, bits)) - 1;
		if (lo < -9007199254740991.0)
			lo = -9007199254740991.0;
		if (hi > 9007199254740991.0)
			hi = 9007199254740991.0;
	} else {
		return RANGE_ERR(env, "%s takes a buffer, not a value: issue it with ioctl(device, request, arg)", spec->name);
	}
	if (get_integer(env, argv[2], "value", lo, hi, &v))
		return NULL;
	value = (int64_t)v;	/* a negative one sign-extends to the unsigned long the kernel gets */
	d->rule = NULL;
	if (d->closed)
		return make_int(env, -EBADF);
	return make_int(env, vdev_result(d, d->ops->ioctl(d, req, (void *)(intptr_t)value, 0)));
}

static napi_value rw(napi_env env, napi_callback_info info, bool write)
{
	napi_value argv[3];
	struct vdev *d;
	uint64_t off;
	size_t len;
	void *data;

	if (get_args(env, info, 3, argv, NULL) || get_vdev(env, argv[0], &d) ||
	    get_bytes(env, argv[1], "buf", &data, &len) || get_u64_bigint(env, argv[2], "offset", &off))
		return NULL;
	d->rule = NULL;
	if (d->closed)
		return make_int(env, -EBADF);
	return make_int(env, vdev_result(d, d->ops->rw(d, data, len, off, write)));
}

/* pread(device, buf, offset) / pwrite(device, buf, offset): bytes transferred, or -errno. */
napi_value js_pread(napi_env env, napi_callback_info info)
{
	return rw(env, info, false);
}

napi_value js_pwrite(napi_env env, napi_callback_info info)
{
	return rw(env, info, true);
}

/* close(device): revokes its mappings and windows and releases the backend. Idempotent. */
napi_value js_close(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	struct vdev *d;

	if (get_args(env, info, 1, argv, NULL) || get_vdev(env, argv[0], &d))
		return NULL;
	vdev_close(env, d);
	return NULL;
}

/* lastRule(device): the spec's rule behind the device's last refusal (simulator), or null. */
napi_value js_last_rule(napi_env env, napi_callback_info info)
{
	napi_value argv[1], r;
	const char *rule;
	struct vdev *d;

	if (get_args(env, info, 1, argv, NULL) || get_vdev(env, argv[0], &d))
		return NULL;
	rule = d->rule;
	if (rule)
		NAPI_OK(env, napi_create_string_utf8(env, rule, NAPI_AUTO_LENGTH, &r));
	else
		NAPI_OK(env, napi_get_null(env, &r));
	return r;
}

/* handleKind(handle): the spec's kind of fd the handle is (VfioFdKinds): what its ioctls are looked up by. */
napi_value js_handle_kind(napi_env env, napi_callback_info info)
{
	napi_value argv[1], r;
	struct vdev *d;

	if (get_args(env, info, 1, argv, NULL) || get_vdev(env, argv[0], &d))
		return NULL;
	NAPI_OK(env, napi_create_string_utf8(env, vfio_subregion_fd_kind_names[d->fd_kind], NAPI_AUTO_LENGTH, &r));
	return r;
}
