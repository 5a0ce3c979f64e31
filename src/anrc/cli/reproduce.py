"""``anrc reproduce``: train a finished run again from its own saved settings and compare
what it recorded, epoch by epoch (training loss, dev and test scores), and its dev and
test predictions, bit for bit. Identical means the new weights are the run's own, so
``--store`` may then keep their answers beside it (``probabilities.jsonl.gz``): the way
back for a run whose weights were lost with the machine that trained it."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from anrc.cli.train import train_and_report
from anrc.errors import AnrcInputError
from anrc.experiments.archive import restore_run
from anrc.fsio import atomic_write_text
from anrc.inference.stored import STORED, store_run
from anrc.training.checkpoint import CHECKPOINT
from anrc.training.loop import resume_config

#: a metrics row's wall-clock figures, which no two runs share
TIMINGS = ("train_seconds", "seconds")
PREDICTIONS = ("dev_predictions.txt", "test_predictions.txt")
#: what a reproduced run's folder records (the grid archive keeps it)
REPRODUCED = "reproduced.json"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "reproduce",
        help="train a finished run again from its saved settings and compare it bit for bit",
        description="Trains RUN_DIR's config.toml (every setting resolved: seed, threads, "
        "data) into --out, then compares each epoch's metrics row (timings left out) and "
        "the dev and test predictions with RUN_DIR's. Exit 0 when all are identical, 1 when "
        "not. A run kept only in a committed grid's archive is extracted first. Floating-"
        "point order can differ between CPUs (AVX2, AVX-512, AMX) and thread counts, so a "
        "difference on another machine is not by itself a fault.",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="the finished run")
    p.add_argument("--out", required=True, help="folder for the new run (resumed if there)")
    p.add_argument("--store", action="store_true",
                   help=f"when identical, store the new weights' answers ({STORED}) in RUN_DIR "
                   f"too, with {REPRODUCED} saying how")  # fmt: skip
    p.set_defaults(func=run)


def metrics_rows(run: Path) -> list[dict]:
    """The run's metrics rows without their wall-clock figures."""
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(ln).items() if k not in TIMINGS} for ln in lines if ln]


def compare(old: Path, new: Path) -> dict:
    """Epoch by epoch (the first differing key of each row, or None) and each predictions
    file (identical, or absent from one side); ``identical`` over all of them."""
    old_rows, new_rows = metrics_rows(old), metrics_rows(new)
    epochs = []
    for i in range(max(len(old_rows), len(new_rows))):
        a = old_rows[i] if i < len(old_rows) else {}
        b = new_rows[i] if i < len(new_rows) else {}
        differs = next((k for k in sorted(a.keys() | b.keys()) if a.get(k) != b.get(k)), None)
        epochs.append({"epoch": i + 1, "differs": differs,
                       "old": {k: a.get(k) for k in ("train_loss", "dev_f1", "test_f1")},
                       "new": {k: b.get(k) for k in ("train_loss", "dev_f1", "test_f1")}})  # fmt: skip
    files = {}
    for name in PREDICTIONS:
        if (old / name).is_file() and (new / name).is_file():
            files[name] = (old / name).read_bytes() == (new / name).read_bytes()
    identical = all(e["differs"] is None for e in epochs) and all(files.values()) and bool(files)
    return {"run": str(old), "by": str(new), "identical": identical, "epochs": epochs,
            "predictions": files}  # fmt: skip


def _show(result: dict) -> None:
    for e in result["epochs"]:
        old, new = e["old"], e["new"]
        state = "identical" if e["differs"] is None else f"differs ({e['differs']})"
        print(f"epoch {e['epoch']}: {state}; train loss {old['train_loss']} -> "
              f"{new['train_loss']}, dev F1 {old['dev_f1']} -> {new['dev_f1']}")  # fmt: skip
    for name, same in result["predictions"].items():
        print(f"{name}: {'identical' if same else 'different'}")
    verdict = "identical: the new weights are the run's" if result["identical"] else "not identical"
    print(f"{result['run']}: {verdict}")


def run(args: argparse.Namespace) -> int:
    old, new = Path(args.run_dir), Path(args.out)
    if restore_run(old):
        print(f"{old}: extracted from its grid's archive", file=sys.stderr)
    if not (old / "scores.json").is_file():
        raise AnrcInputError("not a finished run (no scores.json)", str(old))
    if old.resolve() == new.resolve():
        raise AnrcInputError("--out must be another folder than the run", str(new))
    try:
        cfg = resume_config(old)
    except (ValueError, TypeError) as err:
        raise AnrcInputError(str(err)) from None
    if not (new / "scores.json").is_file():
        rc = train_and_report(cfg, new, (new / CHECKPOINT).is_file())
        if rc:
            return rc
    result = compare(old, new)
    atomic_write_text(new / REPRODUCED, json.dumps(result, indent=1))
    _show(result)
    if args.store and not result["identical"]:
        print(f"not stored: {new} is not {old}, so its answers are not the run's", file=sys.stderr)
    elif args.store:
        print(store_run(new), flush=True)
        shutil.copyfile(new / STORED, old / STORED)
        atomic_write_text(old / REPRODUCED, json.dumps(result, indent=1))
        print(f"{old / STORED}: the answers of {new}, which reproduces the run bit for bit")
    return 0 if result["identical"] else 1
