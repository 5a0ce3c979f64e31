"""CLI start-up time: what a deferred (function-local) import saves, measured.

Times whole commands in fresh processes, interleaved round by round so that a busy
machine slows every candidate alike, and reports medians:

- ``anrc --help``, and ``anrc predict MODEL`` on one line (load included);
- each package in ``HEAVY``, imported alone, against a bare ``python -c pass``.

``HEAVY`` is the list a function-local import may name as its reason (``# start-up:
PACKAGE``; tests/test_structure.py holds every such import to it). ``--tree NAME=SRC``
times the commands with another tree's code (its ``src`` folder), e.g. before and after
a change to the imports:

    .venv/bin/python benchmarks/bench_startup.py --tree before=/work/before/src --tree after=src
"""

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, report  # noqa: E402

from anrc.inference.forms import cpu_flags  # noqa: E402

#: packages whose import costs a command measurably (tenths of a second and more), each
#: deferred to the function that needs it where a command can do without it
HEAVY = (
    "torch",
    "optuna",
    "sqlalchemy",
    "transformers",
    "tokenizers",
    "onnxruntime",
    "pyarrow.parquet",
    "matplotlib.pyplot",
    "fastapi",
    "uvicorn",
)
LINE = "The <e1>singer</e1> caused a <e2>commotion</e2> ."


def timed(cmd: list[str], src: str, stdin: str | None = None) -> float:
    """Seconds one command takes in a fresh process with ``src`` first on the path."""
    env = dict(os.environ, PYTHONPATH=src)
    t = time.perf_counter()
    r = subprocess.run(cmd, env=env, input=stdin, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {r.stderr.strip().splitlines()[-1:]}")
    return seconds


def commands(model: str) -> dict[str, tuple[list[str], str | None]]:
    py = sys.executable
    return {
        "anrc --help": ([py, "-m", "anrc", "--help"], None),
        f"anrc predict {model} (one line)": ([py, "-m", "anrc", "predict", model], LINE + "\n"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="semeval", help="the model `anrc predict` loads")
    ap.add_argument("--repeats", type=int, default=5, help="rounds (medians over them)")
    ap.add_argument("--tree", action="append", default=[], metavar="NAME=SRC")
    ap.add_argument("--out", type=Path, help="also write the table here")
    args = ap.parse_args()
    trees = dict(t.split("=", 1) for t in args.tree) or {"this tree": str(ROOT / "src")}
    trees = {name: str(Path(src).resolve()) for name, src in trees.items()}
    here = str(ROOT / "src")
    cmds = commands(args.model)
    jobs = [(f"{c} [{t}]", cmd, src, stdin) for c, (cmd, stdin) in cmds.items()
            for t, src in trees.items()]  # fmt: skip
    jobs += [("python -c pass", [sys.executable, "-c", "pass"], here, None)]
    present = [m for m in HEAVY if importlib.util.find_spec(m.split(".")[0])]
    jobs += [(f"import {m}", [sys.executable, "-c", f"import {m}"], here, None) for m in present]
    times: dict[str, list[float]] = {name: [] for name, *_ in jobs}
    for _ in range(args.repeats):
        for name, cmd, src, stdin in jobs:
            times[name].append(timed(cmd, src, stdin))
    base = statistics.median(times["python -c pass"])
    flags = " ".join(sorted(f for f in cpu_flags() if f.startswith(("avx2", "avx512", "amx"))))
    lines = [f"{args.repeats} rounds, commands interleaved; medians, fresh process each",
             f"CPU flags: {flags or 'none of avx2/avx512/amx'}",
             "", "| command | median s | min s | over python -c pass, s |", "|---|---|---|---|"]  # fmt: skip
    for name, ts in times.items():
        med = statistics.median(ts)
        lines.append(f"| {name} | {med:.3f} | {min(ts):.3f} | {med - base:+.3f} |")
    report(lines, args.out)


if __name__ == "__main__":
    main()
