#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Bad input never changes anything: each case exits 2 (usage) or 1
# (environment) with one line on stderr, nothing on stdout, the fixture
# tree untouched and no journal written. A good first step in each profile
# makes sure validation happens before the first write.
. "$(dirname "$0")/../lib.sh"
need_root

PRISTINE=$TOP/tests/fixtures/host1
rm -rf "$TMP/root"; cp -a "$PRISTINE" "$TMP/root"
snap() { (cd "$TMP/root" && find . -type f -exec md5sum {} + | sort); }
snap >"$TMP/before"

unchanged() {
	snap >"$TMP/after"
	diff "$TMP/before" "$TMP/after" || die "$1: the tree changed"
	[ ! -e "$TMP/root/run/virtsync/journal.json" ] || die "$1: a journal was written"
}

# profile TEXT: write a one-off profile whose first step is valid
profile() {
	cat >"$TMP/p.json" <<EOT
{ "format": "virtsync-profile", "version": 1, "name": "t", "description": "test",
  "steps": [ { "knob": "guest.halt_poll_ns", "value": 100000 }, $1 ] }
EOT
}

# case EXIT PATTERN ARGS...: one stderr line matching, nothing on stdout
case_() {
	local code=$1 pat=$2
	shift 2
	expect_exit "$code" "$VS" --root "$TMP/root" "$@"
	[ "$(wc -l <"$TMP/err")" -eq 1 ] || { cat "$TMP/err"; die "'$*': stderr is not one line"; }
	grep -q -- "$pat" "$TMP/err" || { cat "$TMP/err"; die "'$*': stderr lacks '$pat'"; }
	[ ! -s "$TMP/out" ] || { cat "$TMP/out"; die "'$*': printed on stdout"; }
	unchanged "$*"
}

case_ 2 "line 2 column 60" apply "$TOP/tests/fixtures/profiles/bad-json.json"
profile '{ "knob": "guest.no_such_knob", "value": 1 }'
case_ 2 "unknown knob 'guest.no_such_knob'" apply "$TMP/p.json"
profile '{ "knob": "guest.halt_poll_ns", "value": 1, "vaule": 2 }'
case_ 2 "unknown key 'vaule'" apply "$TMP/p.json"
profile '{ "knob": "guest.halt_poll_ns", "value": 99999999999 }'
case_ 1 "out of range" apply "$TMP/p.json"
profile '{ "knob": "guest.halt_poll_ns", "value": -5 }'
case_ 2 "steps\[1\].value: negative" apply "$TMP/p.json"
profile '{ "knob": "cpuidle.state_disable", "target": { "cpus": "0", "state": 1 }, "value": 2 }'
case_ 1 "out of range" apply "$TMP/p.json"
profile '{ "knob": "irq.affinity", "target": { "irq": 99 }, "value": "0" }'
case_ 1 "no IRQ 99" apply "$TMP/p.json"
profile '{ "knob": "netdev.gro_flush_timeout", "target": { "netdev": "eth9" }, "value": 1 }'
case_ 1 "no network device 'eth9'" apply "$TMP/p.json"
profile '{ "knob": "thread.timerslack_ns", "target": { "pid": 99999 }, "value": 1 }'
case_ 1 "no process 99999" apply "$TMP/p.json"
profile '{ "knob": "thread.timerslack_ns", "target": { "name": "novm" }, "value": 1 }'
case_ 1 "no process or VM named 'novm'" apply "$TMP/p.json"
profile '{ "knob": "cpuidle.state_disable", "target": { "cpus": "0-7", "state": 1 }, "value": 1 }'
case_ 1 "not online" apply "$TMP/p.json"
# path traversal, literal and through a variable
profile '{ "knob": "netdev.gro_flush_timeout", "target": { "netdev": "../../../etc" }, "value": 1 }'
case_ 2 "contains '/' or '..'" apply "$TMP/p.json"
profile '{ "knob": "netdev.gro_flush_timeout", "target": { "netdev": "${dev}" }, "value": 1 }'
case_ 1 "contains '/' or '..'" apply "$TMP/p.json" --set dev=../../module
profile '{ "knob": "netdev.gro_flush_timeout", "target": { "netdev": "${dev}" }, "value": 1 }'
case_ 1 'variable ${dev} is not set' apply "$TMP/p.json"
case_ 2 "not a name" apply "profiles/../../etc/passwd"
case_ 2 "not a name" apply "a/b"
case_ 2 "not a name" profiles show "..evil"
case_ 2 "not found" apply no-such-profile
# target keys that do not fit the knob
profile '{ "knob": "guest.halt_poll_ns", "target": { "irq": 3 }, "value": 1 }'
case_ 2 "'irq' does not apply to guest.halt_poll_ns" apply "$TMP/p.json"
profile '{ "knob": "thread.timerslack_ns", "target": { "pid": 4242, "role": "boss" }, "value": 1 }'
case_ 2 "is not vcpu, vhost" apply "$TMP/p.json"
# read-only knob: say so and offer the per-VM knob
profile '{ "knob": "kvm.halt_poll_ns", "value": 1 }'
case_ 1 "read-only on this host: use vm.halt_poll_ns" apply "$TMP/p.json"
# a plan with a bad objective
cat >"$TMP/plan.json" <<'EOT'
{ "format": "virtsync-plan", "version": 1, "objective": "speed",
  "steps": [ { "knob": "guest.halt_poll_ns", "value": 1 } ] }
EOT
case_ 2 "objective" apply --plan "$TMP/plan.json"
case_ 2 "give a PROFILE or --plan" apply
case_ 2 "--set: 'x' is not NAME=VALUE" apply latency-poll --set x

# a non-root user is refused before anything, with one line
profile '{ "knob": "net.core.busy_poll", "value": 1 }'
chmod 755 "$TMP" && chmod 644 "$TMP/p.json"
expect_exit 1 setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$VS" --root "$TMP/root" apply "$TMP/p.json"
[ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q "needs root" "$TMP/err" || { cat "$TMP/err"; die "non-root apply"; }
unchanged "non-root apply"
expect_exit 1 setpriv --reuid=65534 --regid=65534 --clear-groups "$VS" --root "$TMP/root" rollback
grep -q "needs root" "$TMP/err" || die "non-root rollback"
expect_exit 1 setpriv --reuid=65534 --regid=65534 --clear-groups "$VS" tune --auto --workload wakeup
grep -q "needs root" "$TMP/err" || die "non-root tune"
unchanged "non-root"
echo ok
