#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The dispatcher: help, version, unknown commands and options.
. "$(dirname "$0")/../lib.sh"

expect_exit 0 "$VS" --version
grep -q '^virtsync [0-9]' "$TMP/out" || die "--version output: $(cat "$TMP/out")"
expect_exit 0 "$VS" --help
grep -q 'Commands:' "$TMP/out" || die "--help lacks the command list"
expect_usage_error "unknown command 'frobnicate'" "$VS" frobnicate
expect_usage_error "unknown option '--bogus'" "$VS" --bogus model
expect_usage_error "unknown command 'nosuch'" "$VS" help nosuch
expect_exit 2 "$VS"
echo ok
