#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# diagnose's iothread advice on the real guest comes from the hybrid model:
# the plan of the virtio-blk queue predicts T and E with the "hybrid"
# mechanism for the window in force and for the advice, and the window it
# picks (y_ns) is not a constant: a slower backend (null-co latency-ns
# 200 us against 0) makes the iothread's waits longer, and the model then
# needs a longer window to cover them. Direction only, from one diagnose
# per guest.
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
import json, math, sys
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
print("%.0f" % r["y_ns"])
PY
}
advice 0
advice 200us
fast=$(cat "$TMP/y-0") slow=$(cat "$TMP/y-200us")
echo "picked poll-max-ns: $fast ns (latency-ns 0), $slow ns (200 us)"
[ "$slow" -gt "$fast" ] || die "a slower backend did not give a longer window: $fast ns at 0, $slow ns at 200 us"
echo ok
