#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The placement audit of diagnose on this machine: each queue says where its
# threads ran (CPUs that exist), how they relate, what it could not read
# (no kvm_intel/kvm_amd here) and its advice as plan steps with the model's
# effect; --no-placement leaves it out; a device that exits during the
# window gets one line, not advice for threads that are gone.
. "$(dirname "$0")/../lib.sh"
need_root
[ "$(nproc)" -ge 2 ] || skip "needs two CPUs"
online=$(cat /sys/devices/system/cpu/online)

expect_exit 0 "$VS" diagnose --workload fc-example --backend thread --duration 1s --json
python3 - "$TMP/out" "$online" <<'PY' || die "placement JSON"
import json, sys
d = json.load(open(sys.argv[1]))
lo, hi = (int(x) for x in sys.argv[2].split("-"))
q = d["queues"][0]
p = q["placement"]
if not p["known"]:
    assert p["why"], p
    sys.exit(0)
for side in ("producer", "consumer"):
    s = p[side]
    assert s["known"] and lo <= s["cpu"] <= hi, s
    assert 0 < s["share"] <= 1 and s["from"] in ("BPF events", "stat every 50 ms"), s
assert p["relation"], p
assert any(n.startswith(("posted interrupts / APICv / AVIC", "APICv", "AVIC")) for n in p["notes"]), p["notes"]
for a in p["advice"]:
    assert a["knob"] in ("thread.affinity", "irq.affinity"), a
    assert a["value"] and a["why"] and a["model"], a
    assert a["tid"] in (p["producer"]["tid"], p["consumer"]["tid"]) or a["irq"], a
    if "predicted" in a:
        assert a["predicted"]["after"]["t_ns"] > 0
PY
expect_exit 0 "$VS" diagnose --workload fc-example --backend thread --duration 1s
grep -q '^placement' "$TMP/out" || die "no placement section in the text"
awk 'length > 79 { print; bad = 1 } END { exit bad }' "$TMP/out" || die "text over 80 columns"

expect_exit 0 "$VS" diagnose --workload fc-example --backend thread --duration 500ms \
	--no-placement --json
[ "$(json_get "$TMP/out" '"placement" in d["queues"][0]')" = False ] ||
	die "--no-placement still audited"

# A device that stops a second into a three-second window.
"$VS" bench --wp 2us --wc 1us --duration 1s >/dev/null 2>&1 &
bench=$!
at_exit "kill $bench 2>/dev/null"
for i in $(seq 50); do
	[ -e "/run/virtsync/pcdev-$bench.stats" ] && break
	sleep 0.02
done
expect_exit 0 "$VS" diagnose --pid "$bench" --duration 3s
grep -Eq '^placement: (the (producer|consumer) thread [0-9]+ \(vs-[a-z]+\)|pid [0-9]+) exited during the window' \
	"$TMP/out" || die "exited threads: $(grep -A1 '^placement' "$TMP/out")"
[ "$(grep -c '^placement' "$TMP/out")" = 1 ] || die "more than one placement line"
echo ok
