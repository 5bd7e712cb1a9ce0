/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * The e1000e-like device model behind a simulated device's BAR0 (sim_e1000e.c), inside struct
 * sim_device: sim.c routes the register accesses it traps (sim_mmio, 32-bit sim_rw) here and tells it
 * about VFIO_DEVICE_RESET.
 */
#ifndef VFIO_SIM_E1000E_H
#define VFIO_SIM_E1000E_H

#include <stdint.h>

#include "sim.h"

struct sim_e1000e;

/* fd: BAR0's backing file, whose first E1000E_BAR0_SIZE bytes hold the registers. */
int sim_e1000e_create(struct sim_device *dev, int fd, struct sim_e1000e **out);
void sim_e1000e_destroy(struct sim_e1000e *m);
/* Every register back to its power-on value (CTRL.RST, VFIO_DEVICE_RESET); the frame log stays. */
void sim_e1000e_reset(struct sim_e1000e *m);
uint32_t sim_e1000e_read(struct sim_e1000e *m, uint32_t off);
void sim_e1000e_write(struct sim_e1000e *m, uint32_t off, uint32_t val);
void sim_e1000e_stats(const struct sim_e1000e *m, struct sim_model_stats *out);
int sim_e1000e_frame(const struct sim_e1000e *m, uint32_t i, const uint8_t **data, uint32_t *len);
void sim_e1000e_clear_frames(struct sim_e1000e *m);

/* sim.c: the IRQ index VFIO_DEVICE_SET_IRQS made active (VFIO_PCI_NUM_IRQS: none). */
uint32_t sim_irq_active(const struct sim_device *dev);

#endif /* VFIO_SIM_E1000E_H */
