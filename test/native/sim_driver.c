// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Drives native/src/sim.c (with the generated validators) under AddressSanitizer and UBSan: every
 * ioctl path once with known answers, then a few thousand random ioctls, feature payloads, reads,
 * writes and mmaps from a fixed-seed PRNG, checking after each step that
 *   - every result is 0 (or a byte count) or a negative errno from the set the ABI allows,
 *   - a created subregion gets index == the old num_regions and num_regions grows by one,
 *   - no subregion lies outside its parent, none has a subregion parent, all are page-aligned,
 *   - every capability chain the simulator returns is accepted by the generated walker,
 *   - every live mapping lies inside its region and sees the same bytes as read().
 * Argument buffers are heap blocks of exactly the length passed, so any overrun is an ASan report.
 * The memory behind the regions is checked for both kinds: memfds (the default) and unnamed
 * O_TMPFILE files in shm-dir (nothing ever appears there, the /proc/<pid>/fd/<n> path opens while
 * the device lives and not after), and sim_forget (the caller replaced a mapping's pages itself, as
 * the addon does when it revokes) drops the record without touching the caller's range.
 * Usage: sim_driver [shm-dir] [iterations]. Exit 0 and "ok" on success.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include <linux/vfio.h>
#include <linux/vfio_subregion.h>
#include "vfio_subregion_validate.h"
#include "sim.h"

#define CHECK(cond, ...)                                                              \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                 \
			fprintf(stderr, "\n");                                        \
			exit(1);                                                      \
		}                                                                     \
	} while (0)

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static uint64_t below(uint64_t n)
{
	return n ? next() % n : 0;
}

static uint64_t PS;
/* what the random phase achieved, so the test can see it did more than fail */
static unsigned long nr_created, nr_mapped, nr_busy, nr_rw, nr_feature_ok, nr_forgotten;
static const char *shm_dir;	/* what the device under test uses: NULL for memfds */
static const char *shm_arg;	/* the directory given on the command line */
static void *forgotten_at;	/* a range the device forgot (forget_answers), for backing_answers */

/*
 * The standard test device: standardConfig() of test/native/helpers.ts, printed as C by
 * tools/sim-config-c.ts into standard_config.h (sanitizers.test.ts writes it and builds with -I there).
 * The known answers below assume it: BAR0 1 MiB WC, BAR1 64 KiB, BAR2 64 KiB WC with sparse areas
 * and MSI-X mappable, BAR4 I/O, BAR5 read-only with a type cap, ROM not mmap-able, config, 5 IRQs.
 */
#include "standard_config.h"

#define NR_FIXED (sizeof(standard_config_regions) / sizeof(standard_config_regions[0]))
_Static_assert(NR_FIXED == 9, "the known answers assume the nine fixed regions of a vfio-pci device");

/* A copy of the standard device in r (NR_FIXED entries) that a test may change, on shm_dir's memory. */
static void load_standard(struct sim_region_config *r, struct sim_config *cfg)
{
	memcpy(r, standard_config_regions, sizeof(standard_config_regions));
	*cfg = standard_config;
	cfg->regions = r;
	cfg->shm_dir = shm_dir;
}

static int allowed_errno(int rc)
{
	switch (-rc) {
	case EINVAL: case EFAULT: case ENOTTY: case EOPNOTSUPP: case ENOSPC: case EBUSY: case ENOMEM:
		return 1;
	default:
		return 0;
	}
}

/* ioctl through an exact-size heap copy, so ASan sees any access past len */
static int do_ioctl(struct sim_device *d, unsigned long req, void *arg, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	CHECK(copy, "malloc");
	memcpy(copy, arg, len);
	rc = sim_ioctl(d, req, len ? copy : NULL, len);
	memcpy(arg, copy, len);
	free(copy);
	CHECK(rc == 0 || (rc < 0 && allowed_errno(rc)), "ioctl 0x%lx returned %d", req, rc);
	return rc;
}

static uint32_t num_regions(struct sim_device *d)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	CHECK(do_ioctl(d, VFIO_DEVICE_GET_INFO, &info, sizeof(info)) == 0, "GET_INFO");
	CHECK(info.num_regions == sim_num_regions(d), "num_regions %u vs %u", info.num_regions,
	      sim_num_regions(d));
	return info.num_regions;
}

struct rinfo {
	struct vfio_region_info info;
	int is_sub;
	uint32_t parent;
	uint64_t parent_offset;
	uint32_t attrs;		/* from CAP_ATTRS, 0 when absent */
	int has_sparse;		/* a SPARSE_MMAP capability */
	uint32_t nr_areas;
	struct vfio_region_sparse_mmap_area areas[4];	/* the first ones */
	uint32_t cap_ids[8];
	int nr_caps;
};

/* GET_REGION_INFO with the retry dance, walking the chain with the generated walker. */
static int region_info(struct sim_device *d, uint32_t index, struct rinfo *out)
{
	struct vfio_region_info head = { .argsz = sizeof(head), .index = index };
	struct vfio_cap_cursor cur;
	uint8_t *buf;
	int rc, r;

	memset(out, 0, sizeof(*out));
	rc = do_ioctl(d, VFIO_DEVICE_GET_REGION_INFO, &head, sizeof(head));
	if (rc)
		return rc;
	buf = calloc(1, head.argsz);
	CHECK(buf, "calloc");
	memcpy(buf, &head, sizeof(head));
	((struct vfio_region_info *)buf)->cap_offset = 0;
	CHECK(do_ioctl(d, VFIO_DEVICE_GET_REGION_INFO, buf, head.argsz) == 0, "retry");
	memcpy(&out->info, buf, sizeof(out->info));
	CHECK(out->info.offset == SIM_INDEX_TO_OFFSET(index), "offset");
	r = vfio_region_info_cap_first(buf, head.argsz, &cur);
	CHECK(r >= 0, "walker: %d %s", r, vfio_cap_error_name(cur.error));
	CHECK(!(out->info.flags & VFIO_REGION_INFO_FLAG_CAPS) || r == 1, "CAPS flag but no chain");
	for (; r == 1; r = vfio_region_info_cap_next(&cur)) {
		CHECK(cur.offset % 8 == 0, "cap alignment");
		CHECK(cur.known, "unknown cap id %u", cur.id);
		CHECK(cur.version == 1, "version");
		CHECK(out->nr_caps < 8, "too many caps");
		out->cap_ids[out->nr_caps++] = cur.id;
		if (cur.id == VFIO_REGION_INFO_CAP_SUBREGION) {
			struct vfio_region_info_cap_subregion s;

			memcpy(&s, buf + cur.offset, sizeof(s));
			CHECK(s.reserved == 0, "reserved");
			out->is_sub = 1;
			out->parent = s.parent_index;
			out->parent_offset = s.offset;
		} else if (cur.id == VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
			struct vfio_region_info_cap_sparse_mmap sp;
			uint32_t k;

			memcpy(&sp, buf + cur.offset, sizeof(sp));
			out->has_sparse = 1;
			out->nr_areas = sp.nr_areas;
			for (k = 0; k < sp.nr_areas && k < 4; k++)
				memcpy(&out->areas[k], buf + cur.offset + sizeof(sp) + k * sizeof(out->areas[0]),
				       sizeof(out->areas[0]));
		} else if (cur.id == VFIO_REGION_INFO_CAP_ATTRS) {
			struct vfio_region_info_cap_attrs a;

			memcpy(&a, buf + cur.offset, sizeof(a));
			CHECK(a.attrs != 0 && a.reserved == 0, "attrs cap");
			out->attrs = a.attrs;
		}
	}
	CHECK(r == 0, "walker ended with %d", r);
	free(buf);
	return 0;
}

static void check_invariants(struct sim_device *d)
{
	uint32_t n = num_regions(d), i;
	size_t k;

	for (i = 0; i < n; i++) {
		struct rinfo ri, pi;

		CHECK(region_info(d, i, &ri) == 0, "region %u", i);
		CHECK(ri.is_sub == (i >= NR_FIXED), "region %u: subregion cap iff dynamic", i);
		if (!ri.is_sub)
			continue;
		CHECK(ri.cap_ids[0] == VFIO_REGION_INFO_CAP_SUBREGION, "SUBREGION first");
		CHECK(ri.parent < NR_FIXED && ri.parent < i, "region %u: parent %u", i, ri.parent);
		CHECK(region_info(d, ri.parent, &pi) == 0, "parent");
		CHECK(!pi.is_sub, "parent is a subregion");
		CHECK(pi.info.flags & VFIO_REGION_INFO_FLAG_MMAP, "parent mmap");
		CHECK(ri.info.size > 0 && ri.info.size % PS == 0 && ri.parent_offset % PS == 0, "aligned");
		CHECK(ri.parent_offset <= pi.info.size && ri.info.size <= pi.info.size - ri.parent_offset,
		      "region %u outside its parent", i);
		CHECK((ri.info.flags & ~(uint32_t)(VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE)) ==
		      (VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS), "subregion flags");
		/* sparse truth: the parent's areas within the window, at window offsets */
		CHECK(ri.has_sparse == pi.has_sparse, "region %u: SPARSE_MMAP iff its parent has one", i);
		for (k = 0; ri.has_sparse && k < ri.nr_areas && k < 4; k++) {
			const struct vfio_region_sparse_mmap_area *a = &ri.areas[k];
			uint32_t j;
			int inside = 0;

			CHECK(a->size > 0 && a->offset <= ri.info.size && a->size <= ri.info.size - a->offset,
			      "region %u: area %u outside the window", i, (unsigned)k);
			for (j = 0; j < pi.nr_areas && j < 4; j++)
				inside |= ri.parent_offset + a->offset >= pi.areas[j].offset &&
					  ri.parent_offset + a->offset + a->size <= pi.areas[j].offset + pi.areas[j].size;
			CHECK(inside, "region %u: area %u is not inside an area of the parent", i, (unsigned)k);
		}
	}
	/* one-memtype-per-page: no two live mappings give a page of a BAR two types */
	for (k = 0; k < sim_nr_mappings(d); k++) {
		const struct sim_mapping *a = sim_mapping_at(d, k);
		struct rinfo ra;
		uint64_t abar, astart, alen = (a->length + PS - 1) / PS * PS;
		size_t j;

		CHECK(region_info(d, a->index, &ra) == 0, "mapping region");
		abar = ra.is_sub ? ra.parent : a->index;
		astart = (ra.is_sub ? ra.parent_offset : 0) + a->offset;
		for (j = k + 1; j < sim_nr_mappings(d); j++) {
			const struct sim_mapping *b = sim_mapping_at(d, j);
			struct rinfo rb;
			uint64_t bbar, bstart, blen = (b->length + PS - 1) / PS * PS;

			CHECK(region_info(d, b->index, &rb) == 0, "mapping region");
			bbar = rb.is_sub ? rb.parent : b->index;
			bstart = (rb.is_sub ? rb.parent_offset : 0) + b->offset;
			if (abar == bbar && astart < bstart + blen && bstart < astart + alen)
				CHECK((a->attrs & VFIO_REGION_ATTR_WC) == (b->attrs & VFIO_REGION_ATTR_WC),
				      "BAR %llu: a page mapped with two memory types", (unsigned long long)abar);
		}
	}
	for (k = 0; k < sim_nr_mappings(d); k++) {
		const struct sim_mapping *m = sim_mapping_at(d, k);
		struct rinfo ri;
		uint8_t b = 0;
		size_t at;

		CHECK(region_info(d, m->index, &ri) == 0, "mapping region");
		CHECK(m->offset % PS == 0 && m->offset < ri.info.size, "mapping offset");
		CHECK(m->attrs == ri.attrs, "mapping attrs: what REGION_INFO says is what the page tables have");
		at = (size_t)below(m->length < ri.info.size - m->offset ? m->length : ri.info.size - m->offset);
		if ((m->prot & PROT_READ) && (ri.info.flags & VFIO_REGION_INFO_FLAG_READ)) {
			CHECK(sim_rw(d, &b, 1, SIM_INDEX_TO_OFFSET(m->index) + m->offset + at, 0) == 1, "read");
			CHECK(((volatile uint8_t *)m->addr)[at] == b, "mapping and read disagree");
		}
	}
}

static int feature(struct sim_device *d, uint32_t flags, const void *payload, size_t plen,
		   uint32_t argsz, void *out)
{
	size_t len = sizeof(struct vfio_device_feature) + plen;
	uint8_t *b = calloc(1, len);
	int rc;

	CHECK(b, "calloc");
	((struct vfio_device_feature *)b)->argsz = argsz;
	((struct vfio_device_feature *)b)->flags = flags;
	if (plen)
		memcpy(b + sizeof(struct vfio_device_feature), payload, plen);
	rc = do_ioctl(d, VFIO_DEVICE_FEATURE, b, len);
	if (out)
		memcpy(out, b + sizeof(struct vfio_device_feature), plen);
	free(b);
	return rc;
}

static int create(struct sim_device *d, uint32_t parent, uint64_t off, uint64_t size, uint32_t attrs,
		  uint32_t *index)
{
	struct vfio_device_feature_subregion s = { .parent_index = parent, .offset = off, .size = size,
						  .attrs = attrs, .index = 0xffffffff };
	int rc = feature(d, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_SUBREGION, &s, sizeof(s),
			 8 + sizeof(s), &s);

	if (index)
		*index = s.index;
	return rc;
}

/* Files in dir (0 for none given). */
static int dir_entries(const char *dir)
{
	struct dirent *e;
	int count = 0;
	DIR *dp;

	if (!dir)
		return 0;
	dp = opendir(dir);
	CHECK(dp, "opendir %s", dir);
	while ((e = readdir(dp)))
		count += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(dp);
	return count;
}

/*
 * sim_forget: the caller replaced a mapping's pages (the addon revokes so): the record goes, with
 * its claim on the pages' memory type, and the range stays the caller's, even through sim_destroy.
 */
static void forget_answers(struct sim_device *d)
{
	struct vfio_device_feature_region_attrs ra = { .index = 1, .attrs = 0 };
	size_t before = sim_nr_mappings(d);
	uint32_t wc, k;
	void *p, *q;

	CHECK(sim_mmap(d, SIM_INDEX_TO_OFFSET(1), 2 * PS, PROT_READ | PROT_WRITE, &p) == 0, "mmap BAR1");
	CHECK(sim_nr_mappings(d) == before + 1, "recorded");
	CHECK(feature(d, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_REGION_ATTRS, &ra, sizeof(ra),
		      8 + sizeof(ra), NULL) == -EBUSY, "BAR1 is mapped");
	CHECK(sim_forget(d, (uint8_t *)p + PS) == -EINVAL, "forget wants the address the mapping began at");
	CHECK(sim_forget(d, NULL) == -EINVAL, "forget NULL");
	CHECK(mmap(p, 2 * PS, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == p,
	      "anonymous pages in place");
	CHECK(sim_forget(d, p) == 0, "forget");
	CHECK(sim_nr_mappings(d) == before, "the record is gone");
	for (k = 0; k < sim_nr_mappings(d); k++)
		CHECK(sim_mapping_at(d, k)->addr != p, "no record of the forgotten mapping");
	CHECK(sim_forget(d, p) == -EINVAL && sim_munmap(d, p) == -EINVAL, "forgotten once");
	CHECK(feature(d, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_REGION_ATTRS, &ra, sizeof(ra),
		      8 + sizeof(ra), NULL) == 0, "BAR1 no longer counts as mapped");
	/* and the memory-type claim goes with the record: a WC window over forgotten UC pages maps */
	CHECK(sim_mmap(d, SIM_INDEX_TO_OFFSET(2) + 0x8000, PS, PROT_READ, &q) == 0, "mmap a BAR2 page UC");
	CHECK(create(d, 2, 0x8000, PS, VFIO_REGION_ATTR_WC, &wc) == 0, "a WC window over it");
	CHECK(sim_mmap(d, SIM_INDEX_TO_OFFSET(wc), PS, PROT_READ, &p) == -EBUSY, "the UC page is mapped");
	CHECK(mmap(q, PS, PROT_READ, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == q, "replace");
	CHECK(sim_forget(d, q) == 0, "forget the UC page");
	CHECK(sim_mmap(d, SIM_INDEX_TO_OFFSET(wc), PS, PROT_READ, &p) == 0, "the WC window maps now");
	CHECK(sim_munmap(d, p) == 0, "munmap the window");
	CHECK(munmap(q, PS) == 0, "the caller's range");
	/* a forgotten range survives sim_destroy: the simulator never unmaps what is no longer its */
	CHECK(sim_mmap(d, SIM_INDEX_TO_OFFSET(1), PS, PROT_READ | PROT_WRITE, &forgotten_at) == 0, "mmap again");
	CHECK(mmap(forgotten_at, PS, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ==
	      forgotten_at, "replace");
	CHECK(sim_forget(d, forgotten_at) == 0, "forget");
}

/*
 * The memory behind a region: a path under /proc/<pid>/fd that opens it while the device lives, a
 * memfd (sealed) by default or an unnamed file in shm_dir; nothing is ever named in shm_dir.
 */
static void backing_answers(struct sim_device *d)
{
	char want[64], link[256];
	const char *path;
	uint64_t off, size;
	struct stat st;
	uint8_t b = 0;
	ssize_t n;
	int fd;

	snprintf(want, sizeof(want), "/proc/%d/fd/", (int)getpid());
	CHECK(sim_backing(d, 0, &path, &off, &size) == 0 && off == 0 && size == 1 << 20, "BAR0 backing");
	CHECK(!strncmp(path, want, strlen(want)) && strspn(path + strlen(want), "0123456789") == strlen(path + strlen(want)),
	      "path %s", path);
	n = readlink(path, link, sizeof(link) - 1);
	CHECK(n > 0, "readlink %s", path);
	link[n] = 0;
	if (shm_dir)
		CHECK(!strncmp(link, shm_dir, strlen(shm_dir)) && link[strlen(shm_dir)] == '/' &&
		      link[strlen(shm_dir) + 1] == '#' && strstr(link, " (deleted)"), "O_TMPFILE in shm_dir: %s", link);
	else
		CHECK(!strcmp(link, "/memfd:vfio-sim (deleted)"), "memfd: %s", link);
	CHECK(dir_entries(shm_dir) == 0, "nothing named in %s", shm_dir);
	CHECK(sim_rw(d, &(uint8_t){ 0x5e }, 1, SIM_INDEX_TO_OFFSET(0) + 77, 1) == 1, "write");
	fd = open(path, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
	CHECK(pread(fd, &b, 1, 77) == 1 && b == 0x5e, "the file is the region");
	CHECK(fstat(fd, &st) == 0 && (uint64_t)st.st_size >= size, "size");
	if (!shm_dir)
		CHECK(ftruncate(fd, 0) < 0 && errno == EPERM, "a memfd is sealed against shrinking");
	close(fd);
	CHECK(sim_backing(d, 4, &path, &off, &size) == -EINVAL, "I/O ports: not memory");
	CHECK(sim_backing(d, 7, &path, &off, &size) == -EINVAL, "config: not memory");
	CHECK(sim_backing(d, 99, &path, &off, &size) == -EINVAL, "no region");
	CHECK(sim_backing(d, 0, &path, &off, &size) == 0, "again");
	snprintf(link, sizeof(link), "%s", path);
	fd = open(link, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0 && fstat(fd, &st) == 0, "stat");
	close(fd);
	sim_destroy(d);	/* with p2 still mapped */
	{
		struct stat now;

		/* gone: the number may be reused, but then by another file */
		CHECK(stat(link, &now) < 0 || now.st_ino != st.st_ino || now.st_dev != st.st_dev,
		      "%s still reaches the memory after sim_destroy", link);
	}
	((volatile uint8_t *)forgotten_at)[0] = 1;	/* the forgotten range is still the caller's */
	CHECK(munmap(forgotten_at, PS) == 0, "munmap the forgotten range");
	CHECK(dir_entries(shm_dir) == 0, "nothing left in %s", shm_dir);
}

static void known_answers(void)
{
	struct sim_region_config r[NR_FIXED];
	struct sim_config cfg;
	struct sim_device *d;
	struct vfio_device_info di;
	struct vfio_irq_info irq = { .argsz = sizeof(irq), .index = 1 };
	struct vfio_device_feature_region_attrs ra;
	struct rinfo ri;
	uint32_t idx;
	uint8_t buf[64];
	void *p, *p2, *p3;

	load_standard(r, &cfg);
	CHECK(sim_create(&cfg, &d) == 0, "create");
	/* GET_INFO: argsz 16 and 20 accepted, 15 refused, short buffer faults */
	memset(&di, 0, sizeof(di));
	di.argsz = 16;
	CHECK(do_ioctl(d, VFIO_DEVICE_GET_INFO, &di, 16) == 0 && di.num_regions == NR_FIXED &&
	      di.num_irqs == 5 && di.flags == (VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET), "GET_INFO");
	di.argsz = 15;
	CHECK(do_ioctl(d, VFIO_DEVICE_GET_INFO, &di, 16) == -EINVAL, "GET_INFO argsz");
	CHECK(do_ioctl(d, VFIO_DEVICE_GET_INFO, &di, 8) == -EFAULT, "GET_INFO short");
	CHECK(do_ioctl(d, VFIO_DEVICE_GET_IRQ_INFO, &irq, sizeof(irq)) == 0 && irq.count == 1, "IRQ");
	irq.index = 5;
	CHECK(do_ioctl(d, VFIO_DEVICE_GET_IRQ_INFO, &irq, sizeof(irq)) == -EINVAL, "IRQ index");
	CHECK(do_ioctl(d, 0x3b99, buf, sizeof(buf)) == -ENOTTY, "unknown request");
	/* REGION_INFO: caps per region */
	CHECK(region_info(d, 2, &ri) == 0 && ri.nr_caps == 2 &&
	      ri.cap_ids[0] == VFIO_REGION_INFO_CAP_SPARSE_MMAP &&
	      ri.cap_ids[1] == VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, "BAR2 caps");
	CHECK(region_info(d, 5, &ri) == 0 && ri.nr_caps == 1 && ri.cap_ids[0] == VFIO_REGION_INFO_CAP_TYPE,
	      "BAR5 caps");
	CHECK(region_info(d, 0, &ri) == 0 && ri.nr_caps == 0 && !(ri.info.flags & VFIO_REGION_INFO_FLAG_CAPS),
	      "BAR0 caps");
	CHECK(region_info(d, NR_FIXED, &ri) == -EINVAL, "index past end");
	/* features */
	CHECK(feature(d, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_SUBREGION,
		      NULL, 0, 8, NULL) == 0, "probe");
	CHECK(feature(d, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SUBREGION,
		      NULL, 0, 8, NULL) == -EINVAL, "probe get");
	CHECK(feature(d, VFIO_DEVICE_FEATURE_GET | 99, NULL, 0, 8, NULL) == -ENOTTY, "unknown feature");
	CHECK(create(d, 0, 0x10000, 0x10000, VFIO_REGION_ATTR_WC, &idx) == 0 && idx == NR_FIXED, "create");
	CHECK(region_info(d, idx, &ri) == 0 && ri.nr_caps == 2 && ri.attrs == VFIO_REGION_ATTR_WC &&
	      ri.parent == 0 && ri.parent_offset == 0x10000, "subregion info");
	CHECK(create(d, 1, 0, PS, VFIO_REGION_ATTR_WC, NULL) == -EOPNOTSUPP, "unsupported attr");
	CHECK(create(d, idx, 0, PS, 0, NULL) == -EINVAL, "nested");
	memset(&ra, 0, sizeof(ra));
	ra.index = 0;
	CHECK(feature(d, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_REGION_ATTRS, &ra, sizeof(ra),
		      8 + sizeof(ra), &ra) == 0 && ra.supported == VFIO_REGION_ATTR_WC, "attrs get");
	/* mmap: the parent's UC pages and the WC window side by side, one type per page */
	CHECK(sim_mmap(d, SIM_INDEX_TO_OFFSET(0), 0x20000, PROT_READ | PROT_WRITE, &p) == 0, "mmap bar");
	CHECK(sim_mmap(d, SIM_INDEX_TO_OFFSET(idx), PS, PROT_READ | PROT_WRITE, &p2) == -EBUSY &&
	      !strcmp(sim_last_rule(d), "one-memtype-per-page"), "WC window over UC pages");
	CHECK(sim_munmap(d, p) == 0 && sim_munmap(d, p) == -EINVAL, "munmap");
	CHECK(sim_mmap(d, SIM_INDEX_TO_OFFSET(0), 0x10000, PROT_READ | PROT_WRITE, &p) == 0 &&
	      !sim_last_rule(d), "mmap bar below the window");
	CHECK(sim_mmap(d, SIM_INDEX_TO_OFFSET(idx), PS, PROT_READ | PROT_WRITE, &p2) == 0, "mmap sub");
	CHECK(sim_mmap(d, SIM_INDEX_TO_OFFSET(0) + 0x10000, PS, PROT_READ, &p3) == -EBUSY,
	      "UC over the mapped window");
	((volatile uint8_t *)p2)[3] = 0x42;
	CHECK(sim_rw(d, buf, 1, SIM_INDEX_TO_OFFSET(0) + 0x10000 + 3, 0) == 1 && buf[0] == 0x42,
	      "the parent sees the window");
	CHECK(sim_mapping_at(d, 0)->attrs == 0 && sim_mapping_at(d, 1)->attrs == VFIO_REGION_ATTR_WC, "attrs");
	ra.attrs = VFIO_REGION_ATTR_WC;
	ra.supported = 0;
	CHECK(feature(d, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_REGION_ATTRS, &ra, sizeof(ra),
		      8 + sizeof(ra), NULL) == -EBUSY && !strcmp(sim_last_rule(d), "not-mapped"), "attrs set busy");
	CHECK(sim_munmap(d, p) == 0, "munmap");
	/* a mapping of a subregion counts too (not-mapped) */
	CHECK(feature(d, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_REGION_ATTRS, &ra, sizeof(ra),
		      8 + sizeof(ra), NULL) == -EBUSY, "attrs set busy while the window is mapped");
	CHECK(sim_munmap(d, p2) == 0, "munmap window");
	CHECK(feature(d, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_REGION_ATTRS, &ra, sizeof(ra),
		      8 + sizeof(ra), NULL) == 0 && !sim_last_rule(d), "attrs set");
	CHECK(sim_mmap(d, SIM_INDEX_TO_OFFSET(idx), PS, PROT_READ | PROT_WRITE, &p2) == 0, "mmap sub again");
	/* a window of the sparse BAR2 reports the parent's areas within it; one in the hole, none */
	CHECK(create(d, 2, 0x2000, 0x8000, 0, &idx) == 0 && region_info(d, idx, &ri) == 0 && ri.has_sparse &&
	      ri.nr_areas == 2 && ri.areas[0].offset == 0 && ri.areas[0].size == 0x2000 &&
	      ri.areas[1].offset == 0x6000 && ri.areas[1].size == 0x2000, "window sparse areas");
	CHECK(sim_mmap(d, SIM_INDEX_TO_OFFSET(idx) + 0x2000, PS, PROT_READ, &p3) == -EINVAL,
	      "window mmap over the hole");
	CHECK(create(d, 2, 0x4000, 0x4000, 0, &idx) == 0 && region_info(d, idx, &ri) == 0 && ri.has_sparse &&
	      ri.nr_areas == 0 && (ri.info.flags & VFIO_REGION_INFO_FLAG_MMAP), "window in the hole");
	CHECK(sim_mmap(d, SIM_INDEX_TO_OFFSET(idx), PS, PROT_READ, &p3) == -EINVAL, "mmap in the hole");
	CHECK(sim_mmap(d, SIM_INDEX_TO_OFFSET(6), PS, PROT_READ, &p) == -EINVAL, "mmap ROM");
	CHECK(sim_mmap(d, SIM_INDEX_TO_OFFSET(1) + 0x10000, PS, PROT_READ, &p) == -EINVAL, "mmap past end");
	CHECK(sim_mmap(d, SIM_INDEX_TO_OFFSET(2) + 0x4000, PS, PROT_READ, &p) == -EINVAL, "mmap sparse hole");
	CHECK(sim_mmap(d, SIM_INDEX_TO_OFFSET(5), PS, PROT_WRITE, &p) == -EINVAL, "mmap ro write");
	CHECK(sim_rw(d, buf, 64, SIM_INDEX_TO_OFFSET(7) + 250, 0) == 6, "clipped read");
	CHECK(sim_rw(d, buf, 1, SIM_INDEX_TO_OFFSET(6), 1) == -EINVAL, "ROM write");
	forget_answers(d);
	check_invariants(d);
	backing_answers(d);

	/* config refusals and a missing directory */
	load_standard(r, &cfg);
	r[4].mmap = 1;
	CHECK(sim_create(&cfg, &d) == -EINVAL && !d, "mmap io");
	load_standard(r, &cfg);
	cfg.shm_dir = "/nonexistent-vfio-sim-dir";
	CHECK(sim_create(&cfg, &d) == -ENOENT && !d, "missing dir");
}

static const uint32_t feature_flags[] = {
	VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_SUBREGION,
	VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_REGION_ATTRS,
	VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_REGION_ATTRS,
	VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_SUBREGION,
	VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_REGION_ATTRS,
	VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SUBREGION,
	VFIO_DEVICE_FEATURE_SET | 14,
};

static uint64_t rand_size(void)
{
	switch (below(4)) {
	case 0: return below(8) * PS;
	case 1: return next();
	case 2: return below(0x30000);
	default: return (uint64_t)0 - below(3) * PS;
	}
}

static void random_step(struct sim_device *d, void **maps, size_t *nr_maps)
{
	uint32_t n = num_regions(d), idx;
	uint8_t *b;
	size_t len;
	int rc;

	switch (below(7)) {
	case 0: {	/* GET_INFO / REGION_INFO / IRQ_INFO with random argsz and length */
		static const unsigned long reqs[] = { VFIO_DEVICE_GET_INFO, VFIO_DEVICE_GET_REGION_INFO,
						      VFIO_DEVICE_GET_IRQ_INFO };
		len = (size_t)below(200);
		b = malloc(len ? len : 1);
		CHECK(b, "malloc");
		for (size_t i = 0; i < len; i++)
			b[i] = (uint8_t)next();
		if (len >= 4)
			*(uint32_t *)b = (uint32_t)(below(2) ? below(220) : next());
		if (len >= 12)
			((uint32_t *)b)[2] = (uint32_t)(below(4) ? below(n + 2) : next());
		rc = sim_ioctl(d, reqs[below(3)], len ? b : NULL, len);
		CHECK(rc == 0 || (rc < 0 && allowed_errno(rc)), "info rc %d", rc);
		free(b);
		break;
	}
	case 1: {	/* a subregion create, mostly well-formed */
		uint32_t old = n, parent = (uint32_t)(below(4) ? below(NR_FIXED) : below(n + 2));
		uint64_t off = below(4) ? below(0x40) * PS : rand_size(), size = below(4) ? (1 + below(0x20)) * PS : rand_size();

		rc = create(d, parent, off, size, (uint32_t)(below(4) ? below(2) : next()), &idx);
		if (rc == 0) {
			nr_created++;
			CHECK(idx == old, "new index %u, old num_regions %u", idx, old);
			CHECK(num_regions(d) == old + 1, "num_regions grew by one");
		} else {
			CHECK(num_regions(d) == old, "failed create changed num_regions");
		}
		break;
	}
	case 2: {	/* a random feature request with random payload and argsz */
		uint8_t payload[40];
		size_t plen = (size_t)below(sizeof(payload) + 1);
		uint32_t flags = below(3) ? feature_flags[below(sizeof(feature_flags) / sizeof(feature_flags[0]))]
					  : (uint32_t)next();

		for (size_t i = 0; i < plen; i++)
			payload[i] = (uint8_t)next();
		if (plen >= 8 && below(2)) {
			((uint32_t *)payload)[0] = 0;
			((uint32_t *)payload)[1] = (uint32_t)below(n + 1);
		}
		if (feature(d, flags, payload, plen, (uint32_t)(below(3) ? 8 + plen : below(64)), NULL) == 0)
			nr_feature_ok++;
		CHECK(num_regions(d) <= NR_FIXED + standard_config.max_subregions, "bounded");
		break;
	}
	case 3: {	/* mmap */
		uint64_t off = SIM_INDEX_TO_OFFSET(below(n + 1)) + (below(3) ? below(0x20) * PS : next() & 0xfffff);
		size_t mlen = (size_t)(below(4) ? (1 + below(8)) * PS : below(0x40000));
		int prot = (int)below(4);
		void *p;

		if (*nr_maps >= 32)
			break;
		if (n > NR_FIXED && !below(3)) {
			/* a window, or its parent's pages under it: where memory types meet */
			uint32_t w = NR_FIXED + (uint32_t)below(n - NR_FIXED);
			struct rinfo ri;

			CHECK(region_info(d, w, &ri) == 0 && ri.is_sub, "window info");
			off = below(2) ? SIM_INDEX_TO_OFFSET(w) : SIM_INDEX_TO_OFFSET(ri.parent) + ri.parent_offset;
			mlen = (size_t)PS;
			prot = PROT_READ;
		}
		rc = sim_mmap(d, off, mlen, prot, &p);
		CHECK(rc == 0 || rc == -EINVAL || (rc == -EBUSY && !strcmp(sim_last_rule(d), "one-memtype-per-page")),
		      "mmap rc %d", rc);
		if (rc == -EBUSY)
			nr_busy++;
		if (rc == 0) {
			CHECK(p, "address");
			nr_mapped++;
			if (prot & PROT_WRITE)
				((volatile uint8_t *)p)[0] = (uint8_t)next();
			maps[(*nr_maps)++] = p;
		}
		break;
	}
	case 4:		/* munmap, or revoke the addon's way: anonymous pages in place, then sim_forget */
		if (*nr_maps) {
			size_t k = (size_t)below(*nr_maps), before = sim_nr_mappings(d), len = 0, j;

			if (below(2)) {
				CHECK(sim_munmap(d, maps[k]) == 0, "munmap");
			} else {
				for (j = 0; j < before; j++)
					if (sim_mapping_at(d, j)->addr == maps[k])
						len = (sim_mapping_at(d, j)->length + PS - 1) / PS * PS;
				CHECK(len, "the mapping is recorded");
				CHECK(mmap(maps[k], len, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS,
					   -1, 0) == maps[k], "replace the pages");
				CHECK(sim_forget(d, maps[k]) == 0 && sim_forget(d, maps[k]) == -EINVAL, "forget");
				CHECK(sim_munmap(d, maps[k]) == -EINVAL, "a forgotten mapping is not the simulator's to unmap");
				((volatile uint8_t *)maps[k])[len - 1] = 1;	/* still the caller's */
				CHECK(munmap(maps[k], len) == 0, "the caller unmaps its range");
				nr_forgotten++;
			}
			CHECK(sim_nr_mappings(d) == before - 1, "one record fewer");
			maps[k] = maps[--*nr_maps];
		}
		break;
	case 5: {	/* read / write */
		uint64_t off = SIM_INDEX_TO_OFFSET(below(n + 1)) + (below(3) ? below(0x20000) : next() & 0xffffffffffULL);
		ssize_t r;

		len = (size_t)below(0x3000);
		b = malloc(len ? len : 1);
		CHECK(b, "malloc");
		memset(b, 0xab, len);
		r = sim_rw(d, b, len, off, (int)below(2));
		CHECK(r >= 0 ? (size_t)r <= len : r == -EINVAL, "rw %zd", r);
		if (r > 0)
			nr_rw++;
		free(b);
		break;
	}
	default:	/* random requests */
		b = malloc(64);
		CHECK(b, "malloc");
		for (int i = 0; i < 64; i++)
			b[i] = (uint8_t)next();
		rc = sim_ioctl(d, (unsigned long)(below(2) ? 0x3b00 + below(0x100) : next()), b, 64);
		CHECK(rc == 0 || (rc < 0 && allowed_errno(rc)), "rc %d", rc);
		free(b);
		break;
	}
}

/* The guest memory the DMA answers map: the only memory dma_pin vouches for. */
static uint8_t *guest;
static size_t guest_len;

static int dma_pin(void *ctx, uint64_t vaddr, uint64_t size, int write)
{
	(void)ctx;
	(void)write;
	return vaddr >= (uintptr_t)guest && size <= guest_len && vaddr - (uintptr_t)guest <= guest_len - size ? 0 : -EFAULT;
}

static int dma_map(struct sim_iommu *io, uint32_t flags, uint64_t vaddr, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_map m = { .argsz = sizeof(m), .flags = flags, .vaddr = vaddr, .iova = iova, .size = size };
	void *copy = malloc(sizeof(m));
	int rc;

	CHECK(copy, "malloc");
	memcpy(copy, &m, sizeof(m));
	rc = sim_iommu_ioctl(io, VFIO_IOMMU_MAP_DMA, copy, sizeof(m));
	free(copy);
	return rc;
}

static int dma_unmap(struct sim_iommu *io, uint32_t flags, uint64_t iova, uint64_t size, uint64_t *unmapped)
{
	struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof(u), .flags = flags, .iova = iova, .size = size };
	void *copy = malloc(sizeof(u));
	int rc;

	CHECK(copy, "malloc");
	memcpy(copy, &u, sizeof(u));
	rc = sim_iommu_ioctl(io, VFIO_IOMMU_UNMAP_DMA, copy, sizeof(u));
	memcpy(&u, copy, sizeof(u));
	free(copy);
	*unmapped = u.size;
	return rc;
}

/* A SET_IRQS of count eventfds (or DATA_NONE / DATA_BOOL with data) through an exact-size copy. */
static int set_irqs(struct sim_device *d, uint32_t flags, uint32_t index, uint32_t start, uint32_t count, const void *data, size_t data_len)
{
	size_t len = sizeof(struct vfio_irq_set) + data_len;
	struct vfio_irq_set *s = malloc(len);
	int rc;

	CHECK(s, "malloc");
	*s = (struct vfio_irq_set){ .argsz = (uint32_t)len, .flags = flags, .index = index, .start = start, .count = count };
	if (data_len)
		memcpy(s->data, data, data_len);
	rc = sim_ioctl(d, VFIO_DEVICE_SET_IRQS, s, len);
	free(s);
	return rc;
}

static uint64_t efd_read(int fd)
{
	uint64_t n = 0;

	return read(fd, &n, sizeof(n)) == sizeof(n) ? n : 0;
}

/* The IOMMU (type1's errnos), device DMA through it, interrupts, reset: known answers. */
static void dma_irq_answers(void)
{
	struct sim_iova_range ranges[] = { { 0, 0xfedfffff }, { 0xfef00000, 0xffffffffff } };
	struct sim_iommu_config icfg = { .nr_ranges = 2, .ranges = ranges, .dma_limit = 3 };
	struct sim_region_config r[NR_FIXED];
	struct sim_dma_stats st;
	struct sim_config cfg;
	struct sim_device *d;
	struct sim_iommu *io;
	uint64_t n, g = 0;
	uint8_t buf[3 * 4096];
	int32_t fds[5] = { 0 };
	int efd[2];

	guest_len = 4 * PS;
	guest = aligned_alloc(PS, guest_len);
	CHECK(guest, "aligned_alloc");
	g = (uintptr_t)guest;
	load_standard(r, &cfg);
	cfg.iommu = &icfg;
	cfg.pin = dma_pin;
	CHECK(sim_create(&cfg, &d) == 0, "create");
	io = sim_iommu_of(d);
	CHECK(io && sim_iommu_pgsize(io) == PS, "container");
	CHECK(sim_iommu_ioctl(io, VFIO_CHECK_EXTENSION, (void *)(uintptr_t)VFIO_TYPE1v2_IOMMU, 0) == 1, "extension");
	/* type1's refusals */
	CHECK(dma_map(io, 0, g, 0x10000, PS) == -EINVAL, "no READ/WRITE");
	CHECK(dma_map(io, 3, g + 1, 0x10000, PS) == -EINVAL, "unaligned vaddr");
	CHECK(dma_map(io, 3, g, 0x10800, PS) == -EINVAL, "unaligned iova");
	CHECK(dma_map(io, 3, g, 0x10000, 0) == -EINVAL, "size 0");
	CHECK(dma_map(io, 3, g, UINT64_MAX - PS + 1, 2 * PS) == -EINVAL, "wrap");
	CHECK(dma_map(io, 3, g, 0xfee00000, PS) == -EINVAL, "MSI window");
	CHECK(dma_map(io, 3, g - 16 * PS, 0x10000, PS) == -EFAULT, "unpinnable");
	CHECK(dma_map(io, 3, g, 0x10000, 2 * PS) == 0, "map");
	CHECK(dma_map(io, 3, g + 2 * PS, 0x10000 + PS, PS) == -EEXIST, "overlap");
	CHECK(dma_map(io, 1, g + 2 * PS, 0x10000 + 2 * PS, PS) == 0, "adjacent, device-read-only");
	CHECK(dma_map(io, 3, g + 3 * PS, 0x40000, PS) == 0, "third");
	CHECK(dma_map(io, 3, g + 3 * PS, 0x50000, PS) == -ENOSPC, "dma limit");
	/* DMA across two mappings; a fault moves nothing */
	memset(guest, 0, guest_len);
	memset(buf, 0xab, sizeof(buf));
	CHECK(sim_dma(d, 0x10000 + PS - 8, buf, 16, 1) == 0 && guest[PS - 8] == 0xab && guest[PS + 7] == 0xab, "write");
	CHECK(sim_dma(d, 0x10000 + 2 * PS - 8, buf, 16, 1) == -EFAULT && guest[2 * PS - 8] == 0, "write to read-only: nothing moved");
	CHECK(sim_dma(d, 0x10000 + 2 * PS - 8, buf, 16, 0) == 0, "read across");
	CHECK(sim_dma(d, 0x10000 + 3 * PS - 8, buf, 16, 0) == -EFAULT, "read past the end");
	CHECK(sim_dma(d, UINT64_MAX - 3, buf, 8, 0) == -EFAULT, "iova wrap");
	sim_dma_stats(d, &st);
	CHECK(st.writes == 1 && st.reads == 1 && st.faults == 3 && st.last_fault_iova == UINT64_MAX - 3, "stats");
	/* unmap: no split (EINVAL), nothing mapped is size 0, a range unmaps what is inside it */
	CHECK(dma_unmap(io, 0, 0x10000 + PS, PS, &n) == -EINVAL, "split");
	CHECK(dma_unmap(io, 0, 0x80000, PS, &n) == 0 && n == 0, "nothing there");
	CHECK(dma_unmap(io, 0, 0x10000, 3 * PS, &n) == 0 && n == 3 * PS && sim_iommu_nr_mappings(io) == 1, "unmap two");
	CHECK(sim_dma(d, 0x10000, buf, 1, 0) == -EFAULT, "unmapped now");
	CHECK(dma_unmap(io, VFIO_DMA_UNMAP_FLAG_ALL, 1, 0, &n) == -EINVAL, "ALL with an iova");
	CHECK(dma_unmap(io, VFIO_DMA_UNMAP_FLAG_ALL, 0, 0, &n) == 0 && n == PS && sim_iommu_nr_mappings(io) == 0, "ALL");
	/* interrupts: counts per index, eventfds, one index at a time */
	efd[0] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	efd[1] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	CHECK(efd[0] >= 0 && efd[1] >= 0, "eventfd");
	fds[0] = efd[0], fds[1] = -1, fds[2] = efd[1], fds[3] = -1;
	CHECK(set_irqs(d, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_PCI_MSIX_IRQ_INDEX, 0, 5, fds, 20) == -EINVAL, "past the vectors");
	CHECK(set_irqs(d, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_PCI_MSIX_IRQ_INDEX, 0, 4, fds, 8) == -EINVAL, "data short of count");
	fds[1] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK(set_irqs(d, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_PCI_MSIX_IRQ_INDEX, 0, 4, fds, 16) == -EINVAL && sim_irq_nr_eventfds(d) == 0, "not an eventfd: nothing kept");
	close(fds[1]);
	fds[1] = 1000;
	CHECK(set_irqs(d, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_PCI_MSIX_IRQ_INDEX, 0, 4, fds, 16) == -EBADF, "closed fd");
	fds[1] = -1;
	CHECK(set_irqs(d, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_PCI_MSIX_IRQ_INDEX, 0, 4, fds, 16) == 0 && sim_irq_nr_eventfds(d) == 2, "MSI-X");
	CHECK(set_irqs(d, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, fds, 4) == -EINVAL, "MSI while MSI-X");
	CHECK(set_irqs(d, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, NULL, 0) == -ENOTTY, "MSI-X mask");
	CHECK(sim_irq_signal(d, VFIO_PCI_MSIX_IRQ_INDEX, 2) == 0 && sim_irq_signal(d, VFIO_PCI_MSIX_IRQ_INDEX, 2) == 0 && efd_read(efd[1]) == 2, "signal 2");
	CHECK(sim_irq_signal(d, VFIO_PCI_MSIX_IRQ_INDEX, 1) == -ENOENT && sim_irq_signal(d, VFIO_PCI_MSIX_IRQ_INDEX, 4) == -EINVAL, "no eventfd, no vector");
	CHECK(set_irqs(d, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, NULL, 0) == 0 && efd_read(efd[0]) == 1, "loopback");
	CHECK(sim_ioctl(d, VFIO_DEVICE_RESET, NULL, 0) == 0 && sim_irq_signal(d, VFIO_PCI_MSIX_IRQ_INDEX, 0) == 0, "reset keeps the eventfds");
	CHECK(set_irqs(d, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_PCI_MSIX_IRQ_INDEX, 0, 0, NULL, 0) == 0 && sim_irq_nr_eventfds(d) == 0, "disable");
	fds[0] = efd[0];
	CHECK(set_irqs(d, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, fds, 4) == 0, "INTx");
	efd_read(efd[0]);
	CHECK(sim_irq_signal(d, VFIO_PCI_INTX_IRQ_INDEX, 0) == 0 && sim_irq_signal(d, VFIO_PCI_INTX_IRQ_INDEX, 0) == -EAGAIN && efd_read(efd[0]) == 1, "INTx automasks");
	CHECK(set_irqs(d, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0) == 0 && efd_read(efd[0]) == 1, "unmask delivers the pending one");
	sim_dma_stats(d, &st);
	CHECK(st.resets == 1 && st.lost_interrupts == 1, "irq stats");
	/* hot reset info: ENOSPC with the count, then the device itself */
	{
		struct { struct vfio_pci_hot_reset_info h; struct vfio_pci_dependent_device dev; } hr = { .h = { .argsz = sizeof(hr.h) } };

		CHECK(sim_ioctl(d, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &hr, sizeof(hr.h)) == -ENOSPC && hr.h.count == 1, "hot reset ENOSPC");
		hr.h.argsz = sizeof(hr);
		CHECK(sim_ioctl(d, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &hr, sizeof(hr)) == 0 && hr.dev.group_id == SIM_IOMMU_GROUP && hr.dev.bus == 1, "hot reset info");
	}
	sim_destroy(d);	/* closes the INTx eventfd it holds */
	close(efd[0]);
	close(efd[1]);
	free(guest);
	cfg.no_reset = 1;
	cfg.iommu = NULL;
	CHECK(sim_create(&cfg, &d) == 0 && sim_ioctl(d, VFIO_DEVICE_RESET, NULL, 0) == -EINVAL, "no reset");
	CHECK(dma_map(sim_iommu_of(d), 3, 4096, 0x10000, 4096) == -EFAULT, "no pin callback: nothing maps");
	sim_destroy(d);
}

int main(int argc, char **argv)
{
	struct sim_region_config r[NR_FIXED];
	struct sim_config cfg;
	long iterations = argc > 2 ? atol(argv[2]) : 4000;
	void *maps[32];

	shm_arg = argc > 1 && argv[1][0] ? argv[1] : NULL;
	PS = sim_page_size();
	shm_dir = NULL;
	known_answers();
	dma_irq_answers();
	if (shm_arg) {
		shm_dir = shm_arg;
		known_answers();
	}
	for (long round = 0; round * 1000 < iterations; round++) {
		struct sim_device *d;
		size_t nr_maps = 0;

		/* memfds and shm_dir files, round by round */
		shm_dir = round % 2 ? shm_arg : NULL;
		load_standard(r, &cfg);
		CHECK(sim_create(&cfg, &d) == 0, "create");
		for (long i = round * 1000; i < iterations && i < (round + 1) * 1000; i++) {
			random_step(d, maps, &nr_maps);
			if (i % 16 == 0)
				check_invariants(d);
		}
		check_invariants(d);
		sim_destroy(d);	/* with whatever is still mapped */
	}
	CHECK(dir_entries(shm_arg) == 0, "nothing left in %s", shm_arg);
	printf("ok %ld iterations: %lu subregions, %lu mappings, %lu refused for their memory type, %lu reads/writes, %lu other features, %lu forgotten\n",
	       iterations, nr_created, nr_mapped, nr_busy, nr_rw, nr_feature_ok, nr_forgotten);
	return 0;
}
