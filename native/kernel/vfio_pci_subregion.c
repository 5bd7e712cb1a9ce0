// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-pci-subregion: a vfio-pci variant driver implementing the proposed VFIO subregion ABI
 * (<linux/vfio_subregion.h>, docs/vfio-subregion-abi.md) on top of vfio-pci-core (Linux 6.1).
 *
 *  - VFIO_DEVICE_FEATURE_SUBREGION (SET): a new region index that is a page-aligned window of a
 *    mmap-able region, with memory attributes (VFIO_REGION_ATTR_WC).
 *  - VFIO_DEVICE_FEATURE_REGION_ATTRS (GET/SET): the attributes of a whole region.
 *  - VFIO_DEVICE_GET_REGION_INFO answers subregion indexes (and BARs carrying attributes) with
 *    VFIO_REGION_INFO_CAP_SUBREGION / VFIO_REGION_INFO_CAP_ATTRS; GET_INFO counts subregions.
 *  - mmap of a subregion maps the window of the parent BAR through vfio-pci-core's own mmap (so
 *    its fault handler, memory-enable checks and zap-on-reset apply unchanged) with
 *    pgprot_writecombine when the region is WC.
 *
 * Every argument check is the generated validator's (native/validators/, built into this module):
 * the driver only fills struct vfio_subregion_device_state under its lock.
 *
 * x86 PAT: vfio-pci-core iomaps a BAR UC- (pci_iomap) on first use, and that memtype reservation
 * covering the whole BAR silently turns any later WC user mapping into UC-. For each BAR that
 * supports WC the driver therefore creates the kernel mapping itself at open (as the core would)
 * and drops its memtype reservation, so each user mapping reserves its own range with its own
 * type: a WC window shows as write-combining in /sys/kernel/debug/x86/pat_memtype_list while the
 * rest of the BAR, mapped UC, shows as uncached-minus. The reservation is re-taken before the
 * core's iounmap at close so the books balance. A physical page still has one memory type: a
 * mapping that overlaps a live mapping of another type gets the existing type (PAT's rule), so
 * userspace maps the WC window and the registers as disjoint ranges.
 *
 * Locking: sd->lock protects the region table and attributes; sd->create_lock serialises
 * creations across the copy_to_user of the new index (sd->lock is never held across user copies,
 * since mmap runs under mmap_lock and takes sd->lock). Live mappings are counted with atomics
 * from vm_ops open/close wrapped around the core's.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>
#include <linux/vfio_pci_core.h>

#include <linux/vfio_subregion.h>
#include "vfio_subregion_validate.h"

#define SR_MAX_LIMIT 4096

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

struct sr_subregion {
	u64 size;
	u64 parent_offset;
	u32 parent_index;
	u32 attrs;
};

struct sr_device {
	struct vfio_pci_core_device core;	/* first: vfio_alloc_device needs it at offset 0 */
	struct mutex create_lock;		/* outer: one creation at a time */
	struct mutex lock;			/* region table, attributes */
	u32 nr_base;				/* fixed + core dynamic regions: first subregion index */
	u32 nr_sub;
	u32 max_sub;
	struct sr_subregion *sub;		/* max_sub entries */
	struct vfio_subregion_region_state *st;	/* nr_base + max_sub entries: what validators read */
	atomic_t bar_maps[PCI_STD_NUM_BARS];	/* live vmas made from the BAR's own offset */
	atomic_t sub_maps;			/* live vmas made from subregions */
	bool untracked[PCI_STD_NUM_BARS];	/* barmap made here, memtype reservation dropped */
};

static struct sr_device *to_sr(struct vfio_device *core_vdev)
{
	return container_of(core_vdev, struct sr_device, core.vdev);
}

/* ---- BARs ---- */

static bool sr_bar_wc_candidate(struct vfio_pci_core_device *vdev, int bar)
{
	struct pci_dev *pdev = vdev->pdev;
	unsigned long flags = pci_resource_flags(pdev, bar);
	resource_size_t len = pci_resource_len(pdev, bar);

	return allow_wc && (flags & IORESOURCE_MEM) && (flags & IORESOURCE_PREFETCH) &&
	       vdev->bar_mmap_supported[bar] && len >= PAGE_SIZE &&
	       !(pci_resource_start(pdev, bar) & ~PAGE_MASK) && bar != vdev->msix_bar &&
	       !vdev->barmap[bar];
}

/*
 * Maps the BAR for the kernel the way vfio-pci-core would (request + pci_iomap) and drops the
 * UC- memtype reservation that mapping made, so it cannot override user WC mappings.
 */
static bool sr_bar_untrack(struct sr_device *sd, int bar)
{
	struct vfio_pci_core_device *vdev = &sd->core;
	struct pci_dev *pdev = vdev->pdev;
	void __iomem *io;

	if (pci_request_selected_regions(pdev, 1 << bar, "vfio-pci"))
		return false;
	io = pci_iomap(pdev, bar, 0);
	if (!io) {
		pci_release_selected_regions(pdev, 1 << bar);
		return false;
	}
	arch_io_free_memtype_wc(pci_resource_start(pdev, bar),
				PAGE_ALIGN(pci_resource_len(pdev, bar)));
	vdev->barmap[bar] = io;
	sd->untracked[bar] = true;
	return true;
}

/* Before the core iounmaps the BAR: give iounmap the reservation it will free. */
static void sr_bar_retrack(struct sr_device *sd, int bar)
{
	struct pci_dev *pdev = sd->core.pdev;

	if (!sd->untracked[bar])
		return;
	sd->untracked[bar] = false;
	if (sd->core.barmap[bar] &&
	    arch_io_reserve_memtype_wc(pci_resource_start(pdev, bar),
				       PAGE_ALIGN(pci_resource_len(pdev, bar))))
		pci_warn(pdev, "vfio-pci-subregion: BAR %d memtype still in use at close\n", bar);
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
		if (sr_bar_wc_candidate(vdev, i) && sr_bar_untrack(sd, i))
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

static int sr_state_init(struct sr_device *sd)
{
	struct vfio_pci_core_device *vdev = &sd->core;
	u32 max = min_t(u32, READ_ONCE(max_subregions), SR_MAX_LIMIT);
	int i;

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
	for (i = 0; i < PCI_STD_NUM_BARS; i++)
		atomic_set(&sd->bar_maps[i], 0);
	atomic_set(&sd->sub_maps, 0);
	sr_fill_fixed(sd);
	return 0;
}

static void sr_state_free(struct sr_device *sd)
{
	int i;

	for (i = 0; i < PCI_STD_NUM_BARS; i++)
		sr_bar_retrack(sd, i);
	WARN_ON(atomic_read(&sd->sub_maps));
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

	for (i = 0; i < PCI_STD_NUM_BARS; i++)
		sd->st[i].mapped = atomic_read(&sd->bar_maps[i]) > 0;
	ds->page_size = PAGE_SIZE;
	ds->num_regions = sd->nr_base + sd->nr_sub;
	ds->nr_subregions = sd->nr_sub;
	ds->max_subregions = sd->max_sub;
	ds->regions = sd->st;
}

/* ---- vm_ops: count live mappings around the core's vm_ops ---- */

static DEFINE_MUTEX(sr_ops_lock);
static const struct vm_operations_struct *sr_core_vm_ops;
static struct vm_operations_struct sr_bar_vm_ops;
static struct vm_operations_struct sr_sub_vm_ops;

static int sr_vma_bar(struct sr_device *sd, struct vm_area_struct *vma)
{
	struct pci_dev *pdev = sd->core.pdev;
	int i;

	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		unsigned long start = pci_resource_start(pdev, i) >> PAGE_SHIFT;
		unsigned long n = PAGE_ALIGN(pci_resource_len(pdev, i)) >> PAGE_SHIFT;

		if (n && vma->vm_pgoff >= start && vma->vm_pgoff - start < n)
			return i;
	}
	return -1;
}

static struct sr_device *sr_vma_dev(struct vm_area_struct *vma)
{
	struct vfio_pci_core_device *vdev = vma->vm_private_data;

	return container_of(vdev, struct sr_device, core);
}

static void sr_bar_vm_open(struct vm_area_struct *vma)
{
	struct sr_device *sd = sr_vma_dev(vma);
	int bar = sr_vma_bar(sd, vma);

	if (sr_core_vm_ops->open)
		sr_core_vm_ops->open(vma);
	if (bar >= 0)
		atomic_inc(&sd->bar_maps[bar]);
	atomic_inc(&sr_live_maps);
}

static void sr_bar_vm_close(struct vm_area_struct *vma)
{
	struct sr_device *sd = sr_vma_dev(vma);
	int bar = sr_vma_bar(sd, vma);

	if (bar >= 0)
		atomic_dec(&sd->bar_maps[bar]);
	atomic_dec(&sr_live_maps);
	if (sr_core_vm_ops->close)
		sr_core_vm_ops->close(vma);
}

static void sr_sub_vm_open(struct vm_area_struct *vma)
{
	if (sr_core_vm_ops->open)
		sr_core_vm_ops->open(vma);
	atomic_inc(&sr_vma_dev(vma)->sub_maps);
	atomic_inc(&sr_live_maps);
}

static void sr_sub_vm_close(struct vm_area_struct *vma)
{
	atomic_dec(&sr_vma_dev(vma)->sub_maps);
	atomic_dec(&sr_live_maps);
	if (sr_core_vm_ops->close)
		sr_core_vm_ops->close(vma);
}

/* Wraps the core's BAR vm_ops (captured from the first BAR mapping it makes). */
static int sr_wrap_vm_ops(struct vm_area_struct *vma, bool sub)
{
	mutex_lock(&sr_ops_lock);
	if (!sr_core_vm_ops) {
		sr_core_vm_ops = vma->vm_ops;
		sr_bar_vm_ops = *vma->vm_ops;
		sr_bar_vm_ops.open = sr_bar_vm_open;
		sr_bar_vm_ops.close = sr_bar_vm_close;
		sr_sub_vm_ops = *vma->vm_ops;
		sr_sub_vm_ops.open = sr_sub_vm_open;
		sr_sub_vm_ops.close = sr_sub_vm_close;
	}
	mutex_unlock(&sr_ops_lock);
	if (WARN_ON_ONCE(vma->vm_ops != sr_core_vm_ops))
		return -EINVAL;
	vma->vm_ops = sub ? &sr_sub_vm_ops : &sr_bar_vm_ops;
	return 0;
}

static int sr_mmap(struct vfio_device *core_vdev, struct vm_area_struct *vma)
{
	struct sr_device *sd = to_sr(core_vdev);
	const unsigned int shift = VFIO_PCI_OFFSET_SHIFT - PAGE_SHIFT;
	u64 index = vma->vm_pgoff >> shift;
	u64 pgoff = vma->vm_pgoff & ((1ULL << shift) - 1);
	pgprot_t prot = vma->vm_page_prot;
	struct sr_subregion s;
	u64 req_start, req_len;
	u32 attrs;
	int ret;

	if (index >= VFIO_PCI_NUM_REGIONS && index < sd->nr_base)
		return vfio_pci_core_mmap(core_vdev, vma);	/* the core's dynamic regions */

	mutex_lock(&sd->lock);
	if (index <= VFIO_PCI_BAR5_REGION_INDEX) {
		attrs = sd->st[index].attrs;
		ret = vfio_pci_core_mmap(core_vdev, vma);
		if (ret)
			goto out;
		ret = sr_wrap_vm_ops(vma, false);
		if (ret)
			goto out;
		if (attrs & VFIO_REGION_ATTR_WC)
			vma->vm_page_prot = pgprot_writecombine(prot);
		atomic_inc(&sd->bar_maps[index]);
		atomic_inc(&sr_live_maps);
		goto out;
	}
	if (index < VFIO_PCI_NUM_REGIONS || index >= sd->nr_base + sd->nr_sub) {
		ret = -EINVAL;		/* ROM, config, VGA (the core refuses them too) or unknown */
		goto out;
	}
	s = sd->sub[index - sd->nr_base];
	req_start = pgoff << PAGE_SHIFT;
	req_len = vma->vm_end - vma->vm_start;
	if (!(vma->vm_flags & VM_SHARED) || req_start >= PAGE_ALIGN(s.size) ||
	    req_len > PAGE_ALIGN(s.size) - req_start || s.parent_index > VFIO_PCI_BAR5_REGION_INDEX) {
		ret = -EINVAL;
		goto out;
	}
	/* The same mapping of the parent, made by the core; then the subregion's attributes. */
	vma->vm_pgoff = ((u64)s.parent_index << shift) + ((s.parent_offset + req_start) >> PAGE_SHIFT);
	ret = vfio_pci_core_mmap(core_vdev, vma);
	if (ret)
		goto out;
	ret = sr_wrap_vm_ops(vma, true);
	if (ret)
		goto out;
	if (s.attrs & VFIO_REGION_ATTR_WC)
		vma->vm_page_prot = pgprot_writecombine(prot);
	atomic_inc(&sd->sub_maps);
	atomic_inc(&sr_live_maps);
out:
	mutex_unlock(&sd->lock);
	return ret;
}

/* ---- read/write of a subregion: the parent's bytes at parent_offset ---- */

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
	ppos2 = VFIO_PCI_INDEX_TO_OFFSET(s.parent_index) + s.parent_offset + pos;
	ret = iswrite ? vfio_pci_core_write(core_vdev, buf, count, &ppos2)
		      : vfio_pci_core_read(core_vdev, buf, count, &ppos2);
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

static long sr_get_region_info(struct sr_device *sd, unsigned int cmd, unsigned long arg)
{
	unsigned long minsz = offsetofend(struct vfio_region_info, offset);
	struct vfio_info_cap caps = { .buf = NULL, .size = 0 };
	struct pci_dev *pdev = sd->core.pdev;
	struct vfio_region_info info;
	struct sr_subregion s = {};
	bool is_sub = false;
	u32 attrs, idx;
	int ret;

	if (copy_from_user(&info, (void __user *)arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	idx = info.index;

	mutex_lock(&sd->lock);
	if (idx < sd->nr_base) {
		attrs = idx <= VFIO_PCI_BAR5_REGION_INDEX ? sd->st[idx].attrs : 0;
		if (!attrs) {
			mutex_unlock(&sd->lock);
			return vfio_pci_core_ioctl(&sd->core.vdev, cmd, arg);	/* as upstream */
		}
		/* A BAR with attributes: the core's answer (a WC BAR is never the MSI-X BAR) + ATTRS */
		info.size = pci_resource_len(pdev, idx);
		info.flags = sd->st[idx].flags & ~VFIO_REGION_INFO_FLAG_CAPS;
	} else if (idx < sd->nr_base + sd->nr_sub) {
		s = sd->sub[idx - sd->nr_base];
		attrs = s.attrs;
		is_sub = true;
		info.size = s.size;
		info.flags = sd->st[idx].flags & ~VFIO_REGION_INFO_FLAG_CAPS;
	} else {
		mutex_unlock(&sd->lock);
		return -EINVAL;
	}
	mutex_unlock(&sd->lock);
	info.offset = VFIO_PCI_INDEX_TO_OFFSET(idx);

	if (is_sub) {
		struct vfio_region_info_cap_subregion cap = {
			.header.id = VFIO_REGION_INFO_CAP_SUBREGION,
			.header.version = 1,
			.parent_index = s.parent_index,
			.offset = s.parent_offset,
		};

		ret = vfio_info_add_capability(&caps, &cap.header, sizeof(cap));
		if (ret)
			return ret;
	}
	if (attrs) {
		struct vfio_region_info_cap_attrs cap = {
			.header.id = VFIO_REGION_INFO_CAP_ATTRS,
			.header.version = 1,
			.attrs = attrs,
		};

		ret = vfio_info_add_capability(&caps, &cap.header, sizeof(cap));
		if (ret) {
			kfree(caps.buf);
			return ret;
		}
	}
	ret = 0;
	if (caps.size) {
		info.flags |= VFIO_REGION_INFO_FLAG_CAPS;
		if (info.argsz < sizeof(info) + caps.size) {
			info.argsz = sizeof(info) + caps.size;
			info.cap_offset = 0;
		} else {
			vfio_info_cap_shift(&caps, sizeof(info));
			if (copy_to_user((void __user *)arg + sizeof(info), caps.buf, caps.size))
				ret = -EFAULT;
			info.cap_offset = sizeof(info);
		}
		kfree(caps.buf);
	}
	if (ret)
		return ret;
	return copy_to_user((void __user *)arg, &info, minsz) ? -EFAULT : 0;
}

static long sr_ioctl(struct vfio_device *core_vdev, unsigned int cmd, unsigned long arg)
{
	struct sr_device *sd = to_sr(core_vdev);

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO:
		return sr_get_info(sd, cmd, arg);
	case VFIO_DEVICE_GET_REGION_INFO:
		return sr_get_region_info(sd, cmd, arg);
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
	mutex_lock(&sd->create_lock);
	mutex_lock(&sd->lock);
	ret = sr_state_init(sd);
	mutex_unlock(&sd->lock);
	mutex_unlock(&sd->create_lock);
	if (ret) {
		vfio_pci_core_disable(&sd->core);
		return ret;
	}
	vfio_pci_core_finish_enable(&sd->core);
	return 0;
}

static void sr_close_device(struct vfio_device *core_vdev)
{
	struct sr_device *sd = to_sr(core_vdev);

	/* No vma is left: each holds a reference on the device file. */
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
	return vfio_pci_core_init_dev(core_vdev);
}

static void sr_release_dev(struct vfio_device *core_vdev)
{
	struct sr_device *sd = to_sr(core_vdev);

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
	.device_feature	= sr_device_feature,
	.read		= sr_read,
	.write		= sr_write,
	.mmap		= sr_mmap,
	.request	= vfio_pci_core_request,
	.match		= vfio_pci_core_match,
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
