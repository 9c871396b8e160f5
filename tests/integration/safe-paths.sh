#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Issue 12.3: root does not follow a symlink, trust a pre-created file or
# block on a FIFO that another user planted, in any path it writes (--save,
# the journal and its temporary, the lock) or any input that decides what
# it writes (a plan, a profile).
. "$(dirname "$0")/../lib.sh"
need_root
command -v setpriv >/dev/null || skip "setpriv (util-linux) not installed"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }

# A world-writable sticky directory, like /tmp, and a file only root reads.
PUB=$TMP/pub
mkdir -m 1777 "$PUB"
chmod 755 "$TMP"
echo secret >"$TMP/victim"
chmod 600 "$TMP/victim"
victim_intact() {
	[ "$(cat "$TMP/victim")" = secret ] && [ "$(stat -c %a "$TMP/victim")" = 600 ] ||
		die "$1: the root-only file was changed: $(stat -c '%a %U' "$TMP/victim") $(head -c 40 "$TMP/victim")"
}

# 1. tune --save through a symlink planted by nobody: refused, before the run
as_nobody ln -s "$TMP/victim" "$PUB/t.json" || die "nobody cannot plant a link"
expect_usage_error "is a symbolic link" "$VS" tune --auto --workload wakeup --save "$PUB/t.json"
victim_intact "tune --save through a symlink"

# 2. diagnose --save with a nobody-owned X.tmp already there: the document
# is root's, and nobody's file is left as it was (and never renamed in)
as_nobody sh -c "echo planted >'$PUB/d.json.tmp'" || die "nobody cannot plant X.tmp"
expect_exit 0 "$VS" diagnose --workload fc-example --duration 1s --save "$PUB/d.json"
[ "$(stat -c %U "$PUB/d.json")" = root ] || die "diagnose --save: the plan is owned by $(stat -c %U "$PUB/d.json")"
[ "$(cat "$PUB/d.json.tmp")" = planted ] || die "diagnose --save wrote into nobody's X.tmp"
! as_nobody sh -c "echo '{}' >'$PUB/d.json'" 2>/dev/null || die "nobody can rewrite the saved plan"

# 3. the journal's temporary and the lock as symlinks, in a --root tree
fresh() { rm -rf "$TMP/root"; cp -a "$TOP/tests/fixtures/host1" "$TMP/root"; RUN=$TMP/root/run/virtsync; }
vs() { "$VS" --root "$TMP/root" "$@"; }
PROFILE=$TOP/tests/fixtures/profiles/multi.json
fresh
ln -s "$TMP/victim" "$RUN/journal.json.tmp"
expect_exit 0 vs apply "$PROFILE"
victim_intact "apply with journal.json.tmp a symlink"
[ -L "$RUN/journal.json.tmp" ] || die "the planted journal.json.tmp link was replaced"
expect_exit 0 vs rollback
victim_intact "rollback with journal.json.tmp a symlink"
fresh
ln -s "$TMP/victim" "$RUN/lock"
expect_exit 1 vs apply "$PROFILE"
grep -q "lock.*symbolic link" "$TMP/err" || die "lock as a symlink: $(cat "$TMP/err")"
victim_intact "apply with the lock a symlink"
[ ! -e "$RUN/journal.json" ] || die "apply went on without its lock"
# a lock owned by another user or writable by others
fresh
touch "$RUN/lock" && chown nobody "$RUN/lock"
expect_exit 1 vs apply "$PROFILE"
grep -q "owned by another user" "$TMP/err" || die "nobody's lock: $(cat "$TMP/err")"

# 4. FIFOs as journal, plan and profile: refused at once, never blocking
fresh
mkfifo "$RUN/journal.json"
expect_exit 1 timeout 20 "$VS" --root "$TMP/root" apply "$PROFILE"
grep -q "journal.*not a regular file" "$TMP/err" || die "FIFO journal: $(cat "$TMP/err")"
expect_exit 1 timeout 20 "$VS" --root "$TMP/root" rollback
fresh
mkfifo "$TMP/plan.json" "$TMP/profile.json"
# timeout, not a watchdog subshell: a subshell killed before it has reset
# the traps it inherited runs this script's EXIT trap, which removed $TMP
# under the running test (seen with both CPUs busy).
rc=0
timeout -s KILL 20 "$VS" --root "$TMP/root" apply --plan "$TMP/plan.json" \
	>"$TMP/out" 2>"$TMP/err" || rc=$?
[ $rc = 2 ] || die "FIFO plan: exit $rc (137: blocked), $(cat "$TMP/err")"
grep -q "not a regular file" "$TMP/err" || die "FIFO plan: $(cat "$TMP/err")"
expect_exit 2 timeout 20 "$VS" --root "$TMP/root" apply "$TMP/profile.json"
grep -q "not a regular file" "$TMP/err" || die "FIFO profile: $(cat "$TMP/err")"

# 5. a plan nobody owns, or anyone may rewrite: refused, nothing applied
cp "$PROFILE" "$PUB/p.json"
chown nobody "$PUB/p.json"
expect_exit 2 vs apply "$PUB/p.json"
grep -q "owned by another user" "$TMP/err" || die "nobody's profile: $(cat "$TMP/err")"
chown root "$PUB/p.json" && chmod 666 "$PUB/p.json"
expect_exit 2 vs apply "$PUB/p.json"
grep -q "writable by others" "$TMP/err" || die "a world-writable profile: $(cat "$TMP/err")"
[ ! -s "$RUN/journal.json" ] || ! grep -q '"done"' "$RUN/journal.json" || die "a refused profile was applied"
exit 0
