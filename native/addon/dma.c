// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * DMA: a device's IOMMU as a handle of its own (iommuHandle: the type1 container of a group, the
 * iommufd and IOAS of a cdev, or the simulated IOMMU, which is either), mappings of process memory
 * into it (dmaMap/dmaUnmap, through one table of the two kinds: type1 and IOAS), DMA buffers
 * (dmaAlloc), and the simulated device's side (simDma, simInterrupt, simDmaStats).
 *
 * JavaScript never gives an address. dmaMap takes a WebAssembly.Memory (brand-checked, as windows
 * are) or an ArrayBuffer dmaAlloc made, and a byte offset in it; the addon writes the address into
 * map struct the runtime encoded (vfio_iommu_type1_dma_map, or iommu_ioas_map with the handle's
 * IOAS). Each mapping keeps its memory alive (a strong
 * reference to the Memory, a reference count on the DMA buffer) until it is unmapped through
 * dmaUnmap or the container is closed or collected, which unmaps every mapping it made first: a
 * device (the simulator dereferences the address itself) never reaches memory that was freed.
 *
 * Growing a Memory detaches its ArrayBuffer but never moves it: on 64-bit hosts V8 reserves a wasm
 * memory's whole address range up front (test/runtime/dma.test.ts checks the address after a
 * grow). 32-bit hosts get EOPNOTSUPP.
 */
#include "addon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>
#include <linux/vfio_subregion.h>
#include "vfio_subregion_validate.h"
#include "sim.h"

/* Memory dmaAlloc made: page-aligned anonymous pages, freed once no buffer or mapping holds them. */
struct dmabuf {
	struct dmabuf *next, **pprev;	/* in the addon's list; pprev NULL once the environment is gone */
	uint8_t *addr;
	size_t len;			/* as asked */
	size_t span;			/* mmapped: len rounded up to pages */
	unsigned int refs;		/* the ArrayBuffer, each mapping */
};

/* One mapping dmaMap made through a container, and what it keeps alive. */
struct dma_pin {
	struct dma_pin *next;
	uint64_t iova, size;
	napi_env env;
	napi_ref memory;		/* strong: the WebAssembly.Memory, or NULL */
	struct dmabuf *buf;		/* or the DMA buffer */
};

static atomic_size_t nr_pins, nr_dmabufs;

size_t live_pins(void)
{
	return atomic_load(&nr_pins);
}

size_t live_dmabufs(void)
{
	return atomic_load(&nr_dmabufs);
}

/* ---------------------------------------------------------------- DMA buffers */

static void dmabuf_put(struct dmabuf *b)
{
	if (--b->refs)
		return;
	if (b->pprev) {
		*b->pprev = b->next;
		if (b->next)
			b->next->pprev = b->pprev;
	}
	munmap(b->addr, b->span);
	atomic_fetch_sub(&nr_dmabufs, 1);
	free(b);
}

static void dmabuf_finalize(napi_env env, void *data, void *hint)
{
	(void)env;
	(void)data;
	dmabuf_put(hint);
}

/* The environment goes: its buffers stay valid for whatever still holds them, off its list. */
void dmabuf_teardown(struct addon *a)
{
	while (a->dmabufs) {
		struct dmabuf *b = a->dmabufs;

		a->dmabufs = b->next;
		b->pprev = NULL;
	}
}

/* dmaAlloc(length): an ArrayBuffer over `length` bytes of zeroed, page-aligned memory, for dmaMap. */
napi_value js_dma_alloc(napi_env env, napi_callback_info info)
{
	napi_value argv[1], ab;
	struct addon *a;
	struct dmabuf *b;
	double len;
	size_t ps = (size_t)sim_page_size();

	if (get_args(env, info, 1, argv, &a) || get_integer(env, argv[0], "length", 1, 1u << 30, &len))
		return NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return throw_errno(env, ENOMEM, "malloc", NULL, "dmaAlloc");
	b->len = (size_t)len;
	b->span = (b->len + ps - 1) & ~(ps - 1);
	b->addr = mmap(NULL, b->span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b->addr == MAP_FAILED) {
		int err = errno;

		free(b);
		return throw_errno(env, err, "mmap", NULL, "dmaAlloc(%zu)", (size_t)len);
	}
	b->refs = 1;
	atomic_fetch_add(&nr_dmabufs, 1);
	b->next = a->dmabufs;
	if (b->next)
		b->next->pprev = &b->next;
	b->pprev = &a->dmabufs;
	a->dmabufs = b;
	if (napi_create_external_arraybuffer(env, b->addr, b->len, dmabuf_finalize, b, &ab) != napi_ok) {
		dmabuf_put(b);
		return napi_fail(env);
	}
	return ab;
}

/* ---------------------------------------------------------------- containers */

/* The address dmaMap is mapping right now: the only memory the simulated IOMMU may map (dma_sim_pin). */
static __thread struct {
	uint64_t vaddr, size;
	bool armed;
} pending;

int dma_sim_pin(void *ctx, uint64_t vaddr, uint64_t size, int write)
{
	(void)ctx;
	(void)write;
	if (!pending.armed || vaddr < pending.vaddr || size > pending.size || vaddr - pending.vaddr > pending.size - size)
		return -EFAULT;
	return 0;
}

static int iommu_ioctl(struct vdev *d, unsigned long request, void *arg, size_t len)
{
	return sim_iommu_ioctl(d->iommu, request, arg, len);
}

static ssize_t iommu_rw(struct vdev *d, void *buf, size_t len, uint64_t offset, bool write)
{
	(void)d, (void)buf, (void)len, (void)offset, (void)write;
	return -EINVAL;
}

static int iommu_map(struct vdev *d, uint64_t offset, size_t len, int prot, void *at, void **out)
{
	(void)d, (void)offset, (void)len, (void)prot, (void)at, (void)out;
	return -ENODEV;
}

static void iommu_unmapped(struct vdev *d, void *addr)
{
	(void)d, (void)addr;
}

static const char *iommu_last_rule(const struct vdev *d)
{
	(void)d;
	return NULL;
}

static void iommu_release(struct vdev *d)
{
	sim_iommu_put(d->iommu);
}

const struct vdev_ops sim_iommu_ops = {
	.name = "sim-iommu",
	.ioctl = iommu_ioctl,
	.rw = iommu_rw,
	.map = iommu_map,
	.unmapped = iommu_unmapped,
	.last_rule = iommu_last_rule,
	.release = iommu_release,
};

/*
 * What dmaMap and dmaUnmap do on each kind of IOMMU handle: the runtime encodes the kind's map and
 * unmap structs, and the addon fills in what JavaScript never gives (the address, the IOAS) and
 * reads the range the mapping covers, so one code path serves both.
 */
struct dma_kind {
	uint32_t fd_kind;
	unsigned long map_req, unmap_req;
	size_t map_size, unmap_size;
	const char *map_struct, *unmap_struct;
	/* fills in the address (and IOAS) of an encoded map; gives its range */
	void (*map_fill)(const struct vdev *c, void *arg, uint64_t vaddr, uint64_t *iova, uint64_t *size);
	/* fills in the IOAS of an encoded unmap; gives its range [*iova, *last] */
	void (*unmap_fill)(const struct vdev *c, void *arg, uint64_t *iova, uint64_t *last);
	/* an unmap of exactly [iova, +size) */
	void (*unmap_encode)(const struct vdev *c, void *arg, uint64_t iova, uint64_t size);
};

static void type1_map_fill(const struct vdev *c, void *arg, uint64_t vaddr, uint64_t *iova, uint64_t *size)
{
	struct vfio_iommu_type1_dma_map *m = arg;

	(void)c;
	m->argsz = sizeof(*m);
	m->vaddr = vaddr;
	*iova = m->iova;
	*size = m->size;
}

static void type1_unmap_fill(const struct vdev *c, void *arg, uint64_t *iova, uint64_t *last)
{
	struct vfio_iommu_type1_dma_unmap *u = arg;

	(void)c;
	/* no dirty bitmap: the kernel would write it where a user pointer after the struct says */
	u->argsz = sizeof(*u);
	*iova = u->iova;
	*last = u->flags & VFIO_DMA_UNMAP_FLAG_ALL ? UINT64_MAX : u->iova + u->size - 1;
}

static void type1_unmap_encode(const struct vdev *c, void *arg, uint64_t iova, uint64_t size)
{
	(void)c;
	*(struct vfio_iommu_type1_dma_unmap *)arg = (struct vfio_iommu_type1_dma_unmap){ .argsz = sizeof(struct vfio_iommu_type1_dma_unmap), .iova = iova, .size = size };
}

static void ioas_map_fill(const struct vdev *c, void *arg, uint64_t vaddr, uint64_t *iova, uint64_t *size)
{
	struct iommu_ioas_map *m = arg;

	m->size = sizeof(*m);
	m->ioas_id = c->ioas;
	m->user_va = vaddr;
	/* the IOVA is the caller's: a kernel-chosen one would be known only after the pin is recorded */
	m->flags |= IOMMU_IOAS_MAP_FIXED_IOVA;
	*iova = m->iova;
	*size = m->length;
}

static void ioas_unmap_fill(const struct vdev *c, void *arg, uint64_t *iova, uint64_t *last)
{
	struct iommu_ioas_unmap *u = arg;

	u->size = sizeof(*u);
	u->ioas_id = c->ioas;
	*iova = u->iova;
	*last = u->iova == 0 && u->length == UINT64_MAX ? UINT64_MAX : u->iova + u->length - 1;
}

static void ioas_unmap_encode(const struct vdev *c, void *arg, uint64_t iova, uint64_t size)
{
	*(struct iommu_ioas_unmap *)arg = (struct iommu_ioas_unmap){ .size = sizeof(struct iommu_ioas_unmap), .ioas_id = c->ioas, .iova = iova, .length = size };
}

static const struct dma_kind dma_kinds[] = {
	{ VFIO_SUBREGION_FD_TYPE1_CONTAINER, VFIO_IOMMU_MAP_DMA, VFIO_IOMMU_UNMAP_DMA,
	  sizeof(struct vfio_iommu_type1_dma_map), sizeof(struct vfio_iommu_type1_dma_unmap),
	  "struct vfio_iommu_type1_dma_map", "struct vfio_iommu_type1_dma_unmap",
	  type1_map_fill, type1_unmap_fill, type1_unmap_encode },
	{ VFIO_SUBREGION_FD_IOMMUFD, IOMMU_IOAS_MAP, IOMMU_IOAS_UNMAP,
	  sizeof(struct iommu_ioas_map), sizeof(struct iommu_ioas_unmap),
	  "struct iommu_ioas_map", "struct iommu_ioas_unmap",
	  ioas_map_fill, ioas_unmap_fill, ioas_unmap_encode },
};

/* Room for either kind's map or unmap struct. */
union dma_arg {
	struct vfio_iommu_type1_dma_map type1_map;
	struct vfio_iommu_type1_dma_unmap type1_unmap;
	struct iommu_ioas_map ioas_map;
	struct iommu_ioas_unmap ioas_unmap;
};

static const struct dma_kind *dma_kind_of(const struct vdev *c)
{
	for (size_t i = 0; i < sizeof(dma_kinds) / sizeof(dma_kinds[0]); i++)
		if (dma_kinds[i].fd_kind == c->fd_kind)
			return &dma_kinds[i];
	return NULL;
}

/*
 * iommuHandle(device): a handle on the device's IOMMU: kind type1_container for the group's
 * container (a duplicate of its fd), kind iommufd for a cdev's iommufd (a duplicate, carrying the
 * IOAS the device is attached to), or the simulated IOMMU the device is attached to (either kind).
 */
napi_value js_iommu_handle(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	struct addon *a;
	struct vdev *d, *c;
	uint32_t kind = VFIO_SUBREGION_FD_TYPE1_CONTAINER;

	if (get_args(env, info, 1, argv, &a) || get_vdev(env, argv[0], &d))
		return NULL;
	if (d->closed)
		return throw_errno(env, EBADF, "iommuHandle", NULL, "iommuHandle: the device is closed");
	if (d->fd_kind != VFIO_SUBREGION_FD_DEVICE)
		return TYPE_ERR(env, "device must be a device handle, not a %s handle", vfio_subregion_fd_kind_names[d->fd_kind]);
	if (d->ops == &sim_ops) {
		struct sim_iommu *io = sim_iommu_of(d->sim);

		if (!io)
			return throw_errno(env, ENODEV, "iommuHandle", NULL, "iommuHandle: the simulated device is attached to no container");
		c = vdev_new(env, a, &sim_iommu_ops);
		if (!c)
			return NULL;
		sim_iommu_get(io);
		c->iommu = io;
		if (sim_iommu_is_ioas(io)) {
			kind = VFIO_SUBREGION_FD_IOMMUFD;
			c->ioas = SIM_IOAS_ID;
		}
	} else {
		/* a group's container (extra[1]), else a cdev's iommufd (extra[0]) */
		int src = d->host.extra[1] >= 0 ? d->host.extra[1] : d->host.extra[0];
		int fd;

		if (src < 0 || (d->host.extra[1] < 0 && !d->ioas))
			return throw_errno(env, ENODEV, "iommuHandle", NULL, "iommuHandle: the device has no VFIO container or IOAS");
		fd = fcntl(src, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			return throw_errno(env, errno, "fcntl", NULL, "iommuHandle: duplicating the %s fd", d->host.extra[1] >= 0 ? "container" : "iommufd");
		c = vdev_new(env, a, &host_ops);
		if (!c) {
			close(fd);
			return NULL;
		}
		c->host.fd = fd;
		if (d->host.extra[1] < 0) {
			kind = VFIO_SUBREGION_FD_IOMMUFD;
			c->ioas = d->ioas;
		}
	}
	c->fd_kind = kind;
	return vdev_handle(env, c, 0);
}

static int get_container(napi_env env, napi_value v, struct vdev **out, const struct dma_kind **kind)
{
	if (get_vdev(env, v, out))
		return -1;
	/* by kind, not by request: a device takes 0x3b71 too (VFIO_DEVICE_PCI_HOT_RESET) */
	*kind = dma_kind_of(*out);
	if (!*kind) {
		TYPE_ERR(env, "container must be an IOMMU handle (iommuHandle), not a %s handle", vfio_subregion_fd_kind_names[(*out)->fd_kind]);
		return -1;
	}
	return 0;
}

static void pin_release(struct dma_pin *p)
{
	if (p->memory)
		napi_delete_reference(p->env, p->memory);
	if (p->buf)
		dmabuf_put(p->buf);
	atomic_fetch_sub(&nr_pins, 1);
	free(p);
}

/* Before an IOMMU handle closes: unmaps what dmaMap mapped through it, then lets its memory go. */
void dma_unpin_all(struct vdev *d)
{
	const struct dma_kind *k = dma_kind_of(d);

	while (d->pins) {
		struct dma_pin *p = d->pins;
		union dma_arg u;

		d->pins = p->next;
		k->unmap_encode(d, &u, p->iova, p->size);
		d->ops->ioctl(d, k->unmap_req, &u, k->unmap_size);
		pin_release(p);
	}
}

/* The DMA buffer dmaAlloc made that `v` is (exactly, not a part or a copy), or NULL. */
static struct dmabuf *find_dmabuf(napi_env env, struct addon *a, napi_value v)
{
	bool is_ab = false;
	void *data;
	size_t len;

	if (napi_is_arraybuffer(env, v, &is_ab) != napi_ok || !is_ab || napi_get_arraybuffer_info(env, v, &data, &len) != napi_ok)
		return NULL;
	for (struct dmabuf *b = a->dmabufs; b; b = b->next)
		if (b->addr == data && b->len == len)
			return b;
	return NULL;
}

/*
 * dmaMap(container, source, offset, arg): maps `source` (a WebAssembly.Memory, or an ArrayBuffer
 * from dmaAlloc) from byte `offset` through the container's kind: VFIO_IOMMU_MAP_DMA with arg the
 * encoded struct vfio_iommu_type1_dma_map (flags, iova, size), or IOMMU_IOAS_MAP with arg the
 * encoded struct iommu_ioas_map (flags, iova, length; always FIXED_IOVA). The address and the IOAS
 * are the addon's. 0, or -errno.
 */
napi_value js_dma_map(napi_env env, napi_callback_info info)
{
	const struct dma_kind *k;
	union dma_arg map;
	napi_value argv[4];
	struct dmabuf *buf = NULL;
	struct dma_pin *p;
	struct addon *a;
	struct vdev *c;
	uint8_t *base;
	uint64_t iova, size;
	size_t blen, alen;
	void *arg;
	double off;
	int ret;

	if (get_args(env, info, 4, argv, &a) || get_container(env, argv[0], &c, &k) ||
	    get_integer(env, argv[2], "offset", 0, MAX_SAFE_INTEGER, &off) || get_bytes(env, argv[3], "arg", &arg, &alen))
		return NULL;
	if (sizeof(void *) < 8)
		return make_int(env, -EOPNOTSUPP);
	if (alen < k->map_size)
		return RANGE_ERR(env, "arg (%zu bytes) is shorter than %s (%zu)", alen, k->map_struct, k->map_size);
	buf = find_dmabuf(env, a, argv[1]);
	if (buf) {
		base = buf->addr;
		blen = buf->len;
	} else {
		bool pending_exc = false;
		napi_value ignored;

		if (memory_bytes(env, a, argv[1], &base, &blen)) {
			napi_is_exception_pending(env, &pending_exc);
			if (pending_exc)
				napi_get_and_clear_last_exception(env, &ignored);
			return TYPE_ERR(env, "source must be a WebAssembly.Memory or an ArrayBuffer from dmaAlloc");
		}
	}
	memcpy(&map, arg, k->map_size);
	k->map_fill(c, &map, (uint64_t)(uintptr_t)base + (uint64_t)off, &iova, &size);
	if ((uint64_t)off > blen || size > blen - (uint64_t)off)
		return RANGE_ERR(env, "offset: 0x%llx bytes at 0x%llx run past the %zu-byte source",
				 (unsigned long long)size, (unsigned long long)off, blen);
	p = calloc(1, sizeof(*p));
	if (!p)
		return make_int(env, -ENOMEM);
	c->rule = NULL;
	if (c->closed) {
		free(p);
		return make_int(env, -EBADF);
	}
	pending.vaddr = (uint64_t)(uintptr_t)base + (uint64_t)off;
	pending.size = size;
	pending.armed = true;
	ret = (int)vdev_result(c, c->ops->ioctl(c, k->map_req, &map, k->map_size));
	pending.armed = false;
	if (ret < 0) {
		free(p);
		return make_int(env, ret);
	}
	p->iova = iova;
	p->size = size;
	p->env = env;
	if (buf) {
		buf->refs++;
		p->buf = buf;
	} else if (napi_create_reference(env, argv[1], 1, &p->memory) != napi_ok) {
		union dma_arg u;

		k->unmap_encode(c, &u, iova, size);
		c->ops->ioctl(c, k->unmap_req, &u, k->unmap_size);
		free(p);
		return napi_fail(env);
	}
	atomic_fetch_add(&nr_pins, 1);
	p->next = c->pins;
	c->pins = p;
	return make_int(env, ret);
}

/*
 * dmaUnmap(container, arg): VFIO_IOMMU_UNMAP_DMA with arg the encoded struct
 * vfio_iommu_type1_dma_unmap, or IOMMU_IOAS_UNMAP with arg the encoded struct iommu_ioas_unmap
 * (the IOAS is the addon's); what was unmapped is written back (size, length). The mappings dmaMap
 * made inside the range let their memory go. 0, or -errno.
 */
napi_value js_dma_unmap(napi_env env, napi_callback_info info)
{
	const struct dma_kind *k;
	union dma_arg u;
	struct dma_pin **pp;
	napi_value argv[2];
	uint64_t iova, last;
	struct vdev *c;
	size_t alen;
	void *arg;
	int ret;

	if (get_args(env, info, 2, argv, NULL) || get_container(env, argv[0], &c, &k) || get_bytes(env, argv[1], "arg", &arg, &alen))
		return NULL;
	if (alen < k->unmap_size)
		return RANGE_ERR(env, "arg (%zu bytes) is shorter than %s (%zu)", alen, k->unmap_struct, k->unmap_size);
	memcpy(&u, arg, k->unmap_size);
	k->unmap_fill(c, &u, &iova, &last);
	c->rule = NULL;
	if (c->closed)
		return make_int(env, -EBADF);
	ret = (int)vdev_result(c, c->ops->ioctl(c, k->unmap_req, &u, k->unmap_size));
	if (ret < 0)
		return make_int(env, ret);
	memcpy(arg, &u, k->unmap_size);
	for (pp = &c->pins; *pp;) {
		struct dma_pin *p = *pp;

		/* the kernel unmapped every mapping inside [iova, last] and split none */
		if (p->iova >= iova && p->iova + p->size - 1 <= last) {
			*pp = p->next;
			pin_release(p);
		} else {
			pp = &p->next;
		}
	}
	return make_int(env, ret);
}

/*
 * ioasIovaRanges(container, arg, ranges): IOMMU_IOAS_IOVA_RANGES on an iommufd handle, with arg
 * the encoded struct iommu_ioas_iova_ranges (written back: num_iovas, out_iova_alignment) and
 * ranges the bytes that receive up to ranges.length / 16 struct iommu_iova_range (allowed_iovas,
 * num_iovas and the IOAS are the addon's). 0, or -errno (-EMSGSIZE: num_iovas says how many).
 */
napi_value js_ioas_iova_ranges(napi_env env, napi_callback_info info)
{
	struct iommu_ioas_iova_ranges r;
	const struct dma_kind *k;
	napi_value argv[3];
	struct vdev *c;
	size_t alen, rlen;
	void *arg, *ranges, *copy;
	int ret;

	if (get_args(env, info, 3, argv, NULL) || get_container(env, argv[0], &c, &k) || get_bytes(env, argv[1], "arg", &arg, &alen) ||
	    get_bytes(env, argv[2], "ranges", &ranges, &rlen))
		return NULL;
	if (c->fd_kind != VFIO_SUBREGION_FD_IOMMUFD)
		return TYPE_ERR(env, "container must be an iommufd handle, not a %s handle", vfio_subregion_fd_kind_names[c->fd_kind]);
	if (alen < sizeof(r))
		return RANGE_ERR(env, "arg (%zu bytes) is shorter than struct iommu_ioas_iova_ranges (%zu)", alen, sizeof(r));
	if (rlen > 4096 * sizeof(struct iommu_iova_range))
		return RANGE_ERR(env, "ranges (%zu bytes) is longer than 4096 ranges", rlen);
	/* a private copy: the kernel writes there, and JavaScript memory may be shared with a worker */
	copy = calloc(1, rlen ? rlen : 1);
	if (!copy)
		return make_int(env, -ENOMEM);
	memcpy(&r, arg, sizeof(r));
	r.size = sizeof(r);
	r.ioas_id = c->ioas;
	r.num_iovas = (uint32_t)(rlen / sizeof(struct iommu_iova_range));
	r.allowed_iovas = (uint64_t)(uintptr_t)copy;
	c->rule = NULL;
	if (c->closed) {
		free(copy);
		return make_int(env, -EBADF);
	}
	pending.vaddr = r.allowed_iovas;
	pending.size = rlen;
	pending.armed = true;
	ret = (int)vdev_result(c, c->ops->ioctl(c, IOMMU_IOAS_IOVA_RANGES, &r, sizeof(r)));
	pending.armed = false;
	if (ret == 0 || ret == -EMSGSIZE) {
		r.allowed_iovas = 0;
		memcpy(arg, &r, sizeof(r));
		memcpy(ranges, copy, rlen);
	}
	free(copy);
	return make_int(env, ret);
}

/* ---------------------------------------------------------------- the simulated device's side */

static int get_sim(napi_env env, napi_value v, struct vdev **out)
{
	if (get_vdev(env, v, out))
		return -1;
	if ((*out)->ops != &sim_ops) {
		TYPE_ERR(env, "device must be a simulated device");
		return -1;
	}
	return 0;
}

/*
 * simDma(device, iova, buf, write): what a device model does: DMA of buf.length bytes at an IOVA,
 * into buf (a read of guest memory) or from it (write). 0, or -EFAULT for a fault (nothing moved;
 * counted in simDmaStats).
 */
napi_value js_sim_dma(napi_env env, napi_callback_info info)
{
	napi_value argv[4];
	struct vdev *d;
	uint64_t iova;
	size_t len;
	void *data;
	int write;

	if (get_args(env, info, 4, argv, NULL) || get_sim(env, argv[0], &d) || get_u64_bigint(env, argv[1], "iova", &iova) ||
	    get_bytes(env, argv[2], "buf", &data, &len) || get_bool(env, argv[3], "write", false, &write))
		return NULL;
	if (d->closed)
		return make_int(env, -EBADF);
	return make_int(env, sim_dma(d->sim, iova, data, len, write));
}

/* simInterrupt(device, index, vector): a device model raises an interrupt. 0, or -errno (sim_irq_signal). */
napi_value js_sim_interrupt(napi_env env, napi_callback_info info)
{
	napi_value argv[3];
	uint32_t index, vector;
	struct vdev *d;

	if (get_args(env, info, 3, argv, NULL) || get_sim(env, argv[0], &d) || get_u32(env, argv[1], "index", &index) ||
	    get_u32(env, argv[2], "vector", &vector))
		return NULL;
	if (d->closed)
		return make_int(env, -EBADF);
	return make_int(env, sim_irq_signal(d->sim, index, vector));
}

static napi_value set_u64(napi_env env, napi_value o, const char *name, uint64_t v, bool big)
{
	napi_value x;

	if ((big ? napi_create_bigint_uint64(env, v, &x) : napi_create_double(env, (double)v, &x)) != napi_ok ||
	    napi_set_named_property(env, o, name, x) != napi_ok)
		return NULL;
	return o;
}

/* simDmaStats(device): the device's DMA and interrupt counters, its eventfds and its container's mappings. */
napi_value js_sim_dma_stats(napi_env env, napi_callback_info info)
{
	struct sim_dma_stats st;
	struct sim_iommu *io;
	napi_value argv[1], o, b;
	struct vdev *d;

	if (get_args(env, info, 1, argv, NULL) || get_sim(env, argv[0], &d))
		return NULL;
	if (d->closed)
		return throw_errno(env, EBADF, "simDmaStats", NULL, "simDmaStats: the device is closed");
	sim_dma_stats(d->sim, &st);
	io = sim_iommu_of(d->sim);
	NAPI_OK(env, napi_create_object(env, &o));
	NAPI_OK(env, napi_get_boolean(env, st.last_fault_write != 0, &b));
	NAPI_OK(env, napi_set_named_property(env, o, "lastFaultWrite", b));
	if (!set_u64(env, o, "reads", st.reads, false) || !set_u64(env, o, "writes", st.writes, false) ||
	    !set_u64(env, o, "faults", st.faults, false) || !set_u64(env, o, "lastFaultIova", st.last_fault_iova, true) ||
	    !set_u64(env, o, "resets", st.resets, false) || !set_u64(env, o, "interrupts", st.interrupts, false) ||
	    !set_u64(env, o, "lostInterrupts", st.lost_interrupts, false) ||
	    !set_u64(env, o, "eventfds", sim_irq_nr_eventfds(d->sim), false) ||
	    !set_u64(env, o, "dmaMappings", io ? sim_iommu_nr_mappings(io) : 0, false))
		return napi_fail(env);
	return o;
}

/*
 * simModel(device, takeFrames): the device model's counters ({ frames, bytes, descriptors, faults,
 * badRing, dropped, logLost }), with takeFrames the frames of its log (oldest first, as Uint8Arrays),
 * which it then empties; null for a device without a model.
 */
napi_value js_sim_model(napi_env env, napi_callback_info info)
{
	struct sim_model_stats st;
	napi_value argv[2], o, arr, ab, u8;
	struct vdev *d;
	int take;
	uint32_t i;

	if (get_args(env, info, 2, argv, NULL) || get_sim(env, argv[0], &d) || get_bool(env, argv[1], "takeFrames", false, &take))
		return NULL;
	if (d->closed)
		return throw_errno(env, EBADF, "simModel", NULL, "simModel: the device is closed");
	if (sim_model_stats(d->sim, &st)) {
		NAPI_OK(env, napi_get_null(env, &o));
		return o;
	}
	NAPI_OK(env, napi_create_object(env, &o));
	if (!set_u64(env, o, "frames", st.frames, false) || !set_u64(env, o, "bytes", st.bytes, false) ||
	    !set_u64(env, o, "descriptors", st.descriptors, false) || !set_u64(env, o, "faults", st.faults, false) ||
	    !set_u64(env, o, "badRing", st.bad_ring, false) || !set_u64(env, o, "dropped", st.dropped, false) ||
	    !set_u64(env, o, "logLost", st.log_lost, false))
		return napi_fail(env);
	if (!take)
		return o;
	NAPI_OK(env, napi_create_array_with_length(env, st.log_frames, &arr));
	for (i = 0; i < st.log_frames; i++) {
		const uint8_t *data;
		uint32_t len;
		void *p;

		sim_model_frame(d->sim, i, &data, &len);
		NAPI_OK(env, napi_create_arraybuffer(env, len, &p, &ab));
		memcpy(p, data, len);
		NAPI_OK(env, napi_create_typedarray(env, napi_uint8_array, len, ab, 0, &u8));
		NAPI_OK(env, napi_set_element(env, arr, i, u8));
	}
	sim_model_clear_frames(d->sim);
	NAPI_OK(env, napi_set_named_property(env, o, "log", arr));
	return o;
}
