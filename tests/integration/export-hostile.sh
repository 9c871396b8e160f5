#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Issue 12.4: export puts no text of a plan (its path, a step's why, a
# target, a value) into script.sh, tuned.conf, the libvirt XML or the QEMU
# options where it could end a comment and become code, a section or an
# option. Hostile paths and texts (newline, quotes, $(...), backtick, ']',
# '--') either come out inert or are refused; running the exported script
# as nobody creates no file.
. "$(dirname "$0")/../lib.sh"
PUB=$TMP/pub
mkdir -m 1777 "$PUB"
chmod 755 "$TMP"
PWN=$PUB/pwned
inject() { # the text that would create $PWN if it ran
	printf '%s' "$1" | sed "s|PWN|$PWN|g"
}
NL=$'\n'
hostile_dirs=(
	"a${NL}touch PWN${NL}"
	"b'\$(touch PWN)'"
	'c`touch PWN`'
	"d${NL}[sysfs]${NL}/sys/kernel/x=1${NL}"
	"e --> <x/> <!-- f--"
	"g\"; touch PWN; \""
)
jstr() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1"; }
plan_text() { # step-why restart-why (the parser refuses control characters
	# in a step's why; the evidence's texts are taken as they are)
	cat <<EOT
{ "format": "virtsync-plan", "version": 1, "objective": "latency",
  "source": "diagnose", "regime": "sFC", "dmax_ns": 50000,
  "steps": [
    { "knob": "thread.timerslack_ns", "target": { "name": "vm1", "role": "vhost" }, "value": 1,
      "why": $(jstr "$1") },
    { "knob": "thread.affinity", "target": { "name": "vm1", "role": "vcpu" }, "value": "1",
      "why": $(jstr "$1") },
    { "knob": "iothread.poll_max_ns", "target": { "qmp": "/run/vm1.qmp", "iothread": "io0" },
      "value": 1000, "why": "w" }
  ],
  "evidence": { "queues": [ { "recommendation": { "actions": [
    { "knob": "vhost.poll_us", "pid": 4242, "role": "vhost", "value": "50",
      "applies": "restart", "why": $(jstr "$2") } ] } } ] } }
EOT
}
n=0
for d in "${hostile_dirs[@]}"; do
	n=$((n + 1))
	dir=$TMP/$(inject "$d")
	mkdir -p "$dir"
	why=$(inject "\$(touch PWN) \`touch PWN\` ']' '\" -- -->")
	plan_text "$why" "$(inject "r${NL}touch PWN${NL}-object x")" >"$dir/plan.json"
	out=$TMP/t$n
	expect_exit 0 "$VS" export --plan "$dir/plan.json" --tuned "$out"
	bash -n "$out/script.sh" || die "case $n: script.sh does not parse"
	python3 - "$out/tuned.conf" <<'PY' || die "case $n: tuned.conf: injected or unparsable"
import configparser, sys
c = configparser.ConfigParser(interpolation=None, delimiters=("=",))
c.optionxform = str
c.read(sys.argv[1])
assert c.sections() == ["main", "script"], c.sections()
assert list(c["main"]) == ["summary"] and list(c["script"]) == ["script"], dict(c["main"])
PY
	# run it as nobody, as tuned would run it (start and stop)
	for verb in start stop; do
		setpriv --reuid=nobody --regid=nogroup --clear-groups \
			bash "$out/script.sh" "$verb" >/dev/null 2>&1
	done
	[ ! -e "$PWN" ] || die "case $n: running script.sh created $PWN"
	expect_exit 0 "$VS" export --plan "$dir/plan.json" --libvirt --vcpus 2
	python3 -c 'import sys, xml.etree.ElementTree as ET; ET.parse(sys.argv[1])' "$TMP/out" ||
		die "case $n: the libvirt XML does not parse: $(head -3 "$TMP/out")"
	if command -v xmllint >/dev/null; then
		xmllint --noout "$TMP/out" || die "case $n: xmllint rejects the XML"
	fi
	expect_exit 0 "$VS" export --plan "$dir/plan.json" --qemu
	[ "$(grep -v '^#' "$TMP/out")" = "-netdev tap,id=net0,vhost=on,poll-us=50${NL}-object iothread,id=io0,poll-max-ns=1000" ] ||
		die "case $n: the QEMU options are not the two expected: $(cat "$TMP/out")"
done

# Values and targets that would be code are refused: exit 2, nothing written.
refuse() { # knob target-json value-json
	cat >"$TMP/bad.json" <<EOT
{ "format": "virtsync-plan", "version": 1, "objective": "latency", "source": "diagnose",
  "steps": [ { "knob": "$1", "target": $2, "value": $3 } ] }
EOT
	rm -rf "$TMP/bad"
	expect_exit 2 "$VS" export --plan "$TMP/bad.json" --tuned "$TMP/bad"
	[ ! -e "$TMP/bad" ] || die "refused export of $1 $2 $3 left $TMP/bad"
	expect_exit 2 "$VS" export --plan "$TMP/bad.json" --qemu
}
refuse thread.timerslack_ns '{ "name": "vm1" }' '"1;touch /tmp/x"'
refuse thread.timerslack_ns '{ "name": "vm1$(touch /tmp/x)" }' 1
refuse thread.affinity '{ "name": "vm1", "role": "vcpu" }' '"1`touch /tmp/x`"'
refuse iothread.poll_max_ns '{ "qmp": "/run/a'"'"'b.qmp", "iothread": "io0" }' 1000
refuse iothread.poll_max_ns '{ "qmp": "/run/vm1.qmp", "iothread": "io0,x=1" }' 1000
plan_text "$(printf 'w\ntouch %s' "$PWN")" r >"$TMP/nl.json"
expect_exit 2 "$VS" export --plan "$TMP/nl.json" --qemu
refuse irq.affinity '{ "irq": "24" }' '"0]\n[sysfs]"'
exit 0
