"""Time reading the full SemEval-2010 Task 8 release (train + test), median of
``--repeats`` runs.

    .venv/bin/python benchmarks/bench_read.py [DATA_DIR] [--repeats 5]
"""

import argparse
import statistics
import time
from pathlib import Path

from anrc.data import read

ap = argparse.ArgumentParser()
ap.add_argument("data", nargs="?", default="../shared/data/semeval2010_task8")
ap.add_argument("--repeats", type=int, default=5)
args = ap.parse_args()
data = Path(args.data)
times = []
for _ in range(args.repeats):
    t = time.perf_counter()
    n = len(read(data / "TRAIN_FILE.TXT").examples) + len(
        read(data / "TEST_FILE_FULL.TXT").examples
    )
    times.append(time.perf_counter() - t)
print(
    f"read {n} examples: median {statistics.median(times):.3f} s over {args.repeats} runs "
    f"(min {min(times):.3f} s)"
)
