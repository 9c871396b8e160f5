#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Messages a new user meets (issue 13, finding 10): the same mistake gets
# the same exit status in every command, every command answers --version,
# help has one "Usage:" heading, `help help` works.
. "$(dirname "$0")/../lib.sh"

commands=$("$VS" --help | sed -n '/^Commands:/,/^$/{/^  [a-z]/s/^  \([a-z-]*\).*/\1/p}')
n=$(echo "$commands" | wc -w)
[ "$n" -ge 15 ] || die "found only $n commands in virtsync --help"

# `help help` is answered (it used to be "unknown command 'help'").
expect_exit 0 "$VS" help help
grep -q '^Usage: virtsync' "$TMP/out" || die "help help: $(head -3 "$TMP/out")"

for c in $commands; do
	# every command takes --version (model, sim and export refused it)
	expect_exit 0 "$VS" "$c" --version
	grep -q '^virtsync [0-9]' "$TMP/out" || die "$c --version: $(cat "$TMP/out")"
	# one "Usage:" line, argp's; the longer forms are a "Synopsis:"
	expect_exit 0 "$VS" "$c" --help
	[ "$(grep -ci '^usage:' "$TMP/out")" = 1 ] ||
		die "$c --help: $(grep -i '^usage:' "$TMP/out")"
	! grep -q 'USAGE\|EXAMPLES' "$TMP/out" || die "$c --help still shouts: $(grep 'USAGE\|EXAMPLES' "$TMP/out")"
	# nothing wrapped by argp mid-word: every line fits in 79 columns
	awk 'length > 79 { print; exit 1 }' "$TMP/out" || die "$c --help: a line over 79 columns"
	# A bad option is one line in every command: argp added a second
	# ("Try ... --help") in all but model, sim and export, which said it
	# in words of their own.
	expect_usage_error "^virtsync $c: unrecognized option '--no-such-option'\$" \
		"$VS" "$c" --no-such-option
	expect_usage_error "^virtsync $c: option '--verbose' doesn't allow an argument\$" \
		"$VS" "$c" --verbose=x
done
echo "checked --version, --help and a bad option of $n commands"

# Commands that take no operand name the one given, in one line: the
# common child says it for all of them (nine said it in a copy of their own).
for c in bench diagnose idlelat model rollback sim sleepcost topo tune verify watch; do
	expect_usage_error "^virtsync $c: unexpected argument 'extra-arg'\$" "$VS" "$c" extra-arg
done

# Tables cut nothing silently (issue 13.10): `profiles knobs` cut every
# help at 40 characters; now it wraps, so each help is there in full and
# every line fits in 79 columns.
expect_exit 0 "$VS" profiles knobs
awk 'length > 79 { print; exit 1 }' "$TMP/out" || die "profiles knobs: a line over 79 columns"
"$VS" --json profiles knobs >"$TMP/knobs.json" || die "profiles knobs --json failed"
python3 - "$TMP/knobs.json" "$TMP/out" <<'PY' || die "profiles knobs: a help text is cut"
import json, re, sys
d = json.load(open(sys.argv[1]))
knobs = d["knobs"] if isinstance(d, dict) else d
text = re.sub(r"\s+", " ", open(sys.argv[2]).read())
for k in knobs:
    assert re.sub(r"\s+", " ", k["help"]) in text, k["help"]
print("%d knob helps printed whole" % len(knobs))
PY

# A --pid that names no process is a usage mistake: 2 in every command.
sleep 0 & dead=$!
wait $dead
while [ -e /proc/$dead ]; do dead=$((dead + 7919)); done
if [ "$(id -u)" = 0 ]; then
	expect_usage_error "--pid $dead" "$VS" diagnose --pid $dead
	expect_usage_error "--pid $dead" "$VS" stat --pid $dead --count 1
	expect_usage_error "--pid $dead" "$VS" tune --auto --pid $dead
	expect_usage_error "--pid" "$VS" watch --pid $dead --count 1

	# diagnose as nobody said "Connection timed out" after 3 s: the device
	# it starts cannot publish in root's /run/virtsync. Now it says which
	# privilege is missing, exit 1, before measuring anything. --workload
	# asks for the device: without it a QEMU running on the host (another
	# test's, a helper's) is diagnosed instead, and that may succeed.
	if setpriv --reuid=65534 --regid=65534 --clear-groups test -w /run/virtsync; then
		echo "nobody may write /run/virtsync here: diagnose as nobody not checked" >&2
	else
		expect_exit 1 setpriv --reuid=65534 --regid=65534 --clear-groups "$VS" diagnose \
			--workload fc-example
		grep -q '/run/virtsync.*cannot write.*run diagnose as root' "$TMP/err" ||
			die "diagnose as nobody: $(cat "$TMP/err")"
		! grep -qi 'timed out' "$TMP/err" || die "diagnose as nobody: $(cat "$TMP/err")"
		! grep -q 'Measuring' "$TMP/out" "$TMP/err" || die "diagnose as nobody measured first"
	fi

	# sleepcost as nobody: the results, then one warning about the cache
	# it cannot write, and exit 0 (it exited 1 without a word)
	expect_exit 0 setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$VS" sleepcost --quick --min 1us --max 10us --steps 2
	grep -q 'cannot write the Yz cache' "$TMP/err" || die "sleepcost as nobody: $(cat "$TMP/err")"
	grep -q . "$TMP/out" || die "sleepcost as nobody printed no results"

	# stat -t -- CMD: the threads' own names (they name themselves after
	# stat first sees them), cut ones marked, waker pairs busiest first
	expect_exit 0 "$VS" stat -t -w --interval 700ms --count 1 -- "$VS" bench --duration 1s
	grep -q '^  [0-9]* *vs-produc' "$TMP/out" || die "stat -t: no vs-producer row: $(cat "$TMP/out")"
	grep -q '^  [0-9]* *vs-produc… ' "$TMP/out" || die "stat -t: a cut name without an ellipsis"
	python3 - "$TMP/out" <<'PY' || die "stat -w: waker pairs not sorted: $(sed -n '/^WAKER/,$p' "$TMP/out")"
import re, sys
rows = open(sys.argv[1]).read().split("WAKER", 1)[1].splitlines()[1:]
def rate(t):
    m = re.fullmatch(r"([0-9.]+)([kMG]?)", t)
    return float(m.group(1)) * {"": 1, "k": 1e3, "M": 1e6, "G": 1e9}[m.group(2)]
rates = [rate(l.split()[3]) for l in rows if " -> " in l]
sys.exit(0 if len(rates) >= 2 and rates == sorted(rates, reverse=True) else 1)
PY
fi
echo ok
