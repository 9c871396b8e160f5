#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The closed loop on the live guest: `tune --auto --workload wakeup` sizes
# guest.halt_poll_ns from the measured eventfd round trip, applies it
# through the journal, measures again and keeps it only if the median
# improved by the minimum gain; rollback then puts back exactly 0. The 3x
# cut is checked when the CPUs were at least 60% idle in the measurement
# before the change: halt polling only shortens wake-ups of idle CPUs, and
# on this shared 2-CPU machine other work often keeps them busy (README
# "Tuning", bench/wakeup.c). The share after the change is no measure of
# other work: the polling itself is CPU time (a quiet CI run saw 74% idle
# before and 50% after, with a 14x cut, and skipped the check).
. "$(dirname "$0")/../lib.sh"
need_root
# Live tests of the tuning engine from every worktree on this machine share
# /run/virtsync/journal.json and the knobs: run them one at a time.
hold_tuning_lock
P=/sys/module/haltpoll/parameters/guest_halt_poll_ns
[ -w $P ] || skip "no cpuidle-haltpoll (not a KVM guest)"
[ "$(cat /sys/devices/system/cpu/cpuidle/current_driver)" = haltpoll ] || skip "cpuidle driver is not haltpoll"
[ "$(cat $P)" = 0 ] || skip "guest_halt_poll_ns is $(cat $P), not 0"
need_clean_journal
trap '"$VS" rollback >/dev/null 2>&1; echo 0 > $P; rm -rf "$TMP"' EXIT

expect_exit 0 "$VS" tune --auto --workload wakeup --repeats 3 --rounds 1500 --save "$TMP/t.json"
cat "$TMP/out"
python3 - "$TMP/t.json" "$(cat $P)" <<'PY' || die "saved run is inconsistent"
import json, math, sys
d = json.load(open(sys.argv[1]))
live = int(sys.argv[2])
b, a, dec = d["before"], d["after"], d["decision"]
assert b["median_ns"] > 0 and b["p98_ns"] >= b["median_ns"]
steps = d["plan"]["steps"]
assert [s["knob"] for s in steps] == ["guest.halt_poll_ns"], steps
want = int(steps[0]["value"])
# sized from the measurement: 4x the median, within [50 us, 1 ms], 10 us steps
w = min(max(4 * b["median_ns"], 50000), 1e6)
assert want == math.ceil(w / 10000) * 10000, (want, b["median_ns"])
assert dec["applied"] and a["median_ns"] > 0
gain = b["median_ns"] / a["median_ns"] - 1
assert abs(gain - dec["gain"]) < 1e-6
assert dec["kept"] == (gain >= 0.10), (gain, dec)
assert live == (want if dec["kept"] else 0), (live, want, dec)
# the 3x target holds where halt polling can act: on idle CPUs
ib, ia = b.get("cpu_idle_fraction"), a.get("cpu_idle_fraction")
if ib is not None and ib >= 0.6:
    assert b["median_ns"] / a["median_ns"] >= 3, ("idle CPUs, cut below 3x", b, a)
    print("CPUs idle %.0f%% before: 3x checked (%s after)" % (ib * 100, ia))
else:
    print("CPUs idle %s/%s: busy machine, 3x not checked" % (ib, ia))
print("round trip %.1f us -> %.1f us (%.2fx), %s" % (b["median_ns"] / 1e3,
      a["median_ns"] / 1e3, b["median_ns"] / a["median_ns"],
      "kept" if dec["kept"] else "rolled back"))
PY
if grep -q '^kept' "$TMP/out"; then
	expect_exit 0 "$VS" verify
	expect_exit 0 "$VS" rollback
	grep -q 'guest.halt_poll_ns .* -> 0$' "$TMP/out" || { cat "$TMP/out"; die "rollback output"; }
fi
[ "$(cat $P)" = 0 ] || die "guest_halt_poll_ns is $(cat $P) after rollback, not 0"
expect_exit 0 "$VS" rollback
grep -q 'nothing to roll back' "$TMP/out" || die "journal still active"

# Ctrl-C during the loop: forced keep (--min-gain 0), then undone on exit
"$VS" tune --auto --workload wakeup --min-gain 0 --repeats 2 --rounds 15000 \
	>"$TMP/out" 2>"$TMP/err" &
pid=$!
sleep 0.5
kill -INT $pid
wait $pid
rc=$?
[ $rc = 130 ] || { cat "$TMP/out" "$TMP/err"; die "interrupted tune exited $rc, not 130"; }
grep -q interrupted "$TMP/err" || die "no interruption message"
[ "$(cat $P)" = 0 ] || die "guest_halt_poll_ns is $(cat $P) after an interrupted tune"
expect_exit 0 "$VS" rollback
grep -q 'nothing to roll back' "$TMP/out" || die "interrupted tune left the journal active"
echo ok
