"""``anrc attack``: how a trained model holds up against perturbations."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from anrc.attacks import attack_names
from anrc.attacks.embedding import DEFAULT_RADII, EMBEDDING_ATTACKS, evaluate_under_attack
from anrc.attacks.word import budget, greedy_attack, random_attack, summarise
from anrc.cli.common import add_device_option, load_classifier
from anrc.config import SCALES
from anrc.data import read, write_jsonl
from anrc.data.neighbours import Neighbours
from anrc.data.splits import load_training_data
from anrc.data.vectors import load_vectors
from anrc.errors import AnrcInputError
from anrc.progress import progress


def _neighbours(clf, top: int, spec: str = ""):
    """The word attack's substitution space: ``spec`` (a vector spec, e.g.
    ``glove-6b-50d``), else the run's pretrained vectors, else its own input vectors."""

    spec = spec or clf.config.data.embeddings
    if spec != "none":
        v = load_vectors(spec)
        return Neighbours(v.words[:top], v.matrix[:top]), f"{spec} (top {top} words)"
    words, matrix = clf.trained.network.encoder.input_vectors(clf.trained.featurizer)
    return Neighbours(words, matrix), "the model's own embeddings"


def _examples(args: argparse.Namespace, clf) -> tuple[list, str]:
    """The labelled examples to attack (the run's own split, --data or its test file)."""

    cfg = clf.config
    if args.split:
        if args.data:
            raise AnrcInputError("--split and --data exclude each other")
        # The run's own split (same dev seed), without any augmentation: attacking the
        # training part gives adversarial examples to train on that never saw dev or test.
        train, dev, test = load_training_data(replace(cfg.data, augment=""))
        examples = {"train": train, "dev": dev, "test": test}[args.split]
        path = cfg.data.test if args.split == "test" else f"{args.split} split of {cfg.data.train}"
    else:
        path = args.data or cfg.data.test
        if not path:
            raise AnrcInputError("no --data given and the run has no test file")
        examples = read(path, negative=clf.labels.negative, labelled=True).examples
    examples = [ex for ex in examples if ex.label in clf.labels]
    return (examples[: args.limit] if args.limit else examples), path


def _embedding_attack(args: argparse.Namespace, clf, examples: list, summary: dict) -> list[str]:
    """FGM or PGD over the eps grid; returns the report's lines."""

    relative = args.scale == "relative"
    rows = []
    for eps in args.eps:
        kw = {"steps": args.steps} if args.method == "pgd" else {}
        res = evaluate_under_attack(
            clf.trained, examples, args.method, eps, relative=relative, **kw
        )
        res.pop("predictions")
        rows.append(res)
        print(f"eps {eps:g}: F1 {res['f1']:.2f}  accuracy {res['accuracy']:.2f}", file=sys.stderr)
    summary.update(curve=rows, scale=args.scale)
    ball = (
        "eps times the mean token-vector norm times sqrt(tokens), per sentence: eps is relative"
        if relative
        else "radius eps per sentence"
    )
    lines = [
        f"White-box attack on the embedded input, `embed(batch)` (L2 ball of {ball})"
        + (f", {args.steps} PGD steps." if args.method == "pgd" else ", one FGM step."),
        "",
        "| eps | official F1 | accuracy |",
        "|---|---|---|",
    ]
    return lines + [f"| {r['epsilon']:g} | {r['f1']:.2f} | {r['accuracy']:.2f} |" for r in rows]


def _word_attack(args, clf, examples: list, summary: dict, out: Path) -> list[str]:
    """Greedy word substitution or its random control; returns the report's lines."""

    nb, source = _neighbours(clf, args.vocab_top, args.neighbours)
    rng = np.random.default_rng(args.seed)
    results = []
    with open(out / "adversarial.jsonl", "w") as f:
        for ex in progress(examples, desc=f"{args.method} attack", unit="sentences"):
            if args.method == "word":
                r = greedy_attack(clf, ex, nb, args.max_fraction)
            else:
                r = random_attack(clf, ex, nb, budget(ex, args.max_fraction), rng)
            results.append(r)
            f.write(json.dumps(r.to_json()) + "\n")
    # Successful adversarial examples with their gold labels: training data for --augment.
    write_jsonl(
        [r.perturbed for r in results if r.before == r.gold != r.after], out / "augment.jsonl"
    )
    s = summarise(results)
    summary.update(s, neighbours=source, max_fraction=args.max_fraction)
    kind = (
        "greedy, importance by deletion"
        if args.method == "word"
        else ("random positions and neighbours: the control")
    )
    return [
        f"Word substitution ({kind}); neighbours from {source}, cosine >= 0.6, no stop words, "
        f"entities untouched, at most {args.max_fraction:.0%} of the words.",
        "",
        "| accuracy before | accuracy after | success rate | words changed | queries |",
        "|---|---|---|---|---|",
        f"| {s['accuracy_before']:.2f} | {s['accuracy_after']:.2f} | "
        f"{s['success_rate']:.2f} | {100 * s['mean_fraction_changed']:.1f}% | "
        f"{s['mean_queries']:.1f} |",
        "",
        "The examples themselves are in `adversarial.jsonl`.",
    ]


def run(args: argparse.Namespace) -> int:
    if args.threads:
        # One thread per process when several run side by side: oversubscribed
        # intra-op threads made the word attack 7x slower on a 2-core machine.
        torch.set_num_threads(args.threads)
    clf = load_classifier(args.run_dir, args.device)
    examples, path = _examples(args, clf)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    summary: dict = {"run": args.run_dir, "data": path, "method": args.method}
    summary["examples"] = len(examples)
    lines = [
        f"# anrc attack: {args.method}",
        "",
        f"Run `{args.run_dir}`, data `{path}` ({len(examples)} labelled examples).",
        "",
    ]
    if args.method in EMBEDDING_ATTACKS:
        lines += _embedding_attack(args, clf, examples, summary)
    else:
        lines += _word_attack(args, clf, examples, summary, out)
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    (out / "report.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {out / 'report.md'}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    embedding = "/".join(EMBEDDING_ATTACKS.choices())

    p = sub.add_parser("attack", help="measure robustness of a trained run")
    p.add_argument(
        "run_dir", help="a trained run directory, or a shipped model (anrc models lists them)"
    )
    p.add_argument(
        "--method", choices=attack_names(), required=True, help="the attack (a registered name)"
    )
    p.add_argument("--data", help="labelled file (default: the run's test file)")
    p.add_argument(
        "--split",
        choices=("train", "dev", "test"),
        help="attack one of the run's own splits (train: for --augment data)",
    )
    p.add_argument("--limit", type=int, default=0, help="attack only the first N examples")
    p.add_argument("--out", required=True, help="folder for the attack's report and examples")
    p.add_argument(
        "--eps",
        type=float,
        nargs="+",
        default=list(DEFAULT_RADII),
        help=f"radii for {embedding}",
    )
    p.add_argument(
        "--scale",
        choices=SCALES,
        default=SCALES[0],
        help=f"{embedding}: eps is a radius, or relative to the size of the input (eps times the "
        "mean token-vector norm times sqrt(tokens): comparable across encoders)",
    )
    p.add_argument("--steps", type=int, default=10, help="PGD steps")
    p.add_argument(
        "--max-fraction",
        type=float,
        default=0.2,
        help="word attacks: most words changed, as a fraction of the sentence",
    )
    p.add_argument(
        "--vocab-top",
        type=int,
        default=50000,
        help="neighbours come from the N most frequent pretrained words",
    )
    p.add_argument(
        "--neighbours",
        default="",
        help="word attacks: vectors the neighbours come from, e.g. glove-6b-50d (default: the "
        "run's pretrained vectors, else its own input vectors); one space for every encoder",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the random-word control")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    add_device_option(p)
    p.set_defaults(func=run)
