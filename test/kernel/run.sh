#!/usr/bin/env bash
# npm run test:kernel [-- KERNEL...]: builds the vfio-pci-subregion module against Debian's kernels
# (default: 6.1 = bookworm, 6.12 = trixie, Debian stable, 7.2 = sid, and 7.2-cdev: sid's source built
# by test/kernel/build-kernel.sh with IOMMUFD and VFIO_DEVICE_CDEV), boots each in QEMU (TCG)
# with an ivshmem-plain and an e1000e device, and runs the in-guest conformance runner
# (test/kernel/runner.c, test/kernel/init.sh), then this package's device API and CLI under this
# machine's node (test/kernel/node-guest.mjs: the guest mounts this machine's root read-only over
# virtio-9p and runs node and the checkout's dist/ from there). One PASS/FAIL/SKIP line per check,
# prefixed with the kernel; a summary; exit 1 on any failure. The wasm examples run in the guest too
# (test/kernel/wasm-guest.mjs), against a device model on this side of the ivshmem memory
# (test/kernel/ivshmem-model.c), which checks what they pushed; so does the e1000e example's driver
# on the e1000e (test/kernel/e1000e-guest.mjs), whose frames QEMU dumps to a pcap that
# test/kernel/frames-check.mjs checks here.
#
# Kernel packages are downloaded with a private apt configuration per suite and unpacked, never
# installed. A module is built with the compiler its kernel was built with: the machine's gcc for
# 6.1, a debootstrap'ed trixie or sid with gcc-14/gcc-16 otherwise. Everything is cached in
# $KT_CACHE (default ~/.cache/vfio-subregion/kernel, outside the clone so CI runs reuse it).
# Needs root (apt-get, debootstrap, chroot). KT_SEED=N fixes the random run's seed; KT_TIMEOUT
# bounds each QEMU run. `-- --bench` adds the bench rows measured in each guest.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NODE=$(command -v node)
CACHE=${KT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vfio-subregion/kernel}
BUILD=$ROOT/.cache/kernel-build
SEED=${KT_SEED:-$(( $(date +%s) % 100000 ))}
# --bench: also the bench rows inside each guest (test/kernel/bench-guest.mjs); the JSON array of
# every kernel's rows is the last line
BENCH=0
KERNELS=()
for a in "$@"; do if [ "$a" = --bench ]; then BENCH=1; else KERNELS+=("$a"); fi; done
[ ${#KERNELS[@]} -gt 0 ] || KERNELS=(6.1 6.12 7.2 7.2-cdev)
TIMEOUT=${KT_TIMEOUT:-$((300 + 300 * BENCH))}
T0=$(date +%s)
mkdir -p "$CACHE" "$BUILD"
log() { echo "[test:kernel] $*"; }

declare -A SUITE=([6.1]=bookworm [6.12]=trixie [7.2]=sid [7.2-cdev]=sid)
for k in "${KERNELS[@]}"; do
	[ -n "${SUITE[$k]:-}" ] || { echo "test:kernel: unknown kernel '$k' (known: ${!SUITE[*]})" >&2; exit 2; }
done

# ---- tools ----
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' || need+=(busybox-static)
command -v gcc >/dev/null && command -v make >/dev/null || need+=(gcc make)
command -v xz >/dev/null || need+=(xz-utils)
command -v zstd >/dev/null || need+=(zstd)
command -v debootstrap >/dev/null || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
	log "installing ${need[*]}"
	apt-get install -y -qq "${need[@]}" >/dev/null
fi
BUSYBOX=/bin/busybox

# apt_for, deps_of
. "$ROOT/test/kernel/apt.sh"

# ---- one kernel: packages, compiler, module, initramfs, boot ----
setup_cdev() {	# the kernel build-kernel.sh built (once, cached): everything built in, its tree builds the module
	local B
	B=$("$ROOT/test/kernel/build-kernel.sh") || { echo "FAIL 7.2-cdev/setup: test/kernel/build-kernel.sh failed"; return 1; }
	log "7.2-cdev: $B ($(cat "$B/.done"))" >&2
	KVER=$(cat "$B/include/config/kernel.release")
	KROOT=$B KDIR= KIMAGE=$B/vmlinux CHROOT=
	ln -sfn "$B/vmlinux" "$CACHE/vmlinux-$KVER"
}

setup_kernel() {	# K -> KVER KROOT KDIR KIMAGE CHROOT
	local k=$1 suite=${SUITE[$1]} opts img abi pkgs=() p cc
	[ "$k" != 7.2-cdev ] || { setup_cdev; return; }
	opts=$(apt_for "$suite")
	img=$(deps_of "$opts" linux-image-amd64 '^linux-image-[0-9].*-amd64$' | head -1)
	if [ -z "$img" ]; then	# offline: whatever this cache already unpacked
		img=$(ls -d "$CACHE"/root-"$k".* 2>/dev/null | sed -n 's#.*/root-\(.*\)#linux-image-\1#p' | tail -1)
	fi
	[ -n "$img" ] || { echo "FAIL $k/setup: cannot resolve linux-image-amd64 in $suite"; return 1; }
	KVER=${img#linux-image-}
	abi=${KVER%-amd64}
	KROOT=$CACHE/root-$KVER
	if [ ! -e "$KROOT/.done" ]; then
		pkgs=("$img" "linux-headers-$KVER")
		mapfile -t -O ${#pkgs[@]} pkgs < <(deps_of "$opts" "$img" '^linux-(binary|modules)-')
		mapfile -t -O ${#pkgs[@]} pkgs < <(deps_of "$opts" "linux-headers-$KVER" '^linux-(headers|kbuild)-.*(common|[0-9])$')
		mkdir -p "$CACHE/debs"
		# shellcheck disable=SC2086
		( cd "$CACHE/debs" && for p in "${pkgs[@]}"; do ls "${p}"_*.deb >/dev/null 2>&1 ||
			apt-get $opts download -qq "$p" 2>&1 | grep -v 'Download is performed unsandboxed' || true; done )
		rm -rf "$KROOT"; mkdir -p "$KROOT"
		for p in "${pkgs[@]}"; do dpkg -x "$(ls "$CACHE"/debs/"${p}"_*.deb | tail -1)" "$KROOT"; done
		touch "$KROOT/.done"
	fi
	KDIR=/usr/src/linux-headers-$KVER
	KIMAGE=$(find "$KROOT/boot" "$KROOT/usr/lib/modules/$KVER" -maxdepth 1 -name 'vmlinuz*' 2>/dev/null | head -1 || true)
	# the compiler the kernel was built with: this machine's, or a chroot of the kernel's suite
	cc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT=".*gcc-\([0-9]*\) .*/\1/p' "$KROOT$KDIR/.config")
	CHROOT=
	if [ "$(gcc -dumpversion | cut -d. -f1)" != "$cc" ]; then
		CHROOT=$CACHE/chroot-$suite-gcc$cc
		if [ ! -e "$CHROOT/.done" ]; then
			log "$k: debootstrap $suite with gcc-$cc (once)"
			rm -rf "$CHROOT"
			debootstrap --variant=minbase --include="gcc-$cc,make,libc6-dev,libelf1t64,dwarves" \
				"$suite" "$CHROOT" http://deb.debian.org/debian > "$CACHE/debootstrap-$suite.log" 2>&1 ||
				{ echo "FAIL $k/setup: debootstrap $suite (see $CACHE/debootstrap-$suite.log)"; return 1; }
			touch "$CHROOT/.done"
		fi
	fi
}

build_module() {	# K -> $KB/vfio-pci-subregion.ko
	local k=$1 KB=$BUILD/$1 top
	rm -rf "$KB/mod"; mkdir -p "$KB/mod"
	cp "$ROOT"/native/kernel/Kbuild "$ROOT"/native/kernel/*.c "$KB/mod/"
	cp -r "$ROOT/native/include" "$ROOT/native/validators" "$KB/"
	if [ -z "$CHROOT" ]; then
		# the headers' Makefile includes the -common tree by its installed path
		sed -i "s#^include /usr/src/#include $KROOT/usr/src/#" "$KROOT$KDIR/Makefile"
		make -s -C "$KROOT$KDIR" M="$KB/mod" VFIO_SUBREGION_NATIVE="$KB" KCFLAGS=-Werror modules > "$KB/module.log" 2>&1
	else
		top=$CHROOT/kt
		rm -rf "$top"; mkdir -p "$top" "$CHROOT/usr/src"
		cp -r "$KB/mod" "$KB/include" "$KB/validators" "$top/"
		for p in "$KROOT"/usr/src/*; do [ -e "$CHROOT/usr/src/$(basename "$p")" ] || cp -a "$p" "$CHROOT/usr/src/"; done
		for p in "$KROOT"/usr/lib/linux-kbuild-*; do [ -e "$CHROOT/usr/lib/$(basename "$p")" ] || cp -a "$p" "$CHROOT/usr/lib/"; done
		mountpoint -q "$CHROOT/proc" || mount -t proc proc "$CHROOT/proc"	# objtool reads /proc
		chroot "$CHROOT" make -s -C "$KDIR" M=/kt/mod VFIO_SUBREGION_NATIVE=/kt KCFLAGS=-Werror modules \
			> "$KB/module.log" 2>&1 || { umount "$CHROOT/proc"; return 1; }
		umount "$CHROOT/proc"
		cp "$top/mod/vfio-pci-subregion.ko" "$KB/mod/"
	fi
}

modules_into() {	# initramfs order-file module... : the kernel's modules, uncompressed, and their load order
	local ir=$1 order=$2 mod f
	shift 2
	: > "$ir/lib/modules/$order"
	for mod in "$@"; do
		f=$(find "$KROOT"/lib/modules "$KROOT"/usr/lib/modules -name "$mod.ko*" 2>/dev/null | head -1 || true)
		[ -n "$f" ] || continue	# built in (vfio_virqfd is part of vfio since 6.2; virtio, fscache on 6.12+)
		case $f in
			*.xz) xz -dc "$f" > "$ir/lib/modules/$mod.ko" ;;
			*.zst) zstd -qdc "$f" > "$ir/lib/modules/$mod.ko" ;;
			*) cp "$f" "$ir/lib/modules/$mod.ko" ;;
		esac
		echo "$mod" >> "$ir/lib/modules/$order"
	done
}

boot_kernel() {	# K: initramfs with that kernel's modules, QEMU, host-side checks -> $KB/results.txt
	local k=$1 KB=$BUILD/$1 IR off magic
	IR=$KB/initramfs
	rm -rf "$IR"; mkdir -p "$IR"/{bin,dev,proc,sys,tmp,lib/modules}
	cp "$BUSYBOX" "$IR/bin/busybox"
	cp "$ROOT/test/kernel/init.sh" "$IR/init"; chmod +x "$IR/init"
	cp "$BUILD/runner" "$IR/runner"
	modules_into "$IR" order irqbypass vfio vfio_iommu_type1 vfio_virqfd vfio-pci-core vfio-pci
	cp "$KB/mod/vfio-pci-subregion.ko" "$IR/lib/modules/"
	echo vfio-pci-subregion >> "$IR/lib/modules/order"
	# virtio-9p: the guest mounts this machine's root read-only and runs its node on the checkout
	modules_into "$IR" order-9p virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci netfs fscache 9pnet 9pnet_virtio 9p
	( cd "$IR" && find . | "$BUSYBOX" cpio -o -H newc 2>/dev/null | gzip -1 > "$KB/initramfs.cpio.gz" )

	# the uncompressed kernel boots faster (PVH entry): the xz or zstd stream inside the bzImage
	VMLINUX=$CACHE/vmlinux-$KVER
	if [ ! -s "$VMLINUX" ]; then
		for magic in '\xfd7zXZ\x00:xz -dc' '\x28\xb5\x2f\xfd:zstd -qdc'; do
			off=$(LC_ALL=C grep -obUaP "${magic%%:*}" "$KIMAGE" | head -1 | cut -d: -f1 || true)
			[ -n "$off" ] || continue
			tail -c +$((off + 1)) "$KIMAGE" | ${magic#*:} > "$VMLINUX.tmp" 2>/dev/null || true
			[ -s "$VMLINUX.tmp" ] && mv "$VMLINUX.tmp" "$VMLINUX" && break
		done
		[ -s "$VMLINUX" ] || cp "$KIMAGE" "$VMLINUX"
	fi

	rm -f "$KB/e1000e.pcap"
	SHM=$KB/ivshmem.bin
	rm -f "$SHM"; truncate -s 1M "$SHM"
	# the device behind the wasm examples: a model over the same memory, outside QEMU
	"$BUILD/ivshmem-model" "$SHM" "$WASM_RUNS" > "$KB/model.txt" 2>&1 &
	MODEL=$!
	SERIAL=$KB/serial.log
	# two devices in one IOMMU group (init.sh's group_not_viable): behind a conventional PCI bridge,
	# both share the bridge's group; virtio_pci takes the virtio-rng, keeping the group not viable
	# until it is bound to vfio-pci too. Its own slot, so no other device moves.
	local pair=(-device pci-bridge,id=kt_pair,chassis_nr=1,shpc=off,addr=0x10
		-object memory-backend-ram,id=kt_pair_mem,size=1M
		-device ivshmem-plain,memdev=kt_pair_mem,bus=kt_pair,addr=1
		-device virtio-rng-pci,bus=kt_pair,addr=2)
	set +e
	timeout -k 5 "$TIMEOUT" qemu-system-x86_64 -accel tcg,thread=single -cpu max -machine q35 -m 512 -smp 2 \
		-nographic -no-reboot -nodefaults -serial stdio \
		-kernel "$VMLINUX" -initrd "$KB/initramfs.cpio.gz" \
		-append "console=ttyS0 intel_iommu=on iommu=pt panic=-1 oops=panic no_timer_check quiet kt.seed=$SEED kt.root=$ROOT kt.node=$NODE kt.bench=$BENCH kt.e1k=${E1K_RUNS// /,}" \
		-device intel-iommu,intremap=on \
		-object memory-backend-file,id=shm,share=on,mem-path="$SHM",size=1M \
		-device ivshmem-plain,memdev=shm \
		-netdev user,id=e1k,restrict=on -device e1000e,netdev=e1k,mac=$E1K_MAC,romfile= \
		-object filter-dump,id=e1kdump,netdev=e1k,file="$KB/e1000e.pcap" \
		-virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap \
		"${pair[@]}" \
		< /dev/null > "$SERIAL" 2>&1
	QRC=$?
	kill -TERM $MODEL 2>/dev/null; wait $MODEL
	MRC=$?
	set -e
	{
		sed -n 's/\r$//; s/^KT //p' "$SERIAL" | grep -v '^DONE$' || true
		sed -n 's/\r$//; s/^KTB //p' "$SERIAL" > "$KB/bench.jsonl"
		if grep -q '^KT DONE' "$SERIAL"; then echo "PASS guest/finished"; else
			echo "FAIL guest/finished: no completion marker (qemu exit $QRC; timeout ${TIMEOUT}s?)"
			tail -30 "$SERIAL" | sed 's/^/INFO serial: /'; fi
		sed -E '/^(PASS|FAIL|SKIP|INFO) /!s#^#FAIL host/wasm/model: #' "$KB/model.txt"
		[ $MRC -eq 0 ] || echo "FAIL host/wasm/model: exited $MRC (the lines above say why)"
		hostcheck host/uc-mapping-reached-device 0 "UC-PART: written through the UC mapping of BAR2"
		hostcheck host/wc-subregion-reached-device 0x10000 "WC-PART: written through the WC subregion of BAR2"
		hostcheck host/subregion-pwrite-reached-device 0x12000 "RW-PART: pwrite on the subregion offset"
		hostcheck host/node-wc-subregion-reached-device 0x90000 NODE-VARIANT-WC
		hostcheck host/node-uc-mapping-reached-device 0xa0000 NODE-VARIANT-UC
		hostcheck host/node-wasm-window-reached-device 0xc0000 $'\x44\x33\x22\x11'
		want=$(python3 -c 'import sys; sys.stdout.write("".join("%02x" % ((r*7+3) & 255) for r in range(4096)))' 2>/dev/null || true)
		got=$(dd if="$SHM" bs=4096 skip=17 count=1 2>/dev/null | od -An -v -tx1 | tr -d ' \n')
		if [ -n "$want" ] && [ "$got" = "$want" ]; then echo "PASS host/wc-page-pattern"; else echo "FAIL host/wc-page-pattern: 4 KiB written through WC differs"; fi
		"$NODE" "$ROOT/test/kernel/frames-check.mjs" "$KB/e1000e.pcap" "$E1K_MAC" $E1K_RUNS || true
	} > "$KB/results.txt"
}

# What the guest wrote through each mapping is in the ivshmem backing file.
hostcheck() {	# name offset string
	local got
	got=$(dd if="$SHM" bs=1 skip=$(($2)) count=${#3} 2>/dev/null | tr -d "\000")
	if [ "$got" = "$3" ]; then echo "PASS $1"; else echo "FAIL $1: backing file at $2 holds '$got'"; fi
}

# ---- the package as the guest's node loads it: dist/ and the addon of this checkout ----
[ -e "$ROOT/native/build/Release/vfio_native.node" ] || node "$ROOT/native/build.mjs" > "$BUILD/addon.log" 2>&1
( cd "$ROOT" && npm run -s build )
# the wasm examples' drivers, built here once: TCG would take minutes for asc and jco in the guest
t=$(date +%s)
"$NODE" "$ROOT/test/kernel/wasm-guest.mjs" build "$BUILD/wasm"
log "wasm drivers prebuilt in $(( $(date +%s) - t ))s"
WASM_RUNS=8	# test/kernel/wasm-guest.mjs: nic-tx core, WASI, component and ring-producer, stock and variant

# the e1000e example's wasm driver in the guest (test/kernel/e1000e-guest.mjs, the driver npm run build
# compiled): once per binding, FRAMES frames each (1100 wrap its 1024-descriptor ring); QEMU dumps the
# NIC's frames, test/kernel/frames-check.mjs checks them against E1K_MAC
E1K_RUNS="stock:300 variant:1100"
E1K_MAC=52:54:00:e1:00:0e

# ---- the runner: static, generated header + validators + vectors (one for every kernel) ----
node "$ROOT/test/kernel/gen-vectors.mjs" "$ROOT/spec/vectors/validation.json" "$ROOT/spec/vectors/memtype.json" > "$BUILD/vectors.h"
gcc -static -O2 -Wall -Wextra -Wno-unused-parameter -Werror -I"$ROOT/native/include" -idirafter "$ROOT/native/include/fallback" -I"$ROOT/native/validators" -I"$ROOT/native/src" -I"$BUILD" \
	-o "$BUILD/runner" "$ROOT/test/kernel/runner.c" "$ROOT/native/validators/vfio_subregion_validate.c" "$ROOT/native/src/vfio_host.c" -lpthread
ALL="PASS build/runner"$'\n'
gcc -O2 -Wall -Wextra -Werror -o "$BUILD/ivshmem-model" "$ROOT/test/kernel/ivshmem-model.c"
if [ "$BENCH" = 1 ]; then	# what the guest cannot build on its read-only root
	node "$ROOT/test/kernel/bench-guest.mjs" build "$BUILD/bench"
	ALL+="PASS build/bench-wasm"$'\n'
fi

for k in "${KERNELS[@]}"; do
	t=$(date +%s)
	mkdir -p "$BUILD/$k"
	rm -f "$BUILD/$k/bench.jsonl"
	if ! setup_kernel "$k" > "$BUILD/$k/setup.txt"; then
		cat "$BUILD/$k/setup.txt"; ALL+=$(sed "s#^\(PASS\|FAIL\|SKIP\) #\1 $k/#" "$BUILD/$k/setup.txt")$'\n'; continue
	fi
	if build_module "$k"; then
		line="PASS build/module (native/kernel against $KVER, -Werror${CHROOT:+, gcc in $(basename "$CHROOT")})"
	else
		grep -v 'Skipping BTF' "$BUILD/$k/module.log" | head -40
		line="FAIL build/module: see $BUILD/$k/module.log"
	fi
	echo "$k $line"
	ALL+="${line/ / $k/}"$'\n'
	[[ $line == PASS* ]] || continue
	log "$k: booting $KVER (seed $SEED, limit ${TIMEOUT}s)"
	boot_kernel "$k"
	sed "s#^\(PASS\|FAIL\|SKIP\|INFO\) #$k \1 #" "$BUILD/$k/results.txt"
	ALL+=$(sed "s#^\(PASS\|FAIL\|SKIP\) #\1 $k/#" "$BUILD/$k/results.txt")$'\n'
	log "$k: $(grep -c '^PASS ' "$BUILD/$k/results.txt" || true) passed, $(grep -c '^FAIL ' "$BUILD/$k/results.txt" || true) failed, $(grep -c '^SKIP ' "$BUILD/$k/results.txt" || true) skipped in $(( $(date +%s) - t ))s (serial log $BUILD/$k/serial.log)"
done

P=$(grep -c '^PASS ' <<<"$ALL" || true)
F=$(grep -c '^FAIL ' <<<"$ALL" || true)
S=$(grep -c '^SKIP ' <<<"$ALL" || true)
echo "test:kernel: $P passed, $F failed, $S skipped ($(( $(date +%s) - T0 ))s; kernels ${KERNELS[*]}; seed $SEED)"
if [ "$BENCH" = 1 ]; then	# every kernel's rows, the kernel in front of each name
	for k in "${KERNELS[@]}"; do sed "s#^{\"name\":\"#{\"name\":\"$k #" "$BUILD/$k/bench.jsonl" 2>/dev/null || true; done |
		node -e 'process.stdout.write(JSON.stringify(require("fs").readFileSync(0, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l))) + "\n")'
fi
[ "$F" -eq 0 ] && [ "$P" -gt 0 ]
