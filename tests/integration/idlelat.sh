#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# virtsync idlelat: a real run on the live cpuidle states; SIGKILL leaves the
# states changed and the next run (or --restore) puts them back; SIGINT and
# SIGTERM restore before exiting, printing the states measured so far
# (exit 130). Whatever happens, the machine ends with
# every disable flag at 0 and the governor it had.
. "$(dirname "$0")/../lib.sh"
need_root
[ "$(nproc)" -ge 2 ] || skip "needs two CPUs (target and IPI sender)"
cpu=$(($(nproc) - 1))
idle=/sys/devices/system/cpu/cpu$cpu/cpuidle
gov_file=/sys/devices/system/cpu/cpuidle/current_governor
[ -d "$idle/state0" ] || skip "CPU $cpu has no cpuidle states"
restore_file=/run/virtsync/idlelat-restore.json
gov0=$(cat "$gov_file")
for f in "$idle"/state*/disable; do
	[ "$(cat "$f")" = 0 ] || skip "$f is not 0 before the test"
done
[ ! -e "$restore_file" ] || "$VS" idlelat --restore

cleanup() {
	[ -n "${pid:-}" ] && kill -9 "$pid" 2>/dev/null
	"$VS" idlelat --restore >/dev/null 2>&1
	for f in /sys/devices/system/cpu/cpu*/cpuidle/state*/disable; do
		echo 0 >"$f"
	done
	echo "$gov0" >"$gov_file"
	rm -rf "$TMP"
}
trap cleanup EXIT

all_zero() { ! grep -q -v '^0$' "$idle"/state*/disable; }
# Wait until idlelat has changed a flag (the measurement is under way).
wait_changed() {
	local i
	for i in $(seq 1 200); do
		all_zero || return 0
		kill -0 "$pid" 2>/dev/null || die "idlelat exited early: $(cat "$TMP/bg.err")"
		sleep 0.02
	done
	die "idlelat changed no disable flag within 4 s"
}
start_long() { # extra args
	"$VS" idlelat --cpu "$cpu" --samples 1000000 --gap 100us "$@" \
		>"$TMP/bg.out" 2>"$TMP/bg.err" &
	pid=$!
	wait_changed
}

# Bad input: one line, exit 2, nothing changed.
expect_usage_error "--cpu 4096: no such online CPU" "$VS" idlelat --cpu 4096
expect_usage_error "--gap: 'soon' is not a time" "$VS" idlelat --gap soon
expect_usage_error "--gap: '1s5' is not a time" "$VS" idlelat --gap 1s5
expect_usage_error "--samples: '0' is out of range" "$VS" idlelat --samples 0
expect_usage_error "'nosuch' is not an available cpuidle governor" \
	"$VS" idlelat --governor nosuch
expect_usage_error "--waker-cpu $cpu: must differ" "$VS" idlelat --cpu "$cpu" --waker-cpu "$cpu"
expect_exit 1 "$VS" idlelat --cpu "$cpu" --state 15
grep -q "state 15: CPU $cpu has states 0-" "$TMP/err" || die "--state 15: $(cat "$TMP/err")"
all_zero || die "bad input changed a flag"

# A real run: one row per state, declared latency as sysfs says, every
# flag back to 0 and no restore file afterwards.
nstates=$(ls -d "$idle"/state* | wc -l)
expect_exit 0 "$VS" idlelat --cpu "$cpu" --samples 50 --gap 200us --json
cp "$TMP/out" "$TMP/run.json"
[ "$(json_get "$TMP/run.json" 'len(d["states"])')" = "$nstates" ] || die "state count"
for s in $(seq 0 $((nstates - 1))); do
	want=$(($(cat "$idle/state$s/latency") * 1000))
	got=$(json_get "$TMP/run.json" "d['states'][$s]['declared_latency_ns']")
	[ "$got" = "$want" ] || die "state$s declared latency $got, sysfs $want"
	n=$(json_get "$TMP/run.json" "d['states'][$s]['timer']['n']")
	[ "$n" = 50 ] || die "state$s: $n timer samples"
	n=$(json_get "$TMP/run.json" "d['states'][$s]['ipi']['n']")
	[ "$n" = 50 ] || die "state$s: $n IPI samples"
done
all_zero || die "flags not restored after a normal run"
[ ! -e "$restore_file" ] || die "restore file left after a normal run"

# Text: fits 80 columns, one row per state.
expect_exit 0 "$VS" idlelat --cpu "$cpu" --samples 20 --gap 200us
awk 'length($0) > 80 { print "too wide: " $0; bad = 1 } END { exit bad }' "$TMP/out" ||
	die "text wider than 80 columns"
[ "$(grep -c '^[0-9][0-9]* ' "$TMP/out")" = "$nstates" ] || { cat "$TMP/out"; die "rows"; }

# On a terminal, a progress line counts the states (shown after 2 s: state 1
# begins about 3 s in); none on stdout.
if command -v script >/dev/null && [ "$nstates" -ge 2 ]; then
	script -qec "$VS idlelat --cpu $cpu --samples 15000 --gap 100us >$TMP/tty.out" \
		"$TMP/tty.log" >/dev/null </dev/null || die "idlelat under script failed"
	grep -q "idlelat: states: [1-9][0-9]*/$nstates" "$TMP/tty.log" ||
		{ cat -v "$TMP/tty.log"; die "no progress line on a terminal"; }
	grep -q 'idlelat: states' "$TMP/tty.out" && die "progress leaked into stdout"
	all_zero || die "flags not restored after the terminal run"
fi

# With a governor that honours the flags, each measured state is the one
# entered and no disabled one is, unless the CPU was too busy to idle.
if grep -qw menu /sys/devices/system/cpu/cpuidle/available_governors; then
	expect_exit 0 "$VS" idlelat --cpu "$cpu" --samples 50 --gap 200us \
		--governor menu --json
	cp "$TMP/out" "$TMP/menu.json"
	[ "$(cat "$gov_file")" = "$gov0" ] || die "governor not restored"
	for s in $(seq 0 $((nstates - 1))); do
		json_get "$TMP/menu.json" "d['states'][$s]['idle_share']" |
			python3 -c 'import sys; sys.exit(0 if float(sys.stdin.read()) > 0.3 else 1)' ||
			{ echo "state$s: CPU $cpu too busy to idle, not checked"; continue; }
		[ "$(json_get "$TMP/menu.json" "d['states'][$s]['entered']")" = True ] ||
			die "state$s not entered under menu"
		[ "$(json_get "$TMP/menu.json" "d['states'][$s]['disabled_states_entered']")" = False ] ||
			die "state$s: disabled states entered under menu"
	done
fi

# SIGKILL: the flags stay changed, the restore file names them; --restore
# puts them back.
start_long
[ -s "$restore_file" ] || die "no restore file while states are changed"
json_get "$restore_file" 'd["pid"]' | grep -qx "$pid" || die "restore file pid"
expect_exit 1 "$VS" idlelat --cpu "$cpu" --samples 10
grep -q "another virtsync idlelat is running" "$TMP/err" || die "no lock: $(cat "$TMP/err")"
kill -9 "$pid"; wait "$pid" 2>/dev/null; pid=
all_zero && die "flags restored by a SIGKILLed run?"
expect_exit 0 "$VS" idlelat --restore
grep -q "restored $nstates cpuidle settings" "$TMP/err" || die "--restore: $(cat "$TMP/err")"
all_zero || die "--restore left flags changed"
[ ! -e "$restore_file" ] || die "restore file left after --restore"
expect_exit 0 "$VS" idlelat --restore
grep -q "nothing to restore" "$TMP/out" || die "second --restore"

# SIGKILL with --governor: the next measuring run replays first.
if grep -qw menu /sys/devices/system/cpu/cpuidle/available_governors &&
   [ "$gov0" != menu ]; then
	start_long --governor menu
	kill -9 "$pid"; wait "$pid" 2>/dev/null; pid=
	[ "$(cat "$gov_file")" = menu ] || die "governor not left changed by SIGKILL"
	expect_exit 0 "$VS" idlelat --cpu "$cpu" --samples 10 --gap 100us
	grep -q "restored $((nstates + 1)) cpuidle settings left by pid" "$TMP/err" ||
		die "next run did not replay: $(cat "$TMP/err")"
	[ "$(cat "$gov_file")" = "$gov0" ] || die "governor not restored by the next run"
	all_zero || die "next run left flags changed"
fi

# SIGINT and SIGTERM: restored before exit, status 130, one line; no
# state was done (a million samples), so no row.
for sig in INT TERM; do
	start_long
	kill -s "$sig" "$pid"
	rc=0; wait "$pid" || rc=$?; pid=
	[ "$rc" = 130 ] || die "SIG$sig: exit status $rc"
	grep -q "interrupted after 0 of $nstates states; cpuidle states restored" "$TMP/bg.err" ||
		die "SIG$sig: $(cat "$TMP/bg.err")"
	[ "$(grep -c '^[0-9][0-9]* ' "$TMP/bg.out")" = 0 ] || die "SIG$sig: rows of states not measured"
	all_zero || die "SIG$sig left flags changed"
	[ ! -e "$restore_file" ] || die "SIG$sig left the restore file"
done

# Ctrl-C while state 1 is measured (state 0 is disabled for it, and only
# then): state 0's row is printed (issue 13.11), text and JSON, and
# everything is restored. About 2 s per state.
if [ "$nstates" -ge 2 ]; then
	for mode in text json; do
		j=(); [ $mode = json ] && j=(--json)
		"$VS" "${j[@]}" idlelat --cpu "$cpu" --samples 10000 --gap 100us \
			>"$TMP/bg.out" 2>"$TMP/bg.err" &
		pid=$!
		for i in $(seq 1 1500); do
			[ "$(cat "$idle/state0/disable")" = 1 ] && break
			kill -0 "$pid" 2>/dev/null || die "$mode: idlelat exited early: $(cat "$TMP/bg.err")"
			sleep 0.02
		done
		[ "$(cat "$idle/state0/disable")" = 1 ] || die "$mode: state 1 not measured within 30 s"
		kill -INT "$pid"
		rc=0; wait "$pid" || rc=$?; pid=
		[ "$rc" = 130 ] || { cat "$TMP/bg.out" "$TMP/bg.err"; die "$mode: exit status $rc"; }
		grep -q "interrupted after 1 of $nstates states; cpuidle states restored" "$TMP/bg.err" ||
			die "$mode: $(cat "$TMP/bg.err")"
		if [ $mode = text ]; then
			[ "$(grep -c '^[0-9][0-9]* ' "$TMP/bg.out")" = 1 ] && grep -q '^0 ' "$TMP/bg.out" ||
				{ cat "$TMP/bg.out"; die "text: not state 0's row alone"; }
		else
			json_get "$TMP/bg.out" "d['interrupted'] is True and [s['index'] for s in d['states']] == [0] and d['states'][0]['timer']['n'] == 10000" |
				grep -qx True || die "json: partial document wrong: $(head -c 400 "$TMP/bg.out")"
		fi
		all_zero || die "$mode: Ctrl-C left flags changed"
		[ ! -e "$restore_file" ] || die "$mode: Ctrl-C left the restore file"
	done
fi
echo ok
