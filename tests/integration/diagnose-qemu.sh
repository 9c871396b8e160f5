#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Discovery on a real QEMU/KVM VM (started paused with -S: this machine's
# nested KVM cannot boot a stock guest, but the VM, its vCPU threads, its
# iothread and its tap exist): diagnose --pid must find them from /proc, and
# say that it cannot tell unnamed vCPU threads apart.
. "$(dirname "$0")/../lib.sh"
need_root
need_kvm
[ -c /dev/net/tun ] || skip "no /dev/net/tun"

tap=vsdq$$
tap=${tap:0:15}
qpid=
# The test restarts QEMU with different options: each start is killed at exit.
start_vm() { # extra -name args
	start_qemu "$@" -smp 2 -m 64 \
		-netdev tap,id=n0,ifname="$tap",script=no,downscript=no \
		-device virtio-net-pci,netdev=n0 -object iothread,id=io1 \
		-drive if=none,id=d0,file=/dev/null,format=raw,readonly=on \
		-device virtio-blk-pci,drive=d0,iothread=io1
	qpid=$QEMU_PID
}

start_vm -name vsdiag,debug-threads=on
expect_exit 0 "$VS" diagnose --pid "$qpid" --duration 200ms --no-calibrate --json
cp "$TMP/out" "$TMP/d.json"
kill "$qpid"; wait "$qpid" 2>/dev/null; qpid=
[ "$(json_get "$TMP/d.json" 'd["vms"][0]["kind"]')" = qemu ] || die "not seen as QEMU"
[ "$(json_get "$TMP/d.json" 'd["vms"][0]["kvm"]')" = True ] || die "kvm-vm fd not seen"
[ "$(json_get "$TMP/d.json" 'd["vms"][0]["vcpu_fds"]')" = 2 ] || die "vCPU fds"
[ "$(json_get "$TMP/d.json" 'sorted(t["comm"] for t in d["vms"][0]["threads"] if t["role"] == "vcpu")')" = \
  "['CPU 0/KVM', 'CPU 1/KVM']" ] || die "vCPU threads: $(json_get "$TMP/d.json" 'd["vms"][0]["threads"]')"
[ "$(json_get "$TMP/d.json" '[t["comm"] for t in d["vms"][0]["threads"] if t["role"] == "iothread"]')" = \
  "['IO io1']" ] || die "iothread not found"
[ "$(json_get "$TMP/d.json" 'd["vms"][0]["taps"]')" = "['$tap']" ] || die "tap not found"
json_get "$TMP/d.json" '[s["name"] for s in d["queues"][0]["sources"] if s["used"]]' |
	grep -q netdev-counters || die "tap packet counters not used"
# A paused VM moves nothing: no verdict, and it says why.
[ "$(json_get "$TMP/d.json" 'd["queues"][0]["verdict"]["known"]')" = False ] ||
	die "a verdict on a paused VM"

# Without debug-threads the vCPU threads are anonymous: reported as such.
start_vm
expect_exit 0 "$VS" diagnose --pid "$qpid" --duration 100ms --no-calibrate
grep -q "vCPU threads are not named" "$TMP/out" || { cat "$TMP/out"; die "no note on unnamed vCPUs"; }
echo ok
