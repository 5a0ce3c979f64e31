"""Time reading the full SemEval-2010 Task 8 release (train + test), median of 5 runs.

.venv/bin/python benchmarks/bench_read.py [DATA_DIR]
"""

import statistics
import sys
import time
from pathlib import Path

from anrc.data import read

data = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/semeval2010_task8")
times = []
for _ in range(5):
    t = time.perf_counter()
    n = len(read(data / "TRAIN_FILE.TXT").examples) + len(
        read(data / "TEST_FILE_FULL.TXT").examples
    )
    times.append(time.perf_counter() - t)
print(
    f"read {n} examples: median {statistics.median(times):.3f} s over 5 runs (min {min(times):.3f} s)"
)
