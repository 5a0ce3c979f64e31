"""A trained run as a named model folder: compact weights, its own test report, where it
came from, and a card written from those files (``anrc package``).

    anrc package RUN_DIR --name semeval --out src/anrc/pretrained/semeval \\
        --weights int8-embeddings --about scripts/ship/semeval.toml

The folder is a run directory (``anrc.load``, ``predict``, ``serve`` and ``export`` read
it) holding:

- the weights in the stored form asked for (:data:`anrc.models.weights.WEIGHT_STORAGE`), with
  the config, featuriser files and labels;
- ``scores.json`` and ``test_predictions.txt``: the official report of the *packaged*
  weights on the run's test file (or ``--data``), so the figures are the shipped
  model's, not its fp32 source's;
- ``provenance.json``: the source run, its training summary and test F1, how many test
  answers the stored form changed, the anrc version, and the packager's prose
  (``--about``: when to use it, how the configuration was chosen, how to rebuild
  it, the data, limits);
- ``metrics.jsonl``: the source run's training curve;
- with ``--onnx``, ``model.int8.onnx``: the packaged weights exported and quantised
  (:func:`anrc.export.onnx_export.quantize_int8`), the ``onnx-int8`` form that
  ``form="auto"`` takes where onnxruntime is installed (:mod:`anrc.inference.forms`),
  scored on the same test file (its F1 and agreement go into provenance and the card);
- ``MODEL_CARD.md``: :func:`anrc.pretrained.card.write_card` of the above;
- what ``anrc extract`` and calibrated answers read, when the run has them:
  ``calibration.json`` (``anrc calibrate``), the mention tagger (its ``tagger/`` folder,
  or ``extract.json`` naming a shipped one); ``--tagger`` gives one (a folder is copied
  in, a shipped tagger's name is written to ``extract.json``).

Packaging a folder that is itself a package (to add the ONNX form, say) keeps the
original provenance: its source, training summary and fp32 agreement.

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
from anrc.export.onnx_export import export_onnx, quantize_int8
from anrc.fsio import atomic_write_text
from anrc.inference.forms import ONNX_INT8, OnnxGraph
from anrc.inference.predict import predict_labels
from anrc.metrics.scorer import score
from anrc.models.trained import TrainedModel, read_json
from anrc.models.weights import WEIGHT_STORAGE
from anrc.pretrained import EXTRACT_JSON, find_tagger, shipped_taggers
from anrc.pretrained.card import write_card
from anrc.registry import did_you_mean
from anrc.version import __version__

#: a run's files that extraction and calibrated answers read, carried into its package
EXTRACTION_FILES = ("calibration.json", EXTRACT_JSON)
TAGGER_FILES = ("tagger.json", "tagger.safetensors", "TAGGER_CARD.md")


def _copy_tagger(folder: Path, stage: Path) -> None:
    (stage / "tagger").mkdir()
    for f in TAGGER_FILES:
        if (folder / f).is_file():
            shutil.copyfile(folder / f, stage / "tagger" / f)


def _carry_extraction(source: Path, stage: Path, tagger: str | None) -> None:
    """calibration.json, and the tagger: ``tagger`` (a folder: copied; a shipped
    tagger's name: named in extract.json), else the run's own."""
    for f in EXTRACTION_FILES:
        if (source / f).is_file() and not (tagger and f == EXTRACT_JSON):
            shutil.copyfile(source / f, stage / f)
    if tagger and tagger in shipped_taggers() and not Path(tagger).exists():
        atomic_write_text(stage / EXTRACT_JSON, json.dumps({"tagger": tagger}) + "\n")
    elif tagger:
        _copy_tagger(find_tagger(tagger), stage)
    elif (source / "tagger" / "tagger.json").is_file():
        _copy_tagger(source / "tagger", stage)


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


def _test_answers(run: TrainedModel, path: str) -> tuple[list, list[str]]:
    res = read(path, negative=run.labels.negative, labelled=True)
    examples = res.examples
    return examples, predict_labels(run, examples, 256, None)


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


def _onnx_form(stage: Path, packaged, examples, ours: list[str]) -> dict:
    """Write the packaged weights' onnx-int8 form into ``stage``; its test F1 and how
    many answers it shares with the packaged weights."""
    fp32 = export_onnx(stage, stage / "model.fp32.onnx").path
    try:
        quantize_int8(fp32, stage / ONNX_INT8)
    finally:
        fp32.unlink(missing_ok=True)
    probs = OnnxGraph(stage / ONNX_INT8).probs(packaged.featurizer, examples, 64)
    theirs = [packaged.labels.labels[i] for i in probs.argmax(axis=1)]
    f1 = _score(examples, theirs, packaged.labels.negative).official_f1
    same = sum(a == b for a, b in zip(ours, theirs, strict=True))
    return {"test_f1": f1, "same_as_stored": same, "total": len(ours)}


def _original(source: Path, summary: dict, source_f1: float, agreement: dict) -> dict:
    """Where the weights came from: the source run, or, for a package, its own record."""
    if (source / "provenance.json").is_file():
        prov = read_json(source / "provenance.json")
        keys = ("source", "source_summary", "source_test_f1", "agreement")
        return {k: prov[k] for k in keys}
    return {
        "source": str(source),
        "source_summary": summary,
        "source_test_f1": source_f1,
        "agreement": agreement,
    }


def package_run(
    source: str | Path,
    out: str | Path,
    name: str,
    weights: str = "int8-embeddings",
    about: dict | None = None,
    data: str | None = None,
    force: bool = False,
    onnx: bool = False,
    tagger: str | None = None,
) -> dict:
    """Package ``source`` (a trained run directory) as model ``name`` in ``out``;
    returns its provenance."""
    source, out = Path(source), Path(out)
    if weights not in WEIGHT_STORAGE:
        raise AnrcInputError(f"--weights {weights}: choose from {', '.join(WEIGHT_STORAGE)}")
    if out.exists() and any(out.iterdir()) and not force:
        raise AnrcInputError(f"{out}: exists and is not empty (--force replaces it)")
    run = TrainedModel.load(source)
    test = data or run.config.data.test
    if not test:
        raise AnrcInputError(f"{source}: the run has no test file; give --data")
    summary = read_json(source / "scores.json")["summary"]
    stage = out.with_name(out.name + ".packaging")
    shutil.rmtree(stage, ignore_errors=True)
    try:
        run.save(stage, weights)
        packaged = TrainedModel.load(stage)
        examples, ours = _test_answers(packaged, test)
        theirs = predict_labels(run, examples, 256, None)
        source_f1 = _score(examples, theirs, run.labels.negative).official_f1
        _report(stage, examples, ours, run.labels.negative, summary)
        if (source / "metrics.jsonl").is_file():
            shutil.copyfile(source / "metrics.jsonl", stage / "metrics.jsonl")
        _carry_extraction(source, stage, tagger)
        same = sum(a == b for a, b in zip(ours, theirs, strict=True))
        provenance = {"name": name} | _original(
            source, summary, source_f1, {"same": same, "total": len(ours)}
        )
        provenance |= {
            "test_file": str(test),
            "weights": weights,
            "anrc_version": __version__,
            "about": about or {},
        }
        if onnx:
            provenance["forms"] = {"onnx-int8": _onnx_form(stage, packaged, examples, ours)}
        atomic_write_text(stage / "provenance.json", json.dumps(provenance, indent=1))
        write_card(stage)
        if out.exists():
            shutil.rmtree(out)
        stage.rename(out)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return provenance
