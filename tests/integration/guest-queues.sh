#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# diagnose on a real guest (QD1 O_DIRECT reads on virtio-blk, iothread io1,
# null-co 20 us): one queue per virtqueue, with its device, its consumer
# thread and its vCPU; items/s that match QEMU's own used index read by an
# independent QMP session over the same window; kicks and interrupts with
# the source each came from; a verdict. diagnose finds the QMP socket on
# QEMU's command line by itself.
. "$(dirname "$0")/../lib.sh"
need_root
start_guest --workload blk --qd 1 --latency 20us
python3 "$TOP/tests/guest/used-poller.py" "$GUEST_DIR/qmp-test.sock" \
	/machine/peripheral/blk0/virtio-backend 0 --lifetime 60 >"$TMP/used" &
poller=$!
at_exit "kill $poller 2>/dev/null"
for _ in $(seq 100); do [ -s "$TMP/used" ] && break; sleep 0.05; done
[ -s "$TMP/used" ] || die "our own QMP reader gave nothing"
expect_exit 0 "$VS" diagnose --pid "$GUEST_PID" --duration 3s --no-calibrate --json
sleep 0.2
stop_reader "$poller"
d=$TMP/out
cp "$d" "$TMP/d.json"
q='d["queues"][0]'
[ "$(json_get "$d" "len(d['queues']), $q['device']['type'], $q['device']['id'], $q['queue']['role']")" = \
  "(1, 'virtio-blk', 'blk0', 'req')" ] || die "queues: $(json_get "$d" 'd["queues"]' | head -c 600)"
[ "$(json_get "$d" "$q['device']['iothread'], $q['device']['consumer'], $q['device']['queues_from']")" = \
  "('io1', 'iothread', 'qmp x-query-virtio')" ] || die "device: $(json_get "$d" "$q['device']")"
[ "$(json_get "$d" "$q['sample']['consumer']['comm'], $q['sample']['producer']['comm']")" = \
  "('IO io1', 'CPU 0/$(echo "$GUEST_ACCEL" | tr a-z A-Z)')" ] || die "threads: $(json_get "$d" "$q['sample']")"

# QEMU's own used index over diagnose's window, from our reader
own=$(python3 - "$TMP/used" "$(json_get "$d" "$q['queue']['window_first_ns']")" \
	"$(json_get "$d" "$q['queue']['window_last_ns']")" <<'PY'
import sys
pts = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
def at(t):	# linear interpolation between our two samples around t
    for (t0, u0), (t1, u1) in zip(pts, pts[1:]):
        if t0 <= t <= t1:
            return u0 + (u1 - u0) * (t - t0) / (t1 - t0)
    raise SystemExit("our reader did not cover the window")
a, b = int(sys.argv[2]), int(sys.argv[3])
print("%.1f" % ((at(b) - at(a)) / ((b - a) / 1e9)))
PY
) || die "no independent reading: $own"
vs=$(json_get "$d" "$q['sample']['items_per_s']")
awk -v a="$vs" -v b="$own" 'BEGIN { exit !(b > 100 && a > 0.9 * b && a < 1.1 * b) }' ||
	die "items/s: virtsync $vs, QEMU's used index $own"
[ "$(json_get "$d" "$q['queue']['items']['source']")" = "qmp used-idx" ] || die "items source"

# kicks and interrupts: present, named by their source
for f in kicks interrupts; do
	src=$(json_get "$d" "$q['queue']['$f']['source']")
	rate=$(json_get "$d" "$q['queue']['$f']['per_s']")
	case $src in
	"vcpu write() syscalls"|"sched_waking vcpu->consumer"|"kvm kick tracepoints"|\
	"kvm_pio/kvm_mmio address"|\
	"sched_waking qemu->vcpu"|"kvm irq tracepoints"|"qmp signalled-used") ;;
	*) die "$f without a known source: '$src'" ;;
	esac
	awk -v r="$rate" 'BEGIN { exit !(r > 0) }' || die "$f: $rate/s from $src"
	json_get "$d" "[s['name'] for s in $q['sources'] if s['used']]" | grep -q "'$f'" ||
		die "no used source line for $f"
done
# the verdict: known, with its evidence, in the reference device's shape
[ "$(json_get "$d" "$q['verdict']['known']")" = True ] ||
	die "no verdict: $(json_get "$d" "$q['verdict']")"
json_get "$d" "sorted(k for k in $q['verdict'])" | grep -q "'regime'" || die "verdict shape"
# the guest's own start-up cost, not the host's ping-pong
json_get "$d" "[e['from'] for e in $q['verdict']['estimates'] if e['name'] == 'Sp']" |
	grep -q "vCPU threads woken by QEMU" ||
	die "Sp: $(json_get "$d" "[e for e in $q['verdict']['estimates'] if e['name'] == 'Sp']")"
echo ok
