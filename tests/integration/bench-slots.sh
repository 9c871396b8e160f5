#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# bench --ring slots: Fip-see's slot rings run the reference device in each
# waiting mode, every item arrives in order, notifications happen only where
# a side waits for them; bad input gets one line. Figures are in
# bench/ring-layouts, not here.
. "$(dirname "$0")/../lib.sh"
[ "$(nproc)" -ge 2 ] || skip "needs two CPUs"

expect_usage_error "--ring: unknown layout 'ring'" "$VS" bench --ring ring
expect_usage_error "--ring slots: thread backend only" "$VS" bench --ring slots --backend kvm
expect_usage_error "--ring slots: no --trace" "$VS" bench --ring slots --trace "$TMP/t"

for mode in notify poll sleep busyloop; do
	expect_exit 0 "$VS" bench --ring slots --mode "$mode" --wp 1us --wc 500ns \
		--duration 300ms --json
	python3 - "$TMP/out" "$mode" <<'PY' || die "slots, $mode: $(cat "$TMP/out")"
import json, sys
d = json.load(open(sys.argv[1])); mode = sys.argv[2]
c = d["config"]
assert c["ring"] == "slots" and c["p_mode"] == mode, c
assert d["items"] > 100, d["items"]
assert "out of order" not in d.get("note", ""), d["note"]
assert "Fip-see slots" in d["note"], d["note"]
if mode == "poll":
    # nobody waits for a notification: none is sent
    assert d["kicks"] == 0 and d["interrupts"] == 0, (d["kicks"], d["interrupts"])
if mode == "notify":
    # C empties the ring with Wc < Wp and then waits for a kick
    assert d["kicks"] > 0, d["kicks"]
PY
done
# The text names the layout when it is not the split ring.
expect_exit 0 "$VS" bench --ring slots --mode poll --wp 1us --wc 500ns --duration 200ms
grep -q "^thread backend on slots, P poll" "$TMP/out" || die "layout not named: $(head -1 "$TMP/out")"
awk 'length > 79 { print "long line: " $0; bad = 1 } END { exit bad }' "$TMP/out" ||
	die "text over 80 columns"
echo ok
