#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The reference device's kvm backend on a real KVM VM: the guest kicks
# through ioeventfd, takes irqfd interrupts, halts; every item produced in
# the guest is consumed by vs-vhost and reported; sleep mode uses the
# TSC-deadline timer; --halt-poll reaches KVM; SIGINT ends a run cleanly.
. "$(dirname "$0")/../lib.sh"
need_root
need_kvm

# bench_json OUT ARGS...: run a kvm bench, JSON into OUT.
bench_json() {
	local out=$1
	shift
	expect_exit 0 "$VS" bench --backend kvm --json "$@"
	cp "$TMP/out" "$out"
}
# check FILE 'python expr' 'what': expr over d (the JSON) and k (kvm_stats).
check() {
	local v
	v=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); k=d["kvm_stats"]; print(bool(eval(sys.argv[2])))' "$1" "$2")
	[ "$v" = True ] || { cat "$1"; die "$3 ($2)"; }
}

# Notify on both sides, a small ring and an interrupt whenever one slot is
# free; C (Wc 150 us) is slower than the emulated guest's P (tens of us per
# item), so P fills the ring and halts: interrupts and HLTs happen. Whether C
# ever finds the ring empty (and P kicks) depends on how fast a halted vCPU
# wakes: with KVM's halt polling catching every interrupt it never did
# (fresh clone, 2026-12-03), so kicks are asked of the slow-producer run
# below. Pinned to different CPUs so wake-ups take microseconds, not the
# scheduler's milliseconds.
N=2000
pin=0,1
[ "$(nproc)" -ge 2 ] || pin=0,0
bench_json "$TMP/notify.json" --items $N --duration 60s --len 4 --kp 1 --kc 1 \
	--wp 0 --wc 150us --pin $pin
J=$TMP/notify.json
check $J "d['items'] == $N" "items consumed and reported != items produced"
check $J "'produced' not in d['note'] and 'out of order' not in d['note']" \
	"guest and host disagree on the items"
check $J "d['interrupts'] > 0" "no interrupts"
check $J "k['halt_exits'] > 0 and k['halt_wakeup'] > 0" "no halts in the KVM stats"
check $J "k['irq_injections'] > 0" "no injected interrupts in the KVM stats"
check $J "d['blocks_producer'] > 0" "P never blocked on a full ring"
check $J "0 < d['latency_ns']['p50'] <= d['latency_ns']['p99'] <= d['latency_ns']['max'] < d['elapsed_ns']" \
	"latency percentiles not sane"
check $J "d['measured']['wc'] >= 150000" "Wc shorter than asked"
check $J "d['measured']['wp'] > 0 and d['measured']['nc'] > 0" "Wp/Nc not measured"
check $J "d['throughput_ops'] > 0 and d['cpu']['producer'] > 0" "no rates"

# An asked Wp above the guest loop's own cost is what P achieves (the spin
# counts the loop's emulated instructions as part of Wp); real-time sides so
# that the other jobs of the machine do not stretch it. C (Wc 0) drains each
# item in microseconds and blocks, so P kicks.
bench_json "$TMP/wp.json" --items 200 --duration 60s --wp 200us --wc 0 \
	--kp 1 --kc 1 --pin $pin --rt
J=$TMP/wp.json
check $J "abs(d['measured']['wp'] - 200000) < 20000" "achieved Wp"
check $J "'Wp achieved' not in d['note']" "note about a Wp that was met"
check $J "d['items'] == 200 and 'produced' not in d['note']" "items lost with a slow P"
check $J "d['kicks'] > 0 and d['blocks_consumer'] > 0" "C never blocked and P never kicked"
check $J "d['measured']['np'] > 0" "Np not measured"
# Kicks are ioeventfd writes inside KVM: the guest never exits to us per kick.
check $J "k['io_exits'] < d['kicks']" "kicks went through userspace"

# --trace: P's events come from guest RAM, C's from vs-vhost, one time base.
# A slow C shows P waiting and C's interrupts, a slow P its kicks and C
# waiting.
trace_run() { # name items wp wc
	bench_json "$TMP/$1.json" --items "$2" --duration 60s --len 4 --kp 1 --kc 1 \
		--wp "$3" --wc "$4" --pin $pin --trace "$TMP/$1.txt"
	[ -s "$TMP/$1.txt" ] || die "no trace written"
	[ "$(grep -c ' P publish ' "$TMP/$1.txt")" = "$2" ] || die "$1: publish count"
	[ "$(grep -c ' C see ' "$TMP/$1.txt")" = "$2" ] || die "$1: see count"
	# Each item is seen after it was published (same TSC base on both sides).
	awk '$3 == "P" && $4 == "publish" { p[$5] = $1 }
	     $3 == "C" && $4 == "see" { if (!($5 in p) || $1 < p[$5]) bad++ }
	     END { exit bad > 0 }' "$TMP/$1.txt" ||
		die "$1: an item seen before it was published"
}
trace_run trace-slowc 300 0 150us
for ev in publish p_wait see intr; do
	grep -q " $ev " "$TMP/trace-slowc.txt" || die "slow-C trace lacks $ev events"
done
trace_run trace-slowp 100 200us 0
for ev in publish kick see c_wait; do
	grep -q " $ev " "$TMP/trace-slowp.txt" || die "slow-P trace lacks $ev events"
done

# P sleeps with the TSC-deadline timer when the ring is full, C is slow.
bench_json "$TMP/sleep.json" --p-mode sleep --c-mode poll --yp 100us --len 8 \
	--wp 0 --wc 50us --duration 1s --pin $pin
J=$TMP/sleep.json
check $J "d['sleeps_producer'] > 0" "P never slept"
check $J "d['measured']['yp'] >= 100000" "effective Yp shorter than asked"
check $J "d['interrupts'] == 0" "interrupts although P sleeps"
check $J "k['halt_exits'] > 0" "P slept without HLT"
check $J "d['items'] > 0 and 'produced' not in d['note']" "items lost in sleep mode"

# C sleeps, P polls.
bench_json "$TMP/csleep.json" --p-mode poll --c-mode sleep --yc 200us \
	--len 64 --wp 0 --wc 0 --duration 1s --pin $pin
J=$TMP/csleep.json
check $J "d['sleeps_consumer'] > 0 and d['measured']['yc'] >= 200000" "C did not sleep"
check $J "d['kicks'] == 0 and d['interrupts'] == 0" "notifications in sleep/poll mode"
check $J "d['items'] > 0 and 'produced' not in d['note']" "items lost"

# --halt-poll reaches this VM (KVM_CAP_HALT_POLL): off means KVM never
# polls; 2 ms lets it poll the short waits of the notify run.
for hp in 0 2ms; do
	bench_json "$TMP/hp$hp.json" --halt-poll $hp --duration 1s --len 4 \
		--kp 1 --kc 1 --wp 0 --wc 150us --pin $pin
done
check "$TMP/hp0.json" "k['halt_attempted_poll'] == 0 and k['halt_exits'] > 0" \
	"halt polling with --halt-poll 0"
check "$TMP/hp2ms.json" "k['halt_attempted_poll'] > 0" \
	"no halt polling with --halt-poll 2ms"

# SIGINT: results so far, exit 0, nothing left behind.
"$VS" bench --backend kvm --duration 60s --wp 0 --wc 0 >"$TMP/int.out" 2>&1 &
pid=$!
sleep 1.5
tasks=$(ls /proc/$pid/task | wc -l)
[ "$tasks" -ge 3 ] || die "expected main, vCPU and vs-vhost threads, saw $tasks"
grep -q vs-vhost /proc/$pid/task/*/comm || die "no vs-vhost thread"
[ -e /run/virtsync/pcdev-$pid.stats ] || die "no published counters"
grep -q '^backend kvm$' /run/virtsync/pcdev-$pid.stats || die "published backend"
vcpu=$(awk '$1 == "vcpu_tid" {print $2}' /run/virtsync/pcdev-$pid.stats)
[ -n "$vcpu" ] && [ "$vcpu" != 0 ] && [ -e /proc/$pid/task/$vcpu ] ||
	die "published vcpu_tid $vcpu is not a thread of $pid"
kill -INT $pid
for _ in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
kill -0 $pid 2>/dev/null && { kill -9 $pid; die "bench did not stop on SIGINT"; }
wait $pid || die "bench exited $? after SIGINT: $(cat "$TMP/int.out")"
grep -q '^items ' "$TMP/int.out" || die "no results after SIGINT: $(cat "$TMP/int.out")"
[ ! -e /run/virtsync/pcdev-$pid.stats ] || die "counters file left behind"

# No usable /dev/kvm: one line, exit 1 (a private mount namespace hides it).
if command -v unshare >/dev/null; then
	expect_exit 1 unshare -m sh -c "mount -t tmpfs none /dev && exec '$VS' bench --backend kvm --duration 1s"
	[ "$(wc -l <"$TMP/err")" -eq 1 ] || die "not one line: $(cat "$TMP/err")"
	grep -q '/dev/kvm' "$TMP/err" || die "error does not name /dev/kvm"
	[ ! -s "$TMP/out" ] || die "printed results without KVM"
fi
echo ok
