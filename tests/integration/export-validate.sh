#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# virtsync export, checked by the consumers' own code rather than by ours:
#  - tuned: every shipped profile and a plan load with tuned's profile
#    loader (Debian's tuned package, its Python modules); each unit names a
#    tuned plugin and only options that plugin declares; [scheduler] groups
#    parse as tuned parses them (five fields, affinity through tuned's
#    hex2cpulist, a regex that picks vm1's QEMU and not vm10's). Nothing is
#    applied: no tuned daemon runs.
#  - libvirt: the --libvirt elements, merged into a minimal domain, validate
#    against libvirt's own RelaxNG schema (virt-xml-validate); the same
#    domain with a misspelt element must fail, so the check can fail.
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3
$PY -c 'import tuned.profiles' 2>/dev/null || skip "tuned's Python modules are not installed (Debian: tuned)"
command -v virt-xml-validate >/dev/null || skip "virt-xml-validate is not installed (Debian: libvirt-clients)"
command -v xmllint >/dev/null || skip "xmllint, which virt-xml-validate runs, is not installed (Debian: libxml2-utils)"

cat >"$TMP/plan.json" <<'JSON'
{ "format": "virtsync-plan", "version": 1, "objective": "latency", "dmax_ns": 50000,
  "variables": { "vm": "vm1" },
  "steps": [
    { "knob": "thread.affinity", "target": { "name": "${vm}", "role": "vcpu" }, "value": "1" },
    { "knob": "thread.affinity", "target": { "name": "${vm}", "role": "iothread" }, "value": "0" },
    { "knob": "thread.affinity", "target": { "name": "${vm}" }, "value": "0-1" },
    { "knob": "iothread.poll_max_ns", "target": { "qmp": "/run/vm1.qmp", "iothread": "io0" },
      "value": "${dmax}" },
    { "knob": "cpuidle.state_disable", "target": { "cpus": "0", "state": 2 }, "value": 1 },
    { "knob": "cpufreq.governor", "target": { "cpus": "1" }, "value": "performance" },
    { "knob": "net.core.busy_poll", "value": 50 },
    { "knob": "guest.halt_poll_ns", "value": 100000 }
  ],
  "evidence": { "queues": [ { "recommendation": { "actions": [
    { "knob": "vhost.poll_us", "pid": 4242, "role": "vhost", "value": "50",
      "applies": "restart", "why": "vhost polls the ring" } ] } } ] } }
JSON

cat >"$TMP/check.py" <<'PY'
import importlib, inspect, os, re, sys
import tuned.plugins.base as base
import tuned.profiles as profiles
import tuned.profiles.variables as variables
from tuned.utils.commands import commands
from tuned.utils.global_config import GlobalConfig
import logging
logging.disable(logging.INFO)
d = sys.argv[1]
loader = profiles.Loader(profiles.Locator([os.path.dirname(d)]), profiles.Factory(),
                         profiles.Merger(), GlobalConfig(), variables.Variables())
p = loader.load(os.path.basename(d))
types = []
for name, unit in p.units.items():
    mod = importlib.import_module("tuned.plugins.plugin_" + unit.type)
    cls = [c for _, c in inspect.getmembers(mod, inspect.isclass)
           if issubclass(c, base.Plugin) and c.__module__ == mod.__name__]
    assert len(cls) == 1, (name, unit.type)
    known = cls[0]._get_config_options()
    for k, v in unit.options.items():
        if unit.type == "sysfs":
            assert k.startswith("/sys/"), k
        elif unit.type == "sysctl":
            assert re.fullmatch(r"[a-z0-9_]+(\.[a-z0-9_]+)+", k), k
        elif unit.type == "scheduler" and k.startswith("group."):
            prio, sched, prioval, aff, regex = str(v).split(":", 4)
            int(prio)
            assert commands().hex2cpulist(aff), aff
            r = re.compile(regex)
            assert r.search("/usr/bin/qemu-system-x86_64 -name guest=vm1,debug-threads=on -m 1G")
            assert not r.search("/usr/bin/qemu-system-x86_64 -name guest=vm10,debug-threads=on")
        else:
            assert k in known, (name, unit.type, k, sorted(known))
    types.append(unit.type)
script = p.units["script"].options["script"]
assert all(os.access(s, os.X_OK) for s in script), script
print(" ".join(types))
PY

for prof in latency-poll energy notify-batch throughput-sleep host-default; do
	expect_exit 0 "$VS" export "$prof" --tuned "$TMP/vs-$prof" --set pid=1 --set netdev=eth0
	$PY "$TMP/check.py" "$TMP/vs-$prof" >"$TMP/types" 2>"$TMP/perr" ||
		die "tuned rejects the $prof export: $(tail -3 "$TMP/perr")"
	grep -qw script "$TMP/types" || die "$prof: no script unit: $(cat "$TMP/types")"
done
expect_exit 0 "$VS" export --plan "$TMP/plan.json" --tuned "$TMP/vs-plan"
$PY "$TMP/check.py" "$TMP/vs-plan" >"$TMP/types" 2>"$TMP/perr" ||
	die "tuned rejects the plan export: $(tail -3 "$TMP/perr")"
for t in sysfs sysctl cpu scheduler script; do
	grep -qw "$t" "$TMP/types" || die "plan export lacks a $t unit: $(cat "$TMP/types")"
done

# libvirt: merge the elements into a minimal domain and validate it
expect_exit 0 "$VS" export --plan "$TMP/plan.json" --libvirt --vcpus 2
cat >"$TMP/merge.py" <<'PY'
import sys, xml.etree.ElementTree as ET
ET.register_namespace("qemu", "http://libvirt.org/schemas/domain/qemu/1.0")
frag = ET.parse(sys.argv[1]).getroot()
dom = ET.Element("domain", frag.attrib)
for tag, text in (("name", "vm1"), ("memory", "1048576"), ("vcpu", "2"), ("iothreads", "1")):
    ET.SubElement(dom, tag).text = text
os_ = ET.SubElement(dom, "os")
ET.SubElement(os_, "type").text = "hvm"
for child in frag:
    dom.append(child)
if len(sys.argv) > 2:	# the negative control
    ET.SubElement(dom.find("cputune"), "vcpupinn", {"vcpu": "0", "cpuset": "1"})
ET.ElementTree(dom).write(sys.stdout, encoding="unicode")
PY
python3 "$TMP/merge.py" "$TMP/out" >"$TMP/dom.xml" || die "cannot merge: $(cat "$TMP/out")"
virt-xml-validate "$TMP/dom.xml" domain >"$TMP/v.out" 2>&1 ||
	die "libvirt's schema rejects the export: $(cat "$TMP/v.out")"
python3 "$TMP/merge.py" "$TMP/out" bad >"$TMP/bad.xml"
virt-xml-validate "$TMP/bad.xml" domain >/dev/null 2>&1 &&
	die "virt-xml-validate accepted a misspelt element: the check cannot fail"
echo ok
