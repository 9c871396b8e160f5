#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tune --auto --qmp on a real QEMU (KVM, paused with -S: guests cannot run
# here). The loop is the real one: QMP query-stats around each run of the
# objective, the iothread's poll-max-ns written with qom-set through the
# journal, kept or rolled back. The guest's figure comes from an objective
# command, as it would from a benchmark in the guest; here it is derived
# from the live poll-max-ns (read with our own QMP session, not virtsync),
# so that one plan must be kept and another rolled back. Every value is
# checked with that session; the journal lives in a --root tree.
. "$(dirname "$0")/../lib.sh"
need_root
need_kvm
start_qemu_qmp -smp 1 -object iothread,id=io0 -object iothread,id=io1,poll-max-ns=4321
sock=$QMP_SOCK
qpid=$QEMU_PID

# the objective command reads the window the way a guest benchmark feels it
printf '#!/bin/bash\n. "%s/tests/lib.sh"\nQMP_SOCK=%s\nqom_get io0\n' "$TOP" "$sock" >"$TMP/io0.sh"
chmod +x "$TMP/io0.sh"
old0=$(qom_get io0)
[ "$(qom_get io1)" = 4321 ] || die "QEMU did not start with poll-max-ns 4321"

mkdir -p "$TMP/root/sys/devices/system/cpu" "$TMP/root/run/virtsync"
cp /sys/devices/system/cpu/online "$TMP/root/sys/devices/system/cpu/online"
# the VM's threads and their CPU time are the live ones
live_proc_in "$TMP/root"
vs() { "$VS" --root "$TMP/root" "$@"; }
plan() {	# plan FILE VALUE: set io0's poll-max-ns to VALUE
	cat >"$1" <<EOF
{ "format": "virtsync-plan", "version": 1, "objective": "throughput",
  "steps": [ { "knob": "iothread.poll_max_ns",
               "target": { "qmp": "\${qmp}", "iothread": "io0" }, "value": $2 } ] }
EOF
}
# The "guest" does 1000 items/s plus one per 100 ns of io0's polling window.
objective="$TMP/io0.sh | awk '{print 1000 + \$1 / 100}'"

# A wider window raises the objective by far more than 10 %: kept.
plan "$TMP/wide.json" 200000
expect_exit 0 vs tune --auto --qmp "$sock" --objective "$objective" --plan "$TMP/wide.json" \
	--save "$TMP/kept.json"
grep -q "^kept: throughput [0-9.]*x (higher is better); undo with 'virtsync rollback'" "$TMP/out" ||
	{ cat "$TMP/out"; die "the wider window was not kept"; }
[ "$(qom_get io0)" = 200000 ] || die "kept, but io0's poll-max-ns is $(qom_get io0)"
[ "$(qom_get io1)" = 4321 ] || die "io1 changed"
grep -q "$sock#io0" "$TMP/root/run/virtsync/journal.json" || die "not journaled"
d=$TMP/kept.json
[ "$(json_get "$d" 'd["workload"], d["pid"], d["goal"], d["decision"]["kept"]')" = \
  "('qmp', $qpid, 'throughput', True)" ] || die "saved document: $(head -c 600 "$d")"
# medians of 3 runs: 1000 + 32768/100 before, 1000 + 200000/100 after
[ "$(json_get "$d" 'round(d["before"]["throughput_ops"], 2), round(d["after"]["throughput_ops"], 2)')" = \
  "($(awk -v o="$old0" 'BEGIN{print 1000 + o / 100}'), 3000.0)" ] ||
	die "objective: $(json_get "$d" 'd["before"], d["after"]')"
[ "$(json_get "$d" 'len(d["measured_before"]["windows"]), d["measured_before"]["windows"][0]["kvm"]["vcpus"]')" = "(3, 1)" ] ||
	die "windows: $(json_get "$d" 'd["measured_before"]')"
expect_exit 0 vs verify
expect_exit 0 vs rollback
[ "$(qom_get io0)" = "$old0" ] || die "rollback: io0 is $(qom_get io0), want $old0"

# A narrower window lowers it: rolled back at once, exact old value.
plan "$TMP/narrow.json" 100
expect_exit 0 vs tune --auto --qmp "$sock" --objective "$objective" --plan "$TMP/narrow.json" \
	--repeats 1 --json
[ "$(json_get "$TMP/out" 'd["decision"]["applied"], d["decision"]["kept"]')" = "(True, False)" ] ||
	die "narrow window: $(json_get "$TMP/out" 'd["decision"]')"
[ "$(qom_get io0)" = "$old0" ] || die "not rolled back: io0 is $(qom_get io0)"

# Latency goal: the command prints nanoseconds, lower is better.
expect_exit 0 vs tune --auto --qmp "$sock" --goal latency --repeats 1 --plan "$TMP/wide.json" \
	--objective "$TMP/io0.sh | awk '{print 1e9 / (1000 + \$1 / 100)}'"
grep -q "^kept: median latency [0-9.]*x (lower is better)" "$TMP/out" || { cat "$TMP/out"; die "latency goal"; }
expect_exit 0 vs rollback
[ "$(qom_get io0)" = "$old0" ] || die "rollback after the latency run"

# Without --plan, diagnose --qmp decides; the paused guest moves nothing,
# so there is nothing to classify and nothing is changed.
expect_exit 0 vs tune --auto --qmp "$sock" --objective 'echo 5' --repeats 1 --duration 300ms
grep -q "^no change: " "$TMP/out" || { cat "$TMP/out"; die "diagnose's empty plan"; }
[ "$(qom_get io0)" = "$old0" ] && [ "$(qom_get io1)" = 4321 ] || die "an empty plan changed QEMU"

# Bad input: one line, nothing changed.
expect_usage_error "needs --objective" vs tune --auto --qmp "$sock"
expect_usage_error "exclude each other" vs tune --auto --qmp "$sock" --objective true --pid 1
expect_usage_error "go with --qmp" vs tune --auto --workload wakeup --objective true
expect_usage_error "unknown backend 'qemu'" vs tune --auto --workload fc-tune --backend qemu
expect_usage_error "goes with a device preset" vs tune --auto --workload wakeup --backend kvm
expect_usage_error "goes with a device preset" vs tune --auto --qmp "$sock" --objective true --backend kvm
expect_usage_error "unknown goal" vs tune --auto --qmp "$sock" --objective true --goal fast
expect_usage_error "cannot read" vs tune --auto --qmp "$sock" --objective true --plan "$TMP/none.json"
expect_exit 1 vs tune --auto --qmp "$TMP/none.sock" --objective true
[ "$(wc -l <"$TMP/err")" = 1 ] && grep -q "none.sock" "$TMP/err" || die "dead socket: $(cat "$TMP/err")"
expect_exit 1 vs tune --auto --qmp "$sock" --objective 'exit 3' --plan "$TMP/wide.json"
grep -q "objective command failed (exit 3)" "$TMP/err" || die "failing command: $(cat "$TMP/err")"
expect_exit 1 vs tune --auto --qmp "$sock" --objective 'echo fast' --plan "$TMP/wide.json"
grep -q "does not start with a number: 'fast'" "$TMP/err" || die "garbage: $(cat "$TMP/err")"
echo '{ "format": "virtsync-plan", "version": 1, "objective": "throughput", "steps": [ { "knob": "iothread.poll_max_ns", "target": { "qmp": "${qmp}", "iothread": "nope" }, "value": 1 } ] }' >"$TMP/bad.json"
expect_exit 1 vs tune --auto --qmp "$sock" --objective 'echo 1' --repeats 1 --plan "$TMP/bad.json"
grep -q "nope" "$TMP/err" || die "unknown iothread: $(cat "$TMP/err")"
[ "$(qom_get io0)" = "$old0" ] && [ "$(qom_get io1)" = 4321 ] || die "bad input changed QEMU"
echo ok
