"""Store trained runs' probabilities beside them (RUN/probabilities.jsonl.gz), so that
they can teach (train.teacher) or join an ensemble (anrc ensemble) on a machine that
no longer holds their weights; each file is read back and compared before it counts.

    .venv/bin/python scripts/store_probabilities.py RUN_DIR [RUN_DIR ...]

By default the run's training file (all of it: the dev split held out of it too) and
its test file; ``--data NAME=FILE`` (repeatable) names the files instead. The stored
weights' own answers (fp32). Test probabilities are kept for scoring an ensemble only;
a teacher reads the training sentences' alone (anrc.training.distill).
"""

import argparse
import sys
from pathlib import Path

import numpy as np

from anrc.data import read
from anrc.data.formats import expand_path
from anrc.inference.predict import predict_probs
from anrc.inference.stored import STORED, read_stored, write_stored
from anrc.models.trained import TrainedModel


def parts(run: TrainedModel, given: list[str]) -> dict[str, str]:
    if given:
        return dict(item.split("=", 1) for item in given)
    data = run.config.data
    files = {"train": data.train, "dev": data.dev, "test": data.test}
    return {name: expand_path(path) for name, path in files.items() if path}


def store(run_dir: Path, given: list[str], batch_size: int) -> None:
    run = TrainedModel.load(run_dir)
    fmt = run.config.data.format or None
    found = {}
    for name, path in parts(run, given).items():
        exs = read(path, negative=run.labels.negative, labelled=None, fmt=fmt).examples
        probs, _ = predict_probs(run, exs, batch_size, show_progress=f"{run_dir.name} {name}")
        found[name] = (path, exs, probs)
    target = run_dir / STORED
    count = write_stored(target, run.labels, found)
    for name, (_, exs, probs) in found.items():
        back = read_stored(target, exs, run.labels)
        if not np.array_equal(back, probs.astype(np.float32)):
            sys.exit(f"{target}: the {name} probabilities did not read back bit for bit")
    sizes = ", ".join(f"{name} {len(exs)}" for name, (_, exs, _) in found.items())
    kb = target.stat().st_size / 1024
    print(f"{target}: {count} sentences ({sizes}), {kb:.0f} KiB, read back bit for bit")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dirs", nargs="+", type=Path, metavar="RUN_DIR")
    ap.add_argument("--data", action="append", default=[], metavar="NAME=FILE")
    ap.add_argument("--batch-size", type=int, default=64)
    args = ap.parse_args()
    for run_dir in args.run_dirs:
        store(run_dir, args.data, args.batch_size)


if __name__ == "__main__":
    main()
