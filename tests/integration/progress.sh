#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Work longer than 2 s shows a progress line on stderr when stderr is a
# terminal, and none in --json mode or when stderr is piped: a sim sweep,
# sleepcost, a single long sim run (idlelat: idlelat.sh).
. "$(dirname "$0")/../lib.sh"
command -v script >/dev/null || skip "script(1) (bsdutils) is not installed"

# About 4 s of simulation: 12 points of 20 M items each.
args="sim --preset paper-costs --wc 2us --len 512 --kc 384 --items 20000000 --sweep wp=1.8us:2.9us:100ns"
# script(1) gives the command a terminal; its stdout goes to a file, so
# whatever reaches the typescript came from stderr (or the table).
script -qec "$VS $args >$TMP/tty.out" "$TMP/tty.log" >/dev/null </dev/null ||
	die "sim under script failed"
grep -q 'sim sweep: [0-9]*/12' "$TMP/tty.log" || { cat "$TMP/tty.log"; die "no progress line on a terminal"; }
# Erased before the command ends: the last thing on the line is the clear.
[ -s "$TMP/tty.out" ] || die "no table on stdout"
grep -q 'sim sweep' "$TMP/tty.out" && die "progress leaked into stdout"

script -qec "$VS --json $args >$TMP/json.out" "$TMP/json.log" >/dev/null </dev/null ||
	die "sim --json under script failed"
grep -q 'sim sweep' "$TMP/json.log" && die "progress line in --json mode"

"$VS" $args >/dev/null 2>"$TMP/piped.err" || die "sim failed"
[ ! -s "$TMP/piped.err" ] || die "progress written to a pipe: $(cat "$TMP/piped.err")"

# sleepcost: 14 points of 300 ms, about 4.5 s.
script -qec "$VS sleepcost --no-cache --duration 300ms >$TMP/tty.out" "$TMP/tty.log" >/dev/null </dev/null ||
	die "sleepcost under script failed"
grep -q 'sleepcost: points: [0-9]*/14' "$TMP/tty.log" || { cat "$TMP/tty.log"; die "sleepcost: no progress line"; }
grep -q 'sleepcost: points' "$TMP/tty.out" && die "sleepcost: progress leaked into stdout"

# One long sim run (over a minute), shown in percent, then Ctrl-C: the
# progress line is erased before the figures (issue 13.11).
script -qec "sh -c 'echo \$\$ >$TMP/sim.pid; exec $VS sim --preset paper-costs --wc 2us --len 512 --kc 384 --items 4000000000 --warmup 1000 >$TMP/tty.out'" \
	"$TMP/tty.log" >/dev/null </dev/null &
spid=$!
for i in $(seq 100); do
	grep -q 'sim, percent done: [0-9]*/100' "$TMP/tty.log" 2>/dev/null && break
	sleep 0.1
done
kill -INT "$(cat "$TMP/sim.pid")"
wait $spid
grep -q 'sim, percent done: [0-9]*/100' "$TMP/tty.log" || { cat -v "$TMP/tty.log"; die "sim run: no progress line"; }
grep -q 'interrupted: the figures are over the' "$TMP/tty.log" || die "sim run: no interruption line"
grep -q '^simulated ' "$TMP/tty.out" || die "sim run: no figures on stdout"
echo ok
