#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tune --auto --qmp on the real guest, with the guest's own figure as the
# objective: vsload's IOPS, read from its console reports by
# `guest.sh figure` after each change. QEMU runs on one host CPU, where an
# iothread that polls for milliseconds takes the CPU from the vCPU that
# would give it work: a long poll-max-ns costs the guest most of its IOPS
# there, and a short one gives them back. The loop must keep the change
# the guest's figure confirms and roll back the one it refutes; each value
# is checked with our own QMP session.
. "$(dirname "$0")/../lib.sh"
need_root
start_guest --workload blk --qd 1 --cpus 0 --poll-max 5ms
q() { python3 "$TOP/tests/guest/qmp.py" "$GUEST_QMP" "$@"; }
[ "$(q get io1)" = 5000000 ] || die "the guest did not start with poll-max-ns 5 ms"

mkdir -p "$TMP/root/sys/devices/system/cpu" "$TMP/root/run/virtsync"
cp /sys/devices/system/cpu/online "$TMP/root/sys/devices/system/cpu/online"
live_proc_in "$TMP/root"
vs() { "$VS" --root "$TMP/root" "$@"; }
plan() {	# plan FILE VALUE: set io1's poll-max-ns to VALUE
	cat >"$1" <<JSON
{ "format": "virtsync-plan", "version": 1, "objective": "throughput",
  "steps": [ { "knob": "iothread.poll_max_ns",
               "target": { "qmp": "\${qmp}", "iothread": "io1" }, "value": $2 } ] }
JSON
}
objective="'$TOP/tests/guest/guest.sh' figure '$GUEST_DIR' --lines 2"

plan "$TMP/short.json" 0
expect_exit 0 vs tune --auto --qmp "$GUEST_QMP" --objective "$objective" --plan "$TMP/short.json" \
	--repeats 2 --json
d=$TMP/out
cp "$d" "$TMP/kept.json"
[ "$(json_get "$d" 'd["decision"]["applied"], d["decision"]["kept"]')" = "(True, True)" ] ||
	die "the short window was not kept: $(json_get "$d" 'd["decision"], d["before"], d["after"]')"
[ "$(q get io1)" = 0 ] || die "kept, but io1's poll-max-ns is $(q get io1)"
# the figures are the guest's: IOPS as vsload reported them
json_get "$d" 'd["after"]["throughput_ops"] > d["before"]["throughput_ops"] > 0' | grep -q True ||
	die "objective: $(json_get "$d" 'd["before"], d["after"]')"

plan "$TMP/long.json" 5000000
expect_exit 0 vs tune --auto --qmp "$GUEST_QMP" --objective "$objective" --plan "$TMP/long.json" \
	--repeats 2 --json
[ "$(json_get "$TMP/out" 'd["decision"]["applied"], d["decision"]["kept"]')" = "(True, False)" ] ||
	die "the long window was kept: $(json_get "$TMP/out" 'd["decision"], d["before"], d["after"]')"
[ "$(q get io1)" = 0 ] || die "not rolled back: io1 is $(q get io1)"

expect_exit 0 vs rollback
[ "$(q get io1)" = 5000000 ] || die "rollback: io1 is $(q get io1), want 5000000"
echo ok
