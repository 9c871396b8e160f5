#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# virtsync export: tuned.conf parses as INI (Python configparser) with the
# expected sections and keys for shipped profiles and a plan; script.sh is
# executable, passes bash -n, and its start/stop really change and restore
# a live thread's timer slack and a reference-device control file; --libvirt
# parses as XML with the expected elements; --qemu has the options; bad
# input is one line, exit 2, no files.
. "$(dirname "$0")/../lib.sh"

# ini DIR 'python expr on c (the parser)': keys keep their case
ini() {
	python3 - "$1/tuned.conf" "$2" <<'PY'
import configparser, sys
c = configparser.ConfigParser(interpolation=None, delimiters=("=",))
c.optionxform = str
assert c.read(sys.argv[1]) == [sys.argv[1]]
print(eval(sys.argv[2]))
PY
}
check_script() {
	[ -x "$1/script.sh" ] || die "$1/script.sh is not executable"
	bash -n "$1/script.sh" || die "$1/script.sh: bash -n fails"
	[ "$(stat -c %a "$1/tuned.conf")" = 644 ] || die "$1/tuned.conf mode $(stat -c %a "$1/tuned.conf")"
}

# --- shipped profiles ---------------------------------------------------
expect_exit 0 "$VS" export latency-poll --tuned "$TMP/lp" --dmax 100us
check_script "$TMP/lp"
[ "$(ini "$TMP/lp" 'c.sections()')" = "['main', 'sysfs', 'sysctl', 'cpu', 'script']" ] ||
	die "latency-poll sections: $(ini "$TMP/lp" 'c.sections()')"
[ "$(ini "$TMP/lp" 'c["sysfs"]["/sys/module/haltpoll/parameters/guest_halt_poll_ns"]')" = 100000 ] ||
	die "latency-poll: guest_halt_poll_ns is not --dmax"
[ "$(ini "$TMP/lp" 'c["sysfs"]["/sys/module/kvm/parameters/halt_poll_ns"]')" = 100000 ] ||
	die "latency-poll: kvm halt_poll_ns"
[ "$(ini "$TMP/lp" 'c["sysctl"]["net.core.busy_poll"], c["sysctl"]["net.core.busy_read"]')" = "('50', '50')" ] ||
	die "latency-poll: sysctls"
[ "$(ini "$TMP/lp" 'c["cpu"]["force_latency"]')" = 20 ] || die "latency-poll: force_latency"
[ "$(ini "$TMP/lp" 'c["script"]["script"]')" = '${i:PROFILE_DIR}/script.sh' ] ||
	die "latency-poll: script="
ini "$TMP/lp" 'c["main"]["summary"]' | grep -qx "virtsync profile latency-poll: Latency first: the waiting side\.\.\." ||
	die "summary: $(ini "$TMP/lp" 'c["main"]["summary"]')"

expect_exit 0 "$VS" export energy --tuned "$TMP/en"
check_script "$TMP/en"
[ "$(ini "$TMP/en" 'c["cpu"]["governor"]')" = powersave ] || die "energy: governor"
[ "$(ini "$TMP/en" '"force_latency" in c["cpu"]')" = False ] || die "energy: pmqos none became a latency"
[ "$(ini "$TMP/en" 'c["sysfs"]["/sys/module/haltpoll/parameters/guest_halt_poll_ns"]')" = 0 ] ||
	die "energy: guest_halt_poll_ns"

expect_exit 0 "$VS" export notify-batch --tuned "$TMP/nb" --set netdev=tap7
check_script "$TMP/nb"
[ "$(ini "$TMP/nb" 'c["sysfs"]["/sys/class/net/tap7/napi_defer_hard_irqs"], c["sysfs"]["/sys/class/net/tap7/gro_flush_timeout"]')" = \
  "('2', '20000')" ] || die "notify-batch: netdev keys"

# --- a plan with every kind of step ------------------------------------
cat >"$TMP/plan.json" <<'EOF'
{ "format": "virtsync-plan", "version": 1, "objective": "latency",
  "source": "diagnose", "regime": "sFC", "dmax_ns": 50000,
  "variables": { "vm": "vm1" },
  "steps": [
    { "knob": "thread.affinity", "target": { "name": "${vm}", "role": "vcpu" }, "value": "1" },
    { "knob": "thread.affinity", "target": { "name": "${vm}", "role": "iothread" }, "value": "0" },
    { "knob": "thread.affinity", "target": { "name": "${vm}" }, "value": "0-1" },
    { "knob": "thread.timerslack_ns", "target": { "name": "${vm}", "role": "vhost" }, "value": 1 },
    { "knob": "iothread.poll_max_ns", "target": { "qmp": "/run/vm1.qmp", "iothread": "io0" },
      "value": "${dmax}" },
    { "knob": "cpuidle.state_disable", "target": { "cpus": "0", "state": 2 }, "value": 1 },
    { "knob": "cpuidle.state_disable", "target": { "state": "POLL" }, "value": 0 },
    { "knob": "cpufreq.governor", "target": { "cpus": "1" }, "value": "performance" },
    { "knob": "irq.affinity", "target": { "irq": "24,25" }, "value": "0" }
  ],
  "evidence": { "queues": [ { "recommendation": { "actions": [
    { "knob": "vhost.poll_us", "pid": 4242, "role": "vhost", "value": "50",
      "applies": "restart", "why": "vhost polls the ring" } ] } } ] } }
EOF
expect_exit 0 "$VS" export --plan "$TMP/plan.json" --tuned "$TMP/pl"
check_script "$TMP/pl"
[ "$(ini "$TMP/pl" 'c.sections()')" = "['main', 'sysfs', 'cpu_virtsync0', 'scheduler', 'script']" ] ||
	die "plan sections: $(ini "$TMP/pl" 'c.sections()')"
[ "$(ini "$TMP/pl" 'c["sysfs"]["/sys/devices/system/cpu/cpu0/cpuidle/state2/disable"]')" = 1 ] ||
	die "plan: numeric idle state not in [sysfs]"
[ "$(ini "$TMP/pl" 'c["cpu_virtsync0"]["type"], c["cpu_virtsync0"]["devices"], c["cpu_virtsync0"]["governor"]')" = \
  "('cpu', 'cpu1', 'performance')" ] || die "plan: governor for cpu1"
# whole-VM affinity: mask 0x3, regex on QEMU's -name
[ "$(ini "$TMP/pl" 'c["scheduler"]["group.virtsync0"].split(":")[:4]')" = "['0', '*', '*', '3']" ] ||
	die "plan: scheduler group $(ini "$TMP/pl" 'c["scheduler"]')"
python3 -c 'import re,sys; r=sys.argv[1].split(":",4)[4]; assert re.search(r, "qemu-system-x86_64 -name guest=vm1,debug-threads=on"); assert not re.search(r, "qemu-system-x86_64 -name guest=vm10")' \
	"$(ini "$TMP/pl" 'c["scheduler"]["group.virtsync0"]')" || die "scheduler regex does not pick vm1 alone"
# what tuned cannot say is in the script
for want in "threads_of \"\$pid\" 'vcpu'" "set_affinity \"\$tid\" 1" "/proc/\$tid/timerslack_ns\" 1" \
	    "set_iothread '/run/vm1.qmp' io0 50000" "= 'POLL' ]" "smp_affinity_list\" 0"; do
	grep -qF "$want" "$TMP/pl/script.sh" || die "script.sh lacks: $want"
done

# --libvirt: well-formed XML with the pins
expect_exit 0 "$VS" export --plan "$TMP/plan.json" --libvirt --vcpus 2
python3 - "$TMP/out" <<'PY' || die "libvirt XML: $(cat "$TMP/out")"
import sys, xml.etree.ElementTree as ET
d = ET.parse(sys.argv[1]).getroot()
ct = d.find("cputune")
assert [(p.get("vcpu"), p.get("cpuset")) for p in ct.findall("vcpupin")] == [("0", "1"), ("1", "1")]
assert ct.find("emulatorpin").get("cpuset") == "0-1"
assert ct.find("iothreadpin").attrib == {"iothread": "1", "cpuset": "0"}
assert d.find("devices/interface/driver").get("name") == "vhost"
q = "{http://libvirt.org/schemas/domain/qemu/1.0}"
args = [a.get("value") for a in d.find(q + "commandline").findall(q + "arg")]
assert any("poll-us=50" in a for a in args), args
PY
# --qemu: the options
expect_exit 0 "$VS" export --plan "$TMP/plan.json" --qemu
grep -qx -- "-netdev tap,id=net0,vhost=on,poll-us=50" "$TMP/out" || die "qemu: poll-us: $(cat "$TMP/out")"
grep -qx -- "-object iothread,id=io0,poll-max-ns=50000" "$TMP/out" || die "qemu: poll-max-ns"
[ "$(grep -v '^#' "$TMP/out" | wc -l)" = 2 ] || die "qemu: other lines than options and comments"

# JSON carries the same texts
expect_exit 0 "$VS" export --plan "$TMP/plan.json" --qemu --json
json_get "$TMP/out" 'd["qemu"]' | grep "poll-max-ns=50000" >/dev/null || die "json qemu"

# --- script.sh start/stop on live threads ------------------------------
if [ "$(id -u)" = 0 ]; then
	# a process with a thread named like QEMU's iothread, and a control
	# file as the reference device keeps it (lib/pcdev/ctlfile.h)
	python3 -c '
import threading, time, ctypes
libc = ctypes.CDLL(None)
def io():
    libc.prctl(15, b"IO io0", 0, 0, 0)
    time.sleep(60)
threading.Thread(target=io, daemon=True).start()
time.sleep(60)' &
	holder=$!
	trap 'kill $holder 2>/dev/null; rm -f /run/virtsync/pcdev-$holder.ctl; rm -rf "$TMP"' EXIT
	for _ in $(seq 50); do
		tid=$(grep -lx "IO io0" /proc/$holder/task/*/comm 2>/dev/null | head -1 | cut -d/ -f5)
		[ -n "$tid" ] && break
		sleep 0.1
	done
	[ -n "$tid" ] || die "helper thread did not get its name"
	mkdir -p /run/virtsync
	printf '# virtsync pcdev control 1\nhalt_poll_ns=0\nconsumer_busyloop_ns=7\nconsumer_sleep_ns=1000\n' \
		>/run/virtsync/pcdev-$holder.ctl
	cat >"$TMP/live.json" <<EOF
{ "format": "virtsync-profile", "version": 1, "name": "vs-export-live",
  "description": "live script test",
  "steps": [
    { "knob": "thread.timerslack_ns", "target": { "pid": $holder, "role": "iothread" }, "value": 1 },
    { "knob": "pcdev.consumer_sleep_ns", "target": { "pid": $holder }, "value": 20000 }
  ] }
EOF
	expect_exit 0 "$VS" export "$TMP/live.json" --tuned "$TMP/live"
	slack0=$(cat /proc/$tid/timerslack_ns)
	[ "$slack0" != 1 ] || die "thread starts with slack 1 already"
	"$TMP/live/script.sh" start || die "script.sh start failed"
	[ "$(cat /proc/$tid/timerslack_ns)" = 1 ] || die "start: slack $(cat /proc/$tid/timerslack_ns)"
	grep -qx consumer_sleep_ns=20000 /run/virtsync/pcdev-$holder.ctl || die "start: control file"
	grep -qx consumer_busyloop_ns=7 /run/virtsync/pcdev-$holder.ctl || die "start: other key changed"
	"$TMP/live/script.sh" stop || die "script.sh stop failed"
	[ "$(cat /proc/$tid/timerslack_ns)" = "$slack0" ] || die "stop: slack not restored"
	grep -qx consumer_sleep_ns=1000 /run/virtsync/pcdev-$holder.ctl || die "stop: control file not restored"
	[ ! -e /run/virtsync/tuned-vs-export-live.state ] || die "stop left its state file"
	expect_exit 2 "$TMP/live/script.sh" bogus
fi

# --- --json: one document with what the text output prints --------------
expect_exit 0 "$VS" --json export latency-poll --qemu --libvirt --tuned "$TMP/js"
python3 - "$TMP/out" "$TMP/js" <<'PY' || die "export --json: not the expected document"
import json, sys
d = json.loads(open(sys.argv[1]).read())
assert d["command"] == "export" and d["source"] == "profile latency-poll", d
assert d["tuned"] == sys.argv[2] and "<cputune>" in d["libvirt"], d
assert d["qemu"].startswith("# virtsync export"), d
PY

# --- re-export replaces an earlier export, refuses foreign dirs ---------
expect_exit 0 "$VS" export energy --tuned "$TMP/lp"
[ "$(ini "$TMP/lp" 'c["cpu"]["governor"]')" = powersave ] || die "re-export did not replace"
ls -A "$TMP" | grep -q '\.tmp$' && die "temporary directory left behind"
mkdir "$TMP/foreign"; touch "$TMP/foreign/mine"
expect_exit 1 "$VS" export energy --tuned "$TMP/foreign"
[ "$(ls "$TMP/foreign")" = mine ] || die "foreign directory touched"

# --- bad input: one line, exit 2, nothing written -----------------------
expect_usage_error "profile 'nosuch' not found" "$VS" export nosuch --tuned "$TMP/x1"
echo '{"format": "virtsync-plan", "version": 1, "objective": "latency", "steps": [' >"$TMP/bad.json"
expect_usage_error "bad.json" "$VS" export --plan "$TMP/bad.json" --tuned "$TMP/x2"
expect_usage_error "unrecognized option\|unknown option" "$VS" export energy --tuned "$TMP/x3" --bogus
expect_usage_error "give --tuned DIR, --libvirt or --qemu" "$VS" export energy
expect_usage_error "\${pid} is not set" "$VS" export throughput-sleep --tuned "$TMP/x4"
sed 's/"value": "0-1"/"value": "0-1;reboot"/' "$TMP/plan.json" >"$TMP/evil.json"
expect_usage_error "has characters" "$VS" export --plan "$TMP/evil.json" --tuned "$TMP/x5"
sed "s|/run/vm1.qmp|/run/vm1'; reboot; '.qmp|" "$TMP/plan.json" >"$TMP/evil2.json"
expect_usage_error "not an absolute path" "$VS" export --plan "$TMP/evil2.json" --tuned "$TMP/x6"
for d in x1 x2 x3 x4 x5 x6; do [ ! -e "$TMP/$d" ] || die "$d written on bad input"; done
ls -A "$TMP" | grep -q '\.tmp$' && die "temporary directory left behind on bad input"
echo ok
