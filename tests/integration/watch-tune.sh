#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `virtsync watch --tune` on the reference device (fc-tune preset: a fast
# consumer that blocks for a kick after almost every item, so diagnose
# recommends that it sleep instead):
#  1. the bad regime is fixed and kept (the device's consumer_sleep_ns in
#     its control file is what watch applied, the journal holds it);
#  2. a knob changed behind watch's back (the control file rewritten, as
#     another tool would) is logged and left alone: --rollback-on-exit on
#     SIGTERM does not restore it;
#  3. a change that does not bring the gain asked for (--min-gain 400: 5x)
#     is rolled back, exactly;
#  4. SIGKILL during a flood of scrapes with a change kept, and
#  5. SIGKILL right after the first knob write of a tune step (the apply
#     engine's test hook): `virtsync rollback` restores the knob exactly.
# After each run no vs_ BPF program is left.
. "$(dirname "$0")/../lib.sh"
need_root
need_kvm
hold_tuning_lock
need_clean_journal
at_exit '"$VS" rollback >/dev/null 2>&1'

# start_device: the device in the background, BENCH its pid
start_device() {
	"$VS" bench --preset fc-tune --backend kvm --duration 120s >/dev/null 2>"$TMP/bench.err" &
	BENCH=$!
	at_exit "kill $BENCH 2>/dev/null; wait $BENCH 2>/dev/null"
	CTL=/run/virtsync/pcdev-$BENCH.ctl
	for i in $(seq 100); do [ -r "$CTL" ] && break; sleep 0.05; done
	[ -r "$CTL" ] || die "the device has no control file: $(cat "$TMP/bench.err")"
}
stop_device() {
	kill "$BENCH" 2>/dev/null
	wait "$BENCH" 2>/dev/null
}
ctl_get() { sed -n "s/^$1=//p" "$CTL"; }
# wait_event NAME [SECONDS]: until watch's JSON lines hold an event NAME
wait_event() {
	local i
	for i in $(seq $((${2:-30} * 10))); do
		grep -q "\"event\": *\"$1\"" "$TMP/watch.out" && return 0
		kill -0 "$WATCH_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$TMP/watch.err"
	die "no '$1' event from watch"
}
TUNE="--interval 1s --dmax 250us --tune --tune-after 2 --tune-confirm 3 --knob-interval 1h --json"

# 1 and 2
start_device
sleep0=$(ctl_get consumer_sleep_ns)
start_watch --pid "$BENCH" $TUNE --rollback-on-exit
wait_event applied
wait_event kept 20
grep '^kept:' "$TMP/watch.err"
now=$(ctl_get consumer_sleep_ns)
[ "$now" != "$sleep0" ] || die "kept, but consumer_sleep_ns is still $sleep0"
"$VS" verify 2>&1 | grep -q "pcdev.consumer_sleep_ns" || die "the journal does not hold the change"
# someone else sets the knob
python3 - "$CTL" <<'PY'
import os, sys
path = sys.argv[1]
text = "".join(l if not l.startswith("consumer_sleep_ns=") else "consumer_sleep_ns=77000\n"
               for l in open(path))
open(path + ".other", "w").write(text)
os.rename(path + ".other", path)
PY
wait_event changed-elsewhere 10
grep '^changed-elsewhere:' "$TMP/watch.err"
held=$(vs_bpf_held "$WATCH_PID")
kill -TERM "$WATCH_PID"
wait "$WATCH_PID" || die "watch exited $? on SIGTERM: $(tail -3 "$TMP/watch.err")"
[ "$(ctl_get consumer_sleep_ns)" = 77000 ] || die "watch overwrote the knob someone else set"
grep -q 'left in place: someone else' "$TMP/watch.err" || die "exit did not say why it left the knob"
bpf_gone "$held" "after SIGTERM"
"$VS" rollback >/dev/null 2>&1 || die "rollback failed"
stop_device

# 3: no change is worth 5x here
start_device
sleep0=$(ctl_get consumer_sleep_ns)
start_watch --pid "$BENCH" $TUNE --min-gain 400
wait_event applied
wait_event rolled-back 20
grep '^rolled-back:' "$TMP/watch.err"
[ "$(ctl_get consumer_sleep_ns)" = "$sleep0" ] || die "not restored: $(ctl_get consumer_sleep_ns), was $sleep0"
"$VS" verify 2>&1 | grep -q '^nothing applied' || die "the journal keeps the rolled-back change"
kill -TERM "$WATCH_PID"
wait "$WATCH_PID" || die "watch exited $? on SIGTERM"
stop_device

# 4: SIGKILL during scrapes, with a change kept: the journal restores it
start_device
sleep0=$(ctl_get consumer_sleep_ns)
start_watch --pid "$BENCH" $TUNE
wait_event kept 30
python3 - "$WATCH_URL" <<'PY' &
import sys, urllib.request
for i in range(2000):
    try:
        urllib.request.urlopen(sys.argv[1], timeout=2).read()
    except OSError:
        break
PY
SCRAPES=$!
sleep 0.5
held=$(vs_bpf_held "$WATCH_PID")
kill -KILL "$WATCH_PID"
wait "$WATCH_PID"
wait "$SCRAPES"
bpf_gone "$held" "after SIGKILL"
"$VS" rollback >"$TMP/rb" 2>&1 || die "rollback after SIGKILL: $(cat "$TMP/rb")"
[ "$(ctl_get consumer_sleep_ns)" = "$sleep0" ] || die "rollback restored $(ctl_get consumer_sleep_ns), not $sleep0"
stop_device

# 5: SIGKILL in the middle of a tune step
start_device
sleep0=$(ctl_get consumer_sleep_ns)
need_faults
VIRTSYNC_TEST_KILL_AFTER_WRITES=1 "$VSF" watch --listen 127.0.0.1:0 --pid "$BENCH" $TUNE \
	>"$TMP/killed.out" 2>"$TMP/killed.err" &
KILLED=$!
at_exit "kill -9 $KILLED 2>/dev/null"
held=
for i in $(seq 300); do
	kill -0 "$KILLED" 2>/dev/null || break
	held=$(printf '%s\n' $held $(vs_bpf_held "$KILLED") | sort -u)
	sleep 0.1
done
wait "$KILLED"
rc=$?
[ "$rc" = 137 ] || die "watch was not killed by the hook (status $rc): $(tail -3 "$TMP/killed.err")"
[ "$(ctl_get consumer_sleep_ns)" != "$sleep0" ] || die "the hook fired before the write"
bpf_gone "$held" "after the hook's SIGKILL"
"$VS" rollback >"$TMP/rb" 2>&1 || die "rollback after SIGKILL: $(cat "$TMP/rb")"
[ "$(ctl_get consumer_sleep_ns)" = "$sleep0" ] || die "rollback restored $(ctl_get consumer_sleep_ns), not $sleep0"
"$VS" verify 2>&1 | grep -q '^nothing applied' || die "journal not clean after rollback"
stop_device
echo ok
