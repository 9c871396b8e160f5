#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Every --save writes one document, the run with its plan inside, that
# report --from, apply --plan and export --plan all take (old plan files
# still load); and the output path is checked before the first change
# (`tune --auto --workload wakeup --save /tmp` applied and kept
# guest.halt_poll_ns, then failed with exit 1).
. "$(dirname "$0")/../lib.sh"
need_root
hold_tuning_lock
need_clean_journal
HP=/sys/module/haltpoll/parameters/guest_halt_poll_ns
HP0=$(cat $HP 2>/dev/null)
at_exit "[ -z \"$HP0\" ] || echo $HP0 >$HP 2>/dev/null"
nothing_applied() {
	"$VS" verify 2>&1 | grep -q '^nothing applied' || die "$1: $("$VS" verify 2>&1)"
	[ "$(cat $HP 2>/dev/null)" = "$HP0" ] || die "$1: guest_halt_poll_ns is $(cat $HP)"
}

# ---- the output path, before anything is measured or changed
start=$(date +%s.%N)
expect_usage_error "'/tmp' is a directory" "$VS" tune --auto --workload wakeup --save /tmp
nothing_applied "tune --save /tmp"
expect_usage_error "--save: cannot write '$TMP/no/t.json'" \
	"$VS" tune --auto --workload wakeup --save "$TMP/no/t.json"
expect_usage_error "'/tmp' is a directory" "$VS" diagnose --workload fc-example --save /tmp
end=$(date +%s.%N)
awk -v a="$start" -v b="$end" 'BEGIN { exit !(b - a < 2) }' ||
	die "refusing three bad --save paths took $(awk -v a="$start" -v b="$end" 'BEGIN{print b-a}') s: measured first?"
nothing_applied "bad --save paths"

# ---- a directory that goes away during the run: nothing stays changed
mkdir "$TMP/gone"
"$VS" tune --auto --workload wakeup --duration 2s --save "$TMP/gone/t.json" \
	>"$TMP/gone.out" 2>"$TMP/gone.err" &
tp=$!
sleep 0.3
rmdir "$TMP/gone"
wait $tp
rc=$?
[ $rc = 1 ] || { cat "$TMP/gone.out" "$TMP/gone.err"; die "save failure after the run: exit $rc, expected 1"; }
grep -q "^virtsync tune: --save: cannot write" "$TMP/gone.err" || { cat "$TMP/gone.err"; die "no --save error"; }
nothing_applied "a --save that failed after the run"
if grep -q "rolling the kept change back" "$TMP/gone.err"; then
	echo "save failed after a kept change: rolled back"
else
	echo "save failed; the loop had kept nothing this time"
fi

# ---- diagnose's run: report, apply and export take it
"$VS" bench --preset fc-example --backend thread --duration 30s >/dev/null 2>&1 &
bp=$!
at_exit "kill $bp 2>/dev/null"
for _ in $(seq 150); do [ -e "/run/virtsync/pcdev-$bp.stats" ] && break; sleep 0.02; done
expect_exit 0 "$VS" diagnose --pid "$bp" --duration 1s --dmax 400us --save "$TMP/d.json"
json_get "$TMP/d.json" "d['tool'] == 'virtsync' and d['command'] == 'diagnose' and len(d['queues']) == 1 and d['plan']['format'] == 'virtsync-plan'" |
	grep -qx True || die "diagnose --save: not the run with its plan inside"
expect_exit 0 "$VS" report --from "$TMP/d.json" --format md
grep -q "Queue of" "$TMP/out" || die "report --from does not render diagnose's run"
# the pre-run plan file: the plan at the top, the run as its evidence
python3 - "$TMP/d.json" "$TMP/old.json" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
plan = dict(run.pop("plan"))
plan["evidence"] = run
json.dump(plan, open(sys.argv[2], "w"))
PY
expect_exit 0 "$VS" report --from "$TMP/old.json" --format md
grep -q "Queue of" "$TMP/out" || die "report --from does not render an old plan file's evidence"
if [ "$(json_get "$TMP/d.json" 'len(d["plan"]["steps"])')" -gt 0 ]; then
	for f in d old; do
		expect_exit 0 "$VS" apply --plan "$TMP/$f.json" --dry-run
		expect_exit 0 "$VS" export --plan "$TMP/$f.json" --tuned "$TMP/tuned-$f"
		cat "$TMP/tuned-$f"/* | grep -q "pcdev\|timerslack\|halt_poll" ||
			die "export --plan $f.json: no step in $(ls "$TMP/tuned-$f")"
	done
else
	expect_exit 2 "$VS" apply --plan "$TMP/d.json" --dry-run
	grep -q "plan.steps" "$TMP/err" || die "a run whose plan has no steps: $(cat "$TMP/err")"
	echo "note: diagnose advised nothing apply can set (regime $(json_get "$TMP/d.json" 'd["plan"].get("regime")'))"
fi
kill -INT $bp
wait $bp

# ---- tune's run: apply and report take it
expect_exit 0 "$VS" tune --auto --workload wakeup --duration 1s --save "$TMP/t.json"
"$VS" verify 2>&1 | grep -q '^nothing applied' || "$VS" rollback >/dev/null
nothing_applied "after tune's rollback"
expect_exit 0 "$VS" report --from "$TMP/t.json" --format md
if json_get "$TMP/t.json" 'd["plan"] is not None and len(d["plan"]["steps"]) > 0' | grep -qx True; then
	expect_exit 0 "$VS" apply --plan "$TMP/t.json" --dry-run
	grep -q "guest.halt_poll_ns\|cpuidle" "$TMP/out" || die "apply --plan on tune's run: $(cat "$TMP/out")"
else
	expect_exit 2 "$VS" apply --plan "$TMP/t.json" --dry-run
	grep -q "has no plan\|plan.steps" "$TMP/err" || die "tune's run without a plan: $(cat "$TMP/err")"
fi
nothing_applied "the end"
echo ok
