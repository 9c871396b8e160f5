#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# iothread.poll_max_ns on a real QEMU (paused with -S, KVM): apply sets the
# iothread's poll-max-ns live through QMP qom-set, verify sees it, rollback
# puts back the exact old value; each value is read back with our own
# qom-get (python, not virtsync). The journal lives in a --root tree so the
# host's /run/virtsync is not touched.
. "$(dirname "$0")/../lib.sh"
need_root
need_kvm
start_qemu_qmp -smp 1 -object iothread,id=io0,poll-max-ns=12345 -object iothread,id=io1
sock=$QMP_SOCK
qpid=$QEMU_PID


[ "$(qom_get io0)" = 12345 ] || die "QEMU did not start with poll-max-ns 12345: $(qom_get io0)"
old1=$(qom_get io1)

mkdir -p "$TMP/root/sys/devices/system/cpu" "$TMP/root/run/virtsync"
cp /sys/devices/system/cpu/online "$TMP/root/sys/devices/system/cpu/online"
cat >"$TMP/p.json" <<'EOF'
{ "format": "virtsync-profile", "version": 1, "name": "iothread-poll",
  "description": "QEMU iothread polling window.",
  "steps": [
    { "knob": "iothread.poll_max_ns", "target": { "qmp": "${qmp}", "iothread": "io0" },
      "value": 777 },
    { "knob": "iothread.poll_max_ns", "target": { "qmp": "${qmp}", "iothread": "io1" },
      "value": "${dmax}" }
  ] }
EOF
vs() { "$VS" --root "$TMP/root" "$@"; }

# dry run: shows the live old value, changes nothing
expect_exit 0 vs apply "$TMP/p.json" --set qmp="$sock" --dmax 50us --dry-run
grep -q "12345" "$TMP/out" || { cat "$TMP/out"; die "dry run lacks the live old value"; }
[ "$(qom_get io0)" = 12345 ] || die "dry run changed the iothread"

expect_exit 0 vs apply "$TMP/p.json" --qmp "$sock" --dmax 50us
[ "$(qom_get io0)" = 777 ] || die "apply: io0 poll-max-ns is $(qom_get io0), want 777"
[ "$(qom_get io1)" = 50000 ] || die "apply: io1 poll-max-ns is $(qom_get io1), want 50000"
grep -q '"iothread.poll_max_ns"' "$TMP/root/run/virtsync/journal.json" ||
	die "not journaled"
grep -q "$sock#io0" "$TMP/root/run/virtsync/journal.json" || die "journal lacks the target"

# verify exits 1 on drift: right after apply there is none
expect_exit 0 vs verify
grep -q "777" "$TMP/out" || { cat "$TMP/out"; die "verify does not list io0 at 777"; }

# A change behind virtsync's back is drift.
python3 - "$sock" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rw")
json.loads(f.readline())
for c in ({"execute": "qmp_capabilities"},
          {"execute": "qom-set", "arguments": {"path": "/objects/io0",
           "property": "poll-max-ns", "value": 999}}):
    f.write(json.dumps(c) + "\n"); f.flush()
    while "return" not in (r := json.loads(f.readline())) and "error" not in r:
        pass
    assert "return" in r, r
PY
expect_exit 1 vs verify
grep -q "999" "$TMP/out" || { cat "$TMP/out"; die "verify does not show the drifted value"; }

expect_exit 0 vs rollback
[ "$(qom_get io0)" = 12345 ] || die "rollback: io0 is $(qom_get io0), want 12345"
[ "$(qom_get io1)" = "$old1" ] || die "rollback: io1 is $(qom_get io1), want $old1"

# Killed right after its first write (before marking it done): the journal
# still knows the old value, and rollback restores it.
need_faults
VIRTSYNC_TEST_KILL_AFTER_WRITES=1 "$VSF" --root "$TMP/root" apply "$TMP/p.json" --qmp "$sock" >/dev/null 2>&1
[ "$(qom_get io0)" = 777 ] || die "crash test: the first write did not happen"
expect_exit 0 vs rollback
[ "$(qom_get io0)" = 12345 ] || die "rollback after a crash: io0 is $(qom_get io0)"
[ "$(qom_get io1)" = "$old1" ] || die "rollback after a crash: io1 is $(qom_get io1)"

# A missing iothread is refused before anything is written.
sed 's/"io1"/"nosuch"/' "$TMP/p.json" >"$TMP/bad.json"
expect_exit 1 vs apply "$TMP/bad.json" --set qmp="$sock"
grep -q "no iothread 'nosuch'" "$TMP/err" || { cat "$TMP/err"; die "no clear error for a missing iothread"; }
[ "$(qom_get io0)" = 12345 ] || die "a refused apply changed io0"
# A socket nobody listens on: one line, nothing written.
expect_exit 1 vs apply "$TMP/p.json" --set qmp="$TMP/nosock"
grep -q "cannot reach QEMU" "$TMP/err" || { cat "$TMP/err"; die "no clear error for a dead socket"; }
echo ok
