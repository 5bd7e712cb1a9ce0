// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * The C twin of examples/e1000e/assembly/driver.ts: the same driver logic (reset, a TX ring in
 * DMA-mapped memory, frames built in place, a tail write per BATCH with RS on the batch's last
 * descriptor, MSI-X vector 0 taken through an eventfd, ICR read, reclaim by DD, refill) against the
 * same simulated device model, in one process: the device is the simulator's (sim.h), created from
 * e1000e_device.h (tools/sim-config-c.ts prints the E1000E_SIM preset there). Registers go through
 * sim_mmio, the same trapped access the addon's host-call path makes for the wasm driver.
 *
 *   driver FRAMES [IRQS [LOG]]  ->  one JSON line: { frames, ns, cpuNs, interrupts, tailWrites, modelFrames, faults,
 *                             checked, mismatches, irqNs }
 *
 * LOG: a file the frames of the model's log are written to, each as a u32 length then its bytes.
 *
 * irqNs: the native floor of the "IRQ-to-JS latency" bench row: IRQS times, the device model signals
 * the vector's eventfd (sim_irq_signal) and the driver's read() of it returns, in ns per round.
 *
 * mismatches: frames of the model's log that differ from the frame the wasm driver's comment
 * specifies (built here again), so both drivers are checked against the same description.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <linux/vfio.h>
#include "sim.h"
#include "e1000e_regs.h"
#include "e1000e_device.h"

#define RING 1024u
#define BATCH 64u
#define FRAME_LEN 64u
#define BUF_SIZE 2048u
#define PAGE 4096u

static struct sim_device *dev;
static uint8_t *bar0;
static uint8_t *ring, *bufs;
static uint32_t total, queued, completed, tail, clean, interrupts, tail_writes;
static uint8_t mac[6];

static void die(const char *what, int err)
{
	fprintf(stderr, "e1000e driver.c: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static uint32_t rd(uint32_t off)
{
	uint64_t v = 0;

	if (sim_mmio(dev, bar0 + off, 4, 0, &v))
		die("register read", EINVAL);
	return (uint32_t)v;
}

static void wr(uint32_t off, uint32_t v)
{
	uint64_t x = v;

	if (sim_mmio(dev, bar0 + off, 4, 1, &x))
		die("register write", EINVAL);
}

/* What a kernel would pin: the driver's own buffers only. */
static int pin(void *ctx, uint64_t vaddr, uint64_t size, int write)
{
	(void)ctx;
	(void)write;
	if ((vaddr >= (uintptr_t)ring && vaddr + size <= (uintptr_t)ring + RING * E1000_TXD_SIZE) ||
	    (vaddr >= (uintptr_t)bufs && vaddr + size <= (uintptr_t)bufs + RING * BUF_SIZE))
		return 0;
	return -EFAULT;
}

static uint64_t dma_map(void *p, uint64_t size, uint64_t iova)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m), .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)p, .iova = iova, .size = size,
	};
	int err = sim_iommu_ioctl(sim_iommu_of(dev), VFIO_IOMMU_MAP_DMA, &m, sizeof(m));

	if (err)
		die("VFIO_IOMMU_MAP_DMA", err);
	return iova;
}

static int irq_enable(void)
{
	struct { struct vfio_irq_set s; int32_t fd; } set = {
		.s = { .argsz = sizeof(set), .flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		       .index = VFIO_PCI_MSIX_IRQ_INDEX, .start = 0, .count = 1 },
	};
	int err;

	set.fd = eventfd(0, EFD_CLOEXEC);
	if (set.fd < 0)
		die("eventfd", errno);
	err = sim_ioctl(dev, VFIO_DEVICE_SET_IRQS, &set, sizeof(set));
	if (err)
		die("VFIO_DEVICE_SET_IRQS", err);
	return set.fd;
}

static void init(void)
{
	uint32_t lo, hi, spins = 0;
	uint64_t ring_iova, buf_iova, i;

	wr(E1000_IMC, 0xffffffff);
	wr(E1000_CTRL, rd(E1000_CTRL) | E1000_CTRL_RST);
	while (rd(E1000_CTRL) & E1000_CTRL_RST)
		if (++spins > 1000000)
			die("CTRL.RST did not clear", ETIMEDOUT);
	wr(E1000_IMC, 0xffffffff);
	rd(E1000_ICR);
	if (!(rd(E1000_STATUS) & E1000_STATUS_LU))
		die("no link", ENOLINK);
	lo = rd(E1000_RAL0);
	hi = rd(E1000_RAH0);
	for (i = 0; i < 4; i++)
		mac[i] = (uint8_t)(lo >> (8 * i));
	mac[4] = (uint8_t)hi;
	mac[5] = (uint8_t)(hi >> 8);

	ring = aligned_alloc(PAGE, RING * E1000_TXD_SIZE);
	bufs = aligned_alloc(PAGE, RING * BUF_SIZE);
	if (!ring || !bufs)
		die("aligned_alloc", ENOMEM);
	memset(ring, 0, RING * E1000_TXD_SIZE);
	memset(bufs, 0, RING * BUF_SIZE);
	ring_iova = dma_map(ring, RING * E1000_TXD_SIZE, 0x100000);
	buf_iova = dma_map(bufs, RING * BUF_SIZE, 0x200000);
	for (i = 0; i < RING; i++) {
		uint64_t a = buf_iova + i * BUF_SIZE;

		memcpy(ring + i * E1000_TXD_SIZE, &a, 8);
	}
	wr(E1000_TDBAL, (uint32_t)ring_iova);
	wr(E1000_TDBAH, (uint32_t)(ring_iova >> 32));
	wr(E1000_TDLEN, RING * E1000_TXD_SIZE);
	wr(E1000_TDH, 0);
	wr(E1000_TDT, 0);
	wr(E1000_TIPG, 8 | 8 << E1000_TIPG_IPGR1_SHIFT | 6 << E1000_TIPG_IPGR2_SHIFT);
	wr(E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP | 15 << 4 | 63 << 12);
}

static void build(uint8_t *b, uint32_t seq)
{
	static const uint8_t dst[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	uint32_t base = seq * 7, i;

	memcpy(b, dst, 6);
	memcpy(b + 6, mac, 6);
	b[12] = 0x88;
	b[13] = 0xb5;
	b[14] = (uint8_t)(seq >> 24);
	b[15] = (uint8_t)(seq >> 16);
	b[16] = (uint8_t)(seq >> 8);
	b[17] = (uint8_t)seq;
	for (i = 0; i < FRAME_LEN - 18; i++)
		b[18 + i] = (uint8_t)(base + i);
}

static void refill(void)
{
	while (queued < total && (tail + RING - clean) % RING + BATCH < RING) {
		uint32_t n = 0;

		while (n < BATCH && queued < total) {
			uint8_t *d = ring + tail * E1000_TXD_SIZE;
			int last = n == BATCH - 1 || queued == total - 1;
			uint64_t w = FRAME_LEN | (uint64_t)(E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | (last ? E1000_TXD_CMD_RS : 0)) << 24;

			build(bufs + tail * BUF_SIZE, queued);
			memcpy(d + 8, &w, 8);
			tail = (tail + 1) % RING;
			queued++;
			n++;
		}
		wr(E1000_TDT, tail);
		tail_writes++;
	}
}

static void reclaim(void)
{
	while (clean != tail) {
		uint32_t end = clean;

		while (end != tail && !(ring[end * E1000_TXD_SIZE + E1000_TXD_CMD_OFF] & E1000_TXD_CMD_RS))
			end = (end + 1) % RING;
		if (end == tail || !(((volatile uint8_t *)ring)[end * E1000_TXD_SIZE + E1000_TXD_STATUS_OFF] & E1000_TXD_STAT_DD))
			break;
		completed += (end + RING - clean) % RING + 1;
		clean = (end + 1) % RING;
	}
}

static double clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double now_ns(void) { return clock_ns(CLOCK_MONOTONIC); }

int main(int argc, char **argv)
{
	struct sim_config cfg = e1000e_device;
	struct sim_model_stats st;
	uint32_t i, mismatches = 0;
	double t0, t1, c0, c1, irq_ns = 0;
	FILE *log = NULL;
	uint32_t irqs;
	void *p;
	int err, efd;

	total = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 100000;
	irqs = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 0) : 0;
	cfg.pin = pin;
	err = sim_create(&cfg, &dev);
	if (err)
		die("sim_create", err);
	err = sim_mmap(dev, SIM_INDEX_TO_OFFSET(0), E1000E_BAR0_SIZE, PROT_READ | PROT_WRITE, &p);
	if (err)
		die("mmap BAR0", err);
	bar0 = p;
	init();
	efd = irq_enable();
	wr(E1000_IVAR, (E1000_IVAR_VALID | 0) << E1000_IVAR_TXQ0_SHIFT);
	wr(E1000_IMS, E1000_ICR_TXQ0 | E1000_ICR_TXDW);

	t0 = now_ns();
	c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	refill();
	while (completed < total) {
		uint64_t count;

		if (read(efd, &count, sizeof(count)) != sizeof(count))
			die("read eventfd", errno);
		interrupts += (uint32_t)count;
		rd(E1000_ICR);
		reclaim();
		refill();
	}
	t1 = now_ns();
	c1 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);

	for (i = 0; i < irqs; i++) {
		uint64_t count;
		double a = now_ns();

		sim_irq_signal(dev, VFIO_PCI_MSIX_IRQ_INDEX, 0);
		if (read(efd, &count, sizeof(count)) != sizeof(count))
			die("read eventfd", errno);
		irq_ns += now_ns() - a;
	}

	sim_model_stats(dev, &st);
	if (argc > 3 && !(log = fopen(argv[3], "wb")))
		die(argv[3], errno);
	for (i = 0; i < st.log_frames; i++) {
		uint8_t want[FRAME_LEN];
		const uint8_t *data;
		uint32_t len;

		sim_model_frame(dev, i, &data, &len);
		if (log && (fwrite(&len, 4, 1, log) != 1 || fwrite(data, 1, len, log) != len))
			die("writing the frame log", errno);
		build(want, total - st.log_frames + i);
		if (len != FRAME_LEN || memcmp(data, want, FRAME_LEN))
			mismatches++;
	}
	printf("{\"frames\":%u,\"ns\":%.0f,\"cpuNs\":%.0f,\"interrupts\":%u,\"tailWrites\":%u,\"modelFrames\":%llu,\"faults\":%llu,\"checked\":%u,\"mismatches\":%u,\"irqNs\":%.1f}\n",
	       total, t1 - t0, c1 - c0, interrupts, tail_writes, (unsigned long long)st.frames, (unsigned long long)st.faults,
	       st.log_frames, mismatches, irqs ? irq_ns / irqs : 0.0);
	if (log && fclose(log))
		die("closing the frame log", errno);
	close(efd);
	sim_destroy(dev);
	free(ring);
	free(bufs);
	return mismatches || st.frames != total;
}
