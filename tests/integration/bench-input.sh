#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# virtsync bench and validate: bad input is one line and exit 2 (usage) or
# 1 (environment), with nothing left running or written.
. "$(dirname "$0")/../lib.sh"

expect_usage_error "len.*100.*power of two" "$VS" bench --len 100
expect_usage_error "len.*65536" "$VS" bench --len 65536
expect_usage_error "kc.*300.*256" "$VS" bench --len 256 --kc 300
expect_usage_error "kp.*9.*8" "$VS" bench --len 8 --kp 9
expect_usage_error "wp.*-5us" "$VS" bench --wp -5us
expect_usage_error "sleep.*-1ms" "$VS" bench --sleep -1ms
expect_usage_error "duration.*abc" "$VS" bench --duration abc
expect_usage_error "mode.*spin" "$VS" bench --mode spin
expect_usage_error "backend.*qemu" "$VS" bench --backend qemu
expect_usage_error "preset.*nope" "$VS" bench --preset nope
expect_usage_error "pin.*0,4095.*4095" "$VS" bench --pin 0,4095
expect_usage_error "pin.*'x'" "$VS" bench --pin x
expect_usage_error "rt.*99" "$VS" bench --rt=99
expect_usage_error "halt-poll.*kvm" "$VS" bench --halt-poll 1us
expect_usage_error "pin 0,0 with --rt" "$VS" bench --mode poll --pin 0,0 --rt
expect_usage_error "len.*3" "$VS" validate --sweep wp=1us:2us:1us --len 3
expect_usage_error "unknown sweep 'foo'" "$VS" validate foo
expect_usage_error "sweep.*np" "$VS" validate --sweep np=1us:2us:1us
expect_usage_error "pin.*9999" "$VS" validate --pin 9999,0
# An unwritable output: exit 1 before any run, no file.
expect_exit 1 "$VS" validate --quick -o /nonexistent/dir/v.csv
[ "$(wc -l <"$TMP/err")" -eq 1 ] || die "validate -o: not one line"
grep -q "cannot write '/nonexistent/dir/v.csv'" "$TMP/err" || die "validate -o message"
expect_exit 1 "$VS" bench --duration 0.1s --trace /nonexistent/dir/t.txt
grep -q "trace.*/nonexistent/dir/t.txt" "$TMP/err" || die "bench --trace message"
[ "$(wc -l <"$TMP/err")" -eq 1 ] || die "bench --trace: not one line"

# --backend kvm without /dev/kvm: a private mount namespace with an empty
# /dev, so the host's /dev/kvm is untouched.
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
	unshare -m sh -c "mount -t tmpfs none /dev && exec '$VS' bench --backend kvm --duration 0.1s" \
		>"$TMP/out" 2>"$TMP/err"
	rc=$?
	[ $rc = 1 ] || { cat "$TMP/err"; die "--backend kvm without /dev/kvm: exit $rc"; }
	[ "$(wc -l <"$TMP/err")" -eq 1 ] || { cat "$TMP/err"; die "kvm: not one line"; }
	grep -q "/dev/kvm" "$TMP/err" || die "kvm message does not name /dev/kvm"
	[ ! -s "$TMP/out" ] || die "kvm error printed on stdout"
else
	echo "SKIP part: --backend kvm without /dev/kvm needs root and unshare"
fi
# Counters that cannot be published are the observers' loss, not the
# run's: its figures stand (exit 0), one line names the failure.
mkdir -p "$TMP/root/run" && : >"$TMP/root/run/virtsync"
expect_exit 0 env VIRTSYNC_ROOT="$TMP/root" "$VS" bench --duration 300ms
[ "$(wc -l <"$TMP/err")" -eq 1 ] || { cat "$TMP/err"; die "unpublished: not one line"; }
grep -q "counters not published under /run/virtsync: [1-9][0-9]* of [1-9][0-9]* writes failed.*Not a directory, ignoring" \
	"$TMP/err" || { cat "$TMP/err"; die "unpublished counters not said"; }
grep -q "^measured" "$TMP/out" || die "unpublished: no figures"
pgrep -P $$ >/dev/null && die "a child process left running"
for f in /run/virtsync/pcdev-*.stats; do
	# other jobs may run a device right now; only a dead owner is a leak
	[ -e "$f" ] || continue
	pid=${f##*/pcdev-}
	pid=${pid%.stats}
	kill -0 "$pid" 2>/dev/null || die "stats file $f left behind"
done
echo ok
