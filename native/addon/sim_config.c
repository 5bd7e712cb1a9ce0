// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * The simulator's entry points: a SimConfig (runtime/src/native.ts) checked field by field into a
 * struct sim_config, a device handle over the simulated device, and what only a simulator can
 * answer (its record of mappings, the memory behind a region).
 */
#include "addon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

/* A simulated device that is still open. */
static int get_sim(napi_env env, napi_value v, struct vdev **out)
{
	if (get_vdev(env, v, out))
		return -1;
	if ((*out)->ops != &sim_ops) {
		TYPE_ERR(env, "device must be a simulated device");
		return -1;
	}
	if ((*out)->closed) {
		throw_state(env, "ERR_DEVICE_CLOSED", "the device is closed");
		return -1;
	}
	return 0;
}

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
	if (get_bool(env, FIELD("readable"), name, false, &c->readable) ||
	    get_bool(env, FIELD("writable"), name, false, &c->writable) ||
	    get_bool(env, FIELD("mmap"), name, false, &c->mmap) ||
	    get_u32(env, FIELD("supportedAttrs"), name, &c->supported_attrs) ||
	    get_bool(env, FIELD("msixMappable"), name, true, &c->msix_mappable) ||
	    get_bool(env, FIELD("prefetchable"), name, true, &c->prefetchable))
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

/* msi, msix, reset, iommufd and iommu of a SimConfig (all optional). */
static int parse_irqs_iommu(napi_env env, napi_value c, struct sim_config *cfg, struct sim_iommu_config *icfg,
			    struct sim_iova_range *ranges)
{
	napi_value v = get_prop(env, c, "reset"), io, r;
	char name[64];
	bool is_array;
	uint32_t n, i;
	int reset = 1;

	if (get_optional_u32(env, get_prop(env, c, "msi"), "config.msi", 32, 0, &cfg->msi) ||
	    get_optional_u32(env, get_prop(env, c, "msix"), "config.msix", 2048, 0, &cfg->msix) ||
	    (type_of(env, v) != napi_undefined && get_bool(env, v, "config.reset", false, &reset)))
		return -1;
	if (cfg->msi & (cfg->msi - 1)) {
		RANGE_ERR(env, "config.msi must be a power of two (an MSI capability's vector count), got %u", cfg->msi);
		return -1;
	}
	cfg->no_reset = !reset;
	v = get_prop(env, c, "iommufd");
	if (type_of(env, v) != napi_undefined && get_bool(env, v, "config.iommufd", false, &cfg->iommufd))
		return -1;
	io = get_prop(env, c, "iommu");
	if (type_of(env, io) == napi_undefined)
		return 0;
	if (type_of(env, io) != napi_object) {
		TYPE_ERR(env, "config.iommu must be an object");
		return -1;
	}
	memset(icfg, 0, sizeof(*icfg));
	if (get_optional_u32(env, get_prop(env, io, "dmaLimit"), "config.iommu.dmaLimit", UINT32_MAX, 0, &icfg->dma_limit))
		return -1;
	v = get_prop(env, io, "iovaRanges");
	napi_is_array(env, v, &is_array);
	if (!is_array) {
		TYPE_ERR(env, "config.iommu.iovaRanges must be an array");
		return -1;
	}
	napi_get_array_length(env, v, &n);
	if (n == 0 || n > SIM_MAX_IOVA_RANGES) {
		RANGE_ERR(env, "config.iommu.iovaRanges must hold 1 to %d ranges, got %u", SIM_MAX_IOVA_RANGES, n);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (napi_get_element(env, v, i, &r) != napi_ok) {
			napi_fail(env);
			return -1;
		}
		if (type_of(env, r) != napi_object) {
			TYPE_ERR(env, "config.iommu.iovaRanges[%u] must be an object { start, end }", i);
			return -1;
		}
		snprintf(name, sizeof(name), "config.iommu.iovaRanges[%u].start", i);
		if (get_u64_bigint(env, get_prop(env, r, "start"), name, &ranges[i].start))
			return -1;
		snprintf(name, sizeof(name), "config.iommu.iovaRanges[%u].end", i);
		if (get_u64_bigint(env, get_prop(env, r, "end"), name, &ranges[i].end))
			return -1;
	}
	icfg->nr_ranges = n;
	icfg->ranges = ranges;
	cfg->iommu = icfg;
	return 0;
}

napi_value js_sim_create(napi_env env, napi_callback_info info)
{
	struct sim_region_config *regs = NULL;
	struct sim_sparse_area **sparse = NULL;
	struct sim_config cfg;
	struct sim_iova_range ranges[SIM_MAX_IOVA_RANGES];
	struct sim_iommu_config icfg;
	struct sim_device *dev = NULL;
	napi_value argv[1], v, res = NULL;
	struct addon *a;
	struct vdev *d;
	char *shm_dir = NULL;
	bool is_array;
	uint32_t n = 0, i, vendor, device;
	uint64_t bytes = 0;
	int ret;

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
	if (parse_irqs_iommu(env, argv[0], &cfg, &icfg, ranges))
		goto out;
	v = get_prop(env, argv[0], "model");
	if (type_of(env, v) != napi_undefined) {
		char *model = NULL;

		if (get_string(env, v, "config.model", &model))
			goto out;
		cfg.model = strcmp(model, "e1000e") ? ~0u : SIM_MODEL_E1000E;
		free(model);
		if (cfg.model == ~0u) {
			RANGE_ERR(env, "config.model must be 'e1000e' (the only device model), or absent");
			goto out;
		}
		if (!n || regs[0].kind != SIM_KIND_MEMORY || regs[0].size < 0x20000) {
			RANGE_ERR(env, "config.model 'e1000e' needs region 0 to be memory of at least 128 KiB (its registers)");
			goto out;
		}
	}
	cfg.vendor_id = (uint16_t)vendor;
	cfg.device_id = (uint16_t)device;
	cfg.nr_regions = n;
	cfg.regions = regs;
	cfg.shm_dir = shm_dir;
	cfg.pin = dma_sim_pin;

	ret = sim_create(&cfg, &dev);
	if (ret < 0) {
		if (ret == -EINVAL && cfg.iommu)
			RANGE_ERR(env, "config.iommu.iovaRanges must be 1 to %d ranges, each start <= end, ascending and disjoint", SIM_MAX_IOVA_RANGES);
		else if (ret == -EINVAL)
			RANGE_ERR(env, "config is not a valid SimConfig");
		else
			throw_errno(env, -ret, "simCreate", ret == -ENOSPC ? "no space for the BAR memory there" : NULL,
				    "simCreate(shmDir=%s)", shm_dir ? shm_dir : "memfd");
		goto out;
	}
	d = vdev_new(env, a, &sim_ops);
	if (!d) {
		sim_destroy(dev);
		goto out;
	}
	d->sim = dev;
	for (i = 0; i < n; i++)
		bytes += regs[i].size;
	res = vdev_handle(env, d, (int64_t)bytes);
out:
	if (sparse)
		for (i = 0; i < n; i++)
			free(sparse[i]);
	free(sparse);
	free(regs);
	free(shm_dir);
	return res;
}

napi_value js_sim_mappings(napi_env env, napi_callback_info info)
{
	napi_value argv[1], arr, o, v;
	struct vdev *d;
	size_t i, n;

	if (get_args(env, info, 1, argv, NULL) || get_sim(env, argv[0], &d))
		return NULL;
	n = sim_nr_mappings(d->sim);
	NAPI_OK(env, napi_create_array_with_length(env, n, &arr));
	for (i = 0; i < n; i++) {
		const struct sim_mapping *m = sim_mapping_at(d->sim, i);

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

napi_value js_sim_backing(napi_env env, napi_callback_info info)
{
	napi_value argv[2], o, v;
	struct vdev *d;
	const char *path;
	uint64_t off, size;
	uint32_t index;

	if (get_args(env, info, 2, argv, NULL) || get_sim(env, argv[0], &d) ||
	    get_u32(env, argv[1], "index", &index))
		return NULL;
	if (sim_backing(d->sim, index, &path, &off, &size) < 0) {
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

