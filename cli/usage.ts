/**
 * The device commands' lines of the usage text. Dependency-free, so bin/vfio-subregion.js can hand
 * them to the generator's CLI (which knows nothing of devices) without loading the runtime.
 */
export const DEVICE_COMMANDS = `  info [--device DEV] [--json]
                      show a device's regions, capabilities, subregions and mappings
                      (DEV: sim (default), a PCI address bound to vfio-pci, /dev/vfio/devices/vfioN)
  demo                 the simulated NIC: a WC TX push buffer beside UC registers in one BAR
`;
