#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""A QMP session of our own (not virtsync's), for tests and benchmarks
that must check or set QEMU independently of the code under test.

  qmp.py SOCKET get IOTHREAD             poll-max-ns of an iothread
  qmp.py SOCKET set IOTHREAD NS          set it live (qom-set)
  qmp.py SOCKET used PATH QUEUE          used-idx of a virtqueue
"""
import json
import socket
import sys
import time


def session(path):
    # QEMU's monitor serves one client at a time: while another session
    # (virtsync's, or our previous one not yet closed) holds it, a connect
    # to the full backlog fails with EAGAIN. Retry for up to 10 s.
    for tries in range(200):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(10)
        try:
            s.connect(path)
            break
        except BlockingIOError:
            s.close()
            if tries == 199:
                raise
            time.sleep(0.05)
    f = s.makefile("rw")

    def cmd(c, a=None):
        f.write(json.dumps({"execute": c, **({"arguments": a} if a else {})}) + "\n")
        f.flush()
        while True:
            r = json.loads(f.readline())
            if "return" in r:
                return r["return"]
            if "error" in r:
                raise RuntimeError(r["error"].get("desc", "QMP error"))

    json.loads(f.readline())
    cmd("qmp_capabilities")
    return cmd


def main():
    if len(sys.argv) < 4:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    cmd = session(sys.argv[1])
    op = sys.argv[2]
    if op == "get":
        print(cmd("qom-get", {"path": "/objects/" + sys.argv[3], "property": "poll-max-ns"}))
    elif op == "set":
        cmd("qom-set", {"path": "/objects/" + sys.argv[3], "property": "poll-max-ns",
                        "value": int(sys.argv[4])})
    elif op == "used":
        st = cmd("x-query-virtio-queue-status", {"path": sys.argv[3], "queue": int(sys.argv[4])})
        print(st["used-idx"])
    else:
        print("qmp.py: unknown operation '%s'" % op, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
