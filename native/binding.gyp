{
  # The test/bench-only module is built where its sources are: in the checkout, not in the package.
  # include/fallback (generated from the spec) holds uapi headers the build machine's may predate
  # (<linux/iommufd.h> is 6.6+): after the system's, so a header the system has wins.
  "variables": {
    "with_testing%": "<!(node -p \"+require('fs').existsSync('testing/testing.c')\")"
  },
  "targets": [
    {
      "target_name": "vfio_native",
      "sources": [
        "addon/args.c",
        "addon/handles.c",
        "addon/device.c",
        "addon/mapping.c",
        "addon/window.c",
        "addon/mmio.c",
        "addon/sim_config.c",
        "addon/dma.c",
        "addon/irq.c",
        "addon/module.c",
        "src/vfio_host.c",
        "src/sim.c",
        "src/sim_iommu.c",
        "src/sim_irq.c",
        "src/sim_e1000e.c",
        "validators/vfio_subregion_validate.c"
      ],
      "include_dirs": ["include", "validators", "src", "addon"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-fvisibility=hidden", "-idirafter", "<(module_root_dir)/include/fallback"],
      "conditions": [
        ["OS=='mac'", {
          "xcode_settings": {
            "OTHER_CFLAGS": ["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-fvisibility=hidden", "-idirafter", "<(module_root_dir)/include/fallback"]
          }
        }]
      ]
    }
  ],
  "conditions": [
    ["with_testing==1", {
      "targets": [
        {
          "target_name": "vfio_testing",
          "sources": [
            "testing/testing.c",
            "addon/args.c",
            "validators/vfio_subregion_validate.c"
          ],
          "include_dirs": ["include", "validators", "src", "addon"],
          "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
          "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-idirafter", "<(module_root_dir)/include/fallback"],
          "conditions": [
            ["OS=='mac'", {
              "xcode_settings": {
                "OTHER_CFLAGS": ["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-idirafter", "<(module_root_dir)/include/fallback"]
              }
            }]
          ]
        }
      ]
    }]
  ]
}
