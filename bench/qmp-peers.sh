#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# QMP hostile peers (tests/qmp-peer.py) against every command that talks
# QMP: stat --qmp, diagnose --qmp, apply --qmp (an iothread knob read,
# --dry-run), tune --auto --qmp, and rollback of a journal whose iothread
# entry's socket now serves the peer (on a --root tree). watch has no
# --qmp. For each peer and command: how long it takes to give up, against
# its deadline (5 s for stat, diagnose and tune, 3 s per knob exchange),
# and whether it failed the way an operator can act on: a non-zero exit and
# one stderr line that names the failure; rollback must also restore the
# other entry and release /run/virtsync/lock. Prints one line per case and
# a summary for docs/RELIABILITY.md.
#
# usage: flock /tmp/vs-test.lock bench/qmp-peers.sh
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
VS=${VIRTSYNC_BIN:-$TOP/.output/virtsync}
TMP=$(mktemp -d /tmp/vs-qmp-peers.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$TMP"; }
trap cleanup EXIT
modes="drip events flood silent stall garbage"
peer() { # SOCKET MODE: start one, wait until it listens
	rm -f "$1" "$1.pid"
	python3 "$TOP/tests/qmp-peer.py" "$1" "$2" "$1.pid" &
	pids+=($!)
	for _ in $(seq 100); do [ -s "$1.pid" ] && return; sleep 0.1; done
	echo "peer $2 did not start" >&2
	exit 1
}
for m in $modes; do peer "$TMP/$m.sock" $m; done
cat >"$TMP/p.json" <<'EOT'
{ "format": "virtsync-profile", "version": 1, "name": "io", "description": "iothread",
  "steps": [ { "knob": "iothread.poll_max_ns", "target": { "qmp": "${qmp}", "iothread": "io0" },
      "value": 777 } ] }
EOT
cat >"$TMP/r.json" <<'EOT'
{ "format": "virtsync-profile", "version": 1, "name": "io2", "description": "two knobs",
  "steps": [ { "knob": "guest.halt_poll_ns", "value": 200000 },
    { "knob": "iothread.poll_max_ns", "target": { "qmp": "${qmp}", "iothread": "io0" },
      "value": 777 } ] }
EOT
cases=0 ok=0 worst=0
run() { # LABEL CMD...: time it (bounded at 120 s), check exit and error
	local label=$1 t0 t1 rc ms lines
	shift
	t0=$(date +%s%N)
	timeout -s KILL 120 "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	cases=$((cases + 1))
	[ $ms -gt $worst ] && worst=$ms
	lines=$(grep -c . "$TMP/err")
	if [ $rc != 137 ] && [ $rc != 0 ] && [ "$lines" = 1 ] &&
		grep -qiE "deadline|QMP events|not a QMP|closed" "$TMP/err"; then
		ok=$((ok + 1))
		printf "%-28s %6d ms  exit %d: %s\n" "$label" $ms $rc "$(cut -c1-100 "$TMP/err")"
		return 0
	else
		printf "%-28s %6d ms  exit %d, %s stderr lines: NO CLEAR ERROR: %s\n" "$label" $ms \
			$rc "$lines" "$(tr -s ' \n' ' ' <"$TMP/err" | cut -c1-100)"
		return 1
	fi
}
for m in $modes; do
	s=$TMP/$m.sock
	run "stat --qmp ($m)" "$VS" stat --qmp "$s" --interval 100ms --count 1
	run "diagnose --qmp ($m)" "$VS" diagnose --qmp "$s" --duration 300ms --no-calibrate
	run "apply --dry-run ($m)" "$VS" apply "$TMP/p.json" --qmp "$s" --dry-run
	run "tune --qmp ($m)" "$VS" tune --auto --qmp "$s" --objective "echo 1" --repeats 1
	# rollback: applied while the socket served a good peer, which is then
	# replaced by this one
	rm -rf "$TMP/root"
	cp -a "$TOP/tests/fixtures/host1" "$TMP/root"
	peer "$TMP/r.sock" good
	gp=${pids[-1]}
	if ! "$VS" --root "$TMP/root" apply "$TMP/r.json" --qmp "$TMP/r.sock" >/dev/null 2>&1; then
		echo "apply on the good peer failed" >&2
		exit 1
	fi
	kill "$gp"
	wait "$gp" 2>/dev/null
	peer "$TMP/r.sock" $m
	run "rollback ($m)" "$VS" --root "$TMP/root" rollback && {
		why=
		[ "$(cat "$TMP/root/sys/module/haltpoll/parameters/guest_halt_poll_ns")" = 0 ] ||
			why="the other entry not restored"
		flock -n "$TMP/root/run/virtsync/lock" true || why="$why lock still held"
		[ -z "$why" ] || { ok=$((ok - 1)); echo "  rollback ($m): NOT OK: $why"; }
	}
	kill "${pids[-1]}"
done
echo "qmp hostile peers: $ok of $cases cases failed with one clear line and a non-zero exit; slowest $worst ms"
[ "$ok" = "$cases" ]
