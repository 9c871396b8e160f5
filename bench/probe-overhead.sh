#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Overhead of virtsync's probes against perf on the same tracepoints.
#
#   bench/probe-overhead.sh [ROUNDS] [SECONDS]
#
# Drives the reference device's kvm backend at its highest kick rate
# (`virtsync bench --backend kvm --mode notify --wp 0 --wc 0`) alone, under
# `virtsync stat`, under `perf stat -e 'kvm:*' -a` and under
# `perf record -e 'kvm:*' -a`, ROUNDS times in interleaved order (the
# machine is shared: only ratios measured in the same round mean much),
# then the same for bench/kvm-kick's in-kernel ioeventfd kicks (about 1 M/s,
# a harder test of the per-kick cost). Last, the per-event cost of every
# probe: kernel.bpf_stats_enabled=1 and run_time_ns / run_cnt of each
# program while virtsync stat watches the device (restored afterwards).
# Needs root, /dev/kvm and perf (Debian: linux-perf). MODES and WORKLOADS
# (dev_rate, kick_rate; empty: only the cost pass) narrow the run, RT=1 runs
# the device SCHED_FIFO, e.g.
# MODES="alone stat".
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
VS=${VIRTSYNC_BIN:-$TOP/.output/virtsync}
KICK=$(dirname "$VS")/bench/kvm-kick
rounds=${1:-5}
secs=${2:-3}
TMP=$(mktemp -d /tmp/vs-overhead.XXXXXX)
observer=
old_stats=$(cat /proc/sys/kernel/bpf_stats_enabled)
cleanup() {
	[ -n "$observer" ] && kill -INT "$observer" 2>/dev/null && wait "$observer" 2>/dev/null
	echo "$old_stats" >/proc/sys/kernel/bpf_stats_enabled
	rm -rf "$TMP"
}
trap cleanup EXIT
[ "$(id -u)" = 0 ] || { echo "probe-overhead: needs root" >&2; exit 1; }
command -v perf >/dev/null || { echo "probe-overhead: needs perf (linux-perf)" >&2; exit 1; }

DEV="$VS bench --backend kvm --mode notify --wp 0 --wc 0 --duration ${secs}s --json"
# RT=1: the device's threads run SCHED_FIFO (bench --rt), out of reach of
# the other jobs on a shared machine
[ "${RT:-0}" = 1 ] && DEV="$DEV --rt"
# STAT_ARGS: extra options for virtsync stat, e.g. "--probes kvm"
STAT_ARGS=${STAT_ARGS:-}
# One run: kicks per wall second, and kicks per CPU second of the VM's
# threads. On a shared machine the first swings with the neighbours' load;
# the second charges the workload only for its own CPU time, where the
# probes (and perf's in-kernel work) run: it is the rate the VM would reach
# with CPUs of its own.
dev_rate() {
	$DEV 2>/dev/null | python3 -c 'import json,sys
b = json.load(sys.stdin); cpu = b["E_ns"] * b["items"] / 1e9
print(b["kicks"] / (b["elapsed_ns"] / 1e9), b["kicks"] / cpu)'
}
kick_rate() {
	"$KICK" --kicks $((secs * 150000)) --ioeventfd | awk '
		$1 == "kicks" {k = $2} $1 == "seconds" {s = $2}
		$1 == "cpu_seconds" {c = $2} END {print k / s, k / c}'
}

# start_observer MODE: leave the observer attached in the background
start_observer() {
	case $1 in
	alone|alone2) observer= ; return ;;	# alone2: order and drift check
	stat) "$VS" stat --interval 1s $STAT_ARGS >"$TMP/obs.out" 2>&1 &
	      observer=$!
	      for _ in $(seq 100); do
		      grep -q '^sources:' "$TMP/obs.out" 2>/dev/null && break
		      sleep 0.05
	      done ;;
	perf-stat) perf stat -e 'kvm:*' -a -o "$TMP/perf-stat.txt" >/dev/null 2>&1 &
	      observer=$!; sleep 1.5 ;;
	perf-record) perf record -q -e 'kvm:*' -a -o "$TMP/perf.data" >/dev/null 2>&1 &
	      observer=$!; sleep 1.5 ;;
	esac
}
stop_observer() {
	[ -n "$observer" ] || return 0
	kill -INT "$observer" 2>/dev/null
	wait "$observer" 2>/dev/null
	observer=
	rm -f "$TMP/perf.data"
}

modes=${MODES:-alone stat perf-stat perf-record alone2}
for workload in ${WORKLOADS-dev_rate kick_rate}; do
	: >"$TMP/$workload"
	for r in $(seq "$rounds"); do
		for m in $modes; do
			start_observer "$m"
			echo "$m $($workload)" >>"$TMP/$workload"
			stop_observer
		done
	done
done

python3 - "$TMP" "$rounds" "$secs" <<'PY'
import os, statistics, sys
tmp, rounds, secs = sys.argv[1], sys.argv[2], sys.argv[3]
names = {"dev_rate": "virtsync bench --backend kvm --mode notify --wp 0 --wc 0"
                     + (" --rt" if os.environ.get("RT") == "1" else ""),
         "kick_rate": "bench/kvm-kick --ioeventfd (in-kernel kicks)"}
for w, title in names.items():
    if not os.path.exists(f"{tmp}/{w}"):
        continue
    runs = {}
    for line in open(f"{tmp}/{w}"):
        m, wall, cpu = line.split()
        runs.setdefault(m, []).append((float(wall), float(cpu)))
    alone = runs["alone"]
    # With alone2 at the end of each round, the reference is the mean of
    # the two unobserved runs that bracket the observed ones: a drift of
    # the machine within a round cancels to first order.
    if "alone2" in runs:
        ref = [((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
               for a, b in zip(alone, runs["alone2"])]
        refname = "bracket"
    else:
        ref, refname = alone, "alone"
    for i, what in ((0, "kicks per wall second"), (1, "kicks per CPU second")):
        print(f"\n{title}: {rounds} rounds, {what}")
        print(f"{'observer':12} {'median':>10} {'vs ' + refname:>11}  "
              f"per-round ratio to {refname}")
        for m, vals in runs.items():
            # each run against the reference of the same round
            ratios = [v[i] / a[i] for v, a in zip(vals, ref)]
            print(f"{m:12} {statistics.median(v[i] for v in vals):10.0f} "
                  f"{100 * (statistics.median(ratios) - 1):+10.1f}%  "
                  + " ".join(f"{r:.3f}" for r in ratios))
        if refname == "bracket":
            print(f"{'(noise)':12} {'':10} alone2/alone per round: "
                  + " ".join(f"{b[i] / a[i]:.3f}" for a, b in zip(alone, runs["alone2"])))
PY

# Per-event cost of each probe, from the kernel's own program statistics,
# and the CPU time all probes took while each workload ran, against the
# workload's own CPU time: an estimate of the slowdown that the noise of
# this machine does not blur (an upper bound for what runs in the VM's
# threads: sched_switch/sched_wakeup also run for every other process; a
# lower one for the tracepoint dispatch, which run_time_ns does not see).
progs_json() { bpftool -j prog show >"$TMP/$1.json"; }
echo 1 >/proc/sys/kernel/bpf_stats_enabled
"$VS" stat --interval 1s $STAT_ARGS >"$TMP/obs.out" 2>&1 &
observer=$!
for _ in $(seq 100); do grep -q '^sources:' "$TMP/obs.out" && break; sleep 0.05; done
# only this observer's programs: another virtsync may be running
grep -h '^prog_id:' /proc/$observer/fdinfo/* 2>/dev/null | awk '{print $2}' >"$TMP/ids"
progs_json p0
$DEV >"$TMP/dev.json" 2>/dev/null
progs_json p1
"$KICK" --kicks 1000000 --ioeventfd --halts 2000 --irqfd >"$TMP/kick.txt"
progs_json p2
stop_observer
echo "$old_stats" >/proc/sys/kernel/bpf_stats_enabled
python3 - "$TMP" <<'PY'
import json, sys
tmp = sys.argv[1]
ids = {int(l) for l in open(f"{tmp}/ids") if l.strip()}
def load(n):
    return {p["id"]: p for p in json.load(open(f"{tmp}/{n}.json"))
            if p["id"] in ids}
p0, p1, p2 = load("p0"), load("p1"), load("p2")
def spent(a, b):
    return sum(b[i].get("run_time_ns", 0) - a[i].get("run_time_ns", 0) for i in b if i in a)
print("\nper-event cost (kernel.bpf_stats_enabled, run_time_ns / run_cnt)")
print(f"{'program':16} {'events':>10} {'ns/event':>9}")
for p in sorted(p2.values(), key=lambda p: p["name"]):
    n = p.get("run_cnt", 0)
    if n:
        print(f"{p['name']:16} {n:10} {p.get('run_time_ns', 0) / n:9.0f}")
dev = json.load(open(f"{tmp}/dev.json"))
dev_cpu = dev["E_ns"] * dev["items"]
kick = dict(l.split() for l in open(f"{tmp}/kick.txt"))
kick_cpu = float(kick["cpu_seconds"]) * 1e9
print("\nprobe CPU time while each workload ran (this stat's programs, host-wide)")
for name, a, b, cpu in (("device (bench --backend kvm)", p0, p1, dev_cpu),
                        ("kvm-kick --ioeventfd", p1, p2, kick_cpu)):
    ns = spent(a, b)
    print(f"{name:30} {ns / 1e6:8.1f} ms = {100 * ns / cpu:5.2f} % of its {cpu / 1e9:.2f} CPU-s")
PY
