"""The grid queue's overhead per run, SQLite against PostgreSQL (or any storage URL), in
one run: ``--runs`` empty runs (a run that only writes its scores) go through the
queue as a worker takes them (queue, take, heartbeat, finish), ``--workers`` workers
at once, each storage in turn, median of ``--repeats``. What a real run adds to its
own training time; the ratio is to SQLite.

    .venv/bin/python benchmarks/bench_queue.py [--runs 40] [--workers 2] [--repeats 3]
        [--storage postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB ...]
        [--out results/benchmarks/queue.txt]

A PostgreSQL server for it, in a folder of its own (Debian's postgresql, as root):
``tests/experiments/test_postgres.py`` shows the commands (initdb, pg_ctl).
"""

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path

from common import report

from anrc.experiments.engine import GridStudy, default_storage, redact, work
from anrc.experiments.grid import GridRun

ap = argparse.ArgumentParser()
ap.add_argument("--runs", type=int, default=40)
ap.add_argument("--workers", type=int, default=2)
ap.add_argument("--repeats", type=int, default=3)
ap.add_argument("--storage", nargs="*", default=[], help="URLs besides SQLite in the folder")
ap.add_argument("--out", help="also write the table here")
args = ap.parse_args()


def one_pass(storage: str | None, k: int) -> float:
    """Seconds a run spends in the queue (the pass's time over its runs)."""
    out = Path(tempfile.mkdtemp(prefix="anrc-queue-"))
    runs = [GridRun("v", None, s, [], out / "runs" / "v" / f"seed{s}") for s in range(args.runs)]
    study = GridStudy(f"bench-{k}-{time.time_ns()}", runs, out,
                      storage or default_storage(out), heartbeat=30)  # fmt: skip

    def execute(run: GridRun) -> int:
        run.path.mkdir(parents=True, exist_ok=True)
        (run.path / "scores.json").write_text(json.dumps({"summary": {"dev_f1": 1.0}}))
        return 0

    stop = threading.Event()
    start = time.perf_counter()
    threads = [
        threading.Thread(
            target=work, args=(study, execute, lambda r: r.pending, lambda r: 1.0, stop)
        )  # fmt: skip
        for _ in range(args.workers)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.done for r in runs)
    return (time.perf_counter() - start) / args.runs


stores = {"sqlite (in the grid's folder)": None} | {redact(u): u for u in args.storage}
times = {name: [] for name in stores}
for k in range(args.repeats):
    for name, url in stores.items():
        times[name].append(one_pass(url, k))
base = statistics.median(times["sqlite (in the grid's folder)"])
lines = [
    f"{args.runs} empty runs, {args.workers} workers, median of {args.repeats} passes",
    "| storage | ms a run | x sqlite |",
    "|---|---|---|",
]
for name, ts in times.items():
    med = statistics.median(ts)
    lines.append(f"| {name} | {1000 * med:.1f} | {med / base:.2f} |")
report(lines, args.out and Path(args.out))
