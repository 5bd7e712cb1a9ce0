// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * vfio_testing: the test and bench entry points, kept out of the production addon (vfio_native).
 * tools/testing-native.ts is its contract; nothing an application loads uses it.
 *
 * The MMIO entry points take a raw mapping address (a bigint, e.g. Mapping.address or
 * WasmWindow.address) and its length in bytes. The address is TRUSTED: this module cannot tell a
 * live mapping from any other number, so only tests and benches may call it. What it does check:
 * every argument's kind (TypeError) and range (RangeError), that address + length does not wrap,
 * and that every access lies inside [address, address + length) and is naturally aligned.
 *
 *   mmioExec(address, length, program)        the native C accessor of the MMIO vectors
 *   mmioBench(address, length, offset, op, iterations, doorbellAddress, doorbellLength,
 *             doorbellOffset)                 native MMIO loops, ns per iteration
 *   floorEmpty()                              an empty Node-API call
 *   floorIntBytes(fd, bytes)                  reads an int and a Uint8Array as the addon's ioctl does
 *   ioctlLoop(fd, request, iterations)        ioctl(2) in a C loop: { ns, errno }
 *   regionInfoLoop(fd, index, iterations)     Device.region()'s system calls on a real device fd
 *   subregionLoop(fd, parent, offset, size, attrs, iterations)
 *                                             createSubregion + map + unmap's, likewise
 *   dmaLoop(containerFd, bytes, iova, iterations)
 *                                             VFIO_IOMMU_MAP_DMA + UNMAP_DMA of bytes at iova
 *   ioasLoop(iommufd, bytes, iova, iterations) IOMMU_IOAS_MAP + IOMMU_IOAS_UNMAP of bytes at iova
 *
 * The real-device loops (test/kernel/bench-guest.mjs) take the fd the production addon opened
 * (found in /proc/self/fd): the same file, the same system calls as the API's path, in C.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>
#include <linux/vfio_subregion.h>

#include "args.h"
#include "vfio_subregion_validate.h"
#include "fence.h"

/* ---------------------------------------------------------------- arguments (args.h for the rest) */

/*
 * A mapping: a non-zero bigint address below 2^64 and a length in [1, 2^53 - 1] such that
 * address + length does not wrap. The address itself is trusted.
 */
static int get_mapping(napi_env env, napi_value vaddr, napi_value vlen, const char *name,
		       uint8_t **base, size_t *len)
{
	bool lossless = false;
	uint64_t a;
	double d;

	if (type_of(env, vaddr) != napi_bigint) {
		TYPE_ERR(env, "%s address must be a bigint", name);
		return -1;
	}
	if (napi_get_value_bigint_uint64(env, vaddr, &a, &lossless) != napi_ok || !lossless || a == 0) {
		RANGE_ERR(env, "%s address must be a bigint in [1n, 2n ** 64n)", name);
		return -1;
	}
	if (get_integer(env, vlen, name[0] == 'd' ? "doorbellLength" : "length", 1, MAX_SAFE_INTEGER, &d))
		return -1;
	if ((uint64_t)d > UINTPTR_MAX - a) {
		RANGE_ERR(env, "%s: address 0x%llx + length %.0f wraps", name, (unsigned long long)a, d);
		return -1;
	}
	*base = (uint8_t *)(uintptr_t)a;
	*len = (size_t)d;
	return 0;
}

/* [off, off + bytes) inside a len-byte mapping at base, and base + off aligned to bytes (a power of 2). */
static int access_ok(const uint8_t *base, size_t len, size_t off, size_t bytes)
{
	return off <= len && bytes <= len - off && (((uintptr_t)base + off) & (bytes - 1)) == 0;
}

static double elapsed_ns(const struct timespec *t0, const struct timespec *t1)
{
	return (double)(t1->tv_sec - t0->tv_sec) * 1e9 + (double)(t1->tv_nsec - t0->tv_nsec);
}

/* ---------------------------------------------------------------- native C accessor */

/* 64 bytes with four 16-byte vector stores (SSE2), else eight 64-bit stores; dst is 64-byte aligned. */
static void burst64(uint8_t *dst, const uint8_t *src)
{
#if defined(__SSE2__)
	typedef long long v2di __attribute__((vector_size(16)));
	volatile v2di *d = (volatile v2di *)dst;
	v2di x0, x1, x2, x3;

	memcpy(&x0, src, 16);
	memcpy(&x1, src + 16, 16);
	memcpy(&x2, src + 32, 16);
	memcpy(&x3, src + 48, 16);
	d[0] = x0;
	d[1] = x1;
	d[2] = x2;
	d[3] = x3;
#else
	volatile uint64_t *d = (volatile uint64_t *)dst;
	uint64_t x;

	for (int i = 0; i < 8; i++) {
		memcpy(&x, src + 8 * i, 8);
		d[i] = x;
	}
#endif
}

/*
 * mmioExec(address, length, program): the C accessor the MMIO vectors run through. program is a
 * sequence of 16-byte records { u8 op; u8 width; u16 pad; u32 offset; u64 value } (little-endian); a
 * burst record is followed by its 64 source bytes. Reads store what they read into the record's value
 * field. Ops: 1 write, 2 read, 3 burst64 (aligned; four 16-byte vector stores), 4 wmb, 5 flush (a
 * 32-bit read at the record's offset, its value stored like a read's), 6 mb. A bad record throws a
 * RangeError; the records before it have run.
 */
enum { OP_WRITE = 1, OP_READ, OP_BURST, OP_WMB, OP_FLUSH, OP_MB };

static napi_value js_mmio_exec(napi_env env, napi_callback_info info)
{
	napi_value argv[3];
	uint8_t *prog, *base;
	size_t len, plen, k = 0;

	if (get_args(env, info, 3, argv, NULL) || get_mapping(env, argv[0], argv[1], "mapping", &base, &len) ||
	    get_bytes(env, argv[2], "program", (void **)&prog, &plen))
		return NULL;
	while (k < plen) {
		uint8_t op, width;
		uint32_t off;
		uint64_t v;
		unsigned bytes;

		if (plen - k < 16)
			return RANGE_ERR(env, "program: record %zu is short", k / 16);
		op = prog[k];
		width = prog[k + 1];
		memcpy(&off, prog + k + 4, 4);
		memcpy(&v, prog + k + 8, 8);
		if (op < OP_WRITE || op > OP_MB)
			return RANGE_ERR(env, "program: record at %zu: unknown op %u", k, op);
		if ((op == OP_WRITE || op == OP_READ) && width != 8 && width != 16 && width != 32 && width != 64)
			return RANGE_ERR(env, "program: record at %zu: width %u", k, width);
		bytes = op == OP_BURST ? 64 : op == OP_FLUSH ? 4 : width / 8u;
		if (op != OP_WMB && op != OP_MB && !access_ok(base, len, off, bytes))
			return RANGE_ERR(env, "program: record at %zu: offset 0x%x is not an aligned %u-byte access inside the %zu-byte mapping", k, off, bytes, len);
		switch (op) {
		case OP_WRITE:
			switch (width) {
			case 8: *(volatile uint8_t *)(base + off) = (uint8_t)v; break;
			case 16: *(volatile uint16_t *)(base + off) = (uint16_t)v; break;
			case 32: *(volatile uint32_t *)(base + off) = (uint32_t)v; break;
			default: *(volatile uint64_t *)(base + off) = v; break;
			}
			break;
		case OP_READ:
			switch (width) {
			case 8: v = *(volatile uint8_t *)(base + off); break;
			case 16: v = *(volatile uint16_t *)(base + off); break;
			case 32: v = *(volatile uint32_t *)(base + off); break;
			default: v = *(volatile uint64_t *)(base + off); break;
			}
			memcpy(prog + k + 8, &v, 8);
			break;
		case OP_BURST:
			if (plen - k < 16 + 64)
				return RANGE_ERR(env, "program: burst at %zu has no 64 source bytes", k);
			burst64(base + off, prog + k + 16);
			k += 64;
			break;
		case OP_WMB:
			cpu_wmb();
			break;
		case OP_MB:
			cpu_mb();
			break;
		default: /* OP_FLUSH */
			v = *(volatile uint32_t *)(base + off);
			memcpy(prog + k + 8, &v, 8);
			break;
		}
		k += 16;
	}
	return NULL;
}

/*
 * mmioBench(address, length, offset, op, iterations, doorbellAddress, doorbellLength,
 * doorbellOffset): the native baseline of the MMIO bench, looping over the same mapping the wasm side
 * uses; returns ns per iteration. [offset, offset + 64) must lie in the mapping, 64-byte aligned;
 * [doorbellOffset, + 4) in the doorbell mapping, 4-byte aligned.
 * op: 0 write32, 1 read32 (16 words in turn, as the wasm loop does), 2 burst64, 3 doorbell with
 * sfence (wmb; write32 to the doorbell), 4 doorbell with a locked add on a stack word (the fence a
 * wasm guest can issue itself), 5 doorbell with mfence, 6 write64.
 */
static napi_value js_mmio_bench(napi_env env, napi_callback_info info)
{
	napi_value argv[8], r;
	uint8_t *base, *dbase, *p, *bell;
	size_t len, dlen;
	uint32_t op;
	double dn, doff, ddb;
	struct timespec t0, t1;
	uint8_t src[64] __attribute__((aligned(64)));
	volatile uint32_t scratch = 0;
	uint32_t sink = 0;
	uint64_t n, i;

	if (get_args(env, info, 8, argv, NULL) || get_mapping(env, argv[0], argv[1], "mapping", &base, &len) ||
	    get_integer(env, argv[2], "offset", 0, MAX_SAFE_INTEGER, &doff) ||
	    get_u32(env, argv[3], "op", &op) ||
	    get_integer(env, argv[4], "iterations", 1, 1e12, &dn) ||
	    get_mapping(env, argv[5], argv[6], "doorbell", &dbase, &dlen) ||
	    get_integer(env, argv[7], "doorbellOffset", 0, MAX_SAFE_INTEGER, &ddb))
		return NULL;
	if (op > 6)
		return RANGE_ERR(env, "mmioBench: unknown op %u", op);
	if (!access_ok(base, len, (size_t)doff, 64) || !access_ok(dbase, dlen, (size_t)ddb, 4))
		return RANGE_ERR(env, "mmioBench: offsets outside the mappings or unaligned (offset %.0f of %zu bytes, 64-byte aligned; doorbellOffset %.0f of %zu bytes, 4-byte aligned)", doff, len, ddb, dlen);
	p = base + (size_t)doff;
	bell = dbase + (size_t)ddb;
	for (i = 0; i < 64; i++)
		src[i] = (uint8_t)i;
	n = (uint64_t)dn;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	switch (op) {
	case 0:
		for (i = 0; i < n; i++)
			*(volatile uint32_t *)p = (uint32_t)i;
		break;
	case 1:
		for (i = 0; i < n; i++)
			sink += *(volatile uint32_t *)(p + ((i & 15) << 2));
		break;
	case 2:
		/*
		 * The source is read again for every burst, as a wasm guest must (its source and its
		 * window share one linear memory, so its loads cannot be hoisted over the stores): left
		 * alone, the compiler keeps the 64 bytes in registers and C stores only.
		 */
		for (i = 0; i < n; i++) {
			__asm__ volatile("" : : "r"(src) : "memory");
			burst64(p, src);
		}
		break;
	case 3:
		for (i = 0; i < n; i++) {
			cpu_wmb();
			*(volatile uint32_t *)bell = (uint32_t)i;
		}
		break;
	case 4:
		for (i = 0; i < n; i++) {
			__atomic_fetch_add(&scratch, 0, __ATOMIC_SEQ_CST);
			*(volatile uint32_t *)bell = (uint32_t)i;
		}
		break;
	case 5:
		for (i = 0; i < n; i++) {
			cpu_mb();
			*(volatile uint32_t *)bell = (uint32_t)i;
		}
		break;
	default: /* 6 */
		for (i = 0; i < n; i++)
			*(volatile uint64_t *)p = i;
		break;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	(void)sink;
	NAPI_OK(env, napi_create_double(env, elapsed_ns(&t0, &t1) / (double)n, &r));
	return r;
}

/* ---------------------------------------------------------------- Node-API floor */

/* floorEmpty(): returns undefined and touches nothing: the cost of entering and leaving a Node-API call. */
static napi_value js_floor_empty(napi_env env, napi_callback_info info)
{
	(void)env;
	(void)info;
	return NULL;
}

/*
 * floorIntBytes(fd, bytes): the argument work of the addon's ioctl without the system call: the
 * arguments (napi_get_cb_info), the fd as an integer (napi_typeof, napi_get_value_double, range
 * check), the Uint8Array (napi_is_typedarray, napi_get_typedarray_info) and an int32 result
 * (napi_create_int32): fd + the array's length.
 */
static napi_value js_floor_int_bytes(napi_env env, napi_callback_info info)
{
	napi_value argv[2], r;
	uint8_t *data;
	size_t len;
	double fd;

	if (get_args(env, info, 2, argv, NULL) || get_integer(env, argv[0], "fd", 0, INT32_MAX, &fd) ||
	    get_bytes(env, argv[1], "bytes", (void **)&data, &len))
		return NULL;
	(void)data;
	NAPI_OK(env, napi_create_int32(env, (int32_t)((int64_t)fd + (int64_t)len), &r));
	return r;
}

/* ---------------------------------------------------------------- ioctl baseline */

/*
 * ioctlLoop(fd, request, iterations): `iterations` calls of ioctl(fd, request, buf) on a 64-byte stack
 * buffer with argsz (its first u32) 32 and index 0 at offset 8 (a vfio_region_info for region 0), set
 * once before the loop (VFIO requests are _IO and bounded by argsz; an encoded request whose _IOC_SIZE
 * exceeds 64 bytes is refused with a RangeError). Returns { ns: ns per call (CLOCK_MONOTONIC), errno: the last call's errno, 0 if
 * it succeeded }.
 */
static napi_value js_ioctl_loop(napi_env env, napi_callback_info info)
{
	napi_value argv[3], r, v;
	uint8_t buf[64] __attribute__((aligned(8)));
	uint32_t req, argsz = 32, index = 0;
	double dfd, dn;
	struct timespec t0, t1;
	int fd, ret = 0, err = 0;
	uint64_t n, i;

	if (get_args(env, info, 3, argv, NULL) || get_integer(env, argv[0], "fd", 0, INT32_MAX, &dfd) ||
	    get_u32(env, argv[1], "request", &req) ||
	    get_integer(env, argv[2], "iterations", 1, 1e10, &dn))
		return NULL;
	/* an encoded request says how much of the argument the kernel may touch: refuse more than buf */
	if (_IOC_DIR(req) != _IOC_NONE && _IOC_SIZE(req) > sizeof(buf))
		return RANGE_ERR(env, "request 0x%x needs %u bytes of argument; ioctlLoop passes %zu", req, (unsigned)_IOC_SIZE(req), sizeof(buf));
	fd = (int)dfd;
	n = (uint64_t)dn;
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &argsz, 4);
	memcpy(buf + 8, &index, 4);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++)
		ret = ioctl(fd, (unsigned long)req, buf);
	err = ret < 0 ? errno : 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	NAPI_OK(env, napi_create_object(env, &r));
	NAPI_OK(env, napi_create_double(env, elapsed_ns(&t0, &t1) / (double)n, &v));
	NAPI_OK(env, napi_set_named_property(env, r, "ns", v));
	NAPI_OK(env, napi_create_int32(env, err, &v));
	NAPI_OK(env, napi_set_named_property(env, r, "errno", v));
	return r;
}

/* ---------------------------------------------------------------- real-device baselines */

/* Device.region()'s first argsz (REGION_INFO_BYTES in runtime/src/device.ts). */
#define REGION_INFO_BYTES 256

/*
 * VFIO_DEVICE_GET_REGION_INFO as Device.region() makes it: argsz 256 with flags, index and
 * cap_offset zeroed before the call, then, when the region has a chain, a walk of it (the generated
 * walker). A chain that needs more than 256 bytes is -ENOSPC here: the API would retry, and the
 * loop must not time something else. 0 or -errno.
 */
static int region_info(int fd, uint32_t index, uint8_t *buf)
{
	struct vfio_region_info *ri = (struct vfio_region_info *)buf;
	struct vfio_cap_cursor cur;
	int ret;

	ri->argsz = REGION_INFO_BYTES;
	ri->flags = 0;
	ri->index = index;
	ri->cap_offset = 0;
	if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, buf) < 0)
		return -errno;
	if (!(ri->flags & VFIO_REGION_INFO_FLAG_CAPS))
		return 0;
	ret = vfio_region_info_cap_first(buf, REGION_INFO_BYTES, &cur);
	while (ret > 0)
		ret = vfio_region_info_cap_next(&cur);
	return ret;
}

/* { ns: ns per iteration, errno: the failing call's errno or 0 } */
static napi_value loop_result(napi_env env, double ns, int err)
{
	napi_value r, v;

	NAPI_OK(env, napi_create_object(env, &r));
	NAPI_OK(env, napi_create_double(env, ns, &v));
	NAPI_OK(env, napi_set_named_property(env, r, "ns", v));
	NAPI_OK(env, napi_create_int32(env, err, &v));
	NAPI_OK(env, napi_set_named_property(env, r, "errno", v));
	return r;
}

/* An fd argument: an integer in [0, 2^31). */
static int get_fd(napi_env env, napi_value v, const char *name, int *fd)
{
	double d;

	if (get_integer(env, v, name, 0, INT32_MAX, &d))
		return -1;
	*fd = (int)d;
	return 0;
}

/*
 * regionInfoLoop(fd, index, iterations): region_info() above `iterations` times on a VFIO device fd.
 * { ns, errno, flags: the region's flags (caps or not: what was walked) }; stops at the first error.
 */
static napi_value js_region_info_loop(napi_env env, napi_callback_info info)
{
	napi_value argv[3], r, v;
	uint8_t buf[REGION_INFO_BYTES] __attribute__((aligned(8))) = { 0 };
	struct timespec t0, t1;
	uint32_t index;
	double dn;
	uint64_t n, i;
	int fd, ret = 0;

	if (get_args(env, info, 3, argv, NULL) || get_fd(env, argv[0], "fd", &fd) ||
	    get_u32(env, argv[1], "index", &index) || get_integer(env, argv[2], "iterations", 1, 1e10, &dn))
		return NULL;
	n = (uint64_t)dn;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n && ret == 0; i++)
		ret = region_info(fd, index, buf);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r = loop_result(env, elapsed_ns(&t0, &t1) / (double)n, -ret);
	if (r == NULL)
		return NULL;
	NAPI_OK(env, napi_create_uint32(env, ((struct vfio_region_info *)buf)->flags, &v));
	NAPI_OK(env, napi_set_named_property(env, r, "flags", v));
	return r;
}

/*
 * subregionLoop(fd, parent, offset, size, attrs, iterations): what createSubregion(), map() of the
 * new region and unmap() of a mapping whose bytes were never handed out make, in C: the
 * VFIO_DEVICE_FEATURE_SUBREGION SET (argsz 48), region_info() of the new index, mmap of it (shared,
 * read-write) and munmap. Each iteration leaves a subregion: the device must allow `iterations`
 * more. { ns, errno }; stops at the first error.
 */
static napi_value js_subregion_loop(napi_env env, napi_callback_info info)
{
	napi_value argv[6];
	uint8_t buf[REGION_INFO_BYTES] __attribute__((aligned(8))) = { 0 };
	struct vfio_region_info *ri = (struct vfio_region_info *)buf;
	struct {
		struct vfio_device_feature hdr;
		struct vfio_device_feature_subregion sub;
	} req;
	struct timespec t0, t1;
	uint64_t offset, size, n, i;
	uint32_t parent, attrs;
	double dn;
	int fd, ret = 0;

	if (get_args(env, info, 6, argv, NULL) || get_fd(env, argv[0], "fd", &fd) ||
	    get_u32(env, argv[1], "parent", &parent) || get_u64_bigint(env, argv[2], "offset", &offset) ||
	    get_u64_bigint(env, argv[3], "size", &size) || get_u32(env, argv[4], "attrs", &attrs) ||
	    get_integer(env, argv[5], "iterations", 1, 1e10, &dn))
		return NULL;
	n = (uint64_t)dn;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n && ret == 0; i++) {
		void *p;

		memset(&req, 0, sizeof(req));
		req.hdr.argsz = sizeof(req);
		req.hdr.flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_SUBREGION;
		req.sub.parent_index = parent;
		req.sub.offset = offset;
		req.sub.size = size;
		req.sub.attrs = attrs;
		if (ioctl(fd, VFIO_DEVICE_FEATURE, &req) < 0) {
			ret = -errno;
			break;
		}
		ret = region_info(fd, req.sub.index, buf);
		if (ret < 0)
			break;
		p = mmap(NULL, ri->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)ri->offset);
		if (p == MAP_FAILED) {
			ret = -errno;
			break;
		}
		munmap(p, ri->size);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return loop_result(env, elapsed_ns(&t0, &t1) / (double)n, -ret);
}

/*
 * dmaLoop(containerFd, bytes, iova, iterations): VFIO_IOMMU_MAP_DMA of all of `bytes` (a Uint8Array;
 * page-aligned, e.g. over an Iommu.allocBuffer buffer), read and write, at `iova`, then
 * VFIO_IOMMU_UNMAP_DMA of it: Iommu.map() + DmaMapping.unmap()'s two ioctls. { ns, errno }; stops at
 * the first error.
 */
static napi_value js_dma_loop(napi_env env, napi_callback_info info)
{
	napi_value argv[4];
	struct vfio_iommu_type1_dma_map map;
	struct vfio_iommu_type1_dma_unmap unmap;
	struct timespec t0, t1;
	uint64_t iova, n, i;
	size_t len;
	void *data;
	double dn;
	int fd, ret = 0;

	if (get_args(env, info, 4, argv, NULL) || get_fd(env, argv[0], "containerFd", &fd) ||
	    get_bytes(env, argv[1], "bytes", &data, &len) || get_u64_bigint(env, argv[2], "iova", &iova) ||
	    get_integer(env, argv[3], "iterations", 1, 1e10, &dn))
		return NULL;
	if (len == 0)
		return RANGE_ERR(env, "bytes is empty");
	n = (uint64_t)dn;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		map = (struct vfio_iommu_type1_dma_map){ .argsz = sizeof(map), .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
			.vaddr = (uint64_t)(uintptr_t)data, .iova = iova, .size = len };
		if (ioctl(fd, VFIO_IOMMU_MAP_DMA, &map) < 0) {
			ret = -errno;
			break;
		}
		unmap = (struct vfio_iommu_type1_dma_unmap){ .argsz = sizeof(unmap), .iova = iova, .size = len };
		if (ioctl(fd, VFIO_IOMMU_UNMAP_DMA, &unmap) < 0) {
			ret = -errno;
			break;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return loop_result(env, elapsed_ns(&t0, &t1) / (double)n, -ret);
}

/*
 * ioasLoop(iommufd, bytes, iova, iterations): dmaLoop's iommufd twin, on an iommufd fd whose one
 * IOAS a device is attached to: IOMMU_IOAS_MAP of all of `bytes` at `iova` (FIXED_IOVA, read and
 * write), then IOMMU_IOAS_UNMAP of it. The IOAS is the id below 64 that IOMMU_IOAS_IOVA_RANGES
 * answers (the object ids of an iommufd are its own, allocated from 1). { ns, errno }; stops at the
 * first error (ENOENT: no IOAS).
 */
static napi_value js_ioas_loop(napi_env env, napi_callback_info info)
{
	napi_value argv[4];
	struct iommu_ioas_map map;
	struct iommu_ioas_unmap unmap;
	struct timespec t0, t1;
	uint64_t iova, n, i;
	uint32_t ioas = 0;
	size_t len;
	void *data;
	double dn;
	int fd, ret = 0;

	if (get_args(env, info, 4, argv, NULL) || get_fd(env, argv[0], "iommufd", &fd) ||
	    get_bytes(env, argv[1], "bytes", &data, &len) || get_u64_bigint(env, argv[2], "iova", &iova) ||
	    get_integer(env, argv[3], "iterations", 1, 1e10, &dn))
		return NULL;
	if (len == 0)
		return RANGE_ERR(env, "bytes is empty");
	for (uint32_t id = 1; id < 64 && !ioas; id++) {
		struct iommu_ioas_iova_ranges r = { .size = sizeof(r), .ioas_id = id };

		if (ioctl(fd, IOMMU_IOAS_IOVA_RANGES, &r) == 0 || errno == EMSGSIZE)
			ioas = id;
	}
	if (!ioas)
		return loop_result(env, 0, ENOENT);
	n = (uint64_t)dn;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		map = (struct iommu_ioas_map){ .size = sizeof(map), .ioas_id = ioas, .user_va = (uint64_t)(uintptr_t)data, .length = len, .iova = iova,
			.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE };
		if (ioctl(fd, IOMMU_IOAS_MAP, &map) < 0) {
			ret = -errno;
			break;
		}
		unmap = (struct iommu_ioas_unmap){ .size = sizeof(unmap), .ioas_id = ioas, .iova = iova, .length = len };
		if (ioctl(fd, IOMMU_IOAS_UNMAP, &unmap) < 0) {
			ret = -errno;
			break;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return loop_result(env, elapsed_ns(&t0, &t1) / (double)n, -ret);
}

/* ---------------------------------------------------------------- module */

static napi_value init(napi_env env, napi_value exports)
{
	napi_property_descriptor props[] = {
		{ "mmioExec", NULL, js_mmio_exec, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "mmioBench", NULL, js_mmio_bench, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "floorEmpty", NULL, js_floor_empty, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "floorIntBytes", NULL, js_floor_int_bytes, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "ioctlLoop", NULL, js_ioctl_loop, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "regionInfoLoop", NULL, js_region_info_loop, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "subregionLoop", NULL, js_subregion_loop, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "dmaLoop", NULL, js_dma_loop, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "ioasLoop", NULL, js_ioas_loop, NULL, NULL, NULL, napi_enumerable, NULL },
	};

	if (napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) != napi_ok)
		return napi_fail(env);
	return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
