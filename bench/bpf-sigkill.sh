#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# SIGKILL of `virtsync stat` and `virtsync diagnose` while their BPF probes
# load, attach or run, N times at random moments (0-1.5 s after the start,
# so some kills land during the load and attach): afterwards no vs_ BPF
# program or link of theirs is left. Two checks per kill: every program and
# link id the process held (/proc/PID/fdinfo, sampled until the kill) is gone
# from the kernel (bpftool), and no vs_ program exists that was not there
# before the run and that no live process holds (a program loaded between
# the last sample and the kill is caught by the second).
#
# usage: flock /tmp/vs-test.lock bench/bpf-sigkill.sh [N]
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
VS=${VIRTSYNC_BIN:-$TOP/.output/virtsync}
N=${1:-40}
[ "$(id -u)" = 0 ] || { echo "bpf-sigkill: needs root" >&2; exit 1; }
command -v bpftool >/dev/null || { echo "bpf-sigkill: needs bpftool" >&2; exit 1; }
TMP=$(mktemp -d /tmp/vs-bpfkill.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

vs_progs() { # the ids of every vs_ program the kernel has
	bpftool -j prog show 2>/dev/null |
		python3 -c 'import json,sys; print("\n".join(str(p["id"]) for p in json.load(sys.stdin) if p.get("name","").startswith("vs_")))' |
		sort -n
}
held_progs() { # the program ids some live process holds
	grep -h '^prog_id:' /proc/[0-9]*/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -un
}

kills=0 held_total=0 links_total=0 left_held=0 orphans=0 during_load=0
for i in $(seq 1 "$N"); do
	vs_progs >"$TMP/before"
	if [ $((i % 2)) = 1 ]; then
		what=stat
		"$VS" stat --interval 1s >/dev/null 2>&1 &
	else
		what=diagnose
		"$VS" diagnose --workload fc-example --backend thread --duration 5s >/dev/null 2>&1 &
	fi
	pid=$!
	deadline=$(( $(date +%s%N) + (RANDOM % 1500) * 1000000 ))
	progs= links=
	while [ "$(date +%s%N)" -lt $deadline ] && kill -0 $pid 2>/dev/null; do
		progs=$( (echo "$progs"; grep -h '^prog_id:' /proc/$pid/fdinfo/* 2>/dev/null | awk '{print $2}') | sort -un | sed '/^$/d')
		links=$( (echo "$links"; grep -h '^link_id:' /proc/$pid/fdinfo/* 2>/dev/null | awk '{print $2}') | sort -un | sed '/^$/d')
		sleep 0.02
	done
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	kills=$((kills + 1))
	np=$(echo "$progs" | grep -c .)
	nl=$(echo "$links" | grep -c .)
	held_total=$((held_total + np))
	links_total=$((links_total + nl))
	[ "$nl" -lt 10 ] && during_load=$((during_load + 1))
	# programs go after an RCU grace period: up to 5 s
	for _ in $(seq 50); do
		left=
		for id in $progs; do bpftool prog show id "$id" >/dev/null 2>&1 && left="$left prog:$id"; done
		for id in $links; do bpftool link show id "$id" >/dev/null 2>&1 && left="$left link:$id"; done
		[ -z "$left" ] && break
		sleep 0.1
	done
	if [ -n "$left" ]; then
		left_held=$((left_held + 1))
		echo "LEFT after SIGKILL of $what #$i:$left"
	fi
	# vs_ programs new since the start of this run that nobody holds
	for _ in $(seq 20); do
		vs_progs >"$TMP/after"
		held_progs >"$TMP/held"
		new=$(comm -13 "$TMP/before" "$TMP/after" | comm -23 - "$TMP/held" | tr '\n' ' ')
		[ -z "$new" ] && break
		sleep 0.25
	done
	if [ -n "$new" ]; then
		orphans=$((orphans + 1))
		echo "ORPHAN vs_ programs after SIGKILL of $what #$i: $new"
	fi
done
echo "bpf sigkill: $kills SIGKILLs of stat/diagnose (${during_load} before all links were attached);" \
	"$held_total program and $links_total link ids held at the kill;" \
	"$left_held kills left a held id behind, $orphans left an unheld vs_ program"
[ "$left_held" = 0 ] && [ "$orphans" = 0 ]
