// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * The simulated device's interrupts: VFIO_DEVICE_GET_IRQ_INFO and VFIO_DEVICE_SET_IRQS as
 * drivers/vfio/pci/vfio_pci_core.c and vfio_pci_intrs.c (6.1) answer them, with their errnos:
 * vfio_set_irqs_validate_and_prepare's EINVALs (index, start + count beyond the index's vectors,
 * unknown flag bits, data shorter than count elements), one of INTx, MSI and MSI-X active at a time
 * (EINVAL), an action the index does not implement (ENOTTY, as MSI masking), an fd that is not open
 * (EBADF) or not an eventfd (EINVAL). The device holds a duplicate of each eventfd, as the kernel
 * holds a reference to its context, and signals it by adding 1, as eventfd_signal does.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "sim_irq.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/vfio.h>

void sim_irqs_init(struct sim_irqs *s, uint32_t num_irqs, uint32_t msi, uint32_t msix)
{
	memset(s, 0, sizeof(*s));
	s->num_irqs = num_irqs;
	s->msi = msi;
	s->msix = msix;
	s->type = VFIO_PCI_NUM_IRQS;
	s->err_fd = s->req_fd = -1;
}

static void put_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Stops the active index (vfio_intx_disable, vfio_msi_disable). */
static void disable(struct sim_irqs *s)
{
	for (uint32_t i = 0; i < s->nr_ctx; i++)
		put_fd(&s->ctx[i]);
	free(s->ctx);
	s->ctx = NULL;
	s->nr_ctx = 0;
	s->type = VFIO_PCI_NUM_IRQS;
	s->intx_masked = s->intx_pending = 0;
}

void sim_irqs_clear(struct sim_irqs *s)
{
	disable(s);
	put_fd(&s->err_fd);
	put_fd(&s->req_fd);
}

/* vfio_pci_get_irq_count: vectors of an index; 0 for one the device does not have. */
static uint32_t irq_count(const struct sim_irqs *s, uint32_t index)
{
	if (index >= s->num_irqs)
		return 0;
	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
	case VFIO_PCI_ERR_IRQ_INDEX:
	case VFIO_PCI_REQ_IRQ_INDEX:
		return 1;
	case VFIO_PCI_MSI_IRQ_INDEX:
		return s->msi;
	case VFIO_PCI_MSIX_IRQ_INDEX:
		return s->msix;
	default:
		return 0;
	}
}

int sim_irqs_get_info(struct sim_irqs *s, void *arg, size_t len)
{
	struct vfio_irq_info info;
	size_t minsz = offsetof(struct vfio_irq_info, count) + sizeof(info.count);

	if (len < minsz)
		return -EFAULT;
	memcpy(&info, arg, minsz);
	if (info.argsz < minsz || info.index >= s->num_irqs || info.index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;
	info.flags = VFIO_IRQ_INFO_EVENTFD;
	if (info.index == VFIO_PCI_INTX_IRQ_INDEX)
		info.flags |= VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
	else
		info.flags |= VFIO_IRQ_INFO_NORESIZE;
	info.count = irq_count(s, info.index);
	memcpy(arg, &info, minsz);
	return 0;
}

/* eventfd_ctx_fdget: a reference (a duplicate) to the eventfd fd; EBADF, or EINVAL for another file. */
static int eventfd_get(int32_t fd, int *out)
{
	char link[64], path[32];
	ssize_t n;

	if (fd < 0 || fcntl(fd, F_GETFD) < 0)
		return -EBADF;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -EBADF;
	link[n] = '\0';
	if (strcmp(link, "anon_inode:[eventfd]"))
		return -EINVAL;
	*out = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	return *out < 0 ? -errno : 0;
}

static void signal_fd(struct sim_irqs *s, int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) == sizeof(one))
		s->interrupts++;
}

/* vfio_send_intx_eventfd: signal and automask; while masked the interrupt waits for the unmask. */
static int send_intx(struct sim_irqs *s)
{
	if (s->intx_masked) {
		s->intx_pending = 1;
		return -EAGAIN;
	}
	if (s->ctx[0] < 0) {
		s->lost++;
		return -ENOENT;
	}
	signal_fd(s, s->ctx[0]);
	s->intx_masked = 1;
	return 0;
}

static int intx_trigger(struct sim_irqs *s, uint32_t start, uint32_t count, uint32_t flags, const uint8_t *data)
{
	int fd = -1, err;

	if (s->type == VFIO_PCI_INTX_IRQ_INDEX && !count && (flags & VFIO_IRQ_SET_DATA_NONE)) {
		disable(s);
		return 0;
	}
	if ((s->type != VFIO_PCI_INTX_IRQ_INDEX && s->type != VFIO_PCI_NUM_IRQS) || start != 0 || count != 1)
		return -EINVAL;
	if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		int32_t want;

		memcpy(&want, data, sizeof(want));
		if (want >= 0) {
			err = eventfd_get(want, &fd);
			if (err)
				return err;
		}
		if (s->type == VFIO_PCI_NUM_IRQS) {
			s->ctx = malloc(sizeof(*s->ctx));
			if (!s->ctx) {
				put_fd(&fd);
				return -ENOMEM;
			}
			s->nr_ctx = 1;
			s->type = VFIO_PCI_INTX_IRQ_INDEX;
		} else {
			put_fd(&s->ctx[0]);
		}
		s->ctx[0] = fd;
		return 0;
	}
	if (s->type != VFIO_PCI_INTX_IRQ_INDEX)
		return -EINVAL;
	if ((flags & VFIO_IRQ_SET_DATA_NONE) || data[0])
		send_intx(s);
	return 0;
}

static int intx_mask(struct sim_irqs *s, uint32_t start, uint32_t count, uint32_t flags, const uint8_t *data, int mask)
{
	if (s->type != VFIO_PCI_INTX_IRQ_INDEX || start != 0 || count != 1)
		return -EINVAL;
	if (flags & VFIO_IRQ_SET_DATA_EVENTFD)
		return -ENOTTY;		/* unmask through an irqfd is not simulated */
	if (!(flags & VFIO_IRQ_SET_DATA_NONE) && !data[0])
		return 0;
	if (mask) {
		s->intx_masked = 1;
	} else if (s->intx_masked) {
		s->intx_masked = 0;
		if (s->intx_pending) {
			s->intx_pending = 0;
			send_intx(s);
		}
	}
	return 0;
}

/* vfio_msi_set_block: every vector of [start, start + count) gets its eventfd (or none: -1), or none changes. */
static int set_block(struct sim_irqs *s, uint32_t start, uint32_t count, const uint8_t *data)
{
	uint32_t i;
	int *fds, err = 0;

	if (start >= s->nr_ctx || start + count > s->nr_ctx)
		return -EINVAL;
	fds = calloc(count ? count : 1, sizeof(*fds));
	if (!fds)
		return -ENOMEM;
	for (i = 0; i < count; i++)
		fds[i] = -1;
	for (i = 0; i < count && !err; i++) {
		int32_t want;

		memcpy(&want, data + 4 * (size_t)i, sizeof(want));
		if (want >= 0)
			err = eventfd_get(want, &fds[i]);
	}
	for (i = 0; i < count; i++) {
		if (err) {
			put_fd(&fds[i]);
		} else {
			put_fd(&s->ctx[start + i]);
			s->ctx[start + i] = fds[i];
		}
	}
	free(fds);
	return err;
}

static int msi_trigger(struct sim_irqs *s, uint32_t index, uint32_t start, uint32_t count, uint32_t flags, const uint8_t *data)
{
	if (s->type == index && !count && (flags & VFIO_IRQ_SET_DATA_NONE)) {
		disable(s);
		return 0;
	}
	if (s->type != index && s->type != VFIO_PCI_NUM_IRQS)
		return -EINVAL;
	if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		int enabled = s->type == index, err;

		if (!enabled) {
			/* vfio_msi_enable: as many contexts as the first request reaches */
			s->ctx = malloc((size_t)(start + count) * sizeof(*s->ctx));
			if (!s->ctx)
				return -ENOMEM;
			s->nr_ctx = start + count;
			for (uint32_t i = 0; i < s->nr_ctx; i++)
				s->ctx[i] = -1;
			s->type = index;
		}
		err = set_block(s, start, count, data);
		if (err && !enabled)
			disable(s);	/* as vfio_pci_set_msi_trigger */
		return err;
	}
	if (s->type != index || start + count > s->nr_ctx)
		return -EINVAL;
	for (uint32_t i = start; i < start + count; i++)
		if (s->ctx[i] >= 0 && ((flags & VFIO_IRQ_SET_DATA_NONE) || data[i - start]))
			signal_fd(s, s->ctx[i]);
	return 0;
}

/* vfio_pci_set_ctx_trigger_single: the error and request notifiers. */
static int single_trigger(struct sim_irqs *s, int *ctx, uint32_t start, uint32_t count, uint32_t flags, const uint8_t *data)
{
	if (start != 0 || count > 1)
		return -EINVAL;
	if (flags & VFIO_IRQ_SET_DATA_NONE) {
		if (*ctx >= 0) {
			if (count)
				signal_fd(s, *ctx);
			else
				put_fd(ctx);
		}
		return 0;
	}
	if (!count)
		return -EINVAL;
	if (flags & VFIO_IRQ_SET_DATA_BOOL) {
		if (data[0] && *ctx >= 0)
			signal_fd(s, *ctx);
		return 0;
	}
	int32_t want;
	int fd, err;

	memcpy(&want, data, sizeof(want));
	if (want == -1) {
		put_fd(ctx);
	} else if (want >= 0) {
		err = eventfd_get(want, &fd);
		if (err)
			return err;
		put_fd(ctx);
		*ctx = fd;
	}
	return 0;
}

int sim_irqs_set(struct sim_irqs *s, void *arg, size_t len)
{
	struct vfio_irq_set hdr;
	size_t minsz = offsetof(struct vfio_irq_set, count) + sizeof(hdr.count), size = 0;
	const uint8_t *data;
	uint32_t max;

	if (len < minsz)
		return -EFAULT;
	memcpy(&hdr, arg, minsz);
	/* vfio_set_irqs_validate_and_prepare */
	if (hdr.argsz < minsz || hdr.index >= VFIO_PCI_NUM_IRQS || hdr.count >= UINT32_MAX - hdr.start ||
	    hdr.flags & ~(uint32_t)(VFIO_IRQ_SET_DATA_TYPE_MASK | VFIO_IRQ_SET_ACTION_TYPE_MASK))
		return -EINVAL;
	max = irq_count(s, hdr.index);
	if (hdr.start >= max || hdr.start + hdr.count > max)
		return -EINVAL;
	switch (hdr.flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
	case VFIO_IRQ_SET_DATA_NONE:
		break;
	case VFIO_IRQ_SET_DATA_BOOL:
		size = 1;
		break;
	case VFIO_IRQ_SET_DATA_EVENTFD:
		size = 4;
		break;
	default:
		return -EINVAL;
	}
	if (size && hdr.argsz - minsz < (size_t)hdr.count * size)
		return -EINVAL;
	if (len - minsz < (size_t)hdr.count * size)
		return -EFAULT;
	data = (const uint8_t *)arg + minsz;
	switch (hdr.index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		switch (hdr.flags & VFIO_IRQ_SET_ACTION_TYPE_MASK) {
		case VFIO_IRQ_SET_ACTION_MASK:
			return intx_mask(s, hdr.start, hdr.count, hdr.flags, data, 1);
		case VFIO_IRQ_SET_ACTION_UNMASK:
			return intx_mask(s, hdr.start, hdr.count, hdr.flags, data, 0);
		case VFIO_IRQ_SET_ACTION_TRIGGER:
			return intx_trigger(s, hdr.start, hdr.count, hdr.flags, data);
		}
		break;
	case VFIO_PCI_MSI_IRQ_INDEX:
	case VFIO_PCI_MSIX_IRQ_INDEX:
		if ((hdr.flags & VFIO_IRQ_SET_ACTION_TYPE_MASK) == VFIO_IRQ_SET_ACTION_TRIGGER)
			return msi_trigger(s, hdr.index, hdr.start, hdr.count, hdr.flags, data);
		break;
	case VFIO_PCI_ERR_IRQ_INDEX:
	case VFIO_PCI_REQ_IRQ_INDEX:
		if ((hdr.flags & VFIO_IRQ_SET_ACTION_TYPE_MASK) == VFIO_IRQ_SET_ACTION_TRIGGER)
			return single_trigger(s, hdr.index == VFIO_PCI_ERR_IRQ_INDEX ? &s->err_fd : &s->req_fd,
					      hdr.start, hdr.count, hdr.flags, data);
		break;
	}
	return -ENOTTY;
}

int sim_irqs_signal(struct sim_irqs *s, uint32_t index, uint32_t vector)
{
	int fd;

	if (vector >= irq_count(s, index))
		return -EINVAL;
	if (index == VFIO_PCI_ERR_IRQ_INDEX || index == VFIO_PCI_REQ_IRQ_INDEX) {
		fd = index == VFIO_PCI_ERR_IRQ_INDEX ? s->err_fd : s->req_fd;
	} else if (s->type != index || vector >= s->nr_ctx) {
		s->lost++;
		return -ENOENT;
	} else if (index == VFIO_PCI_INTX_IRQ_INDEX) {
		return send_intx(s);
	} else {
		fd = s->ctx[vector];
	}
	if (fd < 0) {
		s->lost++;
		return -ENOENT;
	}
	signal_fd(s, fd);
	return 0;
}

size_t sim_irqs_nr_eventfds(const struct sim_irqs *s)
{
	size_t n = (s->err_fd >= 0) + (s->req_fd >= 0);

	for (uint32_t i = 0; i < s->nr_ctx; i++)
		n += s->ctx[i] >= 0;
	return n;
}
