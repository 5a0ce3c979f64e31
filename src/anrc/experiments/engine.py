"""The grid's runs as an Optuna study: a shared, persistent queue with heartbeats.

Each run of a grid (variant, axis value, seed) is one trial of an Optuna study kept
in a relational database (Optuna's ``RDBStorage``): SQLite in the grid's folder by
default (``OUT/optuna.db``), or any SQLAlchemy URL (``--storage
postgresql://...``), so that workers on several machines, each running
``anrc experiment NAME --out SHARED --storage URL`` with the run folders on a
shared file system, take the runs of one grid between them.

- A worker first settles the trials of dead workers: one of a worker on this machine
  whose process is gone at once (its run complete if its folder says so, else failed,
  so a restarted worker takes it up without waiting), others once their heartbeats
  go stale (``3 x heartbeat`` seconds, Optuna's heartbeats). It then queues every
  unfinished run that has no live trial (Optuna's waiting trials).
- Queueing and taking a trial hold a lock that the database itself keeps: an advisory
  lock on PostgreSQL, ``GET_LOCK`` on MySQL, so workers on several machines never
  queue one run twice or take one trial twice. SQLite, a file on one machine, gets the
  file lock beside the runs (``OUT/.queue.lock``), which the others also take as a
  cheap first gate.
- Every database call is retried with backoff while the database is unreachable (a
  restart, a dropped connection: ``pool_pre_ping`` tests a pooled connection before
  use), for up to ``patience`` seconds, so a restart costs time, not the grid. A
  storage that cannot be opened (a closed port, a wrong password, a missing database
  or driver, a bad URL) is one line naming the URL, its password hidden.
- The run folder is the source of truth: a finished run (``scores.json``) is never
  redone, an interrupted one resumes from its checkpoint, bit for bit; a run folder's
  own lock keeps two workers off one run whatever the queue says.

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
import json
import os
import socket
import sys
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import optuna
import sqlalchemy.exc as sa
from sqlalchemy import text
from sqlalchemy.engine import make_url

from anrc.errors import AnrcInputError
from anrc.experiments.grid import GridRun

#: the trial parameter that names the run (its folder under OUT)
RUN = "run"
#: seconds a worker keeps retrying an unreachable database before it gives up
PATIENCE = 600.0
#: Optuna's PostgreSQL driver: the extra that installs it
DRIVER_HINT = "pip install -e '.[postgres]' (psycopg)"


def redact(url: str) -> str:
    """``url`` with its password hidden (for messages and reports)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001  (not a URL at all: show nothing of it)
        return "<an unreadable URL>"


def _transient(err: BaseException) -> bool:
    """Whether ``err`` is a database out of reach for now (retry), not a mistake."""

    seen = 0
    while err is not None and seen < 5:
        if isinstance(err, sa.OperationalError | sa.InterfaceError | sa.DisconnectionError):
            return True
        if isinstance(err, sa.DBAPIError) and err.connection_invalidated:
            return True
        err, seen = err.__cause__ or err.__context__, seen + 1
    return False


def _first_line(err: BaseException) -> str:
    text = str(getattr(err, "orig", None) or err).strip().splitlines()
    return text[0] if text else type(err).__name__


def _quiet_optuna() -> None:
    """Optuna's own log and warnings down to what a grid's user needs."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # heartbeats are marked experimental in Optuna 5; used as documented, not news to a user
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def default_storage(out: Path) -> str:
    return f"sqlite:///{(out / 'optuna.db').resolve()}"


def study_name(grid_name: str, keys: list[str]) -> str:
    """One study per grid and set of runs (another --set gives other runs: another study)."""
    digest = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:12]
    return f"anrc:{grid_name}:{digest}"


class GridStudy:
    """The Optuna study of one grid's runs, keyed by each run's folder under ``out``."""

    def __init__(
        self, name: str, runs: list[GridRun], out: Path, storage: str, heartbeat: int,
        patience: float = PATIENCE,
    ):  # fmt: skip
        _quiet_optuna()
        self.out, self.heartbeat, self.patience = out, heartbeat, patience
        self.url = redact(storage)
        self.runs = {self.key(r): r for r in runs}
        self.host, self.worker = socket.gethostname(), f"{socket.gethostname()}:{os.getpid()}"
        with self._file_lock():  # two workers creating one database at once would collide
            self.storage = self._open(storage, name)
        self.study_id = self.storage.get_study_id_from_name(name)
        self.lock_key = int(hashlib.sha256(name.encode()).hexdigest()[:15], 16)

    def _open(self, url: str, name: str):
        """The storage and the study in it; a storage that cannot be opened is one line."""
        if url.startswith("sqlite"):
            kwargs = {"connect_args": {"timeout": 60}}
        else:
            kwargs = {"pool_pre_ping": True}
        try:
            storage = optuna.storages.RDBStorage(
                url, engine_kwargs=kwargs, heartbeat_interval=self.heartbeat,
                grace_period=3 * self.heartbeat,
            )  # fmt: skip
            self.study = optuna.create_study(
                study_name=name, storage=storage, direction="maximize", load_if_exists=True
            )
        except ImportError as err:  # Optuna wraps the driver's ModuleNotFoundError
            module = err.name or getattr(err.__cause__ or err.__context__, "name", None)
            hint = DRIVER_HINT if url.startswith("postgresql") else "install it for SQLAlchemy"
            raise AnrcInputError(
                f"--storage {self.url}: no database driver {module or ''} ({hint})"
            ) from None
        except Exception as err:  # noqa: BLE001  (SQLAlchemy's and Optuna's many kinds)
            raise AnrcInputError(f"--storage {self.url}: {_first_line(err)}") from None
        return storage

    def key(self, run: GridRun) -> str:
        return run.path.relative_to(self.out).as_posix()

    @staticmethod
    def _key(t) -> str | None:
        """The run key of a trial (a queued one keeps it among its fixed parameters)."""
        return t.params.get(RUN) or t.system_attrs.get("fixed_params", {}).get(RUN)

    # -- the database out of reach: retried -----------------------------------------------
    def retrying(self, what: str, fn, *args, **kwargs):
        """``fn(*args)``, retried with backoff (1, 2, 4 ... 30 s) while the database is out
        of reach, for up to ``patience`` seconds; then one line naming the storage."""
        start, wait, said = time.monotonic(), 1.0, False
        while True:
            try:
                return fn(*args, **kwargs)
            except Exception as err:  # noqa: BLE001  (sorted by _transient)
                if not _transient(err):
                    raise
                if time.monotonic() - start > self.patience:
                    raise AnrcInputError(
                        f"--storage {self.url}: out of reach for {self.patience:g} s while "
                        f"{what} ({_first_line(err)})"
                    ) from None
                if not said:
                    print(f"{self.url}: {what}: database out of reach ({_first_line(err)}); "
                          "retrying", file=sys.stderr, flush=True)  # fmt: skip
                    said = True
                time.sleep(wait)
                wait = min(30.0, wait * 2)

    # -- the queue ------------------------------------------------------------------------
    def queue(self, wanted: Callable[[GridRun], bool]) -> int:
        """Settle the trials of dead workers, then queue each run that ``wanted`` accepts
        and that has no waiting or running trial; returns how many were queued."""
        with self._lock():
            return self.retrying("queueing runs", self._queue, wanted)

    def _queue(self, wanted) -> int:
        State = optuna.trial.TrialState
        self._settle_dead_here()
        optuna.storages.fail_stale_trials(self.study)
        live = {
            self._key(t)
            for t in self.study.get_trials(deepcopy=False, states=(State.WAITING, State.RUNNING))
        }
        queued = 0
        for key, run in self.runs.items():
            if key not in live and wanted(run):
                self.study.enqueue_trial({RUN: key}, user_attrs={"variant": run.variant})
                queued += 1
        return queued

    def _settle_dead_here(self) -> None:
        """Running trials of this machine's dead processes: complete where the run
        finished (a worker killed between its run and its report), else failed, now
        rather than after the heartbeat's grace period."""
        State = optuna.trial.TrialState
        for t in self.study.get_trials(deepcopy=False, states=(State.RUNNING,)):
            host, _, pid = str(t.user_attrs.get("worker", "")).rpartition(":")
            if host != self.host or not pid.isdigit() or _alive(int(pid)):
                continue
            run = self.runs.get(self._key(t) or "")
            if run is not None and run.done:
                self.study.tell(t.number, _dev_f1_of(run), skip_if_finished=True)
            else:
                self.study.tell(t.number, state=State.FAIL, skip_if_finished=True)

    @contextlib.contextmanager
    def _lock(self):
        """Queueing and taking, one worker at a time: the file lock (one machine, and all
        SQLite has), then the database's own lock (every machine)."""
        with self._file_lock(), self._db_lock():
            yield

    @contextlib.contextmanager
    def _file_lock(self):
        self.out.mkdir(parents=True, exist_ok=True)
        with open(self.out / ".queue.lock", "w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            yield

    @contextlib.contextmanager
    def _db_lock(self):
        """A lock the database holds for this grid (PostgreSQL's advisory lock, MySQL's
        GET_LOCK) on a connection of its own; it dies with that connection, so a worker
        killed while holding it blocks no one."""

        dialect = self.storage.engine.dialect.name
        if dialect not in ("postgresql", "mysql"):
            yield
            return
        take, give = {
            "postgresql": ("SELECT pg_advisory_lock(:k)", "SELECT pg_advisory_unlock(:k)"),
            "mysql": ("SELECT GET_LOCK(:k, -1)", "SELECT RELEASE_LOCK(:k)"),
        }[dialect]
        key = self.lock_key if dialect == "postgresql" else f"anrc-{self.lock_key}"

        def acquire():
            conn = self.storage.engine.connect()
            try:
                conn.execute(text(take), {"k": key})
            except Exception:
                conn.close()
                raise
            return conn

        conn = self.retrying("taking the grid's lock", acquire)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):  # a lost connection has released it
                conn.execute(text(give), {"k": key})
            conn.close()

    def take(self):
        """(trial, run): a queued trial, now running for this worker; None when none is
        queued. Under the grid's lock: two workers never take the same one."""
        with self._lock():
            return self.retrying("taking a run", self._take)

    def _take(self):
        State = optuna.trial.TrialState
        for t in self.study.get_trials(deepcopy=False, states=(State.WAITING,)):
            trial_id = self._id_of(t)
            try:
                taken = self.storage.set_trial_state_values(trial_id, State.RUNNING)
            except RuntimeError:  # finished meanwhile by another worker
                taken = False
            if taken:
                trial = optuna.trial.Trial(self.study, trial_id)
                key = trial.suggest_categorical(RUN, sorted(self.runs))  # the queued run
                trial.set_user_attr("worker", self.worker)
                return trial, self.runs[key]
        return None

    def others_running(self) -> bool:
        State = optuna.trial.TrialState
        running = self.retrying(
            "reading the queue", self.study.get_trials, deepcopy=False, states=(State.RUNNING,)
        )
        return bool(running)

    @contextlib.contextmanager
    def beating(self, trial):
        """Heartbeats for ``trial`` while the block runs (a dead worker's trial goes stale)."""
        stop = threading.Event()
        trial_id = self._id_of(trial)

        def beat() -> None:
            while not stop.wait(self.heartbeat):
                with contextlib.suppress(Exception):  # a missed beat only risks a retry
                    self.storage.record_heartbeat(trial_id)

        with contextlib.suppress(Exception):  # the database out of reach: the next beat
            self.storage.record_heartbeat(trial_id)
        thread = threading.Thread(target=beat, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def _id_of(self, trial) -> int:
        """The storage's id of a trial (or a frozen one), by its public number."""
        return self.storage.get_trial_id_from_study_id_trial_number(self.study_id, trial.number)

    def finish(self, trial, run: GridRun, dev_f1: float | None) -> None:
        """Record the run's dev F1 as the trial's value (0 for a run without a dev split),
        or the trial's failure when the run is still unfinished."""
        self.retrying("recording a finished run", self._finish, trial, run, dev_f1)

    def _finish(self, trial, run: GridRun, dev_f1: float | None) -> None:
        State = optuna.trial.TrialState
        if self.storage.get_trial(self._id_of(trial)).state.is_finished():
            # settled while its run went on (its worker stalled past the grace period, or
            # a retried call had gone through): the run folder, not the trial, is the record
            return
        if run.pending:
            self.study.tell(trial, state=State.FAIL, skip_if_finished=True)
            return
        trial.set_user_attr("dev_f1", dev_f1)
        self.study.tell(trial, dev_f1 if dev_f1 is not None else 0.0, skip_if_finished=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _dev_f1_of(run: GridRun) -> float:
    summary = json.loads((run.path / "scores.json").read_text())["summary"]
    return summary.get("dev_f1") or 0.0


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
