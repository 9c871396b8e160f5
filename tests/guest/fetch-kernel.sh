#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# fetch-kernel.sh CACHE: put Debian's stock amd64 kernel and the virtio
# modules the test guest loads into CACHE (vmlinuz, modules/*.ko,
# kernel-version). The packages are downloaded once with apt-get download
# and extracted with dpkg-deb -x: nothing is installed on the host. A
# linux-image-*-amd64 .deb already in CACHE/debs is used as it is.
set -eu
cache=$1
mods="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
virtio_blk failover net_failover virtio_net"
if [ -s "$cache/vmlinuz" ] && [ -s "$cache/modules/virtio_net.ko" ]; then
	touch "$cache/vmlinuz"
	exit 0
fi
mkdir -p "$cache/debs"
cd "$cache/debs"
fail() {
	echo "guest kernel: $1" >&2
	echo "hint: the test guest needs Debian's linux-image-amd64 package;" \
		"run 'apt-get update' and check the archive in /etc/apt/sources.list," \
		"or put a linux-image-*-amd64 .deb into $cache/debs" >&2
	exit 1
}
deb=$(ls linux-image-[0-9]*-amd64_*.deb 2>/dev/null | head -1 || true)
if [ -z "$deb" ]; then
	command -v apt-get >/dev/null || fail "apt-get not found (not a Debian system)"
	apt-get -q -o APT::Sandbox::User=root download linux-image-amd64 >download.log 2>&1 ||
		fail "cannot download linux-image-amd64: $(grep -E '^(E|Err)' download.log | head -1)"
	meta=$(ls linux-image-amd64_*.deb | head -1)
	# The metapackage depends on exactly one versioned image package.
	image=$(dpkg-deb -f "$meta" Depends | sed 's/[ (,].*//')
	[ -n "$image" ] || fail "$meta names no image package"
	apt-get -q -o APT::Sandbox::User=root download "$image" >download.log 2>&1 ||
		fail "cannot download $image: $(grep -E '^(E|Err)' download.log | head -1)"
	deb=$(ls "$image"_*.deb | head -1)
fi
rm -rf ../root
dpkg-deb -x "$deb" ../root || fail "cannot extract $deb"
cd ..
version=$(ls root/lib/modules | head -1)
mkdir -p modules.new
for m in $mods; do
	f=$(find "root/lib/modules/$version" -name "$m.ko" | head -1)
	[ -n "$f" ] || fail "$deb has no module $m.ko"
	cp "$f" modules.new/
done
cp "root/boot/vmlinuz-$version" vmlinuz.new
rm -rf root modules
mv modules.new modules
mv vmlinuz.new vmlinuz
echo "$version" >kernel-version
