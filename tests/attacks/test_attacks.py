"""Attacks: PGD stays in the ball and never lowers the loss; word attacks keep entities and budget."""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import batch_of, grouped_vectors, tiny, word_dim, write_vectors

import anrc
from anrc.adversarial.geometry import radius
from anrc.attacks.embedding import evaluate_under_attack, fgm_attack, pgd_attack
from anrc.attacks.word import Neighbours, budget, candidate_positions, greedy_attack, random_attack
from anrc.builder import load_config
from anrc.cli import main
from anrc.models.trained import TrainedModel
from anrc.training.loop import train


def _losses(model, b, r):
    with torch.no_grad():
        x = model.embed(b)
        return F.cross_entropy(model(b, embeds=x + r).logits, b.labels, reduction="none")


@pytest.mark.parametrize("eps", [0.01, 0.5, 3.0])
def test_pgd_in_ball_and_never_below_start(eps):
    model, feat, labels, exs, cfg = tiny(dropout=0.0)
    model.eval()
    b = batch_of(exs, feat, labels)
    r = pgd_attack(model, b, eps, steps=5)
    assert (r.flatten(1).norm(dim=1) <= eps * (1 + 1e-5)).all()
    assert (r[~b.mask] == 0).all()
    start = _losses(model, b, torch.zeros_like(r))
    assert (_losses(model, b, r) >= start - 1e-6).all()
    f = fgm_attack(model, b, eps)
    torch.testing.assert_close(f.flatten(1).norm(dim=1), torch.full((len(b),), eps))


def test_relative_eps_scales_each_sentence_by_its_input():
    model, feat, labels, exs, cfg = tiny(dropout=0.0)
    model.eval()
    b = batch_of(exs, feat, labels)
    x = model.embed(b).detach()
    m = x.norm(dim=-1)[b.mask].mean()
    want = 0.3 * m * b.mask.sum(1).float().sqrt()  # (B,): eps * m * sqrt(n)
    ball = radius(x, b.mask, 0.3, relative=True)
    torch.testing.assert_close(fgm_attack(model, b, ball).flatten(1).norm(dim=1), want)
    r = pgd_attack(model, b, ball, steps=3)
    assert (r.flatten(1).norm(dim=1) <= want * (1 + 1e-5)).all()
    assert (r[~b.mask] == 0).all()
    assert len(set(want.tolist())) > 1  # sentences of different lengths get different radii
    trained = TrainedModel(cfg, model, feat, labels, word_dim(cfg))
    clean = evaluate_under_attack(trained, exs, "pgd", 0.0, relative=True)
    huge = evaluate_under_attack(trained, exs, "pgd", 5.0, relative=True, steps=3)
    assert huge["accuracy"] <= clean["accuracy"]


@pytest.fixture(scope="module")
def small_run(tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("atk") / "run"
    cfg = load_config(
        "configs/anrc-scaled.toml",
        [
            f"data.train={data_dir / 'TRAIN_FILE.TXT'}",
            "data.test=",
            "data.train_limit=600",
            "data.embeddings=none",
            "encoder.hidden=32",
            "train.batch_size=16",
            "train.lr=0.003",
            "train.max_epochs=4",
            "adversarial.method=none",
        ],
    )
    train(cfg, out)
    return out


def _model_neighbours(clf):
    words, w = clf.trained.network.encoder.input_vectors(clf.trained.featurizer)
    return Neighbours(words, w, k=10, min_cos=-1.0)


def test_word_attack_keeps_entities_and_budget(small_run, data_dir):
    from anrc.data import read

    clf = anrc.load(small_run)
    nb = _model_neighbours(clf)
    exs = read(data_dir / "TEST_FILE_FULL.TXT").examples[:60]
    results = [greedy_attack(clf, ex, nb, max_fraction=0.2) for ex in exs]
    flipped = 0
    for ex, r in zip(exs, results, strict=True):
        p = r.perturbed
        assert (p.e1, p.e2) == (ex.e1, ex.e2)
        for s, e in (ex.e1, ex.e2):
            assert p.tokens[s:e] == ex.tokens[s:e]
        assert len(r.changed) <= budget(ex, 0.2)
        assert set(r.changed) <= set(candidate_positions(ex))
        assert [
            i for i, (a, b) in enumerate(zip(ex.tokens, p.tokens, strict=True)) if a != b
        ] == sorted(r.changed)
        flipped += r.before == r.gold and r.after != r.gold
    assert flipped > 0  # the attack changes some correct predictions
    rnd = random_attack(clf, exs[0], nb, 3, np.random.default_rng(0))
    assert len(rnd.changed) <= 3 and rnd.perturbed.e1 == exs[0].e1


def test_attack_cli(small_run, data_dir, tmp_path):
    from anrc.data import read, write_semeval

    data = tmp_path / "t.txt"
    write_semeval(read(data_dir / "TEST_FILE_FULL.TXT").examples[:40], data)
    out = tmp_path / "pgd"
    assert (
        main(
            [
                "attack",
                str(small_run),
                "--method",
                "pgd",
                "--data",
                str(data),
                "--eps",
                "0",
                "0.5",
                "--steps",
                "3",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    curve = json.loads((out / "summary.json").read_text())["curve"]
    assert [c["epsilon"] for c in curve] == [0.0, 0.5]
    assert curve[1]["accuracy"] <= curve[0]["accuracy"]
    rel = tmp_path / "pgd-relative"
    args = ["attack", str(small_run), "--method", "pgd", "--data", str(data), "--steps", "2"]
    assert main([*args, "--eps", "0", "0.2", "--scale", "relative", "--out", str(rel)]) == 0
    summary = json.loads((rel / "summary.json").read_text())
    assert summary["scale"] == "relative" and summary["curve"][0] == curve[0]
    assert "relative" in (rel / "report.md").read_text()
    out = tmp_path / "word"
    assert (
        main(["attack", str(small_run), "--method", "word", "--data", str(data), "--out", str(out)])
        == 0
    )
    assert len((out / "adversarial.jsonl").read_text().splitlines()) == 40
    assert "success rate" in (out / "report.md").read_text()
    from anrc.data import read as read_data

    read_data(out / "augment.jsonl")  # readable as training data


def test_word_attack_neighbours_from_named_vectors(small_run, data_dir, tmp_path):
    """--neighbours gives every encoder one substitution space (e.g. GloVe for a
    transformer): only words of that file are ever substituted in."""
    from anrc.data import read, write_semeval

    clf = anrc.load(small_run)
    words = [t for t in clf.trained.featurizer.vocab.itos if t.isalpha()][:300]
    # 30 clusters of words: neighbours (cosine > 0.6) exist only inside a cluster.
    vec = write_vectors(grouped_vectors(words, groups=30), tmp_path / "vectors.txt")
    data = tmp_path / "t.txt"
    write_semeval(read(data_dir / "TEST_FILE_FULL.TXT").examples[:20], data)
    out = tmp_path / "word"
    args = ["attack", str(small_run), "--method", "random-word", "--data", str(data)]
    assert main([*args, "--neighbours", str(vec), "--max-fraction", "0.5", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["neighbours"].startswith(str(vec))
    allowed = {t.lower() for t in words}
    substituted = 0
    for line in (out / "adversarial.jsonl").read_text().splitlines():
        r = json.loads(line)
        for change in r["words_changed"]:
            assert change["to"].lower() in allowed
            substituted += 1
    assert substituted > 0


def test_attack_on_the_runs_training_split_never_touches_dev(small_run, tmp_path, capsys):
    out = tmp_path / "train-split"
    args = ["attack", str(small_run), "--method", "random-word", "--split", "train"]
    assert main([*args, "--limit", "0", "--out", str(out)]) == 0
    attacked = [json.loads(x)["id"] for x in (out / "adversarial.jsonl").read_text().splitlines()]
    dev = [x.split("\t")[0] for x in (small_run / "dev_predictions.txt").read_text().splitlines()]
    assert len(attacked) + len(dev) == 600 and not set(attacked) & set(dev)
    assert main([*args, "--data", "x.txt", "--out", str(out)]) == 2
    assert "exclude each other" in capsys.readouterr().err
