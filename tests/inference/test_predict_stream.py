"""Streaming prediction: bad lines, bounded batches, resume after a kill."""

import io
import json
import os
import subprocess
import sys

import pytest
from helpers import nan_scores, tiny, word_dim

from anrc.inference.api import RelationClassifier
from anrc.inference.stream import completed_records, predict_stream
from anrc.models.trained import TrainedModel

GOOD = "The <e1>singer</e1> caused a <e2>commotion</e2> ."


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    model, feat, labels, _, cfg = tiny()
    out = tmp_path_factory.mktemp("tinyrun")
    TrainedModel(cfg, model, feat, labels, 6).save(out)
    return out


def _input(tmp_path, n=1000, bad_every=97):
    lines = []
    for i in range(1, n + 1):
        lines.append("no tags here" if i % bad_every == 0 else GOOD)
    p = tmp_path / "in.txt"
    p.write_text("\n".join(lines) + "\n")
    return p, lines


def test_bad_lines_are_reported_in_place(run_dir, tmp_path, capsys):
    from anrc import load

    clf = load(run_dir)
    p, lines = _input(tmp_path, 300)
    out = io.StringIO()
    assert predict_stream(clf, str(p), out, as_json=True, batch_size=32) == 1
    recs = [json.loads(x) for x in out.getvalue().splitlines()]
    assert [r["line"] for r in recs] == list(range(1, 301))
    errors = [r["line"] for r in recs if "error" in r]
    assert errors == [97, 194, 291]
    assert f"{p}:97: entity tag <e1> is missing" in capsys.readouterr().err


def test_windows_are_bounded_and_sorted_within(run_dir, tmp_path, monkeypatch):
    """The stream predicts windows of WINDOW lines (memory bounded by the window, not the
    input), each in forward passes of at most the batch size, sorted by length within
    the window (so a pass pads little: benchmarks/bench_paths.py)."""
    from anrc import load
    from anrc.inference.stream import WINDOW

    clf = load(run_dir)
    sizes, passes = [], []
    real = RelationClassifier.probs

    def spy(self, items, batch_size=None, *a, **k):
        sizes.append(len(items))
        return real(self, items, batch_size, *a, **k)

    real_batches = clf.trained.featurizer.batches

    def batches(examples, batch_size, *a, **k):
        for idx, b in real_batches(examples, batch_size, *a, **k):
            passes.append(b.lengths.tolist())
            yield idx, b

    monkeypatch.setattr(RelationClassifier, "probs", spy)
    monkeypatch.setattr(clf.trained.featurizer, "batches", batches)
    p, _ = _input(tmp_path, 2 * WINDOW + 100, bad_every=10**9)
    predict_stream(clf, str(p), io.StringIO(), batch_size=64)
    assert sizes == [WINDOW, WINDOW, 100]
    assert max(len(b) for b in passes) <= 64 and sum(map(len, passes)) == 2 * WINDOW + 100
    flat = [n for b in passes[: WINDOW // 64] for n in b]
    assert flat == sorted(flat)  # the first window's passes in order of length


@pytest.mark.parametrize("as_json", [False, True])
def test_each_line_gets_what_predict_many_answers(run_dir, tmp_path, as_json):
    """Text lines come straight from the probabilities, JSON lines from full
    Predictions: both say what predict_many says of the same sentences."""
    from anrc import load

    clf = load(run_dir)
    sentences = [GOOD, "<e1>A</e1> <e2>b</e2>", "The <e2>house</e2> has a <e1>kitchen</e1> ."]
    p = tmp_path / "in.txt"
    p.write_text("\n".join(sentences) + "\n")
    out = io.StringIO()
    assert predict_stream(clf, str(p), out, as_json=as_json) == 0
    want = clf.predict_many(sentences)
    if as_json:
        got = [json.loads(line) for line in out.getvalue().splitlines()]
        assert [g["label"] for g in got] == [w.label for w in want]
        assert [g["scores"] for g in got] == [w.scores for w in want]
    else:
        rows = [line.split("\t") for line in out.getvalue().splitlines()]
        assert [r[1] for r in rows] == [w.label for w in want]
        assert [r[2] for r in rows] == [f"{w.score:.4f}" for w in want]


@pytest.mark.parametrize("as_json", [False, True])
def test_scores_that_are_not_numbers_are_an_error_record(run_dir, tmp_path, monkeypatch, as_json):
    """A sentence the model answers with NaN gets an error record in its place, in
    either output, and the lines around it their answers."""
    from anrc import load

    clf = load(run_dir)
    nan_scores(monkeypatch, "cup")
    p = tmp_path / "in.txt"
    p.write_text(f"{GOOD}\nA <e1>cup</e1> of <e2>tea</e2>\n{GOOD}\n")
    out = io.StringIO()
    assert predict_stream(clf, str(p), out, as_json=as_json) == 1
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and "not numbers" in lines[1] and "not numbers" not in lines[2]
    assert ('"error"' in lines[1]) if as_json else lines[1].startswith("#error\t2\t")


def test_json_lines_are_compact_utf8(run_dir, tmp_path):
    """JSON output keeps a non-ASCII word as it is (UTF-8, RFC 8259's encoding), one
    compact record a line."""
    from anrc import load

    p = tmp_path / "in.txt"
    p.write_text("The <e1>café</e1> is in <e2>Zürich</e2> .\n", encoding="utf-8")
    out = io.StringIO()
    assert predict_stream(load(run_dir), str(p), out, as_json=True) == 0
    line = out.getvalue()
    assert "Zürich" in line and "\\u00fc" not in line and '", "' not in line
    assert json.loads(line)["entities"] == {"e1": "café", "e2": "Zürich"}


def test_standard_output_is_utf8_whatever_the_locale(run_dir, tmp_path):
    """anrc predict --json on an ASCII-only terminal still writes the word, in UTF-8
    (it had become an error record: 'ascii' codec can't encode)."""
    p = tmp_path / "in.txt"
    p.write_text("The <e1>café</e1> is in <e2>Zürich</e2> .\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "anrc", "predict", str(run_dir), "--input", str(p), "--json"]
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    r = subprocess.run(cmd, capture_output=True, env=env, check=True)
    assert json.loads(r.stdout.decode("utf-8"))["entities"] == {"e1": "café", "e2": "Zürich"}


def test_non_utf8_line(run_dir, tmp_path):
    from anrc import load

    p = tmp_path / "in.txt"
    p.write_bytes(GOOD.encode() + b"\ncaf\xe9 <e1>a</e1> <e2>b</e2>\n" + GOOD.encode() + b"\n")
    out = io.StringIO()
    assert predict_stream(load(run_dir), str(p), out) == 1
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and lines[1] == "#error\t2\tbytes that are not UTF-8"


def test_resume_skips_written_lines(run_dir, tmp_path):
    p, _ = _input(tmp_path, 700)
    full = tmp_path / "full.txt"
    cmd = [sys.executable, "-m", "anrc", "predict", str(run_dir), "--input", str(p)]
    subprocess.run([*cmd, "--output", str(full)], capture_output=True, check=False)
    expected = full.read_text()
    part = tmp_path / "part.txt"
    cut = expected.splitlines(keepends=True)
    part.write_text("".join(cut[:250]) + cut[250][:5])  # a torn line, as after a kill
    r = subprocess.run([*cmd, "--output", str(part), "--resume"], capture_output=True, text=True)
    assert "resumed after 250 lines" in r.stderr
    assert part.read_text() == expected


def test_completed_records(tmp_path):
    p = tmp_path / "o.txt"
    p.write_text("a\nb\nc")
    assert completed_records(p) == 2 and p.read_text() == "a\nb\n"
    assert completed_records(tmp_path / "missing") == 0


def test_a_sentence_the_model_cannot_take_is_a_bad_line_not_a_lost_batch(tmp_path, capsys):
    """A transformer with max_length 12: entities farther apart lose the middle and are
    answered; an entity longer than the model takes is an error record in its place,
    and the lines around it are answered."""
    pytest.importorskip("transformers")
    model, feat, labels, _, cfg = tiny("transformer", "punct", max_length=12)
    clf = RelationClassifier(TrainedModel(cfg, model, feat, labels, word_dim(cfg)))
    far = "The <e1>singer</e1> " + "and " * 40 + "a <e2>commotion</e2> ."
    huge = "The <e1>" + "singer " * 20 + "</e1> caused a <e2>commotion</e2> ."
    p = tmp_path / "in.txt"
    p.write_text("\n".join([GOOD, far, huge, GOOD]) + "\n")
    out = io.StringIO()
    assert predict_stream(clf, str(p), out, batch_size=8) == 1
    rows = [line.split("\t") for line in out.getvalue().splitlines()]
    assert [r[0] for r in rows] == ["1", "2", "#error", "4"]
    assert rows[2][1] == "3" and "alone take more than encoder.max_length = 12" in rows[2][2]
    assert f"{p}:3: the entities and their markers alone" in capsys.readouterr().err
