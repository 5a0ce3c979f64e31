"""Load on ``anrc serve`` over the loopback address: normal requests alone, then the same
normal requests while other clients send long ones.

Starts ``anrc serve MODEL`` in a subprocess, waits for /health, then runs two phases
of the same length on the same server:

1. ``--clients`` threads each send one test sentence per request (POST /predict) in
   a closed loop for ``--seconds``;
2. the same, while ``--long-clients`` more threads send long requests in a closed
   loop: ``--long-items`` sentences of ``--long-words`` words each (by default 64 x
   500 words, just under the server's limits of 64 items and 512 words).

Prints, per phase, the normal requests' p50/p99 latency and count, the long
requests' count and statuses, and /health's p99 (probed every 0.1 s), and the ratio
of the two phases' normal p99: how much the long requests slow everyone else.

    .venv/bin/python benchmarks/bench_serve.py semeval [--clients 4] [--long-clients 2]
        [--seconds 20] [--threads 1] [--workers 2] [--out results/benchmarks/serve.txt]
"""

import argparse
import http.client
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from common import ROOT, report, test_sentences

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("--clients", type=int, default=4)
ap.add_argument("--long-clients", type=int, default=2)
ap.add_argument("--long-items", type=int, default=64)
ap.add_argument("--long-words", type=int, default=500)
ap.add_argument("--seconds", type=float, default=20)
ap.add_argument("--threads", type=int, default=1, help="the server's torch threads")
ap.add_argument("--workers", type=int, default=0, help="the server's --workers (0: its default)")
ap.add_argument("--out", help="also write the report here")
args = ap.parse_args()

with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
command = [sys.executable, "-m", "anrc", "serve", args.model, "--port", str(port),
           "--threads", str(args.threads)]  # fmt: skip
command += ["--workers", str(args.workers)] if args.workers else []
server = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.DEVNULL)
test = test_sentences(0)
LONG = json.dumps(
    {
        "items": [
            "The <e1>singer</e1> "
            + " ".join(["and"] * (args.long_words - 4))
            + " a <e2>commotion</e2>"  # fmt: skip
        ]
        * args.long_items
    }
)


def call(conn, method, path, body=None):
    headers = {"Content-Type": "application/json"} if body else {}
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    r.read()
    return r.status


def connect():
    return http.client.HTTPConnection("127.0.0.1", port, timeout=600)


def loop(stop, record, body_of):
    conn, i = connect(), 0
    while not stop.is_set():
        t = time.perf_counter()
        try:
            status = call(conn, "POST", "/predict", body_of(i))
        except OSError:
            status, conn = 0, connect()
        record.append((time.perf_counter() - t, status))
        i += 1


def health(stop, record):
    conn = connect()
    while not stop.is_set():
        t = time.perf_counter()
        call(conn, "GET", "/health")
        record.append((time.perf_counter() - t, 200))
        time.sleep(0.1)


def phase(n_long):
    stop = threading.Event()
    normal, long_, probes = [], [], []
    threads = [
        threading.Thread(
            target=loop,
            args=(
                stop,
                normal,
                lambda i, k=k: json.dumps(test[(k * 997 + i) % len(test)].tagged_text()),
            ),  # fmt: skip
        )
        for k in range(args.clients)
    ]
    threads += [threading.Thread(target=loop, args=(stop, long_, lambda i: LONG))
                for _ in range(n_long)]  # fmt: skip
    threads.append(threading.Thread(target=health, args=(stop, probes)))
    for t in threads:
        t.start()
    time.sleep(args.seconds)
    stop.set()
    for t in threads:
        t.join()
    return normal, long_, probes


def pct(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def summary(name, normal, long_, probes):
    lat = [t for t, st in normal if st == 200]
    errors = sum(st != 200 for _, st in normal)
    statuses = {}
    for _, st in long_:
        statuses[st] = statuses.get(st, 0) + 1
    return (
        f"| {name} | {len(lat)} | {1000 * statistics.median(lat):.1f} | "
        f"{1000 * pct(lat, 0.99):.1f} | {errors} | {len(long_)} "
        f"{json.dumps(statuses) if long_ else ''} | "
        f"{1000 * pct([t for t, _ in probes], 0.99):.1f} |",
        pct(lat, 0.99),
    )


try:
    for _ in range(600):
        try:
            if call(connect(), "GET", "/health") == 200:
                break
        except OSError:
            time.sleep(0.1)
    call(connect(), "POST", "/predict", json.dumps(test[0].tagged_text()))  # warm up
    alone = summary("normal requests alone", *phase(0))
    mixed = summary(f"with {args.long_clients} long-request clients", *phase(args.long_clients))
finally:
    server.terminate()
    server.wait(timeout=30)
lines = [
    f"anrc serve {args.model} --threads {args.threads}"
    + (f" --workers {args.workers}" if args.workers else "")
    + f": {args.clients} clients of one test "
    f"sentence a request, {args.seconds:g} s a phase; long requests: {args.long_items} "
    f"sentences x {args.long_words} words",
    "| phase | normal requests | p50 ms | p99 ms | errors | long requests (statuses) "
    "| /health p99 ms |",
    "|---|---|---|---|---|---|---|",
    alone[0],
    mixed[0],
    f"normal p99 with long requests / alone: {mixed[1] / alone[1]:.1f}x",
]
report(lines, args.out and Path(args.out))
