"""Where a grid stands, from its folder alone (``anrc experiment NAME --out OUT --status``):
each run finished (its dev F1 and selected epoch, whether its answers are stored and its
weights are here), running now (another process holds its lock; its last progress line),
stopped at a checkpoint (resumes on the next call), or waiting; runs that ``--only`` leaves
out are marked. Nothing is trained, queued or rewritten (a fresh clone's archive is
unpacked, as every call of the runner does)."""

from __future__ import annotations

import fcntl
import json
from pathlib import Path

from anrc.experiments.archive import unpack
from anrc.experiments.grid import Grid, GridRun, grid_runs
from anrc.experiments.selection import choose, selection_grid, with_choices
from anrc.inference.stored import stored_path
from anrc.models.trained import WEIGHTS
from anrc.training.checkpoint import CHECKPOINT


def _locked(run: GridRun) -> bool:
    """Whether another process holds the run's lock (a runner training it now)."""
    lock = run.path / ".lock"
    if not lock.is_file():
        return False
    with open(lock) as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(f, fcntl.LOCK_UN)
    return False


def _last_progress(run: GridRun) -> str:
    """The last line of the run's log that says where training is ('' if none)."""
    log = run.path / "run.log"
    lines = log.read_text(errors="replace").splitlines() if log.is_file() else []
    return next((" ".join(ln.split()) for ln in reversed(lines) if ln.startswith("epoch")), "")


def run_state(run: GridRun) -> str:
    """One run's state in words."""
    if run.done:
        s = json.loads((run.path / "scores.json").read_text())["summary"]
        dev = f"dev F1 {s['dev_f1']:.2f}, " if "dev_f1" in s else ""
        kept = [w for w, here in (("answers stored", stored_path(run.path)),
                                  ("weights here", (run.path / WEIGHTS).is_file())) if here]  # fmt: skip
        left = [n for n in run.attack_names if not run.attacked(n)]
        return (f"finished: {dev}epoch {s.get('selected_epoch')}"
                + "".join(f"; {k}" for k in kept)
                + (f"; attacks to run: {', '.join(left)}" if left else ""))  # fmt: skip
    where = _last_progress(run)
    if _locked(run):
        return "running now" + (f": {where}" if where else "")
    if (run.path / CHECKPOINT).is_file():
        return "stopped at a checkpoint (resumes on the next call)" + (
            f": {where}" if where else ""
        )
    return "waiting"


def _section(name: str, runs: list[GridRun], out: Path, chosen) -> list[str]:
    done = sum(r.done for r in runs)
    lines = [f"{name}: {done} of {len(runs)} runs finished"]
    for r in runs:
        key = r.path.relative_to(out / "runs").as_posix()
        note = "" if r.done or chosen(key) else " (left out by --only)"
        lines.append(f"  {key}: {run_state(r)}{note}")
    return lines


def grid_status(grid: Grid, out: Path, extra: list[str], chosen=lambda key: True) -> list[str]:
    """The status lines of the grid in ``out``: its selection stage first, if it has one;
    ``chosen(key)``: whether --only lets the run of that key run."""
    lines: list[str] = []
    if grid.select is not None:
        stage, stage_out = selection_grid(grid), out / "select"
        unpack(stage_out)
        runs = grid_runs(stage, stage_out, extra)
        lines += _section(stage.name, runs, stage_out, chosen)
        try:
            grid = with_choices(grid, choose(stage, runs))
        except ValueError:
            return [*lines, f"{grid.name}: waits for its selection stage"]
    unpack(out)
    return lines + _section(grid.name, grid_runs(grid, out, extra), out, chosen)
