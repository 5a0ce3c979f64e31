"""Bit-for-bit check of a redesign: every committed config trained briefly by two trees.

Trains each ``configs/*.toml`` for a few epochs on the first training sentences with the
old tree's code and config and with the new tree's (``PYTHONPATH`` on each ``src``), then
compares the metrics rows (timings left out) and the test predictions, and prints a
Markdown table:

    python scripts/regress.py --old /work/before --new . --out /tmp/regress --set train.max_epochs=2

A config that needs data not on this machine (KBP37 without ``$KBP37``) is listed as
skipped. ``--override NAME:KEY=VALUE`` shortens one config's run (the base-size body).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from anrc.cli.reproduce import metrics_rows


def train(tree: Path, name: str, out: Path, sets: list[str]) -> int:
    """One run of ``anrc train`` with the code and config of ``tree``; its exit status."""
    if (out / "scores.json").is_file():
        return 0
    config = tree / "configs" / f"{name}.toml"
    env = dict(os.environ, PYTHONPATH=str((tree / "src").resolve()))
    cmd = [sys.executable, "-m", "anrc", "train", "--config", str(config), "--out", str(out)]
    for s in sets:
        cmd += ["--set", s]
    out.mkdir(parents=True, exist_ok=True)
    with open(out.parent / f"{out.name}.log", "w") as log:
        return subprocess.call(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)


def compare(old: Path, new: Path) -> tuple[list[dict], bool]:
    """(new's rows, whether rows and test predictions are identical)."""
    same_rows = metrics_rows(old) == metrics_rows(new)
    preds = "test_predictions.txt"
    same_preds = (old / preds).read_bytes() == (new / preds).read_bytes()
    return metrics_rows(new), same_rows and same_preds


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--old", required=True, type=Path, help="the old tree (a git worktree)")
    p.add_argument("--new", required=True, type=Path, help="the new tree")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--configs", nargs="*", help="names (default: every configs/*.toml)")
    p.add_argument("--set", action="append", default=[], dest="sets", help="for every config")
    p.add_argument("--override", action="append", default=[], help="NAME:KEY=VALUE")
    args = p.parse_args()
    print(
        "| config | epoch | train loss | dev F1 | test F1 | identical |\n|---|---|---|---|---|---|"
    )
    failed = 0
    names = args.configs or sorted(c.stem for c in (args.new / "configs").glob("*.toml"))
    for name in names:
        if name.startswith("kbp37") and not os.environ.get("KBP37"):
            print(f"| {name} | | | | | skipped: $KBP37 not set |")
            continue
        sets = args.sets + [o.split(":", 1)[1] for o in args.override if o.startswith(name + ":")]
        codes = [train(tree, name, args.out.resolve() / tag / name, sets) for tag, tree in
                 (("old", args.old), ("new", args.new))]  # fmt: skip
        if any(codes):
            print(f"| {name} | | | | | failed: exit {codes}, see {args.out}/*/{name}.log |")
            failed += 1
            continue
        new_rows, same = compare(args.out / "old" / name, args.out / "new" / name)
        failed += not same
        for r in new_rows:
            print(
                f"| {name} | {r['epoch']} | {r['train_loss']!r} | {r['dev_f1']:.2f} | "
                f"{r['test_f1']:.2f} | {'yes' if same else 'NO'} |",
                flush=True,
            )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
