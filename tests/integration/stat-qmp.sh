#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# virtsync stat --qmp on a real QEMU/KVM: after "cont" the firmware runs
# (in KVM's emulator on this machine) and makes VM exits. The rows must name
# every vCPU with a thread id that /proc/<qemu pid>/task holds, and their
# exit counts must fit inside what our own query-stats reads before and
# after the run.
. "$(dirname "$0")/../lib.sh"
need_kvm
start_qemu_qmp -smp 2 -object iothread,id=io0
sock=$QMP_SOCK
qpid=$QEMU_PID

# qmp CMD...: run QMP commands in one session; print the total exits of
# all vCPUs after them
qmp() {
	python3 - "$sock" "$@" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rw")
def cmd(c, a=None):
    f.write(json.dumps({"execute": c, **({"arguments": a} if a else {})}) + "\n"); f.flush()
    while True:
        r = json.loads(f.readline())
        if "error" in r: sys.exit(str(r))
        if "return" in r: return r["return"]
f.readline(); cmd("qmp_capabilities")
for c in sys.argv[2:]:
    cmd(c)
r = cmd("query-stats", {"target": "vcpu", "providers": [{"provider": "kvm", "names": ["exits"]}]})
print(sum(st["value"] for v in r for p in [v["stats"]] for st in p))
PY
}
qmp cont >/dev/null || die "cont"
before=$(qmp) || die "query-stats before"
expect_exit 0 "$VS" stat --qmp "$sock" --interval 300ms --count 2 --json
after=$(qmp) || die "query-stats after"
tail -1 "$TMP/out" >"$TMP/last.json"
[ "$(wc -l <"$TMP/out")" = 2 ] || die "not one JSON document per interval"
[ "$(json_get "$TMP/last.json" 'd["pid"]')" = "$qpid" ] || die "pid is not QEMU's"
[ "$(json_get "$TMP/last.json" '[v["cpu_index"] for v in d["vcpus"]]')" = "[0, 1]" ] ||
	die "vCPU rows: $(cat "$TMP/last.json")"
for tid in $(json_get "$TMP/last.json" '" ".join(str(v["thread_id"]) for v in d["vcpus"])'); do
	[ -d "/proc/$qpid/task/$tid" ] || die "vCPU thread $tid is not a thread of QEMU $qpid"
done
[ "$(json_get "$TMP/last.json" '[(t["id"], t["thread_id"] > 0) for t in d["iothreads"]]')" = \
  "[('io0', True)]" ] || die "iothread row"
tid=$(json_get "$TMP/last.json" 'd["iothreads"][0]["thread_id"]')
[ -d "/proc/$qpid/task/$tid" ] || die "iothread $tid is not a thread of QEMU"
seen=$(python3 -c 'import json,sys; print(sum(v["exits"] for l in open(sys.argv[1]) for v in json.loads(l)["vcpus"]))' "$TMP/out")
[ "$seen" -gt 0 ] || die "no exits seen while the firmware runs"
[ "$seen" -le $((after - before)) ] || die "stat saw $seen exits, QEMU counted $((after - before))"
# no polls: the success percentage is null, not a made-up number
json_get "$TMP/last.json" '[v["halt_poll_success_pct"] for v in d["vcpus"] if v["halt_polls_succeeded"] + v["halt_polls_failed"] == 0]' |
	grep -qv '[0-9]' || die "a success percentage without polls"

# text: one row per vCPU under the header
expect_exit 0 "$VS" stat --qmp "$sock" -i 200ms -c 1
grep -q "QEMU pid $qpid via" "$TMP/out" || die "text header: $(cat "$TMP/out")"
[ "$(awk '$1 ~ /^[0-9]+$/' "$TMP/out" | wc -l)" = 2 ] || die "text rows: $(cat "$TMP/out")"
awk 'length > 80 { exit 1 }' "$TMP/out" || die "text wider than 80 columns"

# --prometheus: KVM's totals per vCPU; the format parses, the exit totals
# lie between our own readings before and after
vcpu_tids=$(json_get "$TMP/last.json" '" ".join(str(v["thread_id"]) for v in d["vcpus"])')
b2=$(qmp) || die "query-stats"
expect_exit 0 "$VS" stat --qmp "$sock" -i 100ms -c 1 --prometheus
a2=$(qmp) || die "query-stats"
python3 - "$TMP/out" "$b2" "$a2" "$qpid" $vcpu_tids <<'PY' || die "prometheus: $(cat "$TMP/out")"
import re, sys
path, lo, hi, pid, tids = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5:]
NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*"'
SAMPLE = re.compile(rf"^({NAME})\{{({LABEL}(?:,{LABEL})*)\}} (\S+)$")
typed, exits, seen = set(), 0, set()
for line in open(path).read().splitlines():
    if line.startswith("# HELP "):
        continue
    if line.startswith("# TYPE "):
        name, t = line[7:].split(" ")
        assert t in ("counter", "gauge", "histogram") and name not in typed, line
        typed.add(name)
        continue
    m = SAMPLE.match(line)
    assert m and (m.group(1) in typed or
                  re.sub(r"_(bucket|sum|count)$", "", m.group(1)) in typed), line
    float(m.group(3))
    labels = dict(l.split("=", 1) for l in m.group(2).split(","))
    assert labels["pid"] == f'"{pid}"', line
    if m.group(1) == "virtsync_qmp_exits_total":
        exits += int(float(m.group(3)))
        seen.add(labels["thread_id"].strip('"'))
assert seen == set(tids), (seen, tids)
assert lo <= exits <= hi, (lo, exits, hi)
PY

# KVM's histograms: log2 buckets per vCPU and interval in JSON, a median
# only from a histogram that can hold the interval's total wait; in
# Prometheus text, histogram families whose buckets add up, whose +Inf
# bucket is the count, and whose wait count lies between our own readings
# of QEMU's halt_wait_hist before and after
json_get "$TMP/last.json" 'all(v[k]["unit"] == "nsecs" and all(b["count"] > 0 and (b["high"] is None or b["high"] == max(1, 2 * b["low"])) for b in v[k]["buckets"]) for v in d["vcpus"] for k in ("halt_wait_hist", "halt_poll_success_hist", "halt_poll_fail_hist"))' |
	grep -qx True || die "histograms in JSON: $(cat "$TMP/last.json")"
json_get "$TMP/last.json" 'all((v["halt_wait_p50_at_most_ns"] is None) == (not v["halt_wait_hist_fits"] or not v["halt_wait_hist"]["buckets"]) for v in d["vcpus"])' |
	grep -qx True || die "a median from a histogram that does not fit: $(cat "$TMP/last.json")"
waits() {	# total count of QEMU's halt_wait_hist, all vCPUs
	python3 - "$sock" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rw")
def cmd(c, a=None):
    f.write(json.dumps({"execute": c, **({"arguments": a} if a else {})}) + "\n"); f.flush()
    while True:
        r = json.loads(f.readline())
        if "return" in r: return r["return"]
f.readline(); cmd("qmp_capabilities")
r = cmd("query-stats", {"target": "vcpu", "providers": [{"provider": "kvm", "names": ["halt_wait_hist"]}]})
print(sum(sum(st["value"]) for v in r for st in v["stats"]))
PY
}
w0=$(waits)
expect_exit 0 "$VS" stat --qmp "$sock" -i 100ms -c 1 --prometheus
w1=$(waits)
python3 - "$TMP/out" "$w0" "$w1" <<'PY' || die "prometheus histograms: $(grep hist_seconds "$TMP/out" | head -40)"
import re, sys
from collections import defaultdict
path, lo, hi = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
buckets, counts, waits = defaultdict(list), {}, 0
for line in open(path).read().splitlines():
    m = re.match(r'^(virtsync_qmp_halt_(?:wait|poll_success|poll_fail)_hist_seconds)_(bucket|count|sum)\{(.*)\} (\S+)$', line)
    if not m:
        continue
    name, kind, labels, val = m.groups()
    key = (name, re.sub(r',le="[^"]*"', "", labels))
    if kind == "bucket":
        le = re.search(r'le="([^"]*)"', labels).group(1)
        buckets[key].append((float("inf") if le == "+Inf" else float(le), int(val)))
    elif kind == "count":
        counts[key] = int(val)
        if name.endswith("wait_hist_seconds"):
            waits += int(val)
    else:
        float(val)
assert buckets and set(buckets) == set(counts), (set(buckets) ^ set(counts))
for key, b in buckets.items():
    les = [le for le, _ in b]
    vals = [v for _, v in b]
    assert les == sorted(les) and les[-1] == float("inf") and len(b) == 32, key
    assert vals == sorted(vals) and vals[-1] == counts[key], (key, vals, counts[key])
assert lo <= waits <= hi, (lo, waits, hi)
PY

# one walk: every leaf of the JSON document is a Prometheus family named
# by its path (the vCPU series' key left out, the unit tag turned into the
# base unit) or, for strings and ids, a label; the exposition lints clean
cp "$TMP/out" "$TMP/prom.txt"
if command -v promtool >/dev/null; then
	promtool check metrics <"$TMP/prom.txt" >"$TMP/lint" 2>&1 ||
		die "promtool check metrics: $(cat "$TMP/lint")"
fi
python3 - "$TMP/last.json" "$TMP/prom.txt" <<'PY' || die "a JSON field without its Prometheus metric"
import json, re, sys
doc, text = json.load(open(sys.argv[1])), open(sys.argv[2]).read()
families = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
labels = set(re.findall(r'[{,]([a-zA-Z_]+)="', text))
META = {"tool", "command", "version", "host", "kernel", "cmdline", "time"}
SERIES = {"vcpus"}
# the unit tag of a key and the suffixes its family may have
UNITS = (("_per_s", ("_per_second",)), ("_pct", ("_ratio",)),
         ("_ns", ("_seconds", "_seconds_total")), ("_s", ("_seconds",)))
def name(path, v):
    base = "_".join(path)
    for tag, suffixes in UNITS:
        if base.endswith(tag):
            return base[: -len(tag)], suffixes
    if isinstance(v, dict):
        return base, ("_seconds",)      # a histogram of ns
    return base, ("", "_total", "_ratio")
def leaves(v, path):
    if isinstance(v, dict) and not ("unit" in v and "buckets" in v):
        for k, x in v.items():
            if not path and k in META:
                continue
            yield from leaves(x, path + ([] if k in SERIES else [k]))
    elif isinstance(v, list):
        for x in v:
            yield from leaves(x, path)
    else:
        yield path, v
missing = set()
for path, v in leaves(doc, []):
    if (isinstance(v, str) or isinstance(v, int) and not isinstance(v, bool) or v is None) \
            and path[-1] in labels:
        continue
    base, suffixes = name(path, v)
    want = ["virtsync_qmp_" + base + x for x in suffixes]
    if not families & set(want):
        missing.add(want[0])
assert not missing, sorted(missing)
assert len(families) >= 18, families
PY

# bad input
expect_usage_error "only with --interval" "$VS" stat --qmp "$sock" --pid "$qpid"
expect_exit 1 "$VS" stat --qmp "$TMP/none.sock" -c 1
[ "$(wc -l <"$TMP/err")" = 1 ] && grep -q "none.sock" "$TMP/err" || die "dead socket: $(cat "$TMP/err")"
echo ok
