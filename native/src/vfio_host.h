/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/* The real VFIO device paths: the legacy group/container one and the iommufd cdev one. */
#ifndef VFIO_HOST_H
#define VFIO_HOST_H

#include <stdint.h>

struct host_err {
	int err;		/* positive errno */
	const char *syscall;	/* "open" or "ioctl" */
	char what[256];		/* the call, e.g. "ioctl(fd=5, VFIO_GROUP_GET_STATUS)" */
	const char *note;	/* why, when the call itself succeeded but its answer was refused */
};

/* fds: container, group, device. 0 or -1 with *e filled; on failure nothing stays open. */
int host_open_group_device(const char *container_path, const char *group_path,
			   const char *device_name, int fds[3], struct host_err *e);
/* fds: iommufd, device; *ioas: the IOAS the device is attached to. */
int host_open_cdev_device(const char *cdev_path, const char *iommu_path, int fds[2], uint32_t *ioas,
			  struct host_err *e);

#endif /* VFIO_HOST_H */
