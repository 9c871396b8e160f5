#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# SIGKILL of `diagnose` and `tune` while their reference device runs leaves
# nothing running (no device process, no BPF program or link) and the next
# run removes the files the killed one could not (its counters and control
# files, a tune plan of an older version). The device runs in threads of
# the command itself (lib/diagnose/device.h), so the kernel ends it with the
# command; before, a `virtsync bench` child went on for the rest of its run.
. "$(dirname "$0")/../lib.sh"
need_root
RUN=/run/virtsync
journal_clean=0
"$VS" verify 2>/dev/null | grep -q '^nothing applied' && journal_clean=1

# start_and_kill NAME CMD...: start CMD, wait until its device publishes
# (and, for diagnose, its probes are attached), SIGKILL it, and check that
# nothing it started runs on. Sets KILLED to its pid.
start_and_kill() {
	local name=$1 pid i k kids dev= progs links left
	shift
	"$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
	pid=$!
	# the device publishes under the pid of the process that runs it
	for i in $(seq 200); do
		for k in $pid $(ps -e -o pid=,ppid= | awk -v p=$pid '$2 == p { print $1 }'); do
			[ -e "$RUN/pcdev-$k.stats" ] && dev=$k
		done
		[ -n "$dev" ] && break
		kill -0 $pid 2>/dev/null || { cat "$TMP/$name.err"; die "$name ended before its device ran"; }
		sleep 0.05
	done
	[ -n "$dev" ] || { kill -9 $pid; die "$name: no device after 10 s"; }
	if [ "$name" = diagnose ]; then
		for i in $(seq 200); do
			grep -qh '^link_id:' /proc/$pid/fdinfo/* 2>/dev/null && break
			sleep 0.05
		done
	else
		sleep 1	# inside the loop: measuring before any change
	fi
	# every process descended from it, and the BPF objects it holds
	kids=$(ps -e -o pid=,ppid= | awk -v p=$pid '$2 == p { print $1 }')
	progs=$(grep -h '^prog_id:' /proc/$pid/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -un)
	links=$(grep -h '^link_id:' /proc/$pid/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -un)
	kill -9 $pid
	wait $pid 2>/dev/null
	for i in $(seq 50); do
		left=
		[ -d /proc/$pid ] && left="$left process:$pid"
		for k in $kids; do
			[ -d /proc/$k ] && left="$left child:$k($(tr '\0' ' ' </proc/$k/cmdline 2>/dev/null))"
		done
		for id in $progs; do
			bpftool prog show id "$id" >/dev/null 2>&1 && left="$left prog:$id"
		done
		for id in $links; do
			bpftool link show id "$id" >/dev/null 2>&1 && left="$left link:$id"
		done
		[ -z "$left" ] && break
		sleep 0.1
	done
	[ -z "$left" ] || die "$name: still there 5 s after SIGKILL:$left"
	pgrep -f "virtsync.* bench --preset" >/dev/null && die "$name: a bench process runs"
	echo "$name (pid $pid): killed with its device; $(echo "$progs" | grep -c .) BPF programs gone"
	KILLED=$dev
}

command -v bpftool >/dev/null || skip "needs bpftool"
start_and_kill diagnose "$VS" diagnose --workload fc-example --backend thread --duration 5s
dpid=$KILLED
# an older tune's plan file, left by a killed run of pid $dpid
echo '{}' >"$RUN/tune-plan-$dpid.json"
ls "$RUN/pcdev-$dpid".* >/dev/null 2>&1 ||
	echo "note: the killed diagnose left no file to clean (killed between writes)"

# tune's start is the next run: it sweeps diagnose's leftovers
start_and_kill tune "$VS" tune --auto --workload fc-tune --backend thread --duration 3s
tpid=$KILLED
ls "$RUN"/pcdev-$dpid.* "$RUN"/tune-plan-$dpid.json 2>/dev/null | grep . &&
	die "tune did not remove what the killed diagnose left"

# and the next diagnose sweeps tune's
expect_exit 0 "$VS" diagnose --workload fc-example --backend thread --duration 0.2s \
	--no-calibrate --no-probes
ls "$RUN"/pcdev-$tpid.* "$RUN"/tune-plan-$tpid.json 2>/dev/null | grep . &&
	die "diagnose did not remove what the killed tune left"
ls "$RUN"/pcdev-* 2>/dev/null | while read -r f; do
	p=${f##*pcdev-}; p=${p%%.*}; [ -d /proc/$p ] || echo "$f"; done | grep . &&
	die "files of dead devices remain"
if [ $journal_clean = 1 ]; then
	"$VS" verify 2>&1 | grep -q '^nothing applied' ||
		die "the killed tune left applied entries: $("$VS" verify 2>&1)"
fi
echo ok
