#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# diagnose's host section: with two reference devices running, the shared
# polling-core advice for both queues in text, JSON (host_polling) and the
# report (a summary and the two charts against S); with one queue named
# by --pid, no host section.
. "$(dirname "$0")/../lib.sh"
need_root

"$VS" bench --preset fc-example --backend thread --duration 30s >/dev/null 2>&1 &
b1=$!
at_exit "kill $b1 2>/dev/null; wait $b1 2>/dev/null"
"$VS" bench --mode notify --wp 20us --wc 5us --duration 30s >/dev/null 2>&1 &
b2=$!
at_exit "kill $b2 2>/dev/null; wait $b2 2>/dev/null"
sleep 0.5

expect_exit 0 "$VS" diagnose --duration 1s --dmax 300us
grep -q "^Host: shared polling cores for [2-9] measured queues" "$TMP/out" ||
	die "no host section: $(cat "$TMP/out")"
grep -q "^  S=1 " "$TMP/out" && grep -q "^  S=2 " "$TMP/out" || die "shapes: $(cat "$TMP/out")"
awk 'length > 79 { print "long line: " $0; bad = 1 } END { exit bad }' "$TMP/out" ||
	die "text over 80 columns"

expect_exit 0 "$VS" diagnose --duration 1s --dmax 300us --json
cp "$TMP/out" "$TMP/d.json"
python3 - "$TMP/d.json" "$b1" "$b2" <<'PY' || die "host_polling: $(head -c 3000 "$TMP/d.json")"
import json, sys
d = json.load(open(sys.argv[1])); hp = d["host_polling"]
names = [q["name"] for q in hp["queues"]]
for pid in sys.argv[2:]:
    assert any(n.startswith(pid + " ") for n in names), (pid, names)
assert hp["queues_measured"] >= 2 and hp["dmax_ns"] == 300e3, hp
assert len(hp["shapes"]) == hp["queues_polled"], hp
# the cost now is at least the consumer threads measured
assert hp["cpu_now"] >= sum(q["consumer_cpu"] for q in hp["queues"]) > 0, hp
for q in hp["queues"]:
    assert q["items_per_s"] > 0 and q["wc_ns"] > 0 and q["burst"] >= 1, q
if hp["pollers"] is not None:
    s = hp["shapes"][hp["pollers"] - 1]
    assert s["p98_ns"] <= 300e3 and not s["saturated"], s
    assert hp["cpu"] == s["cpu"], (hp["cpu"], s)
    # more pollers never cost less CPU
    cpus = [x["cpu"] for x in hp["shapes"]]
    assert cpus == sorted(cpus), cpus
PY
expect_exit 0 "$VS" report --from "$TMP/d.json" -o "$TMP/r.html"
python3 - "$TMP/r.html" <<'PY' || die "report: host section or charts missing"
import sys
h = open(sys.argv[1]).read()
i = h.index("Host: shared polling cores")
assert h.count("<svg", i) >= 2, h.count("<svg", i)
assert "Shared pollers: CPUs" in h and "worst p98" in h
PY

# One queue named: no host section.
expect_exit 0 "$VS" diagnose --pid "$b1" --duration 1s --json
python3 -c "import json,sys; assert 'host_polling' not in json.load(open(sys.argv[1]))" "$TMP/out" ||
	die "host section for one queue"
echo ok
