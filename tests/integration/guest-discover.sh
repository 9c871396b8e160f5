#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# diagnose --pid on a real guest's QEMU running under TCG (no kvm-vm fd):
# seen as a QEMU VM, its vCPU thread ("CPU 0/TCG"), the iothread its
# virtio-blk device is bound to, and its main loop.
. "$(dirname "$0")/../lib.sh"
need_root
start_guest --workload blk --qd 1 --latency 20us
expect_exit 0 "$VS" diagnose --pid "$GUEST_PID" --duration 1s --no-calibrate --json
d=$TMP/out
[ "$(json_get "$d" 'd["vms"][0]["kind"]')" = qemu ] || die "not seen as QEMU: $(head -c 400 "$d")"
[ "$(json_get "$d" 'd["vms"][0]["kvm"]')" = "$([ "$GUEST_ACCEL" = kvm ] && echo True || echo False)" ] ||
	die "kvm-vm fd seen wrongly under $GUEST_ACCEL"
roles=$(json_get "$d" 'sorted((t["role"], t["comm"]) for t in d["vms"][0]["threads"] if t["role"] != "iothread" or t["comm"] == "IO io1")')
want="[('iothread', 'IO io1'), ('main-loop', 'qemu-system-x86'), ('vcpu', 'CPU 0/$(echo "$GUEST_ACCEL" | tr a-z A-Z)')]"
[ "$roles" = "$want" ] || die "threads: $roles, want $want"
echo ok
