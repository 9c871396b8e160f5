#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# diagnose --pid on a real guest's QEMU running under TCG (no kvm-vm fd):
# seen as a QEMU VM, its accelerator and QMP socket, its vCPU thread
# ("CPU 0/TCG"), the iothread its virtio-blk device is bound to, and its
# main loop. Without QMP (the socket busy with another client) its
# virtio devices and queues come from the command line, said so.
. "$(dirname "$0")/../lib.sh"
need_root
start_guest --workload blk --qd 1 --latency 20us
expect_exit 0 "$VS" diagnose --pid "$GUEST_PID" --duration 1s --no-calibrate --json
d=$TMP/out
[ "$(json_get "$d" 'd["vms"][0]["kind"]')" = qemu ] || die "not seen as QEMU: $(head -c 400 "$d")"
[ "$(json_get "$d" 'd["vms"][0]["kvm"]')" = "$([ "$GUEST_ACCEL" = kvm ] && echo True || echo False)" ] ||
	die "kvm-vm fd seen wrongly under $GUEST_ACCEL"
[ "$(json_get "$d" 'd["vms"][0]["accel"]')" = "$GUEST_ACCEL" ] || die "accelerator"
[ "$(json_get "$d" 'd["vms"][0]["qmp_socket"]')" = "$GUEST_QMP" ] ||
	die "QMP socket not found on the command line"
roles=$(json_get "$d" 'sorted((t["role"], t["comm"]) for t in d["vms"][0]["threads"] if t["role"] != "iothread" or t["comm"] == "IO io1")')
want="[('iothread', 'IO io1'), ('main-loop', 'qemu-system-x86'), ('vcpu', 'CPU 0/$(echo "$GUEST_ACCEL" | tr a-z A-Z)')]"
[ "$roles" = "$want" ] || die "threads: $roles, want $want"

# Our own session holds the QMP socket: diagnose lists the devices from the
# command line and measures the VM as one queue.
# The holder says when it is connected: a fixed 0.3 s was too short with both
# CPUs busy, and diagnose then got the socket itself.
python3 -c 'import socket, sys, time; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); open(sys.argv[2], "w").close(); time.sleep(30)' \
	"$GUEST_QMP" "$TMP/held" &
holder=$!
at_exit "kill $holder 2>/dev/null"
for _ in $(seq 200); do [ -e "$TMP/held" ] && break; sleep 0.05; done
[ -e "$TMP/held" ] || die "the QMP holder did not connect in 10 s"
expect_exit 0 "$VS" diagnose --pid "$GUEST_PID" --duration 300ms --no-calibrate --no-probes --json
kill $holder
[ "$(json_get "$TMP/out" 'd["queues"][0]["virtio_devices_from"]')" = "command line (/proc/PID/cmdline)" ] ||
	die "devices without QMP: $(json_get "$TMP/out" 'd["queues"][0]' | head -c 500)"
[ "$(json_get "$TMP/out" '[(v["type"], v["id"], v["iothread"], v["queues"]) for v in d["queues"][0]["virtio_devices"]]')" = \
  "[('virtio-blk', 'blk0', 'io1', ['req'])]" ] || die "devices: $(json_get "$TMP/out" 'd["queues"][0]["virtio_devices"]')"
echo ok
