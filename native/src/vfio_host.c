// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * The real VFIO device paths. Both return every fd they opened on success and close all of them on
 * any failure, so a failed open leaks nothing.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "vfio_host.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/iommufd.h>	/* the system's, or the generated one in native/include/fallback */
#include <linux/vfio.h>

/*
 * The VFIO cdev ioctls (Linux 6.6). The <linux/vfio.h> of the build machine may predate them
 * (Debian 12 ships 6.1's), so the structs and numbers are defined here, byte-identical to
 * include/uapi/linux/vfio.h.
 */
#ifndef VFIO_DEVICE_BIND_IOMMUFD
struct vfio_device_bind_iommufd {
	uint32_t argsz;
	uint32_t flags;
	int32_t iommufd;
	uint32_t out_devid;
};
#define VFIO_DEVICE_BIND_IOMMUFD _IO(VFIO_TYPE, VFIO_BASE + 18)
#endif

#ifndef VFIO_DEVICE_ATTACH_IOMMUFD_PT
struct vfio_device_attach_iommufd_pt {
	uint32_t argsz;
	uint32_t flags;
	uint32_t pt_id;
};
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 19)
#endif

static int fail(struct host_err *e, int err, const char *syscall, const char *note)
{
	e->err = err;
	e->syscall = syscall;
	e->note = note;
	return -1;
}

static int do_open(const char *path, struct host_err *e)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		snprintf(e->what, sizeof(e->what), "open(%s)", path);
		fail(e, errno, "open", NULL);
	}
	return fd;
}

/* ioctl; on failure records "ioctl(fd=N, NAME)". */
static int do_ioctl(int fd, unsigned long req, const char *name, void *arg, struct host_err *e)
{
	int r;

	do {
		r = ioctl(fd, req, arg);
	} while (r < 0 && errno == EINTR);
	if (r < 0) {
		snprintf(e->what, sizeof(e->what), "ioctl(fd=%d, %s)", fd, name);
		fail(e, errno, "ioctl", NULL);
	}
	return r;
}

static void close_all(const int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

int host_open_group_device(const char *container_path, const char *group_path,
			   const char *device_name, int fds[3], struct host_err *e)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	int container = -1, group = -1, device = -1, r;
	int opened[2];

	memset(e, 0, sizeof(*e));
	container = do_open(container_path, e);
	if (container < 0)
		return -1;
	r = do_ioctl(container, VFIO_GET_API_VERSION, "VFIO_GET_API_VERSION", NULL, e);
	if (r < 0)
		goto out;
	if (r != VFIO_API_VERSION) {
		snprintf(e->what, sizeof(e->what), "ioctl(fd=%d, VFIO_GET_API_VERSION) = %d", container, r);
		fail(e, EINVAL, "ioctl", "unknown VFIO API version (expected 0)");
		goto out;
	}
	r = ioctl(container, VFIO_CHECK_EXTENSION, (unsigned long)VFIO_TYPE1v2_IOMMU);
	if (r <= 0) {
		snprintf(e->what, sizeof(e->what),
			 "ioctl(fd=%d, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU)", container);
		if (r < 0)
			fail(e, errno, "ioctl", NULL);
		else
			fail(e, EOPNOTSUPP, "ioctl", "the container does not support the type1v2 IOMMU");
		goto out;
	}
	group = do_open(group_path, e);
	if (group < 0)
		goto out;
	if (do_ioctl(group, VFIO_GROUP_GET_STATUS, "VFIO_GROUP_GET_STATUS", &status, e) < 0)
		goto out;
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		snprintf(e->what, sizeof(e->what), "ioctl(fd=%d, VFIO_GROUP_GET_STATUS)", group);
		fail(e, EBUSY, "ioctl",
		     "the group is not viable: bind every device in it to vfio-pci (or unbind it)");
		goto out;
	}
	if (do_ioctl(group, VFIO_GROUP_SET_CONTAINER, "VFIO_GROUP_SET_CONTAINER", &container, e) < 0)
		goto out;
	r = ioctl(container, VFIO_SET_IOMMU, (unsigned long)VFIO_TYPE1v2_IOMMU);
	if (r < 0) {
		snprintf(e->what, sizeof(e->what), "ioctl(fd=%d, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)",
			 container);
		fail(e, errno, "ioctl", NULL);
		goto out;
	}
	device = do_ioctl(group, VFIO_GROUP_GET_DEVICE_FD, "VFIO_GROUP_GET_DEVICE_FD",
			  (void *)device_name, e);
	if (device < 0)
		goto out;
	fds[0] = container;
	fds[1] = group;
	fds[2] = device;
	return 0;
out:
	opened[0] = group;
	opened[1] = container;
	close_all(opened, 2);
	return -1;
}

int host_open_cdev_device(const char *cdev_path, const char *iommu_path, int fds[2], uint32_t *ioas,
			  struct host_err *e)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach) };
	int device, iommufd = -1;
	int opened[2];

	memset(e, 0, sizeof(*e));
	device = do_open(cdev_path, e);
	if (device < 0)
		return -1;
	iommufd = do_open(iommu_path, e);
	if (iommufd < 0)
		goto out;
	bind.iommufd = iommufd;
	if (do_ioctl(device, VFIO_DEVICE_BIND_IOMMUFD, "VFIO_DEVICE_BIND_IOMMUFD", &bind, e) < 0)
		goto out;
	if (do_ioctl(iommufd, IOMMU_IOAS_ALLOC, "IOMMU_IOAS_ALLOC", &alloc, e) < 0)
		goto out;
	attach.pt_id = alloc.out_ioas_id;
	if (do_ioctl(device, VFIO_DEVICE_ATTACH_IOMMUFD_PT, "VFIO_DEVICE_ATTACH_IOMMUFD_PT", &attach,
		     e) < 0)
		goto out;
	fds[0] = iommufd;
	fds[1] = device;
	*ioas = alloc.out_ioas_id;
	return 0;
out:
	opened[0] = device;
	opened[1] = iommufd;
	close_all(opened, 2);
	return -1;
}
