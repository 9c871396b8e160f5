#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Ctrl-C in a sim sweep (issue 13.11) prints the points simulated so far
# (text rows, or JSON marked "interrupted") and says so, exit 130, instead
# of dying silently; in a single run, the figures over the items measured.
. "$(dirname "$0")/../lib.sh"
# 40 points of 20 M items: far longer than the moment the signal comes
args="sim --preset paper-costs --wc 2us --len 512 --kc 384 --items 20000000 --sweep wp=1us:4.9us:100ns"
for mode in text json; do
	j=(); [ $mode = json ] && j=(--json)
	"$VS" "${j[@]}" $args >"$TMP/out" 2>"$TMP/err" &
	pid=$!
	# interrupt once the first point is out (text) or after a moment (json)
	for n in $(seq 100); do
		[ $mode = text ] && [ "$(grep -c . "$TMP/out")" -ge 2 ] && break
		[ $mode = json ] && [ "$n" -ge 15 ] && break
		sleep 0.1
	done
	kill -INT $pid
	wait $pid
	rc=$?
	[ $rc = 130 ] || { cat "$TMP/out" "$TMP/err"; die "$mode: interrupted sim exited $rc, not 130"; }
	grep -q 'interrupted after [0-9]* of 40 points' "$TMP/err" || { cat "$TMP/err"; die "$mode: no interruption line"; }
	done_n=$(sed -n 's/.*interrupted after \([0-9]*\) of 40.*/\1/p' "$TMP/err")
	[ "$done_n" -lt 40 ] || die "$mode: the sweep was not cut short"
	if [ $mode = text ]; then
		[ "$(($(grep -c . "$TMP/out") - 1))" = "$done_n" ] || { cat "$TMP/out"; die "text: rows != points done ($done_n)"; }
	else
		json_get "$TMP/out" "d['interrupted'] is True and len(d['sweep']['points']) == $done_n" |
			grep -qx True || die "json: partial document wrong: $(head -c 300 "$TMP/out")"
	fi
done

# One long run (4 G items, over a minute): Ctrl-C ends it where it is, the
# figures over the items measured until then, marked interrupted, exit 130
# (it used to die silently).
one="sim --preset paper-costs --wc 2us --len 512 --kc 384 --items 4000000000 --warmup 1000"
for mode in text json; do
	j=(); [ $mode = json ] && j=(--json)
	"$VS" "${j[@]}" $one >"$TMP/out" 2>"$TMP/err" &
	pid=$!
	sleep 1.5
	kill -INT $pid
	rc=0; wait $pid || rc=$?
	[ $rc = 130 ] || { cat "$TMP/out" "$TMP/err"; die "$mode: interrupted run exited $rc, not 130"; }
	n=$(sed -n 's/.*interrupted: the figures are over the \([0-9]*\) items measured until then.*/\1/p' "$TMP/err")
	[ -n "$n" ] || { cat "$TMP/err"; die "$mode: no interruption line"; }
	[ "$n" -gt 0 ] && [ "$n" -lt 4000000000 ] || die "$mode: $n items measured"
	if [ $mode = text ]; then
		grep -q "^simulated   $n items measured" "$TMP/out" || { cat "$TMP/out"; die "text: no figures over $n items"; }
	else
		json_get "$TMP/out" "d['interrupted'] is True and d['items'] == $n and d['T_ns'] > 0" |
			grep -qx True || die "json: partial document wrong: $(head -c 300 "$TMP/out")"
	fi
done
echo ok
