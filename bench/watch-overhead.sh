#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# What `virtsync watch` costs, three figures (docs/watch.md):
#
#   bench/watch-overhead.sh overhead [ROUNDS] [SECONDS]
#   bench/watch-overhead.sh memory [WINDOWS] [INTERVAL_MS]
#   bench/watch-overhead.sh scrape [REQUESTS]
#
# overhead: the method of bench/probe-overhead.sh. The reference device's
#   KVM backend at its highest kick rate (bench --mode notify --wp 0 --wc 0)
#   for SECONDS (default 30: a long window), alone and under `virtsync
#   watch` scraped every second, ROUNDS times (default 5) in interleaved
#   order; kicks per wall second and per CPU second of the device's
#   threads (the rate it would reach with CPUs of its own), and their ratio.
# memory: watch with INTERVAL_MS windows (default 100) for WINDOWS windows
#   (default 36000: ten hours of one-second windows, compressed), scraped
#   every 50 windows, while reference devices come and go (one started every
#   3 s for 2 s); resident memory (VmRSS) after 100 windows and at the end.
# scrape: REQUESTS sequential scrapes (default 2000) of watch on loopback
#   while a device runs; latency median, p99 and maximum, and the body size.
# Needs root and /dev/kvm. The machine may be shared: say so next to any
# figure, and prefer the ratios.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
VS=${VIRTSYNC_BIN:-$TOP/.output/virtsync}
TMP=$(mktemp -d /tmp/vs-watch-bench.XXXXXX)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT
[ "$(id -u)" = 0 ] || { echo "watch-overhead: needs root" >&2; exit 1; }

# start_watch ARGS: WATCH_PID, WATCH_URL
start_watch() {
	local port i
	"$VS" watch --listen 127.0.0.1:0 "$@" >/dev/null 2>"$TMP/watch.err" &
	WATCH_PID=$!
	pids+=("$WATCH_PID")
	for i in $(seq 100); do
		port=$(sed -n 's|.*serving http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' "$TMP/watch.err")
		[ -n "$port" ] && break
		sleep 0.05
	done
	[ -n "$port" ] || { cat "$TMP/watch.err" >&2; exit 1; }
	WATCH_URL=http://127.0.0.1:$port/metrics
}
stop_watch() {
	kill -TERM "$WATCH_PID" 2>/dev/null
	wait "$WATCH_PID" 2>/dev/null
}
# scraper URL PERIOD: GET URL every PERIOD seconds until killed
scraper() {
	python3 -c 'import sys, time, urllib.request
while True:
    try:
        urllib.request.urlopen(sys.argv[1], timeout=5).read()
    except OSError:
        pass
    time.sleep(float(sys.argv[2]))' "$1" "$2" &
	SCRAPER=$!
	pids+=("$SCRAPER")
}

overhead() {
	local rounds=${1:-5} secs=${2:-30} r mode order
	DEV="$VS bench --backend kvm --mode notify --wp 0 --wc 0 --duration ${secs}s --json"
	echo "round mode kicks_per_s kicks_per_cpu_s"
	for r in $(seq "$rounds"); do
		order="alone watch"
		[ $((r % 2)) = 0 ] && order="watch alone"
		for mode in $order; do
			if [ "$mode" = watch ]; then
				start_watch --interval 1s
				scraper "$WATCH_URL" 1
			fi
			$DEV 2>/dev/null | python3 -c 'import json, sys
b = json.load(sys.stdin); cpu = b["E_ns"] * b["items"] / 1e9
print(sys.argv[1], sys.argv[2], round(b["kicks"] / (b["elapsed_ns"] / 1e9)),
      round(b["kicks"] / cpu))' "$r" "$mode"
			if [ "$mode" = watch ]; then
				kill "$SCRAPER"; wait "$SCRAPER" 2>/dev/null
				stop_watch
			fi
		done
	done | tee "$TMP/overhead.txt"
	python3 - "$TMP/overhead.txt" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l[0].isdigit()]
for col, what in ((2, "kicks per wall second"), (3, "kicks per CPU second")):
    ratios = []
    for r in sorted({x[0] for x in rows}):
        a = [float(x[col]) for x in rows if x[0] == r and x[1] == "alone"]
        w = [float(x[col]) for x in rows if x[0] == r and x[1] == "watch"]
        if a and w:
            ratios.append(w[0] / a[0])
    print(f"{what}: watch/alone median {statistics.median(ratios):.3f} "
          f"(rounds {', '.join(f'{x:.3f}' for x in ratios)})")
PY
}

rss_kb() {
	awk '$1 == "VmRSS:" {print $2}' "/proc/$1/status"
}

windows_of() {
	python3 -c 'import re, sys, urllib.request
t = urllib.request.urlopen(sys.argv[1], timeout=5).read().decode()
print(re.search(r"^virtsync_watch_windows_total (\S+)$", t, re.M)[1])' "$1" 2>/dev/null
}

memory() {
	local windows=${1:-36000} ms=${2:-100} start end now i=0
	start_watch --interval "${ms}ms" --count "$windows"
	scraper "$WATCH_URL" "$(awk "BEGIN {print $ms * 50 / 1000}")"
	# devices come and go: queues appear and disappear all the time
	(
		while kill -0 "$WATCH_PID" 2>/dev/null; do
			"$VS" bench --preset fc-tune --backend kvm --duration 2s >/dev/null 2>&1
			sleep 1
		done
	) &
	pids+=("$!")
	sleep "$(awk "BEGIN {print $ms * 100 / 1000}")"
	start=$(rss_kb "$WATCH_PID")
	echo "after 100 windows: VmRSS ${start} kB"
	while kill -0 "$WATCH_PID" 2>/dev/null; do
		sleep 30
		i=$((i + 30))
		now=$(rss_kb "$WATCH_PID" 2>/dev/null) || break
		[ -n "$now" ] || break		# watch ended between the test and the read
		end=$now
		echo "t+${i}s: VmRSS ${end} kB after $(windows_of "$WATCH_URL") windows"
	done
	echo "$windows windows of ${ms} ms: VmRSS from $start kB to $end kB"
}

scrape() {
	local n=${1:-2000}
	"$VS" bench --preset fc-tune --backend kvm --duration 600s >/dev/null 2>&1 &
	pids+=("$!")
	sleep 0.5
	start_watch --interval 1s
	sleep 2
	python3 - "$WATCH_URL" "$n" <<'PY'
import statistics, sys, time, urllib.request
url, n = sys.argv[1], int(sys.argv[2])
lat, size = [], 0
for i in range(n):
    t = time.perf_counter()
    size = len(urllib.request.urlopen(url, timeout=5).read())
    lat.append(time.perf_counter() - t)
lat.sort()
print(f"{n} scrapes, body {size} bytes: median {statistics.median(lat) * 1e3:.2f} ms, "
      f"p99 {lat[int(0.99 * n) - 1] * 1e3:.2f} ms, max {lat[-1] * 1e3:.2f} ms")
PY
	stop_watch
}

case ${1:-} in
overhead) shift; overhead "$@" ;;
memory) shift; memory "$@" ;;
scrape) shift; scrape "$@" ;;
*) echo "usage: $0 overhead [ROUNDS] [SECONDS] | memory [WINDOWS] [INTERVAL_MS] | scrape [N]" >&2
   exit 2 ;;
esac
