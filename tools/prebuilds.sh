#!/usr/bin/env bash
# `npm run prebuilds`: rebuilds the committed prebuilt addons (linux-x64 with the system's gcc,
# linux-arm64 with Debian's cross gcc unpacked by test/package/cross-arm64.sh) after a change under
# native/; commit prebuilds/ afterwards (npm pack and npm test refuse stale ones).
set -euo pipefail
cd "$(dirname "$0")/.."
node native/build.mjs --prebuild
read -r status bin < <(bash test/package/cross-arm64.sh)
[ "$status" = OK ] || { echo "prebuilds: no arm64 cross compiler: $bin" >&2; exit 1; }
PATH=$bin:$PATH CC=aarch64-linux-gnu-gcc-12 node native/build.mjs --prebuild --arch arm64
git status --short prebuilds/
