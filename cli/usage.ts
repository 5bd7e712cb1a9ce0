/**
 * The device commands' help, by name, in the generator CLI's format (synopsis line first).
 * Dependency-free, so bin/vfio-subregion.js can hand it to the generator's CLI (which knows nothing
 * of devices) without loading the runtime.
 */
export const DEVICE_HELP: Record<string, string> = {
  info: `info [--device DEV] [--json]
      Shows a device's regions, capabilities, subregions and (on the simulator) its mappings, like
      lspci -vv.
      --device DEV    sim (the default), a PCI address bound to vfio-pci (0000:01:00.0, or 01:00.0
                      as lspci prints it) or an iommufd cdev (/dev/vfio/devices/vfioN)
      --json          the same as JSON`,
  demo: `demo
      The simulated NIC: a WC TX push buffer beside UC registers in one BAR, then the nic-tx example.`,
};
