#!/bin/busybox sh
# /init of the kernel-test initramfs (test/kernel/run.sh builds it). Prints KT lines on the
# serial console and powers off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t debugfs debugfs /sys/kernel/debug
echo 1 > /proc/sys/kernel/printk_ratelimit 2>/dev/null
SEED=$(sed -n 's/.*kt\.seed=\([0-9]*\).*/\1/p' /proc/cmdline)
kt() { echo "KT $*"; }
run() {	# a runner invocation: 0 and 1 are its verdicts; anything else means it died
	/runner "$@"
	rc=$?
	[ $rc -le 1 ] || kt FAIL runner/$1-exited-$rc: the runner died \(signal $((rc - 128))\?\)
}
done_() { kt DONE; sync; poweroff -f; }

for m in $(cat /lib/modules/order); do
	insmod /lib/modules/$m.ko || { kt FAIL boot/insmod-$m: insmod failed; done_; }
done
kt PASS boot/modules-loaded
kt INFO kernel $(uname -r)

# Node in the guest: this machine's root over virtio-9p (read-only) with the guest's /proc, /sys,
# /dev and a /tmp shared with the initramfs's over it; node and the checkout run from there.
ROOT=$(sed -n 's/.*kt\.root=\([^ ]*\).*/\1/p' /proc/cmdline)
NODE=$(sed -n 's/.*kt\.node=\([^ ]*\).*/\1/p' /proc/cmdline)
secs() { cut -d' ' -f1 /proc/uptime; }
t0=$(secs)
for m in $(cat /lib/modules/order-9p); do insmod /lib/modules/$m.ko || kt FAIL node/insmod-$m: insmod failed; done
mkdir -p /host
# A checkout under /tmp (CI may clone there) would vanish under the guest's /tmp: it is bound
# aside first and back at its path on top.
keep_root() {
	case $ROOT in /tmp/*) ;; *) return 0 ;; esac
	mkdir -p /checkout && mount --bind "/host$ROOT" /checkout || return 1
}
put_root() {
	case $ROOT in /tmp/*) ;; *) return 0 ;; esac
	mkdir -p "$ROOT" && mount --bind /checkout "/host$ROOT"
}
if mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 host /host &&
   mount -t proc proc /host/proc && mount -t sysfs sys /host/sys && mount -t debugfs debugfs /host/sys/kernel/debug &&
   mount -t devtmpfs dev /host/dev && keep_root && mount --bind /tmp /host/tmp && put_root; then
	t1=$(secs)
	hostrun() { chroot /host /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME=/tmp /bin/sh -c "cd $ROOT && $*"; }
	v=$(hostrun $NODE -e "'process.stdout.write(process.version)'")
	t2=$(secs)
	NODE_S=$(awk "BEGIN{print $t2-$t0}")
	kt INFO node: 9p modules + mounts $(awk "BEGIN{print $t1-$t0}")s, first node start $(awk "BEGIN{print $t2-$t1}")s \(node $v\)
	[ -n "$v" ] && kt PASS node/starts || kt FAIL node/starts: $NODE did not run from the 9p root
else
	kt FAIL node/9p-mount: cannot mount this machine\'s root over virtio-9p
	hostrun() { return 1; }
fi
node_guest() {	# MODE [DEVICE OTHER]: test/kernel/node-guest.mjs on the devices as they are bound now
	t=$(secs)
	hostrun $NODE --expose-gc test/kernel/node-guest.mjs $1 ${2:-$IVS} ${3:-$E1K}
	rc=$?
	[ $rc -le 1 ] || kt FAIL node/$1-exited-$rc: node-guest.mjs died
	t=$(awk "BEGIN{print $(secs)-$t}")
	NODE_S=$(awk "BEGIN{print ${NODE_S:-0}+$t}")
	kt INFO node/$1: ${t}s
}

wasm_guest() {	# BINDING: the wasm examples on ivshmem, its host-side model checking (test/kernel/wasm-guest.mjs)
	t=$(secs)
	hostrun $NODE test/kernel/wasm-guest.mjs $1 $IVS
	rc=$?
	[ $rc -le 1 ] || kt FAIL wasm/$1-exited-$rc: wasm-guest.mjs died
	t=$(awk "BEGIN{print $(secs)-$t}")
	NODE_S=$(awk "BEGIN{print ${NODE_S:-0}+$t}")
	kt INFO wasm/$1: ${t}s
}

dma_guest() {	# KIND: DMA through the device API on the e1000e, type1 or iommufd (test/kernel/dma-guest.mjs)
	t=$(secs)
	hostrun $NODE --expose-gc test/kernel/dma-guest.mjs $1 $E1K
	rc=$?
	[ $rc -le 1 ] || kt FAIL dma/$1-exited-$rc: dma-guest.mjs died
	t=$(awk "BEGIN{print $(secs)-$t}")
	NODE_S=$(awk "BEGIN{print ${NODE_S:-0}+$t}")
	kt INFO dma/$1: ${t}s
}

find_dev() {	# vendor device -> BDF
	for d in /sys/bus/pci/devices/*; do
		if [ "$(cat $d/vendor)" = "$1" ] && [ "$(cat $d/device)" = "$2" ]; then basename $d; return; fi
	done
}
IVS=$(find_dev 0x1af4 0x1110)
E1K=$(find_dev 0x8086 0x10d3)
[ -n "$IVS" ] && [ -n "$E1K" ] || { kt FAIL boot/devices: ivshmem=$IVS e1000e=$E1K; done_; }
kt INFO ivshmem $IVS e1000e $E1K

bind() {	# BDF driver
	d=/sys/bus/pci/devices/$1
	[ -e $d/driver ] && echo $1 > $d/driver/unbind
	echo $2 > $d/driver_override
	echo $1 > /sys/bus/pci/drivers_probe
	[ "$(basename $(readlink $d/driver))" = "$2" ] || { kt FAIL bind/$2-$1: not bound; return 1; }
}

# Memory types across sessions, starting from a fresh bind that nothing has opened yet.
bind $IVS vfio-pci-subregion || done_
run first-open $IVS
run session-wc $IVS
bind $IVS vfio-pci || done_
run stock-session $IVS
bind $IVS vfio-pci-subregion || done_
run session-uc $IVS
run next-variant $IVS
run fork $IVS
run memtype $IVS
run fd-bound $IVS

# stock vfio-pci: the reference answers and the unknown-feature behaviour
bind $IVS vfio-pci && bind $E1K vfio-pci || done_
/runner dump $IVS > /tmp/stock-ivshmem.txt
/runner dump $E1K > /tmp/stock-e1000e.txt
run stock $IVS
run stock $E1K
node_guest stock
wasm_guest stock

# the variant driver
bind $IVS vfio-pci-subregion && bind $E1K vfio-pci-subregion || done_
for dev in ivshmem e1000e; do
	[ $dev = ivshmem ] && b=$IVS || b=$E1K
	/runner dump $b > /tmp/variant-$dev.txt
	if cmp -s /tmp/stock-$dev.txt /tmp/variant-$dev.txt && [ -s /tmp/stock-$dev.txt ]; then
		kt PASS upstream/$dev-identical-to-stock-vfio-pci
		sed 's/^/KT INFO upstream '$dev': /' /tmp/stock-$dev.txt | cut -c1-160
	else
		kt FAIL upstream/$dev-identical-to-stock-vfio-pci: answers differ
		diff /tmp/stock-$dev.txt /tmp/variant-$dev.txt | sed 's/^/KT INFO diff: /'
	fi
done
run variant-other $E1K
run msix $E1K
run variant $IVS ${SEED:-1}
node_guest variant
wasm_guest variant
node_guest bad
# A group that is not viable (run.sh's bridge): its ivshmem-plain on vfio-pci next to a virtio-rng
# on virtio_pci, as the C runner sees it, then the API and the CLI (which bind the virtio-rng to
# vfio-pci too), then the group with both on vfio-pci.
group_not_viable() {
	local d a= b=
	for d in /sys/bus/pci/devices/*; do
		case $(cat $d/vendor):$(cat $d/device) in
		0x1af4:0x1110) [ ${d##*/} = $IVS ] || a=${d##*/} ;;
		0x1af4:0x1005) b=${d##*/} ;;
		esac
	done
	[ -n "$a" ] && [ -n "$b" ] || { kt FAIL group/devices: ivshmem=$a virtio-rng=$b behind the bridge; return; }
	bind $a vfio-pci || return
	run not-viable $a
	node_guest group $a $b
	run viable $a
}
group_not_viable
dma_guest type1
# `npm run test:kernel -- --bench`: the bench rows (test/kernel/bench-guest.mjs), on this binding
if grep -q 'kt\.bench=1' /proc/cmdline; then
	t=$(secs)
	hostrun $NODE test/kernel/bench-guest.mjs run $IVS $E1K .cache/kernel-build/bench
	[ $? -le 1 ] || kt FAIL bench/exited: bench-guest.mjs died
	kt INFO bench: $(awk "BEGIN{print $(secs)-$t}")s
fi
kt INFO node: the Node stages cost this kernel ${NODE_S:-0}s in all \(9p mount and first start included\)
# The iommufd cdev (/dev/vfio/devices/vfioN bound to /dev/iommu) on the variant driver: the C
# runner's dump and variant checks and the Node checks again through it. Only 7.2-cdev (built by
# test/kernel/build-kernel.sh) has IOMMUFD and VFIO_DEVICE_CDEV; Debian builds neither.
if [ -e /dev/iommu ]; then
	for dev in ivshmem e1000e; do
		[ $dev = ivshmem ] && b=$IVS || b=$E1K
		/runner dump-cdev $b > /tmp/cdev-$dev.txt
		if cmp -s /tmp/variant-$dev.txt /tmp/cdev-$dev.txt; then
			kt PASS cdev/$dev-region-table-as-group
		else
			kt FAIL cdev/$dev-region-table-as-group: the cdev answers differ from the group\'s
			diff /tmp/variant-$dev.txt /tmp/cdev-$dev.txt | sed 's/^/KT INFO diff: /'
		fi
	done
	run variant-cdev $IVS ${SEED:-1}
	node_guest cdev
	dma_guest iommufd
else
	kt SKIP cdev: no /dev/iommu: Debian $(uname -r | cut -d. -f1,2) is built without IOMMUFD and VFIO_DEVICE_CDEV\; test:kernel\'s 7.2-cdev kernel runs these checks
fi

# The e1000e example's wasm driver on the e1000e, through stock vfio-pci and the variant driver
# (test/kernel/e1000e-guest.mjs); QEMU dumps its frames for run.sh. kt.e1k=BINDING:FRAMES,...
for r in $(sed -n 's/.*kt\.e1k=\([^ ]*\).*/\1/p' /proc/cmdline | tr , ' '); do
	b=${r%%:*}
	[ $b = stock ] && drv=vfio-pci || drv=vfio-pci-subregion
	bind $E1K $drv || continue
	t=$(secs)
	hostrun $NODE --expose-gc test/kernel/e1000e-guest.mjs $b $E1K ${r#*:}
	rc=$?
	[ $rc -le 1 ] || kt FAIL e1000e/$b-exited-$rc: e1000e-guest.mjs died
	kt INFO e1000e/$b: $(awk "BEGIN{print $(secs)-$t}")s
done

# the kernel log: no oops, BUG or WARNING anywhere in the run
if dmesg | grep -E -q 'WARNING:|BUG:|Oops|general protection|Call Trace|kernel BUG|UBSAN|list_del corruption|freeing invalid memtype|conflicting memory types'; then
	kt FAIL kernel/dmesg-clean: see below
	dmesg | grep -E -A20 'WARNING:|BUG:|Oops|general protection|Call Trace|memtype' | head -60 | sed 's/^/KT INFO dmesg: /'
else
	kt PASS kernel/dmesg-clean
fi
dmesg | grep -E 'x86/PAT|vfio' | tail -40 | sed 's/^/KT INFO dmesg: /'
# unbinding frees the devices (remove path, vfio_put_device) without complaint; then unload
echo $IVS > /sys/bus/pci/drivers/vfio-pci-subregion/unbind
echo $E1K > /sys/bus/pci/drivers/vfio-pci-subregion/unbind
if rmmod vfio-pci-subregion && ! dmesg | grep -E -q 'WARNING:|BUG:|Oops'; then
	kt PASS kernel/unbind-and-unload
else
	kt FAIL kernel/unbind-and-unload: rmmod failed or the log complains
fi
done_
