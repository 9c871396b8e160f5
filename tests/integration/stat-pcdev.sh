#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The kick and interrupt rates `virtsync stat` reports for the reference
# device's kvm backend match the device's own counters within 2 %. stat
# runs the device as `-- CMD`, so its one interval covers the device's whole
# life and rate x interval is a count comparable with the device's totals.
# The device kicks through KVM_IOEVENTFD (kvm_pio, no userspace exit) and
# interrupts through an irqfd routed as an MSI (kvm_msi_set_irq). The
# device also raises one stop interrupt it does not count as a notification:
# stat's count is compared with the device's plus that one. A loaded
# machine gave 92 interrupts in 2 s (stat 93), and another 557 kicks (stat
# 559) where a floor of 1000 kicks failed the run: how many events there
# are is the machine's speed, not stat's accuracy. A floor of 20 events
# of each only says the device ran; within 2 %, or 2 events where there
# are few, the counts are the same.
. "$(dirname "$0")/../lib.sh"
need_root
need_kvm

"$VS" stat --json -- "$VS" bench --backend kvm --duration 2s --json \
	--mode notify --wp 0 --wc 50us --len 2 --kc 1 >"$TMP/all" 2>"$TMP/err" ||
	{ cat "$TMP/err"; die "stat -- bench failed"; }
python3 - "$TMP/all" "$TMP/err" <<'PY' || die "rates differ from the device's counters"
import json, sys
# stat's JSON on stdout, the command's (bench --json) on stderr
docs = [json.loads(l) for f in sys.argv[1:] for l in open(f) if l.startswith("{")]
st = [d for d in docs if d.get("command") == "stat"]
dev = [d for d in docs if d.get("command") == "bench"]
assert len(st) == 1 and len(dev) == 1, (len(st), len(dev))
st, dev = st[0], dev[0]
row = [v for v in st["vms"] if v["pid"] == st["command_pid"]]
assert len(row) == 1, "no row for the device's VM"
row = row[0]
secs = st["interval_s"]
kicks = row["rates"]["kicks"] * secs
irqs = row["rates"]["interrupts"] * secs
ok = True
for name, seen, truth, floor in (("kicks", kicks, dev["kicks"], 20),
                                 ("interrupts", irqs, dev["interrupts"] + 1, 20)):
    err = abs(seen - truth) / truth if truth else float("inf")
    print(f"{name:10} stat {seen:10.0f} ({seen / secs:8.0f}/s)  device {truth:8}  "
          f"error {100 * err:.2f} %")
    # too few events make the comparison meaningless: a setup failure
    if truth < floor or abs(seen - truth) > max(0.02 * truth, 2):
        ok = False
sys.exit(0 if ok else 1)
PY

# the text view, with threads (-t) and wakers (-w), fits 80 columns
expect_exit 0 "$VS" stat -t -w --interval 500ms --count 1 -- "$VS" bench --duration 1s
grep -q '^PID ' "$TMP/out" && grep -q '^WAKER ' "$TMP/out" || die "text view: $(cat "$TMP/out")"
awk 'length > 80 { print; bad = 1 } END { exit bad }' "$TMP/out" || die "text wider than 80 columns"
echo ok
