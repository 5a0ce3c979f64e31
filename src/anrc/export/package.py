"""A trained run as a named model folder: compact weights, its own test report, where it
came from, and a card written from those files (``anrc package``).

    anrc package RUN_DIR --name semeval --out src/anrc/pretrained/semeval \\
        --weights int8-embeddings --about scripts/ship/semeval.toml

The folder is a run directory (``anrc.load``, ``predict``, ``serve`` and ``export`` read
it) holding:

- the weights in the stored form asked for (:data:`anrc.rundir.WEIGHT_STORAGE`), with
  the config, featuriser files and labels;
- ``scores.json`` and ``test_predictions.txt``: the official report of the *packaged*
  weights on the run's test file (or ``--data``), so the figures are the shipped
  model's, not its fp32 source's;
- ``provenance.json``: the source run, its training summary and test F1, how many test
  answers the stored form changed, the anrc version, and the packager's prose
  (``--about``: when to use it, how the configuration was chosen, how to rebuild
  it, the data, limits);
- ``metrics.jsonl``: the source run's training curve;
- ``MODEL_CARD.md``: :func:`anrc.pretrained.card.write_card` of the above.

It is written beside its destination and renamed into place when complete: a failed
packaging leaves no half-written model.
"""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

from anrc.data import read
from anrc.data.answers import write_answers
from anrc.errors import AnrcInputError
from anrc.fsio import atomic_write_text
from anrc.inference.predict import predict_labels
from anrc.metrics.scorer import score
from anrc.pretrained.card import write_card
from anrc.registry import did_you_mean
from anrc.rundir import WEIGHT_STORAGE, load_run, read_json, save_run
from anrc.version import __version__

#: what an ``--about`` file may say (all optional)
ABOUT_KEYS = {"use": str, "chosen": str, "rebuild": str, "data": str, "limits": list}


def read_about(path: str | Path | None) -> dict:
    """The packager's prose from a TOML file (keys :data:`ABOUT_KEYS`), checked."""
    if path is None:
        return {}
    path = Path(path)
    try:
        about = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AnrcInputError("no such file", str(path)) from None
    except tomllib.TOMLDecodeError as err:
        raise AnrcInputError(f"not valid TOML ({err})", str(path)) from None
    for key, value in about.items():
        if key not in ABOUT_KEYS:
            hint = did_you_mean(key, ABOUT_KEYS)
            raise AnrcInputError(
                f"unknown key {key!r}{hint}; known: {', '.join(ABOUT_KEYS)}", str(path)
            )
        if not isinstance(value, ABOUT_KEYS[key]):
            raise AnrcInputError(f"{key} must be a {ABOUT_KEYS[key].__name__}", str(path))
    return about


def _test_answers(run, path: str) -> tuple[list, list[str]]:
    res = read(path, negative=run.labels.negative, labelled=True)
    examples = res.examples
    return examples, predict_labels(run.model, run.featurizer, run.labels, examples, 256, None)


def _score(examples, preds, negative: str):
    """The official report of ``preds`` (one label per example) against their gold labels."""
    pairs = zip(examples, preds, strict=True)
    return score({ex.id: ex.label for ex in examples}, {ex.id: p for ex, p in pairs}, negative)


def _report(stage: Path, examples, preds, negative: str, summary: dict) -> dict:
    """scores.json and test_predictions.txt of the packaged weights; returns the summary."""
    report = _score(examples, preds, negative)
    official = report.to_dict()
    own = {
        k: summary[k]
        for k in ("train_examples", "transfer_examples", "relations", "directed_labels")
        if k in summary
    }
    own |= {
        "test_examples": len(examples),
        "test_f1": report.official_f1,
        "test_accuracy": official["official"]["accuracy"],
    }
    scores = {"summary": own, "test": official}
    atomic_write_text(stage / "scores.json", json.dumps(scores, indent=1))
    write_answers(
        ((ex.id, p) for ex, p in zip(examples, preds, strict=True)), stage / "test_predictions.txt"
    )
    return own


def package_run(
    source: str | Path,
    out: str | Path,
    name: str,
    weights: str = "int8-embeddings",
    about: dict | None = None,
    data: str | None = None,
    force: bool = False,
) -> dict:
    """Package ``source`` (a trained run directory) as model ``name`` in ``out``;
    returns its provenance."""
    source, out = Path(source), Path(out)
    if weights not in WEIGHT_STORAGE:
        raise AnrcInputError(f"--weights {weights}: choose from {', '.join(WEIGHT_STORAGE)}")
    if out.exists() and any(out.iterdir()) and not force:
        raise AnrcInputError(f"{out}: exists and is not empty (--force replaces it)")
    run = load_run(source)
    test = data or run.config.data.test
    if not test:
        raise AnrcInputError(f"{source}: the run has no test file; give --data")
    summary = read_json(source / "scores.json")["summary"]
    word_dim = int(read_json(source / "meta.json")["word_dim"])
    stage = out.with_name(out.name + ".packaging")
    shutil.rmtree(stage, ignore_errors=True)
    try:
        save_run(stage, run.config, run.model, run.featurizer, run.labels, word_dim, weights)
        packaged = load_run(stage)
        examples, ours = _test_answers(packaged, test)
        theirs = predict_labels(run.model, run.featurizer, run.labels, examples, 256, None)
        source_f1 = _score(examples, theirs, run.labels.negative).official_f1
        _report(stage, examples, ours, run.labels.negative, summary)
        if (source / "metrics.jsonl").is_file():
            shutil.copyfile(source / "metrics.jsonl", stage / "metrics.jsonl")
        provenance = {
            "name": name,
            "source": str(source),
            "source_summary": summary,
            "source_test_f1": source_f1,
            "test_file": str(test),
            "weights": weights,
            "agreement": {
                "same": sum(a == b for a, b in zip(ours, theirs, strict=True)),
                "total": len(ours),
            },
            "anrc_version": __version__,
            "about": about or {},
        }
        atomic_write_text(stage / "provenance.json", json.dumps(provenance, indent=1))
        write_card(stage)
        if out.exists():
            shutil.rmtree(out)
        stage.rename(out)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return provenance
