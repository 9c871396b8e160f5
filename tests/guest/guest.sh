#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# guest.sh: start, watch and stop the test guest, a real Linux guest under
# QEMU (Debian's stock kernel, busybox, our vsload workload; built by
# `make linux-guest`, on demand by this script). See docs/real-guests.md.
#
#   guest.sh start DIR [OPTIONS]   boot it; returns once the guest reports
#   guest.sh stop DIR              stop QEMU and the far end (by their PIDs)
#   guest.sh run [OPTIONS]         start, print the guest's reports for
#                                  --duration, stop (whatever happens)
#   guest.sh figure DIR [--lines N] [--field F]
#                                  wait for N fresh report lines, print the
#                                  mean of field F (ops_s; lat_avg_us is
#                                  printed in ns): an objective for tune
#
# OPTIONS
#   --workload blk|net|rr   block I/O, a packet stream, or QD1 request/
#                           response over virtio-net (default blk)
#   --qd N --rw read|write --bs BYTES       block (default 1, read, 4096)
#   --size BYTES --rate PPS                 net (default 64, 0 = flat out)
#   --latency TIME          service time of the null-co backend (default 0)
#   --no-iothread           virtio-blk served by QEMU's main loop
#   --poll-max TIME         the iothread's poll-max-ns at start
#   --with-net / --with-blk also give the guest the other device
#   --also blk|net|rr       run a second workload (its default options)
#                           beside the first, on its own device
#   --smp N --memory MB     default 1 vCPU, 256 MB
#   --cpus LIST             run QEMU on these host CPUs only (taskset)
#   --accel auto|kvm|tcg    auto: KVM when a stock guest boots under it
#                           here (probed once, the verdict is cached),
#                           TCG otherwise
#   --duration TIME         run: how long (default 10s); the guest itself
#                           runs until stopped
#
# start prints key=value lines (pid, qmp, console, accel, farend_log).
# DIR/qmp-test.sock is a second QMP monitor, for a test's own reader
# while virtsync holds the first (a QMP socket serves one client).
# Every process it starts is recorded in DIR (qemu.pid, farend.pid) and
# stopped by that PID, after checking the PID is still ours.
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=${VS_OUTPUT:-$TOP/.output}
case $OUT in /*) ;; *) OUT=$TOP/$OUT ;; esac
KERNEL=$OUT/guest-cache/vmlinuz
INITRD=$OUT/linux-guest/initramfs.cpio.gz
BOOT_TIMEOUT=${VS_GUEST_BOOT_TIMEOUT:-45}
KVM_PROBE_TIMEOUT=${VS_GUEST_KVM_PROBE:-10}

die() { echo "guest.sh: $*" >&2; exit 1; }
usage() { echo "guest.sh: $*" >&2; exit 2; }

# TIME in ns/us/ms/s/m/h -> integer ns; as in virtsync, a bare number
# other than 0 is refused (which unit would it be?)
to_ns() {
	local v=$1 n u
	[ "$v" = 0 ] && { echo 0; return 0; }
	[[ $v =~ ^([0-9]+(\.[0-9]+)?)(ns|us|ms|s|m|h)$ ]] || return 1
	n=${BASH_REMATCH[1]} u=${BASH_REMATCH[3]}
	awk -v n="$n" -v u="${u:-ns}" 'BEGIN {
		m = u == "ns" ? 1 : u == "us" ? 1e3 : u == "ms" ? 1e6 : \
		    u == "s" ? 1e9 : u == "m" ? 6e10 : 3.6e12
		printf "%.0f\n", n * m }'
}

# is_ours DIR PID: PID is a live process started for DIR
is_ours() {
	[ -n "$2" ] && [ -r "/proc/$2/cmdline" ] &&
		tr '\0' ' ' <"/proc/$2/cmdline" | grep -qF -- "$1/"
}

# alive PID: exists and is not a zombie (a daemonized QEMU's parent is
# whoever reaps orphans here, and may be slow to)
alive() {
	[ -r "/proc/$1/stat" ] && ! awk '{ exit $3 != "Z" }' "/proc/$1/stat" 2>/dev/null
}

stop_pidfile() { # DIR FILE
	local pid i
	[ -s "$1/$2" ] || return 0
	pid=$(cat "$1/$2")
	if is_ours "$1" "$pid"; then
		kill "$pid" 2>/dev/null
		for i in $(seq 50); do
			alive "$pid" || break
			sleep 0.1
		done
		is_ours "$1" "$pid" && kill -9 "$pid" 2>/dev/null
		for i in $(seq 20); do
			alive "$pid" || break
			sleep 0.1
		done
	fi
	rm -f "$1/$2"
}

cmd_stop() {
	local dir=${1:?stop DIR}
	stop_pidfile "$dir" qemu.pid
	stop_pidfile "$dir" farend.pid
	return 0
}

build() {
	[ -s "$KERNEL" ] && [ -s "$INITRD" ] && [ "$INITRD" -nt "$TOP/tests/guest/init.sh" ] &&
		[ "$INITRD" -nt "$TOP/tests/guest/vsload.c" ] && return 0
	make -s -C "$TOP" OUTPUT="$OUT" linux-guest >"$OUT/linux-guest.log" 2>&1 ||
		die "cannot build the guest: $(grep -E '^(guest kernel|hint|make)' "$OUT/linux-guest.log" | head -2 | tr '\n' ' ')"
}

# wait_line DIR PATTERN TIMEOUT: the console shows PATTERN, or QEMU died
wait_line() {
	local end=$((SECONDS + $3))
	while [ $SECONDS -lt $end ]; do
		grep -q -- "$2" "$1/console.log" 2>/dev/null && return 0
		is_ours "$1" "$(cat "$1/qemu.pid" 2>/dev/null)" || return 2
		sleep 0.2
	done
	return 1
}

needs_net() {
	[ "$workload" != blk ] || [ "$with_net" = 1 ] || { [ -n "$also" ] && [ "$also" != blk ]; }
}

free_udp_port() {
	python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# launch DIR ACCEL: QEMU daemonized with the options parsed into globals
launch() {
	local dir=$1 accel=$2 args=() append io=
	rm -f "$dir/console.log" "$dir/qemu.pid" "$dir/qmp.sock" "$dir/qmp-test.sock"
	args=(-accel "$accel" -nodefaults -display none -no-reboot
		-name "vsguest,debug-threads=on" -m "$memory" -smp "$smp"
		-kernel "$KERNEL" -initrd "$INITRD"
		-serial "file:$dir/console.log"
		-qmp "unix:$dir/qmp.sock,server=on,wait=off"
		-qmp "unix:$dir/qmp-test.sock,server=on,wait=off"
		-daemonize -pidfile "$dir/qemu.pid")
	if [ "$workload" = blk ] || [ "$with_blk" = 1 ] || [ "$also" = blk ]; then
		if [ "$iothread" = 1 ]; then
			args+=(-object "iothread,id=io1${poll_max:+,poll-max-ns=$poll_max}")
			io=,iothread=io1
		fi
		args+=(-drive "if=none,id=d0,driver=null-co,size=1G,latency-ns=$latency,read-zeroes=on"
			-device "virtio-blk-pci,id=blk0,drive=d0$io")
	fi
	if needs_net; then
		args+=(-netdev "socket,id=n0,udp=127.0.0.1:$far_port,localaddr=127.0.0.1:$qemu_port"
			-device "virtio-net-pci,id=net0,netdev=n0,mac=02:00:00:00:00:01")
	fi
	append="console=ttyS0 quiet loglevel=3 ipv6.disable=1 vsload=$workload"
	append+=$(printf ',%s' "${load_args[@]}")
	case $also in
	blk) append+="+blk,--qd,1" ;;
	net) append+="+net,--size,64,--rate,1000" ;;
	rr) append+="+rr,--size,64" ;;
	esac
	local pin=()
	[ -n "$cpus" ] && pin=(taskset -c "$cpus")
	"${pin[@]}" qemu-system-x86_64 "${args[@]}" -append "$append" 2>"$dir/qemu.err" ||
		die "QEMU did not start: $(tail -1 "$dir/qemu.err")"
}

start_farend() {
	local dir=$1 echo=()
	qemu_port=$(free_udp_port)
	{ [ "$workload" = rr ] || [ "$also" = rr ]; } && echo=(--echo --peer-port "$qemu_port")
	rm -f "$dir/farend.port"
	python3 "$TOP/tests/guest/farend.py" --port-file "$dir/farend.port" "${echo[@]}" \
		>"$dir/farend.log" 2>&1 </dev/null &
	echo $! >"$dir/farend.pid"
	for _ in $(seq 50); do [ -s "$dir/farend.port" ] && break; sleep 0.1; done
	far_port=$(cat "$dir/farend.port" 2>/dev/null) || die "the far end did not start"
}

# auto: a stock kernel boots under KVM in a second or two on a host with
# hardware virtualization; on nested hosts whose KVM runs guest code in an
# emulator it prints nothing for minutes. Probe once and remember.
pick_accel() {
	local dir=$1 verdict=$OUT/guest-cache/accel-$(uname -r)
	if [ "$accel" != auto ]; then echo "$accel"; return; fi
	if ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then echo tcg; return; fi
	if [ -s "$verdict" ]; then cut -d: -f1 "$verdict"; return; fi
	launch "$dir" kvm
	if wait_line "$dir" "vsguest: up" "$KVM_PROBE_TIMEOUT"; then
		echo "kvm: a stock guest booted in under ${KVM_PROBE_TIMEOUT}s" >"$verdict"
		echo kvm-running
	else
		stop_pidfile "$dir" qemu.pid
		echo "tcg: a stock guest printed nothing under KVM in ${KVM_PROBE_TIMEOUT}s" >"$verdict"
		echo tcg
	fi
}

parse_opts() {
	workload=blk qd=1 rw=read bs=4096 size=64 rate=0 latency=0 iothread=1
	poll_max= with_net=0 with_blk=0 smp=1 memory=256 accel=auto duration_ns=10000000000 cpus= also=
	while [ $# -gt 0 ]; do
		case $1 in
		--workload) workload=${2:-}; shift ;;
		--qd) qd=${2:-}; shift ;;
		--rw) rw=${2:-}; shift ;;
		--bs) bs=${2:-}; shift ;;
		--size) size=${2:-}; shift ;;
		--rate) rate=${2:-}; shift ;;
		--latency) latency=$(to_ns "${2:-}") || usage "bad --latency '${2:-}'"; shift ;;
		--poll-max) poll_max=$(to_ns "${2:-}") || usage "bad --poll-max '${2:-}'"; shift ;;
		--duration) duration_ns=$(to_ns "${2:-}") || usage "bad --duration '${2:-}'"; shift ;;
		--no-iothread) iothread=0 ;;
		--with-net) with_net=1 ;;
		--with-blk) with_blk=1 ;;
		--smp) smp=${2:-}; shift ;;
		--memory) memory=${2:-}; shift ;;
		--cpus) cpus=${2:-}; shift ;;
		--also) also=${2:-}; shift ;;
		--accel) accel=${2:-}; shift ;;
		*) usage "unknown option '$1'" ;;
		esac
		shift
	done
	case $workload in
	blk) load_args=(--qd "$qd" --rw "$rw" --bs "$bs") ;;
	net) load_args=(--size "$size" --rate "$rate") ;;
	rr) load_args=(--size "$size") ;;
	*) usage "unknown workload '$workload' (blk, net or rr)" ;;
	esac
	case $accel in auto|kvm|tcg) ;; *) usage "unknown accel '$accel' (auto, kvm or tcg)" ;; esac
	[[ $cpus =~ ^[0-9,-]*$ ]] || usage "--cpus takes a CPU list such as 0 or 0-1"
	case $also in ""|blk|net|rr) ;; *) usage "unknown workload '$also' for --also (blk, net or rr)" ;; esac
	[ "$also" != "$workload" ] || [ -z "$also" ] || usage "--also names the workload already run"
	[[ $qd$bs$size$rate$smp$memory =~ ^[0-9]+$ ]] || usage "--qd, --bs, --size, --rate, --smp and --memory take integers"
}

cmd_start() {
	local dir=${1:-} a
	[ -n "$dir" ] || usage "start needs a directory"
	shift
	parse_opts "$@"
	command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not installed (make deps)"
	mkdir -p "$dir" && dir=$(cd "$dir" && pwd)
	build
	cmd_stop "$dir"
	far_port=0 qemu_port=0
	if needs_net; then start_farend "$dir"; fi
	a=$(pick_accel "$dir")
	if [ "$a" = kvm-running ]; then a=kvm; else launch "$dir" "$a"; fi
	echo "$a" >"$dir/accel"
	if ! wait_line "$dir" "^VSLOAD t=1 " "$BOOT_TIMEOUT"; then
		tail -5 "$dir/console.log" "$dir/qemu.err" >&2 2>/dev/null
		cmd_stop "$dir"
		die "the guest did not report within ${BOOT_TIMEOUT}s (accel $a)"
	fi
	echo "pid=$(cat "$dir/qemu.pid")"
	echo "qmp=$dir/qmp.sock"
	echo "console=$dir/console.log"
	echo "accel=$a"
	[ -s "$dir/farend.pid" ] && echo "farend_log=$dir/farend.log"
	return 0
}

cmd_run() {
	local dir end n=0
	dir=$(mktemp -d /tmp/vsguest.XXXXXX)
	RUN_DIR=$dir
	# whatever happens (error, ^C, TERM), QEMU and the far end go
	trap 'cmd_stop "$RUN_DIR"; rm -rf "$RUN_DIR"' EXIT
	trap 'exit 130' INT TERM
	cmd_start "$dir" "$@" >"$dir/start.out" || exit 1
	sed 's/^/# /' "$dir/start.out"
	end=$((SECONDS + (duration_ns + 999999999) / 1000000000))
	while [ $SECONDS -lt $end ]; do
		sleep 0.5
		tail -n +$((n + 1)) "$dir/console.log" | tr -d '\r' | grep '^VSLOAD t=' || true
		n=$(wc -l <"$dir/console.log")
	done
}

cmd_figure() {
	local dir=${1:-} lines=3 field=ops_s have want i
	[ -n "$dir" ] || usage "figure needs a directory"
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--lines) lines=${2:-}; shift ;;
		--field) field=${2:-}; shift ;;
		*) usage "unknown option '$1'" ;;
		esac
		shift
	done
	have=$(grep -c '^VSLOAD t=' "$dir/console.log")
	# the first fresh line straddles whatever changed just before: skipped
	want=$((have + 1 + lines))
	for i in $(seq $((lines * 20 + 40))); do
		[ "$(grep -c '^VSLOAD t=' "$dir/console.log")" -ge $want ] && break
		is_ours "$dir" "$(cat "$dir/qemu.pid" 2>/dev/null)" || die "the guest is gone"
		sleep 0.1
	done
	grep '^VSLOAD t=' "$dir/console.log" | sed -n "$((have + 2)),$((want))p" |
		awk -v f="$field" '{ for (i = 1; i <= NF; i++) { split($i, kv, "=");
			if (kv[1] == f) { s += kv[2]; n++ } } }
		END { if (!n) exit 1; v = s / n; if (f ~ /_us$/) v *= 1000; printf "%.1f\n", v }' ||
		die "no field '$field' in the guest's reports"
}

case ${1:-} in
start) shift; cmd_start "$@" ;;
stop) shift; cmd_stop "$@" ;;
run) shift; cmd_run "$@" ;;
figure) shift; cmd_figure "$@" ;;
*) usage "start DIR|stop DIR|run|figure DIR [options] (see the header of $0)" ;;
esac
