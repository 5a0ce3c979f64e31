#!/usr/bin/env python3
"""Issue 13 on the transformer, on one GPU machine, under one deadline.

1. ``experiments/at-methods-transformer-eps.toml``: each method's eps on the dev
   split, seed 1; beside it, the three no-AT runs the final grid compares against.
2. ``experiments/at-methods-transformer.toml``, written here from step 1's dev F1
   (each method at its best eps; a tie goes to the smaller eps): 3 seeds, paired
   tests against none and random, PGD robustness of every model.
3. ``experiments/learning-curve-transformer.toml`` (1k / 2k / 4k examples), none
   against the method of step 2's best 3-seed mean dev F1, when time is left.

Every run trains with ``--set train.device=cuda``. The test set selects nothing.
A step cut by the deadline is stopped cleanly (the runner checkpoints) and its
report is written from the runs finished so far (``--report-only``).

Usage: python3 scripts/gpu_at_methods.py OUT DEADLINE_SECONDS [JOBS]
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ANRC = [sys.executable, "-m", "anrc"]
GPU = ["--set", "train.device=cuda", "--threads", "1"]
START = time.monotonic()


def left(deadline: float) -> float:
    return deadline - (time.monotonic() - START)


def experiment(name: str, out: Path, jobs: int, deadline: float, reuse: list[Path]) -> bool:
    """Run a grid until done or the deadline; write its report either way. True if done."""
    cmd = [*ANRC, "experiment", name, "--out", str(out), "--jobs", str(jobs), *GPU]
    for r in reuse:
        cmd += ["--reuse", str(r)]
    if left(deadline) < 30:
        print(f"{name}: no time left", flush=True)
        return False
    return finish(subprocess.Popen(cmd), cmd, deadline)


def finish(runner: subprocess.Popen, cmd: list[str], deadline: float) -> bool:
    """Wait for a grid runner until the deadline, then stop it; write its report either
    way (``--report-only`` when it did not finish). True if it finished cleanly."""
    try:
        done = runner.wait(timeout=max(1.0, left(deadline))) == 0
    except subprocess.TimeoutExpired:
        runner.terminate()  # the runner stops its runs; each saves a checkpoint
        runner.wait()
        done = False
    if not done:
        subprocess.run([*cmd, "--report-only"], check=False)
    return done


def rows(out: Path) -> list[dict]:
    return json.loads((out / "summary.json").read_text())["rows"]


def write_final_grid(eps_out: Path, path: Path) -> None:
    """The final grid: each method at the eps of its best seed-1 dev F1."""
    best: dict[str, tuple[float, float]] = {}
    seen: dict[str, list[str]] = {}
    for r in sorted(rows(eps_out), key=lambda r: (r["variant"], r["axis_value"])):
        dev, eps = r["dev_f1"]["mean"], r["axis_value"]
        seen.setdefault(r["variant"], []).append(f"{dev:.2f} at {eps:g}")
        if r["variant"] not in best or dev > best[r["variant"]][0]:
            best[r["variant"]] = (dev, eps)
    grid = (Path("experiments") / "at-methods-transformer-eps.toml").read_text()
    lines = [
        'description = "Issue 13, steps 1 and 3 on the transformer (configs/transformer.toml, '
        "lr 1e-4): every method at the eps the dev split chose for it in "
        "experiments/at-methods-transformer-eps.toml (seed 1; written by "
        "scripts/gpu_at_methods.py from that grid's dev F1), 3 seeds, each compared per seed "
        "with no AT and with random noise of the same norm; PGD robustness of every model. "
        'Trained on a GPU: run with --set train.device=cuda --threads 1."',
        'config = "configs/transformer.toml"',
        "seeds = 3",
        'baseline = ["none", "random"]',
        "[variants.none]",
        '"adversarial.method" = "none"',
    ]
    for name in ("random", "fgm", "pgd", "freelb", "free", "vat"):
        block = grid.split(f"[variants.{name}]\n", 1)[1].split("\n[", 1)[0].strip()
        lines += [f"[variants.{name}]", block]
        lines.append(f'"adversarial.epsilon" = {best[name][1]!r}  # dev F1 {", ".join(seen[name])}')
    lines += [
        "",
        "# Robustness of every trained model: white-box PGD on the word-piece embeddings,",
        "# eps relative to the input's size, the first 500 test sentences, as on Att-BLSTM.",
        "[[attack]]",
        'method = "pgd"',
        "eps = [0.0, 0.02, 0.05, 0.1, 0.2]",
        "steps = 5",
        'scale = "relative"',
        "limit = 500",
    ]
    path.write_text("\n".join(lines) + "\n")


def write_curve_grid(final_out: Path, path: Path) -> str:
    """The learning curve: none against the method of the best 3-seed mean dev F1."""
    done = [r for r in rows(final_out) if r["variant"] != "none" and len(r["seeds"]) == 3]
    top = max(done, key=lambda r: r["dev_f1"]["mean"])
    name = top["variant"]
    final = path.parent / "at-methods-transformer.toml"
    block = final.read_text().split(f"[variants.{name}]\n", 1)[1].split("\n[", 1)[0].strip()
    path.write_text(
        "\n".join(
            [
                'description = "Issue 13, step 4 on the transformer (configs/transformer.toml, '
                "lr 1e-4): the learning curve (first 1,000 / 2,000 / 4,000 training examples, "
                "and all of them: 0 = no limit, the runs of experiments/at-methods-transformer"
                f".toml, reused) without AT and with {name}, the method of the best 3-seed mean "
                f"dev F1 there ({top['dev_f1']['mean']:.2f}), 3 seeds. Written by "
                "scripts/gpu_at_methods.py. Trained on a GPU: run with --set "
                'train.device=cuda --threads 1."',
                'config = "configs/transformer.toml"',
                "seeds = 3",
                'baseline = "none"',
                "[axis]",
                'setting = "data.train_limit"',
                "values = [1000, 2000, 4000, 0]",
                "[variants.none]",
                '"adversarial.method" = "none"',
                f"[variants.{name}]",
                block,
            ]
        )
        + "\n"
    )
    return name


def main() -> int:
    out, deadline = Path(sys.argv[1]), float(sys.argv[2])
    jobs = int(sys.argv[3]) if len(sys.argv) > 3 else 12
    eps_out, final_out = out / "at-methods-transformer-eps", out / "at-methods-transformer"
    none_dir = Path("/tmp/gpu-none")
    # The final grid's no-AT runs do not depend on step 1: train them beside it.
    nones = []
    for seed in (1, 2, 3):
        cmd = [*ANRC, "train", "--config", "configs/transformer.toml"]
        cmd += ["--out", str(none_dir / f"seed{seed}"), "--set", "train.device=cuda"]
        cmd += ["--set", "train.threads=1", "--set", f"train.seed={seed}"]
        (none_dir / f"seed{seed}").mkdir(parents=True, exist_ok=True)
        log = open(none_dir / f"seed{seed}.log", "w")  # noqa: SIM115
        nones.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT))
    if not experiment("at-methods-transformer-eps", eps_out, jobs - 3, deadline, []):
        return 1
    for p in nones:
        p.wait(timeout=max(1.0, left(deadline)))
    write_final_grid(eps_out, Path("experiments") / "at-methods-transformer.toml")
    if not experiment("at-methods-transformer", final_out, jobs, deadline, [none_dir, eps_out]):
        return 1
    name = write_curve_grid(final_out, Path("experiments") / "learning-curve-transformer.toml")
    print(f"learning curve with {name}", flush=True)
    experiment("learning-curve-transformer", out / "learning-curve-transformer", jobs,
               deadline, [final_out])  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
