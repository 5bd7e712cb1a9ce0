import { VfioRegionAttr } from './generated/vfio-subregion.js';
import type { SimConfig } from './native.js';

const KiB = 1024n;
const WC = VfioRegionAttr.VFIO_REGION_ATTR_WC;

/** A region index the device does not have (an unused BAR, no VGA). */
export const ABSENT: SimConfig['regions'][number] = { size: 0n, kind: 'none', readable: false, writable: false, mmap: false, supportedAttrs: 0 };

/** Register block and TX push buffer of the default NIC's BAR0. */
export const NIC_LAYOUT = {
  bar: 0,
  registers: { offset: 0n, size: 64n * KiB },
  doorbell: 0x40,
  txPush: { offset: 128n * KiB, size: 128n * KiB },
} as const;

/**
 * The embedded default: a NIC-like vfio-pci device. BAR0 (256 KiB, prefetchable memory) holds a
 * register block and a TX push buffer, the part a driver wants write-combined; BAR2 is an MSI-X BAR
 * with a sparse mmap hole; BAR4 is an I/O port range; then ROM and config space. It has one MSI vector
 * and eight MSI-X vectors, and sits behind the simulator's default IOMMU.
 */
export const DEFAULT_SIM: SimConfig = {
  regions: [
    { size: 256n * KiB, kind: 'memory', readable: true, writable: true, mmap: true, supportedAttrs: WC, prefetchable: true },
    ABSENT,
    {
      size: 16n * KiB, kind: 'memory', readable: true, writable: true, mmap: true, supportedAttrs: 0,
      sparse: [{ offset: 0n, size: 8n * KiB }, { offset: 12n * KiB, size: 4n * KiB }], msixMappable: true,
    },
    ABSENT,
    { size: 256n, kind: 'io', readable: true, writable: true, mmap: false, supportedAttrs: 0 },
    ABSENT,
    { size: 64n * KiB, kind: 'memory', readable: true, writable: false, mmap: false, supportedAttrs: 0 },
    { size: 4n * KiB, kind: 'config', readable: true, writable: true, mmap: false, supportedAttrs: 0 },
    ABSENT,
  ],
  numIrqs: 5,
  msi: 1,
  msix: 8,
  maxSubregions: 16,
  classCode: 0x020000,
};

/**
 * An ivshmem-like device (QEMU's inter-VM shared memory, ivshmem-plain): region 0 is a 4 KiB
 * non-prefetchable register BAR, mmap-able, no attributes; region 2 is a 1 MiB prefetchable shared
 * memory BAR, mmap-able, WC allowed. The device of the memory-type scenarios (spec/vectors/memtype.json),
 * which the kernel test runs on a real ivshmem device.
 */
export const IVSHMEM_SIM: SimConfig = {
  regions: [
    { size: 4n * KiB, kind: 'memory', readable: true, writable: true, mmap: true, supportedAttrs: 0 },
    ABSENT,
    { size: 1024n * KiB, kind: 'memory', readable: true, writable: true, mmap: true, supportedAttrs: WC, prefetchable: true },
    ABSENT,
    ABSENT,
    ABSENT,
    ABSENT,
    { size: 256n, kind: 'config', readable: true, writable: true, mmap: false, supportedAttrs: 0 },
    ABSENT,
  ],
  numIrqs: 5,
  maxSubregions: 16,
  vendorId: 0x1af4,
  deviceId: 0x1110,
  classCode: 0x050000,
};

/** BAR0 of the e1000e preset: its registers (native/src/e1000e_regs.h), all of it. */
export const E1000E_LAYOUT = { bar: 0, size: 128n * KiB, msixBar: 3, msixVectors: 5 } as const;

/**
 * An e1000e-like NIC (Intel 82574L, 8086:10d3, as QEMU's `-device e1000e`): BAR0 128 KiB of registers
 * with the device model behind them (native/src/sim_e1000e.c: the TX path, interrupt causes and masks,
 * MSI-X routing, reset), BAR1 128 KiB of flash, BAR2 32 I/O ports, BAR3 16 KiB holding the MSI-X
 * table and PBA (mmap-able, as vfio-pci reports it since 5.11). One MSI vector, five MSI-X vectors.
 */
export const E1000E_SIM: SimConfig = {
  regions: [
    { size: 128n * KiB, kind: 'memory', readable: true, writable: true, mmap: true, supportedAttrs: 0 },
    { size: 128n * KiB, kind: 'memory', readable: true, writable: true, mmap: true, supportedAttrs: 0 },
    { size: 32n, kind: 'io', readable: true, writable: true, mmap: false, supportedAttrs: 0 },
    { size: 16n * KiB, kind: 'memory', readable: true, writable: true, mmap: true, supportedAttrs: 0, msixMappable: true },
    ABSENT,
    ABSENT,
    ABSENT,
    { size: 256n, kind: 'config', readable: true, writable: true, mmap: false, supportedAttrs: 0 },
    ABSENT,
  ],
  numIrqs: 5,
  msi: 1,
  msix: 5,
  maxSubregions: 4,
  vendorId: 0x8086,
  deviceId: 0x10d3,
  classCode: 0x020000,
  model: 'e1000e',
};
