"""Train on a few hundred real examples; save, load, predict from the API and the CLI."""

import json
import subprocess
import sys
from collections import Counter

import pytest
import torch
from test_reliability import tiny_overrides

import anrc
from anrc.builder import load_config
from anrc.data import read
from anrc.models.trained import RunLoadError, TrainedModel
from anrc.training.loop import train


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, data_dir):
    """A short real run of the CNN encoder: 2,500 training sentences, 300 test sentences.

    The CNN learns fast (about 60% test accuracy after 10 epochs on any seed tried,
    against 17% for the majority class), so the checks below keep a wide margin on
    any machine; the paper's ANRC barely learns in a run this short.
    """
    tmp = tmp_path_factory.mktemp("run")
    test = read(data_dir / "TEST_FILE_FULL.TXT").examples[:300]
    from anrc.data import write_semeval

    write_semeval(test, tmp / "test.txt")
    cfg = load_config(
        "configs/cnn.toml",
        [
            f"data.train={data_dir / 'TRAIN_FILE.TXT'}",
            f"data.test={tmp / 'test.txt'}",
            "data.train_limit=2500",
            "train.max_epochs=10",
            "train.batch_size=32",
            "train.seed=3",
        ],
    )
    out = tmp / "run"
    summary = train(cfg, out)
    return out, summary, test


def test_run_directory_contents(run_dir):
    out, summary, _ = run_dir
    for name in (
        "config.toml",
        "model.safetensors",
        "vocab.json",
        "labels.json",
        "metrics.jsonl",
        "dev_predictions.txt",
        "test_predictions.txt",
        "scores.json",
    ):
        assert (out / name).is_file(), name
    metrics = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [m["epoch"] for m in metrics] == list(range(1, len(metrics) + 1))
    assert {"train_loss", "dev_f1", "test_f1", "lr", "seconds"} <= set(metrics[0])
    best = max(metrics, key=lambda m: m["dev_f1"])
    assert summary["selected_epoch"] == best["epoch"]  # selected on dev, never on test
    scores = json.loads((out / "scores.json").read_text())
    assert scores["summary"]["test_f1"] == pytest.approx(scores["test"]["official_macro_f1"])


def test_beats_the_majority_class(run_dir):
    _, summary, test = run_dir
    majority = Counter(ex.label for ex in test).most_common(1)[0][1] / len(test) * 100
    # Measured 58.0-60.0% accuracy (F1 60-65) over seeds 1-3 and 1 or 2 threads.
    assert summary["test_accuracy"] > majority + 20
    assert summary["test_f1"] > 40


def test_save_load_identical_predictions(run_dir):
    out, _, test = run_dir
    clf = anrc.load(out)
    preds = clf.predict_many(test, batch_size=7)
    written = dict(
        line.split("\t") for line in (out / "test_predictions.txt").read_text().splitlines()
    )
    assert [p.label for p in preds] == [written[ex.id] for ex in test]
    again = anrc.load(out).predict_many(test[:50], batch_size=50)
    for a, b in zip(again, preds[:50], strict=True):
        assert a.scores == pytest.approx(
            b.scores, abs=1e-5
        )  # batch makeup moves only the last bits


def test_api_predict(run_dir):
    out, _, _ = run_dir
    clf = anrc.load(out)
    p = clf.predict(
        "The <e1>singer</e1> , who performed three songs , caused a <e2>commotion</e2> ."
    )
    assert p.label in clf.labels.labels
    assert p.score == pytest.approx(max(p.scores.values()))
    assert sum(p.scores.values()) == pytest.approx(1.0, abs=1e-4)
    assert p.attention is None  # the CNN has no token weights (test_encoders checks those that do)
    assert clf.infer({"token": ["a", "b", "c"], "h": {"pos": [0, 1]}, "t": {"pos": [2, 3]}})[0]
    with pytest.raises(ValueError, match="missing"):
        clf.predict("no tags at all")


def test_predict_cli_with_bad_lines(run_dir, tmp_path):
    out, _, _ = run_dir
    inp = tmp_path / "in.txt"
    inp.write_text(
        "The <e1>singer</e1> caused a <e2>commotion</e2> .\n"
        "a broken <e1>line\n"
        '{"token": ["a", "b", "c"], "h": {"pos": [0, 1]}, "t": {"pos": [2, 3]}}\n'
        '8001\t"The most common <e1>audits</e1> were about <e2>waste</e2> and recycling."\n'
    )
    r = subprocess.run(
        [sys.executable, "-m", "anrc", "predict", str(out), "--input", str(inp), "--json"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 1
    recs = [json.loads(x) for x in r.stdout.splitlines()]
    assert [rec.get("line") for rec in recs] == [1, 2, 3, 4]
    assert "error" in recs[1] and "label" in recs[0] and recs[3]["id"] == "8001"
    assert r.stderr.strip() == f"{inp}:2: entity tag <e1> is not closed"
    r = subprocess.run(
        [sys.executable, "-m", "anrc", "predict", str(out)],
        input="The <e1>singer</e1> caused a <e2>commotion</e2> .\n",
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0 and len(r.stdout.split("\t")) == 3


def test_evaluate_cli(run_dir, tmp_path):
    out, summary, _ = run_dir
    r = subprocess.run(
        [sys.executable, "-m", "anrc", "evaluate", str(out), "--json"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0
    assert json.loads(r.stdout)["official_macro_f1"] == pytest.approx(summary["test_f1"])


def test_refuses_tampered_weights(run_dir, tmp_path):
    import shutil

    out, _, _ = run_dir
    bad = tmp_path / "bad"
    shutil.copytree(out, bad)
    data = (bad / "model.safetensors").read_bytes()
    (bad / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(RunLoadError, match="model.safetensors"):
        TrainedModel.load(bad)
    shutil.copy(out / "model.safetensors", bad / "model.safetensors")
    vocab = json.loads((bad / "vocab.json").read_text())
    vocab["itos"] = vocab["itos"][:-5]
    (bad / "vocab.json").write_text(json.dumps(vocab))
    with pytest.raises(RunLoadError, match="shape|vocabulary"):
        TrainedModel.load(bad)


def test_refuses_pickle(tmp_path, run_dir):
    import shutil

    out, _, _ = run_dir
    bad = tmp_path / "pickled"
    shutil.copytree(out, bad)
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    torch.save({"x": Evil()}, bad / "model.safetensors")
    with pytest.raises(RunLoadError):
        TrainedModel.load(bad)
    assert not marker.exists()


def test_bf16_training_runs_its_passes_in_bfloat16_and_keeps_fp32_weights(tmp_path, data_dir):
    """train.precision = bf16: the training passes' matrix products in bfloat16 (another
    trajectory than fp32's), the weights, logits and evaluation in fp32."""
    from anrc.training.setup import prepare

    def run(precision, out):
        extra = {"train.max_epochs": "1", "train.precision": precision}
        cfg = load_config("configs/att-blstm.toml", tiny_overrides(data_dir, **extra))
        train(cfg, out)
        return cfg

    run("fp32", tmp_path / "a")
    cfg = run("bf16", tmp_path / "b")

    def losses(out):
        return [json.loads(line)["train_loss"] for line in (out / "metrics.jsonl").open()]

    low = losses(tmp_path / "b")
    assert all(v == v for v in low) and low != losses(tmp_path / "a")  # finite, not fp32's
    st = prepare(cfg)
    net = st.model.network
    assert net.precision == "bf16" and all(p.dtype == torch.float32 for p in net.parameters())
    _, batch = next(iter(st.model.featurizer.batches(st.train[:8], 8, st.labels)))
    seen = []
    hook = net.head.register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    net.train()
    assert net(batch).logits.dtype == torch.float32
    net.eval()
    net(batch)
    hook.remove()
    assert seen == [torch.bfloat16, torch.float32]  # the head's product: bf16 in training only
    with pytest.raises(ValueError, match="train.precision must be one of fp32, bf16"):
        load_config(None, ["train.precision=fp16"])


@pytest.mark.parametrize("flags", [frozenset(), frozenset({"avx512_bf16"})])
def test_bf16_on_a_cpu_without_it_warns_that_it_is_slow(flags, tmp_path, data_dir, capsys,
                                                        monkeypatch):  # fmt: skip
    import anrc.training.loop as loop

    monkeypatch.setattr(loop, "cpu_flags", lambda: flags)
    extra = {"train.max_epochs": "1", "train.precision": "bf16", "data.train_limit": "64"}
    train(load_config("configs/cnn.toml", tiny_overrides(data_dir, **extra)), tmp_path / "r")
    assert ("emulated, 18 times slower" in capsys.readouterr().err) == (not flags)
