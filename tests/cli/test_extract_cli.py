"""``anrc extract``: raw text in, JSON lines out; bad lines as error records, the rest
kept; resumable; options checked in one line."""

import json

import pytest
from helpers import nan_scores, tiny, word_dim

from anrc.cli import main
from anrc.models.trained import TrainedModel


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("extract-model")
    model, feat, labels, _, cfg = tiny("cnn")
    TrainedModel(cfg, model, feat, labels, word_dim(cfg)).save(folder)
    return str(folder)


def test_bad_lines_are_error_records_and_the_good_ones_are_kept(model_dir, tmp_path, capsys):
    inp = tmp_path / "in.txt"
    inp.write_bytes(
        b"The singer caused a commotion. Heavy rain flooded the streets.\n\n"
        b'{"text": "A bomb exploded near the market.", "id": "doc-7"}\n'
        b'{"text": 5}\n{"broken\n\xff\xfe bad bytes\n'
        b'{"text": "lone \\ud800 surrogate"}\nPlain words again here.\n'
    )
    out = tmp_path / "out.jsonl"
    rc = main(["extract", model_dir, "--input", str(inp), "--out", str(out), "--form", "fp32"])
    recs = [json.loads(x) for x in out.read_text().splitlines()]
    assert rc == 1
    assert [r["line"] for r in recs] == [1, 3, 4, 5, 6, 7, 8]
    assert [("error" in r) for r in recs] == [False, False, True, True, True, True, False]
    assert recs[1]["id"] == "doc-7" and len(recs[0]["sentences"]) == 2
    text = "The singer caused a commotion. Heavy rain flooded the streets."
    for rel in recs[0]["relations"]:
        for m in (rel["e1"], rel["e2"]):
            assert text[m["start"] : m["end"]] == m["text"]
    err = capsys.readouterr().err
    assert f"{inp}:4: " in err and "U+D800" in err and "not UTF-8" in err


def test_resume_goes_on_after_the_lines_already_written(model_dir, tmp_path):
    inp = tmp_path / "in.txt"
    inp.write_text("One singer sang loudly.\nTwo dogs barked today.\nThree cats slept.\n")
    out = tmp_path / "out.jsonl"
    out.write_text('{"line": 1, "id": "1"}\n{"line": 2, "id"')  # a torn second record
    assert main(["extract", model_dir, "--input", str(inp), "--out", str(out), "--resume"]) == 0
    assert [json.loads(x)["line"] for x in out.read_text().splitlines()] == [1, 2, 3]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--threshold", "1.5"], "--threshold is a probability"),
        (["--window", "-1"], "--window must be"),
        (["--resume"], "--resume needs --out"),
    ],
)
def test_options_are_checked_in_one_line(model_dir, args, says, capsys):
    assert main(["extract", model_dir, *args]) != 0
    err = capsys.readouterr().err.strip()
    assert says in err and len(err.splitlines()) == 1


def test_decoding_and_threshold_change_what_is_written(model_dir, tmp_path, monkeypatch, capsys):
    inp = tmp_path / "in.txt"
    inp.write_text("The singer caused a commotion in the big hall.\n")
    counts = []
    # the model's default decoding (trained without negatives): sentence
    for extra in (["--threshold", "0", "--decoding", "pair"], ["--threshold", "0"],
                  ["--threshold", "1"]):  # fmt: skip
        main(["extract", model_dir, "--input", str(inp), *extra])
        counts.append(len(json.loads(capsys.readouterr().out)["relations"]))
    assert counts[0] > counts[1] == 1 and counts[2] == 0


def test_a_sentence_answered_with_nan_is_an_error_record(model_dir, tmp_path, monkeypatch, capsys):
    """Scores that are not numbers never reach the output (not valid JSON): that line
    is an error record saying so, and the other lines are answered."""
    nan_scores(monkeypatch, "rain")
    inp = tmp_path / "in.txt"
    inp.write_text("The singer caused a commotion.\nHeavy rain flooded the streets.\nOne dog.\n")
    out = tmp_path / "out.jsonl"
    args = ["extract", model_dir, "--input", str(inp), "--out", str(out), "--threshold", "0"]
    assert main(args) == 1
    recs = [json.loads(x) for x in out.read_text().splitlines()]
    assert [("error" in r) for r in recs] == [False, True, False]
    assert recs[1]["error"] == "the model gave scores that are not numbers for this sentence"
