"""Choosing on dev inside a grid: a ``[select]`` stage, and dev's pick for an ensemble.

A grid may declare a setting that the dev split chooses for each variant before the
variant's seeds run, with its candidates written down before any run::

    [select]
    setting = "adversarial.epsilon"
    values = [0.05, 0.2, 1.0]
    seeds = [1]                      # the seeds the choice is made on (default: [1])
    variants = ["fgm", "pgd"]        # the variants that choose (default: every one)

The runner first runs each choosing variant at each value on those seeds (the
*selection stage*, ``OUT/select``), takes per variant the value of the best mean dev
F1 (a tie goes to the value listed first), writes it to ``OUT/select/choice.json``,
and then runs the grid with each variant at its value; the selection runs whose
configuration the grid repeats are reused, not trained again. The test set chooses
nothing. ``ensemble = true`` in a grid ensembles the seeds of the variant with the
best mean dev F1 once every run has finished.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import replace
from pathlib import Path

from anrc.experiments.grid import Grid, GridRun, format_value
from anrc.fsio import atomic_write_text


def selection_grid(grid: Grid) -> Grid:
    """The selection stage: each choosing variant (at each candidate value) on the select
    seeds; no attacks, no refit twins."""
    s = grid.select
    names = s.variants or list(grid.variants)
    by_value = s.among == "values"
    return replace(
        grid,
        name=f"{grid.name}-select",
        seeds=list(s.seeds),
        baseline=(),
        variants={v: grid.variants[v] for v in names},
        axis_setting=s.setting if by_value else None,
        axis_values=list(s.values) if by_value else [],
        axis_baseline=None,
        attacks=[],
        select=None,
        ensemble=False,
        refit=False,
    )


def _dev_f1(run: GridRun) -> float | None:
    if not run.done:
        return None
    return json.loads((run.path / "scores.json").read_text())["summary"].get("dev_f1")


def _mean_dev(runs: list[GridRun], where: str) -> float:
    f1 = [_dev_f1(r) for r in runs]
    if not f1 or None in f1:
        raise ValueError(f"select: {where} has unfinished runs (or no dev split); nothing chosen")
    return statistics.mean(f1)


def choose_variant(grid: Grid, runs: list[GridRun]) -> dict:
    """The variant of the best mean dev F1 over the selection runs (a tie: the one
    declared first): {"variant": name, "dev_f1": {variant: mean}}."""
    means = {v: _mean_dev([r for r in runs if r.variant == v], v) for v in grid.variants}
    return {"variant": max(grid.variants, key=lambda v: means[v]), "dev_f1": means}


def choose(grid: Grid, runs: list[GridRun]) -> dict:
    """Each variant's value of the best mean dev F1 over the selection runs:
    {variant: {"value": v, "dev_f1": {value: mean}}}; a variant with an unfinished
    candidate chooses nothing (ValueError)."""
    if grid.axis_setting is None:
        return choose_variant(grid, runs)
    out: dict = {}
    for variant in dict.fromkeys(r.variant for r in runs):
        means = {}
        for value in grid.axis_values:
            f1 = [_dev_f1(r) for r in runs if (r.variant, r.axis_value) == (variant, value)]
            if not f1 or None in f1:
                raise ValueError(
                    f"select: {variant} at {grid.axis_setting}={format_value(value)} has "
                    "unfinished runs (or no dev split); nothing chosen"
                )
            means[format_value(value)] = statistics.mean(f1)
        best = max(grid.axis_values, key=lambda v: means[format_value(v)])  # first on ties
        out[variant] = {"value": best, "dev_f1": means}
    return out


def with_choices(grid: Grid, choice: dict) -> Grid:
    """The grid with each choosing variant's setting at its chosen value; or, when dev
    chose among the variants, the grid of the chosen one (and the baselines)."""
    if grid.select.among == "variants":
        keep = [choice["variant"], *(b for b in grid.baseline if b != choice["variant"])]
        return replace(grid, variants={v: grid.variants[v] for v in keep}, baseline=())
    setting = grid.select.setting
    variants = {
        name: ({**sets, setting: choice[name]["value"]} if name in choice else sets)
        for name, sets in grid.variants.items()
    }
    return replace(grid, variants=variants)


def write_choice(path: Path, grid: Grid, choice: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    what = grid.select.setting or "variant"
    atomic_write_text(path, json.dumps({"setting": what, "choice": choice}, indent=1))


def choice_section(path: Path) -> list[str]:
    """The report's lines on what dev chose in the selection stage."""
    if not path.is_file():
        return []
    saved = json.loads(path.read_text())
    setting, choice = saved["setting"], saved["choice"]
    if setting == "variant":
        cands = ", ".join(f"{v}: {f1:.2f}" for v, f1 in choice["dev_f1"].items())
        return [
            "## Chosen on dev",
            "",
            f"The variant **{choice['variant']}**, of the best mean dev F1 in the selection "
            f"stage (`select/report.md`; {cands}); the test set chose nothing.",
            "",
        ]
    lines = [
        "## Chosen on dev",
        "",
        f"`{setting}` per variant, by the mean dev F1 of the selection stage "
        "(`select/report.md`); the test set chose nothing.",
        "",
        "| variant | chosen | dev F1 per candidate |",
        "|---|---|---|",
    ]
    for variant, c in choice.items():
        cands = ", ".join(f"{v}: {f1:.2f}" for v, f1 in c["dev_f1"].items())
        lines.append(f"| {variant} | {format_value(c['value'])} | {cands} |")
    return [*lines, ""]


def dev_pick(rows: list[dict], seeds: int) -> str | None:
    """The variant (no axis) of the best mean dev F1 among those with every seed finished."""
    full = [r for r in rows if len(r["seeds"]) == seeds and len(r["dev_f1"]["per_seed"]) == seeds]
    if not full:
        return None
    return max(full, key=lambda r: r["dev_f1"]["mean"])["variant"]


def ensemble_section(out: Path) -> list[str]:
    """The report's lines on dev's pick ensembled (OUT/ensembles/VARIANT/scores.json)."""
    found = sorted((out / "ensembles").glob("*/scores.json"))
    if not found:
        return []
    lines = [
        "",
        "## Dev's pick ensembled",
        "",
        "The seeds of the variant of the best mean dev F1, their probabilities averaged "
        "(`anrc ensemble`, `ensembles/VARIANT/scores.json`).",
        "",
        "| variant | members | test F1 | test acc | dev F1 |",
        "|---|---|---|---|---|",
    ]
    for path in found:
        s = json.loads(path.read_text())
        dev = s.get("dev") or {}
        dev_f1 = f"{dev['f1']:.2f}" if "f1" in dev else "–"
        lines.append(
            f"| {path.parent.name} | {len(s['runs'])} | {s['test']['f1']:.2f} | "
            f"{s['test']['accuracy']:.2f} | {dev_f1} |"
        )
    return lines
