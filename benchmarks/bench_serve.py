"""Load on ``anrc serve`` over the loopback address: concurrent clients, latency, throughput.

Starts ``anrc serve RUN_DIR`` in a subprocess, waits for /health, then C client
threads each send R requests of one test sentence (POST /predict, tagged form)
in a closed loop. Prints p50/p99 latency, sentences/s and the error count (a
non-200 answer or a failed connection is an error).

    .venv/bin/python benchmarks/bench_serve.py RUN_DIR [--clients 8] [--requests 50]
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

from common import ROOT

from anrc.data import read

ap = argparse.ArgumentParser()
ap.add_argument("run_dir")
ap.add_argument("--clients", type=int, default=8)
ap.add_argument("--requests", type=int, default=50)
args = ap.parse_args()

with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
server = subprocess.Popen(
    [sys.executable, "-m", "anrc", "serve", args.run_dir, "--port", str(port)],
    cwd=ROOT,
    stderr=subprocess.DEVNULL,
)
test = read(ROOT / "../shared/data/semeval2010_task8/TEST_FILE_FULL.TXT").examples


def tagged(ex):
    toks = list(ex.tokens)
    for pos, tag in sorted(
        [(ex.e1[0], "<e1>"), (ex.e1[1], "</e1>"), (ex.e2[0], "<e2>"), (ex.e2[1], "</e2>")],
        reverse=True,
    ):
        toks.insert(pos, tag)
    return " ".join(toks)


def request(conn, body):
    conn.request("POST", "/predict", body=body, headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    r.read()
    return r.status


try:
    for _ in range(300):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/health")
            if c.getresponse().status == 200:
                break
        except OSError:
            time.sleep(0.1)
    latencies, errors = [], [0]
    lock = threading.Lock()

    def client(k):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for i in range(args.requests):
            body = json.dumps(tagged(test[(k * args.requests + i) % len(test)]))
            t = time.perf_counter()
            try:
                ok = request(conn, body) == 200
            except OSError:
                ok = False
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            dt = time.perf_counter() - t
            with lock:
                latencies.append(dt)
                errors[0] += not ok

    threads = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
finally:
    server.terminate()
    server.wait(timeout=10)
lat = sorted(latencies)
p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))]
print(
    f"{args.clients} clients x {args.requests} requests (1 sentence each): "
    f"p50 {1000 * statistics.median(lat):.1f} ms, p99 {1000 * p99:.1f} ms, "
    f"{len(lat) / wall:.1f} sentences/s, errors {errors[0]}"
)
