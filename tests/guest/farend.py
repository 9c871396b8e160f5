#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The far end of the test guest's virtio-net: QEMU's socket netdev sends
each guest frame as one UDP datagram to the address this program binds on
127.0.0.1. It counts vsload's frames (ethertype 0x88b5) once a second
("FAREND t=N frames=F bytes=B" on stdout) and, with --echo, sends each one
back to QEMU's own address, where the guest's rr mode waits for it.
It talks to 127.0.0.1 only and exits by itself after --lifetime seconds.

  farend.py --port-file FILE [--echo --peer-port P] [--lifetime S]
"""
import argparse
import socket
import sys
import time

ETHERTYPE = b"\x88\xb5"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--echo", action="store_true")
    ap.add_argument("--peer-port", type=int, default=0)
    ap.add_argument("--lifetime", type=float, default=3600)
    a = ap.parse_args()
    if a.echo and not a.peer_port:
        ap.error("--echo needs --peer-port")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(0.2)
    with open(a.port_file + ".new", "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    import os
    os.rename(a.port_file + ".new", a.port_file)
    peer = ("127.0.0.1", a.peer_port)
    start = last = time.monotonic()
    t = frames = nbytes = 0
    while True:
        now = time.monotonic()
        if now - start > a.lifetime:
            return 0
        if now - last >= 1.0:
            t += 1
            # one write(2) per line, so a reader never sees half of one
            os.write(1, b"FAREND t=%d frames=%d bytes=%d\n" % (t, frames, nbytes))
            frames = nbytes = 0
            last = now
        try:
            d, src = s.recvfrom(65536)
        except socket.timeout:
            continue
        # Only QEMU on this machine sends here; anything else is ignored.
        if src[0] != "127.0.0.1" or d[12:14] != ETHERTYPE:
            continue
        frames += 1
        nbytes += len(d)
        if a.echo:
            s.sendto(d, peer)


if __name__ == "__main__":
    sys.exit(main())
