// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * The generated validators (native/validators/vfio_subregion_validate.c), built into the module
 * unchanged: Kbuild only compiles sources below the module directory, so this file includes it.
 */
#include "vfio_subregion_validate.c"
