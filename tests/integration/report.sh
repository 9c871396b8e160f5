#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# virtsync report: HTML with the expected SVG series, Markdown, JSON, two
# hosts in one report, bad inputs; the page loads in headless Chromium.
. "$(dirname "$0")/../lib.sh"

"$VS" model --preset paper-costs --wc 2us --len 512 --kc 384 \
	--sweep wp=200ns:2.9us:100ns --json >"$TMP/sweep.json" || die "model --sweep failed"
"$VS" model --preset fc-example --json >"$TMP/fc.json" || die "model failed"
# The same run as if saved on a second host.
python3 - "$TMP/fc.json" "$TMP/fc-b.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d["host"] = "host-b"
json.dump(d, open(sys.argv[2], "w"))
PY

expect_exit 0 "$VS" report --from "$TMP/sweep.json" "$TMP/fc.json" "$TMP/fc-b.json" -o "$TMP/r.html"
[ ! -s "$TMP/out" ] || die "report -o printed on stdout"
python3 - "$TMP/r.html" <<'PY' || die "HTML content check failed"
import re, sys
from html.parser import HTMLParser
html = open(sys.argv[1]).read()
class P(HTMLParser):
    def __init__(s):
        super().__init__(); s.series = {}; s.bands = set(); s.svgs = 0; s.rows = 0; s.intable = 0
    def handle_starttag(s, tag, a):
        a = dict(a)
        if tag == "svg": s.svgs += 1
        if tag == "g" and a.get("class") == "series":
            s.series[a["data-series"]] = int(a["data-points"])
        if tag == "g" and a.get("class") == "band": s.bands.add(a["data-band"])
        if tag == "script": raise SystemExit("report contains a script")
P_ = P(); P_.feed(html)
assert P_.svgs == 2, P_.svgs                       # T and E against Wp
for m in ("busy", "sleep", "notify"):
    assert P_.series.get(m) == 28, (m, P_.series)  # 200ns..2.9us step 100ns
assert {"nFP", "nFC"} <= P_.bands, P_.bands         # Fig. 8's two regions
assert "http://" not in html.replace("http://www.w3.org/2000/svg", ""), "external reference"
hosts = re.findall(r'<section class="host">\s*<h2>([^<]*)</h2>', html)
assert len(hosts) == 2 and "host-b" in hosts, hosts
print("html ok:", P_.series, sorted(P_.bands), hosts)
PY

# A saved diagnose (with the device's ground truth) and a saved tune run:
# per-queue evidence, predicted against measured, the model curves with the
# measured point and Dmax, and the before/after table.
FIX=$TOP/tests/fixtures/report
expect_exit 0 "$VS" report --from "$FIX/diagnose.json" "$FIX/tune.json" -o "$TMP/d.html"
python3 - "$TMP/d.html" <<'PY' || die "diagnose/tune report content check failed"
import re, sys
html = open(sys.argv[1]).read()
series = re.findall(r'data-series="([^"]*)" data-points="(\d+)"', html)
names = [s for s, _ in series]
assert names.count("model") == 1 and names.count("measured") == 1, names   # T against Wp
assert ("measured", "1") in series, series                                 # one measured point
assert "T" in names and "D (worst latency)" in names, names                 # T and D against Y
assert 'data-rule="Dmax"' in html, "Dmax not drawn"
for text in ("nFC", "Recommendation", "predicted, current", "predicted, recommended",
             "measured", "(L-kp)Wp-Wc &gt; Sc", "Ground truth", "Closed-loop tuning",
             "throughput_ops", "1.94x", "pcdev.consumer_sleep_ns"):
    assert text in html, text
print("diagnose/tune ok:", sorted(set(names)))
PY

# Saved tune runs of each kind: the target sentence, and every window
# before and after as points (p98 against Dmax where the device measured it).
expect_exit 0 "$VS" report --from "$FIX/tune-kvm.json" "$FIX/tune-qmp.json" -o "$TMP/t.html"
python3 - "$TMP/t.html" "$FIX/tune-kvm.json" "$FIX/tune-qmp.json" <<'PY' || die "tune report content check failed"
import json, re, sys
html = open(sys.argv[1]).read()
kvm, qmp = (json.load(open(f)) for f in sys.argv[2:4])
charts = re.findall(r'<svg.*?</svg>', html, re.S)
def points(title):
    c = [c for c in charts if title in c]
    assert len(c) >= 1, (title, len(charts))
    return [dict(re.findall(r'data-series="([^"]*)" data-points="(\d+)"', x)) for x in c]
nw = len(kvm["measured_before"]["windows"])
assert {"before": str(nw), "after": str(nw)} in points("Throughput of each measurement window")
p98 = [c for c in charts if "p98 latency of each window" in c]
assert len(p98) == 1 and 'data-rule="Dmax"' in p98[0], "p98 chart with Dmax"
assert "Target: reference device pid %d, kvm backend" % kvm["pid"] in html
assert "Target: QEMU pid %d through QMP %s" % (qmp["pid"], qmp["qmp"]) in html
assert "iothread.poll_max_ns" in html and "2.26x" in html
print("tune ok:", len(charts), "charts")
PY

expect_exit 0 "$VS" report --from "$TMP/fc.json" --format md
grep -q '^| mechanism | regime |' "$TMP/out" || die "markdown lacks the mechanism table"
grep -q '| sleep | sFC |' "$TMP/out" || die "markdown lacks sleep -> sFC"
expect_exit 0 "$VS" report --from "$TMP/fc.json" "$TMP/sweep.json" --format json
json_get "$TMP/out" '[i["kind"] for i in d["inputs"]] == ["model", "sweep"] or exit(1)' >/dev/null ||
	die "JSON report kinds: $(cat "$TMP/out" | head -c 300)"

# A saved virtsync topo run of this machine (its pair 0-1 had two modes):
# the heat map splits the cell between both, the tables give both values.
expect_exit 0 "$VS" report --from "$FIX/topo.json" -o "$TMP/t.html"
python3 - "$TMP/t.html" "$FIX/topo.json" <<'PY' || die "topo report content check failed"
import json, re, sys
html = open(sys.argv[1]).read(); d = json.load(open(sys.argv[2]))
assert 'data-series="c2c"' in html, "no heat map"
cells = re.findall(r'<rect [^>]*data-row="(\d+)" data-col="(\d+)" data-value="([^"]*)"([^>]*)>', html)
assert sorted((int(r), int(c)) for r, c, _, _ in cells) == [(0, 1), (1, 0)], cells
p = d["c2c"]["pairs"][0]
assert p["unstable"]
for _, _, v, rest in cells:
    assert abs(float(v) - p["low_ns"]) < 0.01 * p["low_ns"], (v, p["low_ns"])
    alt = re.search(r'data-alt="([^"]*)"', rest)
    assert alt and abs(float(alt.group(1)) - p["high_ns"]) < 0.01 * p["high_ns"], rest
assert "share L3" in html and "switches" in html
PY
expect_exit 0 "$VS" report --from "$FIX/topo.json" --format md
grep -q '^| 0-1 | share L3 | .* or .* slow' "$TMP/out" || die "topo pair in Markdown: $(cat "$TMP/out")"

# Bad inputs: one line, exit 2, no report file left behind.
echo '{"not": "virtsync"}' >"$TMP/other.json"
echo '{broken' >"$TMP/broken.json"
expect_usage_error "not the JSON output of a virtsync command" \
	"$VS" report --from "$TMP/other.json" -o "$TMP/bad.html"
expect_usage_error "broken.json" "$VS" report --from "$TMP/broken.json" -o "$TMP/bad.html"
expect_usage_error "nosuch.json" "$VS" report --from "$TMP/nosuch.json" -o "$TMP/bad.html"
expect_usage_error "--format: 'pdf'" "$VS" report --from "$TMP/fc.json" --format pdf
expect_usage_error "no input" "$VS" report -o "$TMP/bad.html"
[ ! -e "$TMP/bad.html" ] || die "a failed report left $TMP/bad.html"
ls "$TMP" | grep -q '\.tmp\(\.\|$\)' && die "temporary file left behind"

# The page loads in a real browser and holds the plots.
CHROMIUM=$(command -v chromium || true)
[ -n "$CHROMIUM" ] || skip "chromium is not installed (apt-get install chromium)"
flags="--headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
	--disable-background-networking --disable-component-update --disable-sync \
	--user-data-dir=$TMP/chromium"
# shellcheck disable=SC2086
timeout 60 "$CHROMIUM" $flags --dump-dom "file://$TMP/r.html" >"$TMP/dom.html" 2>/dev/null ||
	die "chromium could not load the report"
[ "$(grep -c 'class="series"' "$TMP/dom.html")" -eq 8 ] || die "rendered DOM lacks the 8 series (T and E of four mechanisms)"
# shellcheck disable=SC2086
timeout 60 "$CHROMIUM" $flags --window-size=900,1200 --screenshot="$TMP/r.png" \
	"file://$TMP/r.html" >/dev/null 2>&1 || die "chromium screenshot failed"
size=$(stat -c %s "$TMP/r.png")
[ "$size" -gt 20000 ] || die "screenshot is only $size bytes"
[ -z "${REPORT_SCREENSHOT:-}" ] || cp "$TMP/r.png" "$REPORT_SCREENSHOT"
echo "ok: screenshot $size bytes"
