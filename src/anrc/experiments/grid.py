"""Experiment grids: many ``anrc train`` runs declared in ``experiments/*.toml``.

A grid file names a base config, settings shared by every run, named variants
(each a set of overrides), optionally an axis (one setting swept over values),
the seeds, and the baseline the other variants are compared with::

    description = "..."
    config = "configs/anrc-scaled.toml"
    seeds = 3
    baseline = "no-at"          # or a list: every variant is compared with each
    [set]
    "train.max_epochs" = 30
    [axis]                      # optional
    setting = "data.train_limit"
    values = [1000, 2000, 4000, 8000]
    baseline = 8000             # optional: each value is also compared with this one
    [variants.at]
    "adversarial.method" = "fgm"
    [variants.no-at]
    "adversarial.method" = "none"

A variant may name its own base config (``config = "configs/cnn.toml"``), so one
grid can compare encoders.

Each run lives in ``OUT/runs/VARIANT[/AXIS=VALUE]/seedS``. A finished run (it has
``scores.json``) is never redone; an interrupted one resumes from its checkpoint.

A grid may also attack every trained model (``anrc attack``), one ``[[attack]]``
table per method, with the attack's options as keys::

    [[attack]]
    method = "pgd"
    eps = [0.0, 0.1, 0.5]
    steps = 10

The results go to ``RUN/attack/NAME/`` (``name`` defaults to the method; set it to
attack twice with one method, e.g. the training split with ``split = "train"``);
``variants = [...]`` limits an attack to some variants. Finished attacks are never
redone.

String overrides may name ``{seed}`` and ``{out}``: a variant can train on what an
attack of another variant wrote (``"data.augment" =
"{out}/runs/anrc/seed{seed}/attack/word-train/augment.jsonl"``): such runs start after all the others have finished.

``reuse`` folders let grids share runs: a run whose resolved configuration (base
config, overrides and seed) equals that of a finished run found there is copied
instead of trained again. Training is deterministic for a given configuration on one
machine (CPU model) and thread count, so there the copy is the run this grid would have
trained; on another machine the floats differ in the last digits and the seeds drift
apart over the epochs (docs/results/reproducing.md).

A grid may let the dev split choose a setting per variant before the seeds run
(``[select]``) and ensemble dev's pick afterwards (``ensemble = true``):
:mod:`anrc.experiments.selection`. This module only reads the declaration;
:mod:`anrc.experiments.runner` runs it, through :mod:`anrc.experiments.engine`.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from anrc.attacks import attack_names
from anrc.builder import load_config
from anrc.registry import did_you_mean

# Keys of an [[attack]] table, with the ``anrc attack`` option each becomes.
ATTACK_OPTIONS = {
    "eps": "--eps",
    "steps": "--steps",
    "max_fraction": "--max-fraction",
    "vocab_top": "--vocab-top",
    "limit": "--limit",
    "seed": "--seed",
    "split": "--split",
    "scale": "--scale",
    "neighbours": "--neighbours",
}
# Keys of an [[attack]] table that the runner itself reads.
ATTACK_KEYS = {"method", "name", "variants"}


@dataclass
class Select:
    """What the dev split chooses before the seeds run: a setting's value per variant
    (``setting`` and ``values``), or one of the variants (``among = "variants"``)."""

    setting: str = ""
    values: list = field(default_factory=list)
    seeds: list[int] = field(default_factory=lambda: [1])
    variants: list[str] = field(default_factory=list)  # [] = every variant
    among: str = "values"  # or "variants"

    @classmethod
    def from_dict(cls, d: dict, variants: dict, where: str) -> Select:
        unknown = set(d) - {"setting", "values", "seeds", "variants", "among"}
        among = d.get("among", "values")
        by_value = among == "values" and "setting" in d and d.get("values")
        by_variant = among == "variants" and "setting" not in d and "values" not in d
        if unknown or not (by_value or by_variant):
            raise ValueError(
                f"{where}: [select] takes setting and values (a non-empty list), or "
                f'among = "variants"; and seeds, variants'
                f"{f'; not {sorted(unknown)}' if unknown else ''}"
            )
        chosen = list(d.get("variants", []))
        if not set(chosen) <= set(variants):
            raise ValueError(f"{where}: [select] names a variant the grid does not have")
        seeds = list(d.get("seeds", [1]))
        return cls(d.get("setting", ""), list(d.get("values", [])), seeds, chosen, among)


@dataclass
class Grid:
    name: str
    description: str
    config: str
    seeds: list[int]
    baseline: tuple[str, ...]  # variants every other variant is compared with
    common: dict[str, object]
    variants: dict[str, dict[str, object]]
    axis_setting: str | None = None
    axis_values: list = field(default_factory=list)
    axis_baseline: object = None
    attacks: list[dict] = field(default_factory=list)
    select: Select | None = None  # what dev chooses before the seeds run
    ensemble: bool = False  # ensemble the seeds of dev's pick at the end
    refit: bool = False  # each variant also retrained on train + dev ("VARIANT-refit")

    def key_name(self, variant: str, value: object) -> str:
        """A report row's name: the variant, with the axis value where the grid has one."""
        return variant if not self.axis_setting else f"{variant} @ {self.axis_setting}={value}"


@dataclass
class GridRun:
    """One run of a grid: a variant, an axis value and a seed, in its folder."""

    variant: str
    axis_value: object
    seed: int
    overrides: list[str]
    path: Path
    after_others: bool = False  # reads another run's output ({out} in an override)
    config: str = ""  # the base config of this run (the variant's, or the grid's)
    attack_names: tuple[str, ...] = ()  # the grid's attacks of this run

    @property
    def done(self) -> bool:
        """Trained: its scores are written."""
        return (self.path / "scores.json").is_file()

    @property
    def pending(self) -> bool:
        """Not trained yet, or an attack of it not run yet."""
        return not self.done or any(not self.attacked(n) for n in self.attack_names)

    def attack_dir(self, name: str) -> Path:
        return self.path / "attack" / name

    def attacked(self, name: str) -> bool:
        return (self.attack_dir(name) / "summary.json").is_file()

    def attacks(self, grid: Grid) -> list[dict]:
        """The grid's attacks that apply to this run's variant."""
        return [a for a in grid.attacks if a["name"] in self.attack_names]


def format_value(v: object) -> str:
    """A setting's value as ``--set`` and folder names write it."""
    return json.dumps(v) if isinstance(v, bool) else str(v)


def _check_variants(path: Path, variants: dict) -> None:
    """A dotted name unquoted ([variants.lr-0.5]) is a nested table in TOML: say so."""
    for name, sets in variants.items():
        for key, value in sets.items():
            if isinstance(value, dict):
                raise ValueError(
                    f"{path}: variant {name}.{key} is a table; a variant name with a dot "
                    f'must be quoted: [variants."{name}.{key}"]'
                )


def load_grid(name_or_path: str, root: Path = Path(".")) -> Grid:
    path = Path(name_or_path)
    if not path.suffix:
        path = root / "experiments" / f"{name_or_path}.toml"
    if not path.is_file():
        raise ValueError(f"{path}: no such experiment file")
    with open(path, "rb") as f:
        try:
            d = tomllib.load(f)
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"{path}: {err}") from None
    _check_top(path, d)
    seeds = d.get("seeds", 3)
    seeds = list(range(1, seeds + 1)) if isinstance(seeds, int) else list(seeds)
    variants = d.get("variants") or {"default": {}}
    _check_variants(path, variants)
    baseline = d.get("baseline")
    baselines = [baseline] if isinstance(baseline, str) else list(baseline or [])
    for b in baselines:
        if b not in variants:
            raise ValueError(f"{path}: baseline {b!r} is not a variant")
    axis = d.get("axis", {})
    if "baseline" in axis and axis["baseline"] not in axis.get("values", []):
        raise ValueError(f"{path}: axis baseline {axis['baseline']!r} is not one of the values")
    attacks = d.get("attack", [])
    for a in attacks:
        if a.get("method") not in attack_names():
            raise ValueError(f"{path}: attack method must be one of {', '.join(attack_names())}")
        unknown = set(a) - {*ATTACK_KEYS, *ATTACK_OPTIONS}
        if unknown:
            raise ValueError(f"{path}: unknown attack option(s) {', '.join(sorted(unknown))}")
        a.setdefault("name", a["method"])
        if not set(a.get("variants", [])) <= set(variants):
            raise ValueError(f"{path}: attack {a['name']!r} names an unknown variant")
    names = [a["name"] for a in attacks]
    if len(set(names)) != len(names):
        raise ValueError(f"{path}: two attacks share a name; give each its own name")
    grid = Grid(
        name=path.stem,
        description=d.get("description", ""),
        config=d["config"],
        seeds=seeds,
        baseline=tuple(baselines),
        common=d.get("set", {}),
        variants=variants,
        axis_setting=axis.get("setting"),
        axis_values=list(axis.get("values", [])),
        axis_baseline=axis.get("baseline"),
        attacks=attacks,
        select=_select(d, variants, path),
        ensemble=bool(d.get("ensemble", False)),
        refit=bool(d.get("refit", False)),
    )
    for v in grid_runs(grid, Path("/nonexistent"), []):  # validate every run's config now
        if not Path(v.config).is_file():
            raise ValueError(f"{path}: variant {v.variant!r}: no such config {v.config}")
        try:
            load_config(v.config, v.overrides)
        except ValueError as err:
            raise ValueError(f"{path}: variant {v.variant!r}: {err}") from None
    return grid


#: the keys a grid file may have, and what each is
GRID_KEYS = {
    "description": "what the grid asks", "config": "the base config file of every run",
    "seeds": "a number of seeds (1..N) or a list of seeds", "baseline": "variant(s) compared with",
    "set": "settings for every run", "variants": "[variants.NAME] tables",
    "axis": "an [axis] of values", "attack": "[[attack]] tables", "select": "a [select] stage",
    "ensemble": "ensemble dev's pick", "refit": "also retrain each variant on train + dev",
}  # fmt: skip


def _check_top(path: Path, d: dict) -> None:
    """One line for a grid file's first mistake: an unknown key, no config, bad seeds."""
    for key in d:
        if key not in GRID_KEYS:
            raise ValueError(f"{path}: unknown key {key!r}{did_you_mean(key, GRID_KEYS)}; "
                             f"known: {', '.join(GRID_KEYS)}")  # fmt: skip
    if not isinstance(d.get("config"), str) or not d["config"]:
        raise ValueError(f'{path}: no config = "FILE" (the base config every run starts from)')
    seeds = d.get("seeds", 3)
    ok_int = isinstance(seeds, int) and not isinstance(seeds, bool) and seeds >= 1
    ok_list = (
        isinstance(seeds, list)
        and seeds
        and all(isinstance(x, int) and not isinstance(x, bool) for x in seeds)
    )
    if not (ok_int or ok_list):
        raise ValueError(
            f"{path}: seeds = {seeds!r}: a number of seeds (1..N) or a list of seeds, "
            "e.g. seeds = 3 or seeds = [1, 2]"
        )
    if not isinstance(d.get("variants", {}), dict):
        raise ValueError(f"{path}: variants must be [variants.NAME] tables")


def _select(d: dict, variants: dict, path: Path):
    if "select" not in d:
        return None
    if "axis" in d:
        raise ValueError(f"{path}: a grid has [axis] or [select], not both")
    return Select.from_dict(d["select"], variants, str(path))


def _with_refit(grid: Grid) -> dict:
    """The grid's variants, each followed by its ``-refit`` twin when the grid refits."""
    if not grid.refit:
        return grid.variants
    out = {}
    for name, sets in grid.variants.items():
        out[name] = sets
        out[f"{name}-refit"] = {**sets, "train.refit": True}
    return out


def grid_runs(grid: Grid, out: Path, extra: list[str]) -> list[GridRun]:
    """Every run of the grid, in order. A ``-refit`` twin starts after the other runs,
    so that its selection pass can be the finished run of its variant."""
    runs = []
    axis_values = grid.axis_values if grid.axis_setting else [None]
    for variant, sets in _with_refit(grid).items():
        merged = {**grid.common, **sets}
        config = str(merged.pop("config", grid.config))
        dep = any("{out}" in str(v) for v in merged.values())  # reads another run's output
        dep = dep or (grid.refit and variant.endswith("-refit"))
        for value in axis_values:
            for seed in grid.seeds:
                o = [
                    f"{k}={format_value(v).replace('{seed}', str(seed)).replace('{out}', str(out))}"
                    for k, v in merged.items()
                ]
                sub = Path(variant)
                if grid.axis_setting:
                    o.append(f"{grid.axis_setting}={format_value(value)}")
                    sub = sub / f"{grid.axis_setting.split('.')[-1]}={value}"
                o += list(extra) + [f"train.seed={seed}"]
                path = out / "runs" / sub / f"seed{seed}"
                names = tuple(
                    a["name"] for a in grid.attacks if variant in a.get("variants", [variant])
                )
                runs.append(GridRun(variant, value, seed, o, path, dep, config, names))
    return runs
