#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# One direction for before/after ratios (issue 13.7): tune's text, its JSON
# and report all show after/before, each cell naming what it measures
# ("0.12x latency", "1.90x throughput", "0.68x CPU"), on the wake-up table
# and on the reference device's table alike; the decision line under the
# table states its figures the same way, saying which way is better (it
# read "median latency 14.1x lower" under "0.07x latency").
. "$(dirname "$0")/../lib.sh"
need_root
hold_tuning_lock
need_clean_journal
P=/sys/module/haltpoll/parameters/guest_halt_poll_ns
trap '"$VS" rollback >/dev/null 2>&1; [ -w $P ] && echo 0 > $P; rm -rf "$TMP"' EXIT

# check_run SAVED TEXT ROW=KEY...: every named row of the text table ends in
# after/before of KEY, with the word for KEY; the JSON's after_over_before
# and report's Markdown say the same.
check_run() {
	local saved=$1 text=$2
	shift 2
	"$VS" report --from "$saved" --format md >"$TMP/report.md" 2>"$TMP/report.err" ||
		die "report --from $saved: $(cat "$TMP/report.err")"
	python3 - "$saved" "$text" "$TMP/report.md" "$@" <<'PY' || die "ratios disagree ($saved)"
import json, re, sys
d = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
md = open(sys.argv[3]).read()
b, a, r = d["before"], d["after"], d["after_over_before"]
word = {"latency": "latency", "cpu": "CPU", "throughput": "throughput"}
head = [l for l in text.splitlines() if l.strip().startswith("before")]
assert head and head[0].rstrip().endswith("after/before"), ("text heading", head)
assert "after/before" in md, "report's ratio column is not headed after/before"
for spec in sys.argv[4:]:
    row, key, kind = spec.split("=")
    want = a[key] / b[key]
    assert abs(r[key] - want) < 1e-9 * max(1, want), ("JSON after_over_before", key, r[key], want)
    line = [l for l in text.splitlines() if l.startswith(row)]
    assert line, ("no text row", row, text)
    m = re.search(r"(\d+\.\d\d)x (\w+)\s*$", line[0])
    assert m, ("text row has no ratio cell", line[0])
    assert m.group(2) == word[kind], ("text ratio names", m.group(2), "not", word[kind])
    assert abs(float(m.group(1)) - want) <= 0.006, ("text ratio", line[0], "want %.3f" % want)
    cell = "%.2fx %s" % (want, word[kind])
    mrow = [l for l in md.splitlines() if l.startswith("| " + key + " ")]
    assert mrow and cell in mrow[0], ("report row", key, mrow, "want", cell)
    print("%-22s %s (text, JSON and report agree)" % (row, cell))
PY
}

# check_decision SAVED TEXT NAME=KEY=BETTER...: the "kept:"/"rolled back:"
# line says "NAME R.RRx (BETTER is better)" with R the JSON's
# after_over_before of KEY, for at least one NAME (unless p98 broke dmax,
# a bound, not a ratio), and no inverted ratio.
check_decision() {
	python3 - "$@" <<'PY' || die "the decision line disagrees with the table ($1)"
import json, re, sys
d = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
r = d["after_over_before"]
dec = [l for l in text.splitlines() if re.match(r"(kept|rolled back): ", l)]
assert dec, "no decision line"
line = dec[0]
assert d["decision"]["why"] in line, ("text and JSON decision differ", line, d["decision"])
assert not re.search(r"x (lower|higher)\b", line), ("an inverted ratio", line)
seen = 0
for spec in sys.argv[3:]:
    name, key, better = spec.split("=")
    m = re.search(re.escape(name) + r" (\d+\.\d\d)x \((\w+) is better\)", line)
    if not m:
        continue
    seen += 1
    assert m.group(2) == better, (name, "is", m.group(2), "not", better, line)
    assert abs(float(m.group(1)) - r[key]) <= 0.006, (name, m.group(1), r[key], line)
    print("decision: %s %sx, %s is better (the table's figure)" % (name, m.group(1), better))
assert seen or re.search(r"p98 latency \S+ is above dmax \S+$", line), \
    ("the decision line names no ratio", line)
PY
}

if [ -w $P ] && [ "$(cat /sys/devices/system/cpu/cpuidle/current_driver)" = haltpoll ] &&
	[ "$(cat $P)" = 0 ]; then
	# --min-gain 0 keeps the change, so the after column is always there
	expect_exit 0 "$VS" tune --auto --workload wakeup --min-gain 0 --repeats 2 --rounds 1500 \
		--save "$TMP/w.json"
	cat "$TMP/out"
	check_run "$TMP/w.json" "$TMP/out" "median round trip=median_ns=latency" \
		"p98 round trip=p98_ns=latency" "CPU per round trip=cpu_ns_per_round_trip=cpu"
	check_decision "$TMP/w.json" "$TMP/out" "median latency=median_ns=lower"
	"$VS" rollback >/dev/null 2>&1
	[ "$(cat $P)" = 0 ] || die "guest_halt_poll_ns is $(cat $P) after rollback"
else
	echo "no idle cpuidle-haltpoll at 0: the wake-up table is not checked" >&2
fi

# The reference device (thread backend, its own knobs): throughput, CPU, p98.
expect_exit 0 "$VS" tune --auto --workload fc-tune --backend thread --min-gain 0 \
	--duration 1s --save "$TMP/d.json"
cat "$TMP/out"
if json_get "$TMP/d.json" 'd["decision"]["applied"]' | grep -qx True; then
	check_run "$TMP/d.json" "$TMP/out" "throughput (M/s)=throughput_ops=throughput" \
		"CPU per item (ns)=cpu_ns_per_item=cpu" "p98 latency (us)=p98_ns=latency"
	check_decision "$TMP/d.json" "$TMP/out" "throughput=throughput_ops=higher" \
		"CPU per item=cpu_ns_per_item=lower"
else
	die "the device tune applied nothing: $(json_get "$TMP/d.json" 'd["decision"]["why"]')"
fi
echo ok
