#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# virtsync model: text, JSON, CSV and sweeps, and every kind of bad input.
. "$(dirname "$0")/../lib.sh"

# Text: the make-run screen (Sec. 8.1 preset), all four mechanisms.
expect_exit 0 "$VS" model --preset fc-example
for w in busy sleep notify hybrid BW sFC nFC 'best throughput: busy+sleep' \
	'least CPU: sleep' 'len=512' 'wp=300ns' 'kc=384'; do
	grep -q -- "$w" "$TMP/out" || die "text lacks '$w'"
done
awk 'length > 80 { exit 1 }' "$TMP/out" || die "text wider than 80 columns"
# every time printed is one the time parser takes back: fed as --wp, each
# parses (model's own "unbounded" aside, an infinite D)
for t in $(grep -oE '(^| |\(|=)[0-9.]+(ns|us|ms|s|m|h)\b' "$TMP/out" | tr -d ' (=' | sort -u); do
	"$VS" __parse model --wp "$t" >/dev/null 2>&1 || die "model printed '$t', which does not parse as a time"
done
grep -q '^T, time per item *300ns *300ns *520ns *300ns$' "$TMP/out" ||
	die "T row: $(grep '^T,' "$TMP/out")"

# Options after the preset override it; --sleep sets both sleeps.
expect_exit 0 "$VS" model --preset fc-example --wp 2.1us --wc 2us --sleep 500us \
	--len 512 --json
cp "$TMP/out" "$TMP/o.json"
[ "$(json_get "$TMP/o.json" 'd["params"]["wp_ns"]')" = 2100.0 ] || die "wp override"
[ "$(json_get "$TMP/o.json" 'd["params"]["yp_ns"] == d["params"]["yc_ns"] == 5e5')" = True ] ||
	die "--sleep sets both"
[ "$(json_get "$TMP/o.json" 'd["mechanisms"]["notify"]["regime"]')" = nFC ] || die "nFC"
[ "$(json_get "$TMP/o.json" 'd["mechanisms"]["notify"]["batch"]')" = 5.0 ] || die "nFC batch"
[ "$(json_get "$TMP/o.json" 'd["mechanisms"]["sleep"]["regime"]')" = sFC ] || die "sFC"

# A new L moves kc to 3/4 L unless --kc is given.
expect_exit 0 "$VS" model --len 64 --json
[ "$(json_get "$TMP/out" 'd["params"]["kc"]')" = 48 ] || die "kc follows L"
expect_exit 0 "$VS" model --kc 10 --len 64 --json
[ "$(json_get "$TMP/out" 'd["params"]["kc"]')" = 10 ] || die "explicit kc"

# JSON shape for the Sec. 8.2 preset: null where undefined, bounds for sLS.
expect_exit 0 "$VS" model --preset fp-example --json=pretty
cp "$TMP/out" "$TMP/fp.json"
json_get "$TMP/fp.json" 'sorted(d["mechanisms"])' | grep -q "\['busy', 'hybrid', 'notify', 'sleep'\]" ||
	die "mechanisms: $(json_get "$TMP/fp.json" 'sorted(d["mechanisms"])')"
for m in busy sleep notify hybrid; do
	for k in regime T_ns E_ns D_ns batch T_lo_ns T_hi_ns E_lo_ns E_hi_ns; do
		[ "$(json_get "$TMP/fp.json" "'$k' in d['mechanisms']['$m']")" = True ] ||
			die "$m lacks $k"
	done
done
[ "$(json_get "$TMP/fp.json" 'd["mechanisms"]["busy"]["batch"]')" = None ] || die "BW batch not null"
[ "$(json_get "$TMP/fp.json" 'd["mechanisms"]["notify"]["regime"]')" = nFP ] || die "nFP"
[ "$(json_get "$TMP/fp.json" 'd["mechanisms"]["notify"]["batch"]')" = 1430.0 ] || die "nFP batch"
[ "$(json_get "$TMP/fp.json" 'd["mechanisms"]["sleep"]["batch"]')" = 200.0 ] || die "sFP batch"
# the global --json of the dispatcher works too
expect_exit 0 "$VS" --json model --wp 2us --wc 1us --len 512 -y 1.5ms
cp "$TMP/out" "$TMP/sls.json"
[ "$(json_get "$TMP/sls.json" 'd["mechanisms"]["sleep"]["regime"]')" = sLS ] || die "sLS"
[ "$(json_get "$TMP/sls.json" 'd["mechanisms"]["sleep"]["T_lo_ns"] <= d["mechanisms"]["sleep"]["T_ns"] <= d["mechanisms"]["sleep"]["T_hi_ns"]')" = True ] ||
	die "sLS bounds"
# Yp != Yc: T only bounded, E at the midpoint T between E at the T bounds
expect_exit 0 "$VS" model --wp 2us --wc 1us --len 512 --yp 1.5ms --yc 2ms --json
[ "$(json_get "$TMP/out" 'd["mechanisms"]["sleep"]["E_lo_ns"] <= d["mechanisms"]["sleep"]["E_ns"] <= d["mechanisms"]["sleep"]["E_hi_ns"]')" = True ] ||
	die "sLS E bounds"

# Sweep: the Fig. 8 curve as text, CSV and JSON.
expect_exit 0 "$VS" model --preset paper-costs --sweep wp=200ns:2.9us:100ns
[ "$(grep -c '^[0-9.]*[nu]s ' "$TMP/out")" = 28 ] || die "sweep rows: $(cat "$TMP/out")"
awk 'length > 80 { exit 1 }' "$TMP/out" || die "sweep wider than 80 columns"
grep -q '^2.5us *T *BW .* nFC *3.6us' "$TMP/out" || die "Fig. 8 at 2.5us"
expect_exit 0 "$VS" model --preset paper-costs --sweep wp=200ns:2.9us:100ns --csv
[ "$(wc -l <"$TMP/out")" = 29 ] || die "CSV lines"
head -1 "$TMP/out" | grep -q '^wp,busy_regime,busy_T_ns,' || die "CSV header"
python3 - "$TMP/out" <<'EOF' || die "CSV content"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 28, len(rows)
r = [x for x in rows if float(x["wp"]) == 2500][0]
assert r["notify_regime"] == "nFC" and abs(float(r["notify_T_ns"]) - 3600) < 1e-6, r
assert r["busy_batch"] == "", r
assert all(x["notify_regime"] == "nFP" for x in rows if float(x["wp"]) < 2000)
EOF
expect_exit 0 "$VS" model --wp 2us --wc 1us --len 512 --sweep y=4us:3ms:x1.5 --json
cp "$TMP/out" "$TMP/sw.json"
[ "$(json_get "$TMP/sw.json" 'd["sweep"]["param"]')" = y ] || die "sweep param"
[ "$(json_get "$TMP/sw.json" 'len(d["sweep"]["points"])')" = 17 ] || die "sweep points"
[ "$(json_get "$TMP/sw.json" 'sorted(set(p["mechanisms"]["sleep"]["regime"] for p in d["sweep"]["points"]))')" = "['sFC', 'sLS']" ] ||
	die "sleep sweep regimes"
[ "$(json_get "$TMP/sw.json" '"params" in d and "mechanisms" in d["sweep"]["points"][0]')" = True ] ||
	die "sweep JSON shape"
expect_exit 0 "$VS" model --sweep kc=32:256:32
[ "$(grep -c '^[0-9][0-9]* ' "$TMP/out")" = 8 ] || die "integer sweep"

# Hybrid (poll then block): P = 0 is notify, a poll spanning the gap Wp - Wc
# is busy waiting, between them the poll catches the next item of a batch
# (Wp 50us, Wc 10us, Sc 20us, Np 25us: T 75, 62.5, 50us; docs/hybrid.md).
expect_exit 0 "$VS" model --wp 50us --wc 10us --sc 20us --np 25us --poll 0 --json
[ "$(json_get "$TMP/out" 'd["mechanisms"]["hybrid"] == d["mechanisms"]["notify"]')" = True ] ||
	die "poll 0 is notify: $(json_get "$TMP/out" 'd["mechanisms"]')"
[ "$(json_get "$TMP/out" 'd["params"]["pp_ns"] == d["params"]["pc_ns"] == 0')" = True ] ||
	die "--poll sets Pp and Pc"
expect_exit 0 "$VS" model --wp 50us --wc 10us --sc 20us --np 25us --pp 0 \
	--sweep pc=0:50us:5us --json
cp "$TMP/out" "$TMP/hy.json"
python3 - "$TMP/hy.json" <<'EOF' || die "hybrid sweep: $(cat "$TMP/hy.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["params"]["pc_ns"] is None and d["params"]["pp_ns"] == 0, d["params"]
pts = [(p["value"], p["mechanisms"]["hybrid"]) for p in d["sweep"]["points"]]
t = {v: (h["regime"], round(h["T_ns"], 3), h["batch"]) for v, h in pts}
assert t[0] == ("nFC", 75000, 1), t[0]
assert t[15000] == ("nFC", 75000, 1), t[15000]
assert t[20000] == ("nFC", 62500, 2), t[20000]
assert t[35000] == ("nFC", 62500, 2), t[35000]
assert t[40000][:2] == ("BW", 50000) and t[40000][2] is None, t[40000]
# CPU grows with the poll inside a regime, drops where the regime changes
e = {v: h["E_ns"] for v, h in pts}
assert e[5000] > e[0] and e[20000] < e[15000] and e[40000] < e[35000], e
EOF
expect_exit 0 "$VS" model --wp 50us --wc 10us --sweep poll=0:40us:20us
[ "$(grep -c '^[0-9.]*[nu]s ' "$TMP/out")" = 3 ] || die "poll sweep rows: $(cat "$TMP/out")"
awk 'length > 80 { exit 1 }' "$TMP/out" || die "poll sweep wider than 80 columns"
expect_usage_error "--poll: 'x' is not a time" "$VS" model --poll x

# Help: the argp text with usage and examples, exit 0.
expect_exit 0 "$VS" model --help
for w in Synopsis Examples --sweep --preset --sleep --poll hybrid 'Common options'; do
	grep -q -- "$w" "$TMP/out" || die "--help lacks '$w'"
done
# help, not predictions: --help exits before the command runs
head -1 "$TMP/out" | grep -q '^Usage: virtsync model' || die "--help: $(head -1 "$TMP/out")"
! grep -q -e '^T, time per item' -e 'best throughput' "$TMP/out" || die "--help printed predictions"
for w in --wp --len -y; do
	grep -q -- "$w" "$TMP/out" || die "--help lacks '$w'"
done
expect_exit 0 "$VS" model --usage
grep -q 'Usage: virtsync model' "$TMP/out" || die "--usage: $(cat "$TMP/out")"
! grep -q -e '^T, time per item' -e 'best throughput' "$TMP/out" || die "--usage printed predictions"
# help wins wherever it stands, even after parameters
expect_exit 0 "$VS" model --preset fc-example --help
! grep -q 'best throughput' "$TMP/out" || die "--help after options printed predictions"
# short options (virtsync(8), SHARED OPTIONS): -y both sleeps, -s sweep;
# -p is --pid, so model has none for --preset
expect_exit 0 "$VS" model --preset fc-example -y 1ms -s len=256:512:256 --json
[ "$(json_get "$TMP/out" 'd["params"]["yp_ns"] == d["params"]["yc_ns"] == 1e6 and d["preset"] == "fc-example"')" = True ] ||
	die "short options"

# Bad input: one line naming the problem, exit 2, nothing on stdout.
expect_usage_error "--len: L must be at least 2" "$VS" model --len 0
expect_usage_error "--len: L must be at least 2" "$VS" model --len 1 --kc 1
expect_usage_error "--kc: must be between 1 and L" "$VS" model --len 64 --kc 65
expect_usage_error "--kp: must be between 1 and L" "$VS" model --kp 0
expect_usage_error "--kp: must be between 1 and L" "$VS" model --len 4 --kp 5
expect_usage_error "--np: '-1us' is not a time" "$VS" model --np -1us
expect_usage_error "--sc: '-5' is not a time" "$VS" model --sc -5
expect_usage_error "--preset: unknown preset 'nope'" "$VS" model --preset nope
expect_usage_error "--sweep: 'wp=1us:2us': expected" "$VS" model --sweep wp=1us:2us
expect_usage_error "--sweep: 'q=1:2:3': unknown parameter" "$VS" model --sweep q=1:2:3
expect_usage_error "--sweep: 'wp=2us:1us:1ns': start is above end" "$VS" model --sweep wp=2us:1us:1ns
expect_usage_error "--sweep: 'wp=1us:2us:0'" "$VS" model --sweep wp=1us:2us:0
expect_usage_error "--sweep: 'len=8:x:1'" "$VS" model --sweep len=8:x:1
expect_usage_error "--kc: must be between 1 and L (L=64 kp=1 kc=96) at kc=96 of the sweep" "$VS" model --len 64 --sweep kc=32:96:32
expect_usage_error "--wp: 'abc' is not a time" "$VS" model --wp abc
expect_usage_error "--sleep: '5 parsecs' is not a time" "$VS" model --sleep '5 parsecs'
expect_usage_error "--yz: '' is not a time" "$VS" model --yz ''
expect_usage_error "--len: 'many'" "$VS" model --len many
expect_usage_error "unrecognized option '--bogus'" "$VS" model --bogus
expect_usage_error "--csv: only with --sweep" "$VS" model --csv
expect_usage_error "unexpected argument 'extra'" "$VS" model extra
echo ok
