#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Ground truth for `virtsync diagnose`: reference-device configurations whose
# regime is known by construction (which side is faster; notify, sleep or
# poll; queue long or short against this machine's ~25+ us wake-ups), each
# run as its own `virtsync bench` process and diagnosed from outside with
# `diagnose --pid`. Requires the right regime in >= 90 % of them and the
# right fast side (producer/consumer) in every one that has a fast side.
# Prints the confusion table.
. "$(dirname "$0")/../lib.sh"
need_root

DIAG_T=${DIAG_T:-0.8s}	# diagnose's window, opened 0.3 s after the device
			# starts; the device is stopped (SIGINT) right after

# truth|fast|backend|bench arguments
configs=(
	"nFC|consumer|thread|--mode notify --wp 3us --wc 1us"
	"nFC|consumer|thread|--mode notify --wp 5us --wc 2us --len 256"
	"nFC|consumer|thread|--mode notify --wp 2us --wc 500ns --len 1024"
	"nFP|producer|thread|--mode notify --wp 1us --wc 3us"
	"nFP|producer|thread|--mode notify --wp 2us --wc 5us --len 256"
	"nFP|producer|thread|--mode notify --wp 500ns --wc 2us --len 1024"
	"sFC|consumer|thread|--mode sleep --wp 3us --wc 1us --sleep 20us"
	"sFC|consumer|thread|--mode sleep --wp 4us --wc 1us --sleep 50us --len 1024"
	"sFP|producer|thread|--mode sleep --wp 1us --wc 3us --sleep 20us"
	"sFP|producer|thread|--mode sleep --wp 1us --wc 4us --sleep 50us --len 1024"
	"sLS|-|thread|--mode sleep --wp 2us --wc 1us --len 4 --sleep 50us"
	"sLS|-|thread|--mode sleep --wp 1us --wc 2us --len 4 --sleep 50us"
	"BW|-|thread|--mode poll --wp 1us --wc 2us"
	"BW|-|thread|--mode poll --wp 2us --wc 1us"
	"nSS|-|thread|--mode notify --wp 2us --wc 2us --len 4"
	"nSS|-|thread|--mode notify --wp 1us --wc 1us --len 2"
)
# The KVM backend's producer is the guest vCPU, which runs in KVM's
# instruction emulator here: its Wp is tens of us whatever is asked, so
# the fast consumer/producer cases are built around that.
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	configs+=(
	"nFC|consumer|kvm|--mode notify --wp 0 --wc 1us"
	"nFC|consumer|kvm|--mode notify --wp 0 --wc 2us --len 256"
	"nFP|producer|kvm|--mode notify --wp 0 --wc 300us"
	"sFC|consumer|kvm|--mode sleep --wp 0 --wc 1us --sleep 50us"
	"sFP|producer|kvm|--mode sleep --wp 0 --wc 300us --sleep 50us"
	"BW|-|kvm|--mode poll --wp 0 --wc 1us"
	)
else
	echo "note: /dev/kvm not usable: thread backend only"
fi

: >"$TMP/results"
n=0
for c in "${configs[@]}"; do
	IFS='|' read -r truth fast backend args <<<"$c"
	n=$((n + 1))
	# shellcheck disable=SC2086
	"$VS" --json bench --backend "$backend" $args --duration 30s \
		>"$TMP/truth$n.json" 2>"$TMP/bench$n.err" &
	bp=$!
	for _ in $(seq 150); do
		[ -e "/run/virtsync/pcdev-$bp.stats" ] && break
		sleep 0.02
	done
	sleep 0.3
	timeout 20 "$VS" diagnose --pid "$bp" --duration "$DIAG_T" --json \
		>"$TMP/diag$n.json" 2>"$TMP/diag$n.err"
	rc=$?
	kill -INT "$bp" 2>/dev/null
	wait "$bp"
	[ $rc -eq 0 ] || echo "config $n ($args): diagnose exit $rc:" \
		"$(cat "$TMP/diag$n.err") (bench: $(cat "$TMP/bench$n.err"))"
	echo "$n|$truth|$fast|$backend|$args|$TMP/diag$n.json|$TMP/truth$n.json" >>"$TMP/results"
done

python3 - "$TMP/results" <<'PY'
import json, sys
rows = [l.rstrip("\n").split("|") for l in open(sys.argv[1])]
names = ["BW", "sFC", "sFP", "sLS", "nFC", "nFP", "nSCS", "nSPS", "nSS", "none"]
conf = {}
ok = dir_ok = dir_n = 0
print("%-3s %-6s %-5s %-4s %-9s %-5s %s" % ("#", "back", "truth", "got", "fast", "conf", "bench arguments"))
for n, truth, fast, backend, args, dj, tj in rows:
    try:
        d = json.load(open(dj))
        v = d["queues"][0]["verdict"]
        got = v["regime"] or "none"
        gfast = v["fast"]
        c = v["confidence"] or 0
        why = v["summary"]
        s = d["queues"][0]["sample"]
        why += " [items %s kicks %s irqs %s; P cpu %s waits %s; C cpu %s waits %s]" % (
            s["items_per_s"], s["kicks_per_s"], s["interrupts_per_s"],
            s["producer"]["cpu"], s["producer"]["waits_per_s"],
            s["consumer"]["cpu"], s["consumer"]["waits_per_s"])
    except Exception as e:
        got, gfast, c, why = "none", "unknown", 0, "no diagnose output: %s" % e
    conf[(truth, got)] = conf.get((truth, got), 0) + 1
    ok += got == truth
    if fast != "-":
        dir_n += 1
        dir_ok += gfast == fast
    mark = "" if got == truth and (fast == "-" or gfast == fast) else "  <-- WRONG"
    print("%-3s %-6s %-5s %-4s %-9s %-5.2f %s%s" % (n, backend, truth, got, gfast, c, args, mark))
    if mark:
        print("      " + why)
used = [x for x in names if any(k[0] == x or k[1] == x for k in conf)]
print("\nconfusion (rows: truth, columns: diagnose)")
print("%-5s" % "" + "".join("%6s" % x for x in used))
for t in used:
    if not any(k[0] == t for k in conf):
        continue
    print("%-5s" % t + "".join("%6s" % (conf.get((t, g), 0) or ".") for g in used))
total = len(rows)
print("\nregime right: %d/%d (%.0f %%); fast side right: %d/%d" %
      (ok, total, 100.0 * ok / total, dir_ok, dir_n))
if total < 20:
    print("FAIL: fewer than 20 configurations")
    sys.exit(1)
if ok < 0.9 * total:
    print("FAIL: regime right in less than 90 %")
    sys.exit(1)
if dir_ok != dir_n:
    print("FAIL: fast producer/consumer wrong in some configuration")
    sys.exit(1)
PY
