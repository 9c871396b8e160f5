#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# SIGKILL of `virtsync stat` leaves no BPF program or link behind: the
# probes hold their programs only through file descriptors (no pinning), so
# the kernel drops them when the process dies. Proof: collect the exact
# program and link ids the process holds (/proc/PID/fdinfo), kill -9 it,
# then ask the kernel for each id.
. "$(dirname "$0")/../lib.sh"
need_root
command -v bpftool >/dev/null || skip "needs bpftool"

"$VS" stat --interval 1s >"$TMP/out" 2>"$TMP/err" &
pid=$!
progs= links=
for _ in $(seq 100); do
	progs=$(grep -h '^prog_id:' /proc/$pid/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -un)
	links=$(grep -h '^link_id:' /proc/$pid/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -un)
	[ "$(echo "$links" | grep -c .)" -ge 10 ] && break
	sleep 0.1
done
n_progs=$(echo "$progs" | grep -c .)
n_links=$(echo "$links" | grep -c .)
[ "$n_links" -ge 10 ] || { cat "$TMP/err"; kill -9 $pid; die "stat attached only $n_links links"; }
# The ids are virtsync's programs (other virtsync instances may run at the
# same time: only the ids this process holds count).
n_vs=0
for id in $progs; do
	bpftool -j prog show id "$id" 2>/dev/null | grep -q '"name":"vs_' && n_vs=$((n_vs + 1))
done
[ "$n_vs" -ge 10 ] || { kill -9 $pid; die "only $n_vs vs_ programs held by stat"; }
for id in $links; do
	bpftool link show id "$id" >/dev/null 2>&1 || { kill -9 $pid; die "link $id not visible while running"; }
done

held=$(vs_bpf_held $pid)
kill -9 $pid
wait $pid 2>/dev/null
left=$(vs_bpf_left $held)
[ -z "$left" ] || die "still attached after SIGKILL:$left"
echo "held $n_progs programs and $n_links links; all gone after SIGKILL"
echo ok
