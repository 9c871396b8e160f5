#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# QMP peers that misbehave (tests/qmp-peer.py): one that drips its greeting
# one byte a second, one that sends events forever instead of a reply, one
# that floods events before its greeting, one that never speaks. Each QMP
# exchange has a total deadline (5 s in stat and diagnose, 3 s in the knob),
# and a session that missed one is over (a late reply is never taken for the
# next command's), so stat --qmp, diagnose --qmp, tune --qmp, apply and
# rollback must come back with an error naming the socket; the bound asserted here (60 s) is only there so
# that a hang fails the test instead of blocking the suite. rollback must
# restore the other entries, keep the unreachable one (not restored, its
# target named) and release /run/virtsync/lock.
. "$(dirname "$0")/../lib.sh"
need_root

PEER=$TOP/tests/qmp-peer.py
start_peer() { # MODE: a peer at $TMP/MODE.sock
	python3 "$PEER" "$TMP/$1.sock" "$1" "$TMP/$1.pid" &
	at_exit "kill $! 2>/dev/null"
	for _ in $(seq 100); do [ -S "$TMP/$1.sock" ] && [ -s "$TMP/$1.pid" ] && return; sleep 0.1; done
	die "peer $1 did not start"
}
# bounded RC CMD...: like expect_exit, but a run still going after 60 s
# is a hang (timeout's status 124), never a pass
bounded() {
	local want=$1
	shift
	timeout -s KILL 60 "$@" >"$TMP/out" 2>"$TMP/err"
	local rc=$?
	[ "$rc" != 137 ] || die "'$*' hung (killed after 60 s): $(cat "$TMP/err")"
	if [ "$rc" != "$want" ]; then
		cat "$TMP/out" "$TMP/err"
		die "'$*': exit $rc, expected $want"
	fi
}

for m in drip events flood silent stall garbage good; do start_peer $m; done

# stat --qmp: the open (greeting + capabilities) is one exchange
for m in drip silent stall; do
	bounded 1 "$VS" stat --qmp "$TMP/$m.sock" --interval 100ms --count 1
	grep -q -- "--qmp $TMP/$m.sock: .*deadline" "$TMP/err" ||
		{ cat "$TMP/err"; die "stat --qmp $m: no deadline error naming the socket"; }
done
# an event where the greeting belongs, or a line that is not JSON
for m in flood garbage; do
	bounded 1 "$VS" stat --qmp "$TMP/$m.sock" --count 1
	grep -q "not a QMP" "$TMP/err" || { cat "$TMP/err"; die "stat --qmp $m: not said"; }
done
# events forever after a command: bounded by count, not only by time
bounded 1 "$VS" stat --qmp "$TMP/events.sock" --interval 100ms --count 1
grep -q "more than 256 QMP events" "$TMP/err" || { cat "$TMP/err"; die "stat --qmp events: $(cat "$TMP/err")"; }

# one line on stderr, naming the socket and what the peer did
one_line() { # LABEL PATTERN
	[ "$(grep -c . "$TMP/err")" = 1 ] || { cat "$TMP/err"; die "$1: not one line on stderr"; }
	grep -q -- "$2" "$TMP/err" || { cat "$TMP/err"; die "$1: error does not say what"; }
}

# diagnose --qmp: a peer that cannot even be opened is the target's error;
# so is one that floods events after the open (the peer holds a real KVM VM
# fd, as QEMU does): the operator asked for QEMU's thread map and
# statistics, and a verdict without them must not pass for one with them
# (exit 1, no verdict on stdout, the way to go without QMP named)
for m in drip stall; do
	bounded 1 "$VS" diagnose --qmp "$TMP/$m.sock" --duration 300ms --no-calibrate
	one_line "diagnose --qmp $m" "$m.sock.*deadline"
done
if [ -w /dev/kvm ]; then
	for j in "" --json; do
		bounded 1 "$VS" diagnose --qmp "$TMP/events.sock" --duration 300ms --no-calibrate $j
		one_line "diagnose --qmp events $j" \
			"--qmp $TMP/events.sock: more than 256 QMP events and no reply.*--pid $(cat "$TMP/events.pid")"
		[ ! -s "$TMP/out" ] || { cat "$TMP/out"; die "diagnose --qmp events $j: a verdict printed"; }
	done
fi

# tune --qmp: the same peers, before anything is applied
for m in events flood; do
	bounded 1 "$VS" tune --auto --qmp "$TMP/$m.sock" --objective "echo 1" --repeats 1
	one_line "tune --qmp $m" "$m.sock.*\(QMP events\|not a QMP\)"
done

# apply and rollback on a --root tree (the host's journal is not touched)
rm -rf "$TMP/root"
cp -a "$TOP/tests/fixtures/host1" "$TMP/root"
VSR=("$VS" --root "$TMP/root")
cat >"$TMP/p.json" <<'EOF'
{ "format": "virtsync-profile", "version": 1, "name": "iothread-poll",
  "description": "an iothread and a global knob",
  "steps": [
    { "knob": "guest.halt_poll_ns", "value": 200000 },
    { "knob": "iothread.poll_max_ns", "target": { "qmp": "${qmp}", "iothread": "io0" },
      "value": 777 } ] }
EOF
for m in drip events; do
	bounded 1 "${VSR[@]}" apply "$TMP/p.json" --qmp "$TMP/$m.sock"
	grep -q "$m.sock" "$TMP/err" || { cat "$TMP/err"; die "apply --qmp $m: socket not named"; }
	[ ! -s "$TMP/root/run/virtsync/journal.json" ] ||
		! grep -q '"done"' "$TMP/root/run/virtsync/journal.json" || die "apply $m changed something"
done
[ "$(cat "$TMP/root/sys/module/haltpoll/parameters/guest_halt_poll_ns")" = 0 ] ||
	die "a refused apply wrote guest_halt_poll_ns"

# apply on the good peer, then that peer turns into one that drips: the
# journal's target is the socket path, so move a drip peer onto it
bounded 0 "${VSR[@]}" apply "$TMP/p.json" --qmp "$TMP/good.sock"
[ "$(cat "$TMP/root/sys/module/haltpoll/parameters/guest_halt_poll_ns")" = 200000 ] || die "apply good"
kill "$(cat "$TMP/good.pid")"
rm -f "$TMP/good.sock" "$TMP/good.pid"
python3 "$PEER" "$TMP/good.sock" drip "$TMP/good.pid" &
at_exit "kill $! 2>/dev/null"
for _ in $(seq 100); do [ -s "$TMP/good.pid" ] && break; sleep 0.1; done
rm -f "$TMP/good.sock.conns"
bounded 1 "${VSR[@]}" rollback
grep -q "$TMP/good.sock#io0" "$TMP/err" || { cat "$TMP/out" "$TMP/err"; die "rollback: QMP target not named"; }
[ "$(cat "$TMP/root/sys/module/haltpoll/parameters/guest_halt_poll_ns")" = 0 ] ||
	die "rollback did not go on with the other entry"
python3 - "$TMP/root/run/virtsync/journal.json" "$TMP/good.sock#io0" <<'PY' || die "journal after rollback"
import json, sys
d = json.load(open(sys.argv[1]))
st = {(e["knob"], e["target"]): e for e in d["entries"]}
q = st[("iothread.poll_max_ns", sys.argv[2])]
assert q["status"] == "done", q                       # still to restore
assert "not restored" in q["note"], q
assert st[("guest.halt_poll_ns", "")]["status"] == "restored"
PY
# a peer that missed its deadline is asked once, not again for the read
# and the write: each would hold the lock as long again
[ "$(wc -l <"$TMP/good.sock.conns")" = 1 ] ||
	die "rollback asked the stuck peer $(wc -l <"$TMP/good.sock.conns") times, not once"
# the lock was released: another locking command runs at once
bounded 1 "${VSR[@]}" rollback
grep -q "$TMP/good.sock#io0" "$TMP/err" || die "second rollback: target not named"
exit 0
