/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * The simulated device's interrupts (sim_irq.c), inside struct sim_device: what
 * VFIO_DEVICE_GET_IRQ_INFO reports and the eventfds VFIO_DEVICE_SET_IRQS gives it.
 */
#ifndef VFIO_SIM_IRQ_H
#define VFIO_SIM_IRQ_H

#include <stddef.h>
#include <stdint.h>

struct sim_irqs {
	uint32_t num_irqs;		/* indexes */
	uint32_t msi, msix;		/* vectors of each */
	uint32_t type;			/* the active index (INTx, MSI, MSI-X), or VFIO_PCI_NUM_IRQS: none */
	int *ctx;			/* the active index's eventfds (dups; -1: none), nr_ctx of them */
	uint32_t nr_ctx;
	int intx_masked;		/* INTx is automasked: a signal while masked waits for the unmask */
	int intx_pending;
	int err_fd, req_fd;		/* VFIO_PCI_ERR_IRQ_INDEX, VFIO_PCI_REQ_IRQ_INDEX */
	uint64_t interrupts, lost;
};

void sim_irqs_init(struct sim_irqs *s, uint32_t num_irqs, uint32_t msi, uint32_t msix);
/* Closes every eventfd: the state of an index with nothing set. */
void sim_irqs_clear(struct sim_irqs *s);
int sim_irqs_get_info(struct sim_irqs *s, void *arg, size_t len);
int sim_irqs_set(struct sim_irqs *s, void *arg, size_t len);
int sim_irqs_signal(struct sim_irqs *s, uint32_t index, uint32_t vector);
size_t sim_irqs_nr_eventfds(const struct sim_irqs *s);

#endif /* VFIO_SIM_IRQ_H */
