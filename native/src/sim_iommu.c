// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * The simulated type1 IOMMU (see sim.h): a container's DMA mappings and the translation device
 * models use. The ioctls follow drivers/vfio/vfio_iommu_type1.c (6.1), vfio_dma_do_map,
 * vfio_dma_do_unmap and vfio_iommu_type1_get_info, with the same errnos: a range not aligned to the
 * smallest page size or of size 0 is EINVAL, one that wraps is EINVAL, one overlapping a mapping is
 * EEXIST, one outside the IOVA ranges is EINVAL, past the DMA entry limit ENOSPC; an unmap must not
 * split a mapping (type1v2: EINVAL), and an unmap where nothing is mapped succeeds with size 0.
 *
 * Created with iommufd set (sim_config.iommufd) it is an iommufd IOAS instead (drivers/iommu/iommufd/ioas.c and
 * io_pagetable.c, 7.2): IOMMU_IOAS_IOVA_RANGES, IOMMU_IOAS_MAP and IOMMU_IOAS_UNMAP on the same
 * mappings, with iommufd's errnos (an unmap that would split a mapping or finds nothing is ENOENT,
 * unknown flags EOPNOTSUPP, no DMA entry limit), and none of type1's ioctls.
 *
 * The kernel pins the pages behind vaddr (EFAULT when it cannot); the simulator dereferences vaddr
 * itself, so it maps only what its host's pin callback vouches for, and writes IOVA ranges only
 * where the callback vouches for allowed_iovas.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "sim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

struct sim_dma_map {
	uint64_t iova;
	uint64_t size;
	uint64_t vaddr;
	int prot;			/* VFIO_DMA_MAP_FLAG_READ | _WRITE: what the device may do */
};

struct sim_iommu {
	unsigned int refs;
	uint64_t pgsize_bitmap;
	uint32_t nr_ranges;
	struct sim_iova_range ranges[SIM_MAX_IOVA_RANGES];
	uint32_t dma_limit;
	int iommufd;
	sim_pin_fn pin;
	void *pin_ctx;
	struct sim_dma_map *maps;	/* sorted by iova, never overlapping */
	size_t nr_maps;
	size_t cap_maps;
};

#define SIM_2M (UINT64_C(1) << 21)
#define SIM_1G (UINT64_C(1) << 30)

/* x86's IOVA ranges with an Intel IOMMU: everything below 48 bits but the MSI window. */
static const struct sim_iova_range default_ranges[] = {
	{ 0, UINT64_C(0xfedfffff) },
	{ UINT64_C(0xfef00000), UINT64_C(0xffffffffffff) },
};

int sim_iommu_create(const struct sim_iommu_config *cfg, int iommufd, sim_pin_fn pin, void *ctx, struct sim_iommu **out)
{
	struct sim_iommu *io;
	uint32_t i;

	*out = NULL;
	if (cfg && (cfg->nr_ranges == 0 || cfg->nr_ranges > SIM_MAX_IOVA_RANGES))
		return -EINVAL;
	/* ranges ascending and disjoint, as the kernel reports them */
	for (i = 0; cfg && i < cfg->nr_ranges; i++)
		if (cfg->ranges[i].end < cfg->ranges[i].start || (i && cfg->ranges[i].start <= cfg->ranges[i - 1].end))
			return -EINVAL;
	io = calloc(1, sizeof(*io));
	if (!io)
		return -ENOMEM;
	io->refs = 1;
	io->pgsize_bitmap = sim_page_size() | SIM_2M | SIM_1G;
	if (cfg) {
		io->nr_ranges = cfg->nr_ranges;
		memcpy(io->ranges, cfg->ranges, cfg->nr_ranges * sizeof(io->ranges[0]));
	} else {
		io->nr_ranges = sizeof(default_ranges) / sizeof(default_ranges[0]);
		memcpy(io->ranges, default_ranges, sizeof(default_ranges));
	}
	io->dma_limit = cfg && cfg->dma_limit ? cfg->dma_limit : 65535;	/* dma_entry_limit's default */
	io->iommufd = iommufd;
	io->pin = pin;
	io->pin_ctx = ctx;
	*out = io;
	return 0;
}

void sim_iommu_get(struct sim_iommu *io)
{
	io->refs++;
}

void sim_iommu_put(struct sim_iommu *io)
{
	if (!io || --io->refs)
		return;
	free(io->maps);
	free(io);
}

int sim_iommu_is_ioas(const struct sim_iommu *io)
{
	return io->iommufd;
}

size_t sim_iommu_nr_mappings(const struct sim_iommu *io)
{
	return io->nr_maps;
}

uint64_t sim_iommu_pgsize(const struct sim_iommu *io)
{
	return io->pgsize_bitmap & -io->pgsize_bitmap;
}

/* The first mapping that ends after iova (its index; nr_maps when none). */
static size_t first_after(const struct sim_iommu *io, uint64_t iova)
{
	size_t lo = 0, hi = io->nr_maps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct sim_dma_map *m = &io->maps[mid];

		if (m->iova + (m->size - 1) < iova)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The mapping holding iova, or NULL. */
static const struct sim_dma_map *find(const struct sim_iommu *io, uint64_t iova)
{
	size_t i = first_after(io, iova);

	return i < io->nr_maps && io->maps[i].iova <= iova ? &io->maps[i] : NULL;
}

/* vfio_iommu_iova_dma_valid: [start, end] inside one IOVA range. */
static int iova_valid(const struct sim_iommu *io, uint64_t start, uint64_t end)
{
	for (uint32_t i = 0; i < io->nr_ranges; i++)
		if (start >= io->ranges[i].start && end <= io->ranges[i].end)
			return 1;
	return 0;
}

/* Pins [vaddr, +size) and inserts the mapping at index at (prot: VFIO_DMA_MAP_FLAG_READ | _WRITE). */
static int insert(struct sim_iommu *io, size_t at, uint64_t iova, uint64_t size, uint64_t vaddr, int prot)
{
	int err = io->pin ? io->pin(io->pin_ctx, vaddr, size, prot & VFIO_DMA_MAP_FLAG_WRITE) : -EFAULT;

	if (err)
		return err;
	if (io->nr_maps == io->cap_maps) {
		size_t cap = io->cap_maps ? io->cap_maps * 2 : 16;
		struct sim_dma_map *p = realloc(io->maps, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		io->maps = p;
		io->cap_maps = cap;
	}
	memmove(&io->maps[at + 1], &io->maps[at], (io->nr_maps - at) * sizeof(*io->maps));
	io->maps[at] = (struct sim_dma_map){ iova, size, vaddr, prot };
	io->nr_maps++;
	return 0;
}

/* Removes the mappings [i, j) and gives the bytes they covered. */
static uint64_t remove_maps(struct sim_iommu *io, size_t i, size_t j)
{
	uint64_t bytes = 0;

	for (size_t k = i; k < j; k++)
		bytes += io->maps[k].size;
	memmove(&io->maps[i], &io->maps[j], (io->nr_maps - j) * sizeof(*io->maps));
	io->nr_maps -= j - i;
	return bytes;
}

static int do_map(struct sim_iommu *io, void *arg, size_t len)
{
	struct vfio_iommu_type1_dma_map map;
	size_t minsz = offsetof(struct vfio_iommu_type1_dma_map, size) + sizeof(map.size);
	uint64_t mask = sim_iommu_pgsize(io) - 1;
	size_t at;

	if (len < minsz)
		return -EFAULT;
	memcpy(&map, arg, minsz);
	if (map.argsz < minsz || map.flags & ~(uint32_t)(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE | VFIO_DMA_MAP_FLAG_VADDR))
		return -EINVAL;
	/* VFIO_DMA_MAP_FLAG_VADDR (live update of the process address) is not simulated */
	if (map.flags & VFIO_DMA_MAP_FLAG_VADDR)
		return -ENOTTY;
	if (!(map.flags & (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)))
		return -EINVAL;
	if (!map.size || ((map.size | map.iova | map.vaddr) & mask))
		return -EINVAL;
	if (map.iova + map.size - 1 < map.iova || map.vaddr + map.size - 1 < map.vaddr)
		return -EINVAL;
	at = first_after(io, map.iova);
	if (at < io->nr_maps && io->maps[at].iova <= map.iova + map.size - 1)
		return -EEXIST;
	if (io->nr_maps >= io->dma_limit)
		return -ENOSPC;
	if (!iova_valid(io, map.iova, map.iova + map.size - 1))
		return -EINVAL;
	return insert(io, at, map.iova, map.size, map.vaddr, (int)(map.flags & (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)));
}

static int do_unmap(struct sim_iommu *io, void *arg, size_t len)
{
	struct vfio_iommu_type1_dma_unmap unmap;
	size_t minsz = offsetof(struct vfio_iommu_type1_dma_unmap, size) + sizeof(unmap.size);
	uint64_t mask = sim_iommu_pgsize(io) - 1, end;
	const struct sim_dma_map *m;
	size_t i, j;

	if (len < minsz)
		return -EFAULT;
	memcpy(&unmap, arg, minsz);
	if (unmap.argsz < minsz || unmap.flags & ~(uint32_t)(VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP | VFIO_DMA_UNMAP_FLAG_ALL | VFIO_DMA_UNMAP_FLAG_VADDR))
		return -EINVAL;
	/* dirty tracking and vaddr invalidation are not simulated */
	if (unmap.flags & (VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP | VFIO_DMA_UNMAP_FLAG_VADDR))
		return -EINVAL;
	if (unmap.flags & VFIO_DMA_UNMAP_FLAG_ALL) {
		if (unmap.iova || unmap.size)
			return -EINVAL;
		end = UINT64_MAX;
	} else {
		if (!unmap.size || ((unmap.iova | unmap.size) & mask))
			return -EINVAL;
		end = unmap.iova + unmap.size - 1;
		if (end < unmap.iova)
			return -EINVAL;
		/* type1v2: never split a mapping */
		m = find(io, unmap.iova);
		if (m && m->iova != unmap.iova)
			return -EINVAL;
		m = find(io, end);
		if (m && m->iova + m->size - 1 != end)
			return -EINVAL;
	}
	i = first_after(io, unmap.iova);
	for (j = i; j < io->nr_maps && io->maps[j].iova <= end; j++)
		;
	unmap.size = remove_maps(io, i, j);
	memcpy((uint8_t *)arg + offsetof(struct vfio_iommu_type1_dma_unmap, size), &unmap.size, sizeof(unmap.size));
	return 0;
}

/* vfio_info_cap_add as 6.1 lays it out: each capability appended, next offsets from the reply's start. */
static void *cap_add(uint8_t *buf, size_t *size, size_t *last, size_t bytes, uint16_t id, uint16_t version)
{
	struct vfio_info_cap_header *h = (struct vfio_info_cap_header *)(buf + *size);

	if (*size)
		((struct vfio_info_cap_header *)(buf + *last))->next = (uint32_t)(sizeof(struct vfio_iommu_type1_info) + *size);
	memset(h, 0, bytes);
	h->id = id;
	h->version = version;
	*last = *size;
	*size += bytes;
	return h;
}

static int get_info(struct sim_iommu *io, void *arg, size_t len)
{
	struct vfio_iommu_type1_info info;
	size_t minsz = offsetof(struct vfio_iommu_type1_info, iova_pgsizes) + sizeof(info.iova_pgsizes);
	uint8_t caps[sizeof(struct vfio_iommu_type1_info_cap_migration) + sizeof(struct vfio_iommu_type1_info_dma_avail) +
		     sizeof(struct vfio_iommu_type1_info_cap_iova_range) + SIM_MAX_IOVA_RANGES * sizeof(struct vfio_iova_range)];
	struct vfio_iommu_type1_info_cap_migration *mig;
	struct vfio_iommu_type1_info_dma_avail *avail;
	struct vfio_iommu_type1_info_cap_iova_range *ranges;
	size_t size = 0, last = 0;

	if (len < minsz)
		return -EFAULT;
	memcpy(&info, arg, minsz);
	if (info.argsz < minsz)
		return -EINVAL;
	minsz = info.argsz < sizeof(info) ? info.argsz : sizeof(info);
	if (len < minsz)
		return -EFAULT;
	info.flags = VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS;
	info.iova_pgsizes = io->pgsize_bitmap;
	info.cap_offset = 0;
	mig = cap_add(caps, &size, &last, sizeof(*mig), VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION, 1);
	mig->pgsize_bitmap = sim_iommu_pgsize(io);
	mig->max_dirty_bitmap_size = UINT64_C(256) << 20;	/* DIRTY_BITMAP_SIZE_MAX */
	avail = cap_add(caps, &size, &last, sizeof(*avail), VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, 1);
	avail->avail = io->dma_limit - (uint32_t)io->nr_maps;
	ranges = cap_add(caps, &size, &last, sizeof(*ranges) + io->nr_ranges * sizeof(ranges->iova_ranges[0]),
			 VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, 1);
	ranges->nr_iovas = io->nr_ranges;
	for (uint32_t i = 0; i < io->nr_ranges; i++) {
		struct vfio_iova_range r = { io->ranges[i].start, io->ranges[i].end };

		memcpy((uint8_t *)ranges + sizeof(*ranges) + i * sizeof(r), &r, sizeof(r));
	}
	if (info.argsz < sizeof(info) + size) {
		info.argsz = (uint32_t)(sizeof(info) + size);
	} else {
		if (len < sizeof(info) + size)
			return -EFAULT;
		memcpy((uint8_t *)arg + sizeof(info), caps, size);
		info.cap_offset = sizeof(info);
	}
	memcpy(arg, &info, minsz);
	return 0;
}


/* ---------------------------------------------------------------- iommufd IOAS */

/* iommufd_ucmd_respond and the kernel's copy-in: the caller's struct, at least the first version's. */
static int ioas_args(void *arg, size_t len, void *cmd, size_t minsz, size_t size)
{
	uint32_t usize;

	if (len < sizeof(usize))
		return -EFAULT;
	memcpy(&usize, arg, sizeof(usize));
	if (usize < minsz)
		return -EINVAL;
	if (len < usize)
		return -EFAULT;
	memset(cmd, 0, size);
	memcpy(cmd, arg, usize < size ? usize : size);
	return 0;
}

static int ioas_respond(void *arg, const void *cmd, size_t size)
{
	uint32_t usize;

	memcpy(&usize, arg, sizeof(usize));
	memcpy(arg, cmd, usize < size ? usize : size);
	return 0;
}

/* iommufd_ioas_iova_ranges: the holes between reserved IOVAs, written through allowed_iovas. */
static int ioas_iova_ranges(struct sim_iommu *io, void *arg, size_t len)
{
	struct iommu_ioas_iova_ranges cmd;
	uint32_t max;
	int err = ioas_args(arg, len, &cmd, offsetof(struct iommu_ioas_iova_ranges, out_iova_alignment) + sizeof(cmd.out_iova_alignment), sizeof(cmd));

	if (err)
		return err;
	if (cmd.__reserved)
		return -EOPNOTSUPP;
	if (cmd.ioas_id != SIM_IOAS_ID)
		return -ENOENT;
	max = cmd.num_iovas < io->nr_ranges ? cmd.num_iovas : io->nr_ranges;
	if (max && (!io->pin || io->pin(io->pin_ctx, cmd.allowed_iovas, (uint64_t)max * sizeof(struct iommu_iova_range), 1)))
		return -EFAULT;
	for (uint32_t i = 0; i < max; i++) {
		struct iommu_iova_range r = { io->ranges[i].start, io->ranges[i].end };

		memcpy((void *)(uintptr_t)(cmd.allowed_iovas + i * sizeof(r)), &r, sizeof(r));
	}
	err = cmd.num_iovas < io->nr_ranges ? -EMSGSIZE : 0;
	cmd.num_iovas = io->nr_ranges;
	cmd.out_iova_alignment = sim_iommu_pgsize(io);
	ioas_respond(arg, &cmd, sizeof(cmd));
	return err;
}

/* iommufd_ioas_map with iopt_map_user_pages' checks, in their order. */
static int ioas_map(struct sim_iommu *io, void *arg, size_t len)
{
	struct iommu_ioas_map cmd;
	uint64_t mask = sim_iommu_pgsize(io) - 1, last;
	size_t at;
	int err = ioas_args(arg, len, &cmd, offsetof(struct iommu_ioas_map, iova) + sizeof(cmd.iova), sizeof(cmd));

	if (err)
		return err;
	if (cmd.flags & ~(uint32_t)(IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE) || cmd.__reserved)
		return -EOPNOTSUPP;
	if (cmd.iova >= UINT64_MAX || cmd.length >= UINT64_MAX)
		return -EOVERFLOW;
	if (!(cmd.flags & (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)))
		return -EINVAL;
	if (cmd.ioas_id != SIM_IOAS_ID)
		return -ENOENT;
	/* choosing the IOVA (no FIXED_IOVA) is the kernel's allocator: not simulated */
	if (!(cmd.flags & IOMMU_IOAS_MAP_FIXED_IOVA))
		return -EOPNOTSUPP;
	if (!cmd.length)
		return -EINVAL;
	if (cmd.user_va + cmd.length < cmd.user_va)
		return -EOVERFLOW;
	if ((cmd.length & mask) || (cmd.iova & mask))
		return -EINVAL;
	if (__builtin_add_overflow(cmd.iova, cmd.length - 1, &last))
		return -EOVERFLOW;
	if (!iova_valid(io, cmd.iova, last))
		return -EINVAL;
	at = first_after(io, cmd.iova);
	if (at < io->nr_maps && io->maps[at].iova <= last)
		return -EEXIST;
	if (cmd.user_va & mask)
		return -EINVAL;
	err = insert(io, at, cmd.iova, cmd.length, cmd.user_va,
		     (cmd.flags & IOMMU_IOAS_MAP_READABLE ? VFIO_DMA_MAP_FLAG_READ : 0) |
		     (cmd.flags & IOMMU_IOAS_MAP_WRITEABLE ? VFIO_DMA_MAP_FLAG_WRITE : 0));
	if (err)
		return err;
	return ioas_respond(arg, &cmd, sizeof(cmd));
}

/* iommufd_ioas_unmap and iopt_unmap_iova_range: whole mappings only, and something must go. */
static int ioas_unmap(struct sim_iommu *io, void *arg, size_t len)
{
	struct iommu_ioas_unmap cmd;
	uint64_t last;
	size_t i, j;
	int err = ioas_args(arg, len, &cmd, offsetof(struct iommu_ioas_unmap, length) + sizeof(cmd.length), sizeof(cmd));

	if (err)
		return err;
	if (cmd.ioas_id != SIM_IOAS_ID)
		return -ENOENT;
	if (cmd.iova == 0 && cmd.length == UINT64_MAX) {
		last = UINT64_MAX;
	} else {
		if (cmd.iova >= UINT64_MAX || cmd.length >= UINT64_MAX)
			return -EOVERFLOW;
		if (!cmd.length)
			return -EINVAL;
		if (__builtin_add_overflow(cmd.iova, cmd.length - 1, &last))
			return -EOVERFLOW;
	}
	i = first_after(io, cmd.iova);
	for (j = i; j < io->nr_maps && io->maps[j].iova <= last; j++)
		if (io->maps[j].iova < cmd.iova || io->maps[j].iova + (io->maps[j].size - 1) > last)
			return -ENOENT;
	if (i == j && last != UINT64_MAX)
		return -ENOENT;
	cmd.length = remove_maps(io, i, j);
	return ioas_respond(arg, &cmd, sizeof(cmd));
}

static int ioas_ioctl(struct sim_iommu *io, unsigned long request, void *arg, size_t len)
{
	switch (request) {
	case IOMMU_IOAS_IOVA_RANGES:
		return ioas_iova_ranges(io, arg, len);
	case IOMMU_IOAS_MAP:
		return ioas_map(io, arg, len);
	case IOMMU_IOAS_UNMAP:
		return ioas_unmap(io, arg, len);
	default:
		return -ENOTTY;
	}
}

int sim_iommu_ioctl(struct sim_iommu *io, unsigned long request, void *arg, size_t len)
{
	if (!arg)
		len = 0;
	if (io->iommufd)
		return ioas_ioctl(io, request, arg, len);
	switch (request) {
	case VFIO_GET_API_VERSION:
		return VFIO_API_VERSION;
	case VFIO_CHECK_EXTENSION:
		switch ((uintptr_t)arg) {
		case VFIO_TYPE1_IOMMU:
		case VFIO_TYPE1v2_IOMMU:
		case VFIO_UNMAP_ALL:
			return 1;
		default:
			return 0;
		}
	case VFIO_SET_IOMMU:
		return -EINVAL;	/* vfio_ioctl_set_iommu: the container has its model (type1v2) already */
	case VFIO_IOMMU_GET_INFO:
		return get_info(io, arg, len);
	case VFIO_IOMMU_MAP_DMA:
		return do_map(io, arg, len);
	case VFIO_IOMMU_UNMAP_DMA:
		return do_unmap(io, arg, len);
	default:
		return -ENOTTY;
	}
}

int sim_iommu_translate(const struct sim_iommu *io, uint64_t iova, size_t len, int write, uint64_t *vaddr, size_t *run)
{
	const struct sim_dma_map *m = find(io, iova);
	uint64_t left;

	if (!m || !(m->prot & (write ? VFIO_DMA_MAP_FLAG_WRITE : VFIO_DMA_MAP_FLAG_READ)))
		return -EFAULT;
	left = m->size - (iova - m->iova);
	*vaddr = m->vaddr + (iova - m->iova);
	*run = left < len ? (size_t)left : len;
	return 0;
}
