#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# diagnose --qmp on a real QEMU/KVM whose vCPU threads are anonymous (no
# debug-threads): QMP names them (query-cpus-fast) and the iothread
# (query-iothreads), and query-stats over the window is listed as a used
# source with per-vCPU halt-poll evidence. Thread ids are checked against
# our own QMP session and /proc.
. "$(dirname "$0")/../lib.sh"
need_root
need_kvm
start_qemu_qmp -smp 2 -object iothread,id=io0
sock=$QMP_SOCK
qpid=$QEMU_PID

# the thread ids QEMU reports, from a session of our own; "cont" lets the
# firmware run so that the vCPUs exit
python3 - "$sock" >"$TMP/tids" <<'PY' || die "QMP"
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rw")
def cmd(c):
    f.write(json.dumps({"execute": c}) + "\n"); f.flush()
    while True:
        r = json.loads(f.readline())
        if "return" in r: return r["return"]
f.readline(); cmd("qmp_capabilities"); cmd("cont")
print(" ".join(str(c["thread-id"]) for c in sorted(cmd("query-cpus-fast"), key=lambda c: c["cpu-index"])))
print(" ".join(str(t["thread-id"]) for t in cmd("query-iothreads")))
PY
vcpu_tids=$(sed -n 1p "$TMP/tids")
io_tids=$(sed -n 2p "$TMP/tids")
for t in $vcpu_tids $io_tids; do
	[ -d "/proc/$qpid/task/$t" ] || die "QEMU reports thread $t that /proc/$qpid/task lacks"
	[ "$(cat /proc/$qpid/task/$t/comm)" = qemu-system-x86 ] ||
		die "thread $t is named; the test wants anonymous threads"
done

expect_exit 0 "$VS" diagnose --qmp "$sock" --duration 300ms --no-calibrate --json
cp "$TMP/out" "$TMP/d.json"
[ "$(json_get "$TMP/d.json" 'd["vms"][0]["pid"]')" = "$qpid" ] || die "not QEMU's pid"
[ "$(json_get "$TMP/d.json" '" ".join(str(t["tid"]) for t in sorted(d["vms"][0]["threads"], key=lambda t: t["tid"]) if t["role"] == "vcpu")')" = \
  "$(echo $vcpu_tids | tr ' ' '\n' | sort -n | tr '\n' ' ' | sed 's/ $//')" ] ||
	die "vCPU threads: $(json_get "$TMP/d.json" 'd["vms"][0]["threads"]')"
[ "$(json_get "$TMP/d.json" '" ".join(str(t["tid"]) for t in d["vms"][0]["threads"] if t["role"] == "iothread")')" = "$io_tids" ] ||
	die "iothread: $(json_get "$TMP/d.json" 'd["vms"][0]["threads"]')"
[ "$(json_get "$TMP/d.json" '[s["used"] for s in d["queues"][0]["sources"] if s["name"] == "qmp"]')" = "[True]" ] ||
	die "qmp source: $(json_get "$TMP/d.json" 'd["queues"][0]["sources"]')"
[ "$(json_get "$TMP/d.json" '[(v["cpu_index"], v["thread_id"]) for v in d["qmp"]["vcpus"]]')" = \
  "$(python3 -c 'import sys; print([(i, int(t)) for i, t in enumerate(sys.argv[1].split())])' "$vcpu_tids")" ] ||
	die "qmp rows: $(json_get "$TMP/d.json" 'd["qmp"]')"
[ "$(json_get "$TMP/d.json" 'sum(v["exits_per_s"] for v in d["qmp"]["vcpus"]) > 0')" = True ] ||
	die "no exits while the firmware runs"
json_get "$TMP/d.json" 'd["qmp"]["vcpus"][0]' | grep "halt_poll_success_pct" >/dev/null || die "no halt-poll evidence"

# text: the QEMU section
expect_exit 0 "$VS" diagnose --qmp "$sock" --duration 200ms --no-calibrate
grep -q "QEMU's own statistics (QMP query-stats, pid $qpid)" "$TMP/out" || die "text section"
grep -q "vCPU thread" "$TMP/out" && grep -q "are not named" "$TMP/out" &&
	die "QMP named the vCPU threads, yet the report says they are unnamed"

# bad input
expect_usage_error "belongs to pid $qpid" "$VS" diagnose --qmp "$sock" --pid 1 --duration 100ms
expect_exit 1 "$VS" diagnose --qmp "$TMP/none.sock" --duration 100ms
[ "$(wc -l <"$TMP/err")" = 1 ] || die "dead socket: $(cat "$TMP/err")"
echo ok
