"""The grid engine on a real PostgreSQL server, started here in a folder of its own
(Debian's ``postgresql``; skipped where its programs or the psycopg driver are absent):
two workers share a grid while one is killed outright and the database restarts, and
every run is done once with the figures of an uninterrupted grid; a storage that cannot
be opened is one line without its password."""

import glob
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from grids import report_rows, runner, wait_for

from anrc.cli import main

pytest.importorskip("psycopg")
PASSWORD = "s3cret-pw"


def _pg_bin() -> Path | None:
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(d) / "initdb").is_file():
            return Path(d)
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


class Server:
    """A private PostgreSQL server: a data folder, a port, a user with a password."""

    def __init__(self, folder: Path):
        self.bin, self.data, self.log = _pg_bin(), folder / "data", folder / "server.log"
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "pw").write_text(PASSWORD)
        if self.as_user:
            shutil.chown(folder, "postgres")
            shutil.chown(folder / "pw", "postgres")
        self._run("initdb", "-D", self.data, "-U", "anrc", f"--pwfile={folder / 'pw'}",
                  "-A", "scram-sha-256")  # fmt: skip
        self.start()

    def _run(self, tool: str, *args) -> None:
        cmd = [*self.as_user, str(self.bin / tool), *map(str, args)]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def url(self, password: str = PASSWORD, db: str = "postgres", port: int | None = None):
        return f"postgresql+psycopg://anrc:{password}@127.0.0.1:{port or self.port}/{db}"

    def start(self) -> None:
        opts = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data}"
        self._run("pg_ctl", "-D", self.data, "-l", self.log, "-o", opts, "-w", "start")

    def restart(self, down: float = 3.0) -> None:
        """Down for ``down`` seconds, then up again (what a database restart looks like)."""
        self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")
        time.sleep(down)
        self.start()

    def stop(self) -> None:
        self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")


@pytest.fixture(scope="module")
def pg(tmp_path_factory):
    if _pg_bin() is None or (os.geteuid() == 0 and shutil.which("runuser") is None):
        pytest.skip("no PostgreSQL server programs here (Debian: apt-get install postgresql)")
    folder = Path("/tmp") / f"anrc-pg-{os.getpid()}"  # short: a socket path has a limit
    shutil.rmtree(folder, ignore_errors=True)
    server = Server(folder)
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


def _error_line(capsys) -> str:
    """The one line of the error (after the grid's own progress line), no traceback."""
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and err.count("--storage") == 1, err
    return err.splitlines()[-1]


def test_a_storage_that_cannot_be_opened_is_one_line_without_its_password(pg, make_grid, capsys):
    grid = make_grid()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    cases = [
        (pg.url(port=closed), "Connection refused"),
        (pg.url(password="wrong-pw"), "password authentication failed"),
        (pg.url(db="nope"), 'database "nope" does not exist'),
        ("postgresql+psycopg:/", "--storage"),
        ("mysql://anrc:pw@127.0.0.1/db", "no database driver"),
    ]
    for url, message in cases:
        out = grid.parent / "out"
        assert main(["experiment", str(grid), "--out", str(out), "--storage", url]) == 2
        line = _error_line(capsys)
        assert message in line, line
        assert PASSWORD not in line and "wrong-pw" not in line and "pw@" not in line


def _trials(url: str):
    import optuna

    name = optuna.get_all_study_names(url)[0]
    return optuna.load_study(study_name=name, storage=url).trials


def test_two_workers_survive_a_killed_worker_and_a_database_restart(pg, make_grid, tmp_path):
    """Every run done once, the figures of an uninterrupted grid (bit for bit), though a
    worker was killed outright mid-run (and restarted at once) and the database
    restarted under the other; the report's command names the storage, no password."""
    grid = make_grid(epochs=12)
    alone = tmp_path / "alone"
    assert main(["experiment", str(grid), "--out", str(alone)]) == 0
    out, url = tmp_path / "shared", pg.url(db="postgres")
    first, second = (runner(grid, out, "--storage", url) for _ in range(2))
    wait_for(lambda: any((p / "checkpoint.pt").is_file() for p in (out / "runs").glob("*/seed*")))
    first.send_signal(signal.SIGKILL)  # mid-run: its run gets SIGTERM, checkpoints
    first.wait()
    pg.restart(down=3)
    again = runner(grid, out, "--storage", url)  # the killed worker, restarted at once
    errs = [w.communicate(timeout=600)[1] for w in (second, again)]
    assert [w.returncode for w in (second, again)] == [0, 0], errs
    assert report_rows(out) == report_rows(alone)  # bit for bit
    done = [t for t in _trials(url) if t.state.name == "COMPLETE"]
    keys = sorted(p.relative_to(out).as_posix() for p in (out / "runs").glob("*/seed*"))
    assert sorted(t.params["run"] for t in done) == keys  # each run completed once
    command = (out / "report.md").read_text()
    assert "--storage 'postgresql+psycopg://anrc:***@127.0.0.1" in command
    assert PASSWORD not in command
