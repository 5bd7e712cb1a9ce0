/**
 * The ioctl argument table of the generated C validators (vfio_subregion_ioctl_args,
 * vfio_subregion_ioctl_arg(), vfio_subregion_ioctl_arg_size()), checked by a C program against
 * expectations that do not come from the generator: the system's <linux/vfio.h> request macros and
 * struct sizes, <sys/ioctl.h>, and hand-written byte counts. The same program runs against
 * deliberately broken copies of the generated source to show that each line of logic is checked.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { flattenSpec, loadSpec } from '../../codegen/load.js';
import type { Arch, Spec } from '../../codegen/ir.js';
import { CACHE, includeFlags, type HeaderVersion } from '../uapi/facts.js';
import { build, hasCompiler, run, unavailable, VARIANTS, workspace, type Variant } from './cc.js';

/**
 * The ioctls the table must hold, in spec order, written by hand from <linux/vfio.h> and its
 * comments: the request macro, what its argument is (the table kind), the C size of the argument
 * (the struct's sizeof for ARGSZ, the integer's for VALUE and SCALAR) and whether the integer is
 * signed. A spec that adds an ioctl must add it here.
 */
const EXPECTED: { macro: string; fd: string; kind: 'ARGSZ' | 'NONE' | 'VALUE' | 'SCALAR' | 'STRING'; size: string; signed: 0 | 1; struct?: string; since?: string }[] = [
  { macro: 'VFIO_DEVICE_GET_INFO', fd: 'DEVICE', kind: 'ARGSZ', size: 'sizeof(struct vfio_device_info)', signed: 0, struct: 'vfio_device_info' },
  { macro: 'VFIO_DEVICE_GET_REGION_INFO', fd: 'DEVICE', kind: 'ARGSZ', size: 'sizeof(struct vfio_region_info)', signed: 0, struct: 'vfio_region_info' },
  { macro: 'VFIO_DEVICE_FEATURE', fd: 'DEVICE', kind: 'ARGSZ', size: 'sizeof(struct vfio_device_feature)', signed: 0, struct: 'vfio_device_feature' },
  // "VFIO_CHECK_EXTENSION - _IOW(VFIO_TYPE, VFIO_BASE + 1, __u32)": the extension by value
  { macro: 'VFIO_CHECK_EXTENSION', fd: 'CONTAINER', kind: 'VALUE', size: 'sizeof(__u32)', signed: 0 },
  // "VFIO_SET_IOMMU - _IOW(VFIO_TYPE, VFIO_BASE + 2, __s32)": the IOMMU model by value
  { macro: 'VFIO_SET_IOMMU', fd: 'CONTAINER', kind: 'VALUE', size: 'sizeof(__s32)', signed: 1 },
  // "VFIO_GROUP_SET_CONTAINER - _IOW(VFIO_TYPE, VFIO_BASE + 4, __s32)": the kernel get_user()s an int
  { macro: 'VFIO_GROUP_SET_CONTAINER', fd: 'GROUP', kind: 'SCALAR', size: 'sizeof(int)', signed: 1 },
  // "VFIO_GROUP_GET_DEVICE_FD - _IOW(VFIO_TYPE, VFIO_BASE + 6, char)": a NUL-terminated name
  { macro: 'VFIO_GROUP_GET_DEVICE_FD', fd: 'GROUP', kind: 'STRING', size: '0', signed: 0 },
  // "VFIO_DEVICE_RESET - _IO(VFIO_TYPE, VFIO_BASE + 11)": no argument
  { macro: 'VFIO_DEVICE_RESET', fd: 'DEVICE', kind: 'NONE', size: '0', signed: 0 },
  // one number, two models: type1's DIRTY_PAGES is sPAPR's REGISTER_MEMORY (117), sPAPR's TCE_GET_INFO type1's GET_INFO (112)
  { macro: 'VFIO_IOMMU_DIRTY_PAGES', fd: 'TYPE1_CONTAINER', kind: 'ARGSZ', size: 'sizeof(struct vfio_iommu_type1_dirty_bitmap)', signed: 0, struct: 'vfio_iommu_type1_dirty_bitmap' },
  { macro: 'VFIO_IOMMU_SPAPR_TCE_GET_INFO', fd: 'SPAPR_CONTAINER', kind: 'ARGSZ', size: 'sizeof(struct vfio_iommu_spapr_tce_info)', signed: 0, struct: 'vfio_iommu_spapr_tce_info' },
  // "VFIO_DEVICE_SET_IRQS - _IOW(VFIO_TYPE, VFIO_BASE + 10, struct vfio_irq_set)", "VFIO_IOMMU_UNMAP_DMA - _IOWR(VFIO_TYPE, VFIO_BASE + 14, struct vfio_dma_unmap)": both _IO numbers, argsz first
  { macro: 'VFIO_DEVICE_SET_IRQS', fd: 'DEVICE', kind: 'ARGSZ', size: 'sizeof(struct vfio_irq_set)', signed: 0, struct: 'vfio_irq_set' },
  { macro: 'VFIO_IOMMU_UNMAP_DMA', fd: 'IOMMU_CONTAINER', kind: 'ARGSZ', size: 'sizeof(struct vfio_iommu_type1_dma_unmap)', signed: 0, struct: 'vfio_iommu_type1_dma_unmap' },
  // the struct-argument ioctls: "_IO(VFIO_TYPE, VFIO_BASE + n, struct X)" with argsz first
  { macro: 'VFIO_GROUP_GET_STATUS', fd: 'GROUP', kind: 'ARGSZ', size: 'sizeof(struct vfio_group_status)', signed: 0, struct: 'vfio_group_status' },
  { macro: 'VFIO_DEVICE_GET_IRQ_INFO', fd: 'DEVICE', kind: 'ARGSZ', size: 'sizeof(struct vfio_irq_info)', signed: 0, struct: 'vfio_irq_info' },
  { macro: 'VFIO_DEVICE_IOEVENTFD', fd: 'DEVICE', kind: 'ARGSZ', size: 'sizeof(struct vfio_device_ioeventfd)', signed: 0, struct: 'vfio_device_ioeventfd' },
  // the type1 model's own ioctls; MAP_DMA is every IOMMU model's (sPAPR's tce_iommu_ioctl takes it too)
  { macro: 'VFIO_IOMMU_GET_INFO', fd: 'TYPE1_CONTAINER', kind: 'ARGSZ', size: 'sizeof(struct vfio_iommu_type1_info)', signed: 0, struct: 'vfio_iommu_type1_info' },
  { macro: 'VFIO_IOMMU_MAP_DMA', fd: 'IOMMU_CONTAINER', kind: 'ARGSZ', size: 'sizeof(struct vfio_iommu_type1_dma_map)', signed: 0, struct: 'vfio_iommu_type1_dma_map' },
  { macro: 'VFIO_IOMMU_SPAPR_REGISTER_MEMORY', fd: 'SPAPR_CONTAINER', kind: 'ARGSZ', size: 'sizeof(struct vfio_iommu_spapr_register_memory)', signed: 0, struct: 'vfio_iommu_spapr_register_memory' },
  { macro: 'VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY', fd: 'SPAPR_CONTAINER', kind: 'ARGSZ', size: 'sizeof(struct vfio_iommu_spapr_register_memory)', signed: 0, struct: 'vfio_iommu_spapr_register_memory' },
  { macro: 'VFIO_IOMMU_SPAPR_TCE_CREATE', fd: 'SPAPR_CONTAINER', kind: 'ARGSZ', size: 'sizeof(struct vfio_iommu_spapr_tce_create)', signed: 0, struct: 'vfio_iommu_spapr_tce_create' },
  { macro: 'VFIO_IOMMU_SPAPR_TCE_REMOVE', fd: 'SPAPR_CONTAINER', kind: 'ARGSZ', size: 'sizeof(struct vfio_iommu_spapr_tce_remove)', signed: 0, struct: 'vfio_iommu_spapr_tce_remove' },
  // 6.12 and later: in the table only where the header defines them
  { macro: 'VFIO_DEVICE_BIND_IOMMUFD', fd: 'DEVICE', kind: 'ARGSZ', size: 'sizeof(struct vfio_device_bind_iommufd)', signed: 0, struct: 'vfio_device_bind_iommufd', since: '6.12' },
  { macro: 'VFIO_DEVICE_ATTACH_IOMMUFD_PT', fd: 'DEVICE', kind: 'ARGSZ', size: 'sizeof(struct vfio_device_attach_iommufd_pt)', signed: 0, struct: 'vfio_device_attach_iommufd_pt', since: '6.12' },
  { macro: 'VFIO_DEVICE_DETACH_IOMMUFD_PT', fd: 'DEVICE', kind: 'ARGSZ', size: 'sizeof(struct vfio_device_detach_iommufd_pt)', signed: 0, struct: 'vfio_device_detach_iommufd_pt', since: '6.12' },
  { macro: 'VFIO_MIG_GET_PRECOPY_INFO', fd: 'MIGRATION', kind: 'ARGSZ', size: 'sizeof(struct vfio_precopy_info)', signed: 0, struct: 'vfio_precopy_info', since: '6.12' },
  // "VFIO_GET_API_VERSION - _IO(VFIO_TYPE, VFIO_BASE + 0)": the version is the return value
  { macro: 'VFIO_GET_API_VERSION', fd: 'CONTAINER', kind: 'NONE', size: '0', signed: 0 },
  // "VFIO_GROUP_UNSET_CONTAINER - _IO(VFIO_TYPE, VFIO_BASE + 5)"
  { macro: 'VFIO_GROUP_UNSET_CONTAINER', fd: 'GROUP', kind: 'NONE', size: '0', signed: 0 },
  // "VFIO_IOMMU_ENABLE - _IO(VFIO_TYPE, VFIO_BASE + 15)", "VFIO_IOMMU_DISABLE - _IO(VFIO_TYPE, VFIO_BASE + 16)": sPAPR's
  { macro: 'VFIO_IOMMU_ENABLE', fd: 'SPAPR_CONTAINER', kind: 'NONE', size: '0', signed: 0 },
  { macro: 'VFIO_IOMMU_DISABLE', fd: 'SPAPR_CONTAINER', kind: 'NONE', size: '0', signed: 0 },
  // the kernel reads minsz (through dmabuf_id), then argsz: the argsz convention
  { macro: 'VFIO_DEVICE_QUERY_GFX_PLANE', fd: 'DEVICE', kind: 'ARGSZ', size: 'sizeof(struct vfio_device_gfx_plane_info)', signed: 0, struct: 'vfio_device_gfx_plane_info' },
  // the kernel reads minsz (through op), then argsz: the argsz convention; sPAPR's (121 is the migration fd's VFIO_MIG_GET_PRECOPY_INFO)
  { macro: 'VFIO_EEH_PE_OP', fd: 'SPAPR_CONTAINER', kind: 'ARGSZ', size: 'sizeof(struct vfio_eeh_pe_op)', signed: 0, struct: 'vfio_eeh_pe_op' },
  // "VFIO_DEVICE_GET_GFX_DMABUF - _IOW(VFIO_TYPE, VFIO_BASE + 15, __u32)": the dmabuf_id by value (115 is sPAPR's VFIO_IOMMU_ENABLE)
  { macro: 'VFIO_DEVICE_GET_GFX_DMABUF', fd: 'DEVICE', kind: 'VALUE', size: 'sizeof(__u32)', signed: 0 },
  // the device's 112 and 113, which are the type1 container's VFIO_IOMMU_GET_INFO and every container's VFIO_IOMMU_MAP_DMA
  { macro: 'VFIO_DEVICE_GET_PCI_HOT_RESET_INFO', fd: 'DEVICE', kind: 'ARGSZ', size: 'sizeof(struct vfio_pci_hot_reset_info)', signed: 0, struct: 'vfio_pci_hot_reset_info' },
  { macro: 'VFIO_DEVICE_PCI_HOT_RESET', fd: 'DEVICE', kind: 'ARGSZ', size: 'sizeof(struct vfio_pci_hot_reset)', signed: 0, struct: 'vfio_pci_hot_reset' },
  // <linux/iommufd.h>, on an iommufd (/dev/iommu): "struct iommu_X - ioctl(IOMMU_X)", each _IO(IOMMUFD_TYPE, IOMMUFD_CMD_X)
  // with size, the caller's sizeof, first: the argsz convention. (IOMMU_OPTION's is "struct iommu_option - iommu option multiplexer".)
  ...([
    ['IOMMU_DESTROY', 'iommu_destroy', '6.12'],
    ['IOMMU_IOAS_ALLOC', 'iommu_ioas_alloc', '6.12'],
    ['IOMMU_IOAS_ALLOW_IOVAS', 'iommu_ioas_allow_iovas', '6.12'],
    ['IOMMU_IOAS_COPY', 'iommu_ioas_copy', '6.12'],
    ['IOMMU_IOAS_IOVA_RANGES', 'iommu_ioas_iova_ranges', '6.12'],
    ['IOMMU_IOAS_MAP', 'iommu_ioas_map', '6.12'],
    ['IOMMU_IOAS_UNMAP', 'iommu_ioas_unmap', '6.12'],
    ['IOMMU_OPTION', 'iommu_option', '6.12'],
    ['IOMMU_VFIO_IOAS', 'iommu_vfio_ioas', '6.12'],
    ['IOMMU_HWPT_ALLOC', 'iommu_hwpt_alloc', '6.12'],
    ['IOMMU_GET_HW_INFO', 'iommu_hw_info', '6.12'],
    ['IOMMU_HWPT_SET_DIRTY_TRACKING', 'iommu_hwpt_set_dirty_tracking', '6.12'],
    ['IOMMU_HWPT_GET_DIRTY_BITMAP', 'iommu_hwpt_get_dirty_bitmap', '6.12'],
    ['IOMMU_HWPT_INVALIDATE', 'iommu_hwpt_invalidate', '6.12'],
    ['IOMMU_FAULT_QUEUE_ALLOC', 'iommu_fault_alloc', '6.12'],
    ['IOMMU_IOAS_MAP_FILE', 'iommu_ioas_map_file', '7.2'],
    ['IOMMU_VIOMMU_ALLOC', 'iommu_viommu_alloc', '7.2'],
    ['IOMMU_VDEVICE_ALLOC', 'iommu_vdevice_alloc', '7.2'],
    ['IOMMU_IOAS_CHANGE_PROCESS', 'iommu_ioas_change_process', '7.2'],
    ['IOMMU_VEVENTQ_ALLOC', 'iommu_veventq_alloc', '7.2'],
    ['IOMMU_HW_QUEUE_ALLOC', 'iommu_hw_queue_alloc', '7.2'],
    ['IOMMU_IOAS_NOIOMMU_GET_PA', 'iommu_ioas_noiommu_get_pa', '7.3'],
  ] as const).map(([macro, struct, since]) => ({ macro, fd: 'IOMMUFD', kind: 'ARGSZ' as const, size: `sizeof(struct ${struct})`, signed: 0 as const, struct, since })),
];
/** The checks check_helper_kinds makes. */
const HELPER_CHECKS = 14 + 7;
/** The checks check_lookup_misses and check_lookup_kinds make; check_lookup_iommufd makes IOMMUFD_LOOKUP_CHECKS where the headers have <linux/iommufd.h>. */
const LOOKUP_CHECKS = 8 + 16;
const IOMMUFD_LOOKUP_CHECKS = 3;
/** The checks check_entry makes for an entry of each kind. */
const ENTRY_CHECKS = { ARGSZ: 18, NONE: 4 + 2, VALUE: 4 + 2, SCALAR: 4 + 4, STRING: 4 + 5 } as const;

/** The ioctl the fixed-kind test adds to a copy of the spec, and the request it must have. */
const FIXED = { name: 'VFIO_TEST_FIXED', struct: 'vfio_region_info_cap_type', request: '_IOWR(VFIO_TYPE, VFIO_BASE + 100, struct vfio_region_info_cap_type)' };

const PRELUDE = String.raw`#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/vfio.h>
#if defined(__has_include)
#if __has_include(<linux/iommufd.h>)
#include <linux/iommufd.h>
#endif
#endif
#include "vfio_subregion_validate.h"

static int checks, fails;

#define CHECK(cond) do { \
	checks++; \
	if (!(cond)) { \
		fails++; \
		printf("FAIL line %d: %s\n", __LINE__, #cond); \
	} \
} while (0)

#define SENTINEL ((size_t)0xdead)

static unsigned char store[4096 + 8];

static void put32(unsigned char *p, __u32 v)
{
	memcpy(p, &v, sizeof(v));
}

/* The size helper, with *out preset to SENTINEL so that a write on failure shows. */
static int size_of(const struct vfio_subregion_ioctl_arg *a, const void *arg, size_t len, size_t *out)
{
	*out = SENTINEL;
	return vfio_subregion_ioctl_arg_size(a, arg, len, out);
}

/* The result for a buffer of len bytes at p whose argsz member (at off) holds argsz. */
static int with_argsz(const struct vfio_subregion_ioctl_arg *a, unsigned char *p, size_t off, __u32 argsz, size_t len, size_t *out)
{
	memset(store, 0x5a, sizeof(store));
	put32(p + off, argsz);
	return size_of(a, p, len, out);
}

/* An argsz entry of the table, whose struct is sysize bytes in <linux/vfio.h>. */
static void check_argsz_entry(const struct vfio_subregion_ioctl_arg *a, size_t sysize)
{
	const size_t s = sysize;
	size_t out;

	CHECK(a != NULL);
	if (a == NULL)
		return;
	CHECK(a->kind == VFIO_SUBREGION_IOCTL_ARG_ARGSZ);
	CHECK(a->size == sysize);
	CHECK(a->argsz_offset == 0);
	/* A 3-byte buffer cannot even hold argsz. */
	CHECK(with_argsz(a, store, 0, 3, 3, &out) == -EINVAL && out == SENTINEL);
	/* One byte short of the fixed part, whatever argsz says. */
	CHECK(with_argsz(a, store, 0, (__u32)(s - 1), s - 1, &out) == -EINVAL && out == SENTINEL);
	CHECK(with_argsz(a, store, 0, 4, s - 1, &out) == -EINVAL && out == SENTINEL);
	/* argsz == len is fine, one more is not. */
	CHECK(with_argsz(a, store, 0, (__u32)s, s, &out) == 0 && out == s);
	CHECK(with_argsz(a, store, 0, (__u32)(s + 1), s, &out) == -ERANGE && out == SENTINEL);
	CHECK(with_argsz(a, store, 0, (__u32)(s + 64), s + 64, &out) == 0 && out == s + 64);
	CHECK(with_argsz(a, store, 0, (__u32)(s + 65), s + 64, &out) == -ERANGE && out == SENTINEL);
	CHECK(with_argsz(a, store, 0, 0xffffffffu, s + 64, &out) == -ERANGE && out == SENTINEL);
	/* max(argsz, fixed part): a larger buffer does not count, a small argsz does not shrink it. */
	CHECK(with_argsz(a, store, 0, (__u32)(s + 8), s + 64, &out) == 0 && out == s + 8);
	CHECK(with_argsz(a, store, 0, 4, s + 64, &out) == 0 && out == s);
	CHECK(with_argsz(a, store, 0, 0, s + 64, &out) == 0 && out == s);
	CHECK(with_argsz(a, store, 0, (__u32)(s - 1), s, &out) == 0 && out == s);
	/* An unaligned buffer. */
	CHECK(with_argsz(a, store + 1, 0, (__u32)(s + 16), s + 16, &out) == 0 && out == s + 16);
	CHECK(with_argsz(a, store + 3, 0, (__u32)(s + 17), s + 16, &out) == -ERANGE && out == SENTINEL);
}

/* An entry of another kind: its kind, size and signedness, and what the size helper says. */
static __attribute__((unused)) void check_entry(const struct vfio_subregion_ioctl_arg *a, __u32 kind, size_t size, __u32 is_signed)
{
	size_t out;

	CHECK(a != NULL);
	if (a == NULL)
		return;
	CHECK(a->kind == kind);
	CHECK(a->size == size);
	CHECK(a->argsz_offset == 0 && a->value_signed == is_signed);
	switch (kind) {
	case VFIO_SUBREGION_IOCTL_ARG_NONE:
	case VFIO_SUBREGION_IOCTL_ARG_VALUE:
		/* not a pointer: nothing touched, whatever buffer is offered */
		CHECK(size_of(a, NULL, 0, &out) == 0 && out == 0);
		CHECK(size_of(a, store, 64, &out) == 0 && out == 0);
		break;
	case VFIO_SUBREGION_IOCTL_ARG_SCALAR:
		/* exactly the integer */
		CHECK(size_of(a, store, size - 1, &out) == -EINVAL && out == SENTINEL);
		CHECK(size_of(a, store, size + 1, &out) == -EINVAL && out == SENTINEL);
		CHECK(size_of(a, store, 0, &out) == -EINVAL && out == SENTINEL);
		CHECK(size_of(a, store, size, &out) == 0 && out == size);
		break;
	case VFIO_SUBREGION_IOCTL_ARG_STRING:
		/* up to and including the first NUL, which must lie inside len */
		memcpy(store, "ab\0cd", 5);
		CHECK(size_of(a, store, 5, &out) == 0 && out == 3);
		CHECK(size_of(a, store, 3, &out) == 0 && out == 3);
		CHECK(size_of(a, store, 2, &out) == -EINVAL && out == SENTINEL);
		CHECK(size_of(a, store, 0, &out) == -EINVAL && out == SENTINEL);
		memset(store, 0, 4);
		CHECK(size_of(a, store, 4, &out) == 0 && out == 1);
		break;
	}
}

static void check_helper_kinds(void)
{
	struct vfio_subregion_ioctl_arg none = { 0x1234, VFIO_SUBREGION_IOCTL_ARG_NONE, 0, 0, "none", 0, 0 };
	struct vfio_subregion_ioctl_arg fixed = { 0x1235, VFIO_SUBREGION_IOCTL_ARG_FIXED, 12, 0, "fixed", 0, 0 };
	/* argsz at offset 4 of a 16-byte fixed part. */
	struct vfio_subregion_ioctl_arg at4 = { 0x1236, VFIO_SUBREGION_IOCTL_ARG_ARGSZ, 16, 4, "at4", 0, 0 };
	struct vfio_subregion_ioctl_arg last = { 0x1237, VFIO_SUBREGION_IOCTL_ARG_ARGSZ, 16, 12, "last", 0, 0 };
	struct vfio_subregion_ioctl_arg outside = { 0x1238, VFIO_SUBREGION_IOCTL_ARG_ARGSZ, 16, 14, "outside", 0, 0 };
	struct vfio_subregion_ioctl_arg tiny = { 0x1239, VFIO_SUBREGION_IOCTL_ARG_ARGSZ, 2, 0, "tiny", 0, 0 };
	struct vfio_subregion_ioctl_arg odd = { 0x123a, 7, 16, 0, "odd", 0, 0 };
	struct vfio_subregion_ioctl_arg value = { 0x123b, VFIO_SUBREGION_IOCTL_ARG_VALUE, 4, 0, "value", 1, 0 };
	struct vfio_subregion_ioctl_arg scalar = { 0x123c, VFIO_SUBREGION_IOCTL_ARG_SCALAR, 8, 0, "scalar", 0, 0 };
	struct vfio_subregion_ioctl_arg string = { 0x123d, VFIO_SUBREGION_IOCTL_ARG_STRING, 0, 0, "string", 0, 0 };
	size_t out;

	CHECK(size_of(&value, NULL, 0, &out) == 0 && out == 0);
	CHECK(size_of(&scalar, store, 7, &out) == -EINVAL && out == SENTINEL);
	CHECK(size_of(&scalar, store, 9, &out) == -EINVAL && out == SENTINEL);
	CHECK(size_of(&scalar, store, 8, &out) == 0 && out == 8);
	memset(store, 'x', sizeof(store));
	CHECK(size_of(&string, store, 64, &out) == -EINVAL && out == SENTINEL);
	/* a NUL just past len does not count; one at its last byte does */
	store[64] = 0;
	CHECK(size_of(&string, store, 64, &out) == -EINVAL && out == SENTINEL);
	store[63] = 0;
	CHECK(size_of(&string, store, 64, &out) == 0 && out == 64);

	CHECK(size_of(NULL, store, 64, &out) == -ENOTTY && out == SENTINEL);
	CHECK(size_of(&none, NULL, 0, &out) == 0 && out == 0);
	CHECK(size_of(&none, store, 64, &out) == 0 && out == 0);
	/* fixed: exactly size bytes, an argsz-like first word is not read. */
	CHECK(with_argsz(&fixed, store, 0, 100, 11, &out) == -EINVAL && out == SENTINEL);
	CHECK(with_argsz(&fixed, store, 0, 100, 12, &out) == 0 && out == 12);
	CHECK(with_argsz(&fixed, store, 0, 0xffffffffu, 64, &out) == 0 && out == 12);
	/* argsz is read at argsz_offset, not at 0. */
	memset(store, 0x5a, sizeof(store));
	put32(store, 0xffffffffu);
	put32(store + 4, 40);
	CHECK(size_of(&at4, store, 64, &out) == 0 && out == 40);
	CHECK(with_argsz(&at4, store, 4, 65, 64, &out) == -ERANGE && out == SENTINEL);
	CHECK(with_argsz(&at4, store, 4, 64, 64, &out) == 0 && out == 64);
	CHECK(with_argsz(&at4, store, 4, 24, 15, &out) == -EINVAL && out == SENTINEL);
	CHECK(with_argsz(&last, store, 12, 30, 32, &out) == 0 && out == 30);
	/* Entries whose argsz is not inside their fixed part, and an unknown kind. */
	CHECK(with_argsz(&outside, store, 14, 20, 64, &out) == -EINVAL && out == SENTINEL);
	CHECK(with_argsz(&tiny, store, 0, 20, 64, &out) == -EINVAL && out == SENTINEL);
	CHECK(with_argsz(&odd, store, 0, 20, 64, &out) == -EINVAL && out == SENTINEL);
}

/* The name of the entry a request finds on a kind of fd, or "" for none. */
static const char *found(__u32 fd, unsigned long request)
{
	const struct vfio_subregion_ioctl_arg *a = vfio_subregion_ioctl_arg(fd, request);

	return a ? a->name : "";
}

static void check_lookup_misses(void)
{
	CHECK(vfio_subregion_ioctl_arg(VFIO_SUBREGION_FD_DEVICE, FIONREAD) == NULL);
	CHECK(vfio_subregion_ioctl_arg(VFIO_SUBREGION_FD_DEVICE, 0x541B) == NULL);
	CHECK(vfio_subregion_ioctl_arg(VFIO_SUBREGION_FD_DEVICE, 0) == NULL);
	/* VFIO numbers the spec does not define, and a defined type and nr with another direction. */
	CHECK(vfio_subregion_ioctl_arg(VFIO_SUBREGION_FD_DEVICE, _IO(VFIO_TYPE, VFIO_BASE + 30)) == NULL);
	CHECK(vfio_subregion_ioctl_arg(VFIO_SUBREGION_FD_DEVICE, _IOWR(VFIO_TYPE, VFIO_BASE + 8, struct vfio_region_info)) == NULL);
	CHECK(vfio_subregion_ioctl_arg(VFIO_SUBREGION_FD_DEVICE, _IO(VFIO_TYPE + 1, VFIO_BASE + 8)) == NULL);
	/* a kind that does not exist */
	CHECK(vfio_subregion_ioctl_arg(VFIO_SUBREGION_NR_FD_KINDS, VFIO_DEVICE_GET_INFO) == NULL);
	CHECK(vfio_subregion_ioctl_arg(~0u, VFIO_DEVICE_GET_INFO) == NULL);
}

/*
 * The fd kind decides: <linux/vfio.h> gives one number other meanings on other fds (117 is the
 * device's VFIO_DEVICE_FEATURE, type1's VFIO_IOMMU_DIRTY_PAGES and sPAPR's
 * VFIO_IOMMU_SPAPR_REGISTER_MEMORY; 113 is the device's VFIO_DEVICE_PCI_HOT_RESET and every model's
 * VFIO_IOMMU_MAP_DMA), and a container with an IOMMU model set is still a container.
 */
static void check_lookup_kinds(void)
{
	CHECK(strcmp(found(VFIO_SUBREGION_FD_DEVICE, VFIO_IOMMU_SPAPR_REGISTER_MEMORY), "VFIO_DEVICE_FEATURE") == 0);
	CHECK(strcmp(found(VFIO_SUBREGION_FD_SPAPR_CONTAINER, VFIO_DEVICE_FEATURE), "VFIO_IOMMU_SPAPR_REGISTER_MEMORY") == 0);
	CHECK(strcmp(found(VFIO_SUBREGION_FD_TYPE1_CONTAINER, VFIO_DEVICE_FEATURE), "VFIO_IOMMU_DIRTY_PAGES") == 0);
	CHECK(strcmp(found(VFIO_SUBREGION_FD_TYPE1_CONTAINER, VFIO_IOMMU_MAP_DMA), "VFIO_IOMMU_MAP_DMA") == 0);
	CHECK(strcmp(found(VFIO_SUBREGION_FD_SPAPR_CONTAINER, VFIO_IOMMU_MAP_DMA), "VFIO_IOMMU_MAP_DMA") == 0);
	CHECK(strcmp(found(VFIO_SUBREGION_FD_DEVICE, VFIO_IOMMU_MAP_DMA), "VFIO_DEVICE_PCI_HOT_RESET") == 0);
	CHECK(strcmp(found(VFIO_SUBREGION_FD_TYPE1_CONTAINER, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO), "VFIO_IOMMU_GET_INFO") == 0);
	CHECK(strcmp(found(VFIO_SUBREGION_FD_CONTAINER, VFIO_IOMMU_MAP_DMA), "") == 0);
	CHECK(strcmp(found(VFIO_SUBREGION_FD_SPAPR_CONTAINER, VFIO_IOMMU_GET_INFO), "VFIO_IOMMU_SPAPR_TCE_GET_INFO") == 0);
	CHECK(strcmp(found(VFIO_SUBREGION_FD_TYPE1_CONTAINER, VFIO_IOMMU_SPAPR_TCE_GET_INFO), "VFIO_IOMMU_GET_INFO") == 0);
	CHECK(strcmp(found(VFIO_SUBREGION_FD_TYPE1_CONTAINER, VFIO_CHECK_EXTENSION), "VFIO_CHECK_EXTENSION") == 0);
	CHECK(strcmp(found(VFIO_SUBREGION_FD_SPAPR_CONTAINER, VFIO_SET_IOMMU), "VFIO_SET_IOMMU") == 0);
	CHECK(strcmp(found(VFIO_SUBREGION_FD_GROUP, VFIO_DEVICE_GET_INFO), "") == 0);
	CHECK(strcmp(found(VFIO_SUBREGION_FD_MIGRATION, VFIO_DEVICE_GET_INFO), "") == 0);
	CHECK(strcmp(vfio_subregion_fd_kind_names[VFIO_SUBREGION_FD_TYPE1_CONTAINER], "type1_container") == 0);
	CHECK(strcmp(vfio_subregion_fd_kind_names[VFIO_SUBREGION_FD_IOMMUFD], "iommufd") == 0);
}
`;

/** The table checks for the real spec: every entry against its <linux/vfio.h> macro and struct. */
function realProgram(): string {
  const rows = EXPECTED.map((e) => {
    const row = `\t{ ${e.macro}, VFIO_SUBREGION_FD_${e.fd}, VFIO_SUBREGION_IOCTL_ARG_${e.kind}, ${e.size}, ${e.signed}, "${e.macro}" },`;
    return e.since === undefined ? row : `#ifdef ${e.macro}\n${row}\n#endif`;
  });
  return `${PRELUDE}
/* iommufd's ioctls are an iommufd's only, and a VFIO number is not one of an iommufd's */
static void check_lookup_iommufd(void)
{
#ifdef IOMMU_IOAS_ALLOC
	CHECK(strcmp(found(VFIO_SUBREGION_FD_IOMMUFD, IOMMU_IOAS_ALLOC), "IOMMU_IOAS_ALLOC") == 0);
	CHECK(strcmp(found(VFIO_SUBREGION_FD_DEVICE, IOMMU_IOAS_ALLOC), "") == 0);
	CHECK(strcmp(found(VFIO_SUBREGION_FD_IOMMUFD, VFIO_DEVICE_GET_INFO), "") == 0);
#endif
}

static const struct {
	unsigned long request;
	__u32 fd;
	__u32 kind;
	size_t size;
	__u32 is_signed;
	const char *name;
} expected[] = {
${rows.join('\n')}
};

int main(void)
{
	size_t i;

	CHECK(vfio_subregion_nr_ioctl_args == sizeof(expected) / sizeof(expected[0]));
	for (i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		const struct vfio_subregion_ioctl_arg *t = &vfio_subregion_ioctl_args[i];

		CHECK(t->request == expected[i].request);
		CHECK(strcmp(t->name, expected[i].name) == 0);
		CHECK(vfio_subregion_ioctl_arg(expected[i].fd, expected[i].request) == t);
		if (expected[i].kind == VFIO_SUBREGION_IOCTL_ARG_ARGSZ)
			check_argsz_entry(t, expected[i].size);
		else
			check_entry(t, expected[i].kind, expected[i].size, expected[i].is_signed);
	}
	for (i = 0; i < vfio_subregion_nr_ioctl_args; i++)
		printf("entry %s 0x%lx %u %u %u\\n", vfio_subregion_ioctl_args[i].name, vfio_subregion_ioctl_args[i].request,
		       (unsigned)vfio_subregion_ioctl_args[i].kind, (unsigned)vfio_subregion_ioctl_args[i].size,
		       (unsigned)vfio_subregion_ioctl_args[i].argsz_offset);
	check_helper_kinds();
	check_lookup_misses();
	check_lookup_kinds();
	check_lookup_iommufd();
	printf("checks %d fails %d\\n", checks, fails);
	return 0;
}
`;
}

/** The table checks for a spec with one _IOWR ioctl added: a fixed entry. */
function fixedProgram(): string {
  const missing = EXPECTED.filter((e) => e.since !== undefined).map((e) => `#ifndef ${e.macro}\n\t+ 1\n#endif`);
  return `${PRELUDE}
/* the entries of ioctls newer than this header, which the table leaves out */
static const size_t GUARDED_MISSING = 0
${missing.join('\n')}
	;

int main(void)
{
	const unsigned long req = ${FIXED.request};
	const struct vfio_subregion_ioctl_arg *a = vfio_subregion_ioctl_arg(VFIO_SUBREGION_FD_DEVICE, req);
	const size_t s = sizeof(struct ${FIXED.struct});
	size_t out;

	CHECK(vfio_subregion_nr_ioctl_args == ${EXPECTED.length + 1} - GUARDED_MISSING);
	CHECK(a == &vfio_subregion_ioctl_args[vfio_subregion_nr_ioctl_args - 1]);
	CHECK(a != NULL);
	if (a != NULL) {
		CHECK(a->request == req);
		CHECK(a->kind == VFIO_SUBREGION_IOCTL_ARG_FIXED);
		CHECK(a->size == s && a->size == _IOC_SIZE(req));
		CHECK(a->argsz_offset == 0);
		CHECK(strcmp(a->name, "${FIXED.name}") == 0);
		CHECK(with_argsz(a, store, 0, (__u32)s, s - 1, &out) == -EINVAL && out == SENTINEL);
		CHECK(with_argsz(a, store, 0, 0, s, &out) == 0 && out == s);
		CHECK(with_argsz(a, store, 0, 0xffffffffu, s + 10, &out) == 0 && out == s);
	}
	check_argsz_entry(vfio_subregion_ioctl_arg(VFIO_SUBREGION_FD_DEVICE, VFIO_DEVICE_GET_REGION_INFO), sizeof(struct vfio_region_info));
	CHECK(vfio_subregion_ioctl_arg(VFIO_SUBREGION_FD_DEVICE, _IO(VFIO_TYPE, VFIO_BASE + 100)) == NULL);
	check_helper_kinds();
	check_lookup_misses();
	check_lookup_kinds();
	printf("checks %d fails %d\\n", checks, fails);
	return 0;
}
`;
}

interface Outcome {
  checks: number;
  fails: number;
  failures: string[];
  entries: { name: string; request: number; kind: number; size: number; argszOffset: number }[];
}

/**
 * Builds program against the generated C of spec (with the validators source optionally edited)
 * and runs it; headers: compiler flags that put another version's uapi headers before the system's.
 */
function runProgram(spec: Spec, v: Variant, program: string, edit: (c: string) => string = (c) => c, headers: string[] = []): Outcome {
  const ws = workspace(spec, 'vfio-ioctl-table-');
  writeFileSync(ws.validators, edit(readFileSync(ws.validators, 'utf8')));
  const src = join(ws.dir, 'table.c');
  writeFileSync(src, program);
  const b = build(v, [src, ws.validators], [...ws.include, ...headers], join(ws.dir, 'table'));
  if (!b.ok) throw new Error(`${v.name} failed to build ${src}:\n${b.stderr}`);
  const r = run(b.exe);
  if (r.status !== 0) throw new Error(`${b.exe} exited with ${r.status}: ${r.stderr}`);
  const lines = r.stdout.split('\n');
  const summary = /^checks (\d+) fails (\d+)$/m.exec(r.stdout);
  if (summary === null) throw new Error(`no summary in:\n${r.stdout}`);
  return {
    checks: Number(summary[1]), fails: Number(summary[2]),
    failures: lines.filter((l) => l.startsWith('FAIL')),
    entries: lines.filter((l) => l.startsWith('entry ')).map((l) => {
      const [, name, request, kind, size, argszOffset] = l.split(' ');
      return { name: name!, request: Number(request), kind: Number(kind), size: Number(size), argszOffset: Number(argszOffset) };
    }),
  };
}

/** The newest uapi headers, where every guarded entry (<linux/vfio.h> 6.12+, <linux/iommufd.h>) is in the table. */
const NEWEST = '7.3';

let spec: Spec;
/** The cached headers of NEWEST, or why there are none here. */
let newest: HeaderVersion | string;
beforeAll(() => {
  spec = loadSpec();
  const root = join(CACHE, NEWEST, 'root');
  newest = existsSync(join(CACHE, NEWEST, '.done')) && existsSync(join(root, 'usr/include/linux/iommufd.h'))
    ? { version: NEWEST, packageVersion: readFileSync(join(CACHE, NEWEST, '.package-version'), 'utf8').trim(), root, fetchSeconds: 0 }
    : `the ${NEWEST} uapi headers are not unpacked in ${CACHE} (test/uapi/fetch.sh, run by test/uapi/coverage.test.ts, fetches them)`;
});

/** The real program against the generated table, checked as far as the headers it was built with reach; the entries the table holds. */
function checkReal(v: Variant, headers: string[]): Outcome['entries'] {
  const r = runProgram(spec, v, realProgram(), undefined, headers);
  expect(r.failures).toEqual([]);
  expect(r.fails).toBe(0);
  // The ioctls newer than the header are left out of the table and of expected[] alike (the program checks the count).
  const present = EXPECTED.filter((e) => e.since === undefined || r.entries.some((x) => x.name === e.macro));
  const iommufd = present.some((e) => e.macro === 'IOMMU_IOAS_ALLOC');
  // Every check ran: 1 count, per entry 3 + check_argsz_entry's 18 or check_entry's, check_helper_kinds', check_lookup_misses', check_lookup_kinds' and check_lookup_iommufd's.
  expect(r.checks).toBe(1 + present.reduce((n, e) => n + 3 + ENTRY_CHECKS[e.kind], 0) + HELPER_CHECKS + LOOKUP_CHECKS + (iommufd ? IOMMUFD_LOOKUP_CHECKS : 0));
  // The compiler's numbers are the IR's numbers for this architecture.
  const arch: Arch | null = process.arch === 'x64' ? (v.m32 ? 'i386' : 'x86_64') : null;
  expect(r.entries.map((e) => e.name)).toEqual(present.map((e) => e.macro));
  for (const [i, a] of spec.ioctlArgs.filter((x) => present.some((e) => e.macro === x.ioctl.name)).entries()) {
    if (arch !== null) expect(r.entries[i]!.request, a.ioctl.name).toBe(a.ioctl.numbers[arch]);
    // the struct's size in this data model (a natural layout differs on i386); newer kernels append to argsz structs
    const size = a.kind === 'argsz' || a.kind === 'fixed' ? a.struct.layouts[v.m32 ? 'ilp32' : 'lp64'].size : a.size;
    expect(r.entries[i]!.size, a.ioctl.name).toBeGreaterThanOrEqual(size);
  }
  return r.entries;
}

describe('the ioctl argument table', () => {
  it('lists the ioctls this test expects (update EXPECTED with the spec)', () => {
    expect(spec.ioctls.map((x) => x.name)).toEqual(EXPECTED.map((e) => e.macro));
    expect(spec.ioctlArgs.map((a) => [a.ioctl.name, a.kind, 'struct' in a ? a.struct.name : undefined])).toEqual(EXPECTED.map((e) => [e.macro, e.kind.toLowerCase(), e.struct]));
  });

  for (const v of VARIANTS) {
    it(`matches <linux/vfio.h> and sizes arguments with ${v.name}`, (ctx) => {
      const why = unavailable(v);
      if (why !== null) ctx.skip(`skipped ${v.name}: ${why}`);
      checkReal(v, []);
    });

    it(`holds every guarded entry, with the real numbers and sizes, against the ${NEWEST} headers, with ${v.name}`, (ctx) => {
      const why = unavailable(v);
      if (why !== null) ctx.skip(`skipped ${v.name}: ${why}`);
      if (typeof newest === 'string') { ctx.skip(newest); return; }
      const entries = checkReal(v, includeFlags(newest, v.m32 ? 'i386' : 'x86_64').filter((f) => !f.startsWith('-m')));
      expect(entries.map((e) => e.name)).toEqual(EXPECTED.map((e) => e.macro));
    });
  }

  it('holds a fixed entry for an _IOWR ioctl', (ctx) => {
    const v = VARIANTS[0]!;
    const why = unavailable(v);
    if (why !== null) ctx.skip(`skipped ${v.name}: ${why}`);
    const raw = flattenSpec() as unknown as { ioctls: Record<string, unknown>[] };
    raw.ioctls.push({
      name: FIXED.name, doc: 'A test ioctl with a fixed-size argument.', origin: { proposed: true }, provisional: true,
      fd: 'device', type: 'VFIO_TYPE', nr: { base: 'VFIO_BASE', offset: 100 }, encoding: 'IOWR', arg: FIXED.struct, errors: [],
    });
    const file = join(mkdtempSync(join(tmpdir(), 'vfio-spec-fixed-')), 'spec.json');
    writeFileSync(file, JSON.stringify({ ...raw, $schema: './schema/abi.schema.json' }, null, 2));
    const fixedSpec = loadSpec(file);
    expect(fixedSpec.ioctlArgs.map((a) => a.kind)).toEqual([...EXPECTED.map((e) => e.kind.toLowerCase()), 'fixed']);
    const r = runProgram(fixedSpec, v, fixedProgram());
    expect(r.failures).toEqual([]);
    expect(r.checks).toBe(11 + 18 + 1 + HELPER_CHECKS + LOOKUP_CHECKS);
  });

  it('notices a broken line of the generated table or helpers', (ctx) => {
    const v = VARIANTS[0]!;
    if (!hasCompiler(v.cc)) ctx.skip('gcc is not installed');
    const program = realProgram();
    /** [what is broken, the text, its replacement]; the text must occur exactly once. */
    const mutations: [string, string, string][] = [
      ['a wrong nr', 'VFIO_BASE + 8), VFIO_SUBREGION_IOCTL_ARG_ARGSZ', 'VFIO_BASE + 9), VFIO_SUBREGION_IOCTL_ARG_ARGSZ'],
      ['a wrong direction', '_IO(VFIO_TYPE, VFIO_BASE + 17), VFIO_SUBREGION_IOCTL_ARG_ARGSZ,\n\t  sizeof(struct vfio_device_feature)', '_IOR(VFIO_TYPE, VFIO_BASE + 17, struct vfio_device_feature), VFIO_SUBREGION_IOCTL_ARG_ARGSZ,\n\t  sizeof(struct vfio_device_feature)'],
      ['a wrong kind', 'VFIO_BASE + 7), VFIO_SUBREGION_IOCTL_ARG_ARGSZ', 'VFIO_BASE + 7), VFIO_SUBREGION_IOCTL_ARG_FIXED'],
      ['a wrong size', 'sizeof(struct vfio_region_info), offsetof', 'sizeof(struct vfio_device_info), offsetof'],
      ['a wrong name', '"VFIO_DEVICE_FEATURE", 0,', '"VFIO_DEVICE_FEATURES", 0,'],
      ['lookup by nr only', 'if (vfio_subregion_ioctl_args[i].request == request &&', 'if ((vfio_subregion_ioctl_args[i].request & 0xff) == (request & 0xff) &&'],
      ['lookup by request alone', ' && (vfio_subregion_ioctl_args[i].fds & (1u << fd)))', ')'],
      ['an fd kind without the kinds extending it', '"VFIO_IOMMU_MAP_DMA", 0,\n\t  1u << VFIO_SUBREGION_FD_IOMMU_CONTAINER |\n\t  1u << VFIO_SUBREGION_FD_TYPE1_CONTAINER |', '"VFIO_IOMMU_MAP_DMA", 0,\n\t  1u << VFIO_SUBREGION_FD_IOMMU_CONTAINER |'],
      ['lookup misses the last entry', 'for (i = 0; i < vfio_subregion_nr_ioctl_args; i++)', 'for (i = 0; i + 1 < vfio_subregion_nr_ioctl_args; i++)'],
      ['NULL entry not refused', '\treturn -ENOTTY;', '\treturn -EINVAL;'],
      ['NONE sized', '\tcase VFIO_SUBREGION_IOCTL_ARG_NONE:\n', '\tcase VFIO_SUBREGION_IOCTL_ARG_NONE:\n\t\t*out = 4;\n\t\treturn 0;\n'],
      ['FIXED short buffer accepted', '\tcase VFIO_SUBREGION_IOCTL_ARG_FIXED:\n\t\tif (len < a->size)', '\tcase VFIO_SUBREGION_IOCTL_ARG_FIXED:\n\t\tif (len < a->size - 1)'],
      ['FIXED gives the buffer length', '\t\t*out = a->size;', '\t\t*out = len;'],
      ['argsz outside the fixed part accepted', 'a->argsz_offset > a->size - sizeof(argsz)', 'a->argsz_offset > a->size'],
      ['tiny fixed part accepted', 'a->size < sizeof(argsz) ||', 'a->size < 1 ||'],
      ['ARGSZ short buffer accepted', '\t\tif (len < a->size)\n\t\t\treturn -EINVAL;\n\t\t__builtin_memcpy', '\t\tif (len < 3)\n\t\t\treturn -EINVAL;\n\t\t__builtin_memcpy'],
      ['argsz read at 0', '(const __u8 *)arg + a->argsz_offset', '(const __u8 *)arg'],
      ['argsz == len refused', '\t\tif (argsz > len)\n\t\t\treturn -ERANGE;', '\t\tif (argsz >= len)\n\t\t\treturn -ERANGE;'],
      ['argsz > len accepted', '\t\tif (argsz > len)\n\t\t\treturn -ERANGE;', '\t\tif (argsz > len + 1)\n\t\t\treturn -ERANGE;'],
      ['ERANGE reported as EINVAL', '\t\t\treturn -ERANGE;', '\t\t\treturn -EINVAL;'],
      ['argsz alone', '*out = argsz > a->size ? argsz : a->size;', '*out = argsz;'],
      ['fixed part alone', '*out = argsz > a->size ? argsz : a->size;', '*out = a->size;'],
      ['buffer length', '*out = argsz > a->size ? argsz : a->size;', '*out = len;'],
      ['SCALAR short buffer accepted', '\t\tif (len != a->size)', '\t\tif (len < a->size)'],
      ['VALUE sized', '\tcase VFIO_SUBREGION_IOCTL_ARG_VALUE:\n\t\t*out = 0;', '\tcase VFIO_SUBREGION_IOCTL_ARG_VALUE:\n\t\t*out = a->size;\n\t\treturn 0;'],
      ['STRING without its NUL', '\t\t\t\t*out = i + 1;', '\t\t\t\t*out = i;'],
      ['STRING read one past len', '\t\tfor (i = 0; i < len; i++) {', '\t\tfor (i = 0; i <= len; i++) {'],
      ['STRING without a NUL accepted', '\t\t\t}\n\t\t}\n\t\treturn -EINVAL;', '\t\t\t}\n\t\t}\n\t\t*out = len;\n\t\treturn 0;'],
      ['an unknown kind accepted', '\t}\n\treturn -EINVAL;\n}', '\t}\n\t*out = 0;\n\treturn 0;\n}'],
    ];
    const broken: string[] = [];
    for (const [what, from, to] of mutations) {
      const r = runProgram(spec, v, program, (c) => {
        const at = c.indexOf(from);
        expect(at, `${what}: ${JSON.stringify(from)} is not in the generated source`).toBeGreaterThanOrEqual(0);
        expect(c.indexOf(from, at + 1), `${what}: ${JSON.stringify(from)} occurs twice`).toBe(-1);
        return c.slice(0, at) + to + c.slice(at + from.length);
      });
      if (r.fails === 0) broken.push(what);
    }
    expect(broken, 'mutations no check noticed').toEqual([]);
  });
});
