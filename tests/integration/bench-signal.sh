#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# virtsync bench publishes its counters while it runs and cleans up on
# SIGINT and SIGTERM: results so far printed, exit 0, no thread, process or
# stats file left.
. "$(dirname "$0")/../lib.sh"

stats_of() { echo "/run/virtsync/pcdev-$1.stats"; }

for sig in INT TERM; do
	"$VS" bench --mode notify --wp 3us --wc 2us --duration 60s --json \
		>"$TMP/out.$sig" 2>"$TMP/err.$sig" &
	pid=$!
	f=$(stats_of $pid)
	for _ in $(seq 50); do [ -s "$f" ] && break; sleep 0.1; done
	[ -s "$f" ] || die "no stats file $f while running"
	# the counters move between two 100 ms publications
	a=$(awk '$1 == "items_consumed" {print $2}' "$f")
	sleep 0.5
	b=$(awk '$1 == "items_consumed" {print $2}' "$f")
	[ -n "$a" ] && [ -n "$b" ] && [ "$b" -gt "$a" ] || die "items_consumed did not grow ($a -> $b)"
	for k in items_produced kicks interrupts producer_tid consumer_tid; do
		grep -q "^$k [0-9]" "$f" || die "stats file lacks $k"
	done
	grep -q "^backend thread$" "$f" || die "stats file lacks the backend"
	grep -qi regime "$f" && die "the regime must not be published"
	tid=$(awk '$1 == "producer_tid" {print $2}' "$f")
	[ "$(cat /proc/$pid/task/$tid/comm)" = vs-producer ] || die "producer thread name"
	tid=$(awk '$1 == "consumer_tid" {print $2}' "$f")
	[ "$(cat /proc/$pid/task/$tid/comm)" = vs-consumer ] || die "consumer thread name"
	kill -$sig $pid
	for _ in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
	kill -0 $pid 2>/dev/null && { kill -9 $pid; die "still running 5 s after SIG$sig"; }
	wait $pid
	rc=$?
	[ $rc = 0 ] || { cat "$TMP/err.$sig"; die "exit $rc after SIG$sig"; }
	[ "$(json_get "$TMP/out.$sig" 'd["stopped_by_signal"]')" = True ] || die "not marked stopped"
	[ "$(json_get "$TMP/out.$sig" 'd["items"] > 0 and d["kicks"] > 0')" = True ] ||
		die "no results so far after SIG$sig"
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["elapsed_ns"] < 30e9' \
		"$TMP/out.$sig" || die "ran on after SIG$sig"
	[ -e "$f" ] && die "stats file $f left after SIG$sig"
	ls /run/virtsync/pcdev-$pid.stats.tmp 2>/dev/null && die "temporary stats file left"
done

# Text output: every line fits 80 columns, the result names are there.
"$VS" bench --mode sleep --wp 3us --wc 2us --sleep 50us --duration 0.3s >"$TMP/text" ||
	die "text run failed"
awk 'length > 80 { print "long line: " $0; bad = 1 } END { exit bad }' "$TMP/text" ||
	die "text wider than 80 columns"
for k in throughput_ops T_ns E_ns batch cpu kicks interrupts spurious sleeps \
	latency measured model; do
	grep -q "$k" "$TMP/text" || die "text lacks $k"
done
# JSON: the same names.
"$VS" bench --mode busyloop --busyloop 20us --wp 3us --wc 2us --duration 0.3s \
	--json >"$TMP/j" || die "json run failed"
json_get "$TMP/j" '[d[k] for k in ("throughput_ops","T_ns","E_ns","batch","kicks","interrupts","spurious","sleeps")] and d["cpu"]["producer"] and [d["latency_ns"][k] for k in ("p50","p95","p98","p99","max")] and [d["measured"][k] for k in ("wp","wc","np","nc","sp","sc","yp","yc")] is not None and d["model"]["regime"]' \
	>/dev/null || die "json lacks a result"
echo ok
