#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The binary users run carries Debian's hardening: full RELRO (GNU_RELRO and
# BIND_NOW), the stack protector and FORTIFY_SOURCE's checked libc calls.
. "$(dirname "$0")/../lib.sh"
command -v readelf >/dev/null || skip "readelf not installed"
readelf -lW "$VS" | grep -q 'GNU_RELRO' || die "no GNU_RELRO segment: RELRO is off"
readelf -dW "$VS" | grep -Eq '\(FLAGS\).*BIND_NOW|\(FLAGS_1\).*NOW' ||
	die "no BIND_NOW: RELRO is partial (link with -Wl,-z,now)"
syms=$(readelf -sW --dyn-syms "$VS")
grep -q ' __stack_chk_fail' <<<"$syms" || die "no __stack_chk_fail: built without -fstack-protector-strong"
grep -Eq ' __[a-z]+_chk(@|$| )' <<<"$syms" || die "no __*_chk call: built without -D_FORTIFY_SOURCE=2"
grep -q '_FORTIFY_SOURCE=2' "$(dirname "$VS")/build-flags" 2>/dev/null ||
	[ ! -f "$(dirname "$VS")/build-flags" ] || die "build flags lack _FORTIFY_SOURCE=2"
exit 0
