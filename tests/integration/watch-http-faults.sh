#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Broken and hostile HTTP clients against `virtsync watch` on loopback,
# each a bounded number of requests: 200 idle connections (past the limit
# of 16: the oldest are evicted), 20 clients that request and never read,
# 20 that send half a request and stop, 300 garbage requests, 50 oversized
# heads, 60 wrong methods and paths, over ten rounds of a few seconds.
# Meanwhile the 200 ms windows of the reference device's queue keep coming
# (virtsync_queue_windows_total), watch never holds more than
# its 16 connections (its open descriptors), and once the abuse is over a
# plain scrape answers at once; the server's counts match what was sent.
. "$(dirname "$0")/../lib.sh"
need_root
need_kvm

# a queue to measure, so that each window is a real measurement
"$VS" bench --preset fc-tune --backend kvm --duration 60s >/dev/null 2>"$TMP/bench.err" &
BENCH=$!
at_exit "kill $BENCH 2>/dev/null; wait $BENCH 2>/dev/null"
for i in $(seq 100); do [ -r /run/virtsync/pcdev-$BENCH.stats ] && break; sleep 0.05; done
start_watch --pid "$BENCH" --interval 200ms --max-connections 16 --http-timeout 2s
sleep 1
fds0=$(ls /proc/$WATCH_PID/fd | wc -l)
python3 - "$WATCH_PORT" "$WATCH_PID" "$fds0" "$BENCH" <<'PY' || die "faults"
import os, random, re, socket, sys, threading, time, urllib.request
port, pid, fds0, dev = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
url = f"http://127.0.0.1:{port}/metrics"
def scrape():
    return urllib.request.urlopen(url, timeout=5).read().decode()
def metric(text, name, labels=""):
    m = re.search(rf"^{name}{re.escape(labels)} (\S+)$", text, re.M)
    return float(m.group(1))
def conn():
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    return s
def send(data):
    try:
        s = conn(); s.sendall(data); r = s.recv(64); s.close(); return r
    except OSError:
        return b""
def qwindows(text):
    m = re.search(rf'^virtsync_queue_windows_total{{[^}}]*pid="{dev}"[^}}]*}} (\S+)$', text, re.M)
    return float(m.group(1)) if m else 0
before = scrape()
w0, t0 = metric(before, "virtsync_watch_windows_total"), time.time()
q0 = qwindows(before)
max_fds = [0]
stop = threading.Event()
def fd_watch():
    while not stop.is_set():
        max_fds[0] = max(max_fds[0], len(os.listdir(f"/proc/{pid}/fd")))
        time.sleep(0.01)
threading.Thread(target=fd_watch, daemon=True).start()
held = []
rnd = random.Random(16)
codes = {"400": 0, "431": 0, "404": 0, "405": 0}
# Ten rounds, a few seconds in all: the windows must keep coming meanwhile.
for rounds in range(10):
    for i in range(20):                   # idle: connect, send nothing
        try:
            held.append(conn())
        except OSError:
            pass
    for i in range(2):                    # request, never read
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
        s.connect(("127.0.0.1", port)); s.sendall(b"GET /metrics HTTP/1.1\r\n\r\n")
        held.append(s)
    for i in range(2):                    # half a request
        s = conn(); s.sendall(b"GET /metr"); held.append(s)
    for i in range(30):
        r = send(bytes(rnd.randrange(1, 256) for _ in range(rnd.randrange(1, 200))) + b"\r\n\r\n")
        codes["400"] += r.startswith(b"HTTP/1.1 400")
    for i in range(5):
        r = send(b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n")
        codes["431"] += r.startswith(b"HTTP/1.1 431")
    for i in range(3):
        codes["404"] += send(b"GET /admin HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 404")
        codes["405"] += send(b"DELETE /metrics HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 405")
    time.sleep(0.3)
t_abuse = time.time() - t0
for s in held:
    s.close()
time.sleep(0.3)
t = time.time(); after = scrape(); lat = time.time() - t
stop.set()
w1, t1 = metric(after, "virtsync_watch_windows_total"), time.time()
expect = (t1 - t0) / 0.2
print(f"abuse {t_abuse:.1f} s; windows {w1 - w0:.0f} of ~{expect:.0f} expected; "
      f"peak descriptors {max_fds[0]} (at rest {fds0}); answers {codes}; "
      f"scrape after: {lat * 1000:.1f} ms")
q1 = qwindows(after)
print(f"the device's queue: {q1 - q0:.0f} windows measured meanwhile")
assert w1 - w0 >= 0.6 * expect, "the windows stalled"
assert q1 - q0 >= 0.6 * expect, "the queue's measurement stalled"
assert max_fds[0] <= fds0 + 16 + 2, "more connections than the limit"
assert lat < 1.0, "the scrape after the abuse was slow"
# every hostile request that reached the server got its answer
assert codes["404"] == 30 and codes["405"] == 30, codes
assert codes["400"] + codes["431"] >= 300, codes
ev = metric(after, "virtsync_http_connections_closed_total", '{reason="evicted"}')
assert ev >= 200 - 16, f"evicted only {ev}"
PY
kill -TERM "$WATCH_PID"
wait "$WATCH_PID" || die "watch did not exit 0 after the abuse: $(tail -3 "$TMP/watch.err")"
echo ok
