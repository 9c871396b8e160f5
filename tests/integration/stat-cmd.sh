#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# stat's edges a new user hits (issue 13.8): a command's stdout kept out of
# the JSON and Prometheus streams; a command that cannot run is one line and
# no table; no VM on the host is said once, not as an empty table every
# interval; report takes stat's multi-interval JSON lines as one run; and
# profiles list --json carries the common envelope.
. "$(dirname "$0")/../lib.sh"
need_root

# --json -- CMD: every line of stdout is stat's JSON, the command's output
# goes to stderr
expect_exit 0 "$VS" stat --json -- sh -c 'echo from-the-command; sleep 0.2'
python3 - "$TMP/out" <<'PY' || { cat "$TMP/out"; die "stat --json -- CMD: stdout is not only stat's JSON"; }
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
assert lines, "no JSON"
for l in lines:
    d = json.loads(l)
    assert d["command"] == "stat", d
PY
grep -qx from-the-command "$TMP/err" || { cat "$TMP/err"; die "the command's stdout is not on stderr"; }
expect_exit 0 "$VS" stat --prometheus -- sh -c 'echo from-the-command'
grep -q from-the-command "$TMP/out" && die "stat --prometheus -- CMD: the command's stdout is in the metrics"
grep -qx from-the-command "$TMP/err" || die "--prometheus: the command's stdout is not on stderr"
# text output: the command's stdout stays on stdout, as the user asked
expect_exit 0 "$VS" stat -- sh -c 'echo from-the-command'
grep -qx from-the-command "$TMP/out" || die "stat -- CMD (text): the command's stdout is gone"

# a command that does not exist or cannot run: one line, exit 2, no table
for bad in /nonexistent no-such-command-vs /etc/passwd; do
	expect_exit 2 "$VS" stat -- "$bad"
	[ ! -s "$TMP/out" ] || { cat "$TMP/out"; die "stat -- $bad printed on stdout"; }
	[ "$(wc -l <"$TMP/err")" = 1 ] || { cat "$TMP/err"; die "stat -- $bad: not one line"; }
	grep -q -- "$bad" "$TMP/err" || die "stat -- $bad: the line does not name it"
done

# no VM: one "no VM found; waiting" line, no empty tables
has_vm() {
	local p
	for p in /proc/[0-9]*; do
		ls -l "$p/fd" 2>/dev/null | grep -q 'anon_inode:kvm-vm' && return 0
	done
	return 1
}
if has_vm; then
	echo "a VM runs on this host: the no-VM case is not checked" >&2
else
	"$VS" stat -i 200ms -c 6 >"$TMP/out" 2>"$TMP/err" || die "stat with no VM failed: $(cat "$TMP/err")"
	if ! has_vm; then
		[ "$(grep -c 'no VM found; waiting' "$TMP/err")" = 1 ] ||
			{ cat "$TMP/err"; die "no VM: not said exactly once"; }
		grep -q 'PID' "$TMP/out" && { cat "$TMP/out"; die "no VM: an empty table was printed"; }
	fi
fi

# report --from a multi-interval stat --json: one run, every interval kept
"$VS" stat --json -i 100ms -c 3 >"$TMP/st.json" 2>/dev/null || die "stat --json -c 3 failed"
[ "$(grep -c . "$TMP/st.json")" = 3 ] || die "stat --json -c 3: not three lines"
expect_exit 0 "$VS" report --from "$TMP/st.json" --format json
json_get "$TMP/out" 'len(d["inputs"]) == 1 and d["inputs"][0]["kind"] == "stat" and len(d["inputs"][0]["data"]["intervals"]) == 3 and d["inputs"][0]["data"]["interval_count"] == 3' |
	grep -qx True || die "report of stat's JSON lines: $(head -c 300 "$TMP/out")"
expect_exit 0 "$VS" report --from "$TMP/st.json" --format md
grep -q 'interval_count | 3' "$TMP/out" || die "report md does not show the three intervals"
# lines of two commands are not one run
"$VS" profiles list --json >>"$TMP/st.json"
expect_exit 2 "$VS" report --from "$TMP/st.json"
grep -q 'not the same command' "$TMP/err" || die "mixed JSON lines: $(cat "$TMP/err")"

# profiles list --json: the envelope every JSON output has
expect_exit 0 "$VS" profiles list --json
json_get "$TMP/out" 'd["tool"] == "virtsync" and d["command"] == "profiles" and all(k in d for k in ("version", "host", "kernel", "time", "cmdline")) and len(d["profiles"]) > 0' |
	grep -qx True || die "profiles list --json lacks the envelope: $(head -c 300 "$TMP/out")"
echo ok
