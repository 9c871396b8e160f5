#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `make run`: diagnose what this host runs. With no VM here, boot the test
# guest (QD1 O_DIRECT reads on virtio-blk over an iothread, null-co 20 us),
# diagnose it and stop it; when the guest cannot be had (no QEMU, no
# Debian archive), say why and let diagnose run the reference device.
# Usage: tests/guest/make-run.sh VIRTSYNC_BINARY
set -u
VS=$1
G=$(cd "$(dirname "$0")" && pwd)/guest.sh
has_vm() {
	local p
	for p in /proc/[0-9]*; do
		case $(cat "$p/comm" 2>/dev/null) in qemu-system*) return 0 ;; esac
		ls -l "$p/fd" 2>/dev/null | grep -q 'anon_inode:kvm-vm' && return 0
	done
	return 1
}
if has_vm; then
	exec "$VS" diagnose
fi
dir=$(mktemp -d /tmp/vs-run.XXXXXX)
trap '"$G" stop "$dir"; rm -rf "$dir"' EXIT
trap 'exit 130' INT TERM
echo "make run: no VM on this host; booting the test guest (tests/guest/guest.sh)"
if ! VS_OUTPUT=$(dirname "$VS") "$G" start "$dir" --workload blk --qd 1 --latency 20us \
	>"$dir/start.out" 2>"$dir/start.err"; then
	echo "make run: the test guest cannot start: $(head -1 "$dir/start.err")"
	echo "make run: diagnosing the reference device instead"
	"$VS" diagnose
	exit
fi
echo "make run: guest up ($(grep '^accel=' "$dir/start.out")); diagnosing its QEMU, pid $(sed -n 's/^pid=//p' "$dir/start.out")"
"$VS" diagnose --pid "$(sed -n 's/^pid=//p' "$dir/start.out")" --duration 3s
