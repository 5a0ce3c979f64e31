"""Regenerate docs/bad-input.md: every bad input tried, and what the user sees.

    .venv/bin/python docs/make_bad_input_table.py

Each case runs the real CLI in a scratch folder and records its exit status and
first line of standard error (paths shortened to the file name).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOOD = '1\t"The <e1>cat</e1> sat on the <e2>mat</e2>."\nOther\n\n'
S = "The <e1>singer</e1> caused a <e2>commotion</e2> ."

READER_CASES = [
    ("unclosed entity tag", GOOD + '2\t"The <e1>cat sat on the <e2>mat</e2>."\nOther\n'),
    ("missing entity tag", GOOD + '2\t"The cat sat on the <e2>mat</e2>."\nOther\n'),
    ("nested tags", GOOD + '2\t"The <e1>cat <e2>sat</e2></e1> on it."\nOther\n'),
    ("empty entity", GOOD + '2\t"The <e1> </e1> sat on <e2>it</e2>."\nOther\n'),
    ("tag repeated", GOOD + '2\t"<e1>a</e1> <e1>b</e1> <e2>c</e2>"\nOther\n'),
    ("label not Relation(e1,e2)", GOOD + '2\t"A <e1>b</e1> <e2>c</e2>"\nCause Effect\n'),
    ("bad direction", GOOD + '2\t"A <e1>b</e1> <e2>c</e2>"\nCause-Effect(e1,e3)\n'),
    ("negative class with a direction", GOOD + '2\t"A <e1>b</e1> <e2>c</e2>"\nOther(e1,e2)\n'),
    (
        "sentence without label in a labelled file",
        GOOD + '2\t"A <e1>b</e1> <e2>c</e2>"\n\n3\t"A <e1>b</e1> <e2>c</e2>"\nOther\n',
    ),
    ("two label lines", GOOD + '2\t"A <e1>b</e1> <e2>c</e2>"\nOther\nOther\n'),
    ("duplicate id", GOOD + '1\t"A <e1>b</e1> <e2>c</e2>"\nOther\n'),
    ("stray line before any sentence", "hello\n" + GOOD),
    ("bytes that are not UTF-8", GOOD.encode() + b'2\t"caf\xe9 <e1>a</e1> <e2>b</e2>"\nOther\n'),
]
JSONL_CASES = [
    ("JSON lines: not JSON", '{"token": ["a"\n'),
    (
        "JSON lines: span outside the sentence",
        '{"token": ["a", "b"], "h": {"pos": [0, 1]}, "t": {"pos": [1, 5]}, "relation": "Other"}\n',
    ),
    (
        "JSON lines: overlapping entities",
        '{"token": ["a", "b"], "h": {"pos": [0, 2]}, "t": {"pos": [1, 2]}, "relation": "Other"}\n',
    ),
    ("JSON lines: missing tail entity", '{"token": ["a", "b"], "h": {"pos": [0, 1]}}\n'),
]


def run(args, cwd, stdin=None):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}  # this checkout's anrc
    r = subprocess.run(
        [sys.executable, "-m", "anrc", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        input=stdin,
        env=env,
    )
    err = r.stderr.strip().splitlines()
    first = err[0] if err else ""
    return r.returncode, first.replace(str(cwd) + "/", ""), r.stdout


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    rows = []
    for name, text in READER_CASES + JSONL_CASES:
        p = tmp / ("bad.jsonl" if name.startswith("JSON") else "bad.txt")
        p.write_bytes(text if isinstance(text, bytes) else text.encode())
        rc, err, _ = run(["data", "stats", p.name], tmp)
        rows.append((f"`anrc data stats` on a file with: {name}", rc, err))
    (tmp / "key.txt").write_text("1\tOther\n2\tOther\n")
    for name, text in [
        ("prediction id not in the key", "1\tOther\n7\tOther\n"),
        ("line without a tab", "1 Other\n"),
        ("repeated id", "1\tOther\n1\tOther\n"),
    ]:
        (tmp / "pred.txt").write_text(text)
        rc, err, _ = run(["score", "pred.txt", "key.txt"], tmp)
        rows.append((f"`anrc score` with: {name}", rc, err))
    rc, err, _ = run(["train", "--set", "encoder.pooling=median", "--out", "r"], tmp)
    rows.append(("`anrc train --set encoder.pooling=median` (invalid value)", rc, err))
    rc, err, _ = run(["train", "--set", "encoder.hidden=abc", "--out", "r"], tmp)
    rows.append(("`anrc train --set encoder.hidden=abc`", rc, err))
    rc, err, _ = run(["train", "--resume", "nowhere"], tmp)
    rows.append(("`anrc train --resume` on a folder that is not a run", rc, err))
    rc, err, _ = run(["predict", "nowhere"], tmp, stdin=S)
    rows.append(("`anrc predict` on a folder that is not a run", rc, err))

    # A real (tiny, untrained) run directory, then damaged copies of it.
    sys.path.insert(0, str(ROOT / "tests"))
    sys.path.insert(0, str(ROOT / "src"))
    from helpers import tiny

    from anrc.models.trained import TrainedModel

    model, feat, labels, _, cfg = tiny()
    run_dir = tmp / "run"
    TrainedModel(cfg, model, feat, labels, 6).save(run_dir)
    (tmp / "in.txt").write_text(f"{S}\nno tags here\n{S}\n")
    rc, err, out = run(["predict", "run", "--input", "in.txt"], tmp)
    rows.append(
        (
            "`anrc predict` input with a line without tags (line 2 of 3)",
            rc,
            err + " — the output has 3 lines, the second " + repr(out.splitlines()[1]),
        )
    )
    zero_width = "The <e1>\u200b\u00ad</e1> caused a <e2>commotion</e2> ."
    item = {"token": S.replace("<e1>", "").replace("</e1>", "").replace("<e2>", "")
            .replace("</e2>", "").split(), "h": {"pos": [1, 2]}, "t": {"pos": [4, 5]}}  # fmt: skip
    surrogate = json.dumps({**item, "token": ["The", "singer\ud800", *item["token"][2:]]})
    for name, model_name, file, text in [
        ("an entity of zero-width characters only", "semeval", "in.txt", zero_width),
        ("a lone surrogate (JSON lines, `\\ud800`)", "run", "in.jsonl", surrogate),
    ]:
        good = json.dumps(item) if file.endswith("jsonl") else S
        (tmp / file).write_text(f"{good}\n{text}\n{good}\n")
        rc, err, out = run(["predict", model_name, "--input", file], tmp)
        lines = out.splitlines()
        rows.append(
            (
                f"`anrc predict {model_name}` input with {name} (line 2 of 3)",
                rc,
                err + f" — the output has {len(lines)} lines, the second {lines[1]!r}",
            )
        )
    damaged = [
        (
            "truncated model.safetensors",
            lambda d: (d / "model.safetensors").write_bytes(
                (d / "model.safetensors").read_bytes()[:1000]
            ),
        ),
        (
            "a pickle in place of model.safetensors",
            lambda d: (d / "model.safetensors").write_bytes(b"\x80\x04\x95" + b"\x00" * 40),
        ),
        (
            "vocab.json that does not match the weights",
            lambda d: (d / "vocab.json").write_text(
                (d / "vocab.json").read_text().replace('"<unk>", ', '"<unk>", "extra", ')
            ),
        ),
        (
            "meta.json from a newer format",
            lambda d: (d / "meta.json").write_text('{"format_version": 99}'),
        ),
        (
            "config.toml from a newer version",
            lambda d: (d / "config.toml").write_text("version = 99\n"),
        ),
        ("config.toml that is not TOML", lambda d: (d / "config.toml").write_text("[[[")),
    ]
    for name, damage in damaged:
        d = tmp / "damaged"
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(run_dir, d)
        damage(d)
        rc, err, _ = run(["predict", "damaged"], tmp, stdin=S)
        rows.append((f"run directory with {name}", rc, err))

    lines = [
        "# Bad input: what was tried and what the user sees",
        "",
        "Generated by `.venv/bin/python docs/make_bad_input_table.py` (the real CLI, run in a",
        "scratch folder). Exit status 2 is bad input; 1 is a prediction file with bad lines",
        "(the good lines are still predicted). No case prints a traceback.",
        "",
        "| input | exit | what the user sees (first line of stderr) |",
        "| --- | --- | --- |",
    ]
    for name, rc, err in rows:
        lines.append(f"| {name} | {rc} | `{err.replace('|', '/')}` |")
    (ROOT / "docs" / "bad-input.md").write_text("\n".join(lines) + "\n")
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
