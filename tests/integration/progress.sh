#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Work longer than 2 s shows a progress line on stderr when stderr is a
# terminal, and none in --json mode or when stderr is piped.
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
echo ok
