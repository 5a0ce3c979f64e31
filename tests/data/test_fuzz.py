"""Property-based tests: any text gives a result or the project's own error, never a crash;
valid examples round-trip through SemEval format and JSON lines."""

import contextlib
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anrc.data import Example, read, write_jsonl, write_semeval
from anrc.errors import AnrcInputError
from anrc.inference.stream import _parse

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# Text biased towards the format's own pieces, so the fuzzer reaches deep states.
pieces = st.sampled_from(
    [
        "<e1>",
        "</e1>",
        "<e2>",
        "</e2>",
        "\t",
        "\n",
        "\r\n",
        '"',
        "Other",
        "Cause-Effect(e1,e2)",
        "Comment:",
        "1",
        "2",
        " ",
        "x",
        "(e2,e1)",
        "< e1 >",
        "{",
        "}",
        "\x00",
        "é",
    ]
)
texty = st.lists(st.one_of(pieces, st.text(max_size=5)), max_size=40).map("".join)


@FUZZ
@given(texty, st.sampled_from(["semeval", "jsonl"]), st.booleans())
def test_reader_never_crashes(tmp_path_factory, text, fmt, skip):
    p = tmp_path_factory.mktemp("fuzz") / ("f.jsonl" if fmt == "jsonl" else "f.txt")
    p.write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        res = read(p, skip_invalid=skip)
    except AnrcInputError as err:
        assert "\n" not in str(err) and str(err).startswith(str(p))
        return
    for ex in res.examples:
        assert 0 <= ex.e1[0] < ex.e1[1] <= len(ex.tokens)
        assert 0 <= ex.e2[0] < ex.e2[1] <= len(ex.tokens)


@FUZZ
@given(st.binary(max_size=200))
def test_reader_on_arbitrary_bytes(tmp_path_factory, data):
    p = tmp_path_factory.mktemp("fuzzb") / "f.txt"
    p.write_bytes(data)
    with contextlib.suppress(AnrcInputError):
        read(p)


@FUZZ
@given(texty)
def test_predict_parser_never_crashes(text):
    try:
        ex = _parse(text, 1)
    except ValueError:
        return
    assert ex.tokens and ex.e1[1] <= len(ex.tokens) and ex.e2[1] <= len(ex.tokens)


word = st.one_of(
    st.text(string.ascii_letters + string.digits, min_size=1, max_size=6),
    st.sampled_from(list(",.;:!?()$%&")),
)
label = st.one_of(
    st.just("Other"),
    st.builds(
        lambda r, d: f"{r}({d})",
        st.sampled_from(["Cause-Effect", "per:boss_of", "A"]),
        st.sampled_from(["e1,e2", "e2,e1"]),
    ),
)


@st.composite
def examples(draw):
    tokens = draw(st.lists(word, min_size=2, max_size=12))
    n = len(tokens)
    cut = draw(st.integers(1, n - 1))
    s1 = draw(st.integers(0, cut - 1))
    e1 = draw(st.integers(s1 + 1, cut))
    s2 = draw(st.integers(cut, n - 1))
    e2 = draw(st.integers(s2 + 1, n))
    spans = [(s1, e1), (s2, e2)]
    if draw(st.booleans()):
        spans.reverse()
    return Example("0", tokens, spans[0], spans[1], draw(label))


@FUZZ
@given(st.lists(examples(), min_size=1, max_size=5))
def test_round_trip(tmp_path_factory, exs):
    for i, ex in enumerate(exs):
        ex.id = str(i)
    d = tmp_path_factory.mktemp("rt")
    key = lambda e: (e.id, e.tokens, e.e1, e.e2, e.label)  # noqa: E731
    write_semeval(exs, d / "a.txt")
    write_jsonl(exs, d / "a.jsonl")
    assert [key(e) for e in read(d / "a.txt").examples] == [key(e) for e in exs]
    assert [key(e) for e in read(d / "a.jsonl").examples] == [key(e) for e in exs]
