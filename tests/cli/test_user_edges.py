"""What a new user runs into first: serve's address errors, mistyped names and settings,
shipped models, --device, and a failed train that leaves nothing behind."""

import socket

import pytest

from anrc.cli import main


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("port", ["99999", "-1"])
def test_serve_bad_port_is_one_line(port, capsys):
    assert main(["serve", "semeval", "--port", port]) == 2
    assert "a port is a number from 0 to 65535" in _one_line(capsys)


def test_serve_port_in_use_is_one_line(capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["serve", "semeval", "--port", str(port)]) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in _one_line(capsys)


@pytest.mark.parametrize(
    "args, message",
    [
        (["serve", "semeval", "--host", "no-such-host.invalid"], "--host no-such-host.invalid"),
        (["serve", "semeval", "--timeout", "0"], "--timeout must be more than 0"),
        (["serve", "semeval", "--chunk-ms", "nan"], "--chunk-ms must be more than 0"),
        (["serve", "semeval", "--max-words", "0"], "--max-words must be at least 1"),
    ],
)
def test_serve_bad_options_are_one_line(args, message, capsys):
    assert main(args) == 2
    assert message in _one_line(capsys)


def test_a_mistyped_model_name_lists_the_shipped_ones(capsys):
    assert main(["predict", "semevl"]) == 2
    err = _one_line(capsys)
    assert "did you mean semeval?" in err and "shipped: semeval" in err


def test_models_lists_the_shipped_models(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "semeval-fast" in out and "transformer" in out and "att-blstm" in out
    assert "use it" in out and "MODEL_CARD.md" in out


@pytest.mark.parametrize(
    "key, suggestion",
    [("train.max_epoch", "train.max_epochs"), ("modle.encoder", "model.encoder")],
)
def test_an_unknown_setting_suggests_the_closest(key, suggestion, capsys, tmp_path):
    assert main(["train", "--set", f"{key}=3", "--out", str(tmp_path / "run")]) == 2
    assert f"did you mean {suggestion}?" in _one_line(capsys)


def test_a_failed_train_leaves_no_empty_folder(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", "--set", f"data.train={tmp_path}/missing.txt", "--out", str(out)]
    assert main(args) == 2
    assert str(tmp_path / "missing.txt") in _one_line(capsys)
    assert not out.exists()


def test_device_option_on_predict_evaluate_and_serve():
    from anrc.cli import build_parser

    parser = build_parser()
    for verb in (["predict", "semeval"], ["evaluate", "semeval"], ["serve", "semeval"]):
        assert parser.parse_args([*verb, "--device", "auto"]).device == "auto"
        with pytest.raises(SystemExit):
            parser.parse_args([*verb, "--device", "tpu"])


def test_a_mistyped_command_suggests_the_closest(capsys):
    assert main(["predcit", "semeval"]) == 2
    line = _one_line(capsys)
    assert line.startswith("anrc: unknown command 'predcit' (did you mean predict?)")
    assert "commands: score, data, train" in line


def test_predict_writes_the_good_lines_around_a_lone_surrogate(tmp_path, capsys):
    """A JSON line whose text holds a lone surrogate (\\ud800) is an error record in its
    place; the good lines before and after are answered (it had been a traceback with
    nothing written, exit 1)."""
    import json

    good = "The <e1>singer</e1> caused a <e2>commotion</e2> ."
    bad = '{"text": "a \\ud800 b c", "h": {"pos": [0, 1]}, "t": {"pos": [6, 7]}}'
    src = tmp_path / "in.txt"
    src.write_text(f"{good}\n{bad}\n{good}\n")
    out = tmp_path / "out.jsonl"
    rc = main(["predict", "semeval-fast", "--input", str(src), "--json", "--output", str(out)])
    assert rc == 1
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [("label" in x, x.get("error", "")[:20]) for x in lines] == [
        (True, ""),
        (False, "the text holds U+D80"),
        (True, ""),
    ]
    assert lines[0]["label"] == lines[2]["label"]
    assert "in.txt:2: the text holds U+D800, a lone surrogate" in capsys.readouterr().err
