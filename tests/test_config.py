"""Settings: defaults, per-component sections, overrides, validation against the
registries, and version-1 configs (one flat [model] section) still read."""

import dataclasses
import tomllib
import warnings

import pytest

from anrc.builder import ConfigDeprecation, config_from_dict, load_config
from anrc.config import Config, to_toml
from anrc.models.encoders import ENCODERS


def test_paper_defaults():
    c = load_config()
    assert (c.adversarial.method, c.adversarial.epsilon, c.encoder.dropout) == ("fgm", 0.02, 0.5)
    assert (c.train.batch_size, c.train.lr, c.train.lr_decay) == (64, 0.001, 0.99)
    assert (c.model.encoder, c.encoder.window, c.encoder.position_dim) == ("anrc", 3, 20)


def test_overrides_and_round_trip(tmp_path):
    c = load_config(
        "configs/anrc.toml", ["encoder.hidden=7", "train.bucket=false", "adversarial.epsilon=0.5"]
    )
    assert (c.encoder.hidden, c.train.bucket, c.adversarial.epsilon) == (7, False, 0.5)
    (tmp_path / "c.toml").write_text(to_toml(c))
    assert load_config(tmp_path / "c.toml") == c


@pytest.mark.parametrize("name", ENCODERS.choices())
def test_each_encoder_gets_its_own_section_and_nothing_else(name):
    """The [encoder] section is the chosen encoder's Params: its own settings only."""
    cls = ENCODERS.get(name)
    c = load_config(None, [f"model.encoder={name}", "data.markers=punct"])
    assert type(c.encoder) is cls.Params
    own = {f.name for f in dataclasses.fields(cls.Params)}
    others = {
        f.name for n in ENCODERS.choices() for f in dataclasses.fields(ENCODERS.get(n).Params)
    }
    for key in sorted(others - own)[:3]:  # another encoder's setting is refused, naming it
        with pytest.raises(ValueError, match=f"encoder.{key}: encoder '{name}' does not read it"):
            load_config(None, [f"model.encoder={name}", "data.markers=punct", f"encoder.{key}=1"])


@pytest.mark.parametrize(
    "override,problem",
    [
        ("encoder.pooling=median", "unknown pooling .median."),
        ("model.encoder=gpt", "model.encoder must be one of"),
        ("model.encoder=cnnn", "did you mean cnn"),
        ("encoder.window=2", "odd"),
        ("adversarial.method=bogus", "adversarial.method"),
        ("model.nope=1", "unknown setting model.nope"),
        ("encoder.hiden=3", "did you mean encoder.hidden"),
        ("encoder.hidden=abc", "bad value for encoder.hidden"),
        ("hidden=3", "section.key=value"),
        ("trian.seed=1", r"unknown setting trian.seed \(did you mean train.seed"),
        ("train.layer_decay=0", "layer_decay must be in"),
        ("train.layer_decay=1.5", "layer_decay must be in"),
        ("model.target=window2", "model.target must be one of"),
        ("data.markers=brackets", "data.markers must be one of none, tags, punct"),
        ("data.format=csv", "data.format must be one of semeval, jsonl"),
    ],
)
def test_validation(override, problem):
    with pytest.raises(ValueError, match=problem):
        load_config(None, [override])


def test_a_target_the_encoder_lacks_is_refused():
    with pytest.raises(ValueError, match="not a site of encoder 'cnn'"):
        load_config("configs/cnn.toml", ["model.target=window"])


def test_all_configs_load_without_a_deprecation():
    from pathlib import Path

    with warnings.catch_warnings():
        warnings.simplefilter("error", ConfigDeprecation)
        for p in Path("configs").glob("*.toml"):
            load_config(p)


OLD_CRCNN = """
[data]
embeddings = "glove-6b-50d"
[model]
encoder = "crcnn"
head = "ranking"
position_dim = 70
filters = 1000
window = 3
ranking_gamma = 3.0
[adversarial]
method = "fgm"
target = "word"
normalize_embeddings = true
"""


def test_a_version_1_config_is_read_with_a_deprecation(tmp_path):
    (tmp_path / "old.toml").write_text(OLD_CRCNN)
    with pytest.warns(ConfigDeprecation, match="model.filters -> encoder.filters") as caught:
        old = load_config(tmp_path / "old.toml")
    message = str(caught[0].message)
    assert "model.window dropped ('crcnn' never read it)" in message
    assert "adversarial.normalize_embeddings -> model.normalize_embeddings" in message
    assert (old.encoder.position_dim, old.encoder.filters, old.head.gamma) == (70, 1000, 3.0)
    assert old.model.normalize_embeddings and old.model.target == "word"
    new = tomllib.loads(to_toml(old))  # written in the new form
    assert "window" not in new["encoder"] and new["head"]["gamma"] == 3.0
    assert config_from_dict(new) == old


def test_old_style_overrides_still_work_with_a_deprecation():
    with pytest.warns(ConfigDeprecation, match="model.hidden -> encoder.hidden"):
        c = load_config("configs/att-blstm.toml", ["model.hidden=7"])
    assert c.encoder.hidden == 7


def test_newer_version_refused():
    with pytest.raises(ValueError, match="newer"):
        config_from_dict({"version": 99})


def test_the_bare_config_holds_sections_not_names():
    """anrc.config knows no component: its Config keeps [encoder]/[head] as given."""
    c = Config()
    assert c.encoder == {} and c.head == {} and c.model.encoder == "anrc"


def test_tuned_config_is_the_epsilon_grids_best_dev_setting():
    """The README quotes the epsilon grid's eps-2.0 runs for configs/anrc-tuned.toml: that
    holds only while the two resolve to the same settings (seed and threads aside)."""
    from pathlib import Path

    from anrc.experiments.archive import member

    saved = member(
        Path("results/experiments/epsilon/runs.tar.xz"), "runs/at/epsilon=2.0/seed1/config.toml"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConfigDeprecation)  # saved before the [encoder] section
        ran = config_from_dict(tomllib.loads(saved))
    assert load_config("configs/anrc-tuned.toml", ["train.seed=1", "train.threads=1"]) == ran


def test_the_archive_rescores_a_committed_figure(data_dir, capsys):
    """A grid's figures stay re-scorable from its archive alone (runs/ is not in git)."""
    import json
    from pathlib import Path

    from anrc.cli import main

    summary = json.loads(Path("results/experiments/encoders/summary.json").read_text())
    row = next(r for r in summary["rows"] if (r["variant"], r["axis_value"]) == ("anrc", "fgm"))
    member = "runs/anrc/method=fgm/seed1/test_predictions.txt"
    key = str(data_dir / "TEST_FILE_KEY.TXT")
    assert main(["score", f"results/experiments/encoders/runs.tar.xz:{member}", key, "--json"]) == 0
    f1 = json.loads(capsys.readouterr().out)["official_macro_f1"]
    assert f1 == pytest.approx(row["test_f1"]["per_seed"][0], abs=1e-6)
    assert main(["score", "results/experiments/encoders/runs.tar.xz", key]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 30 and f"{f1:6.2f}  runs/anrc/method=fgm/seed1" in lines


def test_every_committed_grid_run_loads_without_a_deprecation(tmp_path):
    """Each run of each grid in experiments/ (its selection stage's too), as the runner
    builds it: base config + the grid's settings, no warning and no refusal."""
    from pathlib import Path

    from anrc.experiments.grid import grid_runs, load_grid
    from anrc.experiments.selection import selection_grid

    checked = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConfigDeprecation)
        for p in sorted(Path("experiments").glob("*.toml")):
            grid = load_grid(p.stem)
            stages = [grid] + ([selection_grid(grid)] if grid.select is not None else [])
            for stage in stages:
                for run in grid_runs(stage, tmp_path, []):
                    try:
                        load_config(run.config, run.overrides)
                    except ValueError as err:
                        raise AssertionError(f"{p}: {run.path}: {err}") from None
                    checked += 1
    assert checked > 100


@pytest.mark.parametrize(
    ("method", "setting", "reads"),
    [
        ("freelb", "weight", "steps, step_size, random_start"),
        ("none", "steps", "no settings of its own"),
        ("fgm", "replays", "weight, objective"),
    ],
)
def test_a_setting_the_chosen_method_would_not_read_is_refused(method, setting, reads):
    for where in ("file", "set"):
        with pytest.raises(ValueError) as err:
            if where == "set":
                load_config(None, [f"adversarial.method={method}", f"method.{setting}=2"])
            else:
                config_from_dict({"adversarial": {"method": method}, "method": {setting: 2}})
        msg = str(err.value)
        assert msg.count("\n") == 0
        assert f"method.{setting}: method {method!r} does not read it (it reads {reads})" in msg


def test_an_unknown_method_setting_gets_a_suggestion():
    with pytest.raises(ValueError, match=r"unknown setting method\.stpes.*method\.steps"):
        load_config(None, ["adversarial.method=pgd", "method.stpes=2"])


def test_normalize_embeddings_is_refused_where_the_encoder_ignores_it():
    with pytest.raises(ValueError, match="model.normalize_embeddings: encoder 'transformer'"):
        load_config("configs/transformer.toml", ["model.normalize_embeddings=true"])
    assert load_config("configs/anrc.toml", ["model.normalize_embeddings=true"])


def test_a_version_2_config_moves_method_settings_with_one_warning():
    old = {
        "version": 2,
        "adversarial": {"method": "pgd", "epsilon": 0.5, "steps": 5, "replays": 2},
    }
    with pytest.warns(ConfigDeprecation) as rec:
        cfg = config_from_dict(old)
    assert len(rec) == 1
    msg = str(rec[0].message)
    assert "adversarial.steps -> method.steps" in msg
    assert "adversarial.replays dropped ('pgd' never read it)" in msg
    assert cfg.method.steps == 5 and cfg.adversarial.epsilon == 0.5
    assert to_toml(cfg).count("[method]") == 1 and "version = 3" in to_toml(cfg)
    again = config_from_dict(tomllib.loads(to_toml(cfg)))  # the new form reads silently
    assert again.to_dict() == cfg.to_dict()


def test_each_method_describes_its_own_settings_only():
    from anrc.adversarial.methods import make_method

    cfg = config_from_dict({"adversarial": {"method": "freelb", "epsilon": 0.2}})
    text = make_method(cfg.adversarial, cfg.method).describe()
    assert "steps=3" in text and "weight" not in text and "objective" not in text
