#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# One time vocabulary in every command (virtsync(8), TIMES): units ns, us,
# ms, s, m (min), h; a bare number other than 0 is refused naming the unit
# it needs; range errors have one wording whose limits parse back; a run
# too short to measure anything is refused, never printed as a figure.
. "$(dirname "$0")/../lib.sh"

# Durations and run lengths: "write 2s".
for cmd in "bench --duration" "validate --duration" "sim --sim-time" \
	"stat --interval" "sleepcost --duration" "diagnose --duration" \
	"tune --auto --workload wakeup --duration"; do
	opt=${cmd##* }
	# shellcheck disable=SC2086
	expect_usage_error "^virtsync ${cmd%% *}: $opt: '2' needs a unit (write 2s)\$" \
		"$VS" $cmd 2
done
# Every other time: the hint names both small units.
expect_usage_error "^virtsync model: --wp: '300' needs a unit (write 300ns or 300us)\$" \
	"$VS" model --wp 300
expect_usage_error "^virtsync bench: --dmax: '50' needs a unit" "$VS" bench --dmax 50
expect_usage_error "^virtsync idlelat: --gap: '200' needs a unit" "$VS" idlelat --gap 200
expect_usage_error "sweep.*need a unit" "$VS" model --sweep wp=200:2900:100
expect_usage_error "sweep.*step needs a unit" "$VS" model --sweep wp=200ns:2.9us:100
expect_usage_error "^virtsync hold: LATENCY: '20' needs a unit (write 20us)\$" \
	"$VS" hold 20
expect_usage_error "is not a time (write 300ns, 2us, 1.5ms, 1s, 2m or 1h)" \
	"$VS" model --wp 3x
expect_usage_error "'1d' is not a time" "$VS" stat --interval 1d

# 0 needs no unit; m, min and h are minutes and hours.
expect_exit 0 "$VS" model --wp 0 --json
[ "$(json_get "$TMP/out" 'd["params"]["wp_ns"]')" = 0.0 ] || die "--wp 0"
for t in 2m:120000000000 2min:120000000000 1.5h:5400000000000 \
	1.5ms:1500000 300ns:300 2us:2000 1s:1000000000; do
	expect_exit 0 "$VS" model --y "${t%%:*}" --json
	got=$(json_get "$TMP/out" 'int(d["params"]["yp_ns"])')
	[ "$got" = "${t##*:}" ] || die "--y ${t%%:*}: yp $got, expected ${t##*:}"
done

# Range errors: one wording, and the limits are times the parser takes.
check_range() {
	local lo hi
	grep -Eq "is out of range \(([0-9.]+(ns|us|ms|s|m|h)|0) to [0-9.]+(ns|us|ms|s|m|h)\)\$" \
		"$TMP/err" || die "range wording: $(cat "$TMP/err")"
	lo=$(sed -E 's/.*\((.*) to (.*)\)$/\1/' "$TMP/err")
	hi=$(sed -E 's/.*\((.*) to (.*)\)$/\2/' "$TMP/err")
	"$VS" model --y "$lo" >/dev/null 2>&1 || die "limit '$lo' does not parse"
	"$VS" model --y "$hi" >/dev/null 2>&1 || die "limit '$hi' does not parse"
}
for cmd in "idlelat --gap 2s" "stat --interval 5ms" "diagnose --duration 2h" \
	"validate --duration 2ns" "bench --duration 2ns" "sim --sim-time 2ns" \
	"sleepcost --duration 20m" "tune --auto --workload wakeup --dmax 0" \
	"diagnose --dmax 0" "bench --dmax 0" "apply latency-poll --dry-run --dmax 0" \
	"tune --auto --workload wakeup --duration 2h"; do
	# shellcheck disable=SC2086
	expect_usage_error "out of range" "$VS" $cmd
	check_range
done
expect_usage_error "^virtsync bench: --len: '65536' is out of range (2 to 32768)\$" \
	"$VS" bench --len 65536

# A run too short for a figure: refused before it starts, or, where only
# the run can tell, exit 1 with one line and nothing on stdout (sim
# --sim-time 2us measured one item and printed "batch nan").
expect_exit 1 "$VS" sim --sim-time 2us
[ ! -s "$TMP/out" ] || die "sim --sim-time 2us printed figures: $(cat "$TMP/out")"
grep -q "too few for a figure" "$TMP/err" || die "sim: $(cat "$TMP/err")"
expect_exit 1 "$VS" sim --sim-time 2us --sweep wp=100ns:200ns:100ns
grep -q "at wp=100ns: too few for a figure" "$TMP/err" || die "sim sweep: $(cat "$TMP/err")"
expect_exit 0 "$VS" sim --mode busy
grep -q nan "$TMP/out" && die "sim --mode busy prints nan: $(cat "$TMP/out")"

# hold takes a time like everything else.
if [ "$(id -u)" = 0 ] && [ -w /dev/cpu_dma_latency ]; then
	"$VS" hold --pidfile "$TMP/hold.pid" 20us >"$TMP/hold.out" 2>&1 &
	hp=$!
	at_exit "kill $hp 2>/dev/null"
	for _ in $(seq 50); do [ -s "$TMP/hold.pid" ] && break; sleep 0.1; done
	[ "$(cat "$TMP/hold.pid")" = "$hp 20" ] || die "hold 20us pidfile: $(cat "$TMP/hold.pid" 2>&1)"
	grep -q "at 20 us" "$TMP/hold.out" || die "hold 20us: $(cat "$TMP/hold.out")"
	kill $hp
	wait $hp || die "hold exit status after SIGTERM"
else
	echo "SKIP part: hold needs root and /dev/cpu_dma_latency"
fi
echo ok
