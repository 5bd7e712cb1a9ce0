#!/usr/bin/env bash
# test/package/cross-arm64.sh: Debian 12's cross gcc for arm64 (gcc-12-aarch64-linux-gnu, its
# binutils and the arm64 libc headers), downloaded with the system's apt lists and unpacked with
# dpkg-deb -x into ~/.cache/vfio-subregion/cross-arm64/ (CROSS_ARM64_CACHE overrides it), not
# installed: on Debian 12, installing gcc-aarch64-linux-gnu removes gcc-multilib, which the -m32
# tests need. gcc finds its parts relative to its own binary, so the unpacked tree works as it is.
# One line on stdout: `OK <bin folder, holding aarch64-linux-gnu-gcc-12>` or `SKIP <reason>`.
set -uo pipefail

DIR=${CROSS_ARM64_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vfio-subregion/cross-arm64}
PACKAGES=(gcc-12-aarch64-linux-gnu cpp-12-aarch64-linux-gnu binutils-aarch64-linux-gnu libc6-dev-arm64-cross
	libc6-arm64-cross linux-libc-dev-arm64-cross libgcc-12-dev-arm64-cross libgcc-s1-arm64-cross)

if [ -e "$DIR/.done" ]; then echo "OK $DIR/root/usr/bin"; exit 0; fi
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || { echo "SKIP apt-get/dpkg-deb are not available here"; exit 0; }
rm -rf "$DIR" && mkdir -p "$DIR/debs" "$DIR/root" || { echo "SKIP cannot create $DIR"; exit 0; }
if ! (cd "$DIR/debs" && timeout 300 apt-get -qq -o Acquire::Retries=1 -o Acquire::http::Timeout=20 download "${PACKAGES[@]}" >"$DIR/download.log" 2>&1); then
	echo "SKIP the cross compiler's packages could not be downloaded (see $DIR/download.log)"; exit 0
fi
for d in "$DIR"/debs/*.deb; do dpkg-deb -x "$d" "$DIR/root" || { echo "SKIP dpkg-deb -x $d failed"; exit 0; }; done
echo 'int f(void) { return 0; }' | "$DIR/root/usr/bin/aarch64-linux-gnu-gcc-12" -x c -c - -o /dev/null 2>"$DIR/check.log" ||
	{ echo "SKIP the unpacked cross compiler does not run (see $DIR/check.log)"; exit 0; }
touch "$DIR/.done"
echo "OK $DIR/root/usr/bin"
