// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * The simulated vfio-pci device (see sim.h). The ioctl handlers follow drivers/vfio/vfio_main.c and
 * drivers/vfio/pci/vfio_pci_core.c (6.1): the same minsz/argsz rules, the same capability chain
 * layout (vfio_info_cap_add: each capability 8-byte aligned, appended, next offsets from the start
 * of the reply) and the same errnos. The proposed subregion ABI goes through the generated
 * validators, exactly as the kernel module would call them.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "sim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/vfio.h>
#include <linux/vfio_subregion.h>
#include "vfio_subregion_validate.h"
#include "sim_irq.h"
#include "sim_e1000e.h"
#include "e1000e_regs.h"

#define SIM_POS_MASK ((UINT64_C(1) << SIM_OFFSET_SHIFT) - 1)

struct sim_region {
	enum sim_region_kind kind;
	int shm_fd;			/* the backing file (a sparse one); -1 for none and subregions */
	char *shm_path;
	struct sim_sparse_area *sparse;
	uint32_t nr_sparse;
	int has_type;
	uint32_t type;
	uint32_t subtype;
	int msix_mappable;
	int prefetchable;
};

/*
 * The memory type a mapping gives its pages (mmap rule one-memtype-per-page): its claim on the
 * parent BAR's pages [start, end), which lasts until the whole mapping is unmapped.
 */
struct sim_claim {
	uint32_t bar;			/* the BAR: the region itself, or a subregion's parent */
	uint64_t start;			/* page-aligned offsets in that BAR */
	uint64_t end;
	int wc;				/* VFIO_REGION_ATTR_WC: write-combining; else uncached */
};

struct sim_map {
	struct sim_mapping pub;
	size_t map_len;			/* length rounded up to pages: what was mmapped */
	int fixed;			/* placed by the caller (sim_mmap_fixed): restore, never munmap */
	struct sim_claim claim;
};

/*
 * Takes a mapping away. One the caller placed (a window inside a WebAssembly memory) is replaced by
 * anonymous zero pages, MAP_FIXED over the same range, so the caller's address range stays ordinary
 * memory; any other is unmapped.
 */
static void map_release(struct sim_map *m)
{
	if (m->fixed)
		mmap(m->pub.addr, m->map_len, PROT_READ | PROT_WRITE,
		     MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	else
		munmap(m->pub.addr, m->map_len);
}

struct sim_device {
	uint32_t num_regions;
	uint32_t cap_regions;
	uint32_t nr_fixed;
	uint32_t nr_subregions;
	uint32_t max_subregions;
	uint32_t num_irqs;
	struct sim_region *reg;				/* num_regions entries */
	struct vfio_subregion_region_state *st;		/* num_regions entries: what the validators see */
	struct sim_map *maps;
	size_t nr_maps;
	size_t cap_maps;
	const char *last_rule;		/* the spec's name of the rule behind the last refusal */
	int reset_works;		/* VFIO_DEVICE_FLAGS_RESET */
	struct sim_irqs irqs;
	struct sim_iommu *iommu;	/* the container it is attached to, or NULL */
	struct sim_dma_stats stats;
	struct sim_e1000e *model;	/* the device model behind region 0, or NULL */
};

uint64_t sim_page_size(void)
{
	static uint64_t ps;

	if (!ps) {
		long v = sysconf(_SC_PAGESIZE);

		ps = v > 0 ? (uint64_t)v : 4096;
	}
	return ps;
}

/* Rounds v up to the page size; 0 when that overflows. */
static uint64_t page_round_up(uint64_t v)
{
	uint64_t ps = sim_page_size();

	if (v > UINT64_MAX - (ps - 1))
		return 0;
	return (v + ps - 1) & ~(ps - 1);
}

static int region_has_caps(const struct sim_device *dev, uint32_t i)
{
	const struct sim_region *r = &dev->reg[i];

	return dev->st[i].is_subregion || r->has_type || r->nr_sparse || r->msix_mappable ||
	       dev->st[i].attrs != 0;
}

static void region_update_flags(struct sim_device *dev, uint32_t i)
{
	if (region_has_caps(dev, i))
		dev->st[i].flags |= VFIO_REGION_INFO_FLAG_CAPS;
	else
		dev->st[i].flags &= ~(uint32_t)VFIO_REGION_INFO_FLAG_CAPS;
}

static int grow_regions(struct sim_device *dev, uint32_t want)
{
	struct sim_region *reg;
	struct vfio_subregion_region_state *st;
	uint32_t cap;

	if (want <= dev->cap_regions)
		return 0;
	cap = dev->cap_regions ? dev->cap_regions : 8;
	while (cap < want)
		cap = cap > UINT32_MAX / 2 ? want : cap * 2;
	reg = realloc(dev->reg, (size_t)cap * sizeof(*reg));
	if (!reg)
		return -ENOMEM;
	dev->reg = reg;
	st = realloc(dev->st, (size_t)cap * sizeof(*st));
	if (!st)
		return -ENOMEM;
	dev->st = st;
	dev->cap_regions = cap;
	return 0;
}

/*
 * Bytes of memfd backing a device gets allocated up front. Past it (BARs of gigabytes, which the
 * validation vectors use) the memfd stays sparse: it lives on no size-limited mount, so a store can
 * only fail where any anonymous page would (the OOM killer; SIGBUS only under strict overcommit).
 */
#define SIM_RESERVE_LIMIT (UINT64_C(64) << 20)

/*
 * A region's backing: a memfd (or, with shm_dir, an O_TMPFILE there), so it has no name to leak when
 * the process dies. Pages are allocated now when `reserve` (always in shm_dir, a tmpfs that can fill
 * up): a full tmpfs is ENOSPC here, never SIGBUS on a later store. A memfd is also sealed against
 * shrinking and growing; a tmpfs file refuses seals, so it gets mode 0 instead (reopening it through
 * /proc/<pid>/fd to truncate it then takes root).
 */
static int make_backing(struct sim_region *r, const char *dir, uint64_t size, int reserve)
{
	uint64_t span = page_round_up(size);
	char path[64];
	int fd, err;

	if (!span)
		return -EINVAL;
	if (dir)
		fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	else
		fd = memfd_create("vfio-sim", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (dir || reserve) {
		do {
			err = fallocate(fd, 0, 0, (off_t)span) < 0 ? -errno : 0;
		} while (err == -EINTR);
	} else {
		err = ftruncate(fd, (off_t)span) < 0 ? -errno : 0;
	}
	if (!err && !dir &&
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		err = -errno;
	/* tmpfs files cannot be sealed: no permission bits, so only root can open it again to truncate */
	if (!err && dir && fchmod(fd, 0) < 0)
		err = -errno;
	if (!err) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)getpid(), fd);
		r->shm_path = strdup(path);
		if (!r->shm_path)
			err = -ENOMEM;
	}
	if (err) {
		close(fd);
		return err;
	}
	r->shm_fd = fd;
	return 0;
}

static int check_region_config(const struct sim_region_config *c)
{
	uint32_t i;

	if (c->kind < SIM_KIND_NONE || c->kind > SIM_KIND_CONFIG)
		return -EINVAL;
	if (c->size > SIM_POS_MASK)
		return -EINVAL;		/* would overlap the next region's offset */
	if (c->mmap && c->kind != SIM_KIND_MEMORY)
		return -EINVAL;
	if (c->nr_sparse > 1024 || (c->nr_sparse && !c->sparse))
		return -EINVAL;
	for (i = 0; i < c->nr_sparse; i++) {
		if (c->sparse[i].offset > c->size || c->sparse[i].size > c->size - c->sparse[i].offset)
			return -EINVAL;
	}
	return 0;
}

/*
 * PCI config space, as vfio-pci virtualizes it: a type 0 header naming the device, and BAR
 * registers that report each BAR's type bits and answer the sizing protocol (write all ones, read
 * back ~(size - 1) | type), so lspci-style tools and drivers that probe BARs see the region table.
 */
#define CFG_BAR0	0x10
#define CFG_ROM		0x30
#define NR_BARS		6
#define ROM_INDEX	6

static int config_index(const struct sim_device *dev)
{
	uint32_t i;

	for (i = 0; i < dev->nr_fixed; i++)
		if (dev->reg[i].kind == SIM_KIND_CONFIG && dev->st[i].size >= 0x40)
			return (int)i;
	return -1;
}

static int config_rw32(struct sim_device *dev, int cfg, uint32_t off, uint32_t *val, int write)
{
	uint8_t b[4];
	ssize_t n;

	if (write) {
		b[0] = (uint8_t)*val;
		b[1] = (uint8_t)(*val >> 8);
		b[2] = (uint8_t)(*val >> 16);
		b[3] = (uint8_t)(*val >> 24);
		n = pwrite(dev->reg[cfg].shm_fd, b, 4, off);
	} else {
		n = pread(dev->reg[cfg].shm_fd, b, 4, off);
		*val = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	}
	return n == 4 ? 0 : -EIO;
}

/* What a BAR register may hold: its address bits (those above the size) and its type bits. */
static uint32_t bar_value(const struct sim_device *dev, uint32_t bar, uint32_t v)
{
	const struct sim_region *r = &dev->reg[bar];
	uint64_t size = dev->st[bar].size;
	uint32_t mask;

	if (bar >= dev->nr_fixed || size == 0 || size > (UINT64_C(1) << 31))
		return 0;	/* unimplemented (or beyond what a 32-bit BAR describes) */
	mask = ~(uint32_t)(size - 1);
	if (bar == ROM_INDEX)
		return (v & mask & ~UINT32_C(0x7ff)) | (v & 1);
	if (r->kind == SIM_KIND_IO)
		return (v & mask & ~UINT32_C(0x3)) | 0x1;
	if (r->kind == SIM_KIND_MEMORY)
		return (v & mask & ~UINT32_C(0xf)) | (r->prefetchable ? 0x8 : 0);
	return 0;
}

static int config_fixup_bars(struct sim_device *dev, int cfg)
{
	uint32_t bar, v;
	int err;

	for (bar = 0; bar <= ROM_INDEX; bar++) {
		uint32_t off = bar == ROM_INDEX ? CFG_ROM : CFG_BAR0 + 4 * bar;

		err = config_rw32(dev, cfg, off, &v, 0);
		if (!err) {
			v = bar_value(dev, bar, v);
			err = config_rw32(dev, cfg, off, &v, 1);
		}
		if (err)
			return err;
	}
	return 0;
}

/* Addresses as firmware would assign them, each BAR naturally aligned, so every BAR reads non-zero. */
static int assign_bars(struct sim_device *dev, int cfg)
{
	uint64_t mem = 0xe0000000, io = 0xc000;
	uint32_t bar, v;
	int err = 0;

	for (bar = 0; bar < NR_BARS && bar < dev->nr_fixed && !err; bar++) {
		uint64_t size = dev->st[bar].size, *next;

		if (size == 0 || dev->reg[bar].kind == SIM_KIND_CONFIG)
			continue;
		next = dev->reg[bar].kind == SIM_KIND_IO ? &io : &mem;
		*next = (*next + size - 1) & ~(size - 1);
		v = (uint32_t)*next;
		*next += size;
		err = config_rw32(dev, cfg, CFG_BAR0 + 4 * bar, &v, 1);
	}
	return err;
}

static int config_init(struct sim_device *dev, const struct sim_config *c)
{
	int cfg = config_index(dev);
	uint32_t v;
	int err;

	if (cfg < 0)
		return 0;
	v = (uint32_t)c->device_id << 16 | c->vendor_id;
	err = config_rw32(dev, cfg, 0x00, &v, 1);
	v = 0x0003;		/* command: I/O and memory decoding on */
	err = err ? err : config_rw32(dev, cfg, 0x04, &v, 1);
	v = c->class_code << 8 | 0x01;	/* class code, revision 1 */
	err = err ? err : config_rw32(dev, cfg, 0x08, &v, 1);
	v = (uint32_t)c->device_id << 16 | c->vendor_id;	/* subsystem */
	err = err ? err : config_rw32(dev, cfg, 0x2c, &v, 1);
	v = dev->num_irqs ? 0x0100 : 0;	/* interrupt pin INTA */
	err = err ? err : config_rw32(dev, cfg, 0x3c, &v, 1);
	err = err ? err : assign_bars(dev, cfg);
	return err ? err : config_fixup_bars(dev, cfg);
}

int sim_create(const struct sim_config *cfg, struct sim_device **out)
{
	struct sim_device *dev;
	const char *dir = cfg->shm_dir;
	uint64_t total = 0;
	uint32_t i;
	int err, reserve;

	*out = NULL;
	if (cfg->nr_regions > 64 || (cfg->nr_regions && !cfg->regions))
		return -EINVAL;
	if (cfg->max_subregions > 4096 || cfg->num_irqs > 64)
		return -EINVAL;
	/* an MSI capability has 1 to 32 vectors, a power of two; an MSI-X table up to 2048 */
	if (cfg->msi > 32 || (cfg->msi & (cfg->msi - 1)) || cfg->msix > 2048)
		return -EINVAL;
	for (i = 0; i < cfg->nr_regions; i++) {
		err = check_region_config(&cfg->regions[i]);
		if (err)
			return err;
	}
	for (i = 0; i < cfg->nr_regions; i++)
		total += cfg->regions[i].size < SIM_RESERVE_LIMIT ? cfg->regions[i].size : SIM_RESERVE_LIMIT;
	reserve = total < SIM_RESERVE_LIMIT;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->nr_fixed = cfg->nr_regions;
	dev->max_subregions = cfg->max_subregions;
	dev->num_irqs = cfg->num_irqs;
	dev->reset_works = !cfg->no_reset;
	sim_irqs_init(&dev->irqs, cfg->num_irqs, cfg->msi, cfg->msix);
	err = grow_regions(dev, cfg->nr_regions + 1);
	if (err)
		goto fail;
	for (i = 0; i < cfg->nr_regions; i++) {
		const struct sim_region_config *c = &cfg->regions[i];
		struct sim_region *r = &dev->reg[i];
		struct vfio_subregion_region_state *s = &dev->st[i];
		int present = c->kind != SIM_KIND_NONE && c->size > 0;

		memset(r, 0, sizeof(*r));
		memset(s, 0, sizeof(*s));
		r->shm_fd = -1;
		dev->num_regions = i + 1;	/* from here on sim_destroy frees it */
		r->kind = present ? c->kind : SIM_KIND_NONE;
		if (!present)
			continue;
		s->size = c->size;
		if (c->readable)
			s->flags |= VFIO_REGION_INFO_FLAG_READ;
		if (c->writable)
			s->flags |= VFIO_REGION_INFO_FLAG_WRITE;
		if (c->mmap)
			s->flags |= VFIO_REGION_INFO_FLAG_MMAP;
		s->supported_attrs = c->supported_attrs;
		r->has_type = c->has_type;
		r->type = c->type;
		r->subtype = c->subtype;
		r->msix_mappable = c->msix_mappable;
		r->prefetchable = c->prefetchable;
		if (c->nr_sparse) {
			r->sparse = malloc((size_t)c->nr_sparse * sizeof(*r->sparse));
			if (!r->sparse) {
				err = -ENOMEM;
				goto fail;
			}
			memcpy(r->sparse, c->sparse, (size_t)c->nr_sparse * sizeof(*r->sparse));
			r->nr_sparse = c->nr_sparse;
		}
		/* io and config regions get a file too: only read/write reach it */
		err = make_backing(r, dir, c->size, reserve);
		if (err)
			goto fail;
		region_update_flags(dev, i);
	}
	err = config_init(dev, cfg);
	if (err)
		goto fail;
	if (cfg->model == SIM_MODEL_E1000E) {
		if (!cfg->nr_regions || dev->reg[0].kind != SIM_KIND_MEMORY || dev->st[0].size < E1000E_BAR0_SIZE) {
			err = -EINVAL;
			goto fail;
		}
		err = sim_e1000e_create(dev, dev->reg[0].shm_fd, &dev->model);
		if (err)
			goto fail;
	} else if (cfg->model != SIM_MODEL_NONE) {
		err = -EINVAL;
		goto fail;
	}
	err = sim_iommu_create(cfg->iommu, cfg->iommufd, cfg->pin, cfg->pin_ctx, &dev->iommu);
	if (err)
		goto fail;
	*out = dev;
	return 0;
fail:
	sim_destroy(dev);
	return err;
}

void sim_destroy(struct sim_device *dev)
{
	uint32_t i;
	size_t m;

	if (!dev)
		return;
	for (m = 0; m < dev->nr_maps; m++)
		map_release(&dev->maps[m]);
	sim_irqs_clear(&dev->irqs);
	sim_iommu_put(dev->iommu);
	sim_e1000e_destroy(dev->model);
	for (i = 0; i < dev->num_regions; i++) {
		struct sim_region *r = &dev->reg[i];

		if (r->shm_fd >= 0)
			close(r->shm_fd);
		free(r->shm_path);
		free(r->sparse);
	}
	free(dev->maps);
	free(dev->reg);
	free(dev->st);
	free(dev);
}

/* ---- user memory: arg[0..len) is all the caller gave; beyond it is EFAULT ---- */

static int copy_from(void *dst, const void *arg, size_t len, size_t off, size_t n)
{
	if (off > len || n > len - off)
		return -EFAULT;
	memcpy(dst, (const uint8_t *)arg + off, n);
	return 0;
}

static int copy_to(void *arg, size_t len, size_t off, const void *src, size_t n)
{
	if (off > len || n > len - off)
		return -EFAULT;
	memcpy((uint8_t *)arg + off, src, n);
	return 0;
}

/* ---- VFIO_DEVICE_GET_INFO ---- */

static int ioctl_get_info(struct sim_device *dev, void *arg, size_t len)
{
	struct vfio_device_info info;
	size_t minsz = offsetof(struct vfio_device_info, num_irqs) + sizeof(info.num_irqs);
	/* "For backward compatibility, cannot require this" (vfio_pci_ioctl_get_info) */
	size_t capsz = offsetof(struct vfio_device_info, cap_offset) + sizeof(info.cap_offset);

	memset(&info, 0, sizeof(info));
	if (copy_from(&info, arg, len, 0, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	if (info.argsz >= capsz) {
		minsz = capsz;
		info.cap_offset = 0;
	}
	info.flags = VFIO_DEVICE_FLAGS_PCI | (dev->reset_works ? VFIO_DEVICE_FLAGS_RESET : 0);
	info.num_regions = dev->num_regions;
	info.num_irqs = dev->num_irqs;
	return copy_to(arg, len, 0, &info, minsz);
}

/* ---- VFIO_DEVICE_GET_REGION_INFO ---- */

struct capbuf {
	uint8_t *buf;
	size_t size;
	size_t last;		/* offset of the last capability added; meaningful when size > 0 */
};

/* vfio_info_cap_add: append an 8-byte aligned, zeroed capability and link it in. */
static void *cap_add(struct capbuf *c, size_t size, uint16_t id, uint16_t version)
{
	struct vfio_info_cap_header *h;

	size = (size + 7) & ~(size_t)7;
	if (c->size) {
		h = (struct vfio_info_cap_header *)(c->buf + c->last);
		h->next = (uint32_t)c->size;	/* shifted by sizeof(info) later */
	}
	h = (struct vfio_info_cap_header *)(c->buf + c->size);
	memset(h, 0, size);
	h->id = id;
	h->version = version;
	h->next = 0;
	c->last = c->size;
	c->size += size;
	return h;
}

/* The region whose sparse areas say what of region i may be mapped: a subregion's parent. */
static const struct sim_region *sparse_owner(const struct sim_device *dev, uint32_t i)
{
	return dev->st[i].is_subregion ? &dev->reg[dev->st[i].parent_index] : &dev->reg[i];
}

/* Upper bound of the chain of region i, for the buffer. */
static size_t cap_max(const struct sim_device *dev, uint32_t i)
{
	return sizeof(struct vfio_region_info_cap_type) +
	       sizeof(struct vfio_region_info_cap_sparse_mmap) +
	       (size_t)sparse_owner(dev, i)->nr_sparse * sizeof(struct vfio_region_sparse_mmap_area) +
	       sizeof(struct vfio_info_cap_header) + sizeof(struct vfio_region_info_cap_subregion) +
	       sizeof(struct vfio_region_info_cap_attrs) + 64;
}

/*
 * A subregion of a region with sparse mmap areas tells the same truth as its parent: the parent's
 * areas intersected with the window, at window offsets. An empty intersection (a window inside a
 * hole) still reports the capability, with zero areas: nothing of it may be mapped, and the MMAP
 * flag stays set, as VFIO allows.
 */
static void add_window_sparse(const struct sim_device *dev, uint32_t i, struct capbuf *c)
{
	const struct vfio_subregion_region_state *s = &dev->st[i];
	const struct sim_region *p = &dev->reg[s->parent_index];
	struct vfio_region_info_cap_sparse_mmap *sp;
	uint64_t lo = s->parent_offset, hi = s->parent_offset + s->size;
	uint32_t k, n = 0;

	for (k = 0; k < p->nr_sparse; k++) {
		uint64_t a = p->sparse[k].offset, b = a + p->sparse[k].size;

		if (a < hi && lo < b && p->sparse[k].size)
			n++;
	}
	sp = cap_add(c, sizeof(*sp) + (size_t)n * sizeof(sp->areas[0]),
		     VFIO_REGION_INFO_CAP_SPARSE_MMAP, 1);
	sp->nr_areas = n;
	n = 0;
	for (k = 0; k < p->nr_sparse; k++) {
		uint64_t a = p->sparse[k].offset, b = a + p->sparse[k].size;

		if (!(a < hi && lo < b && p->sparse[k].size))
			continue;
		a = a > lo ? a : lo;
		b = b < hi ? b : hi;
		sp->areas[n].offset = a - lo;
		sp->areas[n].size = b - a;
		n++;
	}
}

static void build_caps(const struct sim_device *dev, uint32_t i, struct capbuf *c)
{
	const struct sim_region *r = &dev->reg[i];
	const struct vfio_subregion_region_state *s = &dev->st[i];

	if (s->is_subregion) {
		struct vfio_region_info_cap_subregion *sub =
			cap_add(c, sizeof(*sub), VFIO_REGION_INFO_CAP_SUBREGION, 1);

		sub->parent_index = s->parent_index;
		sub->offset = s->parent_offset;
		if (dev->reg[s->parent_index].nr_sparse)
			add_window_sparse(dev, i, c);
	} else {
		if (r->has_type) {
			struct vfio_region_info_cap_type *t =
				cap_add(c, sizeof(*t), VFIO_REGION_INFO_CAP_TYPE, 1);

			t->type = r->type;
			t->subtype = r->subtype;
		}
		if (r->nr_sparse) {
			struct vfio_region_info_cap_sparse_mmap *sp = cap_add(c,
				sizeof(*sp) + (size_t)r->nr_sparse * sizeof(sp->areas[0]),
				VFIO_REGION_INFO_CAP_SPARSE_MMAP, 1);
			uint32_t k;

			sp->nr_areas = r->nr_sparse;
			for (k = 0; k < r->nr_sparse; k++) {
				sp->areas[k].offset = r->sparse[k].offset;
				sp->areas[k].size = r->sparse[k].size;
			}
		}
		if (r->msix_mappable)
			cap_add(c, sizeof(struct vfio_info_cap_header), VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, 1);
	}
	if (s->attrs) {
		struct vfio_region_info_cap_attrs *a =
			cap_add(c, sizeof(*a), VFIO_REGION_INFO_CAP_ATTRS, 1);

		a->attrs = s->attrs;
	}
}

/* vfio_info_cap_shift */
static void cap_shift(struct capbuf *c, uint32_t offset)
{
	struct vfio_info_cap_header *h;
	size_t at = 0;

	if (!c->size)
		return;
	for (;;) {
		h = (struct vfio_info_cap_header *)(c->buf + at);
		if (!h->next)
			break;
		at = h->next;
		h->next += offset;
	}
}

static int ioctl_get_region_info(struct sim_device *dev, void *arg, size_t len)
{
	struct vfio_region_info info;
	size_t minsz = offsetof(struct vfio_region_info, offset) + sizeof(info.offset);
	struct capbuf caps = { 0 };
	uint32_t i;
	int err = 0;

	if (copy_from(&info, arg, len, 0, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	if (info.index >= dev->num_regions)
		return -EINVAL;
	i = info.index;
	info.offset = SIM_INDEX_TO_OFFSET(i);
	info.size = dev->st[i].size;
	info.flags = dev->st[i].flags & ~(uint32_t)VFIO_REGION_INFO_FLAG_CAPS;

	caps.buf = malloc(cap_max(dev, i));
	if (!caps.buf)
		return -ENOMEM;
	build_caps(dev, i, &caps);
	if (caps.size) {
		info.flags |= VFIO_REGION_INFO_FLAG_CAPS;
		if (info.argsz < sizeof(info) + caps.size) {
			info.argsz = (uint32_t)(sizeof(info) + caps.size);
			info.cap_offset = 0;
		} else {
			cap_shift(&caps, sizeof(info));
			if (copy_to(arg, len, sizeof(info), caps.buf, caps.size))
				err = -EFAULT;
			info.cap_offset = sizeof(info);
		}
	}
	free(caps.buf);
	if (err)
		return err;
	return copy_to(arg, len, 0, &info, minsz);
}

/* ---- VFIO_DEVICE_RESET, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO ---- */

/*
 * The device's own state goes back to its initial values: the command register and INTx's mask.
 * DMA mappings belong to the container and the IRQ eventfds to vfio, so a reset keeps both, as
 * pci_try_reset_function under vfio-pci does; a device model sees the count go up and resets its
 * registers.
 */
static int ioctl_reset(struct sim_device *dev)
{
	int cfg = config_index(dev);
	uint32_t v = 0x0003;

	if (!dev->reset_works)
		return -EINVAL;
	if (cfg >= 0 && config_rw32(dev, cfg, 0x04, &v, 1))
		return -EIO;
	dev->irqs.intx_masked = dev->irqs.intx_pending = 0;
	if (dev->model)
		sim_e1000e_reset(dev->model);
	dev->stats.resets++;
	return 0;
}

/* The simulated device is alone on its slot: a hot reset affects it only (group SIM_IOMMU_GROUP, 0000:01:00.0). */
static int ioctl_hot_reset_info(void *arg, size_t len)
{
	struct vfio_pci_hot_reset_info hdr;
	struct vfio_pci_dependent_device self = { .group_id = SIM_IOMMU_GROUP, .segment = 0, .bus = 1, .devfn = 0 };
	size_t minsz = offsetof(struct vfio_pci_hot_reset_info, count) + sizeof(hdr.count);
	int ret = 0;

	if (copy_from(&hdr, arg, len, 0, minsz))
		return -EFAULT;
	if (hdr.argsz < minsz)
		return -EINVAL;
	hdr.flags = 0;
	hdr.count = 1;
	if (hdr.argsz < sizeof(hdr) + sizeof(self))
		ret = -ENOSPC;
	else if (copy_to(arg, len, sizeof(hdr), &self, sizeof(self)))
		return -EFAULT;
	if (copy_to(arg, len, 0, &hdr, minsz))
		return -EFAULT;
	return ret;
}

/* ---- VFIO_DEVICE_FEATURE ---- */

/* vfio_check_feature: 1 to go on, 0 for a successful PROBE, or a negative errno. */
static int check_feature(uint32_t flags, size_t argsz, uint32_t supported_ops, size_t minsz)
{
	if ((flags & (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET)) & ~supported_ops)
		return -EINVAL;
	if (flags & VFIO_DEVICE_FEATURE_PROBE)
		return 0;
	/* Without PROBE one of GET or SET must be requested */
	if (!(flags & (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET)))
		return -EINVAL;
	if (argsz < minsz)
		return -EINVAL;
	return 1;
}

/* The BAR a region's pages belong to, and where in it the region lies. */
static void region_pages(const struct sim_device *dev, uint32_t i, uint32_t *bar, uint64_t *start,
			 uint64_t *end)
{
	const struct vfio_subregion_region_state *s = &dev->st[i];

	*bar = s->is_subregion ? s->parent_index : i;
	*start = s->is_subregion ? s->parent_offset : 0;
	*end = *start + s->size;
}

/*
 * region.mapped as the spec defines it: a live mapping covers a page of the region, made through
 * the region itself or through any region sharing that page (for a BAR: any mapping of it or of a
 * subregion of it).
 */
static void update_mapped(struct sim_device *dev)
{
	uint32_t i;
	size_t k;

	for (i = 0; i < dev->num_regions; i++) {
		uint32_t bar;
		uint64_t start, end;

		region_pages(dev, i, &bar, &start, &end);
		dev->st[i].mapped = 0;
		for (k = 0; k < dev->nr_maps; k++) {
			const struct sim_claim *c = &dev->maps[k].claim;

			if (c->bar == bar && c->start < end && start < c->end) {
				dev->st[i].mapped = 1;
				break;
			}
		}
	}
}

static void fill_state(struct sim_device *dev, struct vfio_subregion_device_state *ds)
{
	update_mapped(dev);
	ds->page_size = sim_page_size();
	ds->num_regions = dev->num_regions;
	ds->nr_subregions = dev->nr_subregions;
	ds->max_subregions = dev->max_subregions;
	ds->region_span = SIM_INDEX_TO_OFFSET(1);	/* VFIO_PCI_OFFSET_SHIFT */
	ds->regions = dev->st;
}

static int feature_subregion(struct sim_device *dev, uint32_t flags, void *arg, size_t len,
			     size_t payload_sz)
{
	struct vfio_device_feature_subregion req;
	struct vfio_subregion_region_state nst;
	struct vfio_subregion_device_state ds;
	const size_t data = offsetof(struct vfio_device_feature, data);
	enum vfio_subregion_rule rule = VFIO_RULE_NONE;
	uint32_t n;
	int ret;

	ret = check_feature(flags, payload_sz, VFIO_DEVICE_FEATURE_SET, sizeof(req));
	if (ret != 1)
		return ret;
	if (copy_from(&req, arg, len, data, sizeof(req)))
		return -EFAULT;
	fill_state(dev, &ds);
	ret = vfio_check_subregion_create(&ds, &req, &rule);
	if (ret) {
		dev->last_rule = vfio_subregion_rule_name(rule);
		return ret;
	}
	n = dev->num_regions;
	if (grow_regions(dev, n + 1))
		return -ENOMEM;
	fill_state(dev, &ds);	/* the table may have moved */
	memset(&nst, 0, sizeof(nst));
	vfio_apply_subregion_create(&ds, &req, &nst);
	/* the kernel writes the index back before it publishes the region */
	if (copy_to(arg, len, data, &req, sizeof(req)))
		return -EFAULT;
	memset(&dev->reg[n], 0, sizeof(dev->reg[n]));
	dev->reg[n].kind = SIM_KIND_MEMORY;
	dev->reg[n].shm_fd = -1;
	dev->st[n] = nst;
	dev->num_regions = n + 1;
	dev->nr_subregions++;
	return 0;
}

static int feature_region_attrs(struct sim_device *dev, uint32_t flags, void *arg, size_t len,
				size_t payload_sz)
{
	struct vfio_device_feature_region_attrs req;
	struct vfio_subregion_device_state ds;
	const size_t data = offsetof(struct vfio_device_feature, data);
	enum vfio_subregion_rule rule = VFIO_RULE_NONE;
	int ret;

	ret = check_feature(flags, payload_sz, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET,
			    sizeof(req));
	if (ret != 1)
		return ret;
	if (copy_from(&req, arg, len, data, sizeof(req)))
		return -EFAULT;
	fill_state(dev, &ds);
	if (flags & VFIO_DEVICE_FEATURE_GET) {
		ret = vfio_check_region_attrs_get(&ds, &req, &rule);
		if (ret) {
			dev->last_rule = vfio_subregion_rule_name(rule);
			return ret;
		}
		vfio_apply_region_attrs_get(&ds, &req);
		return copy_to(arg, len, data, &req, sizeof(req));
	}
	ret = vfio_check_region_attrs_set(&ds, &req, &rule);
	if (ret) {
		dev->last_rule = vfio_subregion_rule_name(rule);
		return ret;
	}
	vfio_apply_region_attrs_set(&ds, &req);
	region_update_flags(dev, req.index);
	return 0;
}

static int ioctl_feature(struct sim_device *dev, void *arg, size_t len)
{
	struct vfio_device_feature feature;
	size_t minsz = offsetof(struct vfio_device_feature, flags) + sizeof(feature.flags);

	if (copy_from(&feature, arg, len, 0, minsz))
		return -EFAULT;
	if (feature.argsz < minsz)
		return -EINVAL;
	/* Check unknown flags */
	if (feature.flags & ~(uint32_t)(VFIO_DEVICE_FEATURE_MASK | VFIO_DEVICE_FEATURE_SET |
					VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_PROBE))
		return -EINVAL;
	/* GET & SET are mutually exclusive except with PROBE */
	if (!(feature.flags & VFIO_DEVICE_FEATURE_PROBE) &&
	    (feature.flags & VFIO_DEVICE_FEATURE_SET) && (feature.flags & VFIO_DEVICE_FEATURE_GET))
		return -EINVAL;
	switch (feature.flags & VFIO_DEVICE_FEATURE_MASK) {
	case VFIO_DEVICE_FEATURE_SUBREGION:
		return feature_subregion(dev, feature.flags, arg, len, feature.argsz - minsz);
	case VFIO_DEVICE_FEATURE_REGION_ATTRS:
		return feature_region_attrs(dev, feature.flags, arg, len, feature.argsz - minsz);
	default:
		return -ENOTTY;
	}
}

int sim_ioctl(struct sim_device *dev, unsigned long request, void *arg, size_t len)
{
	dev->last_rule = NULL;
	if (!arg)
		len = 0;
	switch (request) {
	case VFIO_DEVICE_GET_INFO:
		return ioctl_get_info(dev, arg, len);
	case VFIO_DEVICE_GET_REGION_INFO:
		return ioctl_get_region_info(dev, arg, len);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return sim_irqs_get_info(&dev->irqs, arg, len);
	case VFIO_DEVICE_SET_IRQS:
		return sim_irqs_set(&dev->irqs, arg, len);
	case VFIO_DEVICE_RESET:
		return ioctl_reset(dev);
	case VFIO_DEVICE_GET_PCI_HOT_RESET_INFO:
		return ioctl_hot_reset_info(arg, len);
	case VFIO_DEVICE_FEATURE:
		return ioctl_feature(dev, arg, len);
	default:
		return -ENOTTY;
	}
}

/* ---- read/write ---- */

/* The file and offset in it that hold region i's byte 0 (memory regions only). */
static void backing_of(const struct sim_device *dev, uint32_t i, int *fd, uint64_t *base)
{
	const struct vfio_subregion_region_state *s = &dev->st[i];

	if (s->is_subregion) {
		*fd = dev->reg[s->parent_index].shm_fd;
		*base = s->parent_offset;
	} else {
		*fd = dev->reg[i].shm_fd;
		*base = 0;
	}
}

ssize_t sim_rw(struct sim_device *dev, void *buf, size_t len, uint64_t offset, int write)
{
	uint64_t index = offset >> SIM_OFFSET_SHIFT, pos = offset & SIM_POS_MASK;
	const struct vfio_subregion_region_state *s;
	size_t count, done = 0;
	uint64_t base;
	int fd;

	if (index >= dev->num_regions)
		return -EINVAL;
	s = &dev->st[index];
	if (!(s->flags & (write ? VFIO_REGION_INFO_FLAG_WRITE : VFIO_REGION_INFO_FLAG_READ)))
		return -EINVAL;
	if (pos >= s->size)
		return -EINVAL;
	count = len < s->size - pos ? len : (size_t)(s->size - pos);
	if (count == 0)
		return 0;
	/* vfio-pci reads and writes a BAR with ioread32/iowrite32 where it can: the model sees those */
	if (dev->model && index == 0 && count == 4 && !(pos & 3) && pos < E1000E_BAR0_SIZE) {
		uint32_t v;

		if (write) {
			memcpy(&v, buf, 4);
			sim_e1000e_write(dev->model, (uint32_t)pos, v);
		} else {
			v = sim_e1000e_read(dev->model, (uint32_t)pos);
			memcpy(buf, &v, 4);
		}
		return 4;
	}
	backing_of(dev, (uint32_t)index, &fd, &base);
	while (done < count) {
		ssize_t n = write ? pwrite(fd, (const uint8_t *)buf + done, count - done,
					   (off_t)(base + pos + done))
				  : pread(fd, (uint8_t *)buf + done, count - done,
					  (off_t)(base + pos + done));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return done ? (ssize_t)done : -errno;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	/* a write that touched a BAR register: keep its type bits and the sizing answer */
	if (write && done && (int)index == config_index(dev) && pos < CFG_ROM + 4 && pos + done > CFG_BAR0) {
		int err = config_fixup_bars(dev, (int)index);

		if (err)
			return err;
	}
	return (ssize_t)done;
}

/* ---- mmap ---- */

static int in_sparse(const struct sim_region *r, uint64_t pos, uint64_t len)
{
	uint32_t k;

	for (k = 0; k < r->nr_sparse; k++) {
		const struct sim_sparse_area *a = &r->sparse[k];

		if (pos >= a->offset && len <= a->size && pos - a->offset <= a->size - len)
			return 1;
	}
	return 0;
}

static int do_mmap(struct sim_device *dev, uint64_t offset, size_t length, int prot, void *fixed,
		   void **addr)
{
	uint64_t index = offset >> SIM_OFFSET_SHIFT, pos = offset & SIM_POS_MASK;
	uint64_t ps = sim_page_size(), span, rlen, base;
	const struct vfio_subregion_region_state *s;
	const struct sim_region *owner;
	struct sim_claim claim;
	struct sim_map *m;
	size_t k;
	void *p;
	int fd;

	*addr = NULL;
	dev->last_rule = NULL;
	if (length == 0 || (offset & (ps - 1)))
		return -EINVAL;
	if (prot & ~(PROT_READ | PROT_WRITE))
		return -EINVAL;
	if (index >= dev->num_regions)
		return -EINVAL;
	s = &dev->st[index];
	if (!(s->flags & VFIO_REGION_INFO_FLAG_MMAP))
		return -EINVAL;
	if ((prot & PROT_READ) && !(s->flags & VFIO_REGION_INFO_FLAG_READ))
		return -EINVAL;
	if ((prot & PROT_WRITE) && !(s->flags & VFIO_REGION_INFO_FLAG_WRITE))
		return -EINVAL;
	rlen = page_round_up(length);
	span = page_round_up(s->size);
	if (rlen == 0 || pos >= span || rlen > span - pos)
		return -EINVAL;
	backing_of(dev, (uint32_t)index, &fd, &base);
	/* a window never maps what its parent's sparse areas leave out */
	owner = sparse_owner(dev, (uint32_t)index);
	if (owner->nr_sparse && !in_sparse(owner, base + pos, rlen))
		return -EINVAL;
	if (dev->nr_maps == dev->cap_maps) {
		size_t cap = dev->cap_maps ? dev->cap_maps * 2 : 8;

		m = realloc(dev->maps, cap * sizeof(*m));
		if (!m)
			return -ENOMEM;
		dev->maps = m;
		dev->cap_maps = cap;
	}
	if (fixed && (((uintptr_t)fixed & (ps - 1)) || rlen != length))
		return -EINVAL;
	/* one-memtype-per-page: refuse, never change the type of a page another mapping holds */
	claim.bar = s->is_subregion ? s->parent_index : (uint32_t)index;
	claim.start = base + pos;
	claim.end = base + pos + rlen;
	claim.wc = (s->attrs & VFIO_REGION_ATTR_WC) != 0;
	for (k = 0; k < dev->nr_maps; k++) {
		const struct sim_claim *c = &dev->maps[k].claim;

		if (c->bar == claim.bar && c->start < claim.end && claim.start < c->end &&
		    c->wc != claim.wc) {
			dev->last_rule = vfio_subregion_rule_name(VFIO_RULE_MMAP_ONE_MEMTYPE_PER_PAGE);
			return -EBUSY;
		}
	}
	p = mmap(fixed, (size_t)rlen, prot, MAP_SHARED | (fixed ? MAP_FIXED : 0), fd,
		 (off_t)(base + pos));
	if (p == MAP_FAILED) {
		int err = errno;

		/* a failed MAP_FIXED may already have taken the old pages away */
		if (fixed)
			mmap(fixed, (size_t)rlen, PROT_READ | PROT_WRITE,
			     MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		return -err;
	}
	m = &dev->maps[dev->nr_maps++];
	m->pub.index = (uint32_t)index;
	m->pub.offset = pos;
	m->pub.length = length;
	m->pub.prot = prot;
	m->pub.addr = p;
	m->pub.attrs = s->attrs;
	m->map_len = (size_t)rlen;
	m->fixed = fixed != NULL;
	m->claim = claim;
	*addr = p;
	return 0;
}

int sim_mmap(struct sim_device *dev, uint64_t offset, size_t length, int prot, void **addr)
{
	return do_mmap(dev, offset, length, prot, NULL, addr);
}

int sim_mmap_fixed(struct sim_device *dev, uint64_t offset, size_t length, int prot, void *at)
{
	void *p;

	if (!at)
		return -EINVAL;
	return do_mmap(dev, offset, length, prot, at, &p);
}

int sim_munmap(struct sim_device *dev, void *addr)
{
	size_t k;

	for (k = 0; k < dev->nr_maps; k++) {
		struct sim_map *m = &dev->maps[k];

		if (m->pub.addr != addr)
			continue;
		map_release(m);
		memmove(m, m + 1, (dev->nr_maps - k - 1) * sizeof(*m));
		dev->nr_maps--;
		return 0;
	}
	return -EINVAL;
}

int sim_forget(struct sim_device *dev, void *addr)
{
	size_t k;

	/* the oldest record at addr: a newer one there is a mapping made after this one went */
	for (k = 0; k < dev->nr_maps; k++) {
		if (dev->maps[k].pub.addr != addr)
			continue;
		memmove(&dev->maps[k], &dev->maps[k + 1], (dev->nr_maps - k - 1) * sizeof(dev->maps[k]));
		dev->nr_maps--;
		return 0;
	}
	return -EINVAL;
}

size_t sim_nr_mappings(const struct sim_device *dev)
{
	return dev->nr_maps;
}

const struct sim_mapping *sim_mapping_at(const struct sim_device *dev, size_t i)
{
	return i < dev->nr_maps ? &dev->maps[i].pub : NULL;
}

const char *sim_last_rule(const struct sim_device *dev)
{
	return dev->last_rule;
}

uint32_t sim_num_regions(const struct sim_device *dev)
{
	return dev->num_regions;
}

int sim_backing(const struct sim_device *dev, uint32_t index, const char **path,
		uint64_t *offset, uint64_t *size)
{
	uint64_t base;
	int fd;

	if (index >= dev->num_regions || dev->reg[index].kind != SIM_KIND_MEMORY)
		return -EINVAL;
	backing_of(dev, index, &fd, &base);
	(void)fd;
	*path = dev->st[index].is_subregion ? dev->reg[dev->st[index].parent_index].shm_path
					    : dev->reg[index].shm_path;
	*offset = base;
	*size = dev->st[index].size;
	return 0;
}

/* ---- DMA and interrupts, for device models ---- */

struct sim_iommu *sim_iommu_of(const struct sim_device *dev)
{
	return dev->iommu;
}

void sim_attach_iommu(struct sim_device *dev, struct sim_iommu *io)
{
	if (io)
		sim_iommu_get(io);
	sim_iommu_put(dev->iommu);
	dev->iommu = io;
}

int sim_dma(struct sim_device *dev, uint64_t iova, void *buf, size_t len, int write)
{
	uint64_t vaddr, at = iova;
	size_t done, run;

	/* the whole range is checked before a byte moves: a fault transfers nothing */
	for (done = 0; done < len; done += run, at += run) {
		if (!dev->iommu || at < iova || sim_iommu_translate(dev->iommu, at, len - done, write, &vaddr, &run)) {
			dev->stats.faults++;
			dev->stats.last_fault_iova = at;
			dev->stats.last_fault_write = write;
			return -EFAULT;
		}
	}
	for (done = 0, at = iova; done < len; done += run, at += run) {
		sim_iommu_translate(dev->iommu, at, len - done, write, &vaddr, &run);
		if (write)
			memcpy((void *)(uintptr_t)vaddr, (const uint8_t *)buf + done, run);
		else
			memcpy((uint8_t *)buf + done, (const void *)(uintptr_t)vaddr, run);
	}
	if (write)
		dev->stats.writes++;
	else
		dev->stats.reads++;
	return 0;
}

void sim_dma_stats(const struct sim_device *dev, struct sim_dma_stats *out)
{
	*out = dev->stats;
	out->interrupts = dev->irqs.interrupts;
	out->lost_interrupts = dev->irqs.lost;
}

int sim_irq_signal(struct sim_device *dev, uint32_t index, uint32_t vector)
{
	return sim_irqs_signal(&dev->irqs, index, vector);
}

size_t sim_irq_nr_eventfds(const struct sim_device *dev)
{
	return sim_irqs_nr_eventfds(&dev->irqs);
}

uint32_t sim_irq_active(const struct sim_device *dev)
{
	return dev->irqs.type;
}

int sim_mmio(struct sim_device *dev, const void *addr, unsigned int bytes, int write, uint64_t *val)
{
	const uint8_t *a = addr;
	size_t k;

	if (!dev->model)
		return 1;
	for (k = 0; k < dev->nr_maps; k++) {
		const struct sim_mapping *p = &dev->maps[k].pub;
		const struct vfio_subregion_region_state *s = &dev->st[p->index];
		uint64_t pos;
		uint32_t bar;

		if (a < (const uint8_t *)p->addr || a + bytes > (const uint8_t *)p->addr + p->length)
			continue;
		pos = p->offset + (uint64_t)(a - (const uint8_t *)p->addr);
		bar = p->index;
		if (s->is_subregion) {
			bar = s->parent_index;
			pos += s->parent_offset;
		}
		if (bar != 0 || bytes != 4 || (pos & 3) || pos >= E1000E_BAR0_SIZE)
			return 1;
		if (write)
			sim_e1000e_write(dev->model, (uint32_t)pos, (uint32_t)*val);
		else
			*val = sim_e1000e_read(dev->model, (uint32_t)pos);
		return 0;
	}
	return -EINVAL;
}

int sim_model_stats(const struct sim_device *dev, struct sim_model_stats *out)
{
	if (!dev->model)
		return -ENODEV;
	sim_e1000e_stats(dev->model, out);
	return 0;
}

int sim_model_frame(const struct sim_device *dev, uint32_t i, const uint8_t **data, uint32_t *len)
{
	return dev->model ? sim_e1000e_frame(dev->model, i, data, len) : -ENODEV;
}

int sim_model_clear_frames(struct sim_device *dev)
{
	if (!dev->model)
		return -ENODEV;
	sim_e1000e_clear_frames(dev->model);
	return 0;
}
