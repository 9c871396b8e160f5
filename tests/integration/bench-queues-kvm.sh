#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# bench --backend kvm --queues N [--pollers S]: a VM per queue whose guest
# producer publishes bursts at a rate and kicks through an ioeventfd into
# the eventfd of the consumer or poller that serves it. Every queue is
# served and drained (what a guest published is what was consumed), kicks
# are counted per queue, a poller that never idles is never kicked, light
# load starves nobody. Logic only: the guests' code is emulated here (slow),
# so rates are low and nothing is timed.
. "$(dirname "$0")/../lib.sh"
need_kvm
rt=()
[ "$(id -u)" = 0 ] && rt=(--rt)

expect_usage_error "--backend: unknown backend 'xen'" "$VS" bench --queues 2 --backend xen
expect_usage_error "--halt-poll: only with --backend kvm" "$VS" bench --queues 2 --halt-poll 1ms
expect_usage_error "--halt-poll: '1ms,2ms,3ms' has more values than the 2 queues" \
	"$VS" bench --backend kvm --queues 2 --halt-poll 1ms,2ms,3ms
expect_usage_error "--halt-poll: '5s' is out of range" "$VS" bench --backend kvm --queues 2 --halt-poll 5s

check() { # file, python assertions on d, what
	python3 - "$1" "$2" <<'PY' || die "$3: $(head -c 3000 "$1")"
import json, sys
d = json.load(open(sys.argv[1]))
q, p = d["queues"], d["pollers"]
assert d["config"]["backend"] == "kvm", d["config"]
for x in q:
    # the run ends by stopping the guests, then their rings are drained
    assert x["items"] == x["produced"] > 0, x
    assert x["produced"] <= x["offered"], x
    assert x["latency_ns"]["p50"] <= x["latency_ns"]["p98"] <= x["latency_ns"]["max"], x
    assert x["kicks"] <= x["publishes"], x
    assert x["kvm"]["halt_exits"] > 0, x   # the guest sleeps in HLT between bursts
assert sum(y["items"] for y in p) == d["items"] == sum(x["items"] for x in q), (p, d["items"])
exec(sys.argv[2])
PY
}

# 2 kHz of bursts of 4 per queue: a small share of the guest's emulated
# speed, so every scheduled burst is published (nothing full, nothing lost
# beyond the last burst), and a consumer blocks between bursts.
light=(--rate 2k --burst 4 --wc 2us --starve 20ms --duration 400ms "${rt[@]}")
for n in 2 3; do
	# One consumer per queue: each blocks at once, so its guest kicks.
	expect_exit 0 "$VS" bench --backend kvm --queues "$n" "${light[@]}" --json
	cp "$TMP/out" "$TMP/perq$n.json"
	check "$TMP/perq$n.json" "
assert d['config']['shape'] == 'per-queue' and len(q) == len(p) == $n, d['config']
assert [x['poller'] for x in q] == list(range($n)), q
for x in q:
    assert x['full'] == 0 and x['starved'] == 0, x
    assert x['produced'] >= 0.9 * x['offered'], x
    assert x['kicks'] > 0, x
for y in p:
    assert y['queues'] == 1 and y['blocks'] > 0, y
" "kvm, $n queues, a consumer each"

	# One shared poller with its idle fallback (1ms): one eventfd for all
	# the guests; it blocks when they are all quiet, and is kicked awake.
	expect_exit 0 "$VS" bench --backend kvm --queues "$n" --pollers 1 \
		--idle 1ms "${light[@]}" --json
	cp "$TMP/out" "$TMP/poll$n.json"
	check "$TMP/poll$n.json" "
assert d['config']['shape'] == 'shared-pollers' and len(p) == 1, d['config']
assert p[0]['queues'] == $n and all(x['poller'] == 0 for x in q), (p, q)
for x in q:
    assert x['full'] == 0 and x['starved'] == 0, x
    assert x['produced'] >= 0.9 * x['offered'], x
assert sum(x['kicks'] for x in q) > 0 and p[0]['blocks'] > 0, (q, p)
assert 0 < p[0]['util'] < p[0]['cpu'], p
# a poller that polls between bursts takes kicks that consumers of their
# own would have needed: fewer per published burst than per-queue
perq = json.load(open(sys.argv[1].replace('poll$n.json', 'perq$n.json')))
k = lambda r: sum(x['kicks'] for x in r['queues']) / sum(x['publishes'] for x in r['queues'])
assert k(d) < k(perq), (k(d), k(perq))
" "kvm, $n queues, one poller"
done

# A poller that never idles (budget longer than the run) keeps every
# guest's avail_event parked: no guest kicks, the poller never blocks.
expect_exit 0 "$VS" bench --backend kvm --queues 2 --pollers 1 --idle 1s \
	"${light[@]}" --json
check "$TMP/out" "
assert p[0]['blocks'] == 0 and p[0]['empty_visits'] > 100 * p[0]['items'], p
assert all(x['kicks'] == 0 for x in q), q
" "kvm, a poller never idle"

# The starvation bound counts: 1us is below any wait an emulated guest's
# item can see before a blocked poller runs.
expect_exit 0 "$VS" bench --backend kvm --queues 2 --pollers 1 --rate 2k \
	--burst 4 --starve 1us --duration 300ms "${rt[@]}" --json
check "$TMP/out" "assert all(x['starved'] > 0 for x in q), q" "kvm, starve 1us"

# --halt-poll per VM (KVM_CAP_HALT_POLL is a capability of the VM file):
# queue 0's VM never polls, queue 1's may poll 5ms, above most of the gaps
# between its bursts (2 ms mean), so its vCPU grows its window and polls
# nearly every halt; the module's default is null in JSON.
expect_exit 0 "$VS" bench --backend kvm --queues 3 --halt-poll 0,5ms,0 "${light[@]}" --json
check "$TMP/out" "
a, b, c = (x['kvm'] for x in q)
assert a['halt_poll_max_ns'] == c['halt_poll_max_ns'] == 0 and b['halt_poll_max_ns'] == 5000000, q
for k in (a, c):
    assert k['halt_attempted_poll'] == k['halt_successful_poll'] == 0 and k['halt_poll_time_ns'] == 0, k
assert b['halt_attempted_poll'] >= 0.5 * b['halt_exits'] > 0, b
assert b['halt_successful_poll'] <= b['halt_attempted_poll'] and b['halt_poll_time_ns'] > 0, b
# the polling is the vCPU thread's own CPU time
assert q[1]['cpu_producer'] * d['elapsed_ns'] >= 0.5 * b['halt_poll_time_ns'], (q[1], d['elapsed_ns'])
" "kvm, --halt-poll per VM"
expect_exit 0 "$VS" bench --backend kvm --queues 2 --pollers 1 --rate 2k --burst 4 \
	--duration 200ms --json
check "$TMP/out" "assert all(x['kvm']['halt_poll_max_ns'] is None for x in q), q" "kvm, default halt polling"

# Text: the header names the backend, one exit/kick line per queue, 80
# columns.
expect_exit 0 "$VS" bench --backend kvm --queues 2 --pollers 1 --rate 2k \
	--burst 4 --duration 200ms "${rt[@]}"
grep -q "^kvm backend, 2 queues, 1 shared pollers" "$TMP/out" || die "header: $(head -1 "$TMP/out")"
grep -q "^queue produced    kicks  kick_ns    exits io_exits halt_exits hpolls  hp_ok" "$TMP/out" ||
	die "no kvm table: $(cat "$TMP/out")"
awk 'length > 79 { bad = 1 } END { exit bad }' "$TMP/out" || die "text over 80 columns"
echo ok
