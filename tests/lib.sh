# SPDX-License-Identifier: GPL-2.0-only
# Sourced by tests/integration/*.sh. A test exits 0 to pass, 77 to skip
# (after printing "SKIP: reason"), anything else to fail.
set -u
VS=${VIRTSYNC_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.output/virtsync}
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The fault-injection build (make all builds it beside the binary): the only
# one that honours VIRTSYNC_TEST_KILL_AFTER_WRITES.
VSF=${VIRTSYNC_FAULTS_BIN:-$(dirname "$VS")/virtsync-faults}
TMP=$(mktemp -d /tmp/vs-test.XXXXXX)
# at_exit CMD: run CMD (with eval) when the test ends, before $TMP goes.
_at_exit=()
at_exit() { _at_exit+=("$1"); }
_run_at_exit() {
	local c
	for c in "${_at_exit[@]}"; do eval "$c"; done
	rm -rf "$TMP"
}
trap _run_at_exit EXIT

skip() { echo "SKIP: $*"; exit 77; }
die() { echo "FAIL: $*"; exit 1; }
need_root() { [ "$(id -u)" = 0 ] || skip "needs root"; }
# stop_reader PID: stop a background reader whose output file the test is
# about to read, and wait until it has gone, so that the file holds
# everything it wrote (the readers write each line in one write(2): a kill
# cannot cut one in half).
stop_reader() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}
# live_proc_in ROOT: the host's /proc inside a --root tree, bind-mounted
# (a symlink to /proc would leave the tree, and virtsync resolves every
# path inside it); unmounted when the test ends, before $TMP goes.
live_proc_in() {
	mkdir -p "$1/proc"
	mount --bind /proc "$1/proc" || skip "cannot bind-mount /proc"
	at_exit "umount -l '$1/proc'"
}
need_faults() { [ -x "$VSF" ] || die "$VSF missing: make all builds the fault-injection binary"; }
# One tuning test at a time: they share the journal and the host's knobs.
hold_tuning_lock() {
	exec 9>/run/virtsync-tune-tests.lock
	flock -w 600 9 || skip "another tuning test held /run/virtsync-tune-tests.lock for 10 minutes"
}
# A journal holding someone's applied change is theirs: leave the host alone.
need_clean_journal() {
	if [ -s /run/virtsync/journal.json ] && ! "$VS" verify 2>/dev/null | grep -q '^nothing applied'; then
		skip "/run/virtsync/journal.json holds an applied state; not touching the host"
	fi
}
need_kvm() { [ -r /dev/kvm ] && [ -w /dev/kvm ] || skip "needs /dev/kvm"; }

# expect_exit CODE CMD...: run, require the status, keep stdout/stderr in
# $TMP/out and $TMP/err for further checks.
expect_exit() {
	local want=$1 rc
	shift
	"$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ "$rc" != "$want" ]; then
		echo "command: $*"; echo "stdout:"; cat "$TMP/out"; echo "stderr:"; cat "$TMP/err"
		die "exit status $rc, expected $want"
	fi
}

# expect_usage_error PATTERN CMD...: exit 2, exactly one line on stderr
# matching PATTERN, nothing on stdout.
expect_usage_error() {
	local pat=$1
	shift
	expect_exit 2 "$@"
	[ "$(wc -l <"$TMP/err")" -eq 1 ] || { cat "$TMP/err"; die "'$*': stderr is not one line"; }
	grep -q -- "$pat" "$TMP/err" || { cat "$TMP/err"; die "'$*': stderr lacks '$pat'"; }
	[ ! -s "$TMP/out" ] || { cat "$TMP/out"; die "'$*': printed on stdout"; }
}

# json_get FILE EXPR: evaluate a Python expression on the document `d`.
json_get() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# start_qemu ARGS...: a paused (-S) QEMU with KVM and ARGS, daemonized;
# QEMU_PID is its pid, and it is killed when the test ends. Guests cannot
# run on the project's nested machines, but a paused QEMU answers QMP and
# holds real KVM VM and vCPU file descriptors.
start_qemu() {
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed"
	rm -f "$TMP/q.pid"
	qemu-system-x86_64 -enable-kvm -S -nodefaults -display none "$@" \
		-daemonize -pidfile "$TMP/q.pid" 2>"$TMP/qemu.err" ||
		skip "QEMU does not start here: $(tail -1 "$TMP/qemu.err")"
	QEMU_PID=$(cat "$TMP/q.pid")
	at_exit "kill $QEMU_PID 2>/dev/null"
}

# qom_get ID: poll-max-ns of QEMU's iothread ID at QMP_SOCK, through a QMP
# session of our own (python, not virtsync), so tests check virtsync's
# writes with an independent reader.
qom_get() {
	python3 - "$QMP_SOCK" "$1" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rw")
def cmd(c, a=None):
    f.write(json.dumps({"execute": c, **({"arguments": a} if a else {})}) + "\n"); f.flush()
    while True:
        r = json.loads(f.readline())
        if "return" in r or "error" in r:
            return r
json.loads(f.readline())
cmd("qmp_capabilities")
print(cmd("qom-get", {"path": "/objects/" + sys.argv[2], "property": "poll-max-ns"})["return"])
PY
}

# start_qemu_qmp ARGS...: start_qemu with a QMP socket at QMP_SOCK.
start_qemu_qmp() {
	QMP_SOCK=$TMP/qmp.sock
	start_qemu -m 32 "$@" -qmp unix:"$QMP_SOCK",server=on,wait=off
}

# start_guest ARGS...: boot the test guest, a real Linux guest under QEMU
# (tests/guest/guest.sh start ARGS; TCG here, KVM where a stock guest runs
# under it), in $TMP/guest, built next to $VS. Sets GUEST_DIR, GUEST_PID,
# GUEST_QMP, GUEST_CONSOLE, GUEST_ACCEL; the guest is stopped at exit.
# Skips only when QEMU or Debian's kernel package cannot be had.
start_guest() {
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed"
	GUEST_DIR=$TMP/guest
	at_exit "'$TOP/tests/guest/guest.sh' stop '$GUEST_DIR'"
	if ! VS_OUTPUT=$(dirname "$VS") "$TOP/tests/guest/guest.sh" start "$GUEST_DIR" "$@" \
		>"$TMP/guest.out" 2>"$TMP/guest.err"; then
		grep -q "guest kernel:" "$TMP/guest.err" && skip "$(grep -m1 "guest kernel:" "$TMP/guest.err")"
		cat "$TMP/guest.err"
		die "the test guest did not start"
	fi
	GUEST_PID=$(sed -n 's/^pid=//p' "$TMP/guest.out")
	GUEST_QMP=$(sed -n 's/^qmp=//p' "$TMP/guest.out")
	GUEST_CONSOLE=$(sed -n 's/^console=//p' "$TMP/guest.out")
	GUEST_ACCEL=$(sed -n 's/^accel=//p' "$TMP/guest.out")
}

# guest_reports N: wait until the guest has printed N more report lines,
# then print them
guest_reports() {
	local have want i
	have=$(grep -c '^VSLOAD t=' "$GUEST_CONSOLE")
	want=$((have + $1))
	for i in $(seq $(($1 * 30 + 50))); do
		[ "$(grep -c '^VSLOAD t=' "$GUEST_CONSOLE")" -ge $want ] && break
		sleep 0.1
	done
	grep '^VSLOAD t=' "$GUEST_CONSOLE" | tr -d '\r' | sed -n "$((have + 1)),${want}p"
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# http_get URL [FILE]: the body (to FILE or stdout), status code on fd 3
# when it is open; exit status 1 when the server cannot be reached.
http_get() {
	python3 - "$1" "${2:-/dev/stdout}" <<'PY'
import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen(sys.argv[1], timeout=10)
    code, body = r.status, r.read()
except urllib.error.HTTPError as e:
    code, body = e.code, e.read()
except OSError as e:
    print(f"http_get {sys.argv[1]}: {e}", file=sys.stderr)
    sys.exit(1)
open(sys.argv[2], "wb").write(body)
try:
    open("/dev/fd/3", "w").write(f"{code}\n")
except OSError:
    pass
PY
}

# start_prometheus TARGET [INTERVAL]: Debian's Prometheus scraping TARGET
# (HOST:PORT, job "virtsync") every INTERVAL (default 1s), with its own
# configuration and storage under $TMP, listening on 127.0.0.1 only. Sets
# PROM_URL and PROM_PID; it is killed by its pid when the test ends. Its
# first scrape comes about 5 s after the start (discovery's update delay).
start_prometheus() {
	local target=$1 every=${2:-1s} port i
	command -v prometheus >/dev/null || skip "prometheus not installed ('make check-deps' installs Debian's)"
	mkdir -p "$TMP/prom/data"
	cat >"$TMP/prom/prometheus.yml" <<YML
global:
  scrape_interval: $every
  scrape_timeout: $every
  evaluation_interval: 1m
scrape_configs:
  - job_name: virtsync
    static_configs:
      - targets: ['$target']
YML
	port=$(free_port)
	prometheus --config.file="$TMP/prom/prometheus.yml" \
		--storage.tsdb.path="$TMP/prom/data" --storage.tsdb.retention.time=1h \
		--web.listen-address=127.0.0.1:"$port" --log.level=warn \
		>"$TMP/prom/log" 2>&1 &
	PROM_PID=$!
	at_exit "kill $PROM_PID 2>/dev/null; wait $PROM_PID 2>/dev/null"
	PROM_URL=http://127.0.0.1:$port
	for i in $(seq 100); do
		http_get "$PROM_URL/-/ready" /dev/null 2>/dev/null && return 0
		kill -0 "$PROM_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$TMP/prom/log"
	die "prometheus did not start"
}

# prom_query EXPR [TIME]: Prometheus' /api/v1/query answer (JSON) for EXPR
# at TIME (Unix seconds; default now).
prom_query() {
	python3 - "$PROM_URL" "$1" "${2:-}" <<'PY'
import json, sys, urllib.parse, urllib.request
q = {"query": sys.argv[2]}
if sys.argv[3]:
    q["time"] = sys.argv[3]
url = sys.argv[1] + "/api/v1/query?" + urllib.parse.urlencode(q)
d = json.load(urllib.request.urlopen(url, timeout=10))
assert d["status"] == "success", d
print(json.dumps(d["data"]))
PY
}

# vs_bpf_held PID: the BPF objects PID holds, "prog:ID" and "link:ID"
# from its fds' fdinfo, one a line; ask while PID runs.
vs_bpf_held() {
	grep -h '^prog_id:\|^link_id:' /proc/"$1"/fdinfo/* 2>/dev/null |
		awk '{ sub(/_id:/, "", $1); print $1 ":" $2 }' | sort -u
}

# vs_bpf_left OBJ...: those of the objects (as vs_bpf_held prints them)
# still loaded 5 s after their process ended, on one line; they are freed
# after an RCU grace period, and outlive it only when something else holds
# them: a leak. Only the ids a process held count: another virtsync
# running beside the test has programs of its own.
vs_bpf_left() {
	local obj left i
	for i in $(seq 50); do
		left=
		for obj in "$@"; do
			bpftool "${obj%%:*}" show id "${obj#*:}" >/dev/null 2>&1 && left="$left $obj"
		done
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	echo "$left"
}

# bpf_gone HELD WHAT: die when HELD (vs_bpf_held's output) has no program,
# when the check would prove nothing, or when one of them outlived its
# process.
bpf_gone() {
	local left
	echo "$1" | grep -q '^prog:' || die "$2: held no BPF program, nothing to check"
	left=$(vs_bpf_left $1)
	[ -z "$left" ] || die "$2: BPF objects left:$left"
}

# start_watch ARGS...: virtsync watch on a free loopback port in the
# background; WATCH_PID, WATCH_URL (its /metrics), stderr in $TMP/watch.err.
start_watch() {
	local i port
	"$VS" watch --listen 127.0.0.1:0 "$@" >"$TMP/watch.out" 2>"$TMP/watch.err" &
	WATCH_PID=$!
	at_exit "kill $WATCH_PID 2>/dev/null; wait $WATCH_PID 2>/dev/null"
	for i in $(seq 100); do
		port=$(sed -n 's|.*serving http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' "$TMP/watch.err")
		[ -n "$port" ] && break
		kill -0 "$WATCH_PID" 2>/dev/null || { cat "$TMP/watch.err"; die "watch exited"; }
		sleep 0.1
	done
	[ -n "$port" ] || { cat "$TMP/watch.err"; die "watch did not start serving"; }
	WATCH_PORT=$port
	WATCH_URL=http://127.0.0.1:$port/metrics
}
