/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * The production Node-API addon (runtime/src/native.ts is its contract). JavaScript holds opaque,
 * type-tagged handles, never fd numbers or ids it could forge or see reused:
 *
 *   device handle  -> struct vdev: one backend (host: real VFIO fds; sim: the simulated device)
 *                     behind one ops table, refcounted by its handle and its live mappings;
 *   mapping handle -> struct vmap: a mapping or a wasm window, refcounted by its handle, its
 *                     ArrayBuffer and (windows) the WebAssembly.Memory it lies in.
 *
 * Lifetime rule: an address range is released only when nothing can reach it any more. Unmapping
 * (or closing the device) *revokes*: anonymous pages replace the device pages in place, the
 * ArrayBuffer is detached, and the range itself is munmapped when the last reference is collected,
 * so a job already running on another thread (crypto.randomFill, fs.read into the buffer) writes
 * into ordinary memory instead of faulting. A mapping made by mmapHandle whose ArrayBuffer was
 * never handed out (mappingBuffer; a read-only one never has one) is reachable only through the
 * addon, which checks `revoked` before every access: revoking it munmaps the range at once. mmap's
 * mappings, which come with their buffer and address, are always revoked in place.
 */
#ifndef VFIO_ADDON_H
#define VFIO_ADDON_H

#include "args.h"
#include "sim.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The device's own ioctl argument area (deviceScratch): what the runtime encodes every argument into. */
#define VDEV_SCRATCH 4096

struct vdev;
struct vmap;
struct dma_pin;
struct dmabuf;
struct virq;

/* What a backend does; every call returns >= 0 or a negative errno. */
struct vdev_ops {
	const char *name;
	int (*ioctl)(struct vdev *d, unsigned long request, void *arg, size_t len);
	ssize_t (*rw)(struct vdev *d, void *buf, size_t len, uint64_t offset, bool write);
	/* at == NULL: anywhere; else MAP_FIXED over the caller's pages, which survive a failure */
	int (*map)(struct vdev *d, uint64_t offset, size_t len, int prot, void *at, void **out);
	/* the device pages at addr were replaced or unmapped by the addon */
	void (*unmapped)(struct vdev *d, void *addr);
	/* the spec's rule behind the last refusal, or NULL */
	const char *(*last_rule)(const struct vdev *d);
	void (*release)(struct vdev *d);
};

/* Per Node-API environment (the main thread, each worker). */
struct addon {
	struct vdev *devices;		/* open or not yet collected: closed when the environment goes */
	napi_ref memory_buffer;		/* WebAssembly.Memory.prototype.buffer's getter: the brand check */
	napi_ref uint8array;		/* a Uint8Array constructor (both from a fresh context: init) */
	size_t nr_maps;			/* mappings whose ranges are not yet released */
	struct dmabuf *dmabufs;		/* DMA buffers (dmaAlloc) whose memory is not yet released */
	struct virq *irqs;		/* interrupt sets not yet closed */
};

struct vdev {
	const struct vdev_ops *ops;
	struct addon *owner;		/* NULL once its environment is torn down */
	struct vdev *next, **pprev;	/* in owner->devices */
	struct vmap *maps;		/* live (not revoked) mappings and windows */
	unsigned int refs;		/* the handle, each live mapping */
	bool closed;
	const char *rule;		/* the spec's rule behind the last refusal, or NULL */
	int64_t external;		/* bytes reported to V8 as external memory */
	uint8_t *scratch;		/* VDEV_SCRATCH bytes of ioctl argument area, once asked for */
	uint32_t fd_kind;		/* the spec's kind of the fd ioctls go to (enum vfio_subregion_fd_kind) */
	uint32_t ioas;			/* a cdev device's IOAS, and its iommufd handle's (0: none) */
	struct dma_pin *pins;		/* a container's DMA mappings made by dmaMap, and what they keep alive */
	union {
		struct {
			int fd;		/* the device fd */
			int extra[2];	/* group and container, or iommufd; -1 when unused */
			bool regular;	/* may be a regular file (maps checked against its seals and size) */
		} host;
		struct sim_device *sim;
		struct sim_iommu *iommu;	/* a simulated container (sim_iommu_ops) */
	};
};

struct vmap {
	struct vdev *dev;		/* set while live: a live mapping holds a device reference */
	struct vmap *next;		/* in dev->maps */
	napi_env env;
	uint8_t *addr;
	size_t len;			/* as asked */
	size_t span;			/* len rounded up to pages: what is mapped */
	int prot;
	bool window;			/* inside a WebAssembly.Memory: never munmapped by us */
	bool revoked;
	bool exposed;			/* an ArrayBuffer over it was handed out: JS (or a job) may hold it */
	bool released;			/* the range is munmapped (revoked before it was exposed) */
	unsigned int refs;		/* the handle, the ArrayBuffer, the Memory */
	napi_ref buffer;		/* weak: the ArrayBuffer, to detach on revoke */
	napi_ref memory;		/* weak: the Memory a window lies in */
};

/* handles.c: the live handles of this thread */
enum { HANDLE_NONE, HANDLE_DEVICE, HANDLE_MAPPING, HANDLE_IRQ };
int handle_add(void *p, int kind);
void handle_del(void *p);
bool handle_is(const void *p, int kind);

/* device.c */
struct vdev *vdev_new(napi_env env, struct addon *a, const struct vdev_ops *ops);
napi_value vdev_handle(napi_env env, struct vdev *d, int64_t external);
int get_vdev(napi_env env, napi_value v, struct vdev **out);
void vdev_get(struct vdev *d);
void vdev_put(struct vdev *d);
void vdev_close(napi_env env, struct vdev *d);
ssize_t vdev_result(struct vdev *d, ssize_t ret);
extern const struct vdev_ops host_ops, sim_ops;

/* dma.c: DMA through a type1 container or an iommufd IOAS, the simulated IOMMU, DMA buffers */
extern const struct vdev_ops sim_iommu_ops;
int dma_sim_pin(void *ctx, uint64_t vaddr, uint64_t size, int write);
void dma_unpin_all(struct vdev *d);
void dmabuf_teardown(struct addon *a);
size_t live_pins(void);
size_t live_dmabufs(void);

/* irq.c: eventfds watched on the event loop */
void irq_teardown(struct addon *a);
size_t live_eventfds(void);

/* mapping.c */
int get_vmap(napi_env env, napi_value v, struct vmap **out);
struct vmap *vmap_new(napi_env env, struct addon *a, struct vdev *d, void *addr, size_t len, size_t span, int prot, bool window);
void vmap_revoke(struct vmap *m);
void vmap_put(struct vmap *m);
napi_value vmap_handle(napi_env env, struct vmap *m);
napi_value vmap_result(napi_env env, struct vmap *m, napi_value h, napi_value ab);
size_t live_ranges(void);

/* window.c: the process-wide registry of windows, shared by every environment */
int window_claim(napi_env env, uint8_t *start, size_t len);
void window_attach(uint8_t *start, struct vmap *m);
void window_release(uint8_t *start, struct vmap *m);
size_t live_windows(void);
int memory_bytes(napi_env env, struct addon *a, napi_value memory, uint8_t **base, size_t *len);

/* The entry points, by module. */
napi_value js_open(napi_env env, napi_callback_info info);
napi_value js_adopt_fd(napi_env env, napi_callback_info info);
napi_value js_open_group_device(napi_env env, napi_callback_info info);
napi_value js_open_cdev_device(napi_env env, napi_callback_info info);
napi_value js_ioctl(napi_env env, napi_callback_info info);
napi_value js_device_scratch(napi_env env, napi_callback_info info);
napi_value js_ioctl_scratch(napi_env env, napi_callback_info info);
napi_value js_bind_ioctl(napi_env env, napi_callback_info info);
napi_value js_ioctl_value(napi_env env, napi_callback_info info);
napi_value js_pread(napi_env env, napi_callback_info info);
napi_value js_pwrite(napi_env env, napi_callback_info info);
napi_value js_close(napi_env env, napi_callback_info info);
napi_value js_last_rule(napi_env env, napi_callback_info info);
napi_value js_handle_kind(napi_env env, napi_callback_info info);
napi_value js_mmap(napi_env env, napi_callback_info info);
napi_value js_munmap(napi_env env, napi_callback_info info);
napi_value js_mmap_handle(napi_env env, napi_callback_info info);
napi_value js_mapping_buffer(napi_env env, napi_callback_info info);
napi_value js_mapping_address(napi_env env, napi_callback_info info);
napi_value js_wasm_map(napi_env env, napi_callback_info info);
napi_value js_mmio_read(napi_env env, napi_callback_info info);
napi_value js_mmio_write(napi_env env, napi_callback_info info);
napi_value js_copy_from(napi_env env, napi_callback_info info);
napi_value js_wmb(napi_env env, napi_callback_info info);
napi_value js_mb(napi_env env, napi_callback_info info);
napi_value js_rmb(napi_env env, napi_callback_info info);
napi_value js_sim_create(napi_env env, napi_callback_info info);
napi_value js_sim_mappings(napi_env env, napi_callback_info info);
napi_value js_sim_backing(napi_env env, napi_callback_info info);
napi_value js_stats(napi_env env, napi_callback_info info);
napi_value js_iommu_handle(napi_env env, napi_callback_info info);
napi_value js_dma_alloc(napi_env env, napi_callback_info info);
napi_value js_dma_map(napi_env env, napi_callback_info info);
napi_value js_dma_unmap(napi_env env, napi_callback_info info);
napi_value js_ioas_iova_ranges(napi_env env, napi_callback_info info);
napi_value js_sim_dma(napi_env env, napi_callback_info info);
napi_value js_sim_interrupt(napi_env env, napi_callback_info info);
napi_value js_sim_dma_stats(napi_env env, napi_callback_info info);
napi_value js_sim_model(napi_env env, napi_callback_info info);
napi_value js_irq_create(napi_env env, napi_callback_info info);
napi_value js_irq_set_eventfds(napi_env env, napi_callback_info info);
napi_value js_irq_ref(napi_env env, napi_callback_info info);
napi_value js_irq_close(napi_env env, napi_callback_info info);

#endif /* VFIO_ADDON_H */
