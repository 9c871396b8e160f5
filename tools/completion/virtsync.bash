# SPDX-License-Identifier: GPL-2.0-only
# bash completion for virtsync. Every word comes from the binary itself:
# `virtsync __complete CMD` prints the options of the argp tables CMD
# parses with and the words each value takes (tools/options.c), so a
# refused option or an example's text is never offered.

_virtsync_commands()
{
	"$1" --help 2>/dev/null | sed -n '/^Commands:/,/^$/{/^  [a-z]/s/^  \([a-z-]*\).*/\1/p}'
}

# _virtsync_words BIN WORDS CUR: expand the @ words of __complete
_virtsync_words()
{
	local w out=()
	for w in $2; do
		case $w in
		@file) COMPREPLY=($(compgen -f -- "$3")); return ;;
		@profile) out+=($("$1" profiles list 2>/dev/null | awk '{ print $1 }')) ;;
		@governor) out+=($(cat /sys/devices/system/cpu/cpuidle/available_governors 2>/dev/null)) ;;
		*) out+=("$w") ;;
		esac
	done
	COMPREPLY=($(compgen -W "${out[*]}" -- "$3"))
}

_virtsync()
{
	local cur prev bin=${COMP_WORDS[0]} cmd="" i spec opts name words
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}

	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--root) ((i++)) ;;
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	if [ -z "$cmd" ]; then
		if [ "$prev" = --root ]; then
			COMPREPLY=($(compgen -d -- "$cur"))
		elif [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--help --version --json --verbose --root" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_virtsync_commands "$bin") help" -- "$cur"))
		fi
		return
	fi
	if [ "$cmd" = help ]; then
		COMPREPLY=($(compgen -W "$(_virtsync_commands "$bin")" -- "$cur"))
		return
	fi
	spec=$("$bin" __complete "$cmd" 2>/dev/null) || return
	# --opt=VALUE in one word
	if [[ $cur == --*=* ]]; then
		name=${cur%%=*}
		words=$(printf '%s\n' "$spec" | awk -F'\t' -v n="$name" '$1 == n"=" || $1 == n"[=]" { print $2 }')
		_virtsync_words "$bin" "$words" "${cur#*=}"
		return
	fi
	# a value after an option that needs one: only its words
	if [[ $prev == --* ]] && printf '%s\n' "$spec" | awk -F'\t' -v n="$prev=" '$1 == n { f = 1 } END { exit !f }'; then
		words=$(printf '%s\n' "$spec" | awk -F'\t' -v n="$prev=" '$1 == n { print $2 }')
		_virtsync_words "$bin" "$words" "$cur"
		return
	fi
	if [[ $cur == -* ]]; then
		opts=$(printf '%s\n' "$spec" | awk -F'\t' '$1 ~ /^--/ { sub(/\[?=\]?$/, "", $1); print $1 }' | sort -u)
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return
	fi
	words=$(printf '%s\n' "$spec" | awk -F'\t' '$1 == "@args" { print $2 }')
	_virtsync_words "$bin" "$words" "$cur"
}

complete -F _virtsync virtsync
