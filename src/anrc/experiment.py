"""Experiment grids: many ``anrc train`` runs declared in ``experiments/*.toml``.

A grid file names a base config, settings shared by every run, named variants
(each a set of overrides), optionally an axis (one setting swept over values),
the seeds, and the baseline the other variants are compared with::

    description = "..."
    config = "configs/anrc-scaled.toml"
    seeds = 3
    baseline = "no-at"
    [set]
    "train.max_epochs" = 30
    [axis]                      # optional
    setting = "data.train_limit"
    values = [1000, 2000, 4000, 8000]
    [variants.at]
    "adversarial.method" = "fgm"
    [variants.no-at]
    "adversarial.method" = "none"

Each run lives in ``OUT/runs/VARIANT[/AXIS=VALUE]/seedS``. A finished run (it has
``scores.json``) is never redone; an interrupted one resumes from its checkpoint.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .config import apply_overrides


@dataclass
class Grid:
    name: str
    description: str
    config: str
    seeds: list[int]
    baseline: str | None
    common: dict[str, object]
    variants: dict[str, dict[str, object]]
    axis_setting: str | None = None
    axis_values: list = field(default_factory=list)


@dataclass
class Run:
    variant: str
    axis_value: object
    seed: int
    overrides: list[str]
    path: Path

    @property
    def done(self) -> bool:
        return (self.path / "scores.json").is_file()


def _fmt(v: object) -> str:
    return json.dumps(v) if isinstance(v, bool) else str(v)


def load_grid(name_or_path: str, root: Path = Path(".")) -> Grid:
    path = Path(name_or_path)
    if not path.suffix:
        path = root / "experiments" / f"{name_or_path}.toml"
    if not path.is_file():
        raise ValueError(f"{path}: no such experiment file")
    with open(path, "rb") as f:
        try:
            d = tomllib.load(f)
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"{path}: {err}") from None
    seeds = d.get("seeds", 3)
    seeds = list(range(1, seeds + 1)) if isinstance(seeds, int) else list(seeds)
    variants = d.get("variants") or {"default": {}}
    baseline = d.get("baseline")
    if baseline is not None and baseline not in variants:
        raise ValueError(f"{path}: baseline {baseline!r} is not a variant")
    axis = d.get("axis", {})
    grid = Grid(
        name=path.stem,
        description=d.get("description", ""),
        config=d["config"],
        seeds=seeds,
        baseline=baseline,
        common=d.get("set", {}),
        variants=variants,
        axis_setting=axis.get("setting"),
        axis_values=list(axis.get("values", [])),
    )
    for v in grid_runs(grid, Path("/nonexistent"), []):  # validate every override now
        apply_overrides({}, v.overrides)
    return grid


def grid_runs(grid: Grid, out: Path, extra: list[str]) -> list[Run]:
    runs = []
    axis_values = grid.axis_values if grid.axis_setting else [None]
    for variant, sets in grid.variants.items():
        for value in axis_values:
            for seed in grid.seeds:
                o = [f"{k}={_fmt(v)}" for k, v in {**grid.common, **sets}.items()]
                sub = Path(variant)
                if grid.axis_setting:
                    o.append(f"{grid.axis_setting}={_fmt(value)}")
                    sub = sub / f"{grid.axis_setting.split('.')[-1]}={value}"
                o += list(extra) + [f"train.seed={seed}"]
                runs.append(Run(variant, value, seed, o, out / "runs" / sub / f"seed{seed}"))
    return runs


def _execute(run: Run, config: str, threads: int, log) -> int:
    run.path.mkdir(parents=True, exist_ok=True)
    if (run.path / "checkpoint.pt").is_file():
        cmd = [sys.executable, "-m", "anrc", "train", "--resume", str(run.path)]
    else:
        cmd = [sys.executable, "-m", "anrc", "train", "--config", config, "--out", str(run.path)]
        for o in [*run.overrides, f"train.threads={threads}"]:
            cmd += ["--set", o]
    with open(run.path / "run.log", "a") as f:
        rc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT).returncode
    status = "done" if rc == 0 and run.done else f"failed (exit {rc}, see {run.path / 'run.log'})"
    print(f"{run.path}: {status}", file=log, flush=True)
    return rc


def run_grid(
    grid: Grid, out: Path, jobs: int = 1, extra: list[str] | None = None, log=None
) -> list[Run]:
    """Run every unfinished run of the grid, ``jobs`` at a time; returns all runs."""
    log = log or sys.stderr
    extra = list(extra or [])
    out.mkdir(parents=True, exist_ok=True)
    meta = {"grid": grid.name, "config": grid.config, "extra": extra}
    meta_path = out / "grid.json"
    if meta_path.exists():
        old = json.loads(meta_path.read_text())
        if old.get("extra") != extra or old.get("config") != grid.config:
            raise ValueError(
                f"{out} holds runs of {old}; the same folder needs the same settings "
                "(use another --out)"
            )
    meta_path.write_text(json.dumps(meta, indent=1))
    runs = grid_runs(grid, out, extra)
    todo = [r for r in runs if not r.done]
    print(
        f"{grid.name}: {len(runs)} runs, {len(runs) - len(todo)} already finished, "
        f"{len(todo)} to run, {jobs} at a time",
        file=log,
        flush=True,
    )
    threads = max(1, (os.cpu_count() or 1) // max(1, jobs))
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        list(pool.map(lambda r: _execute(r, grid.config, threads, log), todo))
    return runs
