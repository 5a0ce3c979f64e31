"""A packaged model's card (``MODEL_CARD.md``), written from the folder's own files.

Every figure on the card is read from a file beside it: the official test report
(``scores.json``, made by scoring the packaged weights), the resolved ``config.toml``,
the weights file and ``provenance.json`` (where the weights came from, and the
packager's prose on how the configuration was chosen and how to rebuild it). Nothing
is typed in, so a card cannot drift from its model.
"""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path

from safetensors import safe_open

from anrc.builder import encoder_class
from anrc.models.weights import SCALE_SUFFIX


def _read(folder: Path) -> tuple[dict, dict, dict]:
    cfg = tomllib.loads((folder / "config.toml").read_text(encoding="utf-8"))
    scores = json.loads((folder / "scores.json").read_text(encoding="utf-8"))
    prov = json.loads((folder / "provenance.json").read_text(encoding="utf-8"))
    return cfg, scores, prov


def parameter_count(path: Path) -> int:
    """The model's parameters in a weights file (int8 row scales not counted)."""
    with safe_open(str(path), "pt") as f:
        names = [k for k in f.keys() if not k.endswith(SCALE_SUFFIX)]  # noqa: SIM118
        return sum(math.prod(f.get_slice(k).get_shape()) for k in names)


def _vectors_line(data: dict) -> str:
    extra = data.get("vectors_vocab", 0)
    frozen = f"; {extra:,} more of its most frequent words frozen" if extra > 0 else ""
    frozen = "; the rest of its words frozen" if extra < 0 else frozen
    return (
        f"- Word vectors `{data['embeddings']}` (the training words' fine-tuned{frozen}), "
        f"entity markers `{data['markers']}`."
    )


def _teacher_line(train: dict) -> str:
    n = len([t for t in train["teacher"].split(",") if t.strip()])
    copies = train.get("transfer_copies", 0)
    how = "the mean of their probabilities; " if n > 1 else ""
    return (
        f"- Distilled from {n} teacher run{'s' * (n > 1)} ({how}"
        f"weight {train['distill_weight']}, temperature {train['distill_temperature']})"
        + (
            f", on a transfer set of {copies} copies of each training sentence with "
            f"{train['transfer_swap']:.0%} of the words swapped for neighbours."
            if copies
            else "."
        )
    )


def _what(folder: Path, cfg: dict, prov: dict) -> list[str]:
    enc, adv, train = cfg["model"]["encoder"], cfg["adversarial"], cfg["train"]
    params = cfg.get("encoder", {})
    weights = folder / "model.safetensors"
    lines = [f"- Encoder `{enc}`: {encoder_class(enc).summary}."]
    if enc == "transformer":
        lines.append(
            f"- Body `{params['pretrained']}`, pooled vector `{params['pooling']}`, entity "
            f"markers `{cfg['data']['markers']}`, at most {params['max_length']} word pieces."
        )
    else:
        lines.append(_vectors_line(cfg["data"]))
    lines.append(f"- Head `{cfg['model']['head']}`.")
    if adv["method"] == "none":
        lines.append("- No adversarial training.")
    else:
        lines.append(
            f"- Adversarial training `{adv['method']}` at eps {adv['epsilon']} ({adv['scale']}) "
            f"on the `{cfg['model']['target']}` embeddings."
        )
    if train.get("teacher"):
        lines.append(_teacher_line(train))
    size = weights.stat().st_size / 1e6
    lines.append(
        f"- {parameter_count(weights) / 1e6:.1f}M parameters; {size:.1f} MB of weights, stored "
        f"as {prov['weights']} (read back into fp32)."
    )
    if prov.get("about", {}).get("data"):
        lines.append(f"- Data: {prov['about']['data']}")
    return lines


def _chosen(cfg: dict, scores: dict, prov: dict) -> list[str]:
    about, source = prov.get("about", {}), prov["source_summary"]
    summary, t = scores["summary"], cfg["train"]
    lines = [about["chosen"], ""] if about.get("chosen") else []
    if source.get("selection"):
        sel = source["selection"]
        dev = (
            f"the epoch count its dev split had selected (a first pass with a held-out dev "
            f"split, dev F1 {sel['dev_f1']:.2f}, chose epoch {sel['selected_epoch']}), then "
            "retrained on all the training data with the same seed"
        )
    elif source.get("dev_examples"):
        dev = (
            f"epoch {source['selected_epoch']} selected on {source['dev_examples']:,} dev "
            f"sentences (dev F1 {source['dev_f1']:.2f})"
        )
    else:
        dev = "a fixed epoch count, no dev split"
    lines.append(
        f"Trained on {source['train_examples']:,} sentences, seed {t['seed']}, "
        f"{source.get('epochs_run', t['max_epochs'])} epochs: {dev}. "
        f"Packaged from `{prov['source']}`: the {prov['weights']} weights give the same label "
        f"as the run's fp32 weights on {prov['agreement']['same']:,} of "
        f"{prov['agreement']['total']:,} test sentences (official F1 "
        f"{summary['test_f1']:.2f} against {prov['source_test_f1']:.2f})."
    )
    if about.get("rebuild"):
        lines += ["", f"Rebuild: {about['rebuild']}"]
    return lines


def _how_well(scores: dict) -> list[str]:
    official, summary = scores["test"]["official"], scores["summary"]
    neg = official["negative"]
    rows = [r for r in official["relations"] if r["label"] != neg]
    lines = [
        f"Official test score (macro-F1, ({len(rows)}+1)-way, directions counted): "
        f"**{summary['test_f1']:.2f}** on the {summary['test_examples']:,} test sentences "
        f"(accuracy {summary['test_accuracy']:.2f}%), the packaged weights scored by "
        "the official scorer; `test_predictions.txt` holds every answer.",
        "",
        "| relation | precision | recall | F1 |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {r['label']} | {r['precision']:.1f} | {r['recall']:.1f} | {r['f1']:.1f} |" for r in rows
    ]
    return lines


def _forms(prov: dict) -> list[str]:
    """How predictions run (anrc.inference.forms), with the ONNX form's own score."""
    onnx = prov.get("forms", {}).get("onnx-int8")
    first = (
        f'`form="auto"` (the default of `anrc.load`, `anrc predict` and `anrc serve`) '
        "runs the int8 ONNX graph beside the weights (`model.int8.onnx`) where "
        f"onnxruntime is installed: official F1 {onnx['test_f1']:.2f}, the same answer as "
        f"the stored weights on {onnx['same_as_stored']:,} of {onnx['total']:,} test "
        "sentences. Without onnxruntime it takes"
        if onnx
        else '`form="auto"` (the default of `anrc.load`, `anrc predict` and `anrc serve`) takes'
    )
    return [
        f"{first} bf16 autocast on a CPU that multiplies bf16 itself (AVX-512 BF16 or AMX), "
        'and fp32 elsewhere; `form="fp32"` gives the answers scored above, exactly.'
    ]


def _limits(folder: Path, cfg: dict, scores: dict, prov: dict) -> list[str]:
    official = scores["test"]["official"]
    neg = official["negative"]
    rows = sorted((r for r in official["relations"] if r["label"] != neg), key=lambda r: r["f1"])
    weakest = ", ".join(f"{r['label']} {r['f1']:.1f}" for r in rows[:3])
    cells = sorted(
        (
            (n, g, p)
            for g, row in official["matrix"].items()
            for p, n in row.items()
            if p != g and n
        ),
        reverse=True,
    )
    confusions = ", ".join(f"{g} -> {p} ({n})" for n, g, p in cells[:3])
    labels = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
    n_labels = len(labels.get("labels", labels))
    lines = [
        f"- Only its {n_labels} labels (`{neg}` for none of them); the two "
        "entities must be marked (`<e1>..</e1>`, `<e2>..</e2>`, or OpenNRE's `h`/`t` positions).",
        f"- Weakest relations (test F1): {weakest}; most frequent confusions (gold -> "
        f"predicted, test sentences): {confusions}.",
    ]
    if cfg["model"]["encoder"] == "transformer":
        lines.append(
            f"- Sentences longer than {cfg['encoder']['max_length']} word pieces are cut "
            "(the entities kept in view)."
        )
    else:
        vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
        lines.append(
            f"- Words outside its vocabulary ({len(vocab['itos']):,} entries) share one "
            "unknown vector."
        )
    lines += [f"- {line}" for line in prov.get("about", {}).get("limits", [])]
    return lines


def write_card(folder: Path) -> Path:
    """Write ``folder/MODEL_CARD.md`` from the folder's files; returns its path."""
    folder = Path(folder)
    cfg, scores, prov = _read(folder)
    name = prov["name"]
    example = "The <e1>singer</e1> caused a <e2>commotion</e2> ."
    lines = [
        f"# Model card: `{name}`",
        "",
        "```python",
        "import anrc",
        "",
        f'model = anrc.load("{name}")',
        f'model.predict("{example}").label',
        "```",
        "",
        f"or `echo '{example}' | anrc predict {name}`, `anrc serve {name}`.",
        "",
        *([f"Use it {prov['about']['use']}", ""] if prov.get("about", {}).get("use") else []),
        "## What it is",
        "",
        *_what(folder, cfg, prov),
        "",
        "## How it was chosen and trained",
        "",
        *_chosen(cfg, scores, prov),
        "",
        "## How well it does",
        "",
        *_how_well(scores),
        "",
        *_forms(prov),
        "",
        "## Known limits",
        "",
        *_limits(folder, cfg, scores, prov),
    ]
    path = folder / "MODEL_CARD.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
