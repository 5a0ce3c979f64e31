"""Attack figures of the epsilon grid's eps-1.0 and eps-2.0 models against the ANRC
(eps 0.02) models of the robustness grid, same seeds: PGD F1 at a few radii and the
greedy word attack.

    .venv/bin/python scripts/epsilon_robustness.py > results/epsilon_robustness.md

The attack summaries come from the grids' archives when their run folders are absent.
"""

import json
from pathlib import Path

from anrc.experiments.archive import unpack
from anrc.metrics.significance import mean_std

MODELS = {
    "ANRC, eps 0.02": "results/experiments/robustness/runs/anrc/seed{s}",
    "ANRC, eps 1.0": "results/experiments/epsilon/runs/at/epsilon=1.0/seed{s}",
    "ANRC, eps 2.0": "results/experiments/epsilon/runs/at/epsilon=2.0/seed{s}",
}
SEEDS = (1, 2, 3)
RADII = (0.0, 0.1, 0.5, 1.0)


def ms(xs: list[float]) -> str:
    return "{:.2f} ± {:.2f}".format(*mean_std(xs))


def main() -> None:
    for grid in ("robustness", "epsilon"):
        unpack(Path("results/experiments") / grid)
    head = ["model", "seeds"] + [f"PGD eps {e:g}" if e else "clean" for e in RADII]
    head += ["drop at 0.5", "drop at 1.0", "word attack: success rate"]
    print("| " + " | ".join(head) + " |")
    print("| " + " | ".join("---" for _ in head) + " |")
    for name, pattern in MODELS.items():
        f1 = {e: [] for e in RADII}
        word = []
        for s in SEEDS:
            run = Path(pattern.format(s=s))
            pgd = json.loads((run / "attack/pgd/summary.json").read_text())
            by_eps = {c["epsilon"]: c["f1"] for c in pgd["curve"]}
            for e in RADII:
                f1[e].append(by_eps[e])
            word.append(json.loads((run / "attack/word/summary.json").read_text())["success_rate"])
        drops = [[a - b for a, b in zip(f1[0.0], f1[e], strict=True)] for e in (0.5, 1.0)]
        cells = [name, str(len(SEEDS))] + [ms(f1[e]) for e in RADII]
        cells += [ms(d) for d in drops] + [ms(word)]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
