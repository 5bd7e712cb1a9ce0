// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Module setup, once per Node-API environment (the main thread and each worker): what the brand
 * check of wasmMap needs, captured before any user code can replace it, the entry points, and the
 * teardown that closes whatever the environment leaves open when it exits.
 */
#include "addon.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

static void addon_finalize(napi_env env, void *data, void *hint)
{
	struct addon *a = data;

	(void)hint;
	while (a->devices) {
		struct vdev *d = a->devices;

		vdev_get(d);
		vdev_close(env, d);
		a->devices = d->next;
		if (d->next)
			d->next->pprev = &a->devices;
		d->owner = NULL;
		vdev_put(d);
	}
	if (a->memory_buffer)
		napi_delete_reference(env, a->memory_buffer);
	if (a->uint8array)
		napi_delete_reference(env, a->uint8array);
	free(a);
}

/* Object.getOwnPropertyDescriptor(WebAssembly.Memory.prototype, 'buffer').get, and Uint8Array. */
static napi_status capture(napi_env env, struct addon *a)
{
	napi_value global, object, gopd, wa, mem, proto, name, desc, get, u8;
	napi_status s;

	if ((s = napi_get_global(env, &global)) != napi_ok ||
	    (s = napi_get_named_property(env, global, "Object", &object)) != napi_ok ||
	    (s = napi_get_named_property(env, object, "getOwnPropertyDescriptor", &gopd)) != napi_ok ||
	    (s = napi_get_named_property(env, global, "WebAssembly", &wa)) != napi_ok ||
	    (s = napi_get_named_property(env, wa, "Memory", &mem)) != napi_ok ||
	    (s = napi_get_named_property(env, mem, "prototype", &proto)) != napi_ok ||
	    (s = napi_create_string_utf8(env, "buffer", NAPI_AUTO_LENGTH, &name)) != napi_ok ||
	    (s = napi_call_function(env, object, gopd, 2, (napi_value[]){ proto, name }, &desc)) != napi_ok ||
	    (s = napi_get_named_property(env, desc, "get", &get)) != napi_ok ||
	    (s = napi_create_reference(env, get, 1, &a->memory_buffer)) != napi_ok ||
	    (s = napi_get_named_property(env, global, "Uint8Array", &u8)) != napi_ok)
		return s;
	return napi_create_reference(env, u8, 1, &a->uint8array);
}

/* stats(): what the process and this environment hold, for leak checks. */
napi_value js_stats(napi_env env, napi_callback_info info)
{
	napi_value argv[1], o;
	struct addon *a;
	size_t devices = 0;

	if (get_args(env, info, 0, argv, &a))
		return NULL;
	for (struct vdev *d = a->devices; d; d = d->next)
		devices += !d->closed;
	NAPI_OK(env, napi_create_object(env, &o));
	NAPI_OK(env, napi_set_named_property(env, o, "openDevices", make_int(env, (int64_t)devices)));
	NAPI_OK(env, napi_set_named_property(env, o, "ranges", make_int(env, (int64_t)live_ranges())));
	NAPI_OK(env, napi_set_named_property(env, o, "windows", make_int(env, (int64_t)live_windows())));
	return o;
}

#define FN(js, c) { js, NULL, c, NULL, NULL, NULL, napi_enumerable, a }
#define VALUE(js, v) { js, NULL, NULL, NULL, NULL, v, napi_enumerable, NULL }

static napi_value init(napi_env env, napi_value exports)
{
	struct addon *a = calloc(1, sizeof(*a));
	napi_value ps, pr, pw;

	if (!a)
		return throw_errno(env, ENOMEM, "malloc", NULL, "vfio_native init");
	if (capture(env, a) != napi_ok || napi_set_instance_data(env, a, addon_finalize, NULL) != napi_ok) {
		free(a);
		return napi_fail(env);
	}
	NAPI_OK(env, napi_create_double(env, (double)page_size(), &ps));
	NAPI_OK(env, napi_create_int32(env, PROT_READ, &pr));
	NAPI_OK(env, napi_create_int32(env, PROT_WRITE, &pw));

	napi_property_descriptor props[] = {
		FN("open", js_open),
		FN("adoptFd", js_adopt_fd),
		FN("openGroupDevice", js_open_group_device),
		FN("openCdevDevice", js_open_cdev_device),
		FN("simCreate", js_sim_create),
		FN("ioctl", js_ioctl),
		FN("pread", js_pread),
		FN("pwrite", js_pwrite),
		FN("lastRule", js_last_rule),
		FN("close", js_close),
		FN("mmap", js_mmap),
		FN("wasmMap", js_wasm_map),
		FN("munmap", js_munmap),
		FN("mmioRead", js_mmio_read),
		FN("mmioWrite", js_mmio_write),
		FN("copyFrom", js_copy_from),
		FN("wmb", js_wmb),
		FN("mb", js_mb),
		FN("rmb", js_rmb),
		FN("simMappings", js_sim_mappings),
		FN("simBacking", js_sim_backing),
		FN("stats", js_stats),
		VALUE("pageSize", ps),
		VALUE("PROT_READ", pr),
		VALUE("PROT_WRITE", pw),
	};
	NAPI_OK(env, napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props));
	return exports;
}

NAPI_MODULE_INIT()
{
	return init(env, exports);
}
