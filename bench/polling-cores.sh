#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Shared polling cores: model (closed forms and simulator, lib/model/mq.c)
# against the multi-queue reference device (bench --queues --pollers) on
# this machine, per configuration: total throughput T and each queue's p98,
# the model fed what the device measured (mean burst per publish, cost of an
# empty visit, kick-to-running). Goal (issue 14): within 15 % on T and on
# p98 over at least six configurations. Then, for three load mixes, the
# polling-core advice (model: fewest pollers meeting --dmax) against the
# best S measured (the fewest that met it on the device). Takes ~2 min.
#
# Usage: flock /tmp/vs-test.lock bench/polling-cores.sh [OUT.json]
# BACKEND=kvm: the same against the kvm backend (a VM per queue whose
# emulated guest is the producer), with configurations and advice mixes at
# the low rates such guests reach here (a few thousand items/s per queue;
# a heavy mix gets its load from Wc, not from the rate).
# PARTS=validate or PARTS=advice runs only that half. ALLRUNS=1 also
# prints every run of a configuration against the model fed that run's own
# inputs (which side moves from run to run: the device or the model).
# Producers are pinned to CPU 0 and run SCHED_FIFO above the pollers;
# one poller sits on CPU 1, two on CPUs 1 and 0 (the second shares CPU 0
# with the producers). Each configuration runs REPEAT times (default 3)
# and of the runs within 3 % of the best throughput the one with the lowest
# worst-queue p98 is kept (a host stall only slows a run and delays items).
set -euo pipefail
VS=${VIRTSYNC_BIN:-$(dirname "$0")/../.output/virtsync}
OUT=${1:-/dev/null}
REPEAT=${REPEAT:-3}
DUR=${DUR:-1s}
BACKEND=${BACKEND:-thread}
PARTS=${PARTS:-validate,advice}
ALLRUNS=${ALLRUNS:-0}
exec python3 - "$VS" "$OUT" "$REPEAT" "$DUR" "$BACKEND" "$PARTS" "$ALLRUNS" <<'PY'
import json, subprocess, sys, statistics
vs, out, repeat, dur, backend = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
parts = sys.argv[6].split(",")
allruns = sys.argv[7] == "1"
last_runs = []

def bench(q, s, rate, burst, wc, extra=()):
    args = [vs, "bench", "--queues", str(q), "--pollers", str(s), "--rate", rate,
            "--burst", str(burst), "--wc", wc, "--duration", dur, "--rt",
            "--pin-producers", "0", "--backend", backend, "--json"] + list(extra)
    if s:
        args += ["--pin-pollers", "1,0"]
    runs = [json.loads(subprocess.run(args, check=True, capture_output=True, text=True).stdout)
            for _ in range(repeat)]
    last_runs[:] = runs
    # A host stall only slows a run down and delays its items: keep the
    # runs within 3 % of the best throughput, and of those the one whose
    # worst queue's p98 is lowest.
    top = max(d["throughput_ops"] for d in runs)
    ok = [d for d in runs if d["throughput_ops"] >= 0.97 * top]
    return min(ok, key=lambda d: max(x["latency_ns"]["p98"] for x in d["queues"]))

def model(d, s, rate, wc, dmax=None, pollers=True):
    q = d["queues"]; p = d["pollers"]
    visit = statistics.mean([x["visit_ns"] for x in p if x["visit_ns"] is not None] or [10])
    wakes = [x["wake_ns"] for x in p if x["wake_ns"] is not None]
    wake = statistics.mean(wakes) if wakes else 20000
    p10 = [x["wake_p10_ns"] for x in p if x.get("wake_p10_ns") is not None]
    wmin = min(statistics.mean(p10), wake) if p10 else 0
    bursts = ",".join("%.3f" % max(1.0, x["burst"] or 1) for x in q)
    args = [vs, "model", "--queues", str(len(q)), "--rate", rate, "--wc", wc,
            "--burst", bursts, "--visit", "%.3fns" % visit, "--wake", "%.0fns" % wake,
            "--wake-min", "%.0fns" % wmin,
            "--len", str(d["config"]["len"]), "--batch", str(d["config"]["batch_limit"]),
            "--sim", "--sim-time", "5s", "--json"]
    if pollers:
        args += ["--pollers", str(s)]
    if dmax:
        args += ["--dmax", dmax]
    return json.loads(subprocess.run(args, check=True, capture_output=True, text=True).stdout)

# The first ones keep every poller off the producers' CPU (one poller on
# CPU 1, or consumers that block: what this machine measures faithfully);
# the S=2 ones put the second poller on CPU 0 beside eight sleeping
# producers, whose wake-ups (25-35 us of CPU each here) preempt it: the
# model has no such interference, and they are reported apart.
configs = [  # queues, pollers, rate, burst, wc
    (4, 1, "20k", 8, "2us"),
    (8, 1, "20k", 8, "2us"),
    (4, 1, "40k", 8, "4us"),
    (2, 1, "40k", 8, "20us"),
    (4, 0, "20k", 8, "2us"),
    (4, 1, "60k,10k", 8, "3us"),
    (3, 1, "30k", 16, "2us"),
    (6, 1, "10k", 4, "5us"),
    (4, 2, "40k", 8, "4us"),
    (2, 2, "40k", 8, "20us"),
]
if backend == "kvm":
    # An emulated guest publishes a burst in tens of us and kicks in
    # 40-50 us: a few thousand items per second per queue.
    configs = [
        (2, 1, "2k", 4, "2us"),
        (3, 1, "2k", 4, "2us"),
        (3, 0, "2k", 4, "2us"),
        (2, 1, "4k", 8, "20us"),
        (3, 1, "1k,3k", 4, "10us"),
        (4, 1, "1k", 4, "5us"),
    ]
if "validate" not in parts:
    configs = []
rows = []
print("%-28s %9s %9s %9s %6s %6s | %8s %8s %8s %6s %6s" % (
    "config", "T dev", "T model", "T sim", "err", "simerr",
    "p98 dev", "p98 mod", "p98 sim", "err", "simerr"))
for (n, s, rate, burst, wc) in configs:
    d = bench(n, s, rate, burst, wc)
    m = model(d, s, rate, wc)["shapes"][0]
    sim = m["sim"]
    td = d["throughput_ops"]
    te = abs(m["t_ops"] - td) / td
    ts = abs(sim["t_ops"] - td) / td
    p98d = [x["latency_ns"]["p98"] for x in d["queues"]]
    p98m = [x["p98_ns"] for x in m["queues"]]
    p98s = [x["p98_ns"] for x in sim["queues"]]
    # per queue, then the median over the queues of the configuration
    pe = statistics.median(abs(a - b) / b for a, b in zip(p98m, p98d))
    ps = statistics.median(abs(a - b) / b for a, b in zip(p98s, p98d))
    name = "%dq %s B%d Wc%s %s" % (n, rate, burst, wc, "S=%d" % s if s else "per-queue")
    print("%-28s %9.0f %9.0f %9.0f %5.1f%% %5.1f%% | %7.1fu %7.1fu %7.1fu %5.1f%% %5.1f%%" % (
        name, td, m["t_ops"], sim["t_ops"], 100 * te, 100 * ts,
        statistics.median(p98d) / 1e3, statistics.median(p98m) / 1e3,
        statistics.median(p98s) / 1e3, 100 * pe, 100 * ps))
    every = []
    for k, r in enumerate(last_runs if allruns else []):
        mr = model(r, s, rate, wc)["shapes"][0]
        dq = [x["latency_ns"]["p98"] for x in r["queues"]]
        mq = [x["p98_ns"] for x in mr["queues"]]
        wk = [x["wake_ns"] for x in r["pollers"] if x["wake_ns"] is not None]
        w98 = [x["wake_p98_ns"] for x in r["pollers"] if x.get("wake_p98_ns") is not None]
        e = statistics.median((a - b) / b for a, b in zip(mq, dq))
        every.append(dict(t=r["throughput_ops"], p98_dev=dq, p98_model=mq, err=e,
                          wake=wk, wake_p98=w98,
                          burst=[x["burst"] for x in r["queues"]]))
        print("  run %d: p98 dev %7.1fu model %7.1fu (%+5.1f%%) wake %s p98 %s burst %.2f" % (
            k, statistics.median(dq) / 1e3, statistics.median(mq) / 1e3, 100 * e,
            "/".join("%.1fu" % (x / 1e3) for x in wk) or "-",
            "/".join("%.1fu" % (x / 1e3) for x in w98) or "-",
            statistics.mean(x["burst"] or 1 for x in r["queues"])))
    rows.append(dict(config=name, runs=every, t_dev=td, t_model=m["t_ops"], t_sim=sim["t_ops"],
                     t_err=te, t_sim_err=ts, p98_dev=p98d, p98_model=p98m, p98_sim=p98s,
                     p98_err=pe, p98_sim_err=ps, offered=d["offered_ops"],
                     cpu_dev=d["cpu"]["pollers"], cpu_model=m["cpu"] - m["cpu_kicks"]))
for shared, label in ((False, "pollers off the producers' CPU"), (True, "a poller on the producers' CPU")):
    rs = [r for r in rows if ("S=2" in r["config"]) == shared]
    if not rs:
        continue
    within = lambda k: sum(1 for r in rs if r[k] <= 0.15)
    print("%s: within 15 %%: T model %d/%d, sim %d/%d; p98 model %d/%d, sim %d/%d" % (
        label, within("t_err"), len(rs), within("t_sim_err"), len(rs),
        within("p98_err"), len(rs), within("p98_sim_err"), len(rs)))

# Advice against the measured best S, three mixes, Dmax per mix.
mixes = [  # name, queues, rate, wc, dmax, burst
    ("light 6x10k Wc2us", 6, "10k", "2us", "100us", 8),
    ("heavy 3x40k Wc8us", 3, "40k", "8us", "400us", 8),
    ("mixed 60k+3x8k Wc4us", 4, "60k,8k", "4us", "300us", 8),
]
if backend == "kvm":
    # The emulated guests' rates; Dmax put, before measuring, where the
    # model (with a typical wake-up here) tells S=1 from S=2 or says 1.
    mixes = [
        ("light 4x1k Wc5us", 4, "1k", "5us", "300us", 4),
        ("heavy 3x3k Wc90us", 3, "3k", "90us", "2000us", 4),
        ("mixed 4k+3x1k Wc40us", 4, "4k,1k", "40us", "500us", 4),
    ]
if "advice" not in parts:
    mixes = []
advice = []
print("\n%-22s %6s %8s | %s" % ("mix", "dmax", "advised", "measured per S: T/offered, worst p98"))
for (name, n, rate, wc, dmax, burst) in mixes:
    meas = {}
    for s in (1, 2):
        d = bench(n, s, rate, burst, wc)
        meas[s] = d
    m = model(meas[1], 1, rate, wc, dmax=dmax, pollers=False)
    adv = m["needed"]["pollers"]
    dm = float(dmax[:-2]) * 1e3
    # the model's prediction per S (on the S=1 run's measured inputs)
    pred = {sh["pollers_asked"]: sh["p98_ns"] for sh in m["shapes"]
            if sh["shape"] == "shared-pollers"}
    best = None
    for s in (1, 2):
        d = meas[s]
        ok = d["throughput_ops"] >= 0.97 * d["offered_ops"] and \
            max(x["latency_ns"]["p98"] for x in d["queues"]) <= dm
        if ok and best is None:
            best = s
    desc = "  ".join("S=%d %.2f %.0fus" % (s, meas[s]["throughput_ops"] / meas[s]["offered_ops"],
                     max(x["latency_ns"]["p98"] for x in meas[s]["queues"]) / 1e3) for s in (1, 2))
    print("%-22s %6s %8s | %s  best %s" % (name, dmax, adv, desc, best if best else ">2"))
    print("%-22s %6s %8s | model worst p98: %s" % ("", "", "", "  ".join(
        "S=%d %.0fus" % (k, v / 1e3) for k, v in sorted(pred.items()) if k <= 3)))
    advice.append(dict(mix=name, dmax=dmax, advised=adv, best_measured=best, model_p98=pred,
                       measured={s: dict(t=meas[s]["throughput_ops"], offered=meas[s]["offered_ops"],
                                         p98=[x["latency_ns"]["p98"] for x in meas[s]["queues"]])
                                 for s in (1, 2)}))
json.dump(dict(validation=rows, advice=advice), open(out, "w"), indent=1)
PY
