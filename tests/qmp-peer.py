#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""A misbehaving QMP peer on a unix socket, for tests and bench/qmp-peers.sh.

usage: qmp-peer.py SOCKET MODE [PIDFILE]

Every connection gets its own thread. MODE:
  drip     the greeting, one byte a second (each poll() sees data)
  events   a correct greeting and capabilities reply, then, after any later
           command, events forever and never the reply
  flood    events forever from the start, before even the greeting
  silent   accept and never send a byte
  stall    a correct greeting, then never answer qmp_capabilities
  garbage  a line that is not JSON
  good     a well-behaved peer with iothread io0 (poll-max-ns kept in memory)

Each connection accepted appends a line to SOCKET.conns, so that a test can
count how often a command asked.
"""
import json
import os
import socket
import sys
import threading
import time

GREETING = {"QMP": {"version": {"qemu": {"major": 9, "minor": 0, "micro": 0},
                                "package": ""}, "capabilities": []}}
EVENT = {"event": "RTC_CHANGE", "data": {"offset": 0},
         "timestamp": {"seconds": 0, "microseconds": 0}}
state = {"poll-max-ns": 12345}


def line(obj):
    return (json.dumps(obj) + "\r\n").encode()


def events_forever(conn):
    ev = line(EVENT)
    while True:
        conn.sendall(ev)
        time.sleep(0.001)


def serve(conn, mode):
    try:
        if mode == "silent":
            time.sleep(3600)
        if mode == "flood":
            events_forever(conn)
        if mode == "garbage":
            conn.sendall(b"this is not json\n")
            time.sleep(3600)
        if mode == "drip":
            for b in line(GREETING):
                conn.sendall(bytes([b]))
                time.sleep(1)
            time.sleep(3600)
        conn.sendall(line(GREETING))
        f = conn.makefile("rb")
        if mode == "stall":
            f.readline()
            time.sleep(3600)
        for raw in f:
            req = json.loads(raw)
            cmd = req.get("execute")
            if cmd == "qmp_capabilities":
                conn.sendall(line({"return": {}}))
                continue
            if mode == "events":
                events_forever(conn)
            args = req.get("arguments", {})
            if cmd == "qom-get" and args.get("path") == "/objects/io0":
                conn.sendall(line({"return": state["poll-max-ns"]}))
            elif cmd == "qom-set" and args.get("path") == "/objects/io0":
                state["poll-max-ns"] = args["value"]
                conn.sendall(line({"return": {}}))
            else:
                conn.sendall(line({"error": {"class": "DeviceNotFound",
                                             "desc": "no such object"}}))
    except (BrokenPipeError, ConnectionResetError, OSError):
        pass
    finally:
        conn.close()


def hold_kvm_vm():
    """Hold a real KVM VM fd, as QEMU does, so that commands that check
    that the peer is a VM (diagnose --qmp) go on to talk QMP to it."""
    try:
        import fcntl
        kvm = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
        return kvm, fcntl.ioctl(kvm, 0xAE01, 0)    # KVM_CREATE_VM
    except OSError:
        return None


def main():
    path, mode = sys.argv[1], sys.argv[2]
    vm = hold_kvm_vm()  # noqa: F841 (kept open while serving)
    if os.path.exists(path):
        os.unlink(path)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(16)
    if len(sys.argv) > 3:
        with open(sys.argv[3], "w") as f:
            f.write("%d\n" % os.getpid())
    while True:
        conn, _ = srv.accept()
        with open(path + ".conns", "a") as f:
            f.write("1\n")
        threading.Thread(target=serve, args=(conn, mode), daemon=True).start()


main()
