// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Module setup, once per Node-API environment (the main thread and each worker): the entry points,
 * what the brand check of wasmMap needs (init), and the teardown that closes whatever the
 * environment leaves open when it exits.
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
	irq_teardown(a);
	dmabuf_teardown(a);
	if (a->memory_buffer)
		napi_delete_reference(env, a->memory_buffer);
	if (a->uint8array)
		napi_delete_reference(env, a->uint8array);
	free(a);
}

/*
 * init(memoryBufferGetter, Uint8Array): what the brand check of wasmMap calls, taken by the runtime
 * from a fresh V8 context (node:vm) when it loads the addon, so that no replacement user code made
 * in this one can stand in. Once per environment: a second call, which could only be an attempt to
 * swap them, is refused, and so is wasmMap before the first.
 */
static napi_value js_init(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	struct addon *a;

	if (get_args(env, info, 2, argv, &a))
		return NULL;
	if (a->memory_buffer)
		return throw_state(env, "ERR_ALREADY_INITIALIZED", "the addon was initialised already");
	if (type_of(env, argv[0]) != napi_function)
		return TYPE_ERR(env, "memoryBufferGetter must be a function");
	if (type_of(env, argv[1]) != napi_function)
		return TYPE_ERR(env, "Uint8Array must be a function");
	NAPI_OK(env, napi_create_reference(env, argv[1], 1, &a->uint8array));
	NAPI_OK(env, napi_create_reference(env, argv[0], 1, &a->memory_buffer));
	return NULL;
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
	NAPI_OK(env, napi_set_named_property(env, o, "dmaMappings", make_int(env, (int64_t)live_pins())));
	NAPI_OK(env, napi_set_named_property(env, o, "dmaBuffers", make_int(env, (int64_t)live_dmabufs())));
	NAPI_OK(env, napi_set_named_property(env, o, "eventfds", make_int(env, (int64_t)live_eventfds())));
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
	if (napi_set_instance_data(env, a, addon_finalize, NULL) != napi_ok) {
		free(a);
		return napi_fail(env);
	}
	NAPI_OK(env, napi_create_double(env, (double)sim_page_size(), &ps));
	NAPI_OK(env, napi_create_int32(env, PROT_READ, &pr));
	NAPI_OK(env, napi_create_int32(env, PROT_WRITE, &pw));

	napi_property_descriptor props[] = {
		FN("init", js_init),
		FN("open", js_open),
		FN("adoptFd", js_adopt_fd),
		FN("openGroupDevice", js_open_group_device),
		FN("openCdevDevice", js_open_cdev_device),
		FN("simCreate", js_sim_create),
		FN("ioctl", js_ioctl),
		FN("deviceScratch", js_device_scratch),
		FN("ioctlScratch", js_ioctl_scratch),
		FN("bindIoctl", js_bind_ioctl),
		FN("ioctlValue", js_ioctl_value),
		FN("pread", js_pread),
		FN("pwrite", js_pwrite),
		FN("lastRule", js_last_rule),
		FN("handleKind", js_handle_kind),
		FN("close", js_close),
		FN("mmap", js_mmap),
		FN("wasmMap", js_wasm_map),
		FN("munmap", js_munmap),
		FN("mmapHandle", js_mmap_handle),
		FN("mappingBuffer", js_mapping_buffer),
		FN("mappingAddress", js_mapping_address),
		FN("mmioRead", js_mmio_read),
		FN("mmioWrite", js_mmio_write),
		FN("copyFrom", js_copy_from),
		FN("wmb", js_wmb),
		FN("mb", js_mb),
		FN("rmb", js_rmb),
		FN("simMappings", js_sim_mappings),
		FN("simBacking", js_sim_backing),
		FN("stats", js_stats),
		FN("iommuHandle", js_iommu_handle),
		FN("dmaAlloc", js_dma_alloc),
		FN("dmaMap", js_dma_map),
		FN("dmaUnmap", js_dma_unmap),
		FN("ioasIovaRanges", js_ioas_iova_ranges),
		FN("simDma", js_sim_dma),
		FN("simInterrupt", js_sim_interrupt),
		FN("simDmaStats", js_sim_dma_stats),
		FN("simModel", js_sim_model),
		FN("irqCreate", js_irq_create),
		FN("irqSetEventfds", js_irq_set_eventfds),
		FN("irqRef", js_irq_ref),
		FN("irqClose", js_irq_close),
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
