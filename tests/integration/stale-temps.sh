#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Issue 12: a SIGKILL between a temporary's link and its rename left
# ".journal.json.PID.RANDOM.tmp" in /run/virtsync for good. verify, apply
# and rollback, under the lock, remove the temporaries whose writer is dead
# and nothing else: not a live writer's, not another user's, not a link,
# not a file of another name. diagnose --save cleans its own target's.
. "$(dirname "$0")/../lib.sh"
need_root
command -v setpriv >/dev/null || skip "setpriv (util-linux) not installed"
PROFILE=$TOP/tests/fixtures/profiles/multi.json
HEX=0123456789abcdef

fresh() { rm -rf "$TMP/root"; cp -a "$TOP/tests/fixtures/host1" "$TMP/root"; RUN=$TMP/root/run/virtsync; }
vs() { "$VS" --root "$TMP/root" "$@"; }

# a pid that ran and is gone
sh -c 'exit 0' &
DEAD=$!
wait $DEAD
# a live writer: a process that started before its temporary was written
sleep 600 &
LIVE=$!
at_exit "kill $LIVE 2>/dev/null"

# plant: the leftovers of a dead run, and what must stay
plant() {
	STALE=("$RUN/.journal.json.$DEAD.$HEX.tmp" "$RUN/.hold-cpu_dma_latency.pid.$DEAD.$HEX.tmp"
		"$RUN/.pcdev-$DEAD.stats.$DEAD.$HEX.tmp")
	KEEP=("$RUN/.journal.json.$LIVE.$HEX.tmp" "$RUN/.journal.json.$HEX.tmp"
		"$RUN/journal.json.$DEAD.$HEX.tmp" "$RUN/.journal.json.$DEAD.${HEX}x.tmp"
		"$RUN/.nobody.$DEAD.$HEX.tmp" "$RUN/.link.$DEAD.$HEX.tmp" "$RUN/notes")
	local f
	for f in "${STALE[@]}" "${KEEP[@]}"; do
		case $f in
		*/.link.*) ln -sfn "$TMP/victim" "$f" ;;
		*) echo leftover >"$f" && chmod 600 "$f" ;;
		esac
	done
	chown nobody "$RUN/.nobody.$DEAD.$HEX.tmp"
}
check() {
	local f
	for f in "${STALE[@]}"; do
		[ ! -e "$f" ] || die "$1: the dead run's $(basename "$f") is still there"
	done
	for f in "${KEEP[@]}"; do
		[ -e "$f" ] || [ -L "$f" ] || die "$1: removed $(basename "$f"), which is not a dead run's"
	done
	[ -L "$RUN/.link.$DEAD.$HEX.tmp" ] || die "$1: the link was replaced"
	[ "$(cat "$TMP/victim")" = secret ] || die "$1: wrote through the link"
}
echo secret >"$TMP/victim"

fresh
plant
expect_exit 0 vs verify
check verify
expect_exit 0 vs apply "$PROFILE"
check "apply (leftovers from before)"
plant	# again, while the apply is in place
for f in "${STALE[@]}"; do [ -e "$f" ] || die "plant: $f"; done
expect_exit 0 vs rollback
check rollback
grep -q '^restored' "$TMP/out" || die "rollback: $(cat "$TMP/out")"

# a reader does not clean while another holds the lock (the holder does),
# and creates no state where there is none
fresh
plant
flock "$RUN/lock" -c "'$VS' --root '$TMP/root' verify" >"$TMP/out" 2>&1 ||
	die "verify under a held lock: $(cat "$TMP/out")"
[ -e "${STALE[0]}" ] || die "verify cleaned while another process held the lock"
rm -rf "$RUN"
expect_exit 0 vs verify
[ ! -e "$RUN" ] || die "verify created $RUN"

# diagnose --save: the temporaries of its target a dead run left beside it
PUB=$TMP/pub
mkdir -m 1777 "$PUB"
echo leftover >"$PUB/.d.json.$DEAD.$HEX.tmp"
echo live >"$PUB/.d.json.$LIVE.$HEX.tmp"
echo other >"$PUB/.e.json.$DEAD.$HEX.tmp"
expect_exit 0 "$VS" diagnose --workload fc-example --duration 1s --save "$PUB/d.json"
[ -s "$PUB/d.json" ] || die "diagnose --save wrote no plan"
[ ! -e "$PUB/.d.json.$DEAD.$HEX.tmp" ] || die "diagnose --save left the dead run's temporary"
[ -e "$PUB/.d.json.$LIVE.$HEX.tmp" ] || die "diagnose --save removed a live writer's temporary"
[ -e "$PUB/.e.json.$DEAD.$HEX.tmp" ] || die "diagnose --save removed another file's temporary"
exit 0
