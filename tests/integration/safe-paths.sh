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

# 6. --root: a file of the tree that is a symlink out of it resolves inside
# the tree (absolute or through ".."), for writes and for reads. The PM QoS
# device as a link to the root-only file: apply refuses it or writes the
# tree's own, never the victim (it was opened with a plain open()).
fresh
rm "$TMP/root/dev/cpu_dma_latency"
ln -s "$TMP/victim" "$TMP/root/dev/cpu_dma_latency"
cat >"$TMP/qos.json" <<'EOT'
{ "format": "virtsync-profile", "version": 1, "name": "qos", "description": "hold",
  "steps": [ { "knob": "pmqos.cpu_dma_latency_us", "value": 20 } ] }
EOT
rc=0
vs apply "$TMP/qos.json" >"$TMP/out" 2>"$TMP/err" || rc=$?
hp=$(awk '{print $1}' "$RUN/hold-cpu_dma_latency.pid" 2>/dev/null)
[ -n "$hp" ] && kill "$hp" 2>/dev/null
victim_intact "apply of PM QoS with the device a link out of the tree (exit $rc)"
[ $rc != 0 ] || die "PM QoS through a link out of the tree: applied ($(cat "$TMP/out"))"
# a sysfs knob as a link out of the tree, absolute and relative
for target in "$TMP/victim" "../../../../../../../../../../..$TMP/victim"; do
	fresh
	k=$TMP/root/sys/module/haltpoll/parameters/guest_halt_poll_ns
	rm "$k" && ln -s "$target" "$k"
	rc=0
	vs apply "$PROFILE" >"$TMP/out" 2>"$TMP/err" || rc=$?
	victim_intact "apply with guest_halt_poll_ns a link to $target (exit $rc)"
	vs rollback >/dev/null 2>&1
	victim_intact "rollback with guest_halt_poll_ns a link to $target"
done
# a read: a NUMA node's meminfo as a link to a file outside the tree
cp -a "$TOP/tests/fixtures/placement-host" "$TMP/proot"
echo "Node 0 MemTotal:       99999999 kB" >"$TMP/outside-meminfo"
m=$TMP/proot/sys/devices/system/node/node0/meminfo
rm "$m" && ln -s "$TMP/outside-meminfo" "$m"
"$VS" --root "$TMP/proot" topo --no-measure >"$TMP/out" 2>"$TMP/err"
grep -q '^  node 1: .*16.0 GiB' "$TMP/out" || die "topo on the tree: $(cat "$TMP/out" "$TMP/err")"
! grep -q '95.4 GiB' "$TMP/out" || die "topo read a file outside the --root tree: $(grep 'node 0' "$TMP/out")"
exit 0
