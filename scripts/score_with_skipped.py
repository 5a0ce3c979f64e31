"""Score predictions against *every* labelled example of a SemEval-format file, the ones a
run skipped as invalid (``data.skip_invalid``) counted as answered with the negative
class: the conservative figure on the publishers' full test set.

    .venv/bin/python scripts/score_with_skipped.py KEY_FILE NEGATIVE PREDICTIONS...

KEY_FILE is read leniently (an ``ID<TAB>"sentence"`` line, then its label line), so the
examples anrc's reader refuses (an empty entity, for instance) keep their gold label.
Prints, per predictions file, the official F1 on the examples scored and on all of them.
"""

import re
import sys
from pathlib import Path

from anrc.data.answers import read_answers
from anrc.metrics.scorer import score


def gold_labels(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    gold = {}
    for i, line in enumerate(lines[:-1]):
        head = re.match(r"^(\S+)\t\s*\"", line)
        if head:
            gold[head.group(1)] = lines[i + 1].strip()
    return gold


def main(key_file: str, negative: str, *prediction_files: str) -> None:
    gold = gold_labels(Path(key_file))
    print(f"{key_file}: {len(gold)} labelled examples")
    print("| predictions | scored | official F1 (scored) | official F1 (all, skipped = negative) |")
    print("|---|---|---|---|")
    for path in prediction_files:
        preds, _ = read_answers(path)
        scored = {k: gold[k] for k in preds}
        every = {k: preds.get(k, negative) for k in gold}
        f1 = score(scored, preds, negative).official_f1
        f1_all = score(gold, every, negative).official_f1
        print(f"| {path} | {len(preds)} | {f1:.2f} | {f1_all:.2f} |")


if __name__ == "__main__":
    main(*sys.argv[1:])
