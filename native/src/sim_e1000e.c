// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * An e1000e-like device model (Intel 82574, 8086:10d3) behind a simulated device's BAR0: the TX path
 * of queue 0 with legacy descriptors, the interrupt cause/mask registers and MSI-X routing through
 * IVAR, CTRL.RST. Register numbers and bits: e1000e_regs.h (Linux e1000e regs.h/defines.h, QEMU).
 *
 * The registers live in the BAR's backing memory, so a plain load through a mapping sees them; the
 * accesses with side effects reach the model only through sim_mmio (a driver's host-path access)
 * and 32-bit sim_rw. Behaviour follows QEMU's hw/net/e1000e_core.c where the datasheet leaves a
 * choice: TDLEN and TDH/TDT are masked on write (e1000e_set_dlen, e1000e_set_16bit), a ring whose
 * head or tail lies beyond it transmits nothing (e1000e_ring_empty's guard), a descriptor written
 * back sets TXDW and, with MSI-X enabled, TXQ0 (e1000e_tx_wb_interrupt_cause), and MSI-X vectors
 * come from IVAR (e1000e_msix_notify). Transmission is synchronous: a TDT write returns once every
 * descriptor up to the new tail is done.
 */
#include "sim_e1000e.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <linux/vfio.h>

#include "e1000e_regs.h"

struct sim_e1000e {
	struct sim_device *dev;
	volatile uint32_t *regs;	/* BAR0's backing memory, E1000E_BAR0_SIZE bytes */
	uint8_t frame[SIM_FRAME_MAX];	/* the frame being gathered from its descriptors */
	uint32_t frame_len;
	int frame_bad;			/* part of it was lost: drop it at EOP */
	uint8_t *log;			/* SIM_FRAME_LOG slots of SIM_FRAME_MAX bytes, allocated on first use */
	uint32_t log_len[SIM_FRAME_LOG];
	uint32_t log_head, log_count;	/* oldest slot, frames held */
	struct sim_model_stats st;
};

static uint32_t reg(const struct sim_e1000e *m, uint32_t off) { return m->regs[off / 4]; }
static void set(struct sim_e1000e *m, uint32_t off, uint32_t v) { m->regs[off / 4] = v; }

int sim_e1000e_create(struct sim_device *dev, int fd, struct sim_e1000e **out)
{
	struct sim_e1000e *m = calloc(1, sizeof(*m));
	void *p;

	if (!m)
		return -ENOMEM;
	p = mmap(NULL, E1000E_BAR0_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		free(m);
		return -errno;
	}
	m->dev = dev;
	m->regs = p;
	sim_e1000e_reset(m);
	*out = m;
	return 0;
}

void sim_e1000e_destroy(struct sim_e1000e *m)
{
	if (!m)
		return;
	munmap((void *)m->regs, E1000E_BAR0_SIZE);
	free(m->log);
	free(m);
}

/* Power-on values: QEMU's e1000e_mac_reg_init, with the link up (e1000x_update_regs_on_link_up). */
void sim_e1000e_reset(struct sim_e1000e *m)
{
	/* the permanent MAC address QEMU gives its first NIC, 52:54:00:12:34:56, as the NVM loads it */
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

	memset((void *)m->regs, 0, E1000E_BAR0_SIZE);
	set(m, E1000_CTRL, E1000_CTRL_FD | E1000_CTRL_SLU | E1000_CTRL_SPD_1000);
	set(m, E1000_STATUS, E1000_STATUS_FD | E1000_STATUS_LU | E1000_STATUS_SPEED_1000);
	set(m, E1000_TIPG, 8 | 8 << E1000_TIPG_IPGR1_SHIFT | 6 << E1000_TIPG_IPGR2_SHIFT);
	set(m, E1000_RAL0, (uint32_t)mac[0] | (uint32_t)mac[1] << 8 | (uint32_t)mac[2] << 16 | (uint32_t)mac[3] << 24);
	set(m, E1000_RAH0, (uint32_t)mac[4] | (uint32_t)mac[5] << 8 | E1000_RAH_AV);
	m->frame_len = 0;
	m->frame_bad = 0;
}

/* MSI-X: each queue cause goes to the vector its IVAR entry names, when the entry is valid. */
static void msix_notify(struct sim_e1000e *m, uint32_t causes)
{
	static const struct { uint32_t cause, shift; } route[] = {
		{ E1000_ICR_RXQ0, E1000_IVAR_RXQ0_SHIFT }, { E1000_ICR_RXQ1, E1000_IVAR_RXQ1_SHIFT },
		{ E1000_ICR_TXQ0, E1000_IVAR_TXQ0_SHIFT }, { E1000_ICR_TXQ1, E1000_IVAR_TXQ1_SHIFT },
		{ E1000_ICR_OTHER, E1000_IVAR_OTHER_SHIFT },
	};
	uint32_t ivar = reg(m, E1000_IVAR), k;

	for (k = 0; k < sizeof(route) / sizeof(route[0]); k++) {
		uint32_t entry = ivar >> route[k].shift & 0xf;

		if ((causes & route[k].cause) && (entry & E1000_IVAR_VALID) && (entry & 7) < E1000E_MSIX_VECTORS)
			sim_irq_signal(m->dev, VFIO_PCI_MSIX_IRQ_INDEX, entry & 7);
	}
}

/* Causes newly unmasked or newly set: one message per event, as the device's MSI/MSI-X writes are. */
static void notify(struct sim_e1000e *m, uint32_t causes)
{
	causes &= reg(m, E1000_IMS);
	if (!causes)
		return;
	switch (sim_irq_active(m->dev)) {
	case VFIO_PCI_MSIX_IRQ_INDEX:
		msix_notify(m, causes);
		break;
	case VFIO_PCI_MSI_IRQ_INDEX:
		sim_irq_signal(m->dev, VFIO_PCI_MSI_IRQ_INDEX, 0);
		break;
	case VFIO_PCI_INTX_IRQ_INDEX:
		sim_irq_signal(m->dev, VFIO_PCI_INTX_IRQ_INDEX, 0);
		break;
	}
}

static void set_causes(struct sim_e1000e *m, uint32_t causes)
{
	/* QEMU e1000e_set_interrupt_cause: link changes are also an "other" cause for MSI-X */
	if (causes & E1000_ICR_LSC)
		causes |= E1000_ICR_OTHER;
	set(m, E1000_ICR, reg(m, E1000_ICR) | causes);
	notify(m, causes);
}

static void log_frame(struct sim_e1000e *m)
{
	uint32_t slot;

	if (!m->log) {
		m->log = malloc((size_t)SIM_FRAME_LOG * SIM_FRAME_MAX);
		if (!m->log) {
			m->st.log_lost++;
			return;
		}
	}
	if (m->log_count == SIM_FRAME_LOG) {
		m->log_head = (m->log_head + 1) % SIM_FRAME_LOG;
		m->log_count--;
		m->st.log_lost++;
	}
	slot = (m->log_head + m->log_count) % SIM_FRAME_LOG;
	memcpy(m->log + (size_t)slot * SIM_FRAME_MAX, m->frame, m->frame_len);
	m->log_len[slot] = m->frame_len;
	m->log_count++;
}

/* The end of a frame (EOP): on the wire, padded to 60 bytes with TCTL.PSP; the FCS (IFCS) is not logged. */
static void transmit(struct sim_e1000e *m)
{
	if (m->frame_bad) {
		m->st.dropped++;
	} else {
		if (m->frame_len < 60 && (reg(m, E1000_TCTL) & E1000_TCTL_PSP)) {
			memset(m->frame + m->frame_len, 0, 60 - m->frame_len);
			m->frame_len = 60;
		}
		log_frame(m);
		m->st.frames++;
		m->st.bytes += m->frame_len;
	}
	m->frame_len = 0;
	m->frame_bad = 0;
}

/* Everything from TDH up to TDT: fetch, gather, transmit at EOP, write DD back for RS. */
static void tx_run(struct sim_e1000e *m)
{
	uint64_t base = (uint64_t)reg(m, E1000_TDBAH) << 32 | reg(m, E1000_TDBAL);
	uint32_t count = reg(m, E1000_TDLEN) / E1000_TXD_SIZE, head = reg(m, E1000_TDH), tail = reg(m, E1000_TDT);
	uint32_t causes = 0;

	if (!(reg(m, E1000_TCTL) & E1000_TCTL_EN) || head == tail)
		return;
	if (count == 0 || head >= count || tail >= count) {
		m->st.bad_ring++;
		return;
	}
	while (head != tail) {
		uint64_t at = base + (uint64_t)head * E1000_TXD_SIZE, addr;
		uint8_t d[E1000_TXD_SIZE], cmd, dd = E1000_TXD_STAT_DD;
		uint16_t len;

		if (sim_dma(m->dev, at, d, sizeof(d), 0)) {
			m->st.faults++;
			break;
		}
		memcpy(&addr, d, 8);
		memcpy(&len, d + E1000_TXD_LEN_OFF, 2);
		cmd = d[E1000_TXD_CMD_OFF];
		if (cmd & E1000_TXD_CMD_DEXT) {
			m->frame_bad = 1;
		} else if (len > SIM_FRAME_MAX - m->frame_len) {
			m->frame_bad = 1;
		} else if (len && sim_dma(m->dev, addr, m->frame + m->frame_len, len, 0)) {
			m->st.faults++;
			break;
		} else {
			m->frame_len += len;
		}
		if (cmd & E1000_TXD_CMD_EOP)
			transmit(m);
		if ((cmd & E1000_TXD_CMD_RS) && !sim_dma(m->dev, at + E1000_TXD_STATUS_OFF, &dd, 1, 1))
			causes |= E1000_ICR_TXDW;
		m->st.descriptors++;
		head = (head + 1) % count;
		set(m, E1000_TDH, head);
	}
	if (causes && sim_irq_active(m->dev) == VFIO_PCI_MSIX_IRQ_INDEX)
		causes |= E1000_ICR_TXQ0;
	if (causes)
		set_causes(m, causes);
}

uint32_t sim_e1000e_read(struct sim_e1000e *m, uint32_t off)
{
	uint32_t v;

	switch (off) {
	case E1000_ICR:
		/* read to clear; INT_ASSERTED reads as set while any cause is (QEMU e1000e_fix_icr_asserted) */
		v = reg(m, E1000_ICR);
		set(m, E1000_ICR, 0);
		return v ? v | E1000_ICR_INT_ASSERTED : 0;
	case E1000_ICS:
	case E1000_IMC:
		return 0;	/* write-only */
	default:
		return off < E1000E_BAR0_SIZE ? reg(m, off) : 0;
	}
}

void sim_e1000e_write(struct sim_e1000e *m, uint32_t off, uint32_t val)
{
	uint32_t old;

	switch (off) {
	case E1000_CTRL:
		if (val & E1000_CTRL_RST) {
			sim_e1000e_reset(m);	/* done at once: RST reads back clear */
			return;
		}
		set(m, off, val);
		return;
	case E1000_STATUS:
		return;	/* read-only */
	case E1000_ICR:
		set(m, off, reg(m, off) & ~val);	/* write 1 to clear */
		return;
	case E1000_ICS:
		set_causes(m, val);
		return;
	case E1000_IMS:
		old = reg(m, E1000_IMS);
		set(m, E1000_IMS, old | val);
		notify(m, reg(m, E1000_ICR) & val & ~old);
		return;
	case E1000_IMC:
		set(m, E1000_IMS, reg(m, E1000_IMS) & ~val);
		return;
	case E1000_TDLEN:
		set(m, off, val & E1000_TDLEN_MASK);
		return;
	case E1000_TDH:
		set(m, off, val & E1000_TDX_MASK);
		return;
	case E1000_TDT:
		set(m, off, val & E1000_TDX_MASK);
		tx_run(m);
		return;
	case E1000_TCTL:
		set(m, off, val);
		tx_run(m);	/* enabling TX sends what is already queued */
		return;
	default:
		if (off < E1000E_BAR0_SIZE)
			set(m, off, val);
	}
}

void sim_e1000e_stats(const struct sim_e1000e *m, struct sim_model_stats *out)
{
	*out = m->st;
	out->log_frames = m->log_count;
}

int sim_e1000e_frame(const struct sim_e1000e *m, uint32_t i, const uint8_t **data, uint32_t *len)
{
	uint32_t slot;

	if (i >= m->log_count)
		return -ENOENT;
	slot = (m->log_head + i) % SIM_FRAME_LOG;
	*data = m->log + (size_t)slot * SIM_FRAME_MAX;
	*len = m->log_len[slot];
	return 0;
}

void sim_e1000e_clear_frames(struct sim_e1000e *m)
{
	m->log_head = m->log_count = 0;
}
