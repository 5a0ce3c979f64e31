"""OpenNRE's data end to end: JSON lines in a .txt file (found by content), rel2id.json,
undirected labels with spaces, scored as macro-F1 over the non-negative labels."""

import json
import random
import subprocess
import sys

from anrc.data import guess_format, read

CUES = {"main subject": "about", "located in": "inside", "NA": "near"}


def _opennre(path, n, seed, cues=CUES):
    rnd = random.Random(seed)
    nouns = ["cat", "dog", "car", "tree", "house", "river", "stone", "bird", "lamp", "book"]
    with open(path, "w") as f:
        for _ in range(n):
            label = rnd.choice(sorted(cues))
            toks = ["the", rnd.choice(nouns), cues[label], "the", rnd.choice(nouns), "."]
            item = {"token": toks, "h": {"name": toks[1], "pos": [1, 2]},
                    "t": {"name": toks[4], "pos": [4, 5]}, "relation": label}  # fmt: skip
            f.write(json.dumps(item) + "\n")


def _run(*args):
    cmd = [sys.executable, "-m", "anrc", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def test_train_and_evaluate_on_opennre_files(tmp_path):
    train, test = tmp_path / "mini_train.txt", tmp_path / "mini_test.txt"
    _opennre(train, 300, 0)
    _opennre(test, 90, 1)
    assert guess_format(train) == "jsonl" and read(train).examples[0].label in CUES
    rel2id = tmp_path / "mini_rel2id.json"
    rel2id.write_text(json.dumps({"NA": 0, "located in": 1, "main subject": 2}))
    sets = [f"data.train={train}", f"data.test={test}", f"data.rel2id={rel2id}",
            "data.negative=NA", "data.embeddings=none", "train.max_epochs=4"]  # fmt: skip
    args = ["train", "--config", "configs/cnn.toml", "--out", tmp_path / "run"]
    r = _run(*args, *[x for s in sets for x in ("--set", s)])
    assert r.returncode == 0, r.stderr[-1500:]
    last = r.stdout.strip().splitlines()[-1]
    assert last.startswith(
        "<<< Undirected labels: macro-averaged F1 over the 2 labels other than NA"
    )
    assert "micro-averaged F1" in last or "%" in last
    labels = json.loads((tmp_path / "run" / "labels.json").read_text())
    assert "main subject" in json.dumps(labels)
    ev = _run("evaluate", tmp_path / "run", "--data", test)
    assert ev.returncode == 0 and "Undirected labels" in ev.stdout.splitlines()[-1]


def test_convert_writes_opennre_and_rel2id(tmp_path, data_dir):
    out, rel = tmp_path / "semeval_train.txt", tmp_path / "semeval_rel2id.json"
    r = _run("data", "convert", data_dir / "TRAIN_FILE.TXT", out, "--to", "jsonl", "--rel2id", rel)
    assert r.returncode == 0, r.stderr
    mapping = json.loads(rel.read_text())
    assert mapping["Other"] == 0 and len(mapping) == 19
    first = json.loads(out.read_text().splitlines()[0])
    assert set(first) >= {"token", "h", "t", "relation"}
    assert guess_format(out) == "jsonl"


def test_mixed_directed_and_plain_labels_name_the_negative_class(tmp_path, data_dir):
    train = tmp_path / "t.txt"
    text = (data_dir / "TRAIN_FILE.TXT").read_text().replace("\nOther\n", "\nNA\n")
    train.write_text(text)
    r = _run("train", "--config", "configs/cnn.toml", "--out", tmp_path / "run",
             "--set", f"data.train={train}", "--set", "data.embeddings=none")  # fmt: skip
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "set data.negative" in r.stderr and "'NA'" in r.stderr


def test_a_corpus_without_a_negative_class_keeps_its_own_labels_and_ids(tmp_path):
    """Labels with spaces, no negative class, ids from the user's rel2id: no `Other` is
    added, the model's ids are rel2id's, and evaluate, predict and score say so."""
    cues = {"main subject": "about", "located in": "inside", "part of": "of"}
    train, test = tmp_path / "train.txt", tmp_path / "test.txt"
    _opennre(train, 300, 0, cues)
    _opennre(test, 60, 1, cues)
    rel2id = {"part of": 0, "main subject": 1, "located in": 2}
    (tmp_path / "rel2id.json").write_text(json.dumps(rel2id))
    sets = [f"data.train={train}", f"data.test={test}", f"data.rel2id={tmp_path / 'rel2id.json'}",
            "data.embeddings=none", "train.max_epochs=2"]  # fmt: skip
    run = tmp_path / "run"
    r = _run(
        "train",
        "--config",
        "configs/cnn.toml",
        "--out",
        run,
        *[x for s in sets for x in ("--set", s)],
    )
    assert r.returncode == 0, r.stderr[-1500:]
    assert (
        r.stdout.strip()
        .splitlines()[-1]
        .startswith(
            "<<< Undirected labels: macro-averaged F1 over the 3 labels (no negative class)"
        )
    )
    assert json.loads((run / "labels.json").read_text())["labels"] == list(rel2id)
    ev = _run("evaluate", run, "--data", test, "--predictions", tmp_path / "pred.txt")
    assert ev.returncode == 0, ev.stderr
    assert "<<< (3)-WAY EVALUATION (the labels carry no direction) >>>:" in ev.stdout
    assert "(2*" not in ev.stdout and "9" not in ev.stdout.splitlines()[-1]
    key = tmp_path / "key.txt"
    key.write_text("".join(f"{ex.id}\t{ex.label}\n" for ex in read(test).examples))
    sc = _run("score", tmp_path / "pred.txt", key)  # labels with spaces: read back
    assert sc.returncode == 0 and sc.stdout.splitlines()[-1] == ev.stdout.splitlines()[-1], (
        sc.stderr
    )
    pr = _run("predict", run, "--json", "--input", test)
    assert set(json.loads(pr.stdout.splitlines()[0])["scores"]) == set(rel2id)
