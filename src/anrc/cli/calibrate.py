"""``anrc calibrate``: fit a model's temperature and no-relation threshold on held-out
data and store them with it (``calibration.json``)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from anrc.cli.common import add_model_argument, load_classifier
from anrc.data import read
from anrc.data.splits import load_training_data
from anrc.errors import AnrcInputError
from anrc.inference.calibrate import Calibration, fit
from anrc.metrics.calibration import expected_calibration_error, reliability


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "calibrate",
        help="fit the temperature and no-relation threshold on dev; stored with the model",
        description="Temperature scaling (Guo et al. 2017) and the threshold of best official "
        "F1, both on the model's own dev split (or --data: held-out labelled sentences it "
        "never trained on), written to calibration.json in the model's folder: predictions "
        "then carry calibrated probabilities (labels unchanged) and anrc extract's default "
        "--threshold is the fitted one.",
    )
    add_model_argument(p)
    p.add_argument("--data", help="held-out labelled sentences instead of the model's dev split")
    p.add_argument(
        "--from",
        dest="sibling",
        metavar="RUN",
        help="fit on RUN's dev split with RUN's answers and store the result with the model: "
        "for a model trained on all its data (a shipped one), RUN being the same recipe "
        "trained with a dev split held out; the report's test figures are the model's",
    )
    p.add_argument("--out", help="folder for calibration.json (default: the model's folder)")
    p.add_argument("--report", type=Path,
                   help="also write DIR/report.md: ECE and reliability bins before and after, on "
                   "the fitting data and, reported only, on the model's test file")  # fmt: skip
    p.set_defaults(func=run)


def held_out(clf, path: str | None) -> tuple[list, str]:
    """(labelled examples the model (``clf``) did not train on, where they came from)."""
    if path:
        return read(path, negative=clf.labels.negative, labelled=True).examples, path
    dev = load_training_data(replace(clf.config.data, test="", augment="", negatives=0))[1]
    if not dev:
        raise AnrcInputError(
            "the model kept no dev split (it trained on all its data): give --data FILE, "
            "labelled sentences it never saw"
        )
    return dev, "the model's dev split"


def run(args: argparse.Namespace) -> int:
    clf = load_classifier(args.model, "cpu", "fp32")
    fitter = clf
    if args.sibling:
        fitter = load_classifier(args.sibling, "cpu", "fp32")
        if fitter.labels.labels != clf.labels.labels:
            raise AnrcInputError(f"--from {args.sibling}: its labels are not the model's")
    examples, source = held_out(fitter, args.data)
    if args.sibling:
        source = f"{source} of {args.sibling}, with its answers (--from)"
    examples = [ex for ex in examples if ex.label in clf.labels]
    if not examples:
        raise AnrcInputError("no held-out sentence carries a label of the model", source)
    probs = fitter.raw_probs(examples)
    cal = fit(probs, [ex.label for ex in examples], clf.labels, source)
    folder = Path(args.out or args.model)
    if not folder.is_dir():
        raise AnrcInputError("not a folder to store calibration.json in (give --out)", str(folder))
    cal.save(folder)
    print(json.dumps({"temperature": round(cal.temperature, 4), "threshold": cal.threshold,
                      "ece_before": round(cal.ece_before, 4), "ece_after": round(cal.ece_after, 4),
                      "sentences": cal.sentences, "fitted_on": source}))  # fmt: skip
    if args.report:
        write_report(args.report, clf, cal, " ".join(["anrc", *sys.argv[1:]]))
    return 0


def _bins_table(bins: list[dict]) -> list[str]:
    rows = ["| confidence | sentences | mean confidence | accuracy |", "|---|---|---|---|"]
    rows += [f"| {b['lo']:.1f}-{b['hi']:.1f} | {b['count']} | {b['confidence']:.3f} | "
             f"{b['accuracy']:.3f} |" for b in bins]  # fmt: skip
    return rows


def _test_ece(clf, cal: Calibration) -> list[str]:
    """ECE on the model's test file at the fitted temperature (reported, chooses nothing)."""
    test = clf.config.data.test
    if not test or not Path(test).is_file():
        return ["(no test file in the model's settings: test ECE not measured)"]
    exs = [ex for ex in read(test, negative=clf.labels.negative, labelled=True).examples
           if ex.label in clf.labels]  # fmt: skip
    probs = clf.raw_probs(exs)
    idx = np.array([clf.labels.index(ex.label) for ex in exs])
    after = cal.apply(probs)
    return [f"Test ({len(exs)} sentences, reported only): ECE {expected_calibration_error(probs, idx):.4f} "
            f"before, {expected_calibration_error(after, idx):.4f} after.", "",
            "Reliability on test after:", "", *_bins_table([vars(b) for b in reliability(after, idx)])]  # fmt: skip


def write_report(out: Path, clf, cal: Calibration, command: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    lines = [f"# Calibration ({cal.sentences} sentences: {cal.fitted_on})", "",
             f"Command: `{command}`", "",
             f"Temperature {cal.temperature:.4f}; no-relation threshold {cal.threshold:.2f} "
             f"(official F1 {cal.f1_at_threshold[f'{cal.threshold:.2f}']:.2f} on the fitting data). "
             f"ECE {cal.ece_before:.4f} before, {cal.ece_after:.4f} after.", "",
             "Reliability before:", "", *_bins_table(cal.bins_before), "",
             "Reliability after:", "", *_bins_table(cal.bins_after), "", *_test_ece(clf, cal)]  # fmt: skip
    (out / "report.md").write_text("\n".join(lines) + "\n")
