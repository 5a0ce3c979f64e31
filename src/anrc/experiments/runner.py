"""Running a grid: each run is an ``anrc train`` (then ``anrc attack``) subprocess, taken
from the grid's Optuna study (:mod:`anrc.experiments.engine`) by ``jobs`` workers.

A finished run is never redone; an interrupted one resumes from its checkpoint. A run
whose resolved configuration equals a finished run's under a ``--reuse`` folder is
copied instead of trained (training is deterministic for a configuration on one
machine and thread count). Stopping the runner (SIGTERM, Ctrl-C, the ``deadline``)
stops the runs in progress, each of which saves a checkpoint, and starts no other;
a runner killed outright takes its runs with it (they get SIGTERM when it dies), and
its trials are failed by the next worker once their heartbeats go stale.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import fnmatch
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

from anrc.builder import load_config, read_config
from anrc.data.formats import expand_path
from anrc.experiments.archive import ARCHIVE, pack, unpack
from anrc.experiments.engine import GridStudy, default_storage, study_name, work
from anrc.experiments.grid import ATTACK_OPTIONS, Grid, GridRun, grid_runs
from anrc.experiments.report import write_report
from anrc.experiments.selection import (
    choice_section,
    choose,
    dev_pick,
    ensemble_section,
    selection_grid,
    with_choices,
    write_choice,
)
from anrc.inference.stored import STORED, stored_path
from anrc.models.trained import WEIGHTS
from anrc.training.checkpoint import CHECKPOINT


def _die_with_parent() -> None:
    """In the child: SIGTERM when the runner's thread that started it dies (Linux)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Children:
    """The runner's ``anrc train`` / ``anrc attack`` processes: stopped with it."""

    def __init__(self) -> None:
        self.procs: set[subprocess.Popen] = set()
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def call(self, cmd: list[str], out) -> int:
        with self.lock:
            if self.stopping.is_set():
                return 128 + signal.SIGTERM
            proc = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
            )
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


CHILDREN = Children()


@dataclass
class Options:
    """How to run a grid (the ``anrc experiment`` options)."""

    jobs: int = 1
    threads: int = 0  # torch threads per run (0: the cores over jobs)
    extra: tuple[str, ...] = ()  # --set for every run
    reuse: tuple[Path, ...] = ()
    storage: str = ""  # '' = sqlite in the grid's folder
    heartbeat: int = 30  # seconds between a worker's heartbeats
    deadline: float = 0.0  # seconds; 0 = none
    stated_deadline: float = 0.0  # the deadline as given (a later stage gets what is left)
    only: tuple[str, ...] = ()  # run keys (variant/.../seedN) to run now; () = all
    store: bool = False  # keep each finished run's probabilities (anrc store) while it has weights

    def chosen(self, key: str) -> bool:
        """Whether this call runs the run of ``key`` (``--only``: any pattern matches)."""
        return not self.only or any(fnmatch.fnmatchcase(key, p) for p in self.only)

    @property
    def deadline_as_given(self) -> float:
        """The deadline the user gave, for messages (``deadline`` is what is left of it)."""
        return self.stated_deadline or self.deadline


def reusable_runs(folders) -> list[tuple[dict, Path]]:
    """(saved configuration, run folder) of every finished run under ``folders`` (a
    committed grid's folder is unpacked first: a fresh clone holds its runs in its
    archive alone)."""
    found = []
    for folder in folders:
        unpack(Path(folder))
        for cfg_path in sorted(Path(folder).rglob("config.toml")):
            if not (cfg_path.parent / "scores.json").is_file():
                continue
            try:
                with warnings.catch_warnings():  # runs saved before the per-component sections
                    warnings.simplefilter("ignore", FutureWarning)
                    found.append((read_config(cfg_path).to_dict(), cfg_path.parent))
            except (OSError, ValueError, TypeError):
                continue
    return found


#: data settings that name files: compared as the files they name (:func:`comparable`)
PATH_SETTINGS = ("train", "dev", "test", "augment", "rel2id", "embeddings")


def comparable(config: dict) -> dict:
    """A resolved configuration with each data file that exists here as its real absolute
    path, so that a run that read ``../shared/x`` and one that read ``/work/shared/x``,
    the same file, have the same configuration (a run trained by an older release
    recorded its paths absolute)."""
    data = dict(config.get("data", {}))
    for key in PATH_SETTINGS:
        value = data.get(key)
        if isinstance(value, str) and value and os.path.exists(expand_path(value)):
            data[key] = os.path.realpath(expand_path(value))
    return {**config, "data": data}


def _reuse(target: Path, want: dict, reusable: list[tuple[dict, Path]], log) -> bool:
    """Copy the first finished run whose resolved configuration is ``want`` (its data
    files compared as files) into ``target``; whether one was found."""
    want = comparable(want)
    for have, source in reusable:
        if comparable(have) == want and source.resolve() != target.resolve():
            ignore = shutil.ignore_patterns("attack", ".lock")
            shutil.copytree(source, target, dirs_exist_ok=True, ignore=ignore)
            (target / "reused_from.txt").write_text(f"{source}\n")
            print(f"{target}: reused {source} (same configuration)", file=log, flush=True)
            return True
    return False


def _refit_selection(run: GridRun, cfg, reusable, own: Path, log) -> None:
    """A refit run's selection pass is a finished run of the same configuration without
    refit, when the grid (or a --reuse folder) has one: copied into its selection/."""
    if not cfg.train.refit or (run.path / "selection" / "scores.json").is_file():
        return
    want = replace(cfg, train=replace(cfg.train, refit=False)).to_dict()
    _reuse(run.path / "selection", want, [*reusable, *reusable_runs([own])], log)


def _attack(run: GridRun, attack: dict, threads: int, log) -> int:
    method, name = attack["method"], attack["name"]
    out = run.attack_dir(name)
    out.mkdir(parents=True, exist_ok=True)
    device = load_config(run.path / "config.toml").train.device  # attack where it trained
    cmd = [sys.executable, "-m", "anrc", "attack", str(run.path), "--method", method]
    cmd += ["--out", str(out), "--threads", str(threads), "--device", device]
    for key, opt in ATTACK_OPTIONS.items():
        if key in attack:
            v = attack[key]
            cmd += [opt, *map(str, v if isinstance(v, list) else [v])]
    with open(out / "attack.log", "a") as f:
        rc = CHILDREN.call(cmd, f)
    status = "done" if rc == 0 and run.attacked(name) else f"failed (exit {rc}, see {out})"
    print(f"{out}: {status}", file=log, flush=True)
    return rc


def _train(run: GridRun, threads: int, log, reusable, own: Path) -> int:
    overrides = [*run.overrides, f"train.threads={threads}"]
    resume = (run.path / CHECKPOINT).is_file()
    cfg = load_config(run.config, overrides)
    if not resume and reusable and _reuse(run.path, cfg.to_dict(), reusable, log):
        return 0
    if not resume:
        _refit_selection(run, cfg, reusable, own, log)
    cmd = [sys.executable, "-m", "anrc", "train"]
    if resume:
        cmd += ["--resume", str(run.path)]
    else:
        cmd += ["--config", run.config, "--out", str(run.path)]
        for o in overrides:
            cmd += ["--set", o]
    with open(run.path / "run.log", "a") as f:
        rc = CHILDREN.call(cmd, f)
    print(f"{run.path}: {_train_outcome(run, rc)}", file=log, flush=True)
    return rc


def _train_outcome(run: GridRun, rc: int) -> str:
    """The log's word for a train child that ended with ``rc``: a run the runner
    stopped (deadline or signal) that left its checkpoint has not failed."""
    if rc == 0 and run.done:
        return "done"
    if CHILDREN.stopping.is_set() and (run.path / CHECKPOINT).is_file():
        return "stopped at its checkpoint (resumes on the next call)"
    return f"failed (exit {rc}, see {run.path / 'run.log'})"


def _store(run: GridRun, threads: int, log) -> int:
    """``anrc store`` on a finished run that has its weights and no stored answers."""
    if stored_path(run.path) or not (run.path / WEIGHTS).is_file():
        return 0
    cmd = [sys.executable, "-m", "anrc", "store", str(run.path), "--threads", str(threads)]
    with open(run.path / "store.log", "a") as f:
        rc = CHILDREN.call(cmd, f)
    status = "stored" if rc == 0 and stored_path(run.path) else f"not stored (exit {rc})"
    print(f"{run.path}: its probabilities {status}, see {run.path / 'store.log'}", file=log)
    return rc


def execute(
    run: GridRun, grid: Grid, threads: int, log, reusable, own: Path, store: bool = False
) -> int:
    """Train (or resume, or copy) one run, then its attacks; the exit status. ``own``
    is the grid's runs folder (a refit run's selection pass may be there); ``store``:
    keep its probabilities (:func:`_store`)."""
    run.path.mkdir(parents=True, exist_ok=True)
    # Two workers must never work on one run at once, whatever the queue says.
    with open(run.path / ".lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"{run.path}: busy in another runner; skipped", file=log, flush=True)
            return 1
        rc = 0 if run.done else _train(run, threads, log, reusable, own)
        if run.done and store:
            rc = _store(run, threads, log) or rc
        if run.done:
            for attack in run.attacks(grid):
                if not run.attacked(attack["name"]):
                    rc = _attack(run, attack, threads, log) or rc
        return rc


def _dev_f1(run: GridRun) -> float | None:
    summary = json.loads((run.path / "scores.json").read_text())["summary"]
    return summary.get("dev_f1")


def _check_folder(grid: Grid, out: Path, extra: list[str]) -> None:
    """A grid folder holds one grid with one set of extra settings."""
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


def _store_finished(runs: list[GridRun], threads: int, log) -> None:
    """--store-probabilities: runs that finished before it was given, or were stopped
    while storing, are stored before anything is trained (with a run's threads)."""
    for run in runs:
        if run.done and not CHILDREN.stopping.is_set():
            _store(run, threads, log)


def _announce(grid: Grid, runs: list[GridRun], todo: list[GridRun], jobs: int, log) -> None:
    left = sum(r.pending for r in runs) - len(todo)  # pending, but left out by --only
    print(
        f"{grid.name}: {len(runs)} runs, {len(runs) - len(todo) - left} already finished, "
        f"{len(todo)} to run, {jobs} at a time" + (f" ({left} left out by --only)" if left else ""),
        file=log,
        flush=True,
    )


def run_grid(grid: Grid, out: Path, opts: Options, log=None) -> list[GridRun]:
    """Run (and attack) every unfinished run of the grid, ``opts.jobs`` at a time."""
    log = log or sys.stderr
    _check_folder(grid, out, list(opts.extra))
    runs = grid_runs(grid, out, list(opts.extra))
    keys = [r.path.relative_to(out).as_posix() for r in runs]
    chosen = {r.path for r in runs if opts.chosen(r.path.relative_to(out / "runs").as_posix())}
    threads = opts.threads or max(1, (os.cpu_count() or 1) // max(1, opts.jobs))
    if opts.store:
        _store_finished([r for r in runs if r.path in chosen], threads, log)
    todo = [r for r in runs if r.pending and r.path in chosen]
    _announce(grid, runs, todo, opts.jobs, log)
    if not todo:
        return runs
    reusable = reusable_runs(opts.reuse)  # scanned once, not once per run
    study = GridStudy(study_name(grid.name, keys), runs, out, opts.storage
                      or default_storage(out), opts.heartbeat)  # fmt: skip
    failed: set[Path] = set()  # each run is tried once by this runner

    def wanted(run: GridRun) -> bool:
        """Unfinished runs not failed here; a run that reads other runs' outputs once all
        the others have finished."""
        if not run.pending or run.path in failed or run.path not in chosen:
            return False
        return not run.after_others or all(r.done for r in runs if not r.after_others)

    def one(run: GridRun) -> int:
        rc = execute(run, grid, threads, log, reusable, out / "runs", opts.store)
        if run.pending:
            failed.add(run.path)
        done = sum(not r.pending for r in runs)
        print(f"{grid.name}: {done}/{len(runs)} runs done", file=log, flush=True)
        return rc

    errors: list[Exception] = []

    def worker() -> None:
        try:
            work(study, one, wanted, _dev_f1, CHILDREN.stopping)
        except Exception as err:  # noqa: BLE001  (the database gone for good, say)
            errors.append(err)
            CHILDREN.stop()  # the other workers' runs checkpoint; the grid resumes later

    with _stop_children_on_signal(), _deadline(opts.deadline, opts.deadline_as_given, log):
        workers = [threading.Thread(target=worker) for _ in range(max(1, opts.jobs))]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    if errors:
        raise errors[0]
    return runs


@contextlib.contextmanager
def _deadline(seconds: float, stated: float, log):
    """Past ``seconds``, stop the runs in progress (they checkpoint) and start no other
    (``stated``: the deadline as the user gave it, for the message)."""
    if not seconds:
        yield
        return

    def expire() -> None:
        print(f"deadline of {stated:g} s reached: stopping the runs", file=log, flush=True)
        CHILDREN.stop()

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


@contextlib.contextmanager
def _stop_children_on_signal():
    """Within: SIGTERM or Ctrl-C stops the runs in progress (they checkpoint), starts
    none of the queued ones, and then ends the runner.

    The handler stops the children itself: the exception it raises only reaches the
    runner after its workers have finished their runs.
    """

    def on_signal(signum, frame):
        CHILDREN.stop()
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise SystemExit(128 + signum)

    CHILDREN.stopping.clear()
    old = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
            old[sig] = signal.signal(sig, on_signal)
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def run_experiment(
    grid: Grid, out: Path, opts: Options, command: str, bootstrap: int = 1000,
    report_only: bool = False, log=None,
) -> dict:  # fmt: skip
    """A grid's stages, then its report: the selection stage if it has one (dev chooses
    each variant's setting), the grid, and dev's pick ensembled if it asks for it."""

    log = log or sys.stderr
    left = _time_left(opts.deadline)
    notes: list[str] = []
    if grid.select is not None:
        stage, stage_out = selection_grid(grid), out / "select"
        runs = _stage(stage, stage_out, opts, left, report_only, log)
        write_report(stage, runs, stage_out, f"{command} (its selection stage)", bootstrap)
        pack(stage_out)
        try:
            choice = choose(stage, runs)
        except ValueError as err:
            print(f"{grid.name}: {err}; the grid waits for its selection stage", file=log)
            return {"runs": len(runs), "finished": sum(r.done for r in runs)}
        write_choice(stage_out / "choice.json", grid, choice)
        grid = with_choices(grid, choice)
        opts = replace(opts, reuse=(*opts.reuse, stage_out))
        notes = choice_section(stage_out / "choice.json")
    runs = _stage(grid, out, opts, left, report_only, log)
    summary = write_report(grid, runs, out, command, bootstrap, notes, ensemble_section(out))
    pack(out)
    if grid.ensemble and not report_only and summary["finished"] == summary["runs"]:
        # The report stands before the ensemble (minutes for transformers), and is
        # written again with it: the second pass repeats the bootstrap and plots.
        _ensemble_dev_pick(grid, out, summary, log)
        if after := ensemble_section(out):
            summary = write_report(grid, runs, out, command, bootstrap, notes, after)
    return summary


def _time_left(deadline: float):
    """Seconds left of ``deadline`` (None: no deadline)."""
    if not deadline:
        return lambda: None
    end = time.monotonic() + deadline
    return lambda: max(0.0, end - time.monotonic())


def _stage(grid: Grid, out: Path, opts: Options, left, report_only: bool, log) -> list[GridRun]:
    if report_only and not out.is_dir():
        raise ValueError(f"{out}: no such experiment folder")
    # A fresh clone holds a grid's finished runs in its archive only: unpacked before
    # runs are counted, so that a resumed grid trains none of them again.
    if unpack(out):
        print(f"{out}: unpacked {ARCHIVE}", file=log)
    if report_only:
        return grid_runs(grid, out, list(opts.extra))
    remaining = left()
    if remaining is not None and remaining < 1:
        print(f"{grid.name}: no time left before the deadline", file=log)
        return grid_runs(grid, out, list(opts.extra))
    given = opts.deadline_as_given
    return run_grid(grid, out, replace(opts, deadline=remaining or 0.0, stated_deadline=given), log)


def _ensemble_dev_pick(grid: Grid, out: Path, summary: dict, log) -> None:
    """Ensemble the seeds of the variant with the best mean dev F1 (the test set picks
    nothing), into OUT/ensembles/VARIANT, when its runs' weights or stored probabilities
    are here."""

    name = dev_pick([r for r in summary["rows"] if r["axis_value"] is None], len(grid.seeds))
    if name is None:
        return
    dirs = [out / "runs" / name / f"seed{s}" for s in grid.seeds]
    if not all((d / WEIGHTS).is_file() or stored_path(d) for d in dirs):
        print(f"ensemble: {name}'s runs have neither weights nor {STORED} here; skipped", file=log)
        return
    cmd = [sys.executable, "-m", "anrc", "ensemble", *map(str, dirs), "--dev"]
    cmd += ["--out", str(out / "ensembles" / name)]
    print(f"ensemble of {name}, dev's pick", file=log, flush=True)
    CHILDREN.call(cmd, None)
