#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# virtsync model --queues: every shape (one consumer per queue, 1..N shared
# pollers) in text and JSON, the fewest pollers for a bound, the simulator
# beside the closed forms; bad input gets one line.
. "$(dirname "$0")/../lib.sh"

expect_usage_error "--queues: '0' is out of range" "$VS" model --queues 0
expect_usage_error "--pollers: 3 pollers for 2 queues" "$VS" model --queues 2 --pollers 3
expect_usage_error "--rate: 'x' is not a rate" "$VS" model --queues 2 --rate x
expect_usage_error "--sim-time: only with --sim" "$VS" model --queues 2 --sim-time 1s
expect_usage_error "--burst: '0.5' is not a number from 1 to 4096" \
	"$VS" model --queues 2 --burst 0.5

expect_exit 0 "$VS" model --queues 4 --rate 20k --wc 2us --dmax 100us
grep -q "^per-queue " "$TMP/out" && grep -q "^4 pollers " "$TMP/out" ||
	die "shapes missing: $(cat "$TMP/out")"
grep -q "^pollers needed at dmax 100us: 1 " "$TMP/out" || die "needed: $(cat "$TMP/out")"
awk 'length > 79 { bad = 1 } END { exit bad }' "$TMP/out" || die "text over 80 columns"

# 1.6 CPUs of work: one poller saturates, two do not
expect_exit 0 "$VS" model --queues 4 --rate 100k --wc 4us --sim --sim-time 200ms --json
python3 - "$TMP/out" <<'PY' || die "json: $(cat "$TMP/out")"
import json, sys
d = json.load(open(sys.argv[1]))
sh = d["shapes"]
assert [s["pollers_asked"] for s in sh] == [0, 1, 2, 3, 4], sh
assert sh[0]["shape"] == "per-queue" and sh[1]["shape"] == "shared-pollers"
assert sh[1]["saturated_queues"] == 4 and sh[1]["t_ops"] < 0.7 * d["offered_ops"], sh[1]
assert sh[2]["saturated_queues"] == 0 and abs(sh[2]["t_ops"] - 400e3) < 1, sh[2]
assert d["needed"]["pollers"] == 2, d["needed"]
for s in sh:
    sim = s["sim"]
    assert sim["events"] > 0
    # the simulator serves what the closed form says, within 5 %
    assert abs(sim["t_ops"] - s["t_ops"]) <= 0.05 * s["t_ops"], (s["pollers_asked"], sim["t_ops"], s["t_ops"])
# one consumer per queue, blocking at once, is kicked more than pollers that wait 200us
assert sh[0]["cpu_kicks"] > sh[4]["cpu_kicks"], (sh[0]["cpu_kicks"], sh[4]["cpu_kicks"])
PY
# a load nothing serves within the bound
expect_exit 0 "$VS" model --queues 2 --rate 10k --burst 64 --wc 10us --dmax 50us
grep -q "^pollers needed: none suffices" "$TMP/out" || die "none: $(cat "$TMP/out")"
echo ok
