#!/usr/bin/env python3
"""Opens idle TCP connections to a server and reports how many it holds and what they cost it.

  flood.py --port P --pid PID --count N [--source 127.0.0.2] [--hold S] [--after S] [--send-head]

Connects N sockets (non-blocking, in batches), sends nothing (or, with --send-head, a partial request line), holds
them --hold seconds, then counts how many the server still keeps open (a socket the server closed reads EOF or
resets), closes them all and samples the server's RSS for --after seconds. Prints one JSON object.
Loopback only: the target is 127.0.0.1 (or ::1 with --ipv6), the source address may be any 127.x address.
"""
import argparse, errno, json, os, select, socket, sys, time

def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--source", default="127.0.0.1")
    ap.add_argument("--hold", type=float, default=5)
    ap.add_argument("--after", type=float, default=0)
    ap.add_argument("--send-head", action="store_true")
    a = ap.parse_args()
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    before = rss_kib(a.pid)
    socks, failed = [], 0
    t0 = time.time()
    for i in range(a.count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((a.source, 0))
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", a.port))
            socks.append(s)
        except OSError:
            failed += 1
            s.close()
        if i % 500 == 499:
            time.sleep(0.05)
    # Wait for connects to finish.
    deadline = time.time() + 10
    poll = select.poll()
    byfd = {s.fileno(): s for s in socks}
    for fd in byfd:
        poll.register(fd, select.POLLOUT)
    pending = set(byfd)
    while pending and time.time() < deadline:
        for fd, _ in poll.poll(500):
            if fd in pending:
                pending.discard(fd)
                poll.unregister(fd)
    if a.send_head:
        for s in socks:
            try: s.send(b"GET / HT")
            except OSError: pass
    time.sleep(a.hold)
    during = rss_kib(a.pid)
    # A socket the server closed is readable (EOF or reset); an open idle one is not.
    open_count = 0
    for s in socks:
        try:
            data = s.recv(1, socket.MSG_PEEK)
            # b"": the server closed it; data: it answered (a 503) and closes next
        except BlockingIOError:
            open_count += 1  # nothing to read: the server holds it open
        except OSError:
            pass
    for s in socks:
        s.close()
    samples = []
    t1 = time.time()
    while time.time() - t1 < a.after:
        time.sleep(5)
        samples.append([round(time.time() - t1), rss_kib(a.pid)])
    print(json.dumps({"requested": a.count, "connected": len(socks) - failed, "held": open_count,
                      "rss_before_kib": before, "rss_during_kib": during, "rss_after_kib": samples}))

main()
