#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# virtsync topo on this machine: the topology matches sysfs, the matrix has
# the shape of the CPUs measured (symmetric, no diagonal, every pair with
# samples), a pair with two modes is reported with both, text stays under
# 80 columns, the whole-host run is cached for diagnose, and bad input gets
# one line. Latencies themselves are not asserted (bench/ has figures).
. "$(dirname "$0")/../lib.sh"
n=$(nproc)
[ "$n" -ge 2 ] || skip "needs two CPUs"
online=$(cat /sys/devices/system/cpu/online)

expect_usage_error "--cpus: CPU 999 is not online (online: $online)" \
	"$VS" topo --cpus 0,999
expect_usage_error "--cpus: '0,4095' names a CPU above 1023 (online: $online)" \
	"$VS" topo --cpus 0,4095
expect_usage_error "--cpus: '0' names one CPU" "$VS" topo --cpus 0
expect_usage_error "--cpus: 'zero' is not a CPU list" "$VS" topo --cpus zero
expect_usage_error "--duration: 'soon' is not a time" "$VS" topo --duration soon
expect_usage_error "--duration: '10ms' is out of range" "$VS" topo --duration 10ms
expect_usage_error "--round-trips: '5' is out of range" "$VS" topo --round-trips 5

# Topology only: no threads, and what sysfs says.
expect_exit 0 "$VS" topo --no-measure --json
json_get "$TMP/out" 'len(d["topology"]["cpus"])' >"$TMP/ncpu"
[ "$(cat "$TMP/ncpu")" = "$n" ] || die "topology lists $(cat "$TMP/ncpu") CPUs, nproc $n"
[ "$(json_get "$TMP/out" 'd["topology"]["online"]')" = "$online" ] || die "online list"
[ "$(json_get "$TMP/out" '"c2c" in d')" = False ] || die "--no-measure measured"
l3=$(cat /sys/devices/system/cpu/cpu0/cache/index*/level | sort -n | tail -1)
[ "$(json_get "$TMP/out" 'max(c["level"] for c in d["topology"]["caches"])')" = "$l3" ] ||
	die "largest cache level differs from sysfs ($l3)"

# The matrix, as root so that the whole-host run is cached.
rm -f /run/virtsync/c2c.json.test-before
[ -e /run/virtsync/c2c.json ] && cp /run/virtsync/c2c.json /run/virtsync/c2c.json.test-before
at_exit '[ -e /run/virtsync/c2c.json.test-before ] && mv /run/virtsync/c2c.json.test-before /run/virtsync/c2c.json'
expect_exit 0 "$VS" topo --duration 600ms --json
cp "$TMP/out" "$TMP/topo.json"
python3 - "$TMP/topo.json" "$n" <<'PY' || die "matrix shape"
import json, math, sys
d = json.load(open(sys.argv[1])); n = int(sys.argv[2]); c = d["c2c"]
assert d["command"] == "topo", d.get("command")
assert c["cpus"] == sorted(c["cpus"]) and len(c["cpus"]) == n, c["cpus"]
m = c["matrix"]
assert len(m) == n and all(len(r) == n for r in m)
for i in range(n):
    assert m[i][i] is None
    for j in range(n):
        if i != j:
            assert m[i][j] is not None and m[i][j] > 0, (i, j, m[i][j])
            assert m[i][j] == m[j][i]
assert len(c["pairs"]) == n * (n - 1) // 2 and not c["sampled"]
assert c["passes"] >= 2, c["passes"]
for p in c["pairs"]:
    assert p["a"] < p["b"] and p["samples"] == len(p["series_ns"]) >= 2, p
    assert p["min_ns"] <= p["median_ns"] <= p["max_ns"]
    if p["unstable"]:
        assert p["low_ns"] < p["high_ns"] and 0 < p["high_share"] < 1
    else:
        assert p["low_ns"] == p["high_ns"] == p["median_ns"]
assert c["unstable"] == any(p["unstable"] for p in c["pairs"])
for k in c["clusters"]:
    assert k["name"] and k["median_ns"] <= k["max_ns"]
PY
[ -s /run/virtsync/c2c.json ] || die "the whole-host run was not cached"
[ "$(json_get /run/virtsync/c2c.json 'len(d["c2c"]["pairs"])')" = "$((n * (n - 1) / 2))" ] ||
	die "cache content"

# Text: the matrix with a legend, unstable pairs with both modes.
expect_exit 0 "$VS" topo --duration 600ms
grep -q '^legend: ' "$TMP/out" || die "no legend"
grep -q '^clusters:' "$TMP/out" || die "no clusters section"
awk 'length > 79 { print; bad = 1 } END { exit bad }' "$TMP/out" || die "text over 80 columns"
if grep -q '^unstable pairs' "$TMP/out"; then
	grep -Eq '^  [0-9]+-[0-9]+: [0-9.]+[num]?s \([0-9]+% of samples\) or [0-9.]+[num]?s' "$TMP/out" ||
		die "unstable pair without its two modes"
fi
# A subset of CPUs is measured but not cached as the host's matrix.
cp /run/virtsync/c2c.json "$TMP/cache-before"
expect_exit 0 "$VS" topo --cpus 0-1 --duration 200ms --json
cmp -s /run/virtsync/c2c.json "$TMP/cache-before" || die "--cpus replaced the cache"
[ "$(json_get "$TMP/out" 'd["c2c"]["cpus"]')" = "[0, 1]" ] || die "--cpus 0-1"
echo "ok"
