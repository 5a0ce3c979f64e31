"""Report of an experiment grid: tables (mean ± std over seeds), paired tests, plots."""

from __future__ import annotations

import functools
import json
import statistics
import sys
import tomllib
from collections import defaultdict
from pathlib import Path

from anrc.data import read
from anrc.data.answers import read_answers
from anrc.experiments.grid import Grid, GridRun
from anrc.experiments.robustness import robustness_section
from anrc.fsio import atomic_save, atomic_write_text
from anrc.metrics.significance import mean_std, paired_bootstrap, sign_test

FIGURES = ("test_f1", "test_accuracy", "dev_f1", "train_f1", "train_accuracy")


def collect(runs: list[GridRun]) -> dict:
    """Per (variant, axis value): per-seed summaries and epoch curves of finished runs."""
    groups: dict = defaultdict(lambda: {"seeds": {}, "curves": {}})
    for r in runs:
        if not r.done:
            continue
        summary = json.loads((r.path / "scores.json").read_text())["summary"]
        metrics = [json.loads(x) for x in (r.path / "metrics.jsonl").read_text().splitlines()]
        g = groups[(r.variant, r.axis_value)]
        g["seeds"][r.seed] = summary
        g["curves"][r.seed] = metrics
    return groups


def _references(grid: Grid, groups: dict) -> list[tuple]:
    """(key, reference key) pairs: each variant against each baseline variant at the
    same axis value, and each axis value against the axis baseline of the same variant."""
    pairs = []
    for variant, value in groups:
        # a baseline is compared only with the baselines listed before it (no mirror pairs)
        own = grid.baseline.index(variant) if variant in grid.baseline else len(grid.baseline)
        pairs += [((variant, value), (b, value)) for b in grid.baseline[:own]]
        if grid.axis_baseline is not None and value != grid.axis_baseline:
            pairs.append(((variant, value), (variant, grid.axis_baseline)))
    return [(key, ref) for key, ref in pairs if ref in groups]


def compare(grid: Grid, runs: list[GridRun], groups: dict, bootstrap: int = 1000) -> list[dict]:
    """Paired by seed: test-F1 differences, sign test and paired bootstrap per seed."""
    by_key = {(r.variant, r.axis_value, r.seed): r for r in runs if r.done}
    out = []
    for key, ref in _references(grid, groups):
        g, base = groups[key]["seeds"], groups[ref]["seeds"]
        seeds = sorted(set(g) & set(base))
        if not seeds:
            continue
        deltas = [g[s]["test_f1"] - base[s]["test_f1"] for s in seeds]
        boots = []
        for s in seeds:
            ra, rb = by_key[(*ref, s)], by_key[(*key, s)]
            gold = _gold(ra)
            if gold is None:
                continue
            pa, _ = read_answers(ra.path / "test_predictions.txt")
            pb, _ = read_answers(rb.path / "test_predictions.txt")
            ids = list(gold)
            boots.append(
                paired_bootstrap(
                    [gold[i] for i in ids],
                    [pa[i] for i in ids],
                    [pb[i] for i in ids],
                    n=bootstrap,
                    seed=s,
                )["p_value"]
            )
        out.append(
            {
                "variant": key[0],
                "axis_value": key[1],
                "baseline": ref[0],
                "baseline_axis_value": ref[1],
                "seeds": seeds,
                "delta_test_f1": deltas,
                "mean_delta": statistics.mean(deltas),
                "sign_test_p": sign_test(deltas),
                "bootstrap_p_per_seed": boots,
            }
        )
    return out


def _gold(run: GridRun) -> dict[str, str] | None:
    """Gold test labels, from the test file the run's config names."""

    with open(run.path / "config.toml", "rb") as f:
        data = tomllib.load(f).get("data", {})
    cfg_test, negative = data.get("test", ""), data.get("negative", "Other")
    if not cfg_test or not Path(cfg_test).is_file():
        return None
    return _read_gold(cfg_test, negative)


@functools.cache
def _read_gold(path: str, negative: str) -> dict[str, str]:
    # Read once per report, not once per seed pair.

    return {ex.id: ex.label for ex in read(path, negative=negative).examples}


def _plots(grid: Grid, groups: dict, out: Path) -> list[str]:
    """curve.png (axis grids) or bars.png, and convergence.png; none without matplotlib."""
    try:
        import matplotlib  # optional: dev
    except ImportError:  # plots are optional: the report's tables are written without them
        print("note: matplotlib is not installed; the report has no plots", file=sys.stderr)
        return []
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # optional: dev

    name = (
        _curve_plot(plt, grid, groups, out)
        if grid.axis_setting
        else _bar_plot(plt, grid, groups, out)
    )
    return [name, _convergence_plot(plt, grid, groups, out)]


def _test_f1s(groups: dict, key) -> list[float]:
    return [s["test_f1"] for s in groups.get(key, {"seeds": {}})["seeds"].values()]


def _curve_plot(plt, grid: Grid, groups: dict, out: Path) -> str:
    """Test F1 (mean ± std over seeds) against the axis value, one line per variant."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for v in grid.variants:
        xs, ms, ss = [], [], []
        for x in grid.axis_values:
            if f1 := _test_f1s(groups, (v, x)):
                m, sd = mean_std(f1)
                xs.append(x), ms.append(m), ss.append(sd)
        ax.errorbar(xs, ms, yerr=ss, marker="o", capsize=3, label=v)
    numeric = all(isinstance(x, int | float) for x in grid.axis_values)
    if numeric and max(grid.axis_values) / max(min(grid.axis_values), 1e-12) > 20:
        ax.set_xscale("log")
    ax.set_xlabel(grid.axis_setting)
    ax.set_ylabel("official test macro-F1 (%)")
    ax.set_title(f"{grid.name}: mean ± std over seeds")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    _save_figure(fig, out / "curve.png")
    plt.close(fig)
    return "curve.png"


def _metric(runs: list[GridRun]) -> str:
    """What the figures are: SemEval's official score, or the same scorer on another
    corpus (its test file and negative class, from a finished run's saved config)."""
    data = next(
        (
            tomllib.loads((r.path / "config.toml").read_text()).get("data", {})
            for r in runs
            if r.done
        ),
        {},
    )
    test, negative = data.get("test", ""), data.get("negative", "Other")
    if not test or "semeval" in test.lower():
        return "Official SemEval-2010 Task 8 macro-F1"
    return (
        f"Official macro-F1 (SemEval-2010 Task 8's scorer on `{test}`: relation types "
        f"macro-averaged, directions counted, `{negative}` left out)"
    )


def _save_figure(fig, path: Path) -> None:
    """Save as PNG atomically (two workers of one grid may write its report at once)."""
    atomic_save(path, lambda tmp: fig.savefig(tmp, dpi=120, format="png"))


def _bar_plot(plt, grid: Grid, groups: dict, out: Path) -> str:
    """Test F1 (mean ± std over seeds) per variant."""
    variants = list(grid.variants)
    fig, ax = plt.subplots(figsize=(max(4, 1.2 * len(variants)), 4))
    ms, ss = zip(*(mean_std(_test_f1s(groups, (v, None))) for v in variants), strict=True)
    ax.bar(variants, ms, yerr=ss, capsize=4, color="tab:blue", alpha=0.8)
    ax.set_ylabel("official test macro-F1 (%)")
    ax.set_title(f"{grid.name}: mean ± std over seeds")
    ax.set_ylim(max(0, min(m for m in ms if m == m) - 10) if any(m == m for m in ms) else 0)
    plt.setp(ax.get_xticklabels(), rotation=20, ha="right")
    fig.tight_layout()
    _save_figure(fig, out / "bars.png")
    plt.close(fig)
    return "bars.png"


def _convergence_plot(plt, grid: Grid, groups: dict, out: Path) -> str:
    """Dev and test F1 per epoch, mean with a band of one std over seeds (for an axis grid,
    its last value only)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for key, g in groups.items():
        if grid.axis_setting and key[1] != grid.axis_values[-1]:
            continue
        for ax, split in zip(axes, ("dev_f1", "test_f1"), strict=True):
            curves = [[m.get(split) for m in c] for c in g["curves"].values()]
            n = min(len(c) for c in curves)
            if n == 0 or any(c[0] is None for c in curves):
                continue
            mean, sd = zip(*(mean_std([c[i] for c in curves]) for i in range(n)), strict=True)
            ep = list(range(1, n + 1))
            ax.plot(ep, mean, label=grid.key_name(*key))
            low = [a - b for a, b in zip(mean, sd, strict=True)]
            ax.fill_between(ep, low, [a + b for a, b in zip(mean, sd, strict=True)], alpha=0.2)
            ax.set_title(split.replace("_", " ") + " per epoch")
            ax.set_xlabel("epoch")
            ax.grid(alpha=0.3)
    axes[0].set_ylabel("official macro-F1 (%)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    _save_figure(fig, out / "convergence.png")
    plt.close(fig)
    return "convergence.png"


def _rows(groups: dict) -> list[dict]:
    """One row per (variant, axis value): each figure's mean, std and per-seed values."""
    rows = []
    for key, g in groups.items():
        seeds = sorted(g["seeds"])
        row = {"variant": key[0], "axis_value": key[1], "seeds": seeds}
        for fig in FIGURES:
            vals = [g["seeds"][s].get(fig) for s in seeds]
            vals = [v for v in vals if v is not None]
            m, sd = mean_std(vals)
            row[fig] = {"mean": m, "std": sd, "per_seed": vals}
        row["selected_epoch"] = [g["seeds"][s]["selected_epoch"] for s in seeds]
        rows.append(row)
    return rows


def _table_lines(grid: Grid, rows: list[dict]) -> list[str]:
    """The results table: one line per row."""
    ax = f" | {grid.axis_setting}" if grid.axis_setting else ""
    lines = [
        f"| variant{ax} | seeds | test F1 | per seed | test acc | train F1 | train acc | dev F1 | epochs |",
        "|---" * (9 + bool(ax)) + "|",
    ]
    for r in rows:

        def ms(fig, r=r):
            if not r[fig]["per_seed"]:
                return "–"  # runs made before this figure was recorded
            return f"{r[fig]['mean']:.2f} ± {r[fig]['std']:.2f}"

        axv = f" | {r['axis_value']}" if grid.axis_setting else ""
        lines.append(
            f"| {r['variant']}{axv} | {len(r['seeds'])} | {ms('test_f1')} | "
            + ", ".join(f"{v:.2f}" for v in r["test_f1"]["per_seed"])
            + f" | {ms('test_accuracy')} | {ms('train_f1')} | {ms('train_accuracy')} | "
            f"{ms('dev_f1')} | {', '.join(map(str, r['selected_epoch']))} |"
        )
    return lines


def _comparison_lines(grid: Grid, comparisons: list[dict]) -> list[str]:
    """The paired comparisons against each variant's baseline."""
    if not comparisons:
        return []
    ax = f" | {grid.axis_setting}" if grid.axis_setting else ""
    lines = [
        "",
        "Paired comparisons (same seed, same test sentences): mean difference in "
        "test F1, exact sign test over seeds (two-sided), and the paired-bootstrap "
        "p-value per seed (one-sided, that the variant is not better).",
        "",
        f"| variant{ax} | against | Δ test F1 per seed | mean Δ | sign test p "
        "| bootstrap p per seed |",
        "|---" * (6 + bool(ax)) + "|",
    ]
    for c in comparisons:
        axv = f" | {c['axis_value']}" if grid.axis_setting else ""
        ref = grid.key_name(c["baseline"], c["baseline_axis_value"])
        lines.append(
            f"| {c['variant']}{axv} | {ref} | "
            + ", ".join(f"{d:+.2f}" for d in c["delta_test_f1"])
            + f" | {c['mean_delta']:+.2f} | {c['sign_test_p']:.3f} | "
            + ", ".join(f"{p:.3f}" for p in c["bootstrap_p_per_seed"])
            + " |"
        )
    return lines


def write_report(
    grid: Grid, runs: list[GridRun], out: Path, command: str, bootstrap: int = 1000,
    notes: list[str] = (), after: list[str] = (),
) -> dict:  # fmt: skip
    """Write OUT/summary.json and OUT/report.md (tables, comparisons, robustness, plots);
    ``notes`` are report lines placed before the tables (what dev chose), ``after``
    lines after them (dev's pick ensembled)."""
    groups = collect(runs)
    rows = _rows(groups)
    comparisons = compare(grid, runs, groups, bootstrap)
    plots = _plots(grid, groups, out) if groups else []
    robust_lines, robust, robust_plots = robustness_section(grid, runs, out)
    finished = sum(r.done for r in runs)
    summary = {
        "grid": grid.name,
        "description": grid.description,
        "command": command,
        "runs": len(runs),
        "finished": finished,
        "rows": rows,
        "comparisons": comparisons,
    }
    if robust:
        summary["attacks"] = robust
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=1, default=str))
    lines = [
        f"# {grid.name}",
        "",
        grid.description,
        "",
        f"Command: `{command}`",
        "",
        f"Base config `{grid.config}`; {finished} of {len(runs)} runs finished. "
        f"{_metric(runs)} and accuracy in %, mean ± std over seeds; "
        "the epoch of each run is selected on its dev split.",
        "",
        *notes,
        *_table_lines(grid, rows),
        *_comparison_lines(grid, comparisons),
        *robust_lines,
        *after,
    ]
    lines += [""] + [f"![{p}]({p})" for p in plots + robust_plots]
    atomic_write_text(out / "report.md", "\n".join(lines) + "\n")
    return summary
