#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Issue 13.9: bash completion, run in a real bash with the script sourced.
# After an option that takes a value it offers that value's words (never
# option names); every option it offers is one the command accepts.
. "$(dirname "$0")/../lib.sh"

SCRIPT=$TOP/tools/completion/virtsync.bash
# complete WORD...: COMPREPLY for the command line "WORD... <TAB>" where
# the last WORD is what is being completed ("" for a fresh word)
complete_words() {
	VS_BIN=$VS bash --norc --noprofile -c '
		. "$1"; shift
		COMP_WORDS=("$VS_BIN" "$@"); COMP_CWORD=$(($# ))
		_virtsync; printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$SCRIPT" "$@"
}
words() { complete_words "$@" | tr '\n' ' ' | sed 's/ $//'; }

expect_words() {
	local want=$1 got
	shift
	got=$(words "$@")
	[ "$got" = "$want" ] || die "completing '$*': got '$got', want '$want'"
}
expect_words "kvm thread" bench --backend ""
expect_words "hybrid notify poll sleep" bench --mode ""
expect_words "hybrid notify poll sleep" sim --c-mode ""
expect_words "fc-example fc-tune fp-example" diagnose --workload ""
expect_words "fc-example fc-tune fp-example wakeup" tune --workload ""
expect_words "fc-example fp-example paper-costs" model --preset ""
expect_words "html json md" report --format ""
expect_words "latency throughput" tune --goal ""
expect_words "kvm" bench --backend=k
expect_words "all hybrid notify sleep" validate ""
expect_words "knobs list show" profiles ""
if [ -r /sys/devices/system/cpu/cpuidle/available_governors ]; then
	expect_words "$(tr ' ' '\n' </sys/devices/system/cpu/cpuidle/available_governors | grep . | sort | tr '\n' ' ' | sed 's/ $//')" idlelat --governor ""
fi
# a profile name after apply, and files after --save
complete_words apply "" | grep -qx latency-poll || die "apply: no profile names"
touch "$TMP/saved-run.json"
complete_words diagnose --save "$TMP/saved-" | grep -qx "$TMP/saved-run.json" || die "--save: no file names"
# never an option name where a value belongs
for c in "bench --backend" "diagnose --workload" "tune --workload" "bench --mode" \
	 "model --preset" "report --format" "idlelat --governor" "stat --attach"; do
	! complete_words $c "" | grep -q '^-' || die "'$c' offers options as values: $(words $c "")"
done

# Every option offered for every command is one it parses: given with a
# value (if it takes one) before an unknown option, the only complaint is
# about the unknown one, and nothing runs.
commands=$("$VS" --help | sed -n '/^Commands:/,/^$/{/^  [a-z]/s/^  \([a-z-]*\).*/\1/p}')
n=0
for c in $commands; do
	opts=$(complete_words "$c" --)
	[ -n "$opts" ] || die "$c: no options offered"
	"$VS" __complete "$c" >"$TMP/spec" || die "__complete $c failed"
	for o in $opts; do
		case $o in --help|--usage|--version) continue ;; esac
		if grep -q -- "^$o=" "$TMP/spec"; then arg="$o=1"; else arg=$o; fi
		"$VS" "$c" "$arg" --zz-no-such-option >"$TMP/out" 2>"$TMP/err" </dev/null
		rc=$?
		[ "$rc" = 2 ] || die "$c $arg --zz-no-such-option: exit $rc (ran?): $(cat "$TMP/err")"
		! grep -Eq "(unrecognized|unknown) option[^']*'$o" "$TMP/err" ||
			die "completion offers '$o', which $c refuses: $(cat "$TMP/err")"
		n=$((n + 1))
	done
	# the example text of --help is not a source: diagnose --plan was offered
	[ "$c" = diagnose ] && echo "$opts" | grep -qx -- --plan && die "diagnose offered --plan"
done
[ "$n" -ge 150 ] || die "only $n options checked"
echo "checked $n offered options of $(echo $commands | wc -w) commands"
