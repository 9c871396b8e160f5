#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
# /init of the test guest's initramfs: load the virtio modules (the stock
# kernel has them as modules, and each needs the ones before it), bring up
# the virtio-net link with no address (vsload sends raw frames), then run
# vsload with the arguments the harness put on the kernel command line as
# vsload=ARG,ARG,... (several workloads joined by "+" run side by side)
# and power off when they end.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev \
	virtio_pci virtio_blk failover net_failover virtio_net; do
	insmod /lib/modules/$m.ko || echo "vsguest: insmod $m failed"
done
# Devices probe asynchronously after insmod: wait for the ones QEMU gave us.
spec=$(sed -n 's/.*vsload=\([^ ]*\).*/\1/p' /proc/cmdline)
args=$(echo "$spec" | tr ,+ '  ')
i=0
while [ $i -lt 50 ]; do
	case " $args " in
	" blk "*) [ -b /dev/vda ] && break ;;
	*) [ -e /sys/class/net/eth0 ] && break ;;
	esac
	sleep 0.1
	i=$((i + 1))
done
[ -e /sys/class/net/eth0 ] && ip link set eth0 up
echo "vsguest: up $(uname -r) cpus=$(grep -c ^processor /proc/cpuinfo)"
if [ -n "$args" ]; then
	for w in $(echo "$spec" | tr + ' '); do
		# shellcheck disable=SC2086
		/bin/vsload $(echo "$w" | tr , ' ') &
	done
	wait
	echo "vsguest: vsload exited"
fi
poweroff -f
