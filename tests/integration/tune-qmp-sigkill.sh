#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# SIGKILL of `tune --qmp` while its objective command runs leaves none of
# the objective's process tree behind. PR_SET_PDEATHSIG alone reaches only
# tune's direct child; the objective here starts a grandchild (a `sleep
# 300` renamed to a marker unique to this run), which must die too.
. "$(dirname "$0")/../lib.sh"
need_root
need_kvm
start_qemu_qmp -smp 1 -object iothread,id=io0
sock=$QMP_SOCK
mark="vs-orphan-mark-$$-$RANDOM"

mkdir -p "$TMP/root/sys/devices/system/cpu" "$TMP/root/run/virtsync"
cp /sys/devices/system/cpu/online "$TMP/root/sys/devices/system/cpu/online"
live_proc_in "$TMP/root"
cat >"$TMP/plan.json" <<EOF
{ "format": "virtsync-plan", "version": 1, "objective": "throughput",
  "steps": [ { "knob": "iothread.poll_max_ns",
               "target": { "qmp": "\${qmp}", "iothread": "io0" }, "value": 200000 } ] }
EOF
# the objective: a shell whose child (the marked sleep) outlives any window
printf '#!/bin/bash\nbash -c "exec -a %s-grandchild sleep 300" &\nwait\necho 1\n' "$mark" \
	>"$TMP/$mark.sh"
chmod +x "$TMP/$mark.sh"

"$VS" --root "$TMP/root" tune --auto --qmp "$sock" --objective "$TMP/$mark.sh" \
	--plan "$TMP/plan.json" >"$TMP/tune.out" 2>"$TMP/tune.err" &
tpid=$!
for i in $(seq 200); do
	pgrep -f "$mark-grandchild" >/dev/null && break
	kill -0 $tpid 2>/dev/null || { cat "$TMP/tune.err"; die "tune ended before its objective ran"; }
	sleep 0.05
done
pgrep -f "$mark-grandchild" >/dev/null || { kill -9 $tpid; die "no objective grandchild after 10 s"; }
tree=$(pgrep -f "$mark" | tr '\n' ' ')
[ "$(echo $tree | wc -w)" -ge 2 ] || die "expected the objective script and its grandchild, got: $tree"
kill -9 $tpid
wait $tpid 2>/dev/null
# poll: gone within 2 s
for i in $(seq 40); do
	left=$(pgrep -f "$mark")
	[ -z "$left" ] && break
	sleep 0.05
done
if [ -n "$left" ]; then
	ps -o pid,ppid,pgid,args -p "$(echo $left | tr ' ' ,)" >&2
	kill -9 $left 2>/dev/null
	die "the objective's processes outlived tune by 2 s: $left"
fi
echo "tune killed mid-objective: its tree ($tree) gone"
# killed while measuring before any change; the journal must still be sane
expect_exit 0 "$VS" --root "$TMP/root" rollback
