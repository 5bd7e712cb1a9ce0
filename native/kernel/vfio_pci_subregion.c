// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-pci-subregion: a vfio-pci variant driver implementing the proposed VFIO subregion ABI
 * (<linux/vfio_subregion.h>, docs/vfio-subregion-abi.md) on top of vfio-pci-core. Built and
 * tested against Debian's 6.1, 6.12 and 7.2 kernels.
 *
 *  - VFIO_DEVICE_FEATURE_SUBREGION (SET): a new region index that is a page-aligned window of a
 *    mmap-able BAR, with memory attributes (VFIO_REGION_ATTR_WC).
 *  - VFIO_DEVICE_FEATURE_REGION_ATTRS (GET/SET): the attributes of a whole BAR.
 *  - Region info of a subregion (and of a BAR carrying attributes) adds
 *    VFIO_REGION_INFO_CAP_SUBREGION / VFIO_REGION_INFO_CAP_ATTRS; GET_INFO counts subregions.
 *  - mmap of a subregion is the core's mmap of the parent window, so the core's fault handler,
 *    memory-enable checks and zap-on-reset apply unchanged.
 *
 * Every argument check is the generated validator's (native/validators/, built into this module).
 *
 * Memory types (the spec's one-memtype-per-page rule). A page of a BAR has one memory type across
 * every live mapping: user mappings of the BAR and of its subregions, and the kernel's own.
 *  - Every user mapping holds a *claim*: its BAR pages and their type (WC or UC). An mmap whose
 *    pages overlap a live claim of the other type fails with EBUSY; nothing is up- or downgraded.
 *    A claim lives until the last vma derived from the mmap (split, fork, mremap) is gone, so
 *    after a partial munmap the rest of the claim stays until the rest is unmapped.
 *  - PAT agrees with the claims: a WC claim holds a WC memtype reservation of exactly its range
 *    (the page tables take their type from it at fault time); UC pages carry no reservation
 *    and look up as UC-. On 6.1 the core's fault remaps the whole vma and reserves its range
 *    (VM_PAT), which 6.1 fails to free after a partial munmap; the driver gives that
 *    reservation back as soon as the fault is done, so nothing outlives the fd.
 *  - The kernel's own mapping of a BAR that offers attributes is made per access: the core
 *    would iomap the whole BAR UC- for the session, which makes any WC user mapping UC- (or,
 *    with the reservation dropped, leaves a UC- alias of WC pages). The driver owns the BAR's
 *    request and barmap slot instead, and pread/pwrite map the pages they touch with the type
 *    those pages have, holding a kernel claim meanwhile. The slot holds a non-canonical poison
 *    value so that any core path that would use it faults loudly; VFIO_DEVICE_IOEVENTFD, the
 *    one such path left, is refused on those BARs.
 *
 * Locking: sd->create_lock serialises creations across the copy_to_user of the new index;
 * sd->lock protects the region table, the attributes and the claims (never held across user
 * copies: mmap and vm_ops run under mmap_lock and take it); sd->io_lock serialises the BAR
 * accesses that lend the core a per-access mapping.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/io.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/poison.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include <linux/vfio.h>
#include <linux/vfio_pci_core.h>
#include <linux/xarray.h>

#include <linux/vfio_subregion.h>
#include "vfio_subregion_validate.h"

#define SR_MAX_LIMIT 4096

/* The barmap slot of a BAR whose kernel mapping the driver makes per access (non-canonical). */
#define SR_BARMAP_OWNED ((void __iomem *)(POISON_POINTER_DELTA + 0x5b0000))

/*
 * 6.1's fault handler remaps the whole vma with remap_pfn_range(), which reserves the vma's range
 * (VM_PAT) and frees it wrongly after a split. Later kernels insert pfns at fault time.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
#define SR_CORE_FAULT_RESERVES_VMA
#endif

static unsigned int max_subregions = 16;
module_param(max_subregions, uint, 0644);
MODULE_PARM_DESC(max_subregions,
		 "Subregions a device may hold while open (read when the device is opened; at most 4096)");

static bool allow_wc = true;
module_param(allow_wc, bool, 0644);
MODULE_PARM_DESC(allow_wc,
		 "Offer VFIO_REGION_ATTR_WC on mmap-able prefetchable memory BARs (read at open)");

/* Objects alive across all devices: read-only parameters, so tests can see that close frees all. */
static atomic_t sr_live_subregions = ATOMIC_INIT(0);
static atomic_t sr_live_maps = ATOMIC_INIT(0);
static atomic_t sr_live_claims = ATOMIC_INIT(0);

static int sr_get_atomic(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read((atomic_t *)kp->arg));
}

static const struct kernel_param_ops sr_atomic_ops = {
	.get = sr_get_atomic,
};
module_param_cb(live_subregions, &sr_atomic_ops, &sr_live_subregions, 0444);
MODULE_PARM_DESC(live_subregions, "Subregions currently allocated, all devices");
module_param_cb(live_maps, &sr_atomic_ops, &sr_live_maps, 0444);
MODULE_PARM_DESC(live_maps, "Live mappings (vmas) made through this driver, all devices");
module_param_cb(live_claims, &sr_atomic_ops, &sr_live_claims, 0444);
MODULE_PARM_DESC(live_claims, "Memory-type claims held (user mappings and kernel accesses), all devices");

struct sr_subregion {
	u64 size;
	u64 parent_offset;
	u32 parent_index;
	u32 attrs;
};

/* Pages [first, first + npages) of a BAR have type wc/UC for as long as the claim lives. */
struct sr_claim {
	struct list_head node;
	u64 first;
	u64 npages;
	u32 bar;
	bool wc;
	bool kernel;		/* a pread/pwrite in progress, not a mapping */
	bool reserved;		/* holds a WC memtype reservation of exactly its range */
	unsigned int users;	/* vmas derived from the mmap that made it */
	unsigned long pgoff0;	/* vm_pgoff of that mmap's vma: how derived vmas find it */
};

struct sr_device {
	struct vfio_pci_core_device core;	/* first: vfio_alloc_device needs it at offset 0 */
	struct mutex create_lock;		/* outer: one creation at a time */
	struct mutex lock;			/* region table, attributes, claims */
	struct mutex io_lock;			/* a per-access barmap lent to the core */
	u32 nr_base;				/* fixed + core dynamic regions: first subregion index */
	u32 nr_sub;
	u32 max_sub;
	struct sr_subregion *sub;		/* max_sub entries */
	struct vfio_subregion_region_state *st;	/* nr_base + max_sub entries: what validators read */
	bool owned[PCI_STD_NUM_BARS];		/* the BAR's kernel mapping is made per access */
	struct list_head claims;
	struct xarray vmas;			/* vma -> its claim */
	const struct vm_operations_struct *core_vm_ops;
	struct vm_operations_struct vm_ops;	/* the core's, with open/close (and fault) wrapped */
};

static struct sr_device *to_sr(struct vfio_device *core_vdev)
{
	return container_of(core_vdev, struct sr_device, core.vdev);
}

static struct sr_device *sr_vma_dev(struct vm_area_struct *vma)
{
	struct vfio_pci_core_device *vdev = vma->vm_private_data;

	return container_of(vdev, struct sr_device, core);
}

/* ---- claims (under sd->lock) ---- */

static bool sr_claims_overlap(const struct sr_claim *c, u32 bar, u64 first, u64 npages)
{
	return c->bar == bar && c->first < first + npages && first < c->first + c->npages;
}

/* Any live claim over these pages with the other type. */
static bool sr_claim_conflicts(struct sr_device *sd, u32 bar, u64 first, u64 npages, bool wc)
{
	struct sr_claim *c;

	list_for_each_entry(c, &sd->claims, node)
		if (c->wc != wc && sr_claims_overlap(c, bar, first, npages))
			return true;
	return false;
}

/* The type a kernel access to a page takes: WC while a WC claim covers it. */
static bool sr_page_is_wc(struct sr_device *sd, u32 bar, u64 page)
{
	struct sr_claim *c;

	list_for_each_entry(c, &sd->claims, node)
		if (c->wc && sr_claims_overlap(c, bar, page, 1))
			return true;
	return false;
}

static resource_size_t sr_claim_phys(struct sr_device *sd, const struct sr_claim *c)
{
	return pci_resource_start(sd->core.pdev, c->bar) + (c->first << PAGE_SHIFT);
}

static struct sr_claim *sr_claim_new(struct sr_device *sd, u32 bar, u64 first, u64 npages,
				     bool wc, bool kernel)
{
	struct sr_claim *c;

	if (sr_claim_conflicts(sd, bar, first, npages, wc))
		return ERR_PTR(-EBUSY);
	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return ERR_PTR(-ENOMEM);
	c->bar = bar;
	c->first = first;
	c->npages = npages;
	c->wc = wc;
	c->kernel = kernel;
	c->users = 1;
	/* A kernel access reserves through its own ioremap; a WC mapping through its claim. */
	if (wc && !kernel) {
		if (arch_io_reserve_memtype_wc(sr_claim_phys(sd, c), npages << PAGE_SHIFT)) {
			kfree(c);
			return ERR_PTR(-EBUSY);	/* a reservation outside our books */
		}
		c->reserved = true;
	}
	list_add(&c->node, &sd->claims);
	atomic_inc(&sr_live_claims);
	return c;
}

static void sr_claim_put(struct sr_device *sd, struct sr_claim *c)
{
	if (--c->users)
		return;
	if (c->reserved)
		arch_io_free_memtype_wc(sr_claim_phys(sd, c), c->npages << PAGE_SHIFT);
	list_del(&c->node);
	kfree(c);
	atomic_dec(&sr_live_claims);
}

/* The user mapping a derived vma (split, fork, mremap) comes from: its pages lie in the claim. */
static struct sr_claim *sr_claim_of_derived(struct sr_device *sd, struct vm_area_struct *vma)
{
	unsigned long n = vma_pages(vma);
	struct sr_claim *c;

	list_for_each_entry(c, &sd->claims, node)
		if (!c->kernel && vma->vm_pgoff >= c->pgoff0 &&
		    vma->vm_pgoff - c->pgoff0 + n <= c->npages)
			return c;
	return NULL;
}

static bool sr_bar_mapped(struct sr_device *sd, u32 bar)
{
	struct sr_claim *c;

	list_for_each_entry(c, &sd->claims, node)
		if (!c->kernel && c->bar == bar)
			return true;
	return false;
}

/* ---- BARs whose kernel mapping the driver makes per access ---- */

static bool sr_bar_wc_candidate(struct vfio_pci_core_device *vdev, int bar)
{
	struct pci_dev *pdev = vdev->pdev;
	unsigned long flags = pci_resource_flags(pdev, bar);
	resource_size_t len = pci_resource_len(pdev, bar);

	return allow_wc && (flags & IORESOURCE_MEM) && (flags & IORESOURCE_PREFETCH) &&
	       vdev->bar_mmap_supported[bar] && len >= PAGE_SIZE &&
	       !(pci_resource_start(pdev, bar) & ~PAGE_MASK) && bar != vdev->msix_bar;
}

/*
 * Takes the BAR's kernel mapping over from the core. Cores that iomap every BAR at enable
 * (6.17 and later) have requested and mapped it: drop the mapping, keep the request. Earlier
 * cores request and map it lazily: request it here so they never do.
 */
static bool sr_bar_own(struct sr_device *sd, int bar)
{
	struct vfio_pci_core_device *vdev = &sd->core;
	struct pci_dev *pdev = vdev->pdev;

	if (IS_ERR(vdev->barmap[bar]))
		return false;
	if (vdev->barmap[bar])
		pci_iounmap(pdev, vdev->barmap[bar]);
	else if (pci_request_selected_regions(pdev, 1 << bar, "vfio-pci"))
		return false;
	vdev->barmap[bar] = SR_BARMAP_OWNED;
	sd->owned[bar] = true;
	return true;
}

/* Before the core's disable: an empty slot, so the core neither unmaps nor releases it. */
static void sr_bar_disown(struct sr_device *sd, int bar)
{
	if (!sd->owned[bar])
		return;
	sd->core.barmap[bar] = NULL;
	pci_release_selected_regions(sd->core.pdev, 1 << bar);
	sd->owned[bar] = false;
}

/*
 * pread/pwrite of an owned BAR: a page at a time, through a kernel mapping of that page with the
 * page's type, lent to the core's own access path (its memory-enable checks, MSI-X exclusion
 * and access widths apply unchanged).
 */
static ssize_t sr_bar_rw(struct sr_device *sd, u32 bar, char __user *buf, size_t count,
			 u64 pos, bool iswrite)
{
	struct vfio_pci_core_device *vdev = &sd->core;
	u64 len = pci_resource_len(vdev->pdev, bar);
	size_t done = 0;

	if (pos >= len)
		return -EINVAL;
	count = min_t(u64, count, len - pos);
	while (done < count) {
		u64 at = pos + done, page = at >> PAGE_SHIFT;
		size_t n = min_t(u64, count - done, PAGE_SIZE - (at & ~PAGE_MASK));
		resource_size_t phys = pci_resource_start(vdev->pdev, bar) + (page << PAGE_SHIFT);
		loff_t off = VFIO_PCI_INDEX_TO_OFFSET(bar) + at;
		struct sr_claim *c;
		void __iomem *io;
		bool wc;
		ssize_t ret;

		mutex_lock(&sd->lock);
		wc = sr_page_is_wc(sd, bar, page);
		c = sr_claim_new(sd, bar, page, 1, wc, true);
		mutex_unlock(&sd->lock);
		if (IS_ERR(c))
			return done ? done : PTR_ERR(c);
		io = wc ? ioremap_wc(phys, PAGE_SIZE) : ioremap(phys, PAGE_SIZE);
		if (io) {
			mutex_lock(&sd->io_lock);
			vdev->barmap[bar] = io - (page << PAGE_SHIFT);
			ret = iswrite ? vfio_pci_core_write(&vdev->vdev, buf + done, n, &off)
				      : vfio_pci_core_read(&vdev->vdev, buf + done, n, &off);
			vdev->barmap[bar] = SR_BARMAP_OWNED;
			mutex_unlock(&sd->io_lock);
			iounmap(io);
		} else {
			ret = -ENOMEM;
		}
		mutex_lock(&sd->lock);
		sr_claim_put(sd, c);
		mutex_unlock(&sd->lock);
		if (ret <= 0)
			return done ? done : ret;
		done += ret;
		if (ret < n)
			break;
	}
	return done;
}

/* ---- device state ---- */

static void sr_fill_fixed(struct sr_device *sd)
{
	struct vfio_pci_core_device *vdev = &sd->core;
	struct pci_dev *pdev = vdev->pdev;
	struct vfio_subregion_region_state *s;
	u32 i;

	for (i = VFIO_PCI_BAR0_REGION_INDEX; i <= VFIO_PCI_BAR5_REGION_INDEX; i++) {
		s = &sd->st[i];
		s->size = pci_resource_len(pdev, i);
		if (!s->size)
			continue;
		s->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
		if (vdev->bar_mmap_supported[i]) {
			s->flags |= VFIO_REGION_INFO_FLAG_MMAP;
			if (i == vdev->msix_bar)
				s->flags |= VFIO_REGION_INFO_FLAG_CAPS;	/* MSIX_MAPPABLE */
		}
		if (sr_bar_wc_candidate(vdev, i) && sr_bar_own(sd, i))
			s->supported_attrs = VFIO_REGION_ATTR_WC;
	}
	/* ROM: the core probes the ROM itself; for the validators only "not mmap-able" matters */
	s = &sd->st[VFIO_PCI_ROM_REGION_INDEX];
	s->size = pci_resource_len(pdev, PCI_ROM_RESOURCE);
	s->flags = s->size ? VFIO_REGION_INFO_FLAG_READ : 0;
	s = &sd->st[VFIO_PCI_CONFIG_REGION_INDEX];
	s->size = pdev->cfg_size;
	s->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	if (vdev->has_vga) {
		s = &sd->st[VFIO_PCI_VGA_REGION_INDEX];
		s->size = 0xc0000 - 0xa0000;	/* as the core reports it */
		s->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	}
	for (i = 0; i < (u32)vdev->num_regions; i++) {
		s = &sd->st[VFIO_PCI_NUM_REGIONS + i];
		s->size = vdev->region[i].size;
		s->flags = vdev->region[i].flags;
	}
}

/* After vfio_pci_core_finish_enable(): bar_mmap_supported[] is filled there. */
static int sr_state_init(struct sr_device *sd)
{
	struct vfio_pci_core_device *vdev = &sd->core;
	u32 max = min_t(u32, READ_ONCE(max_subregions), SR_MAX_LIMIT);

	sd->nr_base = VFIO_PCI_NUM_REGIONS + vdev->num_regions;
	sd->nr_sub = 0;
	sd->max_sub = max;
	sd->st = kcalloc(sd->nr_base + max, sizeof(*sd->st), GFP_KERNEL);
	sd->sub = kcalloc(max ? max : 1, sizeof(*sd->sub), GFP_KERNEL);
	if (!sd->st || !sd->sub) {
		kfree(sd->st);
		kfree(sd->sub);
		sd->st = NULL;
		sd->sub = NULL;
		return -ENOMEM;
	}
	sr_fill_fixed(sd);
	return 0;
}

static void sr_state_free(struct sr_device *sd)
{
	struct sr_claim *c, *tmp;
	int i;

	/* No vma is left (each holds the device file) and no access is in progress. */
	WARN_ON(!list_empty(&sd->claims));
	list_for_each_entry_safe(c, tmp, &sd->claims, node) {
		c->users = 1;
		sr_claim_put(sd, c);
	}
	xa_destroy(&sd->vmas);
	for (i = 0; i < PCI_STD_NUM_BARS; i++)
		sr_bar_disown(sd, i);
	atomic_sub(sd->nr_sub, &sr_live_subregions);
	kfree(sd->sub);
	kfree(sd->st);
	sd->sub = NULL;
	sd->st = NULL;
	sd->nr_sub = 0;
}

/* Under sd->lock. */
static void sr_fill_state(struct sr_device *sd, struct vfio_subregion_device_state *ds)
{
	int i;

	/* A BAR is mapped while any page of it is: through itself or through a subregion. */
	for (i = 0; i < PCI_STD_NUM_BARS; i++)
		sd->st[i].mapped = sr_bar_mapped(sd, i);
	ds->page_size = PAGE_SIZE;
	ds->region_span = 1ULL << VFIO_PCI_OFFSET_SHIFT;
	ds->num_regions = sd->nr_base + sd->nr_sub;
	ds->nr_subregions = sd->nr_sub;
	ds->max_subregions = sd->max_sub;
	ds->regions = sd->st;
}

/* ---- vm_ops: the core's, with each vma tied to its claim ---- */

static void sr_vm_open(struct vm_area_struct *vma)
{
	struct sr_device *sd = sr_vma_dev(vma);
	struct sr_claim *c;

	if (sd->core_vm_ops->open)
		sd->core_vm_ops->open(vma);
	mutex_lock(&sd->lock);
	c = sr_claim_of_derived(sd, vma);
	if (c && !xa_is_err(xa_store(&sd->vmas, (unsigned long)vma, c, GFP_KERNEL))) {
		c->users++;
		atomic_inc(&sr_live_maps);
	}
	mutex_unlock(&sd->lock);
}

static void sr_vm_close(struct vm_area_struct *vma)
{
	struct sr_device *sd = sr_vma_dev(vma);
	struct sr_claim *c;

	mutex_lock(&sd->lock);
	c = xa_erase(&sd->vmas, (unsigned long)vma);
	if (c) {
		sr_claim_put(sd, c);
		atomic_dec(&sr_live_maps);
	}
	mutex_unlock(&sd->lock);
	if (sd->core_vm_ops->close)
		sd->core_vm_ops->close(vma);
}

#ifdef SR_CORE_FAULT_RESERVES_VMA
/*
 * The core's fault reserved the vma's exact range with the vma's type (the claim guarantees it is
 * the pages' type). Give it back now: the claim holds what the pages need, and 6.1 would leak it
 * after a partial munmap (untrack_pfn() frees the piece's range, which was never reserved).
 */
static vm_fault_t sr_vm_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct sr_device *sd = sr_vma_dev(vma);
	vm_fault_t ret = sd->core_vm_ops->fault(vmf);
	struct sr_claim *c;

	mutex_lock(&sd->lock);
	c = xa_load(&sd->vmas, (unsigned long)vma);
	if (c && (vma->vm_flags & VM_PAT)) {
		resource_size_t phys = sr_claim_phys(sd, c) +
				       ((resource_size_t)(vma->vm_pgoff - c->pgoff0) << PAGE_SHIFT);

		arch_io_free_memtype_wc(phys, vma->vm_end - vma->vm_start);
		vma->vm_flags &= ~VM_PAT;
	}
	mutex_unlock(&sd->lock);
	return ret;
}
#endif

/* Under sd->lock: the core's BAR vm_ops, wrapped once per device and checked on every mmap. */
static int sr_wrap_vm_ops(struct sr_device *sd, struct vm_area_struct *vma)
{
	if (!sd->core_vm_ops) {
		sd->core_vm_ops = vma->vm_ops;
		sd->vm_ops = *vma->vm_ops;
		sd->vm_ops.open = sr_vm_open;
		sd->vm_ops.close = sr_vm_close;
#ifdef SR_CORE_FAULT_RESERVES_VMA
		sd->vm_ops.fault = sr_vm_fault;
#endif
	}
	if (WARN_ON_ONCE(vma->vm_ops != sd->core_vm_ops))
		return -EINVAL;
	vma->vm_ops = &sd->vm_ops;
	return 0;
}

static int sr_mmap(struct vfio_device *core_vdev, struct vm_area_struct *vma)
{
	struct sr_device *sd = to_sr(core_vdev);
	const unsigned int shift = VFIO_PCI_OFFSET_SHIFT - PAGE_SHIFT;
	u64 index = vma->vm_pgoff >> shift;
	u64 pgoff = vma->vm_pgoff & ((1ULL << shift) - 1);
	u64 npages = vma_pages(vma);
	struct sr_claim *c;
	u64 first;
	u32 bar;
	bool wc;
	int ret;

	if (index >= VFIO_PCI_NUM_REGIONS && index < sd->nr_base)
		return vfio_pci_core_mmap(core_vdev, vma);	/* the core's dynamic regions */

	mutex_lock(&sd->lock);
	if (index <= VFIO_PCI_BAR5_REGION_INDEX) {
		bar = index;
		first = pgoff;
		wc = sd->st[index].attrs & VFIO_REGION_ATTR_WC;
	} else if (index >= sd->nr_base && index < sd->nr_base + sd->nr_sub) {
		struct sr_subregion *s = &sd->sub[index - sd->nr_base];

		if (!(vma->vm_flags & VM_SHARED) || pgoff >= PAGE_ALIGN(s->size) >> PAGE_SHIFT ||
		    npages > (PAGE_ALIGN(s->size) >> PAGE_SHIFT) - pgoff) {
			ret = -EINVAL;
			goto out;
		}
		/* The same mapping of the parent (fd-offset-bound keeps it inside the parent's index) */
		bar = s->parent_index;
		first = (s->parent_offset >> PAGE_SHIFT) + pgoff;
		wc = s->attrs & VFIO_REGION_ATTR_WC;
		vma->vm_pgoff = ((u64)bar << shift) + first;
	} else {
		ret = -EINVAL;		/* ROM, config, VGA (the core refuses them too) or unknown */
		goto out;
	}
	ret = vfio_pci_core_mmap(core_vdev, vma);
	if (ret)
		goto out;
	ret = sr_wrap_vm_ops(sd, vma);
	if (ret)
		goto out;
	c = sr_claim_new(sd, bar, first, npages, wc, false);
	if (IS_ERR(c)) {
		ret = PTR_ERR(c);
		goto out;
	}
	c->pgoff0 = vma->vm_pgoff;	/* as the core left it: derived vmas keep its encoding */
	ret = xa_err(xa_store(&sd->vmas, (unsigned long)vma, c, GFP_KERNEL));
	if (ret) {
		sr_claim_put(sd, c);
		goto out;
	}
	if (wc)
		vma->vm_page_prot = pgprot_writecombine(vma->vm_page_prot);
	atomic_inc(&sr_live_maps);
out:
	mutex_unlock(&sd->lock);
	return ret;
}

/* ---- read/write: owned BARs per access; a subregion is its parent's bytes at its offset ---- */

static ssize_t sr_rw(struct sr_device *sd, char __user *buf, size_t count, loff_t *ppos,
		     bool iswrite)
{
	struct vfio_device *core_vdev = &sd->core.vdev;
	u64 index = VFIO_PCI_OFFSET_TO_INDEX(*ppos);
	u64 pos = *ppos & VFIO_PCI_OFFSET_MASK;
	struct sr_subregion s;
	loff_t ppos2;
	u32 flags;
	ssize_t ret;

	if (index <= VFIO_PCI_BAR5_REGION_INDEX && sd->owned[index]) {
		if (!count)
			return 0;
		ret = sr_bar_rw(sd, index, buf, count, pos, iswrite);
		if (ret > 0)
			*ppos += ret;
		return ret;
	}
	if (index < sd->nr_base) {
		return iswrite ? vfio_pci_core_write(core_vdev, buf, count, ppos)
			       : vfio_pci_core_read(core_vdev, buf, count, ppos);
	}
	mutex_lock(&sd->lock);
	if (index >= sd->nr_base + sd->nr_sub) {
		mutex_unlock(&sd->lock);
		return -EINVAL;
	}
	s = sd->sub[index - sd->nr_base];
	flags = sd->st[index].flags;
	mutex_unlock(&sd->lock);
	if (!(flags & (iswrite ? VFIO_REGION_INFO_FLAG_WRITE : VFIO_REGION_INFO_FLAG_READ)))
		return -EINVAL;
	if (pos >= s.size)
		return -EINVAL;
	count = min_t(u64, count, s.size - pos);
	if (sd->owned[s.parent_index]) {
		ret = sr_bar_rw(sd, s.parent_index, buf, count, s.parent_offset + pos, iswrite);
	} else {
		ppos2 = VFIO_PCI_INDEX_TO_OFFSET(s.parent_index) + s.parent_offset + pos;
		ret = iswrite ? vfio_pci_core_write(core_vdev, buf, count, &ppos2)
			      : vfio_pci_core_read(core_vdev, buf, count, &ppos2);
	}
	if (ret > 0)
		*ppos += ret;
	return ret;
}

static ssize_t sr_read(struct vfio_device *core_vdev, char __user *buf, size_t count,
		       loff_t *ppos)
{
	return sr_rw(to_sr(core_vdev), buf, count, ppos, false);
}

static ssize_t sr_write(struct vfio_device *core_vdev, const char __user *buf, size_t count,
			loff_t *ppos)
{
	return sr_rw(to_sr(core_vdev), (char __user *)buf, count, ppos, true);
}

/* ---- region info ---- */

/*
 * Region info the driver answers itself: subregions, and BARs carrying attributes (the core's
 * answer for a BAR plus CAP_ATTRS; a BAR offering attributes is never the MSI-X BAR, so the core
 * adds no capability of its own). Returns 1 for regions the core answers as upstream.
 */
static int sr_region_info(struct sr_device *sd, struct vfio_region_info *info,
			  struct vfio_info_cap *caps)
{
	struct sr_subregion s = {};
	bool is_sub = false;
	u32 attrs, idx = info->index;
	int ret;

	mutex_lock(&sd->lock);
	if (idx < sd->nr_base) {
		attrs = idx <= VFIO_PCI_BAR5_REGION_INDEX ? sd->st[idx].attrs : 0;
		if (!attrs) {
			mutex_unlock(&sd->lock);
			return 1;
		}
		info->size = pci_resource_len(sd->core.pdev, idx);
		info->flags = sd->st[idx].flags & ~VFIO_REGION_INFO_FLAG_CAPS;
	} else if (idx < sd->nr_base + sd->nr_sub) {
		s = sd->sub[idx - sd->nr_base];
		attrs = s.attrs;
		is_sub = true;
		info->size = s.size;
		info->flags = sd->st[idx].flags & ~VFIO_REGION_INFO_FLAG_CAPS;
	} else {
		mutex_unlock(&sd->lock);
		return -EINVAL;
	}
	mutex_unlock(&sd->lock);
	info->offset = VFIO_PCI_INDEX_TO_OFFSET(idx);

	if (is_sub) {
		struct vfio_region_info_cap_subregion cap = {
			.header.id = VFIO_REGION_INFO_CAP_SUBREGION,
			.header.version = 1,
			.parent_index = s.parent_index,
			.offset = s.parent_offset,
		};

		ret = vfio_info_add_capability(caps, &cap.header, sizeof(cap));
		if (ret)
			return ret;
	}
	if (attrs) {
		struct vfio_region_info_cap_attrs cap = {
			.header.id = VFIO_REGION_INFO_CAP_ATTRS,
			.header.version = 1,
			.attrs = attrs,
		};

		ret = vfio_info_add_capability(caps, &cap.header, sizeof(cap));
		if (ret)
			return ret;
	}
	return 0;
}

#ifdef SR_HAVE_REGION_INFO_CAPS
/* The vfio core copies region info in and out and asks the driver for the info and its caps. */
static int sr_get_region_info_caps(struct vfio_device *core_vdev, struct vfio_region_info *info,
				   struct vfio_info_cap *caps)
{
	int ret = sr_region_info(to_sr(core_vdev), info, caps);

	return ret == 1 ? vfio_pci_ioctl_get_region_info(core_vdev, info, caps) : ret;
}
#else
/* The driver's ioctl answers region info: the copying the vfio core does itself since 6.19. */
static long sr_ioctl_get_region_info(struct sr_device *sd, unsigned int cmd, unsigned long arg)
{
	unsigned long minsz = offsetofend(struct vfio_region_info, offset);
	struct vfio_region_info __user *uarg = (void __user *)arg;
	struct vfio_info_cap caps = { .buf = NULL, .size = 0 };
	struct vfio_region_info info;
	int ret;

	if (copy_from_user(&info, uarg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	ret = sr_region_info(sd, &info, &caps);
	if (ret == 1)
		return vfio_pci_core_ioctl(&sd->core.vdev, cmd, arg);	/* as upstream */
	if (ret)
		goto out;
	if (caps.size) {
		info.flags |= VFIO_REGION_INFO_FLAG_CAPS;
		if (info.argsz < sizeof(info) + caps.size) {
			info.argsz = sizeof(info) + caps.size;
			info.cap_offset = 0;
		} else {
			vfio_info_cap_shift(&caps, sizeof(info));
			if (copy_to_user(uarg + 1, caps.buf, caps.size)) {
				ret = -EFAULT;
				goto out;
			}
			info.cap_offset = sizeof(info);
		}
	}
	if (copy_to_user(uarg, &info, minsz))
		ret = -EFAULT;
out:
	kfree(caps.buf);
	return ret;
}
#endif

/* ---- ioctls ---- */

static long sr_get_info(struct sr_device *sd, unsigned int cmd, unsigned long arg)
{
	struct vfio_device_info __user *uinfo = (void __user *)arg;
	long ret = vfio_pci_core_ioctl(&sd->core.vdev, cmd, arg);
	u32 n;

	if (ret)
		return ret;
	mutex_lock(&sd->lock);
	n = sd->nr_base + sd->nr_sub;
	mutex_unlock(&sd->lock);
	if (n != VFIO_PCI_NUM_REGIONS + (u32)sd->core.num_regions && put_user(n, &uinfo->num_regions))
		return -EFAULT;
	return 0;
}

/* An ioeventfd keeps a kernel mapping for its lifetime: not on BARs mapped per access. */
static long sr_ioeventfd(struct sr_device *sd, unsigned int cmd, unsigned long arg)
{
	unsigned long minsz = offsetofend(struct vfio_device_ioeventfd, fd);
	struct vfio_device_ioeventfd ioeventfd;
	u64 index;

	if (copy_from_user(&ioeventfd, (void __user *)arg, minsz))
		return -EFAULT;
	index = VFIO_PCI_OFFSET_TO_INDEX(ioeventfd.offset);
	if (ioeventfd.argsz >= minsz && index <= VFIO_PCI_BAR5_REGION_INDEX && sd->owned[index])
		return -EBUSY;
	return vfio_pci_core_ioctl(&sd->core.vdev, cmd, arg);
}

static long sr_ioctl(struct vfio_device *core_vdev, unsigned int cmd, unsigned long arg)
{
	struct sr_device *sd = to_sr(core_vdev);

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO:
		return sr_get_info(sd, cmd, arg);
#ifndef SR_HAVE_REGION_INFO_CAPS
	case VFIO_DEVICE_GET_REGION_INFO:
		return sr_ioctl_get_region_info(sd, cmd, arg);
#endif
	case VFIO_DEVICE_IOEVENTFD:
		return sr_ioeventfd(sd, cmd, arg);
	default:
		return vfio_pci_core_ioctl(core_vdev, cmd, arg);
	}
}

static int sr_feature_subregion(struct sr_device *sd, u32 flags, void __user *arg, size_t argsz)
{
	struct vfio_device_feature_subregion req;
	struct vfio_subregion_region_state nst = {};
	struct vfio_subregion_device_state ds;
	u32 n;
	int ret;

	ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET, sizeof(req));
	if (ret != 1)
		return ret;
	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;

	mutex_lock(&sd->create_lock);
	mutex_lock(&sd->lock);
	sr_fill_state(sd, &ds);
	ret = vfio_check_subregion_create(&ds, &req, NULL);
	if (!ret)
		vfio_apply_subregion_create(&ds, &req, &nst);
	mutex_unlock(&sd->lock);
	if (ret)
		goto out;
	/* The index reaches userspace before the region exists (create_lock keeps it ours). */
	if (copy_to_user(arg, &req, sizeof(req))) {
		ret = -EFAULT;
		goto out;
	}
	mutex_lock(&sd->lock);
	n = sd->nr_sub;
	sd->sub[n].size = nst.size;
	sd->sub[n].parent_offset = nst.parent_offset;
	sd->sub[n].parent_index = nst.parent_index;
	sd->sub[n].attrs = nst.attrs;
	sd->st[sd->nr_base + n] = nst;
	sd->nr_sub = n + 1;
	mutex_unlock(&sd->lock);
	atomic_inc(&sr_live_subregions);
out:
	mutex_unlock(&sd->create_lock);
	return ret;
}

static int sr_feature_region_attrs(struct sr_device *sd, u32 flags, void __user *arg,
				   size_t argsz)
{
	struct vfio_device_feature_region_attrs req;
	struct vfio_subregion_device_state ds;
	int ret;

	ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET,
				 sizeof(req));
	if (ret != 1)
		return ret;
	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;

	mutex_lock(&sd->lock);
	sr_fill_state(sd, &ds);
	if (flags & VFIO_DEVICE_FEATURE_GET) {
		ret = vfio_check_region_attrs_get(&ds, &req, NULL);
		if (!ret)
			vfio_apply_region_attrs_get(&ds, &req);
	} else {
		ret = vfio_check_region_attrs_set(&ds, &req, NULL);
		if (!ret)
			vfio_apply_region_attrs_set(&ds, &req);
	}
	mutex_unlock(&sd->lock);
	if (!ret && (flags & VFIO_DEVICE_FEATURE_GET) && copy_to_user(arg, &req, sizeof(req)))
		ret = -EFAULT;
	return ret;
}

static int sr_device_feature(struct vfio_device *core_vdev, u32 flags, void __user *arg,
			     size_t argsz)
{
	struct sr_device *sd = to_sr(core_vdev);

	switch (flags & VFIO_DEVICE_FEATURE_MASK) {
	case VFIO_DEVICE_FEATURE_SUBREGION:
		return sr_feature_subregion(sd, flags, arg, argsz);
	case VFIO_DEVICE_FEATURE_REGION_ATTRS:
		return sr_feature_region_attrs(sd, flags, arg, argsz);
	default:
		return vfio_pci_core_ioctl_feature(core_vdev, flags, arg, argsz);
	}
}

/* ---- lifetime ---- */

static int sr_open_device(struct vfio_device *core_vdev)
{
	struct sr_device *sd = to_sr(core_vdev);
	int ret;

	ret = vfio_pci_core_enable(&sd->core);
	if (ret)
		return ret;
	vfio_pci_core_finish_enable(&sd->core);
	mutex_lock(&sd->create_lock);
	mutex_lock(&sd->lock);
	ret = sr_state_init(sd);
	mutex_unlock(&sd->lock);
	mutex_unlock(&sd->create_lock);
	if (ret)
		vfio_pci_core_close_device(core_vdev);
	return ret;
}

static void sr_close_device(struct vfio_device *core_vdev)
{
	struct sr_device *sd = to_sr(core_vdev);

	mutex_lock(&sd->create_lock);
	mutex_lock(&sd->lock);
	sr_state_free(sd);
	mutex_unlock(&sd->lock);
	mutex_unlock(&sd->create_lock);
	vfio_pci_core_close_device(core_vdev);
}

static int sr_init_dev(struct vfio_device *core_vdev)
{
	struct sr_device *sd = to_sr(core_vdev);

	mutex_init(&sd->create_lock);
	mutex_init(&sd->lock);
	mutex_init(&sd->io_lock);
	INIT_LIST_HEAD(&sd->claims);
	xa_init(&sd->vmas);
	return vfio_pci_core_init_dev(core_vdev);
}

static void sr_release_dev(struct vfio_device *core_vdev)
{
	struct sr_device *sd = to_sr(core_vdev);

	mutex_destroy(&sd->io_lock);
	mutex_destroy(&sd->lock);
	mutex_destroy(&sd->create_lock);
	vfio_pci_core_release_dev(core_vdev);
}

static const struct vfio_device_ops sr_vfio_ops = {
	.name		= "vfio-pci-subregion",
	.init		= sr_init_dev,
	.release	= sr_release_dev,
	.open_device	= sr_open_device,
	.close_device	= sr_close_device,
	.ioctl		= sr_ioctl,
#ifdef SR_HAVE_REGION_INFO_CAPS
	.get_region_info_caps = sr_get_region_info_caps,
#endif
	.device_feature	= sr_device_feature,
	.read		= sr_read,
	.write		= sr_write,
	.mmap		= sr_mmap,
	.request	= vfio_pci_core_request,
	.match		= vfio_pci_core_match,
#ifdef SR_HAVE_MATCH_TOKEN_UUID
	.match_token_uuid = vfio_pci_core_match_token_uuid,
#endif
#if IS_ENABLED(CONFIG_IOMMUFD)
	.bind_iommufd	= vfio_iommufd_physical_bind,
	.unbind_iommufd	= vfio_iommufd_physical_unbind,
	.attach_ioas	= vfio_iommufd_physical_attach_ioas,
	.detach_ioas	= vfio_iommufd_physical_detach_ioas,
#endif
};

static int sr_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct sr_device *sd;
	int ret;

	sd = vfio_alloc_device(sr_device, core.vdev, &pdev->dev, &sr_vfio_ops);
	if (IS_ERR(sd))
		return PTR_ERR(sd);
	dev_set_drvdata(&pdev->dev, &sd->core);
	ret = vfio_pci_core_register_device(&sd->core);
	if (ret) {
		vfio_put_device(&sd->core.vdev);
		return ret;
	}
	return 0;
}

static void sr_remove(struct pci_dev *pdev)
{
	struct vfio_pci_core_device *vdev = dev_get_drvdata(&pdev->dev);

	vfio_pci_core_unregister_device(vdev);
	vfio_put_device(&vdev->vdev);
}

static const struct pci_device_id sr_table[] = {
	/* Any device, but only through driver_override, like vfio-pci's dynamic ids. */
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_ANY_ID, PCI_ANY_ID) },
	{}
};

static struct pci_driver sr_driver = {
	.name			= "vfio-pci-subregion",
	.id_table		= sr_table,
	.probe			= sr_probe,
	.remove			= sr_remove,
	.err_handler		= &vfio_pci_core_err_handlers,
	.driver_managed_dma	= true,
};

module_pci_driver(sr_driver);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vfio-pci variant driver: VFIO subregions with memory attributes (write-combining)");
