/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * The Intel 82574 (e1000e, PCI 8086:10d3) registers and bits a TX path uses: the simulator's device
 * model (sim_e1000e.c) and the C twin of the example driver (examples/e1000e/driver.c) include this
 * one list; the AssemblyScript driver (examples/e1000e/assembly/regs.ts) repeats it, and the tests
 * check the model against the numbers written there by hand.
 *
 * Sources: Linux drivers/net/ethernet/intel/e1000e/regs.h (offsets) and defines.h (bits), QEMU
 * hw/net/e1000_regs.h (IVAR fields) and hw/net/e1000e_core.c (reset values, MSI-X routing), the
 * Intel 82574 GbE Controller datasheet (section 10: registers; 7.2.10: legacy TX descriptor).
 */
#ifndef E1000E_REGS_H
#define E1000E_REGS_H

#define E1000E_VENDOR_ID	0x8086
#define E1000E_DEVICE_ID	0x10d3	/* 82574L */
#define E1000E_BAR0_SIZE	0x20000	/* 128 KiB of memory-mapped registers */
#define E1000E_MSIX_VECTORS	5	/* RxQ0, RxQ1, TxQ0, TxQ1, other */

/* regs.h */
#define E1000_CTRL	0x00000
#define E1000_STATUS	0x00008
#define E1000_CTRL_EXT	0x00018
#define E1000_ICR	0x000C0	/* read to clear */
#define E1000_ICS	0x000C8	/* write only: sets causes */
#define E1000_IMS	0x000D0	/* write: sets mask bits; read: the mask */
#define E1000_IMC	0x000D8	/* write only: clears mask bits */
#define E1000_IVAR	0x000E4
#define E1000_TCTL	0x00400
#define E1000_TIPG	0x00410
#define E1000_TDBAL	0x03800	/* E1000_TDBAL(0) */
#define E1000_TDBAH	0x03804
#define E1000_TDLEN	0x03808
#define E1000_TDH	0x03810
#define E1000_TDT	0x03818
#define E1000_RAL0	0x05400	/* E1000_RAL(0) */
#define E1000_RAH0	0x05404

/* defines.h */
#define E1000_CTRL_FD		0x00000001
#define E1000_CTRL_SLU		0x00000040
#define E1000_CTRL_SPD_1000	0x00000200
#define E1000_CTRL_RST		0x04000000	/* global reset, self-clearing */
#define E1000_STATUS_FD		0x00000001
#define E1000_STATUS_LU		0x00000002
#define E1000_STATUS_SPEED_1000	0x00000080
#define E1000_ICR_TXDW		0x00000001	/* TX descriptor written back */
#define E1000_ICR_LSC		0x00000004
#define E1000_ICR_RXQ0		0x00100000
#define E1000_ICR_RXQ1		0x00200000
#define E1000_ICR_TXQ0		0x00400000
#define E1000_ICR_TXQ1		0x00800000
#define E1000_ICR_OTHER		0x01000000
#define E1000_ICR_INT_ASSERTED	0x80000000
#define E1000_TCTL_EN		0x00000002
#define E1000_TCTL_PSP		0x00000008	/* pad short packets */
#define E1000_RAH_AV		0x80000000
#define E1000_TIPG_IPGR1_SHIFT	10
#define E1000_TIPG_IPGR2_SHIFT	20

/* The legacy TX descriptor (16 bytes): buffer address, length, cso, cmd, status, css, special. */
#define E1000_TXD_SIZE		16
#define E1000_TXD_LEN_OFF	8
#define E1000_TXD_CMD_OFF	11
#define E1000_TXD_STATUS_OFF	12
/* defines.h has the cmd bits in the descriptor's second dword (E1000_TXD_CMD_EOP 0x01000000): here, the cmd byte's */
#define E1000_TXD_CMD_EOP	0x01
#define E1000_TXD_CMD_IFCS	0x02
#define E1000_TXD_CMD_RS	0x08
#define E1000_TXD_CMD_DEXT	0x20	/* extended (context/data) descriptor: not modelled */
#define E1000_TXD_STAT_DD	0x01

/* QEMU hw/net/e1000_regs.h: IVAR entries of 4 bits, vector in bits 2:0, valid bit 3 */
#define E1000_IVAR_VALID	0x8
#define E1000_IVAR_RXQ0_SHIFT	0
#define E1000_IVAR_RXQ1_SHIFT	4
#define E1000_IVAR_TXQ0_SHIFT	8
#define E1000_IVAR_TXQ1_SHIFT	12
#define E1000_IVAR_OTHER_SHIFT	16

/* QEMU e1000e_set_16bit / E1000_XDLEN_MASK: TDH and TDT hold 16 bits, TDLEN a multiple of 128 below 1 MiB */
#define E1000_TDLEN_MASK	0x000FFF80
#define E1000_TDX_MASK		0x0000FFFF

#endif /* E1000E_REGS_H */
