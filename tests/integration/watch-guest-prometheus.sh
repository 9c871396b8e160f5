#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `virtsync watch` on the real test guest (QD1 O_DIRECT reads on
# virtio-blk blk0, iothread io1, null-co 20 us, QMP), scraped by Debian's
# Prometheus (loopback only, its own config and storage). Prometheus holds
# per-virtqueue series labelled vm, pid, device and queue; the item rate it
# stores for blk0 queue 0 (QEMU's used index as virtsync_queue_items_total,
# at the windows' ends virtsync_queue_window_end_timestamp_seconds) must be
# within 10 % of QEMU's own used index read by an independent QMP session
# over the same stretch; the queue has a regime series, and its figures name
# their sources. A scrape passes `promtool check metrics`.
. "$(dirname "$0")/../lib.sh"
need_root
command -v promtool >/dev/null || skip "promtool not installed ('make check-deps' installs prometheus)"
start_guest --workload blk --qd 1 --latency 20us
python3 "$TOP/tests/guest/used-poller.py" "$GUEST_DIR/qmp-test.sock" \
	/machine/peripheral/blk0/virtio-backend 0 --lifetime 90 >"$TMP/used" &
poller=$!
at_exit "kill $poller 2>/dev/null"
# the poller's clock (CLOCK_MONOTONIC) against Unix time, taken once
python3 -c 'import time; print(time.time_ns() - time.monotonic_ns())' >"$TMP/offset"

start_watch --pid "$GUEST_PID" --interval 1s --no-calibrate
start_prometheus "127.0.0.1:$WATCH_PORT" 500ms

sel="{job=\"virtsync\",pid=\"$GUEST_PID\",device=\"blk0\",queue=\"0\"}"
n=0
for i in $(seq 90); do
	n=$(prom_query "count_over_time(virtsync_queue_items_total${sel}[60s])" |
		json_get /dev/stdin 'int(d["result"][0]["value"][1]) if d["result"] else 0')
	[ "$n" -ge 16 ] && break
	sleep 0.5
done
[ "$n" -ge 16 ] || die "Prometheus holds $n samples of blk0 queue 0: $(grep -v '^#' "$TMP/watch.err" | tail -5)"
now=$(python3 -c 'import time; print(f"{time.time():.3f}")')
prom_query "virtsync_queue_items_total${sel}[30s]" "$now" >"$TMP/items.json"
prom_query "virtsync_queue_window_end_timestamp_seconds${sel}[30s]" "$now" >"$TMP/ends.json"
stop_reader "$poller"
python3 - "$TMP/items.json" "$TMP/ends.json" "$TMP/used" "$(cat "$TMP/offset")" <<'PY' || die "item rate"
import json, sys
items = {float(t): float(v) for t, v in json.load(open(sys.argv[1]))["result"][0]["values"]}
ends = {float(t): float(v) for t, v in json.load(open(sys.argv[2]))["result"][0]["values"]}
off = int(sys.argv[4])
used = [(int(a) + off) / 1e9 for a, _ in (l.split() for l in open(sys.argv[3]) if l.strip())]
cnt = [int(b) for _, b in (l.split() for l in open(sys.argv[3]) if l.strip())]
# one point per window: (its end, the counter then), from the same scrapes
pts = sorted({(ends[t], items[t]) for t in items if t in ends})
if len(pts) < 6:
    raise SystemExit(f"only {len(pts)} windows in Prometheus")
(e1, v1), (e2, v2) = pts[1], pts[-1]
def at(t):
    for (a, x), (b, y) in zip(zip(used, cnt), zip(used[1:], cnt[1:])):
        if a <= t <= b:
            return x + (y - x) * (t - a) / (b - a)
    raise SystemExit(f"our QMP reader does not cover {t}")
prom = (v2 - v1) / (e2 - e1)
qemu = (at(e2) - at(e1)) / (e2 - e1)
print(f"{len(pts)} windows over {e2 - e1:.1f} s: Prometheus {prom:.0f} items/s, "
      f"QEMU's used index {qemu:.0f} items/s ({(prom / qemu - 1) * 100:+.2f} %)")
if not (qemu > 100 and abs(prom / qemu - 1) <= 0.10):
    raise SystemExit("not within 10 %")
PY

# the regime per queue, and where each figure came from
r=$(prom_query "virtsync_queue_regime_info${sel}" | json_get /dev/stdin \
	'd["result"][0]["metric"]["regime"] if d["result"] else ""')
[ -n "$r" ] || die "no regime series for blk0 queue 0"
prom_query "virtsync_queue_figure_source_info${sel}" >"$TMP/src.json"
json_get "$TMP/src.json" '{m["metric"]["figure"]: m["metric"]["source"] for m in d["result"]}' >"$TMP/src"
grep -q "'items': 'qmp used-idx'" "$TMP/src" || die "items source: $(cat "$TMP/src")"
grep -q "'kicks': '" "$TMP/src" && grep -q "'interrupts': '" "$TMP/src" ||
	die "kicks and interrupts not named by source: $(cat "$TMP/src")"
http_get "$WATCH_URL" "$TMP/scrape" 3>/dev/null
promtool check metrics <"$TMP/scrape" >"$TMP/promtool" 2>&1 || die "promtool: $(cat "$TMP/promtool")"
echo "ok: regime $r, sources $(cat "$TMP/src")"
