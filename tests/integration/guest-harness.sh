#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The test guest itself: a stock Debian kernel with busybox and vsload boots
# under QEMU (TCG here) within the test's budget, sends its packet stream
# over virtio-net to QEMU's socket netdev on 127.0.0.1, and reports its own
# rate once a second. The far end, read by this test, must receive what the
# guest says it sent; stopping leaves no QEMU and no far end behind.
. "$(dirname "$0")/../lib.sh"
G=$TOP/tests/guest/guest.sh
expect_usage_error "unknown workload 'disk'" "$G" start "$TMP/x" --workload disk
expect_usage_error "bad --latency" "$G" start "$TMP/x" --latency 5parsecs
expect_usage_error "bad --poll-max" "$G" start "$TMP/x" --poll-max 20000
[ ! -e "$TMP/x/qemu.pid" ] || die "a bad option started something"

t0=$SECONDS
start_guest --workload net --rate 800 --size 256
[ $((SECONDS - t0)) -lt 30 ] || die "the guest took $((SECONDS - t0)) s to report"
[ "$GUEST_ACCEL" = tcg ] || [ "$GUEST_ACCEL" = kvm ] || die "accel '$GUEST_ACCEL'"
kill -0 "$GUEST_PID" || die "no QEMU at pid $GUEST_PID"
grep -q "vsguest: up 6\|vsguest: up [0-9]" "$GUEST_CONSOLE" || die "no boot line"
guest_reports 4 >"$TMP/rep"
[ "$(wc -l <"$TMP/rep")" = 4 ] || die "the guest reported $(wc -l <"$TMP/rep") lines in time"
# the paced stream: the guest's own figure, and what reached the far end
guest_rate=$(awk '{ split($5, kv, "="); s += kv[2] } END { printf "%.0f", s / NR }' "$TMP/rep")
far_rate=$(grep FAREND "$GUEST_DIR/farend.log" | tail -4 |
	awk '{ split($3, kv, "="); s += kv[2] } END { printf "%.0f", s / NR }')
awk -v g="$guest_rate" 'BEGIN { exit !(g > 600 && g < 1000) }' ||
	die "guest sent $guest_rate frames/s, asked for 800: $(cat "$TMP/rep")"
awk -v g="$guest_rate" -v f="$far_rate" 'BEGIN { exit !(f > 0.9 * g && f < 1.1 * g) }' ||
	die "far end received $far_rate frames/s, guest sent $guest_rate"

alive() { [ -r "/proc/$1/stat" ] && ! awk '{ exit $3 != "Z" }' "/proc/$1/stat"; }
qpid=$GUEST_PID fpid=$(cat "$GUEST_DIR/farend.pid")
"$G" stop "$GUEST_DIR"
! alive "$qpid" || die "QEMU $qpid still running after stop"
! alive "$fpid" || die "far end $fpid still running after stop"

# run: start, reports on stdout, everything stopped at the end
VS_OUTPUT=$(dirname "$VS") expect_exit 0 "$G" run --workload blk --qd 2 --duration 2s
grep -q '^VSLOAD t=1 mode=blk .* qd=2$' "$TMP/out" || { cat "$TMP/out"; die "run printed no report"; }
! pgrep -f "$(sed -n 's/^# console=//p' "$TMP/out" | xargs dirname)/" >/dev/null ||
	die "run left a process behind"
echo ok
