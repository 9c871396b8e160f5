#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Crash safety on the live host where it is writable: cpuidle-haltpoll
# parameters, a cpuidle state's disable flag, the timer slack and CPU
# affinity of a sleeping helper, and an IRQ's affinity. apply is SIGKILLed
# after each of its 9 writes, then rollback must restore every value
# exactly. Everything is put back at the end, whatever happens.
. "$(dirname "$0")/../lib.sh"
need_root
# Live tests of the tuning engine from every worktree on this machine share
# /run/virtsync/journal.json and the knobs: run them one at a time.
hold_tuning_lock
HP=/sys/module/haltpoll/parameters
[ -w $HP/guest_halt_poll_ns ] || skip "no cpuidle-haltpoll parameters (not a KVM guest)"
STATE=/sys/devices/system/cpu/cpu1/cpuidle/state1/disable
[ -w $STATE ] || skip "no cpu1 idle state 1"
need_clean_journal

# an IRQ whose affinity can be set (writing its own value back must work)
IRQ=
for d in /proc/irq/[0-9]*; do
	f=$d/smp_affinity_list
	[ -w "$f" ] && cat "$f" >"$f" 2>/dev/null && { IRQ=${d##*/}; break; }
done
[ -n "$IRQ" ] || skip "no IRQ with a settable affinity"
IRQ_TO=1
[ "$(cat /proc/irq/$IRQ/smp_affinity_list)" = 1 ] && IRQ_TO=0
FILES="/proc/irq/$IRQ/smp_affinity_list $HP/guest_halt_poll_ns $HP/guest_halt_poll_grow $HP/guest_halt_poll_grow_start
$HP/guest_halt_poll_shrink $HP/guest_halt_poll_allow_shrink $STATE"
sleep 600 &
SLEEPER=$!
FILES="$FILES /proc/$SLEEPER/timerslack_ns"
for f in $FILES; do cat "$f"; done >"$TMP/orig"
grep Cpus_allowed_list "/proc/$SLEEPER/status" >>"$TMP/orig"
restore() {
	local f i=1
	for f in $FILES; do
		[ -e "$f" ] && echo "$(sed -n "${i}p" "$TMP/orig")" >"$f"
		i=$((i + 1))
	done
	kill "$SLEEPER" 2>/dev/null
	"$VS" rollback >/dev/null 2>&1
	rm -rf "$TMP"
}
trap restore EXIT

cat >"$TMP/real.json" <<'EOT'
{ "format": "virtsync-profile", "version": 1, "name": "real",
  "description": "crash test on live sysfs",
  "steps": [
    { "knob": "irq.affinity", "target": { "irq": "${irq}" }, "value": "${irq_to}" },
    { "knob": "guest.halt_poll_ns", "value": 150000 },
    { "knob": "guest.halt_poll_grow", "value": 3 },
    { "knob": "guest.halt_poll_grow_start", "value": 40000 },
    { "knob": "guest.halt_poll_shrink", "value": 4 },
    { "knob": "guest.halt_poll_allow_shrink", "value": "N" },
    { "knob": "cpuidle.state_disable", "target": { "cpus": "1", "state": 1 }, "value": 1 },
    { "knob": "thread.timerslack_ns", "target": { "pid": "${pid}" }, "value": 7777 },
    { "knob": "thread.affinity", "target": { "pid": "${pid}" }, "value": "1" }
  ] }
EOT
check_restored() {
	for f in $FILES; do cat "$f"; done >"$TMP/now"
	grep Cpus_allowed_list "/proc/$SLEEPER/status" >>"$TMP/now"
	diff "$TMP/orig" "$TMP/now" || die "$1: live values differ from the originals"
}

expect_exit 0 "$VS" apply "$TMP/real.json" --pid "$SLEEPER" --set irq=$IRQ --set irq_to=$IRQ_TO
[ "$(cat $HP/guest_halt_poll_ns)" = 150000 ] || die "guest_halt_poll_ns not written"
[ "$(cat /proc/$SLEEPER/timerslack_ns)" = 7777 ] || die "timer slack not written"
grep -qP 'Cpus_allowed_list:\t1$' "/proc/$SLEEPER/status" || die "affinity not written"
expect_exit 0 "$VS" verify
expect_exit 0 "$VS" rollback
check_restored "apply + rollback"

need_faults
for k in 1 2 3 4 5 6 7 8 9; do
	VIRTSYNC_TEST_KILL_AFTER_WRITES=$k "$VSF" apply "$TMP/real.json" --pid "$SLEEPER" \
		--set irq=$IRQ --set irq_to=$IRQ_TO >/dev/null 2>&1
	rc=$?
	[ $rc = 137 ] || die "k=$k: apply exited $rc, not killed"
	expect_exit 0 "$VS" rollback
	grep -q "restored $k value" "$TMP/out" || { cat "$TMP/out"; die "k=$k: rollback did not restore $k values"; }
	check_restored "crash after write $k"
done
echo ok
