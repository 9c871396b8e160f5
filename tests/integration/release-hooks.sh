#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The binary users run has no test hook: fault injection is only in the
# test build (virtsync-faults), which the crash tests use.
. "$(dirname "$0")/../lib.sh"
command -v strings >/dev/null || skip "strings (binutils) not installed"
need_faults
! strings "$VS" | grep -q 'VIRTSYNC_TEST' || die "$VS contains $(strings "$VS" | grep VIRTSYNC_TEST)"
strings "$VSF" | grep -q 'VIRTSYNC_TEST_KILL_AFTER_WRITES' || die "the fault build has no hook"
# and the release binary ignores the variable: a fixture apply runs to the
# end instead of dying after its first write
need_root
cp -a "$TOP/tests/fixtures/host1" "$TMP/root"
VIRTSYNC_TEST_KILL_AFTER_WRITES=1 "$VS" --root "$TMP/root" apply \
	"$TOP/tests/fixtures/profiles/multi.json" >"$TMP/out" 2>&1 ||
	die "release apply with the hook variable set: exit $?: $(tail -2 "$TMP/out")"
VIRTSYNC_TEST_KILL_AFTER_WRITES=1 "$VSF" --root "$TMP/root" rollback >/dev/null 2>&1
exit 0
