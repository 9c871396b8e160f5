#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The KVM kick address of each virtqueue on the real test guest (virtio-blk
# and virtio-net): the address diagnose maps to a queue from QMP query-pci
# and QEMU's notify layout must be the one an independent QMP reader of
# ours computes from the same QEMU (its own query-pci, the notify memory
# region's QOM offset, page-per-vq and the negotiated VIRTIO_F_VERSION_1).
# The guest runs under TCG here, where no kick reaches a KVM tracepoint: the
# kicks must then come from a TCG source, never from the address table.
# (The address counting itself is proven on the reference device's KVM VM
# by tests/unit/test-kick-addr.c.)
. "$(dirname "$0")/../lib.sh"
need_root
start_guest --workload blk --qd 1 --with-net
python3 - "$TOP/tests/guest" "$GUEST_DIR/qmp-test.sock" >"$TMP/want" <<'PY' ||
import sys
sys.path.insert(0, sys.argv[1])
from qmp import session
cmd = session(sys.argv[2])
fns = {f["qdev_id"]: f for b in cmd("query-pci") for f in b["devices"] if f["qdev_id"]}
for d in cmd("x-query-virtio"):
    proxy = d["path"].rsplit("/", 1)[0]
    qid = proxy.rsplit("/", 1)[1]
    st = cmd("x-query-virtio-status", {"path": d["path"]})
    assert any(t.startswith("VIRTIO_F_VERSION_1") for t in st["guest-features"]["transports"]), \
        "the guest drives %s as a legacy device: this test checks the modern layout" % qid
    bar4 = [r["address"] for r in fns[qid]["regions"] if r["bar"] == 4][0]
    kid = [k["name"] for k in cmd("qom-list", {"path": proxy})
           if k["name"].startswith("virtio-pci-notify-") and "-pio-" not in k["name"]][0]
    off = cmd("qom-get", {"path": proxy + "/" + kid, "property": "addr"})
    mult = 0x1000 if cmd("qom-get", {"path": proxy, "property": "page-per-vq"}) else 4
    for q in range(st["num-vqs"]):
        print(qid, q, "mmio 0x%x" % (bar4 + off + mult * q))
PY
	die "our own QMP reader failed"
[ "$(wc -l <"$TMP/want")" -eq 4 ] || die "expected blk0's queue and net0's three: $(cat "$TMP/want")"
expect_exit 0 "$VS" diagnose --pid "$GUEST_PID" --duration 1s --no-calibrate --json
python3 - "$TMP/out" "$TMP/want" <<'PY' || die "kick addresses differ"
import json, sys
d = json.load(open(sys.argv[1]))
want = {}
for l in open(sys.argv[2]):
    dev, q, addr = l.split(maxsplit=2)
    want[(dev, int(q))] = addr.strip()
got = {}
for q in d["queues"]:
    n = q["queue"]["notify"]
    key = (q["device"]["id"], q["queue"]["index"])
    got[key] = n["addresses"]
    print(key, n["addresses"], n["from"], "| kicks from", q["queue"]["kicks"]["source"])
    assert n["from"].startswith("qmp query-pci "), n["from"]
    # under TCG the table exists but no kick is a KVM event
    assert q["queue"]["kicks"]["source"] != "kvm_pio/kvm_mmio address", q["queue"]["kicks"]
assert set(got) == set(want), (sorted(got), sorted(want))
bad = [k for k in want if got[k] != [want[k]]]
assert not bad, [(k, got[k], want[k]) for k in bad]
PY
# the text gives each queue's address too, on its notify line, within 80
# columns
expect_exit 0 "$VS" diagnose --pid "$GUEST_PID" --duration 1s --no-calibrate
python3 - "$TMP/out" "$TMP/want" <<'PY' || die "text notify lines differ"
import re, sys
text = open(sys.argv[1]).read()
got, key, lines = {}, None, text.splitlines()
for i, l in enumerate(lines):
    m = re.match(r"Queue: .*?, \S+ (\S+) queue (\d+) ", l)
    if m:
        key = (m.group(1), int(m.group(2)))
        # the header, and the measurement wrapped under it, fit too
        head = [l]
        for c in lines[i + 1:]:
            if c.startswith(("  items ", "  not measured")) or not c.startswith("  "):
                break
            head.append(c)
        assert all(len(c) <= 80 for c in head), head
    elif key and l.startswith("  notify   "):
        v, block = l[11:], [l]
        for c in lines[i + 1:]:  # wrapped under its text
            if not c.startswith(" " * 11):
                break
            v += " " + c.strip()
            block.append(c)
        got[key] = v
        assert all(len(c) <= 80 for c in block), block
for l in open(sys.argv[2]):
    dev, q, addr = l.split(maxsplit=2)
    line = got.get((dev, int(q)))
    assert line and line.startswith(addr.strip() + " (qmp query-pci "), ((dev, q), line, addr)
print(len(got), "notify lines")
PY
echo ok
