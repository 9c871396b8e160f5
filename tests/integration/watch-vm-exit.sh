#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Two reference devices (KVM backend) under one `virtsync watch`; one is
# stopped. The next scrape has no series of the stopped one (probe
# counters, queue series, the probes' thread entries), the other's remain
# and its kick counter keeps counting from where it was (no reset).
. "$(dirname "$0")/../lib.sh"
need_root
need_kvm

"$VS" bench --preset fc-tune --backend kvm --duration 60s >/dev/null 2>"$TMP/b1.err" &
B1=$!
at_exit "kill $B1 2>/dev/null; wait $B1 2>/dev/null"
"$VS" bench --preset fc-tune --backend kvm --duration 60s >/dev/null 2>"$TMP/b2.err" &
B2=$!
at_exit "kill $B2 2>/dev/null; wait $B2 2>/dev/null"
for b in $B1 $B2; do
	for i in $(seq 100); do [ -r /run/virtsync/pcdev-$b.stats ] && break; sleep 0.05; done
	[ -r /run/virtsync/pcdev-$b.stats ] || die "device $b publishes no counters"
done

threads_maps() { bpftool -j map show 2>/dev/null | python3 -c '
import json, sys
print(" ".join(str(m["id"]) for m in json.load(sys.stdin) if m.get("name") == "threads"))'; }
maps0=$(threads_maps)
start_watch --interval 500ms
has() { grep -c "^$2{[^}]*pid=\"$3\"" "$1"; }
kicks() { sed -n "s/^virtsync_counts_total{pid=\"$2\",[^}]*counter=\"kicks_pio\"} //p" "$1"; }
for i in $(seq 100); do
	http_get "$WATCH_URL" "$TMP/before" 3>/dev/null
	[ "$(has "$TMP/before" virtsync_queue_regime_info $B1)" -ge 1 ] &&
		[ "$(has "$TMP/before" virtsync_queue_regime_info $B2)" -ge 1 ] && break
	sleep 0.2
done
for b in $B1 $B2; do
	for f in virtsync_counts_total virtsync_probe_threads virtsync_queue_regime_info \
		 virtsync_queue_items_per_second; do
		[ "$(has "$TMP/before" $f $b)" -ge 1 ] || die "no $f of $b before: $(grep "pid=\"$b\"" "$TMP/before" | head)"
	done
done
k2a=$(kicks "$TMP/before" $B2)

kill "$B1"
wait "$B1" 2>/dev/null
http_get "$WATCH_URL" "$TMP/after" 3>/dev/null
n=$(grep -c "pid=\"$B1\"" "$TMP/after")
[ "$n" = 0 ] || die "$n series of the stopped device remain: $(grep "pid=\"$B1\"" "$TMP/after" | head -5)"
sleep 1.2	# two windows: the probes were retargeted and pruned
http_get "$WATCH_URL" "$TMP/later" 3>/dev/null
n=$(grep -c "pid=\"$B1\"" "$TMP/later")
[ "$n" = 0 ] || die "$n series of the stopped device came back: $(grep "pid=\"$B1\"" "$TMP/later" | head -5)"
for f in virtsync_counts_total virtsync_probe_threads virtsync_queue_regime_info; do
	[ "$(has "$TMP/later" $f $B2)" -ge 1 ] || die "the running device lost $f"
done
k2b=$(kicks "$TMP/later" $B2)
awk -v a="$k2a" -v b="$k2b" 'BEGIN { exit !(a > 0 && b > a) }' ||
	die "the running device's kick counter went from $k2a to $k2b"
grep -q "^gone: .* pid $B1 queue 0: gone" "$TMP/watch.err" || die "no gone line: $(cat "$TMP/watch.err")"
# the probes' maps hold no thread of the stopped device
# (the maps that appeared with watch)
command -v bpftool >/dev/null || die "bpftool missing ('make deps')"
checked=0
for id in $(threads_maps); do
	case " $maps0 " in *" $id "*) continue ;; esac
	left=$(bpftool -j map dump id "$id" | python3 -c "
import json, sys
n = 0
for e in json.load(sys.stdin):
    f = e.get('formatted')
    if f:
        tgid = f['key']['tgid']
    else:	# raw bytes: struct vs_thread_key starts with the tgid, little-endian
        tgid = int.from_bytes(bytes(int(b, 16) for b in e['key'][:4]), 'little')
    n += tgid == $B1
print(n)")
	[ "$left" = 0 ] || die "the probes still hold $left thread entries of $B1 (map $id)"
	checked=$((checked + 1))
done
[ "$checked" -ge 1 ] || die "no probe map of watch found"

echo "ok: $(grep -c "pid=\"$B2\"" "$TMP/later") series of $B2 remain, none of $B1; kicks $k2a -> $k2b"
