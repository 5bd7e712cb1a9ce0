// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * The native baseline of `npm run bench`: the same call sequences tools/bench.ts makes through
 * the TypeScript API, made directly in C against the simulator. Prints one JSON object: ns per op.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <linux/vfio.h>
#include <linux/vfio_subregion.h>
#include "sim.h"
#include "vfio_subregion_validate.h"
#include "bench_device.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "bench_sim: %s: %s\n", what, strerror(-err));
	exit(1);
}

/* GET_REGION_INFO with the argsz retry, then a walk of the chain: what Device.region() does. */
static void region_info(struct sim_device *dev, __u32 index, __u64 *size, __u64 *offset)
{
	unsigned char buf[256];
	struct vfio_region_info *info = (struct vfio_region_info *)buf;
	struct vfio_cap_cursor cur;
	__u32 argsz = sizeof(*info);
	int ret;

	for (;;) {
		memset(buf, 0, argsz);
		info->argsz = argsz;
		info->index = index;
		ret = sim_ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, buf, argsz);
		if (ret < 0)
			die("VFIO_DEVICE_GET_REGION_INFO", ret);
		ret = vfio_region_info_cap_first(buf, argsz, &cur);
		if (ret != -ENOSPC)
			break;
		argsz = cur.retry;
	}
	while (ret > 0)
		ret = vfio_region_info_cap_next(&cur);
	if (ret < 0)
		die("capability chain", ret);
	*size = info->size;
	*offset = info->offset;
}

/*
 * The device: BENCH_DEVICE of tools/bench.ts (one 256 KiB memory BAR that allows WC, the simulator's
 * ceiling of subregions), printed as C by tools/sim-config-c.ts into bench_device.h, which
 * tools/bench.ts writes and puts on the include path.
 */
static struct sim_device *make_device(void)
{
	struct sim_device *dev;
	int ret = sim_create(&bench_device, &dev);

	if (ret < 0)
		die("sim_create", ret);
	return dev;
}

/* VFIO_DEVICE_FEATURE_SUBREGION, its REGION_INFO, mmap and munmap: what the TypeScript sequence does. */
static void create_map_unmap(struct sim_device *dev)
{
	struct {
		struct vfio_device_feature hdr;
		struct vfio_device_feature_subregion sub;
	} req = {
		.hdr = { .argsz = sizeof(req), .flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_SUBREGION },
		.sub = { .offset = 128 << 10, .size = 64 << 10, .attrs = VFIO_REGION_ATTR_WC },
	};
	__u64 size, offset;
	void *addr;
	int ret = sim_ioctl(dev, VFIO_DEVICE_FEATURE, &req, sizeof(req));

	if (ret < 0)
		die("VFIO_DEVICE_FEATURE_SUBREGION", ret);
	region_info(dev, req.sub.index, &size, &offset);
	ret = sim_mmap(dev, offset, size, PROT_READ | PROT_WRITE, &addr);
	if (ret < 0)
		die("mmap", ret);
	ret = sim_munmap(dev, addr);
	if (ret < 0)
		die("munmap", ret);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	long creates = argc > 2 ? atol(argv[2]) : 3500;
	struct sim_device *dev = make_device();
	__u64 size, offset;
	double t0, region_ns, create_ns;

	for (long i = 0; i < n / 10; i++)
		region_info(dev, 0, &size, &offset);
	t0 = now_ns();
	for (long i = 0; i < n; i++)
		region_info(dev, 0, &size, &offset);
	region_ns = (now_ns() - t0) / n;

	for (long i = 0; i < creates / 10; i++)
		create_map_unmap(dev);
	t0 = now_ns();
	for (long i = 0; i < creates; i++)
		create_map_unmap(dev);
	create_ns = (now_ns() - t0) / creates;
	sim_destroy(dev);
	printf("{\"region-info\": %.1f, \"subregion-create-map-unmap\": %.1f}\n", region_ns, create_ns);
	return 0;
}
