#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# QMP hostile peers (tests/qmp-peer.py): for each misbehaving peer, how long
# stat --qmp, diagnose --qmp and iothread knob reads (apply --dry-run) take
# to give up, against their deadline (5 s for stat and diagnose, 3 s per
# knob exchange), and whether each came back with an error that names the
# failure. Prints one line per case and a summary for docs/RELIABILITY.md.
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
for m in $modes; do
	python3 "$TOP/tests/qmp-peer.py" "$TMP/$m.sock" $m "$TMP/$m.pid" &
	pids+=($!)
done
for m in $modes; do
	for _ in $(seq 100); do [ -s "$TMP/$m.pid" ] && break; sleep 0.1; done
done
cat >"$TMP/p.json" <<'EOT'
{ "format": "virtsync-profile", "version": 1, "name": "io", "description": "iothread",
  "steps": [ { "knob": "iothread.poll_max_ns", "target": { "qmp": "${qmp}", "iothread": "io0" },
      "value": 777 } ] }
EOT
cases=0 ok=0 worst=0
run() { # LABEL CMD...: time it (bounded at 120 s), check the error
	local label=$1 t0 t1 rc ms
	shift
	t0=$(date +%s%N)
	timeout -s KILL 120 "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	cases=$((cases + 1))
	[ $ms -gt $worst ] && worst=$ms
	if [ $rc != 137 ] && grep -qiE "deadline|QMP events|not a QMP|closed|not available" "$TMP/err" "$TMP/out"; then
		ok=$((ok + 1))
		printf "%-34s %6d ms  exit %d: %s\n" "$label" $ms $rc "$(tr -s ' \n' ' ' <"$TMP/err" | cut -c1-90)"
	else
		printf "%-34s %6d ms  exit %d: NO CLEAR ERROR\n" "$label" $ms $rc
	fi
}
for m in $modes; do
	run "stat --qmp ($m)" "$VS" stat --qmp "$TMP/$m.sock" --interval 100ms --count 1
	run "diagnose --qmp ($m)" "$VS" diagnose --qmp "$TMP/$m.sock" --duration 300ms --no-calibrate
	run "apply --dry-run iothread ($m)" "$VS" apply "$TMP/p.json" --qmp "$TMP/$m.sock" --dry-run
done
echo "qmp hostile peers: $ok of $cases cases returned with a clear error; slowest $worst ms"
[ "$ok" = "$cases" ]
