# SPDX-License-Identifier: GPL-2.0-only
# bash completion for virtsync: subcommands, each subcommand's options and
# profile names. Everything is asked of the installed binary, so new
# subcommands and options complete without editing this file.

_virtsync_commands()
{
	"$1" --help 2>/dev/null | sed -n '/^Commands:/,/^$/{/^  [a-z]/s/^  \([a-z-]*\).*/\1/p}'
}

_virtsync_options()
{
	"$1" "$2" --help 2>/dev/null | grep -o -- '--[a-z][a-z0-9-]*' | sort -u
}

_virtsync()
{
	local cur prev bin=${COMP_WORDS[0]} cmd="" i
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

	case $prev in
	--root|-o|--output|--save|--trace|--from|--plan|--prometheus-file|--qmp)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	esac

	if [ -z "$cmd" ]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--help --version --json --verbose --root" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_virtsync_commands "$bin") help" -- "$cur"))
		fi
		return
	fi

	case $cmd in
	help)
		COMPREPLY=($(compgen -W "$(_virtsync_commands "$bin")" -- "$cur"))
		return ;;
	apply|profiles|export)
		if [[ $cur != -* ]]; then
			local names
			names=$("$bin" profiles list 2>/dev/null | awk 'NR > 0 && $1 !~ /^(NAME|name)$/ { print $1 }')
			[ "$cmd" = profiles ] && names="list show $names"
			COMPREPLY=($(compgen -W "$names" -- "$cur"))
			return
		fi ;;
	esac
	COMPREPLY=($(compgen -W "$(_virtsync_options "$bin" "$cmd")" -- "$cur"))
}

complete -F _virtsync virtsync
