#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# make install honours PREFIX and DESTDIR and installs a working binary.
. "$(dirname "$0")/../lib.sh"
make -C "$TOP" --no-print-directory -s install PREFIX=/opt/vs DESTDIR="$TMP/root" >"$TMP/log" 2>&1 ||
	{ cat "$TMP/log"; die "make install failed"; }
[ -x "$TMP/root/opt/vs/sbin/virtsync" ] || die "binary not installed"
[ -f "$TMP/root/opt/vs/share/man/man8/virtsync.8" ] || die "man page not installed"
"$TMP/root/opt/vs/sbin/virtsync" --version | grep -q '^virtsync ' || die "installed binary does not run"
echo ok
