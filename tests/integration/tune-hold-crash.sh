#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# apply killed while the PM QoS holder starts: strace replaces apply's
# wait4() for the holder's first fork with a SIGKILL, so the holder comes up
# with nobody left to read its "ready". It must not leave a stale
# hold-cpu_dma_latency.pid naming a dead process (a reused pid would be
# taken for a holder and killed by the next rollback): either it holds and
# its pidfile names it, or it is gone and so is the pidfile; rollback then
# leaves no holder and no pidfile. Also a holder whose ready pipe is already
# closed when it starts.
. "$(dirname "$0")/../lib.sh"
need_root
command -v strace >/dev/null || skip "strace not installed"
cp -a "$TOP/tests/fixtures/host1" "$TMP/root"
R=$TMP/root
PIDFILE=$R/run/virtsync/hold-cpu_dma_latency.pid
cat >"$TMP/qos.json" <<'EOT'
{ "format": "virtsync-profile", "version": 1, "name": "qos", "description": "hold",
  "steps": [ { "knob": "pmqos.cpu_dma_latency_us", "value": "${us}" } ] }
EOT
holders() { pgrep -f "virtsync hold --ready-fd [0-9]* --pidfile $PIDFILE" || true; }
cleanup_holders() { local p; for p in $(holders); do kill "$p"; done; }
at_exit cleanup_holders
# the pidfile is absent or names a live holder, within 30 s
consistent() {
	local i p
	for i in $(seq 300); do
		[ -e "$PIDFILE" ] || return 0
		p=$(awk '{print $1}' "$PIDFILE")
		tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q ' hold ' && return 0
		sleep 0.1
	done
	return 1
}

for round in 1 2 3; do
	strace -qq -o /dev/null -e trace=wait4 -e inject=wait4:signal=SIGKILL:when=1 \
		"$VS" --root "$R" apply "$TMP/qos.json" --set us=$((20 + round)) >/dev/null 2>&1
	consistent || die "round $round: stale pidfile: $(cat "$PIDFILE"), no such holder"
	# the killed apply's lock can outlive it for a moment in a holder
	# that has not closed it yet: wait that out, nothing else
	rolled=0
	for _ in $(seq 50); do
		if "$VS" --root "$R" rollback >/dev/null 2>"$TMP/rb.err"; then
			rolled=1
			break
		fi
		grep -q 'holds /run/virtsync/lock' "$TMP/rb.err" || die "round $round: rollback: $(cat "$TMP/rb.err")"
		sleep 0.1
	done
	[ $rolled = 1 ] || die "round $round: the lock stayed held 5 s: $(cat "$TMP/rb.err")"
	[ ! -e "$PIDFILE" ] || die "round $round: pidfile left after rollback"
	for _ in $(seq 50); do [ -z "$(holders)" ] && break; sleep 0.1; done
	[ -z "$(holders)" ] || die "round $round: a holder still runs after rollback: $(holders)"
done

# a ready pipe nobody reads any more: the holder gives up, cleanly
mkdir -p "$TMP/h"
python3 - "$VS" "$R" "$TMP/h/p.pid" <<'PY' || die "holder with a dead ready pipe"
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
p = subprocess.run([sys.argv[1], "--root", sys.argv[2], "hold", "--ready-fd", str(w),
                    "--pidfile", sys.argv[3], "20us"], pass_fds=(w,), timeout=30,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
sys.exit("holder exit %d, pidfile %s" % (p.returncode, os.path.exists(sys.argv[3]))
         if p.returncode == 0 or os.path.exists(sys.argv[3]) else 0)
PY

exit 0
