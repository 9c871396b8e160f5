#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Issue 12: a SIGKILL between a temporary's link and its rename left
# ".journal.json.PID.RANDOM.tmp" in /run/virtsync for good. verify, apply
# and rollback, under the lock, remove the temporaries whose writer is dead
# and nothing else: not a live writer's, not another user's, not a link,
# not a file of another name. Every output writer (diagnose and tune
# --save, report and validate -o, stat --prometheus-file) cleans its own
# target's.
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

# Every writer of an output file (grep tools/ for --save, -o/--output,
# --prometheus-file) replaces it through the one safe write, which first
# removes the temporaries of that target a dead run left beside it, and
# only those: diagnose --save, tune --save, report -o, validate -o and
# stat --prometheus-file. (bench --trace streams into its file and hold
# --pidfile writes in place: neither has a temporary to leave.) export
# --tuned swaps a whole directory: a dead run's directory goes, as below.
PUB=$TMP/pub
mkdir -m 1777 "$PUB"
# sweeps NAME CMD...: NAME is the target's base name in $PUB
sweeps() {
	local name=$1
	shift
	echo leftover >"$PUB/.$name.$DEAD.$HEX.tmp"
	echo live >"$PUB/.$name.$LIVE.$HEX.tmp"
	echo other >"$PUB/.x$name.$DEAD.$HEX.tmp"
	ln -sfn "$TMP/victim" "$PUB/.$name.$DEAD.fedcba9876543210.tmp"
	expect_exit 0 "$@"
	[ -s "$PUB/$name" ] || die "$1 $2: wrote no $name"
	[ ! -e "$PUB/.$name.$DEAD.$HEX.tmp" ] || die "$1 $2: left the dead run's temporary of $name"
	[ -e "$PUB/.$name.$LIVE.$HEX.tmp" ] || die "$1 $2: removed a live writer's temporary"
	[ -e "$PUB/.x$name.$DEAD.$HEX.tmp" ] || die "$1 $2: removed another file's temporary"
	[ -L "$PUB/.$name.$DEAD.fedcba9876543210.tmp" ] || die "$1 $2: removed a link"
	[ "$(cat "$TMP/victim")" = secret ] || die "$1 $2: wrote through a link"
	# the live writer's and the link, nothing of its own
	[ "$(find "$PUB" -name ".$name.*" | wc -l)" = 2 ] || die "$1 $2: left a temporary: $(ls -A "$PUB")"
}
sweeps d.json "$VS" diagnose --workload fc-example --duration 1s --save "$PUB/d.json"
# tune on the fixture tree: its knob is the tree's, the host keeps its own
fresh
sweeps t.json vs tune --auto --workload wakeup --duration 1s --save "$PUB/t.json"
sweeps r.html "$VS" report --from "$PUB/d.json" -o "$PUB/r.html"
sweeps v.csv "$VS" validate --sweep wc=1us:2us:1us --mode notify --repeats 1 \
	--duration 20ms --max-err 1000 -o "$PUB/v.csv"
if [ -w /dev/kvm ]; then
	sweeps s.prom "$VS" stat --prometheus-file "$PUB/s.prom" -- \
		"$(dirname "$VS")/bench/kvm-kick" --kicks 200 --halts 2
fi

# export --tuned DIR fills ".DIR.PID.RANDOM.tmp" and renames it onto DIR;
# the next export of DIR removes a dead run's, and only that.
stale_dir() { mkdir "$PUB/$1" && echo "$2" >"$PUB/$1/tuned.conf"; }
stale_dir ".e.$DEAD.$HEX.tmp" leftover
stale_dir ".e.$LIVE.$HEX.tmp" live
stale_dir ".xe.$DEAD.$HEX.tmp" other
stale_dir ".e.$DEAD.fedcba9876543210.tmp" nobody
chown -R nobody "$PUB/.e.$DEAD.fedcba9876543210.tmp"
stale_dir ".e.$DEAD.0123456789abcdee.tmp" nested
mkdir "$PUB/.e.$DEAD.0123456789abcdee.tmp/sub"
expect_exit 0 "$VS" export energy --tuned "$PUB/e"
[ -s "$PUB/e/tuned.conf" ] || die "export --tuned: wrote no $PUB/e/tuned.conf"
[ ! -e "$PUB/.e.$DEAD.$HEX.tmp" ] || die "export --tuned: left the dead run's directory"
for d in ".e.$LIVE.$HEX.tmp" ".xe.$DEAD.$HEX.tmp" ".e.$DEAD.fedcba9876543210.tmp" \
	".e.$DEAD.0123456789abcdee.tmp/sub"; do
	[ -e "$PUB/$d" ] || die "export --tuned: removed $d, which is not a dead run's own"
done
[ "$(find "$PUB" -maxdepth 1 -name ".e.*" | wc -l)" = 3 ] ||
	die "export --tuned: left a directory of its own: $(ls -A "$PUB")"
exit 0
