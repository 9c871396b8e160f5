#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# virtsync stat: bad options, a dead --pid and missing privileges each give
# one clear line and the documented exit status, with nothing on stdout.
. "$(dirname "$0")/../lib.sh"

expect_usage_error "interval" "$VS" stat --interval abc
expect_usage_error "count" "$VS" stat --count 0
expect_usage_error "pid" "$VS" stat --pid -3
expect_usage_error "attach" "$VS" stat --attach kprobe
expect_usage_error "choose one" "$VS" stat --json --prometheus

# A process that has exited: spawn one and reap it, so the pid is dead.
sleep 0 & dead=$!
wait $dead
while [ -e /proc/$dead ]; do dead=$((dead + 7919)); done
# a pid that does not exist is a usage mistake: 2, as in diagnose and tune
expect_exit 2 "$VS" stat --pid $dead --count 1
[ "$(wc -l <"$TMP/err")" -eq 1 ] || { cat "$TMP/err"; die "dead pid: stderr is not one line"; }
grep -q -- "--pid $dead: no such process" "$TMP/err" || { cat "$TMP/err"; die "dead pid message"; }
[ ! -s "$TMP/out" ] || die "dead pid: printed on stdout"

# Without CAP_BPF/CAP_PERFMON/CAP_SYS_ADMIN: one line naming them, exit 1.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	expect_exit 1 setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all --bounding-set=-all "$VS" stat --count 1
	[ "$(wc -l <"$TMP/err")" -eq 1 ] || { cat "$TMP/err"; die "no caps: not one line"; }
	grep -q 'needs CAP_BPF and CAP_PERFMON (or root)' "$TMP/err" ||
		{ cat "$TMP/err"; die "no caps: message"; }
	[ ! -s "$TMP/out" ] || die "no caps: printed on stdout"
fi
echo ok
