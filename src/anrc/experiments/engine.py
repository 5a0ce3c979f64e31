"""The grid's runs as an Optuna study: a shared, persistent queue with heartbeats.

Each run of a grid (variant, axis value, seed) is one trial of an Optuna study kept
in a relational database (Optuna's ``RDBStorage``): SQLite in the grid's folder by
default (``OUT/optuna.db``), or any SQLAlchemy URL (``--storage
postgresql://...``), so that workers on several machines, each running
``anrc experiment NAME --out SHARED --storage URL`` with the run folders on a
shared file system, take the runs of one grid between them.

- A worker first marks the trials of dead workers failed (Optuna's heartbeats: a
  trial whose worker has not written a heartbeat for ``3 x heartbeat`` seconds),
  then queues every unfinished run that has no live trial (Optuna's waiting
  trials), under a file lock so that workers starting together queue each run once.
- It takes a queued trial, runs it, and records the run's dev F1 as the trial's
  value (the test set is never recorded there), or a failure. Optuna's move from
  waiting to running reads the row with ``SELECT ... FOR UPDATE``, which SQLite
  ignores: two workers could take one trial there, so taking is also done under the
  file lock (workers on one machine); PostgreSQL and MySQL honour the row lock
  (workers on several).
- The run folder is the source of truth: a finished run (``scores.json``) is never
  redone, an interrupted one resumes from its checkpoint, bit for bit.

Optuna was chosen over Ray Tune for this: the runs are subprocesses that already
checkpoint and resume, so what a grid needs is a durable queue with failure
detection, which Optuna's storage is, in one small pure-Python dependency with no
cluster to start; Ray brings a cluster runtime (80 MB, its own scheduler and trial
folders) for features (actors, GPU packing, early stopping) grids of full training
runs do not use.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import socket
import threading
import warnings
from collections.abc import Callable
from pathlib import Path

from anrc.experiments.grid import GridRun

#: the trial parameter that names the run (its folder under OUT)
RUN = "run"


def _optuna():
    try:
        import optuna
    except ImportError:
        raise ImportError("anrc experiment needs optuna: pip install optuna") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # heartbeats are marked experimental in Optuna 5; used as documented, not news to a user
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    return optuna


def default_storage(out: Path) -> str:
    return f"sqlite:///{(out / 'optuna.db').resolve()}"


def study_name(grid_name: str, keys: list[str]) -> str:
    """One study per grid and set of runs (another --set gives other runs: another study)."""
    digest = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:12]
    return f"anrc:{grid_name}:{digest}"


class GridStudy:
    """The Optuna study of one grid's runs, keyed by each run's folder under ``out``."""

    def __init__(self, name: str, runs: list[GridRun], out: Path, storage: str, heartbeat: int):
        optuna = _optuna()
        self.optuna, self.out, self.heartbeat = optuna, out, heartbeat
        self.runs = {self.key(r): r for r in runs}
        kwargs = {"connect_args": {"timeout": 60}} if storage.startswith("sqlite") else {}
        with self._lock():  # two workers creating one database at once would collide
            self.storage = optuna.storages.RDBStorage(
                storage, engine_kwargs=kwargs, heartbeat_interval=heartbeat,
                grace_period=3 * heartbeat,
            )  # fmt: skip
            self.study = optuna.create_study(
                study_name=name, storage=self.storage, direction="maximize", load_if_exists=True
            )
        self.worker = f"{socket.gethostname()}:{os.getpid()}"

    def key(self, run: GridRun) -> str:
        return run.path.relative_to(self.out).as_posix()

    @staticmethod
    def _key(t) -> str | None:
        """The run key of a trial (a queued one keeps it among its fixed parameters)."""
        return t.params.get(RUN) or t.system_attrs.get("fixed_params", {}).get(RUN)

    def queue(self, wanted: Callable[[GridRun], bool]) -> int:
        """Fail the trials of dead workers, then queue each run that ``wanted`` accepts and
        that has no waiting or running trial; returns how many were queued."""
        State = self.optuna.trial.TrialState
        with self._lock():
            self.optuna.storages.fail_stale_trials(self.study)
            live = {
                self._key(t)
                for t in self.study.get_trials(
                    deepcopy=False, states=(State.WAITING, State.RUNNING)
                )
            }
            queued = 0
            for key, run in self.runs.items():
                if key not in live and wanted(run):
                    self.study.enqueue_trial({RUN: key}, user_attrs={"variant": run.variant})
                    queued += 1
            return queued

    @contextlib.contextmanager
    def _lock(self):
        """Workers that start together queue each run once (a lock file beside the runs)."""
        self.out.mkdir(parents=True, exist_ok=True)
        with open(self.out / ".queue.lock", "w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            yield

    def take(self):
        """(trial, run): a queued trial, now running for this worker; None when none is
        queued. Under the file lock as well as Optuna's row lock (see the module's
        docstring): two workers never take the same one."""
        State = self.optuna.trial.TrialState
        with self._lock():
            for t in self.study.get_trials(deepcopy=False, states=(State.WAITING,)):
                try:
                    taken = self.storage.set_trial_state_values(t._trial_id, State.RUNNING)
                except RuntimeError:  # finished meanwhile by another worker
                    taken = False
                if taken:
                    trial = self.optuna.trial.Trial(self.study, t._trial_id)
                    key = trial.suggest_categorical(RUN, sorted(self.runs))  # the queued run
                    trial.set_user_attr("worker", self.worker)
                    return trial, self.runs[key]
        return None

    def others_running(self) -> bool:
        State = self.optuna.trial.TrialState
        return bool(self.study.get_trials(deepcopy=False, states=(State.RUNNING,)))

    @contextlib.contextmanager
    def beating(self, trial):
        """Heartbeats for ``trial`` while the block runs (a dead worker's trial goes stale)."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.heartbeat):
                with contextlib.suppress(Exception):  # a missed beat only risks a retry
                    self.storage.record_heartbeat(trial._trial_id)

        self.storage.record_heartbeat(trial._trial_id)
        thread = threading.Thread(target=beat, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def finish(self, trial, run: GridRun, dev_f1: float | None) -> None:
        """Record the run's dev F1 as the trial's value (0 for a run without a dev split),
        or the trial's failure when the run is still unfinished."""
        State = self.optuna.trial.TrialState
        if self.storage.get_trial(trial._trial_id).state.is_finished():
            # failed as stale (its worker stalled past the grace period) while its run
            # went on: the run folder, not the trial, is the record
            return
        if run.pending:
            self.study.tell(trial, state=State.FAIL)
            return
        trial.set_user_attr("dev_f1", dev_f1)
        self.study.tell(trial, dev_f1 if dev_f1 is not None else 0.0, skip_if_finished=True)


def work(
    study: GridStudy,
    execute: Callable[[GridRun], int],
    wanted: Callable[[GridRun], bool],
    dev_f1: Callable[[GridRun], float | None],
    stopping: threading.Event,
    poll: float = 1.0,
) -> None:
    """One worker: take queued runs until none is left, or ``stopping`` is set. While
    other workers still run something and runs remain (a run that waits for others, a
    dead worker's run not yet stale), it waits for them rather than leave."""
    while not stopping.is_set():
        study.queue(wanted)
        taken = study.take()
        if taken is None:
            if not (study.others_running() and any(map(wanted, study.runs.values()))):
                return
            stopping.wait(poll)
            continue
        trial, run = taken
        with study.beating(trial):
            execute(run)
        study.finish(trial, run, dev_f1(run) if run.done else None)
