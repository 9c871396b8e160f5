#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# apply / verify / rollback on a fixture tree, and crash safety: apply is
# SIGKILLed after its k-th write for every k of a 14-write profile, and
# rollback must put every file back exactly.
. "$(dirname "$0")/../lib.sh"
need_root

PRISTINE=$TOP/tests/fixtures/host1
PROFILE=$TOP/tests/fixtures/profiles/multi.json

fresh() { rm -rf "$TMP/root"; cp -a "$PRISTINE" "$TMP/root"; }
# The tree must hold the pristine values (files as sysfs shows them: a
# trailing newline is not part of the value), journal and lock aside.
same_as_pristine() {
	python3 - "$PRISTINE" "$TMP/root" <<'PY' || die "$1: tree differs from the fixture"
import os, sys
a, b = sys.argv[1], sys.argv[2]
bad = 0
for d, _, files in os.walk(a):
    for f in files:
        p = os.path.join(d, f)
        q = os.path.join(b, os.path.relpath(p, a))
        x = open(p, "rb").read().rstrip(b"\n")
        y = open(q, "rb").read().rstrip(b"\n")
        if x != y:
            print("differs:", os.path.relpath(p, a), x[:60], y[:60]); bad = 1
extra = {"journal.json", "lock"}
for d, _, files in os.walk(b):
    for f in files:
        p = os.path.join(a, os.path.relpath(os.path.join(d, f), b))
        if not os.path.exists(p) and f not in extra:
            print("extra file:", os.path.relpath(p, a)); bad = 1
sys.exit(bad)
PY
}
vs() { "$VS" --root "$TMP/root" "$@"; }

fresh
# dry run: the diff, no change, no journal
expect_exit 0 vs apply "$PROFILE" --dry-run
grep -q 'guest.halt_poll_ns .* 0 -> 200000' "$TMP/out" || { cat "$TMP/out"; die "dry-run diff lacks guest.halt_poll_ns"; }
grep -q 'tid 4243 (CPU 0/KVM)' "$TMP/out" || die "role vcpu / name vm1 not resolved"
same_as_pristine "dry-run"
[ ! -e "$TMP/root/run/virtsync/journal.json" ] || die "dry-run wrote a journal"

# a diagnose plan: dmax_ns becomes ${dmax}, plan variables fill targets
cat >"$TMP/plan.json" <<'EOT'
{ "format": "virtsync-plan", "version": 1, "objective": "throughput",
  "source": "diagnose", "regime": "nFC", "confidence": 0.7, "dmax_ns": 120000,
  "variables": { "pid": 4242 }, "predicted": { "throughput": 3.3e6 },
  "steps": [
    { "knob": "pcdev.consumer_sleep_ns", "target": { "pid": "${pid}" }, "value": "${dmax}" },
    { "knob": "thread.timerslack_ns", "target": { "pid": "${pid}", "role": "consumer" }, "value": 1 } ] }
EOT
expect_exit 0 vs apply --plan "$TMP/plan.json" --dry-run
grep -q 'pcdev.consumer_sleep_ns .* 1000 -> 120000' "$TMP/out" || { cat "$TMP/out"; die "plan: dmax_ns"; }
grep -q 'thread.timerslack_ns .*tid 4244 (vs-consumer) .* 50000 -> 1' "$TMP/out" || { cat "$TMP/out"; die "plan: role"; }
expect_exit 0 vs --json apply --plan "$TMP/plan.json"
[ "$(json_get "$TMP/out" 'len([a for a in d["actions"] if a["action"] == "write"])')" = 2 ] || die "plan: 2 writes"
expect_exit 0 vs rollback
same_as_pristine "plan rollback"

# apply, verify, drift, rollback, rollback again
expect_exit 0 vs apply "$PROFILE"
[ "$(cat "$TMP/root/sys/module/haltpoll/parameters/guest_halt_poll_ns")" = 300000 ] || die "last step did not win"
[ "$(cat "$TMP/root/sys/devices/system/cpu/cpu1/cpuidle/state1/disable")" = 1 ] || die "state disable not written"
[ "$(cat "$TMP/root/proc/4244/timerslack_ns")" = 5000 ] || die "consumer slack not written"
grep -q '^consumer_busyloop_ns=3000$' "$TMP/root/run/virtsync/pcdev-4242.ctl" || die "pcdev ctl not written"
grep -q '^halt_poll_ns=100000$' "$TMP/root/run/virtsync/pcdev-4242.ctl" || die "vm.halt_poll_ns not written"
[ "$(stat -c %a "$TMP/root/run/virtsync/journal.json")" = 600 ] || die "journal mode is not 0600"
expect_exit 0 vs verify
grep -q 'all 14 knobs as applied' "$TMP/out" || { cat "$TMP/out"; die "verify: $(tail -1 "$TMP/out")"; }
echo 0 >"$TMP/root/proc/sys/net/core/busy_poll"
expect_exit 1 vs verify
grep -q 'DRIFT net.core.busy_poll .*applied 50, live 0' "$TMP/out" || { cat "$TMP/out"; die "verify did not list the drift"; }
expect_exit 1 vs --json verify
[ "$(json_get "$TMP/out" 'd["drifted"]')" = 1 ] || die "verify --json: drifted is not 1"
expect_exit 0 vs rollback
same_as_pristine "rollback"
expect_exit 0 vs rollback
grep -q 'nothing to roll back' "$TMP/out" || die "second rollback: $(cat "$TMP/out")"
same_as_pristine "second rollback"

# a concurrent apply fails on the lock and changes nothing
flock "$TMP/root/run/virtsync/lock" sleep 5 &
locker=$!
sleep 0.3
expect_exit 1 vs apply "$PROFILE"
grep -q 'holds /run/virtsync/lock' "$TMP/err" || { cat "$TMP/err"; die "lock conflict message"; }
kill "$locker"; wait "$locker" 2>/dev/null
same_as_pristine "lock conflict"

# crash after the k-th write, for every k
writes=$(grep -c -- ' -> ' <(vs apply "$PROFILE" --dry-run))
[ "$writes" -ge 10 ] || die "profile has only $writes writes"
need_faults
for k in $(seq 1 "$writes"); do
	fresh
	VIRTSYNC_TEST_KILL_AFTER_WRITES=$k "$VSF" --root "$TMP/root" apply "$PROFILE" >/dev/null 2>&1
	rc=$?
	[ $rc = 137 ] || die "k=$k: apply exited $rc, not killed"
	python3 - "$TMP/root/run/virtsync/journal.json" "$k" <<'PY' || die "k=$k: journal"
import json, sys
d = json.load(open(sys.argv[1]))
e = d["entries"]
k = int(sys.argv[2])
assert len(e) == k, (len(e), k)
assert e[-1]["status"] == "pending", e[-1]
assert all(x["status"] == "done" for x in e[:-1])
PY
	expect_exit 0 vs rollback
	same_as_pristine "crash after write $k"
done
echo ok
