#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Poll one virtqueue's used-idx through a QMP socket of our own, every
50 ms until killed (or --lifetime), printing "MONOTONIC_NS USED" lines
with the 16-bit index unwrapped: an independent reader to check
virtsync's per-queue item counts against, over the same window.

  used-poller.py SOCKET QOM_PATH QUEUE [--lifetime S]
"""
import os
import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from qmp import session  # noqa: E402


def main():
    sock, path, queue = sys.argv[1], sys.argv[2], int(sys.argv[3])
    lifetime = float(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[4] == "--lifetime" else 120
    cmd = session(sock)
    start = time.monotonic()
    last = total = None
    while time.monotonic() - start < lifetime:
        t0 = time.monotonic_ns()
        used = cmd("x-query-virtio-queue-status", {"path": path, "queue": queue})["used-idx"]
        t = (t0 + time.monotonic_ns()) // 2
        total = 0 if last is None else total + ((used - last) & 0xffff)
        last = used
        # one write(2) per line: print() writes its pieces one by one, and a
        # kill between them leaves half a line for the test to read
        os.write(1, f"{t} {total}\n".encode())
        time.sleep(0.05)
    return 0


if __name__ == "__main__":
    sys.exit(main())
