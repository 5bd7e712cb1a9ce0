#!/usr/bin/env bash
# npm run test:kernel: builds the vfio-pci-subregion module against Debian's 6.1 kernel, boots
# that kernel in QEMU (TCG) with an ivshmem-plain and an e1000e device, and runs the in-guest
# conformance runner (test/kernel/runner.c). One PASS/FAIL/SKIP line per check, a summary, exit 1
# on any failure. Cache: .cache/kernel/ (git-ignored). Needs root for apt-get when qemu or
# busybox-static are missing. KT_SEED=N fixes the random run's seed; KT_TIMEOUT the QEMU limit.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=$ROOT/.cache/kernel
BUILD=$CACHE/build
SEED=${KT_SEED:-$(( $(date +%s) % 100000 ))}
TIMEOUT=${KT_TIMEOUT:-300}
T0=$(date +%s)
mkdir -p "$CACHE/debs" "$BUILD"
log() { echo "[test:kernel] $*"; }

# ---- tools ----
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' || need+=(busybox-static)
command -v gcc >/dev/null && command -v make >/dev/null || need+=(gcc make)
command -v xz >/dev/null || need+=(xz-utils)
if [ ${#need[@]} -gt 0 ]; then
	log "installing ${need[*]}"
	apt-get install -y -qq "${need[@]}" >/dev/null
fi
BUSYBOX=/bin/busybox

# ---- kernel packages (apt-get download, unpacked with dpkg -x; nothing is installed) ----
KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: \(linux-image-6\.1\.[0-9.-]*-amd64\)$/\1/p' | head -1)
if [ -z "$KPKG" ]; then
	KPKG=$(ls "$CACHE/debs" 2>/dev/null | sed -n 's/^\(linux-image-6\.1\.[0-9.-]*-amd64\)_.*/\1/p' | head -1)
fi
[ -n "$KPKG" ] || { echo "FAIL setup: cannot resolve linux-image-amd64 (apt-get update?)"; exit 1; }
KVER=${KPKG#linux-image-}
ABI=${KVER%-amd64}
PKGS=("linux-image-$KVER" "linux-headers-$KVER" "linux-headers-$ABI-common" "linux-kbuild-6.1")
KROOT=$CACHE/root-$KVER
if [ ! -e "$KROOT/.done" ]; then
	( cd "$CACHE/debs"
	  for p in "${PKGS[@]}"; do ls ${p}_*.deb >/dev/null 2>&1 || apt-get download -qq "$p" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true; done )
	rm -rf "$KROOT"; mkdir -p "$KROOT"
	for p in "${PKGS[@]}"; do dpkg -x "$(ls "$CACHE"/debs/${p}_*.deb | tail -1)" "$KROOT"; done
	# the headers' Makefile includes the -common tree by its installed path
	sed -i "s#^include /usr/src/#include $KROOT/usr/src/#" "$KROOT/usr/src/linux-headers-$KVER/Makefile"
	touch "$KROOT/.done"
fi
KDIR=$KROOT/usr/src/linux-headers-$KVER
MODDIR=$KROOT/lib/modules/$KVER/kernel
VMLINUX=$CACHE/vmlinux-$KVER
if [ ! -s "$VMLINUX" ]; then
	# the uncompressed kernel boots faster (PVH entry): xz stream inside the bzImage
	off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$KROOT/boot/vmlinuz-$KVER" | head -1 | cut -d: -f1)
	tail -c +$((off + 1)) "$KROOT/boot/vmlinuz-$KVER" | xz -dc > "$VMLINUX.tmp" 2>/dev/null || true
	mv "$VMLINUX.tmp" "$VMLINUX"
fi
log "kernel $KVER ($(( $(date +%s) - T0 ))s)"

# ---- the module ----
rm -rf "$BUILD/mod"; mkdir -p "$BUILD/mod"
cp "$ROOT"/native/kernel/Kbuild "$ROOT"/native/kernel/*.c "$BUILD/mod/"
if ! make -s -C "$KDIR" M="$BUILD/mod" VFIO_SUBREGION_NATIVE="$ROOT/native" KCFLAGS=-Werror modules > "$BUILD/module.log" 2>&1; then
	cat "$BUILD/module.log"; echo "FAIL build/module"; exit 1
fi
grep -v 'Skipping BTF generation' "$BUILD/module.log" || true
echo "PASS build/module (native/kernel, -Werror)"

# ---- the runner: static, generated header + validators + vectors ----
node "$ROOT/test/kernel/gen-vectors.mjs" "$ROOT/spec/vectors/validation.json" > "$BUILD/vectors.h"
gcc -static -O2 -Wall -Wextra -Wno-unused-parameter -Werror -I"$ROOT/native/include" -I"$ROOT/native/validators" -I"$ROOT/native/src" -I"$BUILD" \
	-o "$BUILD/runner" "$ROOT/test/kernel/runner.c" "$ROOT/native/validators/vfio_subregion_validate.c" "$ROOT/native/src/vfio_host.c" -lpthread
echo "PASS build/runner"

# ---- initramfs ----
IR=$BUILD/initramfs
rm -rf "$IR"; mkdir -p "$IR"/{bin,dev,proc,sys,tmp,lib/modules}
cp "$BUSYBOX" "$IR/bin/busybox"
cp "$ROOT/test/kernel/init.sh" "$IR/init"; chmod +x "$IR/init"
cp "$BUILD/runner" "$IR/runner"
cp "$MODDIR/../kernel/virt/lib/irqbypass.ko" "$MODDIR"/drivers/vfio/{vfio.ko,vfio_iommu_type1.ko,vfio_virqfd.ko} \
	"$MODDIR"/drivers/vfio/pci/{vfio-pci-core.ko,vfio-pci.ko} "$BUILD/mod/vfio-pci-subregion.ko" "$IR/lib/modules/"
( cd "$IR" && find . | "$BUSYBOX" cpio -o -H newc 2>/dev/null | gzip -1 > "$BUILD/initramfs.cpio.gz" )

# ---- boot ----
SHM=$BUILD/ivshmem.bin
rm -f "$SHM"; truncate -s 1M "$SHM"
SERIAL=$BUILD/serial.log
log "booting (seed $SEED, limit ${TIMEOUT}s)"
set +e
timeout -k 5 "$TIMEOUT" qemu-system-x86_64 -accel tcg -cpu max -machine q35 -m 512 -smp 2 \
	-nographic -no-reboot -nodefaults -serial stdio \
	-kernel "$VMLINUX" -initrd "$BUILD/initramfs.cpio.gz" \
	-append "console=ttyS0 intel_iommu=on iommu=pt panic=-1 oops=panic quiet kt.seed=$SEED" \
	-device intel-iommu,intremap=on \
	-object memory-backend-file,id=shm,share=on,mem-path="$SHM",size=1M \
	-device ivshmem-plain,memdev=shm -device e1000e \
	< /dev/null > "$SERIAL" 2>&1
QRC=$?
set -e
sed -n 's/\r$//; s/^KT //p' "$SERIAL" | grep -v '^DONE$' || true

# ---- host side: what the guest wrote through each mapping is in the ivshmem backing file ----
hostcheck() {	# name offset string
	local got
	got=$(dd if="$SHM" bs=1 skip=$(($2)) count=${#3} 2>/dev/null | tr -d "\000")
	if [ "$got" = "$3" ]; then echo "PASS $1"; else echo "FAIL $1: backing file at $2 holds '$got'"; fi
}
{
	if grep -q '^KT DONE' "$SERIAL"; then echo "PASS guest/finished"; else
		echo "FAIL guest/finished: no completion marker (qemu exit $QRC; timeout ${TIMEOUT}s?)"; tail -30 "$SERIAL"; fi
	hostcheck host/uc-mapping-reached-device 0 "UC-PART: written through the UC mapping of BAR2"
	hostcheck host/wc-subregion-reached-device 0x10000 "WC-PART: written through the WC subregion of BAR2"
	hostcheck host/subregion-pwrite-reached-device 0x12000 "RW-PART: pwrite on the subregion offset"
	want=$(python3 -c 'import sys; sys.stdout.write("".join("%02x" % ((r*7+3) & 255) for r in range(4096)))' 2>/dev/null || true)
	got=$(dd if="$SHM" bs=4096 skip=17 count=1 2>/dev/null | od -An -v -tx1 | tr -d ' \n')
	if [ -n "$want" ] && [ "$got" = "$want" ]; then echo "PASS host/wc-page-pattern"; else echo "FAIL host/wc-page-pattern: 4 KiB written through WC differs"; fi
} > "$BUILD/host.txt"
cat "$BUILD/host.txt"

ALL=$( { sed -n 's/\r$//; s/^KT //p' "$SERIAL"; cat "$BUILD/host.txt"; echo "PASS build/module"; echo "PASS build/runner"; } )
P=$(grep -c '^PASS ' <<<"$ALL" || true)
F=$(grep -c '^FAIL ' <<<"$ALL" || true)
S=$(grep -c '^SKIP ' <<<"$ALL" || true)
echo "test:kernel: $P passed, $F failed, $S skipped ($(( $(date +%s) - T0 ))s; kernel $KVER; seed $SEED; log $SERIAL)"
[ "$F" -eq 0 ] && [ "$P" -gt 0 ]
