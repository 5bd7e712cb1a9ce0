// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * The Node-API glue (runtime/src/native.ts is its contract). One fd-based surface for real VFIO
 * fds and simulated devices: simCreate reserves a real fd number with an eventfd and registers it,
 * and ioctl/pread/pwrite/mmap/close on a registered fd go to the simulator (sim.c), every other fd to
 * the kernel.
 *
 * Arguments are checked before anything runs: a wrong kind throws a TypeError, a value out of range a
 * RangeError, each naming the argument. A failed system call (or simulated one) throws an Error with
 * .code (the errno name), .errno, .syscall and a message naming the call and its arguments.
 *
 * Mappings get ids; munmap(id) unmaps and detaches the external ArrayBuffer so that JS never sees
 * unmapped memory (a detached buffer has byteLength 0). Closing a simulated device does the same for
 * each of its mappings first.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "sim.h"
#include "vfio_host.h"

#define MAX_SAFE_INTEGER 9007199254740991.0

struct sim_entry {
	int fd;
	struct sim_device *dev;
};

struct map_entry {
	uint32_t id;
	int fd;
	int is_sim;
	void *addr;
	size_t len;
	napi_ref buffer;	/* weak: the ArrayBuffer, to detach it */
	napi_ref memory;	/* strong: the WebAssembly.Memory a window lies in (wasmMap) */
};

struct addon {
	struct sim_entry *sims;
	size_t nr_sims, cap_sims;
	struct map_entry *maps;
	size_t nr_maps, cap_maps;
	uint32_t next_id;
};

/* ---------------------------------------------------------------- errors */

static const char *errno_name(int err)
{
	const char *n = strerrorname_np(err);

	return n ? n : "EUNKNOWN";
}

/*
 * Throws Error("<what>: CODE (strerror)[: note][: rule RULE]") with code, errno, syscall and, when
 * the simulator named the rule of the spec that refused the call, rule. Returns NULL.
 */
static napi_value vthrow_errno(napi_env env, int err, const char *syscall, const char *note,
			       const char *rule, const char *fmt, va_list ap)
{
	char what[512], msg[1024];
	napi_value m, e, v;
	int n;

	vsnprintf(what, sizeof(what), fmt, ap);
	n = snprintf(msg, sizeof(msg), "%s: %s (%s)", what, errno_name(err), strerror(err));
	if (note && n > 0 && (size_t)n < sizeof(msg))
		n += snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", note);
	if (rule && n > 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": rule %s", rule);
	if (napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m) != napi_ok ||
	    napi_create_error(env, NULL, m, &e) != napi_ok)
		return NULL;
	napi_create_string_utf8(env, errno_name(err), NAPI_AUTO_LENGTH, &v);
	napi_set_named_property(env, e, "code", v);
	napi_create_int32(env, err, &v);
	napi_set_named_property(env, e, "errno", v);
	napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &v);
	napi_set_named_property(env, e, "syscall", v);
	if (rule) {
		napi_create_string_utf8(env, rule, NAPI_AUTO_LENGTH, &v);
		napi_set_named_property(env, e, "rule", v);
	}
	napi_throw(env, e);
	return NULL;
}

static napi_value throw_errno(napi_env env, int err, const char *syscall, const char *note,
			      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vthrow_errno(env, err, syscall, note, NULL, fmt, ap);
	va_end(ap);
	return NULL;
}

/* A simulated device refused a call: the error also names the rule, when the simulator did. */
static napi_value throw_sim(napi_env env, const struct sim_device *dev, int err, const char *syscall,
			    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vthrow_errno(env, err, syscall, NULL, sim_last_rule(dev), fmt, ap);
	va_end(ap);
	return NULL;
}

static napi_value throw_kind(napi_env env, int range, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (range)
		napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
	else
		napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
	return NULL;
}

#define TYPE_ERR(env, ...) throw_kind(env, 0, __VA_ARGS__)
#define RANGE_ERR(env, ...) throw_kind(env, 1, __VA_ARGS__)

/* A napi call failed: make sure something is thrown. */
static napi_value napi_fail(napi_env env)
{
	bool pending = false;

	napi_is_exception_pending(env, &pending);
	if (!pending)
		napi_throw_error(env, NULL, "vfio_native: Node-API call failed");
	return NULL;
}

#define NAPI_OK(env, call)                         \
	do {                                       \
		if ((call) != napi_ok)             \
			return napi_fail(env);     \
	} while (0)

/* ---------------------------------------------------------------- arguments */

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv,
		    struct addon **st)
{
	size_t argc = want;
	void *data;
	size_t i;

	if (napi_get_cb_info(env, info, &argc, argv, NULL, &data) != napi_ok) {
		napi_fail(env);
		return -1;
	}
	for (i = argc; i < want; i++)
		napi_get_undefined(env, &argv[i]);
	if (st)
		*st = data;
	return 0;
}

static napi_valuetype type_of(napi_env env, napi_value v)
{
	napi_valuetype t = napi_undefined;

	napi_typeof(env, v, &t);
	return t;
}

/* A number that is an integer in [lo, hi]. */
static int get_integer(napi_env env, napi_value v, const char *name, double lo, double hi,
		       double *out)
{
	double d;

	if (type_of(env, v) != napi_number) {
		TYPE_ERR(env, "%s must be a number", name);
		return -1;
	}
	napi_get_value_double(env, v, &d);
	if (!isfinite(d) || d != trunc(d) || d < lo || d > hi) {
		RANGE_ERR(env, "%s must be an integer in [%.0f, %.0f], got %g", name, lo, hi, d);
		return -1;
	}
	*out = d;
	return 0;
}

static int get_fd(napi_env env, napi_value v, int *fd)
{
	double d;

	if (get_integer(env, v, "fd", 0, INT32_MAX, &d))
		return -1;
	*fd = (int)d;
	return 0;
}

static int get_u32(napi_env env, napi_value v, const char *name, uint32_t *out)
{
	double d;

	if (get_integer(env, v, name, 0, UINT32_MAX, &d))
		return -1;
	*out = (uint32_t)d;
	return 0;
}

/* An optional integer in [0, max]; def when undefined. */
static int get_optional_u32(napi_env env, napi_value v, const char *name, uint32_t max, uint32_t def,
			    uint32_t *out)
{
	double d;

	if (type_of(env, v) == napi_undefined) {
		*out = def;
		return 0;
	}
	if (get_integer(env, v, name, 0, max, &d))
		return -1;
	*out = (uint32_t)d;
	return 0;
}

static int get_u64_bigint(napi_env env, napi_value v, const char *name, uint64_t *out)
{
	bool lossless = false;

	if (type_of(env, v) != napi_bigint) {
		TYPE_ERR(env, "%s must be a bigint", name);
		return -1;
	}
	if (napi_get_value_bigint_uint64(env, v, out, &lossless) != napi_ok || !lossless) {
		RANGE_ERR(env, "%s must be a bigint in [0n, 2n ** 64n)", name);
		return -1;
	}
	return 0;
}

static int get_bool(napi_env env, napi_value v, const char *name, int optional, int *out)
{
	bool b;

	if (optional && type_of(env, v) == napi_undefined) {
		*out = 0;
		return 0;
	}
	if (type_of(env, v) != napi_boolean) {
		TYPE_ERR(env, "%s must be a boolean", name);
		return -1;
	}
	napi_get_value_bool(env, v, &b);
	*out = b;
	return 0;
}

static int get_bytes(napi_env env, napi_value v, const char *name, void **data, size_t *len)
{
	napi_typedarray_type t;
	bool is = false;

	napi_is_typedarray(env, v, &is);
	if (is && napi_get_typedarray_info(env, v, &t, len, data, NULL, NULL) == napi_ok &&
	    t == napi_uint8_array) {
		if (!*data)
			*len = 0;
		return 0;
	}
	TYPE_ERR(env, "%s must be a Uint8Array", name);
	return -1;
}

/* A string without NUL bytes; *out is malloc'ed. */
static int get_string(napi_env env, napi_value v, const char *name, char **out)
{
	size_t n = 0;
	char *s;

	if (type_of(env, v) != napi_string) {
		TYPE_ERR(env, "%s must be a string", name);
		return -1;
	}
	napi_get_value_string_utf8(env, v, NULL, 0, &n);
	s = malloc(n + 1);
	if (!s) {
		throw_errno(env, ENOMEM, "malloc", NULL, "%s", name);
		return -1;
	}
	napi_get_value_string_utf8(env, v, s, n + 1, &n);
	if (strlen(s) != n) {
		free(s);
		RANGE_ERR(env, "%s must not contain NUL bytes", name);
		return -1;
	}
	*out = s;
	return 0;
}

static napi_value get_prop(napi_env env, napi_value obj, const char *name)
{
	napi_value v = NULL;

	if (napi_get_named_property(env, obj, name, &v) != napi_ok)
		napi_get_undefined(env, &v);
	return v;
}

/* ---------------------------------------------------------------- tables */

static struct sim_entry *find_sim(struct addon *a, int fd)
{
	size_t i;

	for (i = 0; i < a->nr_sims; i++)
		if (a->sims[i].fd == fd)
			return &a->sims[i];
	return NULL;
}

static struct map_entry *find_map(struct addon *a, uint32_t id)
{
	size_t i;

	for (i = 0; i < a->nr_maps; i++)
		if (a->maps[i].id == id)
			return &a->maps[i];
	return NULL;
}

static void drop_map(napi_env env, struct addon *a, struct map_entry *m)
{
	napi_value ab;

	if (env && m->buffer) {
		if (napi_get_reference_value(env, m->buffer, &ab) == napi_ok && ab)
			napi_detach_arraybuffer(env, ab);
		napi_delete_reference(env, m->buffer);
	}
	if (env && m->memory)
		napi_delete_reference(env, m->memory);
	memmove(m, m + 1, (size_t)(a->maps + a->nr_maps - (m + 1)) * sizeof(*m));
	a->nr_maps--;
}

/* Unmaps and detaches every mapping of sim fd, destroys the device, closes the fd. */
static int sim_teardown(napi_env env, struct addon *a, struct sim_entry *s)
{
	size_t i = 0;
	int fd = s->fd, r;

	while (i < a->nr_maps) {
		if (a->maps[i].is_sim && a->maps[i].fd == fd)
			drop_map(env, a, &a->maps[i]);	/* sim_destroy unmaps */
		else
			i++;
	}
	sim_destroy(s->dev);
	*s = a->sims[--a->nr_sims];
	r = close(fd);
	return r < 0 ? -errno : 0;
}

static void addon_finalize(napi_env env, void *data, void *hint)
{
	struct addon *a = data;

	(void)hint;
	(void)env;
	while (a->nr_sims)
		sim_teardown(NULL, a, &a->sims[0]);
	free(a->sims);
	free(a->maps);
	free(a);
}

/* ---------------------------------------------------------------- open */

static napi_value js_open(napi_env env, napi_callback_info info)
{
	napi_value argv[1], r;
	char *path;
	int fd;

	if (get_args(env, info, 1, argv, NULL) || get_string(env, argv[0], "path", &path))
		return NULL;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;

		throw_errno(env, err, "open", NULL, "open(%s)", path);
		free(path);
		return NULL;
	}
	free(path);
	NAPI_OK(env, napi_create_int32(env, fd, &r));
	return r;
}

static napi_value set_fd_props(napi_env env, const char *const *names, const int *fds, int n)
{
	napi_value o, v;
	int i;

	NAPI_OK(env, napi_create_object(env, &o));
	for (i = 0; i < n; i++) {
		NAPI_OK(env, napi_create_int32(env, fds[i], &v));
		NAPI_OK(env, napi_set_named_property(env, o, names[i], v));
	}
	return o;
}

static napi_value js_open_group_device(napi_env env, napi_callback_info info)
{
	static const char *const names[] = { "container", "group", "device" };
	char *cpath = NULL, *gpath = NULL, *name = NULL;
	napi_value argv[3], r = NULL;
	struct host_err e;
	int fds[3];

	if (get_args(env, info, 3, argv, NULL))
		return NULL;
	if (get_string(env, argv[0], "containerPath", &cpath) ||
	    get_string(env, argv[1], "groupPath", &gpath) ||
	    get_string(env, argv[2], "deviceName", &name))
		goto out;
	if (host_open_group_device(cpath, gpath, name, fds, &e) < 0) {
		throw_errno(env, e.err, e.syscall, e.note, "openGroupDevice: %s", e.what);
		goto out;
	}
	r = set_fd_props(env, names, fds, 3);
	if (!r) {
		close(fds[2]);
		close(fds[1]);
		close(fds[0]);
	}
out:
	free(cpath);
	free(gpath);
	free(name);
	return r;
}

static napi_value js_open_cdev_device(napi_env env, napi_callback_info info)
{
	static const char *const names[] = { "iommufd", "device" };
	char *cpath = NULL, *ipath = NULL;
	napi_value argv[2], r = NULL;
	struct host_err e;
	int fds[2];

	if (get_args(env, info, 2, argv, NULL))
		return NULL;
	if (get_string(env, argv[0], "cdevPath", &cpath) ||
	    get_string(env, argv[1], "iommuPath", &ipath))
		goto out;
	if (host_open_cdev_device(cpath, ipath, fds, &e) < 0) {
		throw_errno(env, e.err, e.syscall, e.note, "openCdevDevice: %s", e.what);
		goto out;
	}
	r = set_fd_props(env, names, fds, 2);
	if (!r) {
		close(fds[1]);
		close(fds[0]);
	}
out:
	free(cpath);
	free(ipath);
	return r;
}

/* ---------------------------------------------------------------- ioctl */

/*
 * The kernel reads and writes as much of the argument as the request says: _IOC_SIZE for encoded
 * requests, argsz (or size, for iommufd) for the VFIO ones, which are all _IO. Refuse a buffer that
 * is shorter, so no ioctl can reach past the Uint8Array into the JS heap.
 */
static napi_value check_kernel_arg(napi_env env, unsigned long req, const uint8_t *arg, size_t len)
{
	unsigned int nr = _IOC_NR(req);
	uint32_t argsz;

	if (_IOC_DIR(req) != _IOC_NONE && _IOC_SIZE(req) > len)
		return RANGE_ERR(env, "arg is %zu bytes; request 0x%lx needs %u", len, req,
				 (unsigned int)_IOC_SIZE(req));
	if (_IOC_TYPE(req) != VFIO_TYPE || _IOC_DIR(req) != _IOC_NONE)
		return (napi_value)1;
	switch (nr >= VFIO_BASE ? nr - VFIO_BASE : 1000) {
	case 0:		/* VFIO_GET_API_VERSION */
	case 1:		/* VFIO_CHECK_EXTENSION: a value */
	case 2:		/* VFIO_SET_IOMMU: a value */
	case 5:		/* VFIO_GROUP_UNSET_CONTAINER */
	case 11:	/* VFIO_DEVICE_RESET */
		return (napi_value)1;
	case 4:		/* VFIO_GROUP_SET_CONTAINER: int * */
	case 15:	/* VFIO_DEVICE_GET_GFX_DMABUF: __u32 * */
		if (len < 4)
			return RANGE_ERR(env, "arg is %zu bytes; request 0x%lx reads 4", len, req);
		return (napi_value)1;
	case 6:		/* VFIO_GROUP_GET_DEVICE_FD: a string */
		if (!memchr(arg, 0, len))
			return RANGE_ERR(env, "arg must hold a NUL-terminated device name");
		return (napi_value)1;
	default:	/* argsz (VFIO) or size (iommufd) first */
		if (len < 4)
			return RANGE_ERR(env, "arg is %zu bytes; request 0x%lx starts with argsz", len, req);
		memcpy(&argsz, arg, 4);
		if (argsz > len)
			return RANGE_ERR(env, "argsz %u exceeds the %zu bytes of arg", argsz, len);
		return (napi_value)1;
	}
}

static napi_value js_ioctl(napi_env env, napi_callback_info info)
{
	napi_value argv[3], r;
	struct addon *a;
	struct sim_entry *s;
	uint32_t req;
	void *data;
	size_t len;
	int fd, ret;

	if (get_args(env, info, 3, argv, &a) || get_fd(env, argv[0], &fd) ||
	    get_u32(env, argv[1], "request", &req) || get_bytes(env, argv[2], "arg", &data, &len))
		return NULL;
	s = find_sim(a, fd);
	if (s) {
		ret = sim_ioctl(s->dev, req, data, len);
		if (ret < 0)
			return throw_sim(env, s->dev, -ret, "ioctl", "ioctl(fd=%d, 0x%x)", fd, req);
	} else {
		if (!check_kernel_arg(env, req, data, len))
			return NULL;
		ret = ioctl(fd, (unsigned long)req, len ? data : NULL);
		if (ret < 0)
			return throw_errno(env, errno, "ioctl", NULL, "ioctl(fd=%d, 0x%x)", fd, req);
	}
	NAPI_OK(env, napi_create_int32(env, ret, &r));
	return r;
}

/* ---------------------------------------------------------------- pread / pwrite */

static napi_value rw(napi_env env, napi_callback_info info, int write)
{
	const char *name = write ? "pwrite" : "pread";
	napi_value argv[3], r;
	struct addon *a;
	struct sim_entry *s;
	uint64_t off;
	ssize_t n;
	void *data;
	size_t len;
	int fd;

	if (get_args(env, info, 3, argv, &a) || get_fd(env, argv[0], &fd) ||
	    get_bytes(env, argv[1], "buf", &data, &len) ||
	    get_u64_bigint(env, argv[2], "offset", &off))
		return NULL;
	s = find_sim(a, fd);
	if (s) {
		n = sim_rw(s->dev, data, len, off, write);
		if (n < 0)
			return throw_errno(env, (int)-n, name, NULL, "%s(fd=%d, %zu bytes, offset 0x%llx)",
					   name, fd, len, (unsigned long long)off);
	} else {
		if (off > INT64_MAX) {
			errno = EINVAL;
			n = -1;
		} else {
			do {
				n = write ? pwrite(fd, data, len, (off_t)off) : pread(fd, data, len, (off_t)off);
			} while (n < 0 && errno == EINTR);
		}
		if (n < 0)
			return throw_errno(env, errno, name, NULL, "%s(fd=%d, %zu bytes, offset 0x%llx)",
					   name, fd, len, (unsigned long long)off);
	}
	NAPI_OK(env, napi_create_double(env, (double)n, &r));
	return r;
}

static napi_value js_pread(napi_env env, napi_callback_info info)
{
	return rw(env, info, 0);
}

static napi_value js_pwrite(napi_env env, napi_callback_info info)
{
	return rw(env, info, 1);
}

/* ---------------------------------------------------------------- mmap / munmap */

static void ab_finalize(napi_env env, void *data, void *hint)
{
	/* The mapping is owned by the id table (munmap or close), not by the GC. */
	(void)env;
	(void)data;
	(void)hint;
}

static napi_value js_mmap(napi_env env, napi_callback_info info)
{
	napi_value argv[4], o, ab, v;
	struct map_entry *m;
	struct sim_entry *s;
	struct addon *a;
	uint64_t off;
	double dlen;
	uint32_t prot;
	size_t len;
	void *p;
	int fd, ret;

	if (get_args(env, info, 4, argv, &a) || get_fd(env, argv[0], &fd) ||
	    get_u64_bigint(env, argv[1], "offset", &off) ||
	    get_integer(env, argv[2], "length", 1, MAX_SAFE_INTEGER, &dlen) ||
	    get_u32(env, argv[3], "prot", &prot))
		return NULL;
	len = (size_t)dlen;
	/* An ArrayBuffer must be readable (and JS cannot be kept from writing to it). */
	if (prot != PROT_READ && prot != (PROT_READ | PROT_WRITE))
		return RANGE_ERR(env, "prot must be PROT_READ or PROT_READ | PROT_WRITE, got %u", prot);
	if (a->nr_maps == a->cap_maps) {
		size_t cap = a->cap_maps ? a->cap_maps * 2 : 16;
		struct map_entry *nm = realloc(a->maps, cap * sizeof(*nm));

		if (!nm)
			return throw_errno(env, ENOMEM, "mmap", NULL, "mmap(fd=%d)", fd);
		a->maps = nm;
		a->cap_maps = cap;
	}
	s = find_sim(a, fd);
	if (s) {
		ret = sim_mmap(s->dev, off, len, (int)prot, &p);
		if (ret < 0)
			return throw_sim(env, s->dev, -ret, "mmap",
					 "mmap(fd=%d, offset 0x%llx, length %zu, prot %u)", fd,
					 (unsigned long long)off, len, prot);
	} else {
		p = off > INT64_MAX ? MAP_FAILED : mmap(NULL, len, (int)prot, MAP_SHARED, fd, (off_t)off);
		if (p == MAP_FAILED)
			return throw_errno(env, off > INT64_MAX ? EINVAL : errno, "mmap", NULL,
					   "mmap(fd=%d, offset 0x%llx, length %zu, prot %u)", fd,
					   (unsigned long long)off, len, prot);
	}
	m = &a->maps[a->nr_maps];
	memset(m, 0, sizeof(*m));
	m->id = ++a->next_id ? a->next_id : ++a->next_id;
	m->fd = fd;
	m->is_sim = s != NULL;
	m->addr = p;
	m->len = len;
	if (napi_create_external_arraybuffer(env, p, len, ab_finalize, NULL, &ab) != napi_ok ||
	    napi_create_reference(env, ab, 0, &m->buffer) != napi_ok ||
	    napi_create_object(env, &o) != napi_ok) {
		if (m->buffer)
			napi_delete_reference(env, m->buffer);
		if (s)
			sim_munmap(s->dev, p);
		else
			munmap(p, len);
		return napi_fail(env);
	}
	a->nr_maps++;
	NAPI_OK(env, napi_create_uint32(env, m->id, &v));
	NAPI_OK(env, napi_set_named_property(env, o, "id", v));
	NAPI_OK(env, napi_set_named_property(env, o, "buffer", ab));
	NAPI_OK(env, napi_create_bigint_uint64(env, (uint64_t)(uintptr_t)p, &v));
	NAPI_OK(env, napi_set_named_property(env, o, "address", v));
	return o;
}

static napi_value js_munmap(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	struct map_entry *m;
	struct sim_entry *s;
	struct addon *a;
	uint32_t id;
	int ret = 0;

	if (get_args(env, info, 1, argv, &a) || get_u32(env, argv[0], "id", &id))
		return NULL;
	m = find_map(a, id);
	if (!m)
		return throw_errno(env, EINVAL, "munmap", "no such mapping", "munmap(id=%u)", id);
	if (m->is_sim) {
		s = find_sim(a, m->fd);
		ret = s ? sim_munmap(s->dev, m->addr) : -EINVAL;
	} else if (m->memory) {
		if (mmap(m->addr, m->len, PROT_READ | PROT_WRITE,
			 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
			ret = -errno;
	} else if (munmap(m->addr, m->len) < 0) {
		ret = -errno;
	}
	if (ret < 0)
		return throw_errno(env, -ret, "munmap", NULL, "munmap(id=%u)", id);
	drop_map(env, a, m);
	return NULL;
}

/* ---------------------------------------------------------------- wasm windows */

/*
 * wasmMap(fd, offset, length, prot, memory, view, at): maps `length` bytes of the device fd at
 * `offset` over linear-memory bytes [at, at + length) of a WebAssembly.Memory, MAP_FIXED |
 * MAP_SHARED, so that plain wasm loads and stores at those addresses reach the region. `view` is a
 * Uint8Array over the whole of memory.buffer (a typed array works for shared memories too, where
 * napi_get_arraybuffer_info does not); it must be that memory's current buffer. The window must be
 * page-aligned and lie inside the memory's current size: past it, V8's guard region would stop
 * out-of-bounds accesses from trapping. The Memory is held by a strong reference until munmap(id)
 * (or close of a simulated device), which puts anonymous zero pages back over the range.
 */
static napi_value js_wasm_map(napi_env env, napi_callback_info info)
{
	napi_value argv[7], o, v, buf, vbuf;
	napi_typedarray_type t;
	struct map_entry *m;
	struct sim_entry *s;
	struct addon *a;
	size_t vlen, voff, len, ps = (size_t)sim_page_size();
	uint64_t off;
	double dlen, dat;
	uint32_t prot;
	bool is = false, same = false;
	uint8_t *base, *p;
	int fd, ret;

	if (get_args(env, info, 7, argv, &a) || get_fd(env, argv[0], &fd) ||
	    get_u64_bigint(env, argv[1], "offset", &off) ||
	    get_integer(env, argv[2], "length", 1, MAX_SAFE_INTEGER, &dlen) ||
	    get_u32(env, argv[3], "prot", &prot) ||
	    get_integer(env, argv[6], "at", 0, MAX_SAFE_INTEGER, &dat))
		return NULL;
	len = (size_t)dlen;
	if (prot != (PROT_READ | PROT_WRITE))
		return RANGE_ERR(env, "a wasm window must be PROT_READ | PROT_WRITE (wasm cannot trap on a read-only page), got %u", prot);
	if (type_of(env, argv[4]) != napi_object)
		return TYPE_ERR(env, "memory must be a WebAssembly.Memory");
	napi_is_typedarray(env, argv[5], &is);
	if (!is || napi_get_typedarray_info(env, argv[5], &t, &vlen, (void **)&base, &vbuf, &voff) != napi_ok ||
	    t != napi_uint8_array)
		return TYPE_ERR(env, "view must be a Uint8Array over memory.buffer");
	buf = get_prop(env, argv[4], "buffer");
	if (napi_strict_equals(env, buf, vbuf, &same) != napi_ok || !same || voff != 0)
		return RANGE_ERR(env, "view must cover the whole of memory.buffer (the memory's current buffer, from byte 0)");
	if (((uintptr_t)base & (ps - 1)) || ((size_t)dat & (ps - 1)) || (len & (ps - 1)))
		return throw_errno(env, EINVAL, "mmap", "a window must be page-aligned: its address and its length", "wasmMap(fd=%d, at 0x%zx, length %zu)", fd, (size_t)dat, len);
	if ((size_t)dat > vlen || len > vlen - (size_t)dat)
		return throw_errno(env, EINVAL, "mmap", "a window must lie inside the memory's current size", "wasmMap(fd=%d, at 0x%zx, length %zu; memory is %zu bytes)", fd, (size_t)dat, len, vlen);
	if (a->nr_maps == a->cap_maps) {
		size_t cap = a->cap_maps ? a->cap_maps * 2 : 16;
		struct map_entry *nm = realloc(a->maps, cap * sizeof(*nm));

		if (!nm)
			return throw_errno(env, ENOMEM, "mmap", NULL, "wasmMap(fd=%d)", fd);
		a->maps = nm;
		a->cap_maps = cap;
	}
	for (size_t i = 0; i < a->nr_maps; i++) {
		uint8_t *q = a->maps[i].addr;

		if (a->maps[i].memory && q < base + (size_t)dat + len && base + (size_t)dat < q + a->maps[i].len)
			return throw_errno(env, EBUSY, "mmap", "overlaps a window already mapped there", "wasmMap(fd=%d, at 0x%zx)", fd, (size_t)dat);
	}
	p = base + (size_t)dat;
	s = find_sim(a, fd);
	if (s) {
		ret = sim_mmap_fixed(s->dev, off, len, (int)prot, p);
	} else if (off > INT64_MAX) {
		ret = -EINVAL;
	} else if (mmap(p, len, (int)prot, MAP_SHARED | MAP_FIXED, fd, (off_t)off) == MAP_FAILED) {
		ret = -errno;
		mmap(p, len, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	} else {
		ret = 0;
	}
	if (ret < 0 && s)
		return throw_sim(env, s->dev, -ret, "mmap", "wasmMap(fd=%d, offset 0x%llx, length %zu, at 0x%zx)",
				 fd, (unsigned long long)off, len, (size_t)dat);
	if (ret < 0)
		return throw_errno(env, -ret, "mmap", NULL, "wasmMap(fd=%d, offset 0x%llx, length %zu, at 0x%zx)",
				   fd, (unsigned long long)off, len, (size_t)dat);
	m = &a->maps[a->nr_maps];
	memset(m, 0, sizeof(*m));
	m->id = ++a->next_id ? a->next_id : ++a->next_id;
	m->fd = fd;
	m->is_sim = s != NULL;
	m->addr = p;
	m->len = len;
	if (napi_create_reference(env, argv[4], 1, &m->memory) != napi_ok ||
	    napi_create_object(env, &o) != napi_ok) {
		if (m->memory)
			napi_delete_reference(env, m->memory);
		if (s)
			sim_munmap(s->dev, p);
		else
			mmap(p, len, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		return napi_fail(env);
	}
	a->nr_maps++;
	NAPI_OK(env, napi_create_uint32(env, m->id, &v));
	NAPI_OK(env, napi_set_named_property(env, o, "id", v));
	NAPI_OK(env, napi_create_bigint_uint64(env, (uint64_t)(uintptr_t)p, &v));
	NAPI_OK(env, napi_set_named_property(env, o, "address", v));
	return o;
}

/* ---------------------------------------------------------------- host-call MMIO path */

/*
 * Single volatile accesses through a mapping (an mmap id or a window id): what a wasm guest uses for
 * registers whose reads have side effects, where a plain wasm load could be merged by the optimiser.
 * Each call is exactly one access of the given width, aligned and inside the mapping.
 */
static void *mmio_at(napi_env env, struct addon *a, napi_value vid, napi_value voff, unsigned width)
{
	struct map_entry *m;
	uint32_t id;
	double d;

	if (get_u32(env, vid, "id", &id) || get_integer(env, voff, "offset", 0, MAX_SAFE_INTEGER, &d))
		return NULL;
	m = find_map(a, id);
	if (!m) {
		throw_errno(env, EINVAL, "mmio", "no such mapping", "mmio(id=%u)", id);
		return NULL;
	}
	if ((size_t)d > m->len || width / 8 > m->len - (size_t)d || ((size_t)d & (width / 8 - 1))) {
		RANGE_ERR(env, "offset %.0f: a %u-bit access must be aligned and inside the %zu-byte mapping", d, width, m->len);
		return NULL;
	}
	return (uint8_t *)m->addr + (size_t)d;
}

static int get_width(napi_env env, napi_value v, unsigned *w)
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

/* mmioRead(id, offset, width): a number, or a bigint for width 64. */
static napi_value js_mmio_read(napi_env env, napi_callback_info info)
{
	napi_value argv[3], r;
	struct addon *a;
	unsigned w;
	void *p;

	if (get_args(env, info, 3, argv, &a) || get_width(env, argv[2], &w))
		return NULL;
	p = mmio_at(env, a, argv[0], argv[1], w);
	if (!p)
		return NULL;
	switch (w) {
	case 8: NAPI_OK(env, napi_create_uint32(env, *(volatile uint8_t *)p, &r)); break;
	case 16: NAPI_OK(env, napi_create_uint32(env, *(volatile uint16_t *)p, &r)); break;
	case 32: NAPI_OK(env, napi_create_uint32(env, *(volatile uint32_t *)p, &r)); break;
	default: NAPI_OK(env, napi_create_bigint_uint64(env, *(volatile uint64_t *)p, &r)); break;
	}
	return r;
}

/* mmioWrite(id, offset, width, value): value a number, or a bigint for width 64 (or any width). */
static napi_value js_mmio_write(napi_env env, napi_callback_info info)
{
	napi_value argv[4];
	struct addon *a;
	uint64_t v = 0;
	unsigned w;
	bool lossless;
	double d;
	void *p;

	if (get_args(env, info, 4, argv, &a) || get_width(env, argv[2], &w))
		return NULL;
	if (type_of(env, argv[3]) == napi_bigint) {
		napi_get_value_bigint_uint64(env, argv[3], &v, &lossless);
	} else {
		if (get_integer(env, argv[3], "value", 0, 4294967295.0, &d))
			return NULL;
		v = (uint64_t)d;
	}
	if (w < 64 && v >> w)
		return RANGE_ERR(env, "value 0x%llx does not fit in %u bits", (unsigned long long)v, w);
	p = mmio_at(env, a, argv[0], argv[1], w);
	if (!p)
		return NULL;
	switch (w) {
	case 8: *(volatile uint8_t *)p = (uint8_t)v; break;
	case 16: *(volatile uint16_t *)p = (uint16_t)v; break;
	case 32: *(volatile uint32_t *)p = (uint32_t)v; break;
	default: *(volatile uint64_t *)p = v; break;
	}
	return NULL;
}

/* Fences for the host-call path: real CPU instructions, never an access to a window. */
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

static napi_value js_wmb(napi_env env, napi_callback_info info)
{
	(void)env;
	(void)info;
	cpu_wmb();
	return NULL;
}

static napi_value js_mb(napi_env env, napi_callback_info info)
{
	(void)env;
	(void)info;
	cpu_mb();
	return NULL;
}

static napi_value js_rmb(napi_env env, napi_callback_info info)
{
	(void)env;
	(void)info;
	cpu_rmb();
	return NULL;
}

/* ---------------------------------------------------------------- native C accessor */

/*
 * mmioExec(id, program): the C accessor the MMIO vectors run through. program is a sequence of
 * 16-byte records { u8 op; u8 width; u16 pad; u32 offset; u64 value } (little-endian); a burst record
 * is followed by its 64 source bytes. Reads store what they read into the record's value field.
 * Ops: 1 write, 2 read, 3 burst64 (aligned; four 16-byte vector stores), 4 wmb, 5 flush (a 32-bit read
 * at the record's offset), 6 mb.
 */
enum { OP_WRITE = 1, OP_READ, OP_BURST, OP_WMB, OP_FLUSH, OP_MB };

static void burst64(uint8_t *dst, const uint8_t *src)
{
#if defined(__SSE2__)
	typedef long long v2di __attribute__((vector_size(16)));
	volatile v2di *d = (volatile v2di *)dst;
	v2di x0, x1, x2, x3;

	memcpy(&x0, src, 16);
	memcpy(&x1, src + 16, 16);
	memcpy(&x2, src + 32, 16);
	memcpy(&x3, src + 48, 16);
	d[0] = x0;
	d[1] = x1;
	d[2] = x2;
	d[3] = x3;
#else
	volatile uint64_t *d = (volatile uint64_t *)dst;
	uint64_t x;

	for (int i = 0; i < 8; i++) {
		memcpy(&x, src + 8 * i, 8);
		d[i] = x;
	}
#endif
}

static napi_value js_mmio_exec(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	struct map_entry *m;
	struct addon *a;
	uint8_t *prog, *base;
	size_t plen, k = 0;
	uint32_t id;

	if (get_args(env, info, 2, argv, &a) || get_u32(env, argv[0], "id", &id) ||
	    get_bytes(env, argv[1], "program", (void **)&prog, &plen))
		return NULL;
	m = find_map(a, id);
	if (!m)
		return throw_errno(env, EINVAL, "mmio", "no such mapping", "mmioExec(id=%u)", id);
	base = m->addr;
	while (k < plen) {
		uint8_t op, width;
		uint32_t off;
		uint64_t v;
		unsigned bytes;

		if (plen - k < 16)
			return RANGE_ERR(env, "program: record %zu is short", k / 16);
		op = prog[k];
		width = prog[k + 1];
		memcpy(&off, prog + k + 4, 4);
		memcpy(&v, prog + k + 8, 8);
		bytes = op == OP_BURST ? 64 : op == OP_FLUSH ? 4 : width / 8u;
		if ((op == OP_WRITE || op == OP_READ) && width != 8 && width != 16 && width != 32 && width != 64)
			return RANGE_ERR(env, "program: record at %zu: width %u", k, width);
		if (op != OP_WMB && op != OP_MB &&
		    ((size_t)off > m->len || bytes > m->len - off || (off & (bytes - 1))))
			return RANGE_ERR(env, "program: record at %zu: offset 0x%x is not an aligned %u-byte access inside the %zu-byte mapping", k, off, bytes, m->len);
		switch (op) {
		case OP_WRITE:
			switch (width) {
			case 8: *(volatile uint8_t *)(base + off) = (uint8_t)v; break;
			case 16: *(volatile uint16_t *)(base + off) = (uint16_t)v; break;
			case 32: *(volatile uint32_t *)(base + off) = (uint32_t)v; break;
			default: *(volatile uint64_t *)(base + off) = v; break;
			}
			break;
		case OP_READ:
			switch (width) {
			case 8: v = *(volatile uint8_t *)(base + off); break;
			case 16: v = *(volatile uint16_t *)(base + off); break;
			case 32: v = *(volatile uint32_t *)(base + off); break;
			default: v = *(volatile uint64_t *)(base + off); break;
			}
			memcpy(prog + k + 8, &v, 8);
			break;
		case OP_BURST:
			if (plen - k < 16 + 64)
				return RANGE_ERR(env, "program: burst at %zu has no 64 source bytes", k);
			burst64(base + off, prog + k + 16);
			k += 64;
			break;
		case OP_WMB:
			cpu_wmb();
			break;
		case OP_MB:
			cpu_mb();
			break;
		case OP_FLUSH:
			v = *(volatile uint32_t *)(base + off);
			memcpy(prog + k + 8, &v, 8);
			break;
		default:
			return RANGE_ERR(env, "program: record at %zu: unknown op %u", k, op);
		}
		k += 16;
	}
	return NULL;
}

/*
 * mmioBench(id, offset, op, iterations, doorbellId, doorbellOffset): the native baseline of the MMIO
 * bench, looping over the same mapping the wasm side uses; returns ns per iteration.
 * op: 0 write32, 1 read32 (16 words in turn, as the wasm loop does), 2 burst64, 3 doorbell with sfence (wmb; write32 to the doorbell),
 * 4 doorbell with a locked add on a stack word (the fence a wasm guest can issue itself),
 * 5 doorbell with mfence, 6 write64.
 */
static napi_value js_mmio_bench(napi_env env, napi_callback_info info)
{
	napi_value argv[6], r;
	struct map_entry *m, *db;
	struct addon *a;
	uint32_t id, op, dbid;
	double dn, doff, ddb;
	struct timespec t0, t1;
	uint8_t *p, *bell;
	uint8_t src[64] __attribute__((aligned(64)));
	volatile uint32_t scratch = 0;
	uint32_t sink = 0;
	uint64_t n, i;

	if (get_args(env, info, 6, argv, &a) || get_u32(env, argv[0], "id", &id) ||
	    get_integer(env, argv[1], "offset", 0, MAX_SAFE_INTEGER, &doff) ||
	    get_u32(env, argv[2], "op", &op) ||
	    get_integer(env, argv[3], "iterations", 1, 1e12, &dn) ||
	    get_u32(env, argv[4], "doorbellId", &dbid) ||
	    get_integer(env, argv[5], "doorbellOffset", 0, MAX_SAFE_INTEGER, &ddb))
		return NULL;
	m = find_map(a, id);
	db = find_map(a, dbid);
	if (!m || !db)
		return throw_errno(env, EINVAL, "mmio", "no such mapping", "mmioBench(id=%u, doorbellId=%u)", id, dbid);
	if ((size_t)doff + 64 > m->len || ((size_t)doff & 63) || (size_t)ddb + 4 > db->len || ((size_t)ddb & 3))
		return RANGE_ERR(env, "mmioBench: offsets outside the mappings or unaligned");
	p = (uint8_t *)m->addr + (size_t)doff;
	bell = (uint8_t *)db->addr + (size_t)ddb;
	for (i = 0; i < 64; i++)
		src[i] = (uint8_t)i;
	n = (uint64_t)dn;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	switch (op) {
	case 0:
		for (i = 0; i < n; i++)
			*(volatile uint32_t *)p = (uint32_t)i;
		break;
	case 1:
		for (i = 0; i < n; i++)
			sink += *(volatile uint32_t *)(p + ((i & 15) << 2));
		break;
	case 2:
		for (i = 0; i < n; i++)
			burst64(p, src);
		break;
	case 3:
		for (i = 0; i < n; i++) {
			cpu_wmb();
			*(volatile uint32_t *)bell = (uint32_t)i;
		}
		break;
	case 4:
		for (i = 0; i < n; i++) {
			__atomic_fetch_add(&scratch, 0, __ATOMIC_SEQ_CST);
			*(volatile uint32_t *)bell = (uint32_t)i;
		}
		break;
	case 5:
		for (i = 0; i < n; i++) {
			cpu_mb();
			*(volatile uint32_t *)bell = (uint32_t)i;
		}
		break;
	case 6:
		for (i = 0; i < n; i++)
			*(volatile uint64_t *)p = i;
		break;
	default:
		return RANGE_ERR(env, "mmioBench: unknown op %u", op);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	(void)sink;
	NAPI_OK(env, napi_create_double(env, ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / (double)n, &r));
	return r;
}

/* ---------------------------------------------------------------- close */

static napi_value js_close(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	struct sim_entry *s;
	struct addon *a;
	int fd, ret;

	if (get_args(env, info, 1, argv, &a) || get_fd(env, argv[0], &fd))
		return NULL;
	s = find_sim(a, fd);
	if (s) {
		ret = sim_teardown(env, a, s);
		if (ret < 0)
			return throw_errno(env, -ret, "close", NULL, "close(fd=%d)", fd);
		return NULL;
	}
	if (close(fd) < 0)
		return throw_errno(env, errno, "close", NULL, "close(fd=%d)", fd);
	return NULL;
}

/* ---------------------------------------------------------------- simulator */

static int parse_region(napi_env env, napi_value r, uint32_t i, struct sim_region_config *c,
			struct sim_sparse_area **sparse_out)
{
	char name[96], *kind = NULL;
	napi_value v;
	bool is_array;
	uint32_t n, k;
	int err = -1;

	memset(c, 0, sizeof(*c));
	*sparse_out = NULL;
	snprintf(name, sizeof(name), "config.regions[%u]", i);
	if (type_of(env, r) != napi_object) {
		TYPE_ERR(env, "%s must be an object", name);
		return -1;
	}
#define FIELD(f) (snprintf(name, sizeof(name), "config.regions[%u].%s", i, f), get_prop(env, r, f))
	if (get_u64_bigint(env, FIELD("size"), name, &c->size))
		return -1;
	if (c->size > (UINT64_C(1) << SIM_OFFSET_SHIFT)) {
		RANGE_ERR(env, "%s must be at most 2n ** %dn", name, SIM_OFFSET_SHIFT);
		return -1;
	}
	if (get_string(env, FIELD("kind"), name, &kind))
		return -1;
	if (!strcmp(kind, "memory"))
		c->kind = SIM_KIND_MEMORY;
	else if (!strcmp(kind, "io"))
		c->kind = SIM_KIND_IO;
	else if (!strcmp(kind, "config"))
		c->kind = SIM_KIND_CONFIG;
	else if (!strcmp(kind, "none"))
		c->kind = SIM_KIND_NONE;
	else {
		RANGE_ERR(env, "%s must be 'memory', 'io', 'config' or 'none'", name);
		goto out;
	}
	if (get_bool(env, FIELD("readable"), name, 0, &c->readable) ||
	    get_bool(env, FIELD("writable"), name, 0, &c->writable) ||
	    get_bool(env, FIELD("mmap"), name, 0, &c->mmap) ||
	    get_u32(env, FIELD("supportedAttrs"), name, &c->supported_attrs) ||
	    get_bool(env, FIELD("msixMappable"), name, 1, &c->msix_mappable) ||
	    get_bool(env, FIELD("prefetchable"), name, 1, &c->prefetchable))
		goto out;
	if (c->prefetchable && c->kind != SIM_KIND_MEMORY) {
		RANGE_ERR(env, "config.regions[%u]: only a 'memory' region can be prefetchable", i);
		goto out;
	}
	if (c->mmap && c->kind != SIM_KIND_MEMORY) {
		RANGE_ERR(env, "config.regions[%u]: only a 'memory' region can be mmap-able", i);
		goto out;
	}
	v = FIELD("type");
	if (type_of(env, v) != napi_undefined) {
		if (type_of(env, v) != napi_object) {
			TYPE_ERR(env, "%s must be an object", name);
			goto out;
		}
		snprintf(name, sizeof(name), "config.regions[%u].type.type", i);
		if (get_u32(env, get_prop(env, v, "type"), name, &c->type))
			goto out;
		snprintf(name, sizeof(name), "config.regions[%u].type.subtype", i);
		if (get_u32(env, get_prop(env, v, "subtype"), name, &c->subtype))
			goto out;
		c->has_type = 1;
	}
	v = FIELD("sparse");
	if (type_of(env, v) != napi_undefined) {
		napi_is_array(env, v, &is_array);
		if (!is_array) {
			TYPE_ERR(env, "%s must be an array", name);
			goto out;
		}
		napi_get_array_length(env, v, &n);
		if (n > 1024) {
			RANGE_ERR(env, "%s has more than 1024 areas", name);
			goto out;
		}
		*sparse_out = calloc(n ? n : 1, sizeof(**sparse_out));
		if (!*sparse_out) {
			throw_errno(env, ENOMEM, "simCreate", NULL, "simCreate");
			goto out;
		}
		for (k = 0; k < n; k++) {
			struct sim_sparse_area *ar = &(*sparse_out)[k];
			napi_value e;

			napi_get_element(env, v, k, &e);
			if (type_of(env, e) != napi_object) {
				TYPE_ERR(env, "config.regions[%u].sparse[%u] must be an object", i, k);
				goto out;
			}
			snprintf(name, sizeof(name), "config.regions[%u].sparse[%u].offset", i, k);
			if (get_u64_bigint(env, get_prop(env, e, "offset"), name, &ar->offset))
				goto out;
			snprintf(name, sizeof(name), "config.regions[%u].sparse[%u].size", i, k);
			if (get_u64_bigint(env, get_prop(env, e, "size"), name, &ar->size))
				goto out;
			if (ar->offset > c->size || ar->size > c->size - ar->offset) {
				RANGE_ERR(env, "config.regions[%u].sparse[%u] is outside the region", i, k);
				goto out;
			}
		}
		c->nr_sparse = n;
		c->sparse = *sparse_out;
	}
#undef FIELD
	err = 0;
out:
	free(kind);
	return err;
}

static napi_value js_sim_create(napi_env env, napi_callback_info info)
{
	struct sim_region_config *regs = NULL;
	struct sim_sparse_area **sparse = NULL;
	struct sim_config cfg;
	struct sim_device *dev = NULL;
	napi_value argv[1], v, res = NULL;
	struct addon *a;
	char *shm_dir = NULL;
	bool is_array;
	uint32_t n = 0, i, vendor, device;
	int fd, ret;

	if (get_args(env, info, 1, argv, &a))
		return NULL;
	memset(&cfg, 0, sizeof(cfg));
	if (type_of(env, argv[0]) != napi_object)
		return TYPE_ERR(env, "config must be an object");
	v = get_prop(env, argv[0], "regions");
	napi_is_array(env, v, &is_array);
	if (!is_array)
		return TYPE_ERR(env, "config.regions must be an array");
	napi_get_array_length(env, v, &n);
	if (n > 64)
		return RANGE_ERR(env, "config.regions has more than 64 regions");
	regs = calloc(n ? n : 1, sizeof(*regs));
	sparse = calloc(n ? n : 1, sizeof(*sparse));
	if (!regs || !sparse) {
		throw_errno(env, ENOMEM, "simCreate", NULL, "simCreate");
		goto out;
	}
	for (i = 0; i < n; i++) {
		napi_value r;

		if (napi_get_element(env, v, i, &r) != napi_ok) {
			napi_fail(env);
			goto out;
		}
		if (parse_region(env, r, i, &regs[i], &sparse[i]))
			goto out;
	}
	if (get_u32(env, get_prop(env, argv[0], "numIrqs"), "config.numIrqs", &cfg.num_irqs) ||
	    get_u32(env, get_prop(env, argv[0], "maxSubregions"), "config.maxSubregions",
		    &cfg.max_subregions))
		goto out;
	if (cfg.num_irqs > 64 || cfg.max_subregions > 4096) {
		RANGE_ERR(env, "config.numIrqs must be at most 64 and config.maxSubregions at most 4096");
		goto out;
	}
	v = get_prop(env, argv[0], "shmDir");
	if (type_of(env, v) != napi_undefined && get_string(env, v, "config.shmDir", &shm_dir))
		goto out;
	if (get_optional_u32(env, get_prop(env, argv[0], "vendorId"), "config.vendorId", 0xffff, SIM_DEFAULT_VENDOR, &vendor) ||
	    get_optional_u32(env, get_prop(env, argv[0], "deviceId"), "config.deviceId", 0xffff, SIM_DEFAULT_DEVICE, &device) ||
	    get_optional_u32(env, get_prop(env, argv[0], "classCode"), "config.classCode", 0xffffff, 0, &cfg.class_code))
		goto out;
	cfg.vendor_id = (uint16_t)vendor;
	cfg.device_id = (uint16_t)device;
	cfg.nr_regions = n;
	cfg.regions = regs;
	cfg.shm_dir = shm_dir;

	fd = eventfd(0, EFD_CLOEXEC);
	if (fd < 0) {
		throw_errno(env, errno, "eventfd", NULL, "simCreate: eventfd()");
		goto out;
	}
	if (a->nr_sims == a->cap_sims) {
		size_t cap = a->cap_sims ? a->cap_sims * 2 : 8;
		struct sim_entry *ns = realloc(a->sims, cap * sizeof(*ns));

		if (!ns) {
			close(fd);
			throw_errno(env, ENOMEM, "simCreate", NULL, "simCreate");
			goto out;
		}
		a->sims = ns;
		a->cap_sims = cap;
	}
	ret = sim_create(&cfg, &dev);
	if (ret < 0) {
		close(fd);
		if (ret == -EINVAL)
			RANGE_ERR(env, "config is not a valid SimConfig");
		else
			throw_errno(env, -ret, "simCreate", NULL, "simCreate(shmDir=%s)",
				    shm_dir ? shm_dir : "/dev/shm");
		goto out;
	}
	if (napi_create_int32(env, fd, &res) != napi_ok) {
		sim_destroy(dev);
		close(fd);
		res = napi_fail(env);
		goto out;
	}
	a->sims[a->nr_sims].fd = fd;
	a->sims[a->nr_sims].dev = dev;
	a->nr_sims++;
out:
	if (sparse)
		for (i = 0; i < n; i++)
			free(sparse[i]);
	free(sparse);
	free(regs);
	free(shm_dir);
	return res;
}

static struct sim_entry *get_sim(napi_env env, struct addon *a, int fd, const char *fn)
{
	struct sim_entry *s = find_sim(a, fd);

	if (!s)
		throw_errno(env, EBADF, fn, "not a simulated device", "%s(fd=%d)", fn, fd);
	return s;
}

static napi_value js_sim_mappings(napi_env env, napi_callback_info info)
{
	napi_value argv[1], arr, o, v;
	struct sim_entry *s;
	struct addon *a;
	size_t i, n;
	int fd;

	if (get_args(env, info, 1, argv, &a) || get_fd(env, argv[0], &fd))
		return NULL;
	s = get_sim(env, a, fd, "simMappings");
	if (!s)
		return NULL;
	n = sim_nr_mappings(s->dev);
	NAPI_OK(env, napi_create_array_with_length(env, n, &arr));
	for (i = 0; i < n; i++) {
		const struct sim_mapping *m = sim_mapping_at(s->dev, i);

		NAPI_OK(env, napi_create_object(env, &o));
		NAPI_OK(env, napi_create_uint32(env, m->index, &v));
		NAPI_OK(env, napi_set_named_property(env, o, "index", v));
		NAPI_OK(env, napi_create_bigint_uint64(env, m->offset, &v));
		NAPI_OK(env, napi_set_named_property(env, o, "offset", v));
		NAPI_OK(env, napi_create_double(env, (double)m->length, &v));
		NAPI_OK(env, napi_set_named_property(env, o, "length", v));
		NAPI_OK(env, napi_create_uint32(env, m->attrs, &v));
		NAPI_OK(env, napi_set_named_property(env, o, "attrs", v));
		NAPI_OK(env, napi_create_int32(env, m->prot, &v));
		NAPI_OK(env, napi_set_named_property(env, o, "prot", v));
		NAPI_OK(env, napi_create_bigint_uint64(env, (uint64_t)(uintptr_t)m->addr, &v));
		NAPI_OK(env, napi_set_named_property(env, o, "address", v));
		NAPI_OK(env, napi_set_element(env, arr, (uint32_t)i, o));
	}
	return arr;
}

static napi_value js_sim_backing(napi_env env, napi_callback_info info)
{
	napi_value argv[2], o, v;
	struct sim_entry *s;
	struct addon *a;
	const char *path;
	uint64_t off, size;
	uint32_t index;
	int fd;

	if (get_args(env, info, 2, argv, &a) || get_fd(env, argv[0], &fd) ||
	    get_u32(env, argv[1], "index", &index))
		return NULL;
	s = get_sim(env, a, fd, "simBacking");
	if (!s)
		return NULL;
	if (sim_backing(s->dev, index, &path, &off, &size) < 0) {
		NAPI_OK(env, napi_get_null(env, &o));
		return o;
	}
	NAPI_OK(env, napi_create_object(env, &o));
	NAPI_OK(env, napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &v));
	NAPI_OK(env, napi_set_named_property(env, o, "path", v));
	NAPI_OK(env, napi_create_bigint_uint64(env, off, &v));
	NAPI_OK(env, napi_set_named_property(env, o, "offset", v));
	NAPI_OK(env, napi_create_bigint_uint64(env, size, &v));
	NAPI_OK(env, napi_set_named_property(env, o, "size", v));
	return o;
}

/* ---------------------------------------------------------------- module */

static napi_value init(napi_env env, napi_value exports)
{
	struct addon *a = calloc(1, sizeof(*a));
	napi_value ps, pr, pw;

	if (!a)
		return throw_errno(env, ENOMEM, "malloc", NULL, "vfio_native init");
	if (napi_set_instance_data(env, a, addon_finalize, NULL) != napi_ok) {
		free(a);
		return napi_fail(env);
	}
	NAPI_OK(env, napi_create_double(env, (double)sim_page_size(), &ps));
	NAPI_OK(env, napi_create_int32(env, PROT_READ, &pr));
	NAPI_OK(env, napi_create_int32(env, PROT_WRITE, &pw));

	napi_property_descriptor props[] = {
		{ "open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, a },
		{ "openGroupDevice", NULL, js_open_group_device, NULL, NULL, NULL, napi_enumerable, a },
		{ "openCdevDevice", NULL, js_open_cdev_device, NULL, NULL, NULL, napi_enumerable, a },
		{ "ioctl", NULL, js_ioctl, NULL, NULL, NULL, napi_enumerable, a },
		{ "pread", NULL, js_pread, NULL, NULL, NULL, napi_enumerable, a },
		{ "pwrite", NULL, js_pwrite, NULL, NULL, NULL, napi_enumerable, a },
		{ "mmap", NULL, js_mmap, NULL, NULL, NULL, napi_enumerable, a },
		{ "munmap", NULL, js_munmap, NULL, NULL, NULL, napi_enumerable, a },
		{ "close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, a },
		{ "wasmMap", NULL, js_wasm_map, NULL, NULL, NULL, napi_enumerable, a },
		{ "mmioRead", NULL, js_mmio_read, NULL, NULL, NULL, napi_enumerable, a },
		{ "mmioWrite", NULL, js_mmio_write, NULL, NULL, NULL, napi_enumerable, a },
		{ "mmioExec", NULL, js_mmio_exec, NULL, NULL, NULL, napi_enumerable, a },
		{ "mmioBench", NULL, js_mmio_bench, NULL, NULL, NULL, napi_enumerable, a },
		{ "wmb", NULL, js_wmb, NULL, NULL, NULL, napi_enumerable, a },
		{ "mb", NULL, js_mb, NULL, NULL, NULL, napi_enumerable, a },
		{ "rmb", NULL, js_rmb, NULL, NULL, NULL, napi_enumerable, a },
		{ "simCreate", NULL, js_sim_create, NULL, NULL, NULL, napi_enumerable, a },
		{ "simMappings", NULL, js_sim_mappings, NULL, NULL, NULL, napi_enumerable, a },
		{ "simBacking", NULL, js_sim_backing, NULL, NULL, NULL, napi_enumerable, a },
		{ "pageSize", NULL, NULL, NULL, NULL, ps, napi_enumerable, NULL },
		{ "PROT_READ", NULL, NULL, NULL, NULL, pr, napi_enumerable, NULL },
		{ "PROT_WRITE", NULL, NULL, NULL, NULL, pw, napi_enumerable, NULL },
	};
	NAPI_OK(env, napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props));
	return exports;
}

NAPI_MODULE_INIT()
{
	return init(env, exports);
}
