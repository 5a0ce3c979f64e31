"""A grid's archive: what it keeps, byte-for-byte stability, and a report rebuilt from it
alone (a fresh clone has no run folders)."""

import json
import shutil
import tarfile

from anrc.cli import main
from anrc.experiments.archive import ARCHIVE, members, pack, restore_run, unpack


def _run(folder, with_attack=True):
    folder.mkdir(parents=True)
    for name in ("config.toml", "scores.json", "metrics.jsonl", "test_predictions.txt",
                 "run.log", "model.safetensors", "checkpoint.pt", "vocab.json"):  # fmt: skip
        (folder / name).write_text(f"{name} of {folder.name}\n")
    if with_attack:
        (folder / "attack/pgd").mkdir(parents=True)
        for name in ("summary.json", "report.md", "attack.log", "adversarial.jsonl"):
            (folder / "attack/pgd" / name).write_text(name)


def test_the_archive_keeps_what_a_rescorer_needs_and_is_stable(tmp_path):
    out = tmp_path / "grid"
    _run(out / "runs/a/seed1")
    _run(out / "runs/b/seed1", with_attack=False)
    first = pack(out).read_bytes()
    with tarfile.open(out / ARCHIVE) as tar:
        names = tar.getnames()
    assert "runs/a/seed1/test_predictions.txt" in names
    assert "runs/a/seed1/attack/pgd/summary.json" in names
    assert not [n for n in names if n.endswith(("run.log", ".safetensors", ".pt", "vocab.json",
                                                 "attack.log", "adversarial.jsonl"))]  # fmt: skip
    assert pack(out).read_bytes() == first  # no times or owners inside
    assert [m for m, _ in members(out / ARCHIVE)] == [
        "runs/a/seed1/test_predictions.txt",
        "runs/b/seed1/test_predictions.txt",
    ]
    shutil.rmtree(out / "runs")
    assert unpack(out) and not unpack(out)  # only when the runs are absent
    assert (out / "runs/b/seed1/scores.json").read_text() == "scores.json of seed1\n"


def _tiny_grid(tmp_path, data_dir):
    """test_experiment's tiny grid over 100 test sentences, and its output folder."""
    from test_experiment import GRID

    from anrc.data import read, write_semeval

    test = tmp_path / "test.txt"
    write_semeval(read(data_dir / "TEST_FILE_FULL.TXT").examples[:100], test)
    grid = tmp_path / "tiny.toml"
    grid.write_text(GRID.format(train=data_dir / "TRAIN_FILE.TXT", test=test))
    return grid, tmp_path / "exp"


def test_a_report_is_rebuilt_from_the_archive_alone(tmp_path, data_dir, capsys):
    grid, out = _tiny_grid(tmp_path, data_dir)
    assert main(["experiment", str(grid), "--out", str(out), "--seeds", "1"]) == 0
    rows = json.loads((out / "summary.json").read_text())["rows"]
    shutil.rmtree(out / "runs")
    (out / "summary.json").unlink()
    assert main(["experiment", str(grid), "--out", str(out), "--seeds", "1", "--report-only"]) == 0
    assert f"unpacked {ARCHIVE}" in capsys.readouterr().err
    assert json.loads((out / "summary.json").read_text())["rows"] == rows


def test_a_resumed_grid_trains_nothing_its_archive_holds(tmp_path, data_dir, capsys):
    """A fresh clone has the archive and no run folders: the runner unpacks it and trains
    only the runs the archive does not finish (it once trained them all again)."""
    grid, out = _tiny_grid(tmp_path, data_dir)
    assert main(["experiment", str(grid), "--out", str(out), "--seeds", "1"]) == 0
    scores = (out / "runs/plain/seed1/scores.json").read_bytes()
    shutil.rmtree(out / "runs")
    capsys.readouterr()
    assert main(["experiment", str(grid), "--out", str(out), "--seeds", "2"]) == 0
    err = capsys.readouterr().err
    assert f"unpacked {ARCHIVE}" in err
    assert "4 runs, 2 already finished, 2 to run" in err
    assert (out / "runs/plain/seed1/scores.json").read_bytes() == scores  # not retrained
    assert (out / "runs/at/seed2/scores.json").is_file()


def test_one_run_comes_back_from_its_grids_archive(tmp_path):
    out = tmp_path / "grid"
    _run(out / "runs/a/seed1", with_attack=False)
    _run(out / "runs/a/seed10", with_attack=False)
    pack(out)
    shutil.rmtree(out / "runs")
    assert restore_run(out / "runs/a/seed1")
    assert sorted(p.name for p in (out / "runs/a").iterdir()) == ["seed1"]  # not seed10
    assert (out / "runs/a/seed1/scores.json").read_text() == "scores.json of seed1\n"
    assert not restore_run(out / "runs/a/seed1")  # there already
    assert not restore_run(out / "runs/b/seed1")  # not in the archive
    assert not restore_run(tmp_path / "elsewhere/seed1")  # no archive above it


def test_a_reuse_folder_kept_as_an_archive_is_reused(tmp_path):
    """--reuse names a committed grid: on a fresh clone its runs are in its archive alone."""
    from anrc.builder import load_config
    from anrc.config import to_toml
    from anrc.experiments.runner import reusable_runs

    out = tmp_path / "grid"
    _run(out / "runs/a/seed1", with_attack=False)
    cfg = load_config("configs/anrc.toml", ["train.seed=1"])
    (out / "runs/a/seed1/config.toml").write_text(to_toml(cfg))
    pack(out)
    shutil.rmtree(out / "runs")
    [(have, folder)] = reusable_runs([out])
    assert have == cfg.to_dict() and folder == out / "runs/a/seed1"
