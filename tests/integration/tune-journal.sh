#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# rollback does not trust the journal, and it never gets stuck:
# - an old value the knob's own validate refuses (7 for a cpuidle disable
#   flag), an unknown knob and a target with '..' are reported by their
#   target, never written, and marked refused (not left "done" forever);
# - an entry whose target is gone (a reference device that exited, a
#   thread, a QMP socket nobody serves) is marked gone, for every family,
#   and verify does not count it as drift;
# - an entry that can never be restored is discarded with rollback --drop,
#   journaled as dropped;
# - on a shared host, rollback --last and --apply ID undo one apply only,
#   and verify lists the applies with source, command, user and time;
# - verify as non-root says permission denied, and a corrupt journal is
#   named with the place it breaks and what to do.
. "$(dirname "$0")/../lib.sh"
need_root
cp -a "$TOP/tests/fixtures/host1" "$TMP/root"
R=$TMP/root
J=$R/run/virtsync/journal.json
vs() { "$VS" --root "$R" "$@"; }
DISABLE=$R/sys/devices/system/cpu/cpu1/cpuidle/state1/disable
PARAM=$R/sys/module/haltpoll/parameters/guest_halt_poll_ns
BUSY=$R/proc/sys/net/core/busy_poll
orig_param=$(cat "$PARAM"); orig_busy=$(cat "$BUSY")

# journal ENTRY-JSON...: a journal of one apply holding these entries (done)
journal() {
	python3 - "$J" "$@" <<'PY'
import json, sys
ents = [dict(json.loads(a), status="done", apply=0, label="x", note="") for a in sys.argv[2:]]
json.dump({"format": "virtsync-journal", "version": 1,
           "applies": [{"source": "hand", "pid": 1, "time": "2026-01-01T00:00:00Z", "first": 0}],
           "entries": ents}, open(sys.argv[1], "w"))
PY
}
status_of() { json_get "$J" "[e['status'] for e in d['entries']]"; }

# --- 12.5: validate before writing --------------------------------------
echo 1 >"$DISABLE"
journal '{"knob": "guest.halt_poll_ns", "target": "", "old": "0", "new": "5"}' \
	'{"knob": "cpuidle.state_disable", "target": "cpu1/state1", "old": "7", "new": "1"}' \
	'{"knob": "etc.shadow", "target": "/etc/shadow", "old": "x", "new": "y"}' \
	'{"knob": "net.core.busy_poll", "target": "../../etc", "old": "0", "new": "5"}'
echo 5 >"$PARAM"
expect_exit 1 vs rollback
[ "$(cat "$DISABLE")" = 1 ] || die "rollback wrote the refused value 7: $(cat "$DISABLE")"
grep -q "cpuidle.state_disable cpu1/state1: old value '7' refused" "$TMP/err" ||
	{ cat "$TMP/err"; die "refusal does not name the target"; }
grep -q "etc.shadow /etc/shadow: no knob 'etc.shadow'" "$TMP/err" || { cat "$TMP/err"; die "unknown knob"; }
grep -q "net.core.busy_poll ../../etc: target '../../etc' contains '..'" "$TMP/err" ||
	{ cat "$TMP/err"; die "target with .."; }
[ "$(cat "$PARAM")" = 0 ] || die "the valid entry was not restored"
[ "$(status_of)" = "['restored', 'refused', 'refused', 'refused']" ] || die "statuses: $(status_of)"
expect_exit 0 vs rollback
grep -q "nothing to roll back" "$TMP/out" || die "refused entries stay active"
echo 0 >"$DISABLE"

# --- 13.4: a gone target is gone, for every family -----------------------
python3 - "$TMP/dead.sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])   # bound, never listening: refused
PY
journal '{"knob": "pcdev.consumer_sleep_ns", "target": "4250", "old": "1000", "new": "5"}' \
	'{"knob": "thread.timerslack_ns", "target": "4260@999", "old": "50000", "new": "1"}' \
	"{\"knob\": \"iothread.poll_max_ns\", \"target\": \"$TMP/dead.sock#io0\", \"old\": \"0\", \"new\": \"5\"}" \
	'{"knob": "netdev.gro_flush_timeout", "target": "nosuchnic0", "old": "0", "new": "5"}' \
	'{"knob": "guest.halt_poll_ns", "target": "", "old": "0", "new": "5"}'
echo 5 >"$PARAM"
expect_exit 0 vs verify
grep -c '^gone ' "$TMP/out" | grep -qx 4 || { cat "$TMP/out"; die "verify: gone targets not listed as gone"; }
expect_exit 0 vs rollback
[ "$(status_of)" = "['gone', 'gone', 'gone', 'gone', 'restored']" ] ||
	{ cat "$TMP/out" "$TMP/err"; die "gone: $(status_of)"; }
expect_exit 0 vs verify
grep -q "nothing applied" "$TMP/out" || die "verify after rollback: $(cat "$TMP/out")"

# --- 13.4: rollback --drop ---------------------------------------------------
# a QEMU that accepts and never answers: the entry fails on every run
python3 "$TOP/tests/qmp-peer.py" "$TMP/stall.sock" stall "$TMP/stall.pid" &
at_exit "kill $! 2>/dev/null"
for _ in $(seq 100); do [ -s "$TMP/stall.pid" ] && break; sleep 0.1; done
journal '{"knob": "guest.halt_poll_ns", "target": "", "old": "0", "new": "5"}' \
	"{\"knob\": \"iothread.poll_max_ns\", \"target\": \"$TMP/stall.sock#io0\", \"old\": \"0\", \"new\": \"9\"}"
expect_exit 1 vs rollback
grep -q "iothread.poll_max_ns $TMP/stall.sock#io0: restoring '0' failed: .*deadline.*--drop" "$TMP/err" ||
	{ cat "$TMP/err"; die "failure hint"; }
expect_exit 1 vs rollback
expect_usage_error "no entry 7" vs rollback --drop 7
expect_exit 0 vs rollback --drop 1
grep -q "dropped entry 1: iothread.poll_max_ns" "$TMP/out" || die "drop: $(cat "$TMP/out")"
[ "$(json_get "$J" "d['entries'][1]['status']")" = dropped ] || die "drop not journaled"
json_get "$J" "d['entries'][1]['note']" | grep -q "rollback --drop" || die "drop note"
expect_usage_error "is dropped, not in place" vs rollback --drop 1
expect_exit 0 vs rollback
grep -q "nothing to roll back" "$TMP/out" || die "after drop: $(cat "$TMP/out")"
rm -f "$J"

# --- 13.5: one apply at a time -----------------------------------------------
cat >"$TMP/p.json" <<'EOT'
{ "format": "virtsync-profile", "version": 1, "name": "p", "description": "two knobs",
  "steps": [ { "knob": "guest.halt_poll_ns", "value": "${v}" },
             { "knob": "net.core.busy_poll", "value": "${b}", "optional": true } ] }
EOT
expect_exit 0 vs apply "$TMP/p.json" --set v=111 --set b="$orig_busy"
SUDO_USER=alice expect_exit 0 vs apply "$TMP/p.json" --set v=222 --set b=7
expect_exit 0 vs verify
grep -q "^apply 0 .* profile p: 1 change in place" "$TMP/out" || { cat "$TMP/out"; die "verify: apply 0"; }
grep -q "^apply 1 .*by alice  profile p: 2 changes in place" "$TMP/out" || { cat "$TMP/out"; die "verify: apply 1"; }
grep -q "command: .*apply $TMP/p.json --set v=222 --set b=7" "$TMP/out" || { cat "$TMP/out"; die "verify: command"; }
expect_exit 0 vs --json verify
[ "$(json_get "$TMP/out" '[(a["id"], a["user"]) for a in d["applies"]]')" = "[(0, 'uid 0'), (1, 'alice')]" ] ||
	die "verify --json applies: $(json_get "$TMP/out" 'd["applies"]')"
# the earlier apply alone: apply 1 changed the same knob since, so it keeps
# its value and will restore the real original
expect_exit 0 vs rollback --apply 0
[ "$(cat "$PARAM")" = 222 ] && [ "$(cat "$BUSY")" = 7 ] || die "--apply 0 undid apply 1's values"
expect_exit 0 vs rollback --last
[ "$(cat "$PARAM")" = "$orig_param" ] || die "--last: guest_halt_poll_ns $(cat "$PARAM"), want $orig_param"
[ "$(cat "$BUSY")" = "$orig_busy" ] || die "--last: busy_poll $(cat "$BUSY")"
expect_exit 0 vs apply "$TMP/p.json" --set v=111 --set b="$orig_busy"
expect_exit 0 vs apply "$TMP/p.json" --set v=222 --set b=7
expect_exit 0 vs rollback --last
[ "$(cat "$PARAM")" = 111 ] && [ "$(cat "$BUSY")" = "$orig_busy" ] || die "--last undid more than the last apply"
expect_usage_error "no apply 1 is in place" vs rollback --apply 1
expect_usage_error "one of --last" vs rollback --last --apply 0
expect_exit 0 vs rollback
[ "$(cat "$PARAM")" = "$orig_param" ] || die "final rollback"

# --- 13.10: messages ---------------------------------------------------------
expect_exit 0 vs apply "$TMP/p.json" --set v=111 --set b=7
chmod 755 "$TMP" "$R" "$R/run"
expect_exit 1 setpriv --reuid=nobody --regid=nogroup --clear-groups "$VS" --root "$R" verify
grep -q "Permission denied" "$TMP/err" || { cat "$TMP/err"; die "non-root verify: not permission denied"; }
! grep -q "Bad message" "$TMP/err" || die "non-root verify says Bad message"
expect_exit 0 vs rollback
printf '{"format": "virtsync-journal", "version": 1,\n "applies": [], "entries": [\n  {"knob": "x",,}\n' >"$J"
expect_exit 1 vs verify
grep -q "$J: not valid JSON at line 3, column [0-9]* (byte [0-9]*)" "$TMP/err" ||
	{ cat "$TMP/err"; die "corrupt journal: no place"; }
grep -q "move it away" "$TMP/err" || die "corrupt journal: no advice"
expect_exit 1 vs rollback
grep -q "line 3" "$TMP/err" || die "rollback on a corrupt journal: $(cat "$TMP/err")"
echo '{"format": "virtsync-journal", "applies": [], "entries": [{"knob": "a", "target": "", "label": "", "old": "1", "new": "2"}]}' >"$J"
expect_exit 1 vs verify
grep -q 'entry 0: "status" is missing' "$TMP/err" || { cat "$TMP/err"; die "bad entry: not named"; }
rm -f "$J"
exit 0
