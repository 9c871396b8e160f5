#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# make install honours PREFIX and DESTDIR and installs a working binary.
. "$(dirname "$0")/../lib.sh"
make -C "$TOP" --no-print-directory -s install PREFIX=/opt/vs DESTDIR="$TMP/root" >"$TMP/log" 2>&1 ||
	{ cat "$TMP/log"; die "make install failed"; }
[ -x "$TMP/root/opt/vs/sbin/virtsync" ] || die "binary not installed"
[ -f "$TMP/root/opt/vs/share/man/man8/virtsync.8" ] || die "man page not installed"
"$TMP/root/opt/vs/sbin/virtsync" --version | grep -q '^virtsync ' || die "installed binary does not run"
comp=$TMP/root/opt/vs/share/bash-completion/completions/virtsync
[ -f "$comp" ] || die "bash completion not installed"

# Completion, driven the way bash drives it: subcommands and options come
# from the binary itself.
complete_words() { # words...
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _virtsync; printf "%s\n" "${COMPREPLY[@]}"' \
		_ "$comp" "$@"
}
complete_words "$VS" "" | grep -qx help || die "completion lacks 'help'"
first=$("$VS" --help | sed -n '/^Commands:/{n;p}' | awk '{print $1}')
if [ -n "$first" ]; then
	complete_words "$VS" "${first:0:2}" | grep -qx "$first" || die "completion lacks '$first'"
	complete_words "$VS" "$first" "--" | grep -q '^--json$' || die "completion lacks $first --json"
fi
complete_words "$VS" --v | grep -qx -- --version || die "completion lacks --version"
echo ok
