"""The experiment runner on a tiny grid: 2 variants x 2 seeds, a few steps each."""

import json

import pytest

from anrc.cli import main
from anrc.experiment import grid_runs, load_grid

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
"model.hidden" = 8
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
    assert main(["experiment", str(grid_file), "--out", str(out), "--set", "model.hidden=4"]) == 2


def test_axis_grid_and_validation(tmp_path):
    p = tmp_path / "g.toml"
    p.write_text(
        'config = "configs/anrc.toml"\nseeds = [3]\n[axis]\nsetting = "data.train_limit"\n'
        "values = [10, 20]\n[variants.a]\n"
    )
    g = load_grid(str(p))
    runs = grid_runs(g, tmp_path, [])
    assert [r.path.relative_to(tmp_path).as_posix() for r in runs] == [
        "runs/a/train_limit=10/seed3",
        "runs/a/train_limit=20/seed3",
    ]
    assert "data.train_limit=20" in runs[1].overrides
    p.write_text('config = "x"\n[variants.a]\n"model.nope" = 1\n')
    with pytest.raises(ValueError, match="unknown setting"):
        load_grid(str(p))


def test_declared_grids_are_valid():
    from pathlib import Path

    names = [p.stem for p in Path("experiments").glob("*.toml")]
    assert {"table2", "table3", "learning-curve", "convergence", "epsilon", "ablation"} <= set(
        names
    )
    for n in names:
        load_grid(n)
