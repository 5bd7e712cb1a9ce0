/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * Arguments from JavaScript (args.c), shared by the production addon and the test/bench module
 * (native/testing/): each failure throws a TypeError/RangeError naming the argument.
 */
#ifndef VFIO_ADDON_ARGS_H
#define VFIO_ADDON_ARGS_H

#define NAPI_VERSION 8
#include <node_api.h>

#include <stdbool.h>
#include <stdint.h>

#define MAX_SAFE_INTEGER 9007199254740991.0

struct addon;

int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv, struct addon **a);
napi_valuetype type_of(napi_env env, napi_value v);
int get_integer(napi_env env, napi_value v, const char *name, double lo, double hi, double *out);
int get_u32(napi_env env, napi_value v, const char *name, uint32_t *out);
int get_optional_u32(napi_env env, napi_value v, const char *name, uint32_t max, uint32_t def, uint32_t *out);
int get_u64_bigint(napi_env env, napi_value v, const char *name, uint64_t *out);
int get_bool(napi_env env, napi_value v, const char *name, bool optional, int *out);
int get_bytes(napi_env env, napi_value v, const char *name, void **data, size_t *len);
int get_string(napi_env env, napi_value v, const char *name, char **out);
napi_value get_prop(napi_env env, napi_value obj, const char *name);
napi_value throw_kind(napi_env env, bool range, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
napi_value throw_state(napi_env env, const char *code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
napi_value throw_errno(napi_env env, int err, const char *syscall, const char *note, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
napi_value napi_fail(napi_env env);
napi_value make_int(napi_env env, int64_t v);

#define TYPE_ERR(env, ...) throw_kind(env, false, __VA_ARGS__)
#define RANGE_ERR(env, ...) throw_kind(env, true, __VA_ARGS__)
#define NAPI_OK(env, call)                         \
	do {                                       \
		if ((call) != napi_ok)             \
			return napi_fail(env);     \
	} while (0)

#endif /* VFIO_ADDON_ARGS_H */
