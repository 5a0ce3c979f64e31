"""``anrc train`` on real-world files: skip_invalid, refusing a finished run, missing data."""

import subprocess
import sys

from helpers import write

GOOD = [
    ("The <e1>singer</e1> caused a <e2>commotion</e2> .", "Cause-Effect(e1,e2)"),
    ("A <e1>factory</e1> for <e2>cars</e2> was built .", "Product-Producer(e2,e1)"),
    ("The <e1>notes</e1> to the <e2>statements</e2> .", "Other"),
]


def _semeval(rows):
    return "".join(f'{i + 1}\t"{s}"\n{label}\nComment:\n\n' for i, (s, label) in enumerate(rows))


def _train(*args):
    cmd = [sys.executable, "-m", "anrc", "train", "--config", "configs/cnn.toml"]
    cmd += [str(a) for a in args]
    sets = {"data.embeddings": "none", "train.max_epochs": "1", "data.dev_fraction": "0.0"}
    for k, v in sets.items():
        cmd += ["--set", f"{k}={v}"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def _files(tmp_path):
    rows = GOOD * 10
    rows.insert(4, ("An empty <e1></e1> entity and <e2>one</e2> .", "Other"))
    train = write(tmp_path, "train.txt", _semeval(rows))
    test = write(tmp_path, "test.txt", _semeval(GOOD))
    return [f"data.train={train}", f"data.test={test}"], train


def _sets(pairs):
    return [x for p in pairs for x in ("--set", p)]


def test_bad_example_stops_training_with_its_line(tmp_path):
    sets, train = _files(tmp_path)
    r = _train("--out", tmp_path / "run", *_sets(sets))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().startswith(f"{train}:17:") and "empty" in r.stderr


def test_skip_invalid_trains_and_counts(tmp_path):
    sets, train = _files(tmp_path)
    r = _train("--out", tmp_path / "run", "--skip-invalid", *_sets(sets))
    assert r.returncode == 0, r.stderr[-1500:]
    assert f"{train}: skipped 1 invalid example(s) of 31" in r.stderr
    assert f"skipped: {train}:17:" in r.stderr
    assert (tmp_path / "run" / "scores.json").is_file()
    # a finished run is not overwritten without --force
    again = _train("--out", tmp_path / "run", "--skip-invalid", *_sets(sets))
    assert again.returncode == 2 and "--force" in again.stderr
    assert again.stderr.count("\n") == 1
    forced = _train("--out", tmp_path / "run", "--skip-invalid", "--force", *_sets(sets))
    assert forced.returncode == 0


def test_missing_data_says_where_it_comes_from(tmp_path):
    """SemEval's own file names the folder it is read from; any other file the setting
    (tests/training/test_refit.py checks a path read through a variable)."""
    r = _train("--out", tmp_path / "run", "--set", f"data.train={tmp_path / 'TRAIN_FILE.TXT'}")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "ANRC_DATA" in r.stderr and str(tmp_path / "TRAIN_FILE.TXT") in r.stderr
    r = _train("--out", tmp_path / "run", "--set", f"data.train={tmp_path / 'nope.txt'}")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"{tmp_path / 'nope.txt'}: no such file (set data.train" in r.stderr
