"""The command line: score, data stats, data convert; errors are one line, exit 2."""

import json
import subprocess
import sys

from helpers import write

from anrc.cli import main


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "anrc", *map(str, args)], capture_output=True, text=True
    )


def test_score_prints_official_line(data_dir):
    v = data_dir / "scorer_vectors"
    r = run("score", v / "proposed_answer1.txt", v / "answer_key1.txt")
    assert r.returncode == 0
    assert r.stdout.splitlines()[-1] == (
        "<<< The official score is (9+1)-way evaluation with directionality taken into "
        "account: macro-averaged F1 = 64.09% >>>"
    )


def test_score_json(data_dir, capsys):
    v = data_dir / "scorer_vectors"
    assert (
        main(["score", str(v / "proposed_answer2.txt"), str(v / "answer_key2.txt"), "--json"]) == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert round(out["official_macro_f1"], 2) == 6.35
    assert out["official"]["skipped"]["Other"] == 14


def test_score_unknown_id_is_an_error(tmp_path, capsys):
    key = write(tmp_path, "key.txt", "1\tOther\n2\tOther\n")
    pred = write(tmp_path, "pred.txt", "1\tOther\n7\tOther\n")
    assert main(["score", str(pred), str(key)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"{pred}:2: prediction id '7'")
    assert "\n" not in err and "Traceback" not in err


def test_score_bad_line(tmp_path, capsys):
    key = write(tmp_path, "key.txt", "1\tOther\n")
    pred = write(tmp_path, "pred.txt", "1 Other\n")
    assert main(["score", str(pred), str(key)]) == 2
    assert capsys.readouterr().err.startswith(f"{pred}:1: expected 'ID<TAB>LABEL'")


def test_stats(data_dir):
    r = run("data", "stats", data_dir / "TRAIN_FILE.TXT", "--json")
    assert r.returncode == 0
    stats = json.loads(r.stdout)
    assert stats["examples"] == 8000 and stats["relations"]["Other"] == 1410


def test_convert_round_trip(tmp_path, data_dir, capsys):
    out = tmp_path / "train.jsonl"
    assert main(["data", "convert", str(data_dir / "TRAIN_FILE.TXT"), str(out)]) == 0
    assert len(out.read_text().splitlines()) == 8000
    back = tmp_path / "train.txt"
    assert main(["data", "convert", str(out), str(back)]) == 0
    assert main(["data", "stats", str(back), "--json"]) == 0


def test_bad_file_exit_2_no_traceback(tmp_path):
    p = write(tmp_path, "bad.txt", '1\t"no tags here"\nOther\n')
    r = run("data", "stats", p)
    assert r.returncode == 2
    assert r.stderr.strip() == f"{p}:1: entity tag <e1> is missing"
    r = run("data", "stats", p, "--skip-invalid")
    assert r.returncode == 0 and "skipped 1 invalid" in r.stderr


def test_missing_files_are_one_line_errors(tmp_path):
    r = run("predict", tmp_path, "--input", tmp_path / "missing.txt")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    r = run("train", "--config", tmp_path / "missing.toml", "--out", tmp_path / "o")
    assert r.returncode == 2 and r.stderr.strip().startswith(str(tmp_path / "missing.toml"))
