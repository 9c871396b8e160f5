#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# PM QoS through a holder process: apply starts `virtsync hold`, the
# journal notes its pid, verify sees it, rollback stops it. On a fixture
# tree (the "device" is a plain file that receives the s32) and then on the
# live /dev/cpu_dma_latency with a harmless 2000 s limit.
. "$(dirname "$0")/../lib.sh"
need_root
cp -a "$TOP/tests/fixtures/host1" "$TMP/root"
cat >"$TMP/qos.json" <<'EOT'
{ "format": "virtsync-profile", "version": 1, "name": "qos", "description": "hold",
  "steps": [ { "knob": "pmqos.cpu_dma_latency_us", "value": "${us}" } ] }
EOT
# gone, or a zombie that init has not reaped yet
wait_gone() {
	local i
	for i in $(seq 50); do
		[ -d "/proc/$1" ] || return 0
		[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ] && return 0
		sleep 0.05
	done
	return 1
}
holder_pid() { awk '{print $1}' "$1/run/virtsync/hold-cpu_dma_latency.pid"; }
cleanup() {
	[ -n "${HP:-}" ] && kill "$HP" 2>/dev/null
	[ -n "${HP2:-}" ] && kill "$HP2" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

expect_exit 0 "$VS" --root "$TMP/root" apply "$TMP/qos.json" --set us=20
HP=$(holder_pid "$TMP/root")
[ -d "/proc/$HP" ] || die "no holder process"
tr '\0' ' ' <"/proc/$HP/cmdline" | grep -q ' hold ' || die "pid $HP is not a holder"
[ "$(od -An -td4 "$TMP/root/dev/cpu_dma_latency" | tr -d ' ')" = 20 ] || die "holder did not write the s32 20"
grep -q "\"note\": \"holder pid $HP\"" "$TMP/root/run/virtsync/journal.json" || die "journal lacks the holder pid"
expect_exit 0 "$VS" --root "$TMP/root" verify
expect_exit 0 "$VS" --root "$TMP/root" rollback
wait_gone "$HP" || die "holder $HP still runs after rollback"
[ ! -e "$TMP/root/run/virtsync/hold-cpu_dma_latency.pid" ] || die "pidfile left behind"

# A rollback on a fixture tree that restores a held value starts a real
# holder that no later rollback stops (a holder of 20 us was there before
# the apply of 30 us): it must end when its tree does, not hold forever.
VIRTSYNC_ROOT=$TMP/root "$VS" hold --pidfile "$TMP/root/run/virtsync/hold-cpu_dma_latency.pid" \
	20us >/dev/null 2>&1 &
HP=$!
for i in $(seq 100); do [ -s "$TMP/root/run/virtsync/hold-cpu_dma_latency.pid" ] && break; sleep 0.05; done
expect_exit 0 "$VS" --root "$TMP/root" apply "$TMP/qos.json" --set us=30
expect_exit 0 "$VS" --root "$TMP/root" rollback
HP=$(holder_pid "$TMP/root")
[ -d "/proc/$HP" ] || die "rollback to 20 us started no holder"
[ "$(od -An -td4 "$TMP/root/dev/cpu_dma_latency" | tr -d ' ')" = 20 ] || die "rollback did not hold 20 us"
rm -rf "$TMP/root"
for i in $(seq 100); do wait_gone "$HP" && break; done
wait_gone "$HP" || die "the holder a --root rollback started outlived its tree"

# live device
# Live tests of the tuning engine from every worktree on this machine share
# /run/virtsync/journal.json and the knobs: run them one at a time.
hold_tuning_lock
need_clean_journal
expect_exit 0 "$VS" apply "$TMP/qos.json" --set us=2000000000
HP2=$(holder_pid "")
[ -d "/proc/$HP2" ] || die "no live holder"
grep -q /dev/cpu_dma_latency <(ls -l "/proc/$HP2/fd") || die "holder does not hold /dev/cpu_dma_latency"
expect_exit 0 "$VS" rollback
wait_gone "$HP2" || die "live holder still runs after rollback"
echo ok
