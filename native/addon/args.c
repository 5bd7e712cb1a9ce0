// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Arguments from JavaScript, checked before anything runs: a wrong kind throws a TypeError
 * (code ERR_INVALID_ARG_TYPE), a value out of range a RangeError (ERR_OUT_OF_RANGE), each naming the
 * argument as the contract in runtime/src/native.ts names it.
 */
#include "args.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

napi_value napi_fail(napi_env env)
{
	bool pending = false;

	napi_is_exception_pending(env, &pending);
	if (!pending)
		napi_throw_error(env, NULL, "vfio_native: Node-API call failed");
	return NULL;
}

napi_value throw_kind(napi_env env, bool range, const char *fmt, ...)
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

/* A handle used in a state that does not allow the call: ERR_DEVICE_CLOSED, ERR_UNMAPPED, ... */
napi_value throw_state(napi_env env, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	napi_throw_error(env, code, msg);
	return NULL;
}

static const char *errno_name(int err)
{
	const char *n = strerrorname_np(err);

	return n ? n : "EUNKNOWN";
}

/* Error("<what>: CODE (strerror)[: note]") with code, errno and syscall. */
napi_value throw_errno(napi_env env, int err, const char *syscall, const char *note, const char *fmt, ...)
{
	char what[512], msg[1024];
	napi_value m, e, v;
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	n = snprintf(msg, sizeof(msg), "%s: %s (%s)", what, errno_name(err), strerror(err));
	if (note && n > 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", note);
	if (napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m) != napi_ok ||
	    napi_create_error(env, NULL, m, &e) != napi_ok)
		return napi_fail(env);
	napi_create_string_utf8(env, errno_name(err), NAPI_AUTO_LENGTH, &v);
	napi_set_named_property(env, e, "code", v);
	napi_create_int32(env, err, &v);
	napi_set_named_property(env, e, "errno", v);
	napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &v);
	napi_set_named_property(env, e, "syscall", v);
	napi_throw(env, e);
	return NULL;
}

napi_value make_int(napi_env env, int64_t v)
{
	napi_value r;

	if (v >= INT32_MIN && v <= INT32_MAX)
		NAPI_OK(env, napi_create_int32(env, (int32_t)v, &r));	/* a Smi: no allocation */
	else
		NAPI_OK(env, napi_create_double(env, (double)v, &r));
	return r;
}

int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv, struct addon **a)
{
	size_t argc = want, i;
	void *data;

	if (napi_get_cb_info(env, info, &argc, argv, NULL, &data) != napi_ok) {
		napi_fail(env);
		return -1;
	}
	for (i = argc; i < want; i++)
		napi_get_undefined(env, &argv[i]);
	if (a)
		*a = data;
	return 0;
}

napi_valuetype type_of(napi_env env, napi_value v)
{
	napi_valuetype t = napi_undefined;

	napi_typeof(env, v, &t);
	return t;
}

/* A number that is an integer in [lo, hi]. */
int get_integer(napi_env env, napi_value v, const char *name, double lo, double hi, double *out)
{
	double d;

	/* one call: napi_get_value_double itself refuses what is not a number */
	if (napi_get_value_double(env, v, &d) != napi_ok) {
		TYPE_ERR(env, "%s must be a number", name);
		return -1;
	}
	if (!isfinite(d) || d != trunc(d) || d < lo || d > hi) {
		RANGE_ERR(env, "%s must be an integer in [%.0f, %.0f], got %g", name, lo, hi, d);
		return -1;
	}
	*out = d;
	return 0;
}

int get_u32(napi_env env, napi_value v, const char *name, uint32_t *out)
{
	double d;

	if (get_integer(env, v, name, 0, UINT32_MAX, &d))
		return -1;
	*out = (uint32_t)d;
	return 0;
}

/* An optional integer in [0, max]; def when undefined. */
int get_optional_u32(napi_env env, napi_value v, const char *name, uint32_t max, uint32_t def, uint32_t *out)
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

int get_u64_bigint(napi_env env, napi_value v, const char *name, uint64_t *out)
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

int get_bool(napi_env env, napi_value v, const char *name, bool optional, int *out)
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

/* A Uint8Array; a detached one is empty. */
int get_bytes(napi_env env, napi_value v, const char *name, void **data, size_t *len)
{
	napi_typedarray_type t;

	if (napi_get_typedarray_info(env, v, &t, len, data, NULL, NULL) == napi_ok && t == napi_uint8_array) {
		if (!*data)
			*len = 0;
		return 0;
	}
	TYPE_ERR(env, "%s must be a Uint8Array", name);
	return -1;
}

/* A string without NUL bytes; *out is malloc'ed. */
int get_string(napi_env env, napi_value v, const char *name, char **out)
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

napi_value get_prop(napi_env env, napi_value obj, const char *name)
{
	napi_value v = NULL;

	if (napi_get_named_property(env, obj, name, &v) != napi_ok) {
		bool pending = false;
		napi_value ignored;

		/* a throwing getter: the caller sees undefined and refuses that */
		napi_is_exception_pending(env, &pending);
		if (pending)
			napi_get_and_clear_last_exception(env, &ignored);
		napi_get_undefined(env, &v);
	}
	return v;
}
