#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# /init of the vm stage's tiny initramfs (static busybox). Loads the virtio disk driver,
# mounts the cached root image (vda) and the per-run disk (vdb), and hands PID 1 over to
# the run's guest-init.sh on the real root. Any failure is reported on the status port
# (ttyS1) as "boot-failed: <reason>" and powers the guest off.

export PATH=/bin

fail() {
	echo "airlock-vm: $*" >/dev/console
	echo "boot-failed: $*" >/dev/ttyS1
	sync
	poweroff -f
}

wait_disk() {
	n=0
	while [ ! -b "$1" ]; do
		n=$((n + 1))
		[ $n -gt 200 ] && fail "disk $1 did not appear"
		sleep 0.05
	done
}

/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

while read -r m; do
	insmod "/modules/$m" || fail "cannot load module $m"
done </modules/order

wait_disk /dev/vda
wait_disk /dev/vdb
mount -t ext4 /dev/vda /newroot || fail "cannot mount the root image"
mount -t ext4 /dev/vdb /newroot/opt/airlock-vm || fail "cannot mount the run disk"
[ -x /newroot/opt/airlock-vm/guest/guest-init.sh ] || fail "guest-init.sh missing"

umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /bin/sh /opt/airlock-vm/guest/guest-init.sh
