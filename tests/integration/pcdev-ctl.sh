#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The reference device obeys its control file: a running bench (notify)
# creates /run/virtsync/pcdev-PID.ctl; `apply` of pcdev.consumer_sleep_ns
# switches its consumer to sleeping (kicks stop in the published counters,
# sleeps appear in the final JSON); `rollback` puts back the file's previous
# values and the consumer waits for kicks again; the file goes at exit.
. "$(dirname "$0")/../lib.sh"
need_root
hold_tuning_lock
"$VS" --json bench --preset fc-tune --pin 0,1 --rt --duration 6s >"$TMP/run.json" &
BP=$!
# at_exit, not a trap of its own: that would replace lib.sh's, and $TMP
# stayed behind after every run
at_exit '[ -z "$BP" ] || { kill -INT $BP 2>/dev/null; wait $BP 2>/dev/null; }'
CTL=/run/virtsync/pcdev-$BP.ctl
ST=/run/virtsync/pcdev-$BP.stats
for i in $(seq 100); do [ -s "$CTL" ] && [ -s "$ST" ] && break; sleep 0.05; done
[ -s "$CTL" ] || die "no control file $CTL"
cp "$CTL" "$TMP/ctl.orig"
grep -qx 'consumer_sleep_ns=0' "$CTL" || die "a notify consumer should publish consumer_sleep_ns=0: $(cat $CTL)"
kicks() { awk '$1 == "kicks" {print $2}' "$ST"; }
rate() { local a b; a=$(kicks); sleep 0.5; b=$(kicks); echo $((b - a)); }
# The counters are published every 100 ms once both sides run: wait for
# the first kicks (a SCHED_FIFO start can lag on a shared machine).
for i in $(seq 40); do [ "$(kicks)" -gt 0 ] 2>/dev/null && break; sleep 0.05; done
K0=$(rate)
[ "$K0" -gt 100 ] || die "notify consumer: only $K0 kicks in 0.5 s"
cat >"$TMP/plan.json" <<JSON
{"format":"virtsync-plan","version":1,"objective":"throughput",
 "steps":[{"knob":"pcdev.consumer_sleep_ns","target":{"pid":"$BP"},"value":"50000"}]}
JSON
"$VS" apply --plan "$TMP/plan.json" >"$TMP/apply.out" || die "apply failed: $(cat $TMP/apply.out)"
grep -qx 'consumer_sleep_ns=50000' "$CTL" || die "control file not written: $(cat $CTL)"
sleep 0.2
K1=$(rate)
[ "$K1" -le $((K0 / 20)) ] || die "after apply the consumer still takes kicks: $K1 vs $K0 per 0.5 s"
"$VS" rollback >"$TMP/rb.out" || die "rollback failed: $(cat $TMP/rb.out)"
cmp -s "$CTL" "$TMP/ctl.orig" || die "rollback: control file $(cat $CTL) differs from $(cat $TMP/ctl.orig)"
sleep 0.2
K2=$(rate)
[ "$K2" -gt $((K1 * 5 + 100)) ] || die "after rollback the consumer does not wait for kicks: $K2 per 0.5 s"
wait $BP || die "bench failed"
BP=
[ ! -e "$CTL" ] || die "$CTL left behind"
[ ! -e "$ST" ] || die "$ST left behind"
json_get "$TMP/run.json" 'd["sleeps_consumer"] > 0' | grep -qx True || die "no consumer sleeps in the final JSON"
json_get "$TMP/run.json" '"control file changed 2" in d["note"]' | grep -qx True || die "note: $(json_get $TMP/run.json 'd["note"]')"
echo "kicks per 0.5 s: notify $K0, after apply $K1, after rollback $K2"
