"""The experiment runner on a tiny grid: 2 variants x 2 seeds, a few steps each."""

import json

import pytest

from anrc.cli import main
from anrc.experiments.grid import grid_runs, load_grid


def _grid(tmp_path, text: str):
    """Write ``text`` as a grid file and load it: (grid, its path)."""
    p = tmp_path / "g.toml"
    p.write_text(text)
    return load_grid(str(p)), p


GRID = """
description = "tiny test grid"
config = "configs/anrc.toml"
seeds = 2
baseline = "plain"
[set]
"data.train" = "{train}"
"data.test" = "{test}"
"data.train_limit" = 160
"data.embeddings" = "none"
"encoder.hidden" = 8
"train.batch_size" = 32
"train.max_epochs" = 2
[variants.plain]
"adversarial.method" = "none"
[variants.at]
"adversarial.method" = "fgm"
"""


@pytest.fixture
def grid_file(tmp_path, data_dir):
    from anrc.data import read, write_semeval

    test = tmp_path / "test.txt"
    write_semeval(read(data_dir / "TEST_FILE_FULL.TXT").examples[:120], test)
    p = tmp_path / "tiny.toml"
    p.write_text(GRID.format(train=data_dir / "TRAIN_FILE.TXT", test=test))
    return p


def test_tiny_grid_runs_resumes_and_reports(grid_file, tmp_path, capsys):
    out = tmp_path / "exp"
    assert main(["experiment", str(grid_file), "--out", str(out), "--jobs", "2"]) == 0
    err = capsys.readouterr().err
    assert "4 runs, 0 already finished, 4 to run" in err
    for v in ("plain", "at"):
        for s in (1, 2):
            assert (out / "runs" / v / f"seed{s}" / "scores.json").is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["finished"] == 4 and len(summary["rows"]) == 2
    comp = summary["comparisons"][0]
    assert comp["variant"] == "at" and len(comp["delta_test_f1"]) == 2
    assert len(comp["bootstrap_p_per_seed"]) == 2
    report = (out / "report.md").read_text()
    assert "| plain | 2 |" in report and "bars.png" in report
    assert (out / "bars.png").stat().st_size > 1000 and (out / "convergence.png").is_file()
    # A second call finds everything done and redoes nothing.
    assert main(["experiment", str(grid_file), "--out", str(out)]) == 0
    assert "4 already finished, 0 to run" in capsys.readouterr().err
    # Other settings in the same folder are refused.
    assert main(["experiment", str(grid_file), "--out", str(out), "--set", "encoder.hidden=4"]) == 2
    # --report-only rewrites the report from what is there and trains nothing.
    (out / "report.md").unlink()
    ran = json.loads((out / "summary.json").read_text())["command"]
    assert main(["experiment", str(grid_file), "--out", str(out), "--report-only"]) == 0
    assert "| plain | 2 |" in (out / "report.md").read_text()
    assert f"Command: `{ran}`" in (out / "report.md").read_text()  # the one that ran it
    empty = tmp_path / "empty"
    assert main(["experiment", str(grid_file), "--out", str(empty), "--report-only"]) == 2
    assert "no such experiment folder" in capsys.readouterr().err and not empty.exists()


def test_axis_grid_and_validation(tmp_path):
    g, p = _grid(
        tmp_path,
        'config = "configs/anrc.toml"\nseeds = [3]\n[axis]\nsetting = "data.train_limit"\n'
        "values = [10, 20]\n[variants.a]\n",
    )
    runs = grid_runs(g, tmp_path, [])
    assert [r.path.relative_to(tmp_path).as_posix() for r in runs] == [
        "runs/a/train_limit=10/seed3",
        "runs/a/train_limit=20/seed3",
    ]
    assert "data.train_limit=20" in runs[1].overrides
    p.write_text('config = "configs/anrc.toml"\n[variants.a]\n"model.nope" = 1\n')
    with pytest.raises(ValueError, match="unknown setting"):
        load_grid(str(p))


def test_comparisons_against_baseline_variant_and_axis_value(tmp_path):
    from anrc.experiments.report import _references

    g, p = _grid(
        tmp_path,
        'config = "configs/anrc.toml"\nbaseline = "b"\n[axis]\nsetting = "data.train_limit"\n'
        "values = [10, 20, 30]\nbaseline = 20\n[variants.a]\n[variants.b]\n",
    )
    groups = {(v, x): {} for v in "ab" for x in (10, 20)}  # value 30 not finished
    assert sorted(_references(g, groups)) == [
        (("a", 10), ("a", 20)),
        (("a", 10), ("b", 10)),
        (("a", 20), ("b", 20)),
        (("b", 10), ("b", 20)),
    ]
    p.write_text(p.read_text().replace("baseline = 20", "baseline = 40"))
    with pytest.raises(ValueError, match="axis baseline 40 is not one of the values"):
        load_grid(str(p))


def test_several_baselines(tmp_path):
    from anrc.experiments.report import _references

    g, p = _grid(
        tmp_path,
        'config = "configs/anrc.toml"\nbaseline = ["none", "random"]\n'
        "[variants.none]\n[variants.random]\n[variants.fgm]\n",
    )
    groups = {(v, None): {} for v in ("none", "random", "fgm")}
    assert sorted(_references(g, groups)) == [
        (("fgm", None), ("none", None)),
        (("fgm", None), ("random", None)),
        (("random", None), ("none", None)),  # not its mirror
    ]
    p.write_text(p.read_text().replace('"random"]', '"noise"]'))
    with pytest.raises(ValueError, match="baseline 'noise' is not a variant"):
        load_grid(str(p))


def test_an_unquoted_dotted_variant_name_is_a_clear_error(tmp_path):
    p = tmp_path / "g.toml"
    p.write_text('config = "configs/anrc.toml"\n[variants.lr-0.5]\n"train.lr" = 0.5\n')
    with pytest.raises(ValueError, match=r'variant lr-0\.5 is a table.*\[variants\."lr-0\.5"\]'):
        load_grid(str(p))


def test_declared_grids_are_valid():
    from pathlib import Path

    names = [p.stem for p in Path("experiments").glob("*.toml")]
    assert {"table2", "table3", "learning-curve", "convergence", "epsilon", "ablation"} <= set(
        names
    )
    for n in names:
        load_grid(n)


ATTACKS = """
[[attack]]
method = "fgm"
eps = [0.0, 0.5]
limit = 40
[[attack]]
method = "word"
limit = 15
[[attack]]
name = "word-train"
method = "word"
split = "train"
limit = 30
variants = ["at"]
"""

AUGMENT = """
[variants.at-augment]
"adversarial.method" = "fgm"
"data.augment" = "{out}/runs/at/seed{seed}/attack/word-train/augment.jsonl"
"""


def test_grid_attacks_every_model_and_reuses_identical_runs(grid_file, tmp_path, capsys):
    grid_file.write_text(grid_file.read_text() + AUGMENT + ATTACKS)
    out = tmp_path / "exp"
    assert main(["experiment", str(grid_file), "--out", str(out), "--jobs", "2"]) == 0
    # The train-split attack ran on the at runs only; at-augment trained on its output.
    assert (out / "runs/at/seed1/attack/word-train/augment.jsonl").is_file()
    assert not (out / "runs/plain/seed1/attack/word-train").exists()
    cfg = (out / "runs/at-augment/seed2/config.toml").read_text()
    assert f'augment = "{out}/runs/at/seed2/attack/word-train/augment.jsonl"' in cfg
    for v in ("plain", "at", "at-augment"):
        for s in (1, 2):
            fgm = json.loads(
                (out / "runs" / v / f"seed{s}" / "attack/fgm/summary.json").read_text()
            )
            assert [r["epsilon"] for r in fgm["curve"]] == [0.0, 0.5] and fgm["examples"] == 40
            assert (out / "runs" / v / f"seed{s}" / "attack/word/adversarial.jsonl").is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["attacks"]) == {"fgm", "word", "word-train"}
    assert len(summary["attacks"]["word"]["at"]["success_rate"]) == 2
    report = (out / "report.md").read_text()
    assert "## Robustness" in report and "| plain | 2 |" in report
    assert (out / "robustness.png").stat().st_size > 1000
    capsys.readouterr()
    # A second grid with the same configurations (threads included: same --jobs) copies
    # the trained runs instead of training them, then attacks its copies.
    out2 = tmp_path / "exp2"
    args = ["experiment", str(grid_file), "--out", str(out2), "--reuse", str(out), "--jobs", "2"]
    assert main(args) == 0
    # at-augment trains on exp2's own attack output: another path, so not reused.
    assert capsys.readouterr().err.count("reused") == 4
    a, b = out / "runs/at/seed2", out2 / "runs/at/seed2"
    assert (a / "scores.json").read_bytes() == (b / "scores.json").read_bytes()
    # The copy keeps the source's training log, and nothing was trained on top of it.
    assert (a / "run.log").read_bytes() == (b / "run.log").read_bytes()
    assert (b / "reused_from.txt").read_text().strip() == str(a)
    fgm_a, fgm_b = (json.loads((d / "attack/fgm/summary.json").read_text()) for d in (a, b))
    assert fgm_a["curve"] == fgm_b["curve"]
    # A different configuration is not reused.
    out3 = tmp_path / "exp3"
    args = ["experiment", str(grid_file), "--out", str(out3), "--reuse", str(out), "--seeds", "1"]
    assert main([*args, "--set", "encoder.hidden=6"]) == 0
    assert "reused" not in capsys.readouterr().err


def test_robustness_rows_keep_axis_values_apart(tmp_path):
    from anrc.experiments.robustness import robustness_section

    grid, p = _grid(
        tmp_path,
        'config = "configs/anrc.toml"\nseeds = [1]\n[axis]\nsetting = "adversarial.method"\n'
        'values = ["none", "fgm"]\n[variants.a]\n[[attack]]\nmethod = "pgd"\nscale = "relative"\n',
    )
    runs = grid_runs(grid, tmp_path / "out", [])
    for r, f1 in zip(runs, (10.0, 50.0), strict=True):
        r.attack_dir("pgd").mkdir(parents=True)
        curve = [{"epsilon": 0.1, "f1": f1, "accuracy": f1}]
        summary = {"examples": 5, "data": "t.txt", "curve": curve}
        (r.attack_dir("pgd") / "summary.json").write_text(json.dumps(summary))
    lines, summary, _ = robustness_section(grid, runs, tmp_path)
    assert summary["pgd"]["a @ adversarial.method=none"]["0.1"]["f1"] == [10.0]
    assert summary["pgd"]["a @ adversarial.method=fgm"]["0.1"]["f1"] == [50.0]
    assert any("relative" in line for line in lines)


def test_attack_tables_are_validated(tmp_path):
    p = tmp_path / "g.toml"
    p.write_text('config = "configs/anrc.toml"\n[[attack]]\nmethod = "nope"\n')
    with pytest.raises(ValueError, match="attack method"):
        load_grid(str(p))
    p.write_text('config = "configs/anrc.toml"\n[[attack]]\nmethod = "pgd"\nepsilon = [1]\n')
    with pytest.raises(ValueError, match="unknown attack option"):
        load_grid(str(p))


def test_a_run_locked_by_another_runner_is_skipped(grid_file, tmp_path, capsys):
    import fcntl

    out = tmp_path / "exp"
    busy = out / "runs" / "plain" / "seed1"
    busy.mkdir(parents=True)
    with open(busy / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        args = ["experiment", str(grid_file), "--out", str(out), "--seeds", "1"]
        assert main(args) == 1  # the busy run is not finished
    err = capsys.readouterr().err
    assert f"{busy}: busy in another runner; skipped" in err
    assert not (busy / "scores.json").exists()
    assert (out / "runs" / "at" / "seed1" / "scores.json").is_file()


def test_only_runs_the_matching_runs_and_leaves_the_rest(grid_file, tmp_path, capsys):
    out = tmp_path / "exp"
    args = ["experiment", str(grid_file), "--out", str(out), "--seeds", "1"]
    assert main([*args, "--only", "at/*"]) == 1  # plain/seed1 is left for later
    assert "0 already finished, 1 to run, 1 at a time (1 left out by --only)" in (
        capsys.readouterr().err
    )
    assert (out / "runs" / "at" / "seed1" / "scores.json").is_file()
    assert not (out / "runs" / "plain" / "seed1").exists()
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["finished"], summary["runs"]) == (1, 2)
    assert main([*args, "--only", "nothing/*"]) == 1  # matches no run: trains nothing
    assert "0 to run, 1 at a time (1 left out by --only)" in capsys.readouterr().err
    status = [*args, "--status", "--only", "at/*"]
    assert main(status) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "tiny: 1 of 2 runs finished"
    assert "  plain/seed1: waiting (left out by --only)" in lines
    assert any(ln.startswith("  at/seed1: finished: dev F1 ") for ln in lines)
    assert main(args) == 0  # without --only the rest runs
    assert "1 already finished, 1 to run, 1 at a time\n" in capsys.readouterr().err
    assert main([*args, "--status"]) == 0
    assert ": 2 of 2 runs finished" in capsys.readouterr().out
    assert main(["experiment", str(grid_file), "--out", str(tmp_path / "no"), "--status"]) == 2


def test_store_probabilities_keeps_every_runs_answers_in_the_archive(grid_file, tmp_path, capsys):
    import tarfile

    from anrc.inference.stored import STORED

    out = tmp_path / "exp"
    args = ["experiment", str(grid_file), "--out", str(out), "--seeds", "1"]
    assert main([*args, "--only", "plain/*"]) == 1  # finished before the flag was given
    assert not (out / "runs" / "plain" / "seed1" / STORED).exists()
    assert main([*args, "--store-probabilities"]) == 0
    err = capsys.readouterr().err
    for variant in ("plain", "at"):  # the earlier run stored first, the new one after training
        assert f"{out / 'runs' / variant / 'seed1'}: its probabilities stored" in err
        assert (out / "runs" / variant / "seed1" / STORED).stat().st_size > 1000
    with tarfile.open(out / "runs.tar.xz") as tar:
        names = tar.getnames()
    assert f"runs/plain/seed1/{STORED}" in names and f"runs/at/seed1/{STORED}" in names


def test_status_tells_a_stopped_run_from_a_running_one(tmp_path):
    import fcntl

    from anrc.experiments.grid import GridRun
    from anrc.experiments.status import run_state

    run = GridRun("v", None, 1, [], tmp_path / "v" / "seed1")
    assert run_state(run) == "waiting"
    run.path.mkdir(parents=True)
    (run.path / "run.log").write_text("train 10\nepoch   1 [  5/10] loss 2.1  3 ex/s\nstopped\n")
    (run.path / "checkpoint.pt").write_bytes(b"x")
    assert run_state(run) == (
        "stopped at a checkpoint (resumes on the next call): epoch 1 [ 5/10] loss 2.1 3 ex/s"
    )
    with open(run.path / ".lock", "w") as lock:  # a runner training it holds this
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert run_state(run).startswith("running now: epoch 1 [ 5/10]")
    assert run_state(run).startswith("stopped at a checkpoint")


def test_a_run_that_named_its_data_by_another_path_is_reused(tmp_path, capsys):
    """A run trained by an older release recorded its data files' paths absolute; the
    same files named relatively are the same configuration (the base grid's seed 1,
    declared as reused from its selection stage, was trained again)."""
    import os
    import sys

    from anrc.experiments.runner import _reuse, comparable

    data = tmp_path / "train.txt"
    data.write_text("x")
    old = tmp_path / "old"
    old.mkdir()
    (old / "scores.json").write_text("{}")
    have = {"data": {"train": str(data), "test": ""}, "train": {"seed": 1}}
    want = {"data": {"train": os.path.relpath(data), "test": ""}, "train": {"seed": 1}}
    assert have != want and comparable(have) == comparable(want)
    assert _reuse(tmp_path / "new", want, [(have, old)], sys.stderr)
    assert (tmp_path / "new" / "reused_from.txt").read_text().strip() == str(old)
    other = tmp_path / "other.txt"
    other.write_text("y")
    elsewhere = {"data": {"train": str(other), "test": ""}, "train": {"seed": 1}}
    assert not _reuse(tmp_path / "third", elsewhere, [(have, old)], sys.stderr)
    missing = {"data": {"train": "no/such/file", "test": ""}}
    assert comparable(missing) == missing  # a file not here is compared as written


def test_a_variant_may_name_its_own_config(tmp_path):
    p = tmp_path / "enc.toml"
    p.write_text(
        'config = "configs/anrc.toml"\nseeds = 1\n'
        '[variants.paper]\n"adversarial.method" = "none"\n'
        '[variants.cnn]\nconfig = "configs/cnn.toml"\n'
    )
    runs = {r.variant: r for r in grid_runs(load_grid(str(p)), tmp_path / "out", [])}
    assert runs["paper"].config == "configs/anrc.toml"
    assert runs["cnn"].config == "configs/cnn.toml"
    assert not any(o.startswith("config=") for o in runs["cnn"].overrides)
    p.write_text('config = "configs/anrc.toml"\n[variants.x]\nconfig = "configs/nope.toml"\n')
    with pytest.raises(ValueError, match="no such config configs/nope.toml"):
        load_grid(str(p))


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT"])
def test_stopping_the_runner_stops_its_runs(tmp_path, sig):
    """SIGTERM or Ctrl-C to a grid runner terminates the run it waits on and starts no other."""
    import os
    import signal
    import subprocess
    import sys
    import time

    pidfile, second = tmp_path / "child.pid", tmp_path / "second"
    child = f"import os, time; open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    # As in run_grid: the runs queued in a thread pool, the signal arriving in the main thread.
    runner = f"""
import sys
from concurrent.futures import ThreadPoolExecutor
from anrc.experiments.runner import CHILDREN, _stop_children_on_signal
codes = [{child!r}, "open({str(second)!r}, 'w')"]
with _stop_children_on_signal(), ThreadPoolExecutor(max_workers=1) as pool:
    list(pool.map(lambda code: CHILDREN.call([sys.executable, "-c", code], None), codes))
"""
    proc = subprocess.Popen([sys.executable, "-c", runner])
    deadline = time.monotonic() + 30
    while not (pidfile.exists() and pidfile.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    child_pid = int(pidfile.read_text())
    proc.send_signal(getattr(signal, sig))
    rc = proc.wait(timeout=20)
    assert rc == (128 + signal.SIGTERM if sig == "SIGTERM" else -signal.SIGINT)
    for _ in range(100):  # the child is gone (terminated, then reaped)
        try:
            os.kill(child_pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the run the runner was waiting on is still alive")
    assert not second.exists()


def test_loss_ratio_against_the_baseline_pairs_seeds(tmp_path):
    from anrc.experiments.robustness import loss_ratios, robustness_section

    grid, _ = _grid(
        tmp_path,
        'config = "configs/anrc.toml"\nseeds = [1, 2]\nbaseline = "none"\n[variants.none]\n'
        '[variants.at]\n[[attack]]\nmethod = "pgd"\n',
    )
    # seed -> (F1 at eps 0, at 0.1, at 0.2); the baseline loses nothing at 0.1 on seed 2.
    f1 = {
        ("none", 1): (80.0, 40.0, 0.0),
        ("none", 2): (70.0, 70.0, 10.0),
        ("at", 1): (76.0, 66.0, 36.0),
        ("at", 2): (60.0, 50.0, 30.0),
    }
    runs = grid_runs(grid, tmp_path / "out", [])
    for r in runs:
        curve = [
            {"epsilon": e, "f1": f, "accuracy": f}
            for e, f in zip((0.0, 0.1, 0.2), f1[r.variant, r.seed], strict=True)
        ]
        r.attack_dir("pgd").mkdir(parents=True)
        summary = {"examples": 5, "data": "t.txt", "curve": curve}
        (r.attack_dir("pgd") / "summary.json").write_text(json.dumps(summary))
    lines, _, _ = robustness_section(grid, runs, tmp_path)
    row = [line for line in lines if line.startswith("| at |")][-1]  # after the F1 table
    # seed 1: 10/40 at 0.1, 40/80 at 0.2; seed 2: undefined at 0.1, 30/60 at 0.2.
    assert row == "| at | 0.25 (0.25, –) | 0.50 (0.50, 0.50) |"
    per_seed = {1: {"curve": [{"epsilon": 0.0, "f1": 5.0}, {"epsilon": 0.2, "f1": 5.0}]}}
    assert loss_ratios(per_seed, per_seed) == {0.2: [None]}


def test_a_report_says_which_corpus_its_figures_score(tmp_path):
    """SemEval's official score by name; another corpus's figures name its test file and
    negative class (the same scorer, relation types macro-averaged)."""
    from anrc.experiments.grid import GridRun
    from anrc.experiments.report import _metric

    def run(folder, data):
        folder.mkdir()
        (folder / "config.toml").write_text(data)
        (folder / "scores.json").write_text("{}")
        return GridRun("v", None, 1, [], folder)

    semeval = run(tmp_path / "a", '[data]\ntest = "../shared/data/semeval2010_task8/T.TXT"\n')
    kbp = run(tmp_path / "b", '[data]\ntest = "${KBP37}/test.txt"\nnegative = "no_relation"\n')
    assert _metric([semeval]) == "Official SemEval-2010 Task 8 macro-F1"
    line = _metric([kbp])
    assert "`${KBP37}/test.txt`" in line and "`no_relation` left out" in line
