"""The reader: the real release, other datasets in the same format, and bad input."""

import json

import pytest
from helpers import write

from anrc.data import Example, parse_tagged, read, write_jsonl, write_semeval
from anrc.data.labels import LabelSet, flip_direction, strip_direction
from anrc.data.stats import dataset_stats
from anrc.errors import AnrcInputError


def _distrib(path):
    """Label counts of the 'TRAINING' and 'TEST' blocks of TRAIN_TEST_DISTRIB.TXT."""
    blocks, current = {}, None
    for line in path.read_text().splitlines():
        if line.startswith("<<<Distribution for"):
            current = line.split("for ")[1].split(" examples")[0]
            blocks[current] = {}
        elif current and ":" in line and "TOTAL" not in line:
            name, rest = line.split(":")
            blocks[current][name.strip()] = int(rest.split("(")[0])
    return blocks


def test_real_release(data_dir):
    train = read(data_dir / "TRAIN_FILE.TXT").examples
    test = read(data_dir / "TEST_FILE_FULL.TXT").examples
    unlabelled = read(data_dir / "TEST_FILE.TXT").examples
    assert (len(train), len(test), len(unlabelled)) == (8000, 2717, 2717)
    assert all(ex.label is None for ex in unlabelled)
    distrib = _distrib(data_dir / "TRAIN_TEST_DISTRIB.TXT")
    assert dataset_stats(train)["relations"] == distrib["TRAINING"]
    assert dataset_stats(test)["relations"] == distrib["TEST"]
    ex = train[0]
    assert ex.id == "1" and ex.label == "Component-Whole(e2,e1)"
    assert ex.tokens[ex.e1[0] : ex.e1[1]] == ["configuration"]
    assert ex.tokens[ex.e2[0] : ex.e2[1]] == ["elements"]
    assert train[1].line == 5  # sentence, label, comment, blank


def test_key_matches_full_test_file(data_dir):
    from anrc.data.answers import read_answers

    key, _ = read_answers(data_dir / "TEST_FILE_KEY.TXT")
    test = read(data_dir / "TEST_FILE_FULL.TXT").examples
    assert key == {ex.id: ex.label for ex in test}


OTHER_DATASET = """\
a1\t" <e2> Radiohead </e2> is fronted by <e1> Thom Yorke </e1> ."
per:member_of(e1,e2)



a2\tThe <e1>cat</e1> sat on the <e2>mat</e2>.
no_relation
"""


def test_other_dataset_variants(tmp_path):
    p = write(tmp_path, "other.txt", OTHER_DATASET)
    exs = read(p, negative="no_relation").examples
    assert [ex.id for ex in exs] == ["a1", "a2"]
    a1 = exs[0]
    assert a1.tokens[a1.e1[0] : a1.e1[1]] == ["Thom", "Yorke"]
    assert a1.tokens[a1.e2[0] : a1.e2[1]] == ["Radiohead"]
    assert a1.e2 < a1.e1
    assert a1.label == "per:member_of(e1,e2)"
    assert exs[1].line == 6


def test_crlf_and_lf_read_the_same(tmp_path):
    a = read(write(tmp_path, "a.txt", OTHER_DATASET), negative="no_relation").examples
    b = read(write(tmp_path, "b.txt", OTHER_DATASET, "\r\n"), negative="no_relation").examples
    assert a == b


def test_round_trip_semeval_and_jsonl(tmp_path, data_dir):
    exs = read(data_dir / "TRAIN_FILE.TXT").examples[:300]
    write_jsonl(exs, tmp_path / "x.jsonl")
    back = read(tmp_path / "x.jsonl").examples
    write_semeval(back, tmp_path / "x.txt")
    again = read(tmp_path / "x.txt").examples
    key = lambda e: (e.id, e.tokens, e.e1, e.e2, e.label)  # noqa: E731
    assert [key(e) for e in exs] == [key(e) for e in back] == [key(e) for e in again]
    first = json.loads((tmp_path / "x.jsonl").read_text().splitlines()[0])
    assert first["h"]["pos"] == [12, 13] and first["relation"] == "Component-Whole(e2,e1)"


BAD = [
    ('1\t"The <e1>cat sat on the <e2>mat</e2>."\nOther\n', 1, "not closed"),
    ('1\t"The cat sat on the <e2>mat</e2>."\nOther\n', 1, "<e1> is missing"),
    ('1\t"The <e1>cat <e2>sat</e2></e1> on it."\nOther\n', 1, "may not nest"),
    ('1\t"The <e1> </e1> sat on <e2>it</e2>."\nOther\n', 1, "empty"),
    (
        '1\t"The <e1>cat</e1> sat on <e2>it</e2>."\nOther\n\n2\t"A <e1>b</e1> <e2>c</e2>"\n'
        "Cause-Effect(e1, e2)\n",
        5,
        "is not of the form",
    ),
    (
        '1\t"The <e1>cat</e1> sat on <e2>it</e2>."\nOther\n\n2\t"A <e1>b</e1> <e2>c</e2>"\n'
        "Cause-Effect(e1,e3)\n",
        5,
        "Relation(e1,e2)",
    ),
    (
        '1\t"The <e1>cat</e1> sat on <e2>it</e2>."\nOther\n\n2\t"A <e1>b</e1> <e2>c</e2>"\n'
        "Other(e1,e2)\n",
        5,
        "takes no direction",
    ),
    (
        '1\t"The <e1>cat</e1> sat on <e2>it</e2>."\nOther\n\n2\t"A <e1>b</e1> <e2>c</e2>"\n\n'
        '3\t"A <e1>b</e1> <e2>c</e2>"\nOther\n',
        4,
        "has no label line",
    ),
    (
        '1\t"The <e1>cat</e1> sat on <e2>it</e2>."\nOther\n\n1\t"A <e1>b</e1> <e2>c</e2>"\nOther\n',
        4,
        "duplicate id '1'",
    ),
]


@pytest.mark.parametrize("text,line,problem", BAD)
def test_malformed_input_names_file_and_line(tmp_path, text, line, problem):
    p = write(tmp_path, "bad.txt", text)
    with pytest.raises(AnrcInputError) as err:
        read(p)
    msg = str(err.value)
    assert msg.startswith(f"{p}:{line}: ")
    assert problem in msg
    assert "\n" not in msg


def test_not_utf8(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_bytes(
        b'1\t"The <e1>cat</e1> sat on <e2>it</e2>."\nOther\n\n2\t"caf\xe9 <e1>a</e1> <e2>b</e2>"\n'
    )
    with pytest.raises(AnrcInputError, match=r"bad.txt:4: bytes that are not UTF-8"):
        read(p)


def test_skip_invalid_reads_the_rest(tmp_path):
    p = write(tmp_path, "bad.txt", BAD[0][0] + "\n" + '2\t"A <e1>b</e1> <e2>c</e2>"\nOther\n')
    res = read(p, skip_invalid=True)
    assert [ex.id for ex in res.examples] == ["2"]
    assert res.skipped == 1 and ":1: " in res.errors[0]


@pytest.mark.parametrize(
    "line,problem",
    [
        ("{not json", "not valid JSON"),
        ('{"token": ["a", "b"], "h": {"pos": [0, 1]}}', '"t" must be'),
        ('{"token": ["a", "b"], "h": {"pos": [0, 1]}, "t": {"pos": [1, 5]}}', "outside"),
        ('{"token": ["a", "b"], "h": {"pos": [0, 2]}, "t": {"pos": [1, 2]}}', "overlap"),
    ],
)
def test_bad_jsonl(tmp_path, line, problem):
    good = '{"token": ["a", "b"], "h": {"pos": [0, 1]}, "t": {"pos": [1, 2]}, "relation": "Other"}'
    p = write(tmp_path, "bad.jsonl", good + "\n" + line + "\n")
    with pytest.raises(AnrcInputError, match=f"bad.jsonl:2: .*{problem}"):
        read(p)


def test_parse_tagged_either_order_and_spacing():
    toks, e1, e2 = parse_tagged("<e2>Bob</e2> met < e1 > Alice Smith </ e1 >.")
    assert toks == ["Bob", "met", "Alice", "Smith", "."]
    assert (e1, e2) == ((2, 4), (0, 1))


def test_tagged_text_round_trip():
    ex = Example("1", ["Bob", "met", "Alice", "Smith", "."], (2, 4), (0, 1), "Other")
    assert ex.tagged_text() == "<e2>Bob</e2> met <e1>Alice Smith</e1> ."
    assert parse_tagged(ex.tagged_text())[1:] == ((2, 4), (0, 1))


def test_labels():
    assert strip_direction("Cause-Effect(e2,e1)") == "Cause-Effect"
    assert flip_direction("per:boss(e1,e2)") == "per:boss(e2,e1)"
    assert flip_direction("Other") == "Other"
    ls = LabelSet.from_labels(["B(e1,e2)", "Other", "A(e2,e1)", "B(e1,e2)"])
    assert ls.labels == ("Other", "A(e2,e1)", "B(e1,e2)")
    assert ls.index("B(e1,e2)") == 2 and "A(e2,e1)" in ls
    assert LabelSet.from_json(ls.to_json()) == ls


def test_every_read_expands_environment_variables(tmp_path, data_dir, monkeypatch):
    """A path from a config or --data may name its folder through $NAME (every reader:
    training, evaluate, ensemble, attack, package); an unset one is a clear error."""
    write_semeval(read(data_dir / "TEST_FILE_FULL.TXT").examples[:5], tmp_path / "t.txt")
    monkeypatch.setenv("CORPUS", str(tmp_path))
    assert len(read("${CORPUS}/t.txt").examples) == len(read("$CORPUS/t.txt").examples) == 5
    monkeypatch.delenv("CORPUS")
    with pytest.raises(AnrcInputError, match="environment variable CORPUS is not set"):
        read("$CORPUS/t.txt")
