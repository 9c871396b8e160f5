#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tune's few seconds show a progress line naming the loop's phase when
# stderr is a terminal, none with --json or when stderr is piped. The loop
# runs on a paused QEMU with an objective command that takes a second, so
# it measures for ~3 s and changes nothing (diagnose has no traffic to
# classify).
. "$(dirname "$0")/../lib.sh"
need_root
need_kvm
command -v script >/dev/null || skip "script(1) (bsdutils) is not installed"
start_qemu_qmp -smp 1
mkdir -p "$TMP/root/sys/devices/system/cpu" "$TMP/root/run/virtsync"
cp /sys/devices/system/cpu/online "$TMP/root/sys/devices/system/cpu/online"
live_proc_in "$TMP/root"
args="--root $TMP/root tune --auto --qmp $QMP_SOCK --objective 'sleep 1; echo 5' --duration 300ms"

script -qec "$VS $args >$TMP/tty.out" "$TMP/tty.log" >/dev/null </dev/null || die "tune under script failed"
grep -q 'tune: measuring before the change: 1/3' "$TMP/tty.log" ||
	{ cat -v "$TMP/tty.log"; die "no progress line on a terminal"; }
grep -q 'tune: deciding what to change: 2/3' "$TMP/tty.log" || die "the phase is not named"
grep -q '^no change: ' "$TMP/tty.out" || die "tune's result: $(cat "$TMP/tty.out")"
grep -q 'tune: ' "$TMP/tty.out" && die "progress leaked into stdout"

script -qec "$VS --json $args >$TMP/json.out" "$TMP/json.log" >/dev/null </dev/null ||
	die "tune --json under script failed"
grep -q 'tune: ' "$TMP/json.log" && die "progress line in --json mode"

eval "$VS $args" >/dev/null 2>"$TMP/piped.err" || die "tune failed"
[ ! -s "$TMP/piped.err" ] || die "progress written to a pipe: $(cat "$TMP/piped.err")"
echo ok
