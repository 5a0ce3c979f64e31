"""Shared set-up for the benchmarks: the real data and the paper's configuration."""

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from anrc.builder import load_config  # noqa: E402
from anrc.config import SEMEVAL  # noqa: E402
from anrc.training.setup import prepare  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def setup(overrides=(), config="configs/anrc.toml"):
    cfg = load_config(ROOT / config, list(overrides))
    return cfg, prepare(cfg, log=sys.stderr)


#: SemEval's test file: in $ANRC_DATA, or the shared folder beside the repository
TEST_FILE = ROOT / SEMEVAL / "TEST_FILE_FULL.TXT"


def add_model_options(ap, repeats: int = 3, threads: int = 2) -> None:
    """A shipped model's name and the options of a benchmark that times it: how many test
    sentences, torch threads and interleaved passes, and where to write the table."""
    ap.add_argument("model", nargs="?", default="semeval")
    ap.add_argument("--sentences", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=threads)
    ap.add_argument("--repeats", type=int, default=repeats)
    ap.add_argument("--out", help="also write the table here")


def test_sentences(n: int):
    """The first ``n`` SemEval test sentences (all for 0), as Examples."""
    from anrc.data import read

    return first(read(TEST_FILE).examples, n)


def add_size_options(ap) -> None:
    """``--sentences`` and ``--set``: the sizes the test suite's smoke run of every
    benchmark shrinks (tests/test_benchmarks.py); a real run leaves them alone."""
    ap.add_argument(
        "--sentences", type=int, default=0, help="only the first N test sentences (0: all)"
    )
    ap.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE",
        help="a setting of every model built here (e.g. data.train_limit=200)",
    )  # fmt: skip


def first(examples, n: int):
    """The first ``n`` of ``examples`` (all for 0)."""
    return examples[:n] if n else examples


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times


def interleaved(paths: dict, repeats: int) -> dict[str, list[float]]:
    """Each of ``paths`` (name -> function) timed ``repeats`` times, one pass of every
    path after another (so a slow spell of the machine falls on all of them)."""
    times = {name: [] for name in paths}
    for _ in range(repeats):
        for name, fn in paths.items():
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    return times


def ratio_table(times: dict[str, list[float]], base: str, items: int) -> list[str]:
    """A Markdown table of each path's median seconds, ``items`` a second and time over
    the median of ``base``'s."""
    ref = statistics.median(times[base])
    rows = [f"| path | seconds | sentences/s | time / {base} |", "|---|---|---|---|"]
    for name, ts in times.items():
        med = statistics.median(ts)
        rows.append(f"| {name} | {med:.2f} | {items / med:,.0f} | {med / ref:.2f} |")
    return rows


def report(lines, out=None):
    """Print ``lines``; with ``out``, also write them there under the command, the date
    and the machine (so a committed figure names what produced it)."""
    import datetime
    import os
    import platform

    import torch

    command = " ".join([".venv/bin/python", *sys.argv])
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if out is None:
        return
    from anrc.inference.forms import BF16_FLAGS, VNNI_FLAGS, cpu_flags

    wanted = BF16_FLAGS | VNNI_FLAGS | {"avx2", "avx512f"}
    flags = " ".join(sorted(f for f in cpu_flags() if f in wanted)) or "none of note"
    head = (
        f"$ {command}\n"
        f"# {datetime.date.today()}, {os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), "
        f"Python {platform.python_version()}, torch {torch.__version__}; CPU flags: {flags}\n"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(head + text)
