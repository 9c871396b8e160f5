#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `make run` installs only what it needs (the build, QEMU and busybox for the
# test guest it boots); what only the tests use is installed by `make check`.
# Read from what make would run (make -n), not from the variables' names.
. "$(dirname "$0")/../lib.sh"
pkgs_of() { # target: the packages the target hands to tests/deps.sh
	make -C "$TOP" --no-print-directory -n "$1" 2>/dev/null |
		sed -n 's|^\(\./\)\{0,1\}tests/deps\.sh \(.*\)|\2|p' | head -1 | tr -s ' \t' '\n' | sed '/^$/d' | sort -u
}
pkgs_of run >"$TMP/run"
pkgs_of check >"$TMP/check"
[ -s "$TMP/run" ] || die "make run installs nothing through tests/deps.sh"
[ -s "$TMP/check" ] || die "make check installs nothing through tests/deps.sh"
extra=$(comm -23 "$TMP/run" "$TMP/check" | tr '\n' ' ')
[ -z "$extra" ] || die "make run installs what make check does not: $extra"
for p in chromium tuned libvirt-clients prometheus libcmocka-dev linux-perf libclang-rt-14-dev libxml2-utils; do
	grep -qx "$p" "$TMP/run" && die "make run installs the test-only package $p"
	grep -qx "$p" "$TMP/check" || die "make check does not install $p"
done
for p in qemu-system-x86 busybox-static gcc make libbpf-dev; do
	grep -qx "$p" "$TMP/run" || die "make run does not install $p (it builds and boots the test guest)"
done
# make run builds the binary, not `all` (the unit tests link cmocka).
make -C "$TOP" --no-print-directory -n run 2>/dev/null | grep -Eq '^make .* all$' &&
	die "make run builds all (unit tests included), which needs cmocka"
echo ok
