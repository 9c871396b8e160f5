#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# --prometheus-file: the text exposition format parses (checked by a small
# parser of the format below: HELP and TYPE before each family's samples,
# families contiguous, valid names, labels and values, no duplicate series,
# histogram buckets cumulative up to +Inf = _count; and by promtool where it
# is installed), the counters hold the VM's known totals, and the file is
# replaced atomically (no temporary file left, mode 0644).
. "$(dirname "$0")/../lib.sh"
need_root
need_kvm
KICK=$(dirname "$VS")/bench/kvm-kick
[ -x "$KICK" ] || die "$KICK not built"

prom=$TMP/virtsync.prom
echo "stale" >"$prom"
"$VS" stat --prometheus-file "$prom" -- "$KICK" --kicks 3000 --halts 20 \
	>"$TMP/truth" 2>"$TMP/err" || { cat "$TMP/err"; die "stat failed"; }
[ -z "$(ls "$TMP" | grep '^virtsync\.prom\..*tmp')" ] || die "temporary file left behind"
[ "$(stat -c %a "$prom")" = 644 ] || die "mode $(stat -c %a "$prom")"
pid=$(awk '$1 == "pid" {print $2}' "$TMP/truth")
outs=$(awk '$1 == "pio_outs" {print $2}' "$TMP/truth")
irqs=$(awk '$1 == "irqs" {print $2}' "$TMP/truth")

python3 - "$prom" "$pid" "$outs" "$irqs" <<'PY' || die "bad exposition file"
import math, re, sys
path, pid, outs, irqs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(rf"^({NAME})(?:\{{({LABEL}(?:,{LABEL})*)?\}})? (\S+)(?: -?\d+)?$")
help_, type_, done, series, values = {}, {}, set(), set(), {}
current = None
for n, line in enumerate(open(path).read().split("\n")[:-1], 1):
    if line.startswith("# HELP "):
        name, text = line[7:].split(" ", 1)
        assert re.fullmatch(NAME, name) and text, f"line {n}: HELP"
        assert name not in help_, f"line {n}: second HELP for {name}"
        help_[name] = text
        continue
    if line.startswith("# TYPE "):
        name, t = line[7:].split(" ")
        assert t in ("counter", "gauge", "summary", "histogram", "untyped"), f"line {n}: {t}"
        assert name not in type_, f"line {n}: second TYPE for {name}"
        if current is not None:
            done.add(current)
        type_[name], current = t, name
        continue
    assert not line.startswith("#") or line.startswith("# "), f"line {n}"
    if line.startswith("#") or not line:
        continue
    m = SAMPLE.match(line)
    assert m, f"line {n}: not a sample: {line!r}"
    name, labels, value = m.groups()
    full = name
    if current and type_[current] == "summary" and name in (current + "_sum", current + "_count"):
        name = current
    if current and type_[current] == "histogram" and name in (
            current + "_bucket", current + "_sum", current + "_count"):
        name = current
    assert name == current, f"line {n}: {name} outside its family"
    assert name not in done, f"line {n}: family {name} not contiguous"
    assert name in help_, f"line {n}: {name} without HELP"
    if value not in ("NaN", "+Inf", "-Inf"):
        float(value)
    if type_[name] == "counter":
        assert name.endswith("_total"), f"line {n}: counter {name} without _total"
        assert float(value) >= 0, f"line {n}: negative counter"
    key = (full, labels)
    assert key not in series, f"line {n}: duplicate series {key}"
    series.add(key)
    values[key] = value
def get(metric, **lab):
    for (n, labels), v in values.items():
        if n != metric or not labels:
            continue
        d = dict(re.findall(r'([a-zA-Z_]+)="([^"]*)"', labels))
        if all(d.get(k) == str(x) for k, x in lab.items()):
            return float(v)
    raise KeyError((name, lab))
assert get("virtsync_counts_total", pid=pid, counter="kicks_pio") == outs, "kicks"
assert get("virtsync_counts_total", pid=pid, counter="irqs_set_irq") == irqs, "irqs"
assert get("virtsync_sources_used", name="kvm:kvm_pio") == 1
assert get("virtsync_sources_used", name="debugfs kvm statistics") in (0, 1)
# every histogram: buckets cumulative in le order, +Inf equal to _count
hists = [n for n, t in type_.items() if t == "histogram"]
assert "virtsync_wakeup_latency_hist_seconds" in hists, hists
for h in hists:
    by = {}
    for (n, labels), v in values.items():
        if n != h + "_bucket":
            continue
        le = re.search(r'le="([^"]*)"', labels).group(1)
        rest = re.sub(r',?le="[^"]*"', "", labels)
        by.setdefault(rest, []).append((float(le), float(v)))
    assert by, f"{h}: no buckets"
    for rest, b in by.items():
        b.sort()
        assert b[-1][0] == math.inf, f"{h}{{{rest}}}: no +Inf bucket"
        assert all(x[1] <= y[1] for x, y in zip(b, b[1:])), f"{h}{{{rest}}}: not cumulative"
        assert b[-1][1] == float(values[(h + "_count", rest)]), f"{h}{{{rest}}}: +Inf != _count"
print(f"{len(series)} series in {len(type_)} families, {len(hists)} histograms; kicks {outs}, irqs {irqs}")
PY
if command -v promtool >/dev/null; then
	promtool check metrics <"$prom" >"$TMP/lint" 2>&1 || { cat "$TMP/lint"; die "promtool check metrics"; }
fi
echo ok
