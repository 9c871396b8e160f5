#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Run every test and end with the line "N passed, N failed, N skipped".
#   --unit DIR          cmocka binaries (TAP output, one result per case)
#   --unit-san DIR      the same built with ASan+UBSan
#   --integration DIR   scripts: exit 0 pass, 77 skip (print "SKIP: why"),
#                       anything else fail
# TESTS=glob limits which tests run (matched against the test's name).
set -u
pass=0 fail=0 skip=0
failed_names=()
logdir=${TEST_LOGDIR:-.output/test-logs}
mkdir -p "$logdir"
filter=${TESTS:-*}
limit=${TEST_TIMEOUT:-600}

# Fixture trees list their read-only files in .readonly (git stores no
# write bits); restore the modes before any test copies or reads a tree.
fixtures=$(dirname "$0")/fixtures
for ro in "$fixtures"/*/.readonly; do
	[ -f "$ro" ] || continue
	while IFS= read -r f; do
		case $f in ""|"#"*) continue ;; esac
		chmod a-w "$(dirname "$ro")/$f"
	done <"$ro"
done

record() { # result name [reason]
	case $1 in
	PASS) pass=$((pass + 1)) ;;
	FAIL) fail=$((fail + 1)); failed_names+=("$2") ;;
	SKIP) skip=$((skip + 1)) ;;
	esac
	printf '%-4s %s%s\n' "$1" "$2" "${3:+: $3}"
}

run_unit_dir() { # dir label
	local dir=$1 label=$2 bin name log rc line
	[ -d "$dir" ] || return 0
	for bin in "$dir"/test-*; do
		[ -x "$bin" ] || continue
		name=$label$(basename "$bin")
		# shellcheck disable=SC2053
		[[ $name == $filter ]] || continue
		log=$logdir/$(basename "$bin")$label.log
		log=${log//:/_}
		CMOCKA_MESSAGE_OUTPUT=TAP timeout "$limit" "$bin" >"$log" 2>&1
		rc=$?
		local seen=0 why=""
		while IFS= read -r line; do
			case $line in
			# cmocka 1.1 prints a skipped case as "not ok N # SKIP name".
			*"ok "*"# SKIP"*)
				seen=1
				record SKIP "$name/${line##*# SKIP }" "${why:-no reason given}" ;;
			"SKIP: "*) why=${line#SKIP: } ;;
			"not ok "*) seen=1; record FAIL "$name/${line#not ok * - }" ;;
			"ok "*) seen=1; record PASS "$name/${line#ok * - }" ;;
			esac
		done <"$log"
		if [ $rc -ne 0 ] && ! grep -v '# SKIP' "$log" | grep -q '^not ok'; then
			record FAIL "$name" "exit status $rc (crash, sanitizer or timeout)"
			seen=1
		fi
		[ $seen -eq 1 ] || record FAIL "$name" "no test result in output"
		if [ $rc -ne 0 ]; then sed 's/^/    | /' "$log" | tail -n 30; fi
	done
}

run_integration_dir() {
	local dir=$1 t name log rc reason
	[ -d "$dir" ] || return 0
	for t in "$dir"/*.sh; do
		[ -f "$t" ] || continue
		name=integration/$(basename "$t" .sh)
		# shellcheck disable=SC2053
		[[ $name == $filter ]] || continue
		log=$logdir/$(basename "$t" .sh).log
		timeout "$limit" bash "$t" >"$log" 2>&1
		rc=$?
		case $rc in
		0) record PASS "$name" ;;
		77)
			reason=$(grep -m1 '^SKIP:' "$log" | sed 's/^SKIP: *//')
			record SKIP "$name" "${reason:-no reason given}"
			;;
		*)
			record FAIL "$name" "exit status $rc"
			sed 's/^/    | /' "$log" | tail -n 30
			;;
		esac
	done
}

while [ $# -gt 0 ]; do
	case $1 in
	--unit) run_unit_dir "$2" ""; shift 2 ;;
	--unit-san) run_unit_dir "$2" "san:"; shift 2 ;;
	--integration) run_integration_dir "$2"; shift 2 ;;
	*) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done

if [ ${#failed_names[@]} -gt 0 ]; then
	echo "failed:"
	printf '  %s\n' "${failed_names[@]}"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
