#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# A real Prometheus (Debian's, loopback only, its own config and storage)
# scrapes `virtsync watch` while the reference device runs (KVM backend:
# every kick a PIO exit). Prometheus' kick rate for the device must be
# within 5 % of the device's own kick counter over the same stretch of time
# (the device's published counters, timed by the file's mtime, interpolated
# at Prometheus' scrape timestamps), and its regime series
# (virtsync_queue_regime_info) must name the regime `virtsync diagnose`
# finds on the same device. A scrape passes `promtool check
# metrics`, carries the exposition content type, anything but /metrics is
# 404, SIGTERM ends watch with 0, and its BPF programs are gone after.
. "$(dirname "$0")/../lib.sh"
need_root
need_kvm
command -v promtool >/dev/null || skip "promtool not installed ('make check-deps' installs prometheus)"

"$VS" bench --preset fc-tune --backend kvm --duration 60s >/dev/null 2>"$TMP/bench.err" &
BENCH=$!
at_exit "kill $BENCH 2>/dev/null; wait $BENCH 2>/dev/null"
stats=/run/virtsync/pcdev-$BENCH.stats
for i in $(seq 100); do [ -r "$stats" ] && break; sleep 0.05; done
[ -r "$stats" ] || die "the device publishes no counters: $(cat "$TMP/bench.err")"

start_watch --interval 1s
start_prometheus "127.0.0.1:$WATCH_PORT" 500ms

# The device's own counter, each value with the time it was published.
python3 - "$stats" "$TMP/dev.txt" <<'PY' &
import os, sys, time
path, out = sys.argv[1], sys.argv[2]
last, end = None, time.time() + 40
with open(out, "w") as f:
    while time.time() < end:
        try:
            st = os.stat(path)
            kicks = int(dict(l.split() for l in open(path) if len(l.split()) == 2)["kicks"])
        except (OSError, KeyError, ValueError):
            break
        if (st.st_mtime_ns, kicks) != last:
            last = (st.st_mtime_ns, kicks)
            f.write(f"{st.st_mtime_ns / 1e9:.6f} {kicks}\n")
            f.flush()
        time.sleep(0.01)
PY
SAMPLER=$!
at_exit "kill $SAMPLER 2>/dev/null"

sel="virtsync_counts_total{job=\"virtsync\",pid=\"$BENCH\",counter=\"kicks_pio\"}"
n=0
for i in $(seq 60); do
	n=$(prom_query "count_over_time(${sel}[60s])" | json_get /dev/stdin \
		'int(d["result"][0]["value"][1]) if d["result"] else 0')
	[ "$n" -ge 16 ] && break
	sleep 0.5
done
[ "$n" -ge 16 ] || die "Prometheus holds only $n scrapes of $sel: $(cat "$TMP/prom/log")"
now=$(python3 -c 'import time; print(f"{time.time():.3f}")')
prom_query "${sel}[30s]" "$now" >"$TMP/range.json"
prom_query "${sel}[5s]" "$now" >"$TMP/range10.json"
prom_query "rate(${sel}[5s])" "$now" >"$TMP/rate.json"
python3 - "$TMP/range.json" "$TMP/rate.json" "$TMP/dev.txt" "$TMP/range10.json" <<'PY' || die "kick rate"
import json, sys
vals = json.load(open(sys.argv[1]))["result"][0]["values"]
rate = float(json.load(open(sys.argv[2]))["result"][0]["value"][1])
dev = [tuple(map(float, l.split())) for l in open(sys.argv[3])]
last10 = json.load(open(sys.argv[4]))["result"][0]["values"]
(t1, v1), (t2, v2) = (float(vals[0][0]), float(vals[0][1])), (float(vals[-1][0]), float(vals[-1][1]))
def at(t):
    for (a, x), (b, y) in zip(dev, dev[1:]):
        if a <= t <= b:
            return x + (y - x) * (t - a) / (b - a)
    raise SystemExit(f"device counters do not cover {t} ({dev[0][0]}..{dev[-1][0]})")
prom = (v2 - v1) / (t2 - t1)
truth = (at(t2) - at(t1)) / (t2 - t1)
# rate() over the last 5 s: the same comparison on its own samples
a, b = float(last10[0][0]), float(last10[-1][0])
truth10 = (at(b) - at(a)) / (b - a)
print(f"{len(vals)} scrapes over {t2 - t1:.1f} s: Prometheus {prom:.0f} kicks/s, "
      f"the device's own counter {truth:.0f} kicks/s, {100 * (prom / truth - 1):+.2f} %; "
      f"rate()[5s] {rate:.0f} against {truth10:.0f}, {100 * (rate / truth10 - 1):+.2f} %")
assert truth > 1000, "the device hardly kicks"
assert abs(prom / truth - 1) < 0.05, "more than 5 % apart"
assert abs(rate / truth10 - 1) < 0.05, "rate() more than 5 % from the device's counter"
PY
# The regime series against diagnose's, on the same device at the same
# time: diagnose's regime is the one Prometheus saw most over the windows.
"$VS" diagnose --pid "$BENCH" --duration 2s --json >"$TMP/diag.json" 2>"$TMP/diag.err" ||
	die "diagnose failed: $(cat "$TMP/diag.err")"
want=$(json_get "$TMP/diag.json" 'd["queues"][0]["verdict"]["regime"]')
sleep 2
prom_query "count_over_time(virtsync_queue_regime_info{job=\"virtsync\",pid=\"$BENCH\"}[30s])" \
	>"$TMP/regime.json"
python3 - "$TMP/regime.json" "$want" <<'PY' || die "regime series"
import json, sys
res = json.load(open(sys.argv[1]))["result"]
seen = {r["metric"]["regime"]: int(r["value"][1]) for r in res}
print(f"regime samples in Prometheus: {seen}; diagnose: {sys.argv[2]}")
assert seen, "no virtsync_queue_regime_info series"
assert max(seen, key=seen.get) == sys.argv[2], "Prometheus' regime is not diagnose's"
assert all(r["metric"].get(k) for r in res for k in ("vm", "pid", "device", "queue"))
PY

up=$(prom_query 'up{job="virtsync"}' | json_get /dev/stdin 'd["result"][0]["value"][1]')
[ "$up" = 1 ] || die "up is $up"

# A scrape of our own: content type, promtool, and a wrong path.
exec 3>"$TMP/code"
http_get "$WATCH_URL" "$TMP/scrape.prom" || die "scrape failed"
[ "$(cat "$TMP/code")" = 200 ] || die "status $(cat "$TMP/code")"
promtool check metrics <"$TMP/scrape.prom" >"$TMP/promtool" 2>&1 ||
	die "promtool check metrics: $(cat "$TMP/promtool")"
http_get "http://127.0.0.1:$WATCH_PORT/" /dev/null
[ "$(tail -1 "$TMP/code")" = 404 ] || die "/ is $(tail -1 "$TMP/code"), not 404"
python3 - "$WATCH_PORT" <<'PY' || die "content type"
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
c.request("GET", "/metrics")
r = c.getresponse()
ct = r.getheader("Content-Type")
assert ct == "text/plain; version=0.0.4; charset=utf-8", ct
PY

held=$(vs_bpf_held "$WATCH_PID")
kill -TERM "$WATCH_PID"
wait "$WATCH_PID"
rc=$?
[ "$rc" = 0 ] || die "watch exited $rc on SIGTERM: $(cat "$TMP/watch.err")"
bpf_gone "$held" "watch"
echo ok
