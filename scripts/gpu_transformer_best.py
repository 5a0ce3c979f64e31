#!/usr/bin/env python3
"""Issues 12 and 13 on the transformer, on one GPU machine, under one deadline.

1. Inference speed of the transformer on the GPU (``benchmarks/bench_encoders.py
   --device cuda``, batches of 64 and 256) on the idle GPU, before any training.
2. Side by side, each in its own runner:
   ``experiments/transformer-best.toml`` (FreeLB with a longer schedule, one choice
   by the 3-seed mean dev F1) and ``experiments/robust-transformer.toml`` (PGD at
   relative radii against no AT, attacked on dev and on test).
3. The 3-seed ensemble of the variant with the best mean dev F1 in step 2's first
   grid (``anrc ensemble --dev``), when its runs' weights are here.

Every run trains with ``--set train.device=cuda``. The test set selects nothing.
A grid cut by the deadline is stopped cleanly and its report written from the
runs finished so far (``--report-only``).

Usage: python3 scripts/gpu_transformer_best.py OUT DEADLINE_SECONDS
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from gpu_at_methods import ANRC, GPU, finish, left  # the same clock, commands and stop

GRIDS = {  # name: (runs at a time, folders to reuse finished runs from)
    "transformer-best": (9, ["results/experiments/at-methods-transformer"]),
    "robust-transformer": (9, []),
}


def bench(out: Path) -> None:
    with open(out, "w") as f:
        for batch in (64, 256):
            cmd = [sys.executable, "benchmarks/bench_encoders.py", "--configs", "transformer"]
            cmd += ["--device", "cuda", "--threads", "1", "--repeats", "5", "--batch", str(batch)]
            f.write(f"$ {' '.join(cmd[1:])}\n")
            f.flush()
            subprocess.run(cmd, stdout=f, stderr=subprocess.DEVNULL, timeout=120, check=False)


def grid_command(name: str, out: Path) -> list[str]:
    jobs, reuse = GRIDS[name]
    cmd = [*ANRC, "experiment", name, "--out", str(out / name), "--jobs", str(jobs), *GPU]
    for r in reuse:
        cmd += ["--reuse", r]
    return cmd


def run_grids(out: Path, deadline: float) -> dict[str, bool]:
    """Both grids at once until done or the deadline; a report for each either way."""
    cmds = {name: grid_command(name, out) for name in GRIDS}
    runners = {name: subprocess.Popen(cmd) for name, cmd in cmds.items()}
    return {name: finish(runner, cmds[name], deadline) for name, runner in runners.items()}


def ensemble(grid_out: Path, deadline: float) -> None:
    """Score the 3-seed ensemble of the variant of the best mean dev F1 (3 seeds finished)."""
    rows = json.loads((grid_out / "summary.json").read_text())["rows"]
    full = [r for r in rows if len(r["seeds"]) == 3]
    if not full:
        return
    top = max(full, key=lambda r: r["dev_f1"]["mean"])
    name = top["variant"]
    dirs = [grid_out / "runs" / name / f"seed{s}" for s in top["seeds"]]
    if not all((d / "model.safetensors").is_file() for d in dirs):
        print(f"ensemble: {name} has no weights here (reused runs); skipped", flush=True)
        return
    dest = grid_out / "ensembles" / name
    print(f"ensemble of {name} (mean dev F1 {top['dev_f1']['mean']:.2f})", flush=True)
    cmd = [*ANRC, "ensemble", *map(str, dirs), "--dev", "--out", str(dest)]
    subprocess.run(cmd, check=False, timeout=max(10.0, left(deadline + 60)))


def main() -> int:
    out, deadline = Path(sys.argv[1]), float(sys.argv[2])
    (out / "transformer-best").mkdir(parents=True, exist_ok=True)
    bench(out / "transformer-best" / "gpu-inference.txt")
    done = run_grids(out, deadline)
    print(f"grids finished: {done}", flush=True)
    ensemble(out / "transformer-best", deadline)
    return 0 if all(done.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
