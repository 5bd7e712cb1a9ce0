#!/usr/bin/env bash
# test/package/arm64-node.sh: an arm64 Node (Debian trixie's nodejs and the libraries it needs) as a
# root qemu-user runs it from (`qemu-aarch64-static -L ROOT ROOT/usr/bin/node`), to load the arm64
# prebuilt addon on this x86-64 machine. The .debs are downloaded with a private apt list, not
# installed, and unpacked with dpkg-deb -x into ~/.cache/vfio-subregion/arm64-node/ (ARM64_NODE_CACHE
# overrides it); later runs use the cache, offline.
# One line on stdout: `OK <root> <seconds spent fetching (0: cached)>` or `SKIP <reason>`; never fails
# for the network.
set -uo pipefail

DIR=${ARM64_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vfio-subregion/arm64-node}
ROOT=$DIR/root
# nodejs and what it loads at start: its libraries (apt-cache depends --recurse) and the bundled
# modules Debian ships as arch-independent packages (node loads them from /usr/share/nodejs).
PACKAGES=(nodejs libnode115 libc6 libgcc-s1 libstdc++6 gcc-14-base libbrotli1 libcares2 libicu76 libnghttp2-14
	libssl3t64 libuv1t64 libzstd1 zlib1g node-acorn node-cjs-module-lexer node-undici node-minimatch
	node-brace-expansion node-balanced-match)

if [ -e "$DIR/.done" ]; then echo "OK $ROOT 0"; exit 0; fi
command -v qemu-aarch64-static >/dev/null || { echo "SKIP qemu-aarch64-static is not installed (apt-get install qemu-user-static)"; exit 0; }
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || { echo "SKIP apt-get/dpkg-deb are not available here"; exit 0; }
t0=$(date +%s.%N)
rm -rf "$DIR" && mkdir -p "$DIR/lists/partial" "$DIR/debs" || { echo "SKIP cannot create $DIR"; exit 0; }
echo "deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" > "$DIR/sources.list"
APT=(-qq -o "Dir::Etc::sourcelist=$DIR/sources.list" -o Dir::Etc::sourceparts=/dev/null -o "Dir::State::lists=$DIR/lists"
	-o Dir::State::status=/dev/null -o Debug::NoLocking=1 -o APT::Architecture=arm64 -o APT::Architectures::=arm64
	-o Acquire::Retries=1 -o Acquire::http::Timeout=20)
if ! timeout 120 apt-get "${APT[@]}" update >"$DIR/update.log" 2>&1 || grep -q -E '^E: |Failed to fetch' "$DIR/update.log"; then
	echo "SKIP trixie's arm64 package list could not be fetched (see $DIR/update.log)"; exit 0
fi
if ! (cd "$DIR/debs" && timeout 300 apt-get "${APT[@]}" download "${PACKAGES[@]}" >"$DIR/download.log" 2>&1); then
	echo "SKIP the arm64 nodejs packages could not be downloaded (see $DIR/download.log)"; exit 0
fi
mkdir -p "$ROOT" && for d in "$DIR"/debs/*.deb; do dpkg-deb -x "$d" "$ROOT" || { echo "SKIP dpkg-deb -x $d failed"; exit 0; }; done
# trixie is merged-/usr: the loader is looked for at /lib (base-files makes the link on a real system).
ln -sfn usr/lib "$ROOT/lib"
out=$(qemu-aarch64-static -L "$ROOT" "$ROOT/usr/bin/node" -p process.arch 2>&1)
[ "$out" = arm64 ] || { echo "SKIP the unpacked arm64 node does not start under qemu-user: $(echo "$out" | head -1)"; exit 0; }
touch "$DIR/.done"
echo "OK $ROOT $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"
