"""The robustness part of an experiment report: every trained model of a grid attacked.

Reads ``RUN/attack/METHOD/summary.json`` (written by ``anrc attack``) for every run
and method of the grid's ``[[attack]]`` tables; tabulates mean ± std over seeds and
plots official F1 against eps for the embedding-space attacks.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

from anrc.attacks.embedding import EMBEDDING_ATTACKS
from anrc.experiments.grid import Grid, GridRun
from anrc.fsio import atomic_save
from anrc.metrics.significance import mean_std

EMBEDDING = EMBEDDING_ATTACKS.choices()
WORD_FIGURES = (
    ("accuracy_before", "accuracy before", 1.0),
    ("accuracy_after", "accuracy after", 1.0),
    ("success_rate", "success rate", 1.0),
    ("mean_fraction_changed", "words changed (%)", 100.0),
    ("mean_queries", "queries", 1.0),
)


def _ms(xs: list[float]) -> str:
    if not xs:
        return "–"
    return "{:.2f} ± {:.2f}".format(*mean_std(xs))


def collect_attacks(grid: Grid, runs: list[GridRun]) -> dict:
    """attack name -> row (variant, and axis value) -> seed -> the attack's summary.json."""
    out: dict = defaultdict(lambda: defaultdict(dict))
    for r in runs:
        for a in r.attacks(grid):
            if r.attacked(a["name"]):
                out[a["name"]][grid.key_name(r.variant, r.axis_value)][r.seed] = json.loads(
                    (r.attack_dir(a["name"]) / "summary.json").read_text()
                )
    return out


def _curves(per_seed: dict) -> dict[float, list[tuple[float, float]]]:
    """eps -> [(F1, accuracy) per seed]."""
    by_eps: dict = defaultdict(list)
    for s in per_seed.values():
        for row in s["curve"]:
            by_eps[row["epsilon"]].append((row["f1"], row["accuracy"]))
    return dict(sorted(by_eps.items()))


def robustness_section(
    grid: Grid, runs: list[GridRun], out: Path
) -> tuple[list[str], dict, list[str]]:
    """Markdown lines, a JSON-able summary and the plot files of the attacks."""
    data = collect_attacks(grid, runs)
    if not data:
        return [], {}, []
    lines = ["", "## Robustness", ""]
    summary: dict = {}
    for attack in grid.attacks:
        name = attack["name"]
        variants = data.get(name, {})
        if not variants:
            continue
        table = _embedding_table if attack["method"] in EMBEDDING else _word_table
        section, summary[name] = table(attack, variants)
        lines += section + [""]
        if attack["method"] in EMBEDDING and grid.baseline and not grid.axis_setting:
            lines += loss_ratio_table(variants, grid.baseline[0])
    emb = [a["name"] for a in grid.attacks if a["method"] in EMBEDDING and a["name"] in summary]
    plots = _plot(summary, emb, out)
    return lines, summary, plots


def _source(variants: dict) -> str:
    """'N sentences of FILE', from the first attack result."""
    first = next(iter(next(iter(variants.values())).values()))
    return f"{first['examples']} sentences of {first['data']}"


def _eps_head(first: list[str], eps: list[float]) -> list[str]:
    """A markdown table's header and rule: the ``first`` columns, then one per eps."""
    cols = [*first, *(f"eps {e:g}" for e in eps)]
    return ["| " + " | ".join(cols) + " |", "|---" * len(cols) + "|"]


def _embedding_table(attack: dict, variants: dict) -> tuple[list[str], dict]:
    """F1 against eps, mean ± std over seeds, for an attack on the embedded input."""
    curves = {v: _curves(ps) for v, ps in variants.items()}
    eps = sorted({e for c in curves.values() for e in c})
    summary = {
        v: {str(e): {"f1": [f for f, _ in c[e]], "accuracy": [a for _, a in c[e]]} for e in c}
        for v, c in curves.items()
    }
    what = "one FGM step" if attack["method"] == "fgm" else "PGD"
    ball = (
        "eps relative to the input's size (radius eps x mean token-vector norm x sqrt(tokens))"
        if attack.get("scale") == "relative"
        else "the radius eps"
    )
    lines = [
        f"White-box {what} on the embedded input ({_source(variants)}): official "
        f"macro-F1 (%) against {ball} of the per-sentence L2 ball, mean ± std "
        "over seeds.",
        "",
        *_eps_head(["variant", "seeds"], eps),
    ]
    for v, c in curves.items():
        cells = [_ms([f for f, _ in c.get(e, [])]) for e in eps]
        lines.append(f"| {v} | {len(variants[v])} | " + " | ".join(cells) + " |")
    return lines, summary


def _f1_by_eps(summary: dict) -> dict[float, float]:
    return {row["epsilon"]: row["f1"] for row in summary["curve"]}


def loss_ratios(variant: dict, reference: dict) -> dict[float, list[float | None]]:
    """eps -> per seed shared with ``reference``: the F1 the variant loses from eps 0 to
    eps over what the reference (e.g. no AT) loses, same seed; None where the reference
    loses nothing. Both map seed -> an attack's summary.json."""
    out: dict[float, list[float | None]] = defaultdict(list)
    for seed in sorted(set(variant) & set(reference)):
        v, r = _f1_by_eps(variant[seed]), _f1_by_eps(reference[seed])
        if 0.0 not in v or 0.0 not in r:
            continue
        for eps in sorted(set(v) & set(r) - {0.0}):
            lost = r[0.0] - r[eps]
            out[eps].append((v[0.0] - v[eps]) / lost if lost > 0 else None)
    return dict(out)


def loss_ratio_table(variants: dict, reference: str) -> list[str]:
    """Markdown: each variant's per-seed loss ratio against ``reference`` at every eps."""
    if reference not in variants:
        return []
    ref = variants[reference]
    ratios = {v: loss_ratios(ps, ref) for v, ps in variants.items() if v != reference}
    if not ratios:
        return []
    eps = sorted({e for r in ratios.values() for e in r})
    lines = [
        f"F1 lost under the attack relative to `{reference}`: per seed, (F1 at eps 0 - F1 at "
        f"eps) of the variant over the same for `{reference}` with the same seed (1 = as "
        "fragile, 0.5 = loses half as much; a model that collapsed in training has little "
        "to lose: read it with its eps 0 column); the mean of the seeds, then each seed.",
        "",
        *_eps_head(["variant"], eps),
    ]
    for v, r in ratios.items():
        cells = []
        for e in eps:
            xs = r.get(e, [])
            known = [x for x in xs if x is not None]
            per = ", ".join("–" if x is None else f"{x:.2f}" for x in xs)
            cells.append(f"{sum(known) / len(known):.2f} ({per})" if known else "–")
        lines.append(f"| {v} | " + " | ".join(cells) + " |")
    return lines + [""]


def _word_table(attack: dict, variants: dict) -> tuple[list[str], dict]:
    """Success rate and the other word-attack figures, mean ± std over seeds."""
    name, method = attack["name"], attack["method"]
    summary = {
        v: {k: [s[k] * scale for s in ps.values()] for k, _, scale in WORD_FIGURES}
        for v, ps in variants.items()
    }
    kind = "greedy word substitution" if method == "word" else "random word substitution"
    kind += f" (`{name}`)" if name != method else ""
    lines = [
        f"{kind.capitalize()} ({_source(variants)}; success rate = correct predictions "
        "made wrong, in %), mean ± std over seeds.",
        "",
        "| variant | seeds | " + " | ".join(title for _, title, _ in WORD_FIGURES) + " |",
        "|---" * (len(WORD_FIGURES) + 2) + "|",
    ]
    for v, figs in summary.items():
        cells = [_ms(figs[k]) for k, _, _ in WORD_FIGURES]
        lines.append(f"| {v} | {len(variants[v])} | " + " | ".join(cells) + " |")
    return lines, summary


def _plot(summary: dict, methods: list[str], out: Path) -> list[str]:
    if not methods:
        return []
    try:
        import matplotlib  # optional: dev
    except ImportError:  # plots are optional: the report's tables are written without them
        print("note: matplotlib is not installed; the report has no plots", file=sys.stderr)
        return []
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # optional: dev

    fig, axes = plt.subplots(1, len(methods), figsize=(5.5 * len(methods), 4), squeeze=False)
    for ax, m in zip(axes[0], methods, strict=True):
        for v, by_eps in summary[m].items():
            eps = sorted(by_eps, key=float)
            means, sds = zip(*(mean_std(by_eps[e]["f1"]) for e in eps), strict=True)
            ax.errorbar([float(e) for e in eps], means, yerr=sds, marker="o", capsize=3, label=v)
        ax.set_xscale("symlog", linthresh=0.01)
        ax.set_xlabel("eps (L2 radius per sentence)")
        ax.set_ylabel("official test macro-F1 (%)")
        ax.set_title(f"{m.upper()} attack: mean ± std over seeds")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    atomic_save(out / "robustness.png", lambda tmp: fig.savefig(tmp, dpi=120, format="png"))
    plt.close(fig)
    return ["robustness.png"]
