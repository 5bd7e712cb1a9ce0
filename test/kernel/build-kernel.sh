#!/usr/bin/env bash
# test/kernel/build-kernel.sh: builds the Linux test:kernel boots as 7.2-cdev, the only one with
# IOMMUFD and VFIO_DEVICE_CDEV (Debian builds neither): Debian sid's linux-source-7.2, configured
# as `make tinyconfig` plus test/kernel/cdev.config, built with this machine's gcc (which then
# builds the variant driver against it). The build tree is cached in $KT_CACHE (default
# ~/.cache/vfio-subregion/kernel) as cdev-<source version>-<hash of the fragment and the gcc>,
# so it is rebuilt only when one of them changes. Prints the build tree's path (vmlinux, bzImage,
# Module.symvers) on stdout; progress and timings on stderr. Needs root for apt-get.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${KT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vfio-subregion/kernel}
FRAG=$ROOT/test/kernel/cdev.config
PKG=linux-source-7.2
log() { echo "[build-kernel] $*" >&2; }
. "$ROOT/test/kernel/apt.sh"
mkdir -p "$CACHE/debs"

key=$( { cat "$FRAG"; gcc --version | head -1; } | sha256sum | cut -c1-12)
opts=$(apt_for sid 2>/dev/null) || opts=
# shellcheck disable=SC2086
ver=$( [ -z "$opts" ] || apt-cache $opts policy "$PKG" 2>/dev/null | sed -n 's/^ *Candidate: //p')
if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then	# offline: the newest tree this cache built with this fragment
	B=$(ls -dt "$CACHE"/cdev-*-"$key" 2>/dev/null | head -1 || true)
	[ -n "$B" ] && [ -e "$B/.done" ] || { echo "build-kernel: cannot resolve $PKG in sid and nothing is cached for this fragment" >&2; exit 1; }
	echo "$B"; exit 0
fi
B=$CACHE/cdev-$ver-$key
if [ -e "$B/.done" ]; then echo "$B"; exit 0; fi

need=()
for p in make gcc flex bison bc libelf-dev xz-utils; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	log "installing ${need[*]}"
	apt-get install -y -qq "${need[@]}" >/dev/null
fi

t0=$(date +%s)
SRC=$CACHE/src-$ver/$PKG
if [ ! -e "$SRC/.done" ]; then
	log "downloading and unpacking $PKG $ver (once per version)"
	deb=$CACHE/debs/${PKG}_${ver}_all.deb
	# shellcheck disable=SC2086
	[ -s "$deb" ] || ( cd "$CACHE/debs" && apt-get $opts download -qq "$PKG=$ver" 2>&1 | grep -v 'Download is performed unsandboxed' || true )
	[ -s "$deb" ] || { echo "build-kernel: downloading $PKG $ver failed" >&2; exit 1; }
	rm -rf "$CACHE/src-$ver"; mkdir -p "$CACHE/src-$ver"
	dpkg-deb --fsys-tarfile "$deb" | tar -xO --wildcards "./usr/src/$PKG.tar.*" | tar -xJ -C "$CACHE/src-$ver"
	touch "$SRC/.done"
fi
t1=$(date +%s)

log "building $PKG $ver with test/kernel/cdev.config into $B (once per version and fragment)"
rm -rf "$B"; mkdir -p "$B"
make -s -C "$SRC" O="$B" tinyconfig > "$B/config.log" 2>&1
"$SRC/scripts/kconfig/merge_config.sh" -m -O "$B" "$B/.config" "$FRAG" >> "$B/config.log" 2>&1
make -s -C "$SRC" O="$B" olddefconfig >> "$B/config.log" 2>&1
dropped=$(grep '^CONFIG_' "$FRAG" | while read -r l; do grep -qxF "$l" "$B/.config" || echo "$l"; done)
[ -z "$dropped" ] || { echo "build-kernel: kconfig dropped from test/kernel/cdev.config (a dependency is missing):" $dropped >&2; exit 1; }
if ! nice -n 10 make -C "$SRC" O="$B" -j"$(nproc)" all > "$B/build.log" 2>&1; then
	grep -E 'error|Error' "$B/build.log" | head -20 >&2
	echo "build-kernel: the build failed (see $B/build.log)" >&2; exit 1
fi
t2=$(date +%s)
objs=$(find "$B" -name '*.o' | wc -l)
echo "unpack $((t1 - t0))s, build $((t2 - t1))s ($objs objects, $(nproc) cores)" > "$B/.done"
log "$PKG $ver: $(cat "$B/.done")"
echo "$B"
