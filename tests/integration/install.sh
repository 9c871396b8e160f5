#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# make install honours PREFIX and DESTDIR and installs a working binary.
. "$(dirname "$0")/../lib.sh"
make -C "$TOP" --no-print-directory -s install PREFIX=/opt/vs DESTDIR="$TMP/root" >"$TMP/log" 2>&1 ||
	{ cat "$TMP/log"; die "make install failed"; }
[ -x "$TMP/root/opt/vs/sbin/virtsync" ] || die "binary not installed"
[ -f "$TMP/root/opt/vs/share/man/man8/virtsync.8" ] || die "man page not installed"
"$TMP/root/opt/vs/sbin/virtsync" --version | grep -q '^virtsync ' || die "installed binary does not run"
# The service: installed where systemd looks under the prefix, running
# the installed binary, hardened, and keeping /run/virtsync (the journal)
# when it stops. systemd-analyze checks it as systemd would load it.
unit=$TMP/root/opt/vs/lib/systemd/system/virtsync-watch.service
[ -f "$unit" ] || die "systemd unit not installed"
grep -qx 'ExecStart=/opt/vs/sbin/virtsync watch $VIRTSYNC_WATCH_ARGS' "$unit" ||
	die "unit's ExecStart: $(grep ExecStart "$unit")"
for want in NoNewPrivileges=yes ProtectSystem=strict RuntimeDirectory=virtsync \
	RuntimeDirectoryPreserve=yes IPAddressDeny=any; do
	grep -qx "$want" "$unit" || die "unit lacks $want"
done
if command -v systemd-analyze >/dev/null; then
	sed "s|/opt/vs/sbin/virtsync|$VS|" "$unit" >"$TMP/virtsync-watch.service"
	MANPATH=$TMP/root/opt/vs/share/man: systemd-analyze verify "$TMP/virtsync-watch.service" \
		>"$TMP/verify" 2>&1 || die "systemd-analyze verify: $(cat "$TMP/verify")"
	exposure=$(systemd-analyze security --offline=true "$TMP/virtsync-watch.service" 2>&1 |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	[ -n "$exposure" ] || die "systemd-analyze security said nothing"
	awk -v e="$exposure" 'BEGIN { exit !(e <= 5.0) }' ||
		die "the unit's exposure is $exposure (more than 5.0, 'medium')"
fi

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
