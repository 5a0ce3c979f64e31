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


def _test_bins(clf, cal: Calibration) -> dict | None:
    """The model's test file at T = 1 and at the fitted T: ECE and reliability bins
    (reported, chooses nothing); None without a readable test file."""
    test = clf.config.data.test
    if not test or not Path(test).is_file():
        return None
    exs = [ex for ex in read(test, negative=clf.labels.negative, labelled=True).examples
           if ex.label in clf.labels]  # fmt: skip
    probs = clf.raw_probs(exs)
    idx = np.array([clf.labels.index(ex.label) for ex in exs])
    after = cal.apply(probs)
    return {"sentences": len(exs),
            "ece_before": expected_calibration_error(probs, idx),
            "ece_after": expected_calibration_error(after, idx),
            "bins_before": [vars(b) for b in reliability(probs, idx)],
            "bins_after": [vars(b) for b in reliability(after, idx)]}  # fmt: skip


def _test_lines(test: dict | None) -> list[str]:
    if test is None:
        return ["(no test file in the model's settings: test ECE not measured)"]
    return [f"Test ({test['sentences']} sentences, reported only): ECE {test['ece_before']:.4f} "
            f"before, {test['ece_after']:.4f} after.", "",
            "Reliability on test after:", "", *_bins_table(test["bins_after"])]  # fmt: skip


def _diagram(out: Path, panels: dict[str, tuple[list[dict], list[dict]]]) -> str | None:
    """reliability.png: per panel (title: (bins before, bins after)), each bin's accuracy
    against its mean confidence before and after scaling, the diagonal being perfect
    calibration and each point's area its share of the sentences; None without
    matplotlib."""
    try:
        import matplotlib  # optional: dev
    except ImportError:
        print("note: matplotlib is not installed; the report has no diagram", file=sys.stderr)
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # optional: dev

    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.2), squeeze=False)
    for ax, (title, (before, after)) in zip(axes[0], panels.items(), strict=True):
        ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=1, label="calibrated")
        for bins, name, colour in ((before, "T = 1", "tab:red"), (after, "fitted T", "tab:blue")):
            total = sum(b["count"] for b in bins) or 1
            xs, ys = [b["confidence"] for b in bins], [b["accuracy"] for b in bins]
            ax.plot(xs, ys, color=colour, linewidth=1, alpha=0.7)
            sizes = [12 + 600 * b["count"] / total for b in bins]
            ax.scatter(xs, ys, s=sizes, color=colour, alpha=0.6, label=name)
        ax.set(title=title, xlabel="confidence (top probability)", ylabel="accuracy",
               xlim=(0, 1.02), ylim=(0, 1.02))  # fmt: skip
        ax.legend(loc="upper left", fontsize=8, markerscale=0.4)
    fig.tight_layout()
    fig.savefig(out / "reliability.png", dpi=110)
    plt.close(fig)
    return "reliability.png"


def write_report(out: Path, clf, cal: Calibration, command: str) -> None:
    """OUT/report.md (ECE and reliability bins) and OUT/reliability.png."""
    out.mkdir(parents=True, exist_ok=True)
    test = _test_bins(clf, cal)
    panels = {f"fitting data ({cal.sentences})": (cal.bins_before, cal.bins_after)}
    if test is not None:
        panels[f"test ({test['sentences']}, reported only)"] = (
            test["bins_before"], test["bins_after"])  # fmt: skip
    picture = _diagram(out, panels)
    lines = [f"# Calibration ({cal.sentences} sentences: {cal.fitted_on})", "",
             f"Command: `{command}`", "",
             f"Temperature {cal.temperature:.4f}; no-relation threshold {cal.threshold:.2f} "
             f"(official F1 {cal.f1_at_threshold[f'{cal.threshold:.2f}']:.2f} on the fitting data). "
             f"ECE {cal.ece_before:.4f} before, {cal.ece_after:.4f} after.", "",
             *([f"![reliability diagram]({picture})", ""] if picture else []),
             "Reliability before:", "", *_bins_table(cal.bins_before), "",
             "Reliability after:", "", *_bins_table(cal.bins_after), "", *_test_lines(test)]  # fmt: skip
    (out / "report.md").write_text("\n".join(lines) + "\n")
