#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# diagnose's iothread advice on the real guest comes from the hybrid model:
# the plan of the virtio-blk queue predicts T and E with the "hybrid"
# mechanism for the window in force and for the advice. At QD1 the window
# is picked from the lengths of the iothread's waits (the probes'
# switch-out -> sched_waking histogram), and it is not a constant: a
# slower backend (null-co latency-ns 200 us against 0) makes those waits
# longer (their median, which the advice names), and the window then
# covers the backend's wait: more than 200 us, the one thing that turns
# that wait into a poll. The two picks are not compared with each other:
# each covers its own waits and, on a loaded machine, the QD1 waits' tail
# reaches the same log2 slot as the slow backend's. From one diagnose per
# guest.
. "$(dirname "$0")/../lib.sh"
need_root

advice() {	# advice LATENCY: boot, diagnose once at QEMU's default, stop; y_ns in $TMP/y-LATENCY
	start_guest --workload blk --qd 1 --latency "$1"
	python3 "$TOP/tests/guest/qmp.py" "$GUEST_QMP" set io1 32768 || die "qom-set io1"
	expect_exit 0 "$VS" diagnose --qmp "$GUEST_QMP" --duration 3s --json
	cp "$TMP/out" "$TMP/diag-$1.json"
	"$TOP/tests/guest/guest.sh" stop "$GUEST_DIR" >/dev/null 2>&1
	rm -rf "$GUEST_DIR"
	python3 - "$TMP/diag-$1.json" >"$TMP/y-$1" <<'PY' || die "latency $1: the advice is not the hybrid model's"
import json, math, re, sys
d = json.load(open(sys.argv[1]))
qs = [q for q in d["queues"] if q.get("device", {}).get("type") == "virtio-blk"
      and (q.get("verdict") or {}).get("regime")]
if not qs:
    sys.exit("no virtio-blk queue with a verdict")
r = qs[0]["recommendation"]
for k in ("current", "recommended"):
    p = r.get(k) or {}
    if p.get("mechanism") != "hybrid" or not (p.get("T_ns") or 0) > 0 or not (p.get("E_ns") or 0) > 0:
        sys.exit("%s: no hybrid T/E: %r (%s)" % (k, p, r.get("summary")))
acts = [a for a in r.get("actions", []) if a.get("knob") == "iothread.poll_max_ns"]
if acts and float(acts[0]["value"]) != round(r["y_ns"]):
    sys.exit("the action's value %s is not the pick %s" % (acts[0]["value"], r["y_ns"]))
if not acts and "is already right" not in r["summary"]:
    sys.exit("neither a window nor 'already right': %s" % r["summary"])
if acts and "waits by length" not in acts[0]["why"]:
    sys.exit("QD1, yet not picked from the waits' lengths: %s" % acts[0]["why"])
m = re.search(r"of p50 ([0-9.]+)(ns|us|ms|s)/p90", r["summary"])
if not m:
    sys.exit("the advice does not name the waits' median: %s" % r["summary"])
us = float(m.group(1)) * {"ns": 1e-3, "us": 1, "ms": 1e3, "s": 1e6}[m.group(2)]
print("%.0f %.0f" % (r["y_ns"], us))
PY
}
advice 0
advice 200us
read -r fast fast_p50 <"$TMP/y-0"
read -r slow slow_p50 <"$TMP/y-200us"
echo "picked poll-max-ns: $fast ns (latency-ns 0, waits' median $fast_p50 us), $slow ns (200 us, median $slow_p50 us)"
[ "$slow_p50" -gt "$fast_p50" ] || die "a slower backend did not lengthen the waits: median $fast_p50 us at 0, $slow_p50 us at 200 us"
[ "$slow" -gt 200000 ] || die "the window $slow ns does not cover the 200 us backend's wait"
echo ok
