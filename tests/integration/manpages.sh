#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Every subcommand has a man page with the required sections, two or more
# examples of its own command in EXAMPLES (as .EX/.EE blocks of "$ virtsync
# CMD" lines: doc-examples.sh checks them), and man renders each page
# without warnings.
. "$(dirname "$0")/../lib.sh"
command -v man >/dev/null || skip "man is not installed"

cmds=$("$VS" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }')
[ -n "$cmds" ] || die "no commands listed by --help"
pages="$TOP/man/virtsync.8"
for c in $cmds; do
	p=$TOP/man/virtsync-$c.8
	[ -f "$p" ] || die "subcommand '$c' has no man page ($p)"
	pages="$pages $p"
done
for p in $pages; do
	for s in NAME SYNOPSIS DESCRIPTION EXAMPLES "EXIT STATUS"; do
		grep -q "^\.SH \"\?$s" "$p" || die "$(basename "$p") lacks section $s"
	done
	case $p in */virtsync.8) ;; *)
		for s in OPTIONS OVERHEAD FILES; do
			grep -q "^\.SH \"\?$s" "$p" || die "$(basename "$p") lacks section $s"
		done ;;
	esac
	# EXAMPLES in the form doc-examples.sh checks: .EX/.EE blocks,
	# "$ virtsync CMD ..." lines, at least two of the page's own command
	c=$(basename "$p" .8); c=${c#virtsync}; c=${c#-}
	own=$(awk '/^\.SH "?EXAMPLES/ { s = 1; next } /^\.SH/ { s = 0 }
		s && /^\.EX/ { e = 1 } s && /^\.EE/ { e = 0 } s && e' "$p" |
		grep -c "^\$ virtsync${c:+ $c}\( \|$\)")
	[ "$own" -ge 2 ] || die "$(basename "$p"): $own '\$ virtsync${c:+ $c}' example(s) in EXAMPLES .EX blocks, want 2 or more"
	warn=$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$p" 2>&1 >/dev/null)
	[ -z "$warn" ] || die "$(basename "$p") renders with warnings: $warn"
done
echo "checked: $pages"
