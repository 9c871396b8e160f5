#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# virtsync sim on the command line: JSON fields, determinism for a seed,
# sweeps, and refusal of bad input (exit 2, one line, no output).
. "$(dirname "$0")/../lib.sh"

# One point, JSON: the model's fields plus the simulator's own.
expect_exit 0 "$VS" sim --preset paper-costs --items 50000 --json
cp "$TMP/out" "$TMP/one.json"
[ "$(json_get "$TMP/one.json" 'd["regime"]')" = nFC ] || die "regime: $(cat "$TMP/one.json")"
# paper-costs is Fig. 8 at Wp = 2.2us: nFC with b = 3, T = Wp + Np/3.
t=$(json_get "$TMP/one.json" 'round(d["T_ns"], 2)')
[ "$t" = 2566.67 ] || die "T_ns $t, expected 2566.67"
for k in params T_ns E_ns D_ns batch notifications_p notifications_c \
	spurious latency_ns regime_share events; do
	json_get "$TMP/one.json" "d['$k']" >/dev/null || die "no field $k"
done
[ "$(json_get "$TMP/one.json" 'sorted(d["latency_ns"])')" = "['max', 'p50', 'p95', 'p98']" ] ||
	die "latency_ns fields"
[ "$(json_get "$TMP/one.json" 'd["params"]["len"]')" = 512 ] || die "params.len"
[ "$(json_get "$TMP/one.json" 'd["D_ns"] == d["latency_ns"]["max"]')" = True ] || die "D_ns"

# Same seed, same numbers; another seed, others (random Wc).
run_seed() {
	"$VS" sim --preset paper-costs --random wc=exp --sigma wp=0.5% \
		--items 30000 --seed "$1" --json |
		python3 -c 'import json,sys; d=json.load(sys.stdin); d.pop("time"); d.pop("cmdline"); print(json.dumps(d, sort_keys=True))'
}
a=$(run_seed 7) b=$(run_seed 7) c=$(run_seed 8)
[ -n "$a" ] && [ "$a" = "$b" ] || die "seed 7 gave two results"
[ "$a" != "$c" ] || die "seeds 7 and 8 gave the same result"
echo "$a" | grep -q '"spurious": [1-9]' || die "no spurious notifications with random Wc: $a"

# A sweep: table, CSV, JSON, one row per point.
expect_exit 0 "$VS" sim --preset paper-costs --items 20000 --sweep wp=2.1us:2.5us:100ns
[ "$(grep -c nFC "$TMP/out")" = 5 ] || { cat "$TMP/out"; die "sweep table"; }
awk 'length($0) > 80 { exit 1 }' "$TMP/out" || die "sweep table wider than 80 columns"
expect_exit 0 "$VS" sim --preset paper-costs --items 20000 --sweep wp=2.1us:2.5us:100ns --csv
[ "$(wc -l <"$TMP/out")" = 6 ] || die "CSV: $(cat "$TMP/out")"
head -1 "$TMP/out" | grep -q '^wp,regime,T_ns,' || die "CSV header"
grep -q '^2500,nFC,3600,' "$TMP/out" || die "CSV row for 2.5us: $(cat "$TMP/out")"
expect_exit 0 "$VS" sim --mode sleep --len 512 --wp 2us --wc 1us --items 20000 \
	--sweep y=4us:1ms:x4 --json
[ "$(json_get "$TMP/out" 'len(d["sweep"]["points"])')" = 4 ] || die "JSON sweep points"
[ "$(json_get "$TMP/out" '{p["regime"] for p in d["sweep"]["points"]}')" = "{'sFC'}" ] ||
	die "sleep sweep regimes"

# Text output fits 80 columns.
expect_exit 0 "$VS" sim --preset fc-example --arrival-rate 1M --random sc=normal \
	--sigma sc=20ns --items 20000
awk 'length($0) > 80 { exit 1 }' "$TMP/out" || die "text wider than 80 columns"
grep -q '^regime ' "$TMP/out" || die "text output: $(cat "$TMP/out")"

# Bad input.
# Hybrid, the same name as in `model`: with constant parameters the sim lands
# on the closed form (the staircase point Pc = 20us: nFC, batch 2, T 62.5us),
# and QEMU's adaptive window grows past the 5us gap until C never blocks.
expect_exit 0 "$VS" sim --mode hybrid --wp 50us --wc 10us --sc 20us --np 25us \
	--pp 0 --pc 20us --items 20000 --json
cp "$TMP/out" "$TMP/hy.json"
[ "$(json_get "$TMP/hy.json" 'd["regime"] == d["model"]["regime"] == "nFC"')" = True ] ||
	die "hybrid regime: $(cat "$TMP/hy.json")"
[ "$(json_get "$TMP/hy.json" 'abs(d["T_ns"] / d["model"]["T_ns"] - 1) < 0.02 and abs(d["E_ns"] / d["model"]["E_ns"] - 1) < 0.02')" = True ] ||
	die "hybrid T/E against the model: $(cat "$TMP/hy.json")"
[ "$(json_get "$TMP/hy.json" 'd["poll_hits_c"] > 0 and d["polls_c"] >= d["poll_hits_c"] and d["setup"]["poll_adapt"] == "fixed"')" = True ] ||
	die "hybrid poll counts: $(cat "$TMP/hy.json")"
expect_exit 0 "$VS" sim --mode hybrid --wp 7us --wc 2us --np 2us --sc 8us \
	--pp 0 --pc 32us --poll-adapt qemu --items 20000
grep -q '^regime *BW' "$TMP/out" || die "qemu window: $(cat "$TMP/out")"
grep -q '^polls .* qemu window' "$TMP/out" || die "polls line: $(cat "$TMP/out")"
awk 'length > 80 { exit 1 }' "$TMP/out" || die "hybrid text wider than 80 columns"
expect_usage_error "--poll-adapt: 'fast' is not a controller" "$VS" sim --poll-adapt fast

expect_usage_error "L must be at least 2" "$VS" sim --len 0
expect_usage_error "L must be at least 2" "$VS" sim --len 1 --kc 1
expect_usage_error "kc: must be between 1 and L" "$VS" sim --len 8 --kc 9
expect_usage_error "kp: must be between 1 and L" "$VS" sim --kp 0
expect_usage_error "'-1us' is not a time" "$VS" sim --np -1us
expect_usage_error "unknown preset 'nosuch'" "$VS" sim --preset nosuch
expect_usage_error "'len' cannot be random" "$VS" sim --random len=exp
expect_usage_error "'gauss' is not a distribution" "$VS" sim --random wc=gauss
expect_usage_error "give its spread" "$VS" sim --random wc=normal
expect_usage_error "only a normal wc has a sigma" "$VS" sim --random wc=exp --sigma wc=1us
# one vocabulary with bench (virtsync(8), SHARED OPTIONS): poll is busy waiting
expect_usage_error "unknown mode 'spin' (notify, sleep, poll or hybrid)" "$VS" sim --c-mode spin
expect_exit 0 "$VS" sim --c-mode poll --json
[ "$(json_get "$TMP/out" 'd["setup"]["c_mode"]')" = busy ] || die "sim --c-mode poll is not busy waiting: $(head -c 300 "$TMP/out")"
expect_usage_error "is not a rate" "$VS" sim --arrival-rate fast
expect_usage_error "at kc=300 of the sweep" "$VS" sim --sweep kc=100:300:100
expect_usage_error "only with --sweep" "$VS" sim --csv
expect_usage_error "unrecognized option '--bogus'" "$VS" sim --bogus
expect_usage_error "option '--wp' requires an argument" "$VS" sim --wp
expect_usage_error "unexpected argument 'extra'" "$VS" sim extra

# --help prints the options and simulates nothing.
expect_exit 0 "$VS" sim --help
grep -q -- '--arrival-rate' "$TMP/out" || die "--help lacks --arrival-rate"
! grep -q '^regime' "$TMP/out" || die "--help also ran a simulation"
echo ok
