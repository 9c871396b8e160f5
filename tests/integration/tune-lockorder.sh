#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# apply takes /run/virtsync/lock before it reads any old value. The
# interleaving that lost the original: apply B is held at its flock() (strace
# delays the call by 10 s) while a rollback undoes apply A; B must then read
# the rolled-back value as its old one, so that the final rollback gets back
# to the pristine state. Before the fix B had read A's value before the lock
# and journaled it as the original: the last rollback left 123456 in place.
. "$(dirname "$0")/../lib.sh"
need_root
command -v strace >/dev/null || skip "strace not installed"
cp -a "$TOP/tests/fixtures/host1" "$TMP/root"
PARAM=$TMP/root/sys/module/haltpoll/parameters/guest_halt_poll_ns
BUSY=$TMP/root/proc/sys/net/core/busy_poll
cat >"$TMP/p.json" <<'EOT'
{ "format": "virtsync-profile", "version": 1, "name": "p", "description": "two knobs",
  "steps": [ { "knob": "guest.halt_poll_ns", "value": "${v}" },
             { "knob": "net.core.busy_poll", "value": "${b}" } ] }
EOT
vs() { "$VS" --root "$TMP/root" "$@"; }
orig_param=$(cat "$PARAM")
orig_busy=$(cat "$BUSY")

expect_exit 0 vs apply "$TMP/p.json" --set v=123456 --set b=7
[ "$(cat "$PARAM")" = 123456 ] || die "apply A"

strace -f -qq -o "$TMP/strace.log" -e trace=flock -e inject=flock:delay_enter=10s \
	"$VS" --root "$TMP/root" apply "$TMP/p.json" --set v=200000 --set b=9 \
	>"$TMP/b.out" 2>"$TMP/b.err" &
B=$!
at_exit "kill $B 2>/dev/null"
# B is in its flock() once strace has printed the call's start
for _ in $(seq 600); do grep -q 'flock(' "$TMP/strace.log" 2>/dev/null && break; sleep 0.1; done
grep -q 'flock(' "$TMP/strace.log" || die "apply B never reached flock()"
expect_exit 0 vs rollback	# undoes A while B waits for the lock
[ "$(cat "$PARAM")" = "$orig_param" ] || die "rollback of A"
wait $B || { cat "$TMP/b.out" "$TMP/b.err"; die "apply B failed"; }
[ "$(cat "$PARAM")" = 200000 ] || die "apply B did not write"
expect_exit 0 vs rollback
[ "$(cat "$PARAM")" = "$orig_param" ] ||
	die "guest_halt_poll_ns is $(cat "$PARAM") after the last rollback, not the original $orig_param"
[ "$(cat "$BUSY")" = "$orig_busy" ] ||
	die "busy_poll is $(cat "$BUSY") after the last rollback, not the original $orig_busy"
exit 0
