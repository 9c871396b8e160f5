#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# diagnose on a real guest with two devices busy at once: a deep queue
# (QD16 O_DIRECT reads, virtio-blk on iothread io1 over null-co with a
# 2 ms service time, so that requests wait in QEMU) and QD1 request/response
# over virtio-net (socket netdev to our far end on 127.0.0.1, served by
# QEMU's main loop). Every ring is a queue: rx and tx of net0 and the deep
# blk0 queue get verdicts, the idle control queue says why it has none; the
# deep queue shows requests in flight; a kick or interrupt figure that
# covers several active queues is not pinned on one.
. "$(dirname "$0")/../lib.sh"
need_root
start_guest --workload blk --qd 16 --latency 2ms --also rr
grep -q "mode=rr" <(guest_reports 4) || die "the rr workload does not report"
expect_exit 0 "$VS" diagnose --pid "$GUEST_PID" --duration 3s --no-calibrate --json
d=$TMP/out
cp "$d" "$TMP/d.json"
qs='[(q["device"]["id"], q["queue"]["role"]) for q in d["queues"]]'
[ "$(json_get "$d" "sorted($qs)")" = \
  "[('blk0', 'req'), ('net0', 'ctrl'), ('net0', 'rx'), ('net0', 'tx')]" ] ||
	die "queues: $(json_get "$d" "$qs")"
q() { echo "[q for q in d['queues'] if q['device']['id'] == '$1' and q['queue']['role'] == '$2'][0]"; }
for r in "blk0 req" "net0 rx" "net0 tx"; do
	set -- $r
	[ "$(json_get "$d" "$(q "$1" "$2")['verdict']['known']")" = True ] ||
		die "$1 $2: no verdict: $(json_get "$d" "$(q "$1" "$2")['verdict']['summary']")"
	json_get "$d" "$(q "$1" "$2")['sample']['items_per_s'] > 50" | grep -q True ||
		die "$1 $2: items $(json_get "$d" "$(q "$1" "$2")['queue']['items']")"
done
[ "$(json_get "$d" "$(q net0 ctrl)['verdict']['known'], $(q net0 ctrl)['queue']['kicks']['note']")" = \
  "(False, 'the queue was idle')" ] || die "ctrl: $(json_get "$d" "$(q net0 ctrl)['verdict']")"
[ "$(json_get "$d" "$(q net0 rx)['device']['consumer']")" = main-loop ] || die "net0 consumer"
json_get "$d" "$(q blk0 req)['queue']['inflight'] > 1.5" | grep -q True ||
	die "QD16 shows $(json_get "$d" "$(q blk0 req)['queue']['inflight']") in flight"
# rx and tx share the main loop and the vCPU: their kicks are not split
json_get "$d" "$(q net0 tx)['queue']['kicks']" | grep -q "shared" ||
	die "shared kicks pinned on tx: $(json_get "$d" "$(q net0 tx)['queue']['kicks']")"
echo ok
