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
done
echo "checked --version and --help of $n commands"

# A --pid that names no process is a usage mistake: 2 in every command.
sleep 0 & dead=$!
wait $dead
while [ -e /proc/$dead ]; do dead=$((dead + 7919)); done
if [ "$(id -u)" = 0 ]; then
	expect_usage_error "--pid $dead" "$VS" diagnose --pid $dead
	expect_usage_error "--pid $dead" "$VS" stat --pid $dead --count 1
	expect_usage_error "--pid $dead" "$VS" tune --auto --pid $dead
	expect_usage_error "--pid" "$VS" watch --pid $dead --count 1
fi
echo ok
