"""Shared set-up for the benchmarks: the real data and the paper's configuration."""

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from anrc.config import load_config  # noqa: E402
from anrc.training.setup import prepare  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def setup(overrides=(), config="configs/anrc.toml"):
    cfg = load_config(ROOT / config, list(overrides))
    return cfg, prepare(cfg, log=sys.stderr)


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times
