"""The grid runner on its engine (an Optuna study in SQLite beside the runs): a runner
killed outright resumes to the same report, two workers share one grid, a deadline
stops cleanly, and dev chooses a setting per variant ([select]) and what to ensemble."""

import json
import os
import signal
import subprocess
import sys

import optuna
import pytest
from grids import report_rows, run_logs, runner, wait_for

from anrc.cli import main


def test_a_killed_runner_resumes_to_the_same_report(make_grid, tmp_path):
    grid = make_grid(epochs=8)
    alone = tmp_path / "alone"
    assert main(["experiment", str(grid), "--out", str(alone), "--seeds", "1"]) == 0
    out = tmp_path / "killed"
    proc = runner(grid, out, "--seeds", "1")
    running = [out / "runs" / v / "seed1" for v in ("plain", "at")]
    wait_for(lambda: any((r / "checkpoint.pt").is_file() and not (r / "scores.json").is_file()
                      for r in running))  # fmt: skip
    proc.send_signal(signal.SIGKILL)  # no clean-up: its run gets SIGTERM as it dies
    proc.wait()
    assert not all((r / "scores.json").is_file() for r in running)
    assert (
        main(["experiment", str(grid), "--out", str(out), "--seeds", "1", "--heartbeat", "1"]) == 0
    )
    assert any("resuming at epoch" in log for log in run_logs(out).values())
    assert report_rows(out) == report_rows(alone)  # bit for bit, as if never killed


def test_two_workers_share_one_grid(make_grid, tmp_path):
    import optuna

    grid, out = make_grid(epochs=3), tmp_path / "shared"
    workers = [runner(grid, out), runner(grid, out)]
    errs = [w.communicate(timeout=300)[1] for w in workers]
    assert [w.returncode for w in workers] == [0, 0], errs
    logs = run_logs(out)
    assert len(logs) == 4
    for log in logs.values():  # each run trained once, by one worker
        assert sum(line.startswith("train ") for line in log.splitlines()) == 1
    study = optuna.load_study(
        study_name=optuna.get_all_study_names(f"sqlite:///{out / 'optuna.db'}")[0],
        storage=f"sqlite:///{out / 'optuna.db'}",
    )
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert sorted(t.params["run"] for t in complete) == sorted(logs)
    assert len({t.user_attrs["worker"] for t in complete}) == 2  # both took runs
    for t in complete:  # the recorded value is the run's dev F1
        run = out / t.params["run"]
        summary = json.loads((run / "scores.json").read_text())["summary"]
        assert t.value == pytest.approx(summary["dev_f1"])


def test_a_deadline_stops_cleanly_and_the_grid_resumes(make_grid, tmp_path, capsys):
    # Far more epochs than any machine trains before the deadline, so no run can
    # finish first (a grid of 100 epochs once finished inside 8 s on a fast machine).
    grid, out = make_grid(epochs=100_000), tmp_path / "late"
    args = ["experiment", str(grid), "--out", str(out), "--seeds", "1", "--jobs", "2"]
    assert main([*args, "--deadline", "8"]) == 1  # not finished
    err = capsys.readouterr().err
    assert "deadline of 8 s reached" in err
    assert (out / "report.md").is_file()
    runs = sorted((out / "runs").glob("*/seed1"))
    assert len(runs) == 2 and not any((p / "scores.json").exists() for p in runs)
    stopped = [p for p in runs if (p / "checkpoint.pt").is_file()]
    assert stopped  # stopped mid-training, with a checkpoint to resume from
    for p in stopped:  # and the log says so, not that it failed
        assert f"{p}: stopped at its checkpoint" in err
    assert "failed (exit" not in err
    assert main([*args, "--deadline", "8", "--heartbeat", "1"]) == 1  # resumed, stopped again
    logs = run_logs(out)
    assert all("resuming at epoch" in logs[p.relative_to(out).as_posix()] for p in stopped)


SELECT = """
ensemble = true
[select]
setting = "adversarial.epsilon"
values = [0.1, 3.0]
seeds = [1]
variants = ["at"]
"""


def test_dev_chooses_each_variants_setting_then_the_ensemble(make_grid, tmp_path, capsys):
    grid = make_grid(extra=SELECT)
    grid.write_text(grid.read_text().replace('"adversarial.epsilon" = 1.0\n', ""))
    out = tmp_path / "sel"
    assert main(["experiment", str(grid), "--out", str(out)]) == 0
    assert "reused" in capsys.readouterr().err  # the chosen value's seed-1 run
    dev = {}
    for eps in ("0.1", "3.0"):
        scores = out / "select/runs/at" / f"epsilon={eps}" / "seed1/scores.json"
        dev[eps] = json.loads(scores.read_text())["summary"]["dev_f1"]
    best = max(dev, key=lambda e: (dev[e], e == "0.1"))  # a tie: the value listed first
    choice = json.loads((out / "select/choice.json").read_text())["choice"]
    assert str(choice["at"]["value"]) == best and set(choice) == {"at"}
    assert f"epsilon = {float(best)!r}" in (out / "runs/at/seed2/config.toml").read_text()
    assert "## Chosen on dev" in (out / "report.md").read_text()
    rows = {r["variant"]: r for r in json.loads((out / "summary.json").read_text())["rows"]}
    pick = max(rows, key=lambda v: rows[v]["dev_f1"]["mean"])
    ens = json.loads((out / "ensembles" / pick / "scores.json").read_text())
    report = (out / "report.md").read_text()  # the report shows the ensemble
    assert "## Dev's pick ensembled" in report
    assert f"| {pick} | 2 | {ens['test']['f1']:.2f} |" in report
    assert not (out / "ensembles" / ({"at", "plain"} - {pick}).pop()).exists()


def test_select_is_validated(tmp_path):
    from anrc.experiments.grid import load_grid

    p = tmp_path / "g.toml"
    p.write_text('config = "configs/cnn.toml"\n[variants.a]\n[select]\nsetting = "train.lr"\n')
    with pytest.raises(ValueError, match=r"\[select\] takes setting and values"):
        load_grid(str(p))
    p.write_text(
        'config = "configs/cnn.toml"\n[variants.a]\n[select]\nsetting = "train.lr"\n'
        'values = [0.1]\nvariants = ["b"]\n'
    )
    with pytest.raises(ValueError, match="names a variant"):
        load_grid(str(p))


def test_runs_die_with_their_runner(tmp_path):
    """A run started by a runner gets SIGTERM when the runner is killed outright."""
    pidfile = tmp_path / "child.pid"
    child = f"import os, time; open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    code = (
        "import sys; from anrc.experiments.runner import CHILDREN; "
        f"CHILDREN.call([sys.executable, '-c', {child!r}], None)"
    )
    runner = subprocess.Popen([sys.executable, "-c", code])
    wait_for(lambda: pidfile.exists() and pidfile.read_text())
    runner.send_signal(signal.SIGKILL)
    runner.wait()
    pid = int(pidfile.read_text())

    def gone():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False

    wait_for(gone, 20)


AMONG = """
refit = true
[select]
among = "variants"
seeds = [1]
"""


def test_dev_chooses_a_variant_then_its_refit_reuses_its_runs(make_grid, tmp_path, capsys):
    grid, out = make_grid(extra=AMONG), tmp_path / "among"
    grid.write_text(grid.read_text().replace('baseline = "plain"\n', ""))
    assert main(["experiment", str(grid), "--out", str(out)]) == 0
    choice = json.loads((out / "select/choice.json").read_text())["choice"]
    dev = {v: json.loads((out / f"select/runs/{v}/seed1/scores.json").read_text())["summary"]
           ["dev_f1"] for v in ("plain", "at")}  # fmt: skip
    pick = max(("plain", "at"), key=lambda v: dev[v])  # a tie: the one declared first
    assert choice["variant"] == pick
    variants = {p.name for p in (out / "runs").iterdir()}
    assert variants == {pick, f"{pick}-refit"}  # only dev's pick, and its refit
    for seed in (1, 2):
        refit = out / "runs" / f"{pick}-refit" / f"seed{seed}"
        summary = json.loads((refit / "scores.json").read_text())["summary"]
        assert summary["dev_examples"] == 0 and "selection" in summary
        # its selection pass is the grid's own run of the variant, copied, not retrained
        source = (refit / "selection" / "reused_from.txt").read_text().strip()
        assert source.endswith(f"runs/{pick}/seed{seed}")
    report = (out / "report.md").read_text()
    assert f"The variant **{pick}**" in report and f"| {pick}-refit | 2 |" in report


def test_workers_taking_at_once_never_share_a_run(tmp_path):
    """SQLite ignores Optuna's row locks: without the queue's own lock, two threads can
    both move one waiting trial to running (a run then trained by one worker, "failed"
    by the other while it trains)."""
    import threading

    from anrc.experiments.engine import GridStudy
    from anrc.experiments.grid import GridRun

    runs = [GridRun("v", None, s, [], tmp_path / "runs" / "v" / f"seed{s}") for s in range(40)]
    study = GridStudy("race", runs, tmp_path, f"sqlite:///{tmp_path / 'q.db'}", heartbeat=60)
    assert study.queue(lambda r: True) == 40
    start, taken, lock = threading.Barrier(8), [], threading.Lock()

    def take_all() -> None:
        start.wait()
        while (got := study.take()) is not None:
            with lock:
                taken.append(got[0]._trial_id)

    threads = [threading.Thread(target=take_all) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(taken) == sorted(set(taken)) and len(taken) == 40


def test_a_run_finishing_after_its_trial_went_stale_is_no_error(tmp_path):
    from anrc.experiments.engine import GridStudy
    from anrc.experiments.grid import GridRun

    run = GridRun("v", None, 1, [], tmp_path / "runs" / "v" / "seed1")
    study = GridStudy("stale", [run], tmp_path, f"sqlite:///{tmp_path / 'q.db'}", heartbeat=60)
    study.queue(lambda r: True)
    trial, _ = study.take()
    state = optuna.trial.TrialState
    study.storage.set_trial_state_values(trial._trial_id, state.FAIL)  # as fail_stale_trials
    run.path.mkdir(parents=True)
    (run.path / "scores.json").write_text("{}")
    study.finish(trial, run, 80.0)  # the folder is the record; the trial stays failed
    assert study.study.trials[0].state == state.FAIL


def _study(make_grid, tmp_path, heartbeat=60):
    from anrc.experiments.engine import GridStudy, default_storage
    from anrc.experiments.grid import grid_runs, load_grid

    out = tmp_path / "out"
    runs = grid_runs(load_grid(str(make_grid())), out, [])
    return GridStudy("s", runs, out, default_storage(out), heartbeat), runs


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_a_dead_workers_run_on_this_machine_is_taken_up_at_once(make_grid, tmp_path):
    """A worker restarted at once does not wait out the heartbeat's grace period (3 x 60
    s here) for its own dead predecessor's run; a run that finished before its worker
    died is recorded complete, not left running."""
    import socket

    study, runs = _study(make_grid, tmp_path)
    study.queue(lambda r: True)
    states = {}
    for finished in (False, True):
        trial, run = study.take()
        trial.set_user_attr("worker", f"{socket.gethostname()}:{_dead_pid()}")
        if finished:
            run.path.mkdir(parents=True, exist_ok=True)
            (run.path / "scores.json").write_text(json.dumps({"summary": {"dev_f1": 42.0}}))
        states[finished] = (trial.number, run)
    study.queue(lambda r: r.pending)
    trials = {t.number: t for t in study.study.trials}
    assert trials[states[False][0]].state.name == "FAIL"
    done = trials[states[True][0]]
    assert done.state.name == "COMPLETE" and done.value == 42.0
    waiting = [t for t in study.study.trials if t.state.name == "WAITING"]
    assert study.key(states[False][1]) in {t.system_attrs["fixed_params"]["run"] for t in waiting}


def test_a_database_out_of_reach_is_retried_then_one_line(make_grid, tmp_path, capsys):
    import sqlalchemy.exc

    from anrc.errors import AnrcInputError

    study, _ = _study(make_grid, tmp_path)
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("server closed"))
        return "ok"

    study.patience = 60
    assert study.retrying("testing", flaky) == "ok" and len(calls) == 3
    assert "database out of reach (server closed); retrying" in capsys.readouterr().err
    study.patience = 0.5

    def gone():
        raise sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("gone for good"))

    with pytest.raises(AnrcInputError, match=r"out of reach for 0.5 s while testing \(gone"):
        study.retrying("testing", gone)

    def mistake():
        raise ValueError("not the database's fault")

    with pytest.raises(ValueError, match="not the database"):  # not retried
        study.retrying("testing", mistake)


@pytest.mark.parametrize(
    "text, message",
    [
        ("[variants.a]\n", "no config = "),
        ('config = "configs/cnn.toml"\nseeds = "two"\n', "seeds = 'two': a number of seeds"),
        ('config = "configs/cnn.toml"\nseed = 2\n', "unknown key 'seed' (did you mean seeds?)"),
    ],
)
def test_a_grid_files_mistake_is_one_line(tmp_path, text, message, capsys):
    p = tmp_path / "g.toml"
    p.write_text(text)
    assert main(["experiment", str(p), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith(f"{p}: ") and message in err, err
