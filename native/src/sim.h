/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * A simulated vfio-pci device: plain C, no Node dependency, so it can also be built standalone (the
 * sanitizer driver in test/native/sim_driver.c does). It answers the VFIO device ioctls the way
 * drivers/vfio/pci/vfio_pci_core.c does, byte for byte, plus the proposed subregion ABI through the
 * generated validators; BAR memory lives in shared memory (memfds, allocated up front) so that mmap
 * behaves like a BAR mapping (MAP_SHARED, visible through read/write at the same time) and a store
 * can never fault for want of space.
 *
 * Every function returns 0 (or a byte count) or a negative errno. Not thread-safe: the caller holds
 * one lock per device (the addon runs on the JS thread).
 */
#ifndef VFIO_SIM_H
#define VFIO_SIM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

enum sim_region_kind {
	SIM_KIND_NONE = 0,	/* unimplemented: size 0, no flags */
	SIM_KIND_MEMORY,	/* a memory BAR: shared-memory backing, mmap possible */
	SIM_KIND_IO,		/* an I/O port BAR: read/write only (backed by a file too) */
	SIM_KIND_CONFIG,	/* PCI config space: read/write only (backed by a file too) */
};

struct sim_sparse_area {
	uint64_t offset;
	uint64_t size;
};

struct sim_region_config {
	uint64_t size;
	enum sim_region_kind kind;
	int readable;
	int writable;
	int mmap;			/* only for SIM_KIND_MEMORY */
	uint32_t supported_attrs;	/* VFIO_REGION_ATTR_*; any bits (a device may claim
					 * unknown ones: the validators still refuse them) */
	uint32_t nr_sparse;		/* > 0: report VFIO_REGION_INFO_CAP_SPARSE_MMAP */
	const struct sim_sparse_area *sparse;
	int has_type;			/* report VFIO_REGION_INFO_CAP_TYPE */
	uint32_t type;
	uint32_t subtype;
	int msix_mappable;		/* report VFIO_REGION_INFO_CAP_MSIX_MAPPABLE */
	int prefetchable;		/* a memory BAR: the prefetchable bit in config space */
};

/* The simulated IOMMU the device is attached to (see sim_iommu_create below). */
#define SIM_MAX_IOVA_RANGES 8

struct sim_iova_range {
	uint64_t start;
	uint64_t end;			/* inclusive, as struct vfio_iova_range */
};

struct sim_iommu_config {
	uint32_t nr_ranges;		/* 1 .. SIM_MAX_IOVA_RANGES, ascending and disjoint */
	const struct sim_iova_range *ranges;
	uint32_t dma_limit;		/* mappings at most (0: the kernel's default, 65535) */
};

/* The id of a simulated IOAS (a cdev device bound to an iommufd gets 1, its IOAS 2, as on a kernel). */
#define SIM_IOAS_ID 2

/*
 * Whether the process memory [vaddr, vaddr + size) may be mapped for DMA: 0, or a negative errno
 * (-EFAULT: nothing vouches for it). The kernel pins user pages; the simulator dereferences vaddr
 * itself, so it maps only what its host vouches for.
 */
typedef int (*sim_pin_fn)(void *ctx, uint64_t vaddr, uint64_t size, int write);

/* A device model behind region 0 (sim_config.model). */
enum sim_model {
	SIM_MODEL_NONE = 0,
	SIM_MODEL_E1000E,	/* sim_e1000e.c: an 82574-like TX path; region 0 needs 128 KiB of memory */
};

struct sim_config {
	uint32_t nr_regions;		/* fixed regions, in index order */
	const struct sim_region_config *regions;
	uint32_t num_irqs;		/* IRQ indexes (vfio-pci has VFIO_PCI_NUM_IRQS) */
	uint32_t msi;			/* vectors of VFIO_PCI_MSI_IRQ_INDEX: a power of two up to 32, or 0 */
	uint32_t msix;			/* vectors of VFIO_PCI_MSIX_IRQ_INDEX: up to 2048, or 0 */
	int no_reset;			/* no VFIO_DEVICE_FLAGS_RESET: VFIO_DEVICE_RESET is EINVAL */
	const struct sim_iommu_config *iommu;	/* the container sim_create attaches it to; NULL: defaults */
	int iommufd;			/* a cdev bound to an iommufd: its IOMMU is an IOAS (SIM_IOAS_ID), not a type1 container */
	sim_pin_fn pin;			/* what the container may map (NULL: nothing) */
	void *pin_ctx;
	uint32_t max_subregions;
	const char *shm_dir;		/* NULL: memfds; else unnamed O_TMPFILE files there */
	/* Identity written into the config region's type 0 header (when there is a config region). */
	uint16_t vendor_id;
	uint16_t device_id;
	uint32_t class_code;		/* base class << 16 | subclass << 8 | prog-if */
	uint32_t model;			/* enum sim_model */
};

/* The IOMMU group the simulated device reports (VFIO_DEVICE_GET_PCI_HOT_RESET_INFO). */
#define SIM_IOMMU_GROUP 1

/* The simulator's default identity: QEMU's PCI test device id space (Red Hat, Inc.). */
#define SIM_DEFAULT_VENDOR 0x1b36
#define SIM_DEFAULT_DEVICE 0x0005

/* Fixed regions live at index << SIM_OFFSET_SHIFT in the device fd, like VFIO_PCI_OFFSET_SHIFT. */
#define SIM_OFFSET_SHIFT 40
#define SIM_INDEX_TO_OFFSET(i) ((uint64_t)(i) << SIM_OFFSET_SHIFT)

/* One live mapping and the attributes its (simulated) page tables got. */
struct sim_mapping {
	uint32_t index;		/* the region it was made from */
	uint64_t offset;	/* offset within that region */
	size_t length;		/* as asked */
	int prot;
	void *addr;
	uint32_t attrs;		/* VFIO_REGION_ATTR_*: what its page tables got */
};

struct sim_device;

/* Validates cfg and creates the device (its backing files included). */
int sim_create(const struct sim_config *cfg, struct sim_device **out);
/* Unmaps every remaining mapping, closes the backing files, frees the device. */
void sim_destroy(struct sim_device *dev);

/* ioctl(2) on the device fd: arg is the caller's memory, len bytes of it (beyond is EFAULT). */
int sim_ioctl(struct sim_device *dev, unsigned long request, void *arg, size_t len);
/* pread(2)/pwrite(2) at a device fd offset. */
ssize_t sim_rw(struct sim_device *dev, void *buf, size_t len, uint64_t offset, int write);
/* mmap(2) MAP_SHARED of the device fd; *addr receives the mapping. */
int sim_mmap(struct sim_device *dev, uint64_t offset, size_t length, int prot, void **addr);
/*
 * mmap(2) MAP_SHARED | MAP_FIXED of the device fd at the caller's address `at` (page-aligned; length
 * a whole number of pages): a window placed inside memory the caller owns, such as a WebAssembly
 * linear memory. sim_munmap(at) and sim_destroy put anonymous zero pages back over the range instead
 * of unmapping it, so the caller's range never becomes a hole.
 */
int sim_mmap_fixed(struct sim_device *dev, uint64_t offset, size_t length, int prot, void *at);
/* munmap(2) of a mapping sim_mmap or sim_mmap_fixed returned (the whole mapping). */
int sim_munmap(struct sim_device *dev, void *addr);

/*
 * The pages of a mapping sim_mmap or sim_mmap_fixed returned no longer map the device (the caller
 * replaced or unmapped them itself): drop its record, and with it its claim on the pages' type.
 */
int sim_forget(struct sim_device *dev, void *addr);

size_t sim_nr_mappings(const struct sim_device *dev);
/* The i-th live mapping (0 <= i < sim_nr_mappings), oldest first. */
const struct sim_mapping *sim_mapping_at(const struct sim_device *dev, size_t i);

/*
 * The name in the spec of the rule behind the last refusal of sim_ioctl, sim_mmap or sim_mmap_fixed
 * (a validator rule such as "within-parent", or the mmap rule "one-memtype-per-page"); NULL when the
 * last call succeeded or failed for a reason the spec does not name. A kernel reports only the errno.
 */
const char *sim_last_rule(const struct sim_device *dev);

uint32_t sim_num_regions(const struct sim_device *dev);
/*
 * The file that backs memory region index: a path that opens it while the device lives
 * (/proc/<pid>/fd/<n>), the region's offset in it and its size.
 * -EINVAL for a region that does not exist or is not memory.
 */
int sim_backing(const struct sim_device *dev, uint32_t index, const char **path,
		uint64_t *offset, uint64_t *size);

uint64_t sim_page_size(void);

/*
 * DMA through a simulated type1 IOMMU (sim_iommu.c). A container (struct sim_iommu, refcounted: its
 * handle and each device attached to it hold a reference) takes the type1 container ioctls (or, with
 * iommufd, an iommufd's IOMMU_IOAS_IOVA_RANGES, _MAP and _UNMAP on the IOAS SIM_IOAS_ID); a device
 * attached to one reads and writes its mappings through sim_dma, as a device model does DMA.
 */
struct sim_iommu;

/* cfg NULL: x86's ranges (all of 48 bits but the MSI window 0xfee00000-0xfeefffff). */
int sim_iommu_create(const struct sim_iommu_config *cfg, int iommufd, sim_pin_fn pin, void *ctx, struct sim_iommu **out);
void sim_iommu_get(struct sim_iommu *io);
void sim_iommu_put(struct sim_iommu *io);
/* ioctl(2) on the container fd (GET_API_VERSION, CHECK_EXTENSION, SET_IOMMU, IOMMU_GET_INFO, MAP/UNMAP_DMA), or the iommufd. */
int sim_iommu_ioctl(struct sim_iommu *io, unsigned long request, void *arg, size_t len);
size_t sim_iommu_nr_mappings(const struct sim_iommu *io);
/* Whether it is an iommufd IOAS rather than a type1 container. */
int sim_iommu_is_ioas(const struct sim_iommu *io);
/* The smallest IOMMU page size: what IOVAs, sizes and vaddrs must be aligned to. */
uint64_t sim_iommu_pgsize(const struct sim_iommu *io);
/* The process address behind iova, for `write` (or a read), and how many of len bytes follow it in one mapping; -EFAULT when unmapped or not permitted. */
int sim_iommu_translate(const struct sim_iommu *io, uint64_t iova, size_t len, int write, uint64_t *vaddr, size_t *run);

/* The container the device is attached to, or NULL. */
struct sim_iommu *sim_iommu_of(const struct sim_device *dev);
/* Attaches the device to a container (a reference; NULL detaches): its DMA goes through it. */
void sim_attach_iommu(struct sim_device *dev, struct sim_iommu *io);

/*
 * What a device model calls to read (write = 0) or write guest memory at an IOVA: translated
 * through the attached container and bounds-checked by it. An access that reaches an IOVA that is
 * not mapped, or mapped without the permission, moves nothing at all and is a DMA fault: counted,
 * and -EFAULT; never a crash.
 */
int sim_dma(struct sim_device *dev, uint64_t iova, void *buf, size_t len, int write);

struct sim_dma_stats {
	uint64_t reads, writes;		/* accesses that completed */
	uint64_t faults;		/* accesses refused (nothing moved) */
	uint64_t last_fault_iova;
	int last_fault_write;
	uint64_t resets;		/* VFIO_DEVICE_RESET that succeeded */
	uint64_t interrupts;		/* eventfd signals the device sent */
	uint64_t lost_interrupts;	/* signals of vectors with no eventfd (a real device's lost MSI) */
};

void sim_dma_stats(const struct sim_device *dev, struct sim_dma_stats *out);

/*
 * A device model raises interrupt `vector` of IRQ index `index`: the eventfd VFIO_DEVICE_SET_IRQS
 * gave it is signalled (eventfd_signal: the counter goes up by one). 0 when signalled; -EINVAL for
 * an index or vector the device does not have; -ENOENT when the vector has no eventfd (counted as
 * lost; a masked INTx is -EAGAIN, signalled on unmask).
 */
int sim_irq_signal(struct sim_device *dev, uint32_t index, uint32_t vector);
/* Eventfds the device holds (for leak checks). */
size_t sim_irq_nr_eventfds(const struct sim_device *dev);

/*
 * A register access the way a CPU's uncached load or store reaches a device: one access of `bytes`
 * (1, 2, 4 or 8) at `addr` inside a live mapping of the device. When a device model owns that register
 * (a 32-bit aligned access to the model's region) the model performs it, side effects included (a
 * read that clears, a write that starts DMA), and the result is 0 with *val read or written; 1 when
 * no model owns it (the caller performs the plain access itself); -EINVAL when a device with a model
 * has no mapping there.
 * A plain store into a mapping bypasses the model: only this path (and sim_rw) is trapped.
 */
int sim_mmio(struct sim_device *dev, const void *addr, unsigned int bytes, int write, uint64_t *val);

/* What the device model has done (sim_config.model), its frame log included. */
struct sim_model_stats {
	uint64_t frames;		/* frames transmitted (descriptor chains up to EOP) */
	uint64_t bytes;			/* their bytes, without the FCS */
	uint64_t descriptors;		/* descriptors consumed */
	uint64_t faults;		/* descriptor or buffer fetches the IOMMU refused: TX stops there */
	uint64_t bad_ring;		/* TDT writes ignored: TDLEN 0, or TDH/TDT beyond the ring */
	uint64_t dropped;		/* frames dropped: oversize, or an extended descriptor */
	uint64_t log_lost;		/* frames that fell out of the full log */
	uint32_t log_frames;		/* frames in the log now */
};

/* -ENODEV for a device without a model. */
int sim_model_stats(const struct sim_device *dev, struct sim_model_stats *out);
/* The i-th frame of the log, oldest first (at most SIM_FRAME_LOG frames, SIM_FRAME_MAX bytes kept of each). */
int sim_model_frame(const struct sim_device *dev, uint32_t i, const uint8_t **data, uint32_t *len);
/* Empties the log (the counters stay). */
int sim_model_clear_frames(struct sim_device *dev);

#define SIM_FRAME_LOG 1024
#define SIM_FRAME_MAX 2048

#ifdef __cplusplus
}
#endif

#endif /* VFIO_SIM_H */
