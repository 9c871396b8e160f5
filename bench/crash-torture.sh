#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Crash torture of apply and rollback on a fixture tree (--root): SIGKILL at
# every write, fsync, rename and link the command makes (strace's fault injection:
# the k-th call of that syscall is replaced by a SIGKILL, no hook in the
# binary), and at random times; after each kill, `virtsync rollback` (run
# once more if it says so) must leave the tree byte-identical to the
# fixture and the journal valid. Prints the counts for docs/RELIABILITY.md.
#
# usage: flock /tmp/vs-test.lock bench/crash-torture.sh [RANDOM-KILLS]
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
VS=${VIRTSYNC_BIN:-$TOP/.output/virtsync}
RANDOM_KILLS=${1:-100}
PRISTINE=$TOP/tests/fixtures/host1
PROFILE=$TOP/tests/fixtures/profiles/multi.json
[ "$(id -u)" = 0 ] || { echo "crash-torture: needs root" >&2; exit 1; }
command -v strace >/dev/null || { echo "crash-torture: needs strace" >&2; exit 1; }
TMP=$(mktemp -d /tmp/vs-crash.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
R=$TMP/root
kills=0 exact=0 bad=0

fresh() { rm -rf "$R"; cp -a "$PRISTINE" "$R"; }
# the tree as the fixture has it (journal, lock and holder pidfile aside)
pristine() {
	python3 - "$PRISTINE" "$R" "$TMP/leftovers" <<'PY'
import os, sys
a, b = sys.argv[1], sys.argv[2]
extra = {"journal.json", "lock", "hold-cpu_dma_latency.pid"}
left = 0
for d, _, files in os.walk(a):
    for f in files:
        p = os.path.join(d, f)
        q = os.path.join(b, os.path.relpath(p, a))
        if open(p, "rb").read().rstrip(b"\n") != open(q, "rb").read().rstrip(b"\n"):
            sys.exit("differs: " + os.path.relpath(p, a))
for d, _, files in os.walk(b):
    for f in files:
        if f in extra or os.path.exists(os.path.join(a, os.path.relpath(os.path.join(d, f), b))):
            continue
        # a temporary of a replace killed between link and rename: not a
        # knob, counted apart
        if f.startswith(".") and f.endswith(".tmp"):
            left += 1
            continue
        sys.exit("extra: " + f)
if left:
    open(sys.argv[3], "a").write("%d\n" % left)
PY
}
journal_valid() {
	[ ! -e "$R/run/virtsync/journal.json" ] || "$VS" --root "$R" verify >/dev/null 2>"$TMP/verr" ||
		! grep -q "cannot read the journal" "$TMP/verr"
}
# after a kill: roll back (twice at most) and check
settle() {
	local what=$1 i
	kills=$((kills + 1))
	for i in 1 2; do "$VS" --root "$R" rollback >/dev/null 2>&1 && break; done
	if pristine >"$TMP/why" 2>&1 && journal_valid; then
		exact=$((exact + 1))
	else
		bad=$((bad + 1))
		echo "NOT RESTORED after $what: $(cat "$TMP/why") $(cat "$TMP/verr" 2>/dev/null)"
	fi
}
# count SYSCALL CMD...: how many times CMD makes the syscall
count() {
	local sc=$1
	shift
	strace -f -qq -o "$TMP/count" -e trace="$sc" "$@" >/dev/null 2>&1
	grep -cE "^[0-9]+ +$sc\(" "$TMP/count"
}

for cmd in apply rollback; do
	# the journal is replaced by linkat (O_TMPFILE) or renameat
	for sc in write fsync renameat linkat; do
		fresh
		if [ $cmd = apply ]; then
			n=$(count $sc "$VS" --root "$R" apply "$PROFILE")
		else
			"$VS" --root "$R" apply "$PROFILE" >/dev/null 2>&1 || { echo "apply failed"; exit 1; }
			n=$(count $sc "$VS" --root "$R" rollback)
		fi
		for k in $(seq 1 "$n"); do
			fresh
			[ $cmd = rollback ] && "$VS" --root "$R" apply "$PROFILE" >/dev/null 2>&1
			set -- "$VS" --root "$R"
			[ $cmd = apply ] && set -- "$@" apply "$PROFILE" || set -- "$@" rollback
			# the shell's "Killed" notice goes with the group's stderr
			{ strace -f -qq -o /dev/null -e trace=$sc -e inject=$sc:signal=SIGKILL:when=$k \
				"$@" >/dev/null 2>&1; } 2>/dev/null
			settle "$cmd, SIGKILL at $sc #$k of $n"
		done
		echo "$cmd: SIGKILL at each of its $n $sc calls"
	done
done

# random times: apply (and the rollback after a full apply) killed after a
# random 0-40 ms
for i in $(seq 1 "$RANDOM_KILLS"); do
	fresh
	if [ $((i % 2)) = 0 ]; then
		"$VS" --root "$R" apply "$PROFILE" >/dev/null 2>&1
		"$VS" --root "$R" rollback >/dev/null 2>&1 & pid=$!
		what="rollback"
	else
		"$VS" --root "$R" apply "$PROFILE" >/dev/null 2>&1 & pid=$!
		what="apply"
	fi
	sleep "$(printf '0.%03d' $((RANDOM % 40)))"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	settle "$what killed at random"
done
left=$(cat "$TMP/leftovers" 2>/dev/null | wc -l)
echo "crash torture: $kills SIGKILLs, $exact restored exactly, $bad not;" \
	"$left left a stale .*.tmp temporary beside the journal or a control file"
[ "$bad" = 0 ]
