#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Every command as nobody: whatever it prints, it changes nothing. Before and
# after each run a snapshot is taken of everything virtsync writes: the knob
# files of this host (haltpoll, KVM halt polling, cpuidle disable flags,
# cpufreq governors, busy polling, NAPI, IRQ affinity), /run/virtsync (every
# entry, its owner, mode and content), the PM QoS holder, and a --root
# fixture tree with an apply in place (made by root). A command that needs
# root must say so in one line; every other outcome is reported as it is
# (exit status and the first line of stderr).
#
# usage: flock /tmp/vs-test.lock bench/privilege.sh
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
VS=${VIRTSYNC_BIN:-$TOP/.output/virtsync}
[ "$(id -u)" = 0 ] || { echo "privilege: needs root (to become nobody)" >&2; exit 1; }
command -v setpriv >/dev/null || { echo "privilege: needs setpriv (util-linux)" >&2; exit 1; }
TMP=$(mktemp -d /tmp/vs-priv.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
chmod 755 "$TMP"
FIX=$TMP/root
cp -a "$TOP/tests/fixtures/host1" "$FIX"
"$VS" --root "$FIX" apply "$TOP/tests/fixtures/profiles/multi.json" >/dev/null ||
	{ echo "privilege: the fixture apply failed" >&2; exit 1; }
cat >"$TMP/plan.json" <<'EOT'
{ "format": "virtsync-plan", "version": 1, "objective": "throughput", "source": "diagnose",
  "steps": [ { "knob": "guest.halt_poll_ns", "value": 123456 },
             { "knob": "net.core.busy_poll", "value": 7 } ] }
EOT
chmod 644 "$TMP/plan.json"

snapshot() {
	{
		for f in /sys/module/haltpoll/parameters/* /sys/module/kvm/parameters/halt_poll_ns \
			/sys/devices/system/cpu/cpu*/cpuidle/state*/disable \
			/sys/devices/system/cpu/cpu*/cpufreq/scaling_governor \
			/sys/devices/system/cpu/cpuidle/current_governor* \
			/proc/sys/net/core/busy_poll /proc/sys/net/core/busy_read \
			/sys/class/net/*/napi_defer_hard_irqs /sys/class/net/*/gro_flush_timeout \
			/proc/irq/*/smp_affinity_list; do
			[ -r "$f" ] && printf '%s=%s\n' "$f" "$(cat "$f" 2>/dev/null)"
		done
		for d in /run/virtsync "$FIX"; do
			[ -d "$d" ] && find "$d" -printf '%p %u %m %s\n' | sort
			[ -d "$d" ] && find "$d" -type f -exec sha1sum {} + 2>/dev/null | sort
		done
		# a PM QoS request of ours
		ls /run/virtsync/hold-* 2>/dev/null
		pgrep -a -f 'virtsync hold' 2>/dev/null
	} >"$1"
}
as_nobody() { (cd / && setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"); }

cmds=0 root_refused=0 failed=0 succeeded=0 changed=0
# case NEEDS-ROOT ARGS...: run virtsync ARGS as nobody, compare snapshots
case_() {
	local needs=$1 rc line
	shift
	snapshot "$TMP/before"
	as_nobody timeout -s KILL 60 "$VS" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
	rc=$?
	snapshot "$TMP/after"
	cmds=$((cmds + 1))
	line=$(grep -m1 . "$TMP/err" | cut -c1-100)
	if ! cmp -s "$TMP/before" "$TMP/after"; then
		changed=$((changed + 1))
		printf 'CHANGED %-44s exit %3d: %s\n' "$*" $rc "$line"
		diff "$TMP/before" "$TMP/after" | head -10 | sed 's/^/    /'
	fi
	if [ "$needs" = root ]; then
		if [ $rc = 1 ] && [ "$(wc -l <"$TMP/err")" = 1 ] && grep -q 'root' "$TMP/err"; then
			root_refused=$((root_refused + 1))
		else
			printf 'NOT REFUSED %-40s exit %3d: %s\n' "$*" $rc "$line"
		fi
	elif [ $rc = 0 ]; then
		succeeded=$((succeeded + 1))
	else
		failed=$((failed + 1))
	fi
	printf '%-56s exit %3d  %s\n' "$*" $rc "$line"
}

case_ root  rollback
case_ root  rollback --drop 0
case_ root  rollback --last
case_ root  --root "$FIX" rollback
case_ root  tune --auto --workload wakeup --duration 1s
case_ root  hold 10
case_ root  idlelat --samples 10
case_ root  idlelat --restore
case_ other apply latency-poll
case_ other apply latency-poll --dry-run
case_ other apply --plan "$TMP/plan.json"
case_ other --root "$FIX" apply "$TOP/tests/fixtures/profiles/multi.json"
case_ other --root "$FIX" apply --plan "$TMP/plan.json"
case_ other verify
case_ other --root "$FIX" verify
case_ other watch --count 1 --interval 300ms --tune
case_ other watch --count 1 --interval 300ms
case_ other diagnose --workload fc-example --duration 1s
case_ other diagnose --workload fc-example --duration 1s --save "$TMP/d.json"
case_ other stat --interval 300ms --count 1
case_ other bench --preset fc-example --duration 1s
case_ other sleepcost --quick
case_ other topo --no-measure
case_ other model --preset fc-example
case_ other sim --preset fc-example --items 20000
case_ other profiles list
case_ other export latency-poll --tuned "$TMP/tuned"
case_ other report --from "$TOP/tests/fixtures/report/diagnose.json" -o "$TMP/r.html"
echo "privilege: $cmds commands as nobody; $root_refused of 8 root-only refused in one line;" \
	"$succeeded others ran, $failed others failed; $changed changed a knob, /run/virtsync or the fixture tree"
[ "$changed" = 0 ] && [ "$root_refused" = 8 ]
