#!/usr/bin/env python3
"""One grid on a lent GPU under a deadline, then the 3-seed ensemble of dev's pick.

The grid trains with ``--set train.device=cuda --threads 1``, JOBS runs at a time
(CUDA MPS lets them share the GPU); a grid cut by the deadline is stopped cleanly
and its report written from the finished runs. The test set selects nothing.

Usage: python3 scripts/gpu_grid.py NAME OUT DEADLINE_SECONDS JOBS [REUSE_DIR ...]
e.g.   python3 scripts/gpu_grid.py transformer-next results/experiments/transformer-next 480 12 \\
           results/experiments/transformer-pool3
"""

from __future__ import annotations

import sys
from pathlib import Path

from gpu_at_methods import experiment  # the deadline clock, commands and clean stop
from gpu_transformer_best import ensemble


def main() -> int:
    name, out, deadline, jobs = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    done = experiment(name, out, int(jobs), deadline, [Path(r) for r in sys.argv[5:]])
    print(f"{name} finished: {done}", flush=True)
    ensemble(out, deadline)
    return 0 if done else 1


if __name__ == "__main__":
    sys.exit(main())
