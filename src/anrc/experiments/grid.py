"""Experiment grids: many ``anrc train`` runs declared in ``experiments/*.toml``.

A grid file names a base config, settings shared by every run, named variants
(each a set of overrides), optionally an axis (one setting swept over values),
the seeds, and the baseline the other variants are compared with::

    description = "..."
    config = "configs/anrc-scaled.toml"
    seeds = 3
    baseline = "no-at"          # or a list: every variant is compared with each
    [set]
    "train.max_epochs" = 30
    [axis]                      # optional
    setting = "data.train_limit"
    values = [1000, 2000, 4000, 8000]
    baseline = 8000             # optional: each value is also compared with this one
    [variants.at]
    "adversarial.method" = "fgm"
    [variants.no-at]
    "adversarial.method" = "none"

A variant may name its own base config (``config = "configs/cnn.toml"``), so one
grid can compare encoders.

Each run lives in ``OUT/runs/VARIANT[/AXIS=VALUE]/seedS``. A finished run (it has
``scores.json``) is never redone; an interrupted one resumes from its checkpoint.

A grid may also attack every trained model (``anrc attack``), one ``[[attack]]``
table per method, with the attack's options as keys::

    [[attack]]
    method = "pgd"
    eps = [0.0, 0.1, 0.5]
    steps = 10

The results go to ``RUN/attack/NAME/`` (``name`` defaults to the method; set it to
attack twice with one method, e.g. the training split with ``split = "train"``);
``variants = [...]`` limits an attack to some variants. Finished attacks are never
redone.

String overrides may name ``{seed}`` and ``{out}``: a variant can train on what an
attack of another variant wrote (``"data.augment" =
"{out}/runs/anrc/seed{seed}/attack/word-train/augment.jsonl"``): such runs start after all the others have finished.

``reuse`` folders let grids share runs: a run whose resolved configuration (base
config, overrides and seed) equals that of a finished run found there is copied
instead of trained again. Training is deterministic for a given configuration, so
the copy is the run this grid would have trained.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from anrc.config import Config, apply_overrides, load_config

# Keys of an [[attack]] table, with the ``anrc attack`` option each becomes.
ATTACK_OPTIONS = {
    "eps": "--eps",
    "steps": "--steps",
    "max_fraction": "--max-fraction",
    "vocab_top": "--vocab-top",
    "limit": "--limit",
    "seed": "--seed",
    "split": "--split",
    "scale": "--scale",
    "neighbours": "--neighbours",
}
# Keys of an [[attack]] table that the runner itself reads.
ATTACK_KEYS = {"method", "name", "variants"}


@dataclass
class Grid:
    name: str
    description: str
    config: str
    seeds: list[int]
    baseline: tuple[str, ...]  # variants every other variant is compared with
    common: dict[str, object]
    variants: dict[str, dict[str, object]]
    axis_setting: str | None = None
    axis_values: list = field(default_factory=list)
    axis_baseline: object = None
    attacks: list[dict] = field(default_factory=list)

    def key_name(self, variant: str, value: object) -> str:
        """A report row's name: the variant, with the axis value where the grid has one."""
        return variant if not self.axis_setting else f"{variant} @ {self.axis_setting}={value}"


@dataclass
class Run:
    variant: str
    axis_value: object
    seed: int
    overrides: list[str]
    path: Path
    after_others: bool = False  # reads another run's output ({out} in an override)
    config: str = ""  # the base config of this run (the variant's, or the grid's)

    @property
    def done(self) -> bool:
        return (self.path / "scores.json").is_file()

    def attack_dir(self, name: str) -> Path:
        return self.path / "attack" / name

    def attacked(self, name: str) -> bool:
        return (self.attack_dir(name) / "summary.json").is_file()

    def attacks(self, grid: Grid) -> list[dict]:
        """The grid's attacks that apply to this run's variant."""
        return [a for a in grid.attacks if self.variant in a.get("variants", [self.variant])]


def _fmt(v: object) -> str:
    return json.dumps(v) if isinstance(v, bool) else str(v)


def _check_variants(path: Path, variants: dict) -> None:
    """A dotted name unquoted ([variants.lr-0.5]) is a nested table in TOML: say so."""
    for name, sets in variants.items():
        for key, value in sets.items():
            if isinstance(value, dict):
                raise ValueError(
                    f"{path}: variant {name}.{key} is a table; a variant name with a dot "
                    f'must be quoted: [variants."{name}.{key}"]'
                )


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
    _check_variants(path, variants)
    baseline = d.get("baseline")
    baselines = [baseline] if isinstance(baseline, str) else list(baseline or [])
    for b in baselines:
        if b not in variants:
            raise ValueError(f"{path}: baseline {b!r} is not a variant")
    axis = d.get("axis", {})
    if "baseline" in axis and axis["baseline"] not in axis.get("values", []):
        raise ValueError(f"{path}: axis baseline {axis['baseline']!r} is not one of the values")
    attacks = d.get("attack", [])
    for a in attacks:
        from anrc.attacks import attack_names

        if a.get("method") not in attack_names():
            raise ValueError(f"{path}: attack method must be one of {', '.join(attack_names())}")
        unknown = set(a) - {*ATTACK_KEYS, *ATTACK_OPTIONS}
        if unknown:
            raise ValueError(f"{path}: unknown attack option(s) {', '.join(sorted(unknown))}")
        a.setdefault("name", a["method"])
        if not set(a.get("variants", [])) <= set(variants):
            raise ValueError(f"{path}: attack {a['name']!r} names an unknown variant")
    names = [a["name"] for a in attacks]
    if len(set(names)) != len(names):
        raise ValueError(f"{path}: two attacks share a name; give each its own name")
    grid = Grid(
        name=path.stem,
        description=d.get("description", ""),
        config=d["config"],
        seeds=seeds,
        baseline=tuple(baselines),
        common=d.get("set", {}),
        variants=variants,
        axis_setting=axis.get("setting"),
        axis_values=list(axis.get("values", [])),
        axis_baseline=axis.get("baseline"),
        attacks=attacks,
    )
    for v in grid_runs(grid, Path("/nonexistent"), []):  # validate every override now
        apply_overrides({}, v.overrides)
        if not Path(v.config).is_file():
            raise ValueError(f"{path}: variant {v.variant!r}: no such config {v.config}")
    return grid


def grid_runs(grid: Grid, out: Path, extra: list[str]) -> list[Run]:
    runs = []
    axis_values = grid.axis_values if grid.axis_setting else [None]
    for variant, sets in grid.variants.items():
        merged = {**grid.common, **sets}
        config = str(merged.pop("config", grid.config))
        dep = any("{out}" in str(v) for v in merged.values())  # reads another run's output
        for value in axis_values:
            for seed in grid.seeds:
                o = [
                    f"{k}={_fmt(v).replace('{seed}', str(seed)).replace('{out}', str(out))}"
                    for k, v in merged.items()
                ]
                sub = Path(variant)
                if grid.axis_setting:
                    o.append(f"{grid.axis_setting}={_fmt(value)}")
                    sub = sub / f"{grid.axis_setting.split('.')[-1]}={value}"
                o += list(extra) + [f"train.seed={seed}"]
                path = out / "runs" / sub / f"seed{seed}"
                runs.append(Run(variant, value, seed, o, path, dep, config))
    return runs


def reusable_runs(folders: list[Path]) -> list[tuple[dict, Path]]:
    """(saved configuration, run folder) of every finished run under ``folders``."""
    found = []
    for folder in folders:
        for cfg_path in sorted(Path(folder).rglob("config.toml")):
            if not (cfg_path.parent / "scores.json").is_file():
                continue
            try:
                with open(cfg_path, "rb") as f:
                    found.append((Config.from_dict(tomllib.load(f)).to_dict(), cfg_path.parent))
            except (OSError, ValueError, TypeError, tomllib.TOMLDecodeError):
                continue
    return found


class _Children:
    """The runner's ``anrc train`` / ``anrc attack`` processes.

    Stopping the runner (SIGTERM, Ctrl-C) stops them too: each gets SIGTERM, on
    which training saves a checkpoint and exits, and no new one starts. Without
    this a killed runner leaves its runs training, unseen, on the cores.
    """

    def __init__(self) -> None:
        self.procs: set[subprocess.Popen] = set()
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def call(self, cmd: list[str], out) -> int:
        with self.lock:
            if self.stopping.is_set():
                return 128 + signal.SIGTERM
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
            self.procs.add(proc)
        try:
            return proc.wait()
        finally:
            with self.lock:
                self.procs.discard(proc)

    def stop(self) -> None:
        with self.lock:
            self.stopping.set()
            for proc in self.procs:
                proc.terminate()


_CHILDREN = _Children()


def _device_of(run: Run) -> str:
    """The run's train.device: its attacks run where it was trained."""
    return load_config(run.path / "config.toml").train.device


def _attack(run: Run, attack: dict, threads: int, log) -> int:
    method, name = attack["method"], attack["name"]
    out = run.attack_dir(name)
    out.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "anrc", "attack", str(run.path), "--method", method]
    cmd += ["--out", str(out), "--threads", str(threads), "--device", _device_of(run)]
    for key, opt in ATTACK_OPTIONS.items():
        if key in attack:
            v = attack[key]
            cmd += [opt, *map(str, v if isinstance(v, list) else [v])]
    with open(out / "attack.log", "a") as f:
        rc = _CHILDREN.call(cmd, f)
    status = "done" if rc == 0 and run.attacked(name) else f"failed (exit {rc}, see {out})"
    print(f"{out}: {status}", file=log, flush=True)
    return rc


def _execute(run: Run, grid: Grid, threads: int, log, reusable: list[tuple[dict, Path]]) -> int:
    run.path.mkdir(parents=True, exist_ok=True)
    # Two runners on one grid folder must not resume the same run at once: the
    # first holds an exclusive lock on the run for as long as it works on it.
    with open(run.path / ".lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"{run.path}: busy in another runner; skipped", file=log, flush=True)
            return 1
        return _execute_locked(run, grid, threads, log, reusable)


def _reuse(run: Run, want: dict, reusable: list[tuple[dict, Path]], log) -> None:
    for have, source in reusable:
        if have == want and source.resolve() != run.path.resolve():
            ignore = shutil.ignore_patterns("attack", ".lock")
            shutil.copytree(source, run.path, dirs_exist_ok=True, ignore=ignore)
            (run.path / "reused_from.txt").write_text(f"{source}\n")
            print(f"{run.path}: reused {source} (same configuration)", file=log, flush=True)
            return


def _execute_locked(
    run: Run, grid: Grid, threads: int, log, reusable: list[tuple[dict, Path]]
) -> int:
    overrides = [*run.overrides, f"train.threads={threads}"]
    rc = 0
    resume = (run.path / "checkpoint.pt").is_file()
    if not run.done and not resume and reusable:
        _reuse(run, load_config(run.config, overrides).to_dict(), reusable, log)
    if not run.done:
        cmd = [sys.executable, "-m", "anrc", "train"]
        if resume:
            cmd += ["--resume", str(run.path)]
        else:
            cmd += ["--config", run.config, "--out", str(run.path)]
            for o in overrides:
                cmd += ["--set", o]
        with open(run.path / "run.log", "a") as f:
            rc = _CHILDREN.call(cmd, f)
        status = (
            "done" if rc == 0 and run.done else f"failed (exit {rc}, see {run.path / 'run.log'})"
        )
        print(f"{run.path}: {status}", file=log, flush=True)
    if run.done:
        for attack in run.attacks(grid):
            if not run.attacked(attack["name"]):
                rc = _attack(run, attack, threads, log) or rc
    return rc


def _pending(run: Run, grid: Grid) -> bool:
    return not run.done or any(not run.attacked(a["name"]) for a in run.attacks(grid))


def run_grid(
    grid: Grid,
    out: Path,
    jobs: int = 1,
    extra: list[str] | None = None,
    log=None,
    reuse: list[Path] | None = None,
    threads: int = 0,
) -> list[Run]:
    """Run (and attack) every unfinished run of the grid, ``jobs`` at a time."""
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
    todo = [r for r in runs if _pending(r, grid)]
    print(
        f"{grid.name}: {len(runs)} runs, {len(runs) - len(todo)} already finished, "
        f"{len(todo)} to run, {jobs} at a time",
        file=log,
        flush=True,
    )
    threads = threads or max(1, (os.cpu_count() or 1) // max(1, jobs))
    reusable = reusable_runs(reuse or [])  # scanned once, not once per run
    # Runs that read other runs' outputs start once all the others have finished.
    finished = [len(runs) - len(todo)]
    lock = threading.Lock()

    def execute(r: Run) -> None:
        if _CHILDREN.stopping.is_set():
            return
        _execute(r, grid, threads, log, reusable)
        with lock:
            finished[0] += 1
            print(f"{grid.name}: {finished[0]}/{len(runs)} runs done", file=log, flush=True)

    with _stop_children_on_signal():
        for wave in ([r for r in todo if not r.after_others], [r for r in todo if r.after_others]):
            with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
                list(pool.map(execute, wave))
    return runs


@contextlib.contextmanager
def _stop_children_on_signal():
    """Within: SIGTERM or Ctrl-C stops the runs in progress (they checkpoint), starts
    none of the queued ones, and then ends the runner.

    The handler stops the children itself: the exception it raises only reaches the
    runner after the thread pool has waited for its runs and drained its queue.
    """

    def on_signal(signum, frame):
        _CHILDREN.stop()
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise SystemExit(128 + signum)

    _CHILDREN.stopping.clear()
    old = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
            old[sig] = signal.signal(sig, on_signal)
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
