#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Issue 6's figure: `virtsync tune --auto` on the reference device (fc-tune
# preset, SCHED_FIFO) against the default notification setting. Prints the
# throughput ratio, CPU per item and p98 of each run, and how many runs
# reached the 1.5x goal. As root; restores everything (tune undoes its
# change when it stops the device).
# Usage: [BACKEND=kvm|thread] bench/tune-gain.sh [RUNS]
# BACKEND kvm (default) puts the producer in a guest, every kick a VM exit
# as in the paper's Sec. 8.1; thread kicks through an eventfd between two
# host threads, which is cheap on a quiet machine.
set -u
VS=${VIRTSYNC_BIN:-$(dirname "$0")/../.output/virtsync}
runs=${1:-5}
backend=${BACKEND:-kvm}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
hit=0
for i in $(seq "$runs"); do
	"$VS" tune --auto --workload fc-tune --backend "$backend" --rt --save "$tmp/t.json" >/dev/null 2>&1 ||
		{ echo "run $i: tune failed"; continue; }
	python3 - "$tmp/t.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
b, a = d["before"], d["after"]
if not a:
    print("no change applied: %s" % d["decision"]["why"]); sys.exit(1)
r = a["throughput_ops"] / b["throughput_ops"]
print("%.2fx  %.3f -> %.3f M items/s  CPU %.0f -> %.0f ns/item  p98 %.0f -> %.0f us  %s"
      % (r, b["throughput_ops"] / 1e6, a["throughput_ops"] / 1e6, b["cpu_ns_per_item"],
         a["cpu_ns_per_item"], b["p98_ns"] / 1e3, a["p98_ns"] / 1e3,
         "kept" if d["decision"]["kept"] else "rolled back"))
sys.exit(0 if r >= 1.5 and a["cpu_ns_per_item"] < b["cpu_ns_per_item"] and a["p98_ns"] <= d["dmax_ns"] else 1)
PY
	[ $? -eq 0 ] && hit=$((hit + 1))
done
echo "$backend backend: $hit of $runs runs reached 1.5x with less CPU per item and p98 within Dmax (load: $(cut -d' ' -f1-3 /proc/loadavg))"
