// The 82574 (e1000e) registers and bits the driver uses: the same list as native/src/e1000e_regs.h
// (Linux drivers/net/ethernet/intel/e1000e/regs.h and defines.h; QEMU hw/net/e1000_regs.h for IVAR).
export const CTRL: u32 = 0x00000;
export const STATUS: u32 = 0x00008;
export const ICR: u32 = 0x000c0;
export const IMS: u32 = 0x000d0;
export const IMC: u32 = 0x000d8;
export const IVAR: u32 = 0x000e4;
export const TCTL: u32 = 0x00400;
export const TIPG: u32 = 0x00410;
export const TDBAL: u32 = 0x03800;
export const TDBAH: u32 = 0x03804;
export const TDLEN: u32 = 0x03808;
export const TDH: u32 = 0x03810;
export const TDT: u32 = 0x03818;
export const RAL0: u32 = 0x05400;
export const RAH0: u32 = 0x05404;

export const CTRL_RST: u32 = 0x04000000;
export const STATUS_LU: u32 = 0x00000002;
export const ICR_TXDW: u32 = 0x00000001;
export const ICR_TXQ0: u32 = 0x00400000;
export const TCTL_EN: u32 = 0x00000002;
export const TCTL_PSP: u32 = 0x00000008;
export const TCTL_CT_15: u32 = 15 << 4;      // collision threshold (E1000_COLLISION_THRESHOLD << E1000_CT_SHIFT)
export const TCTL_COLD_63: u32 = 63 << 12;   // collision distance (E1000_COLLISION_DISTANCE << E1000_COLD_SHIFT)
export const TIPG_DEFAULT: u32 = 8 | (8 << 10) | (6 << 20);   // IPGT 8, IPGR1 8, IPGR2 6 (DEFAULT_82543_TIPG_*)
export const IVAR_VALID: u32 = 0x8;
export const IVAR_TXQ0_SHIFT: u32 = 8;

// Legacy TX descriptor: u64 address, u16 length, u8 cso, u8 cmd, u8 status, u8 css, u16 special.
export const TXD_SIZE: u32 = 16;
export const TXD_CMD_EOP: u32 = 0x01;
export const TXD_CMD_IFCS: u32 = 0x02;
export const TXD_CMD_RS: u32 = 0x08;
export const TXD_STAT_DD: u8 = 0x01;

/** VFIO_PCI_MSIX_IRQ_INDEX */
export const MSIX: u32 = 2;
