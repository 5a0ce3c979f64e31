"""Property-based: random JSON and random Unicode at ``POST /predict`` and at the predict
stream never give a 500, a NaN or invalid JSON, and the service answers afterwards.
The tiny transformer is used, since its tokenizer is where text meets the model."""

import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("fastapi")
pytest.importorskip("transformers")
from fastapi.testclient import TestClient  # noqa: E402

from anrc.inference.extract_stream import extract_stream  # noqa: E402
from anrc.inference.stream import predict_stream  # noqa: E402
from anrc.serve.app import create_app  # noqa: E402
from anrc.serve.requests import Limits  # noqa: E402

TAGGED = "The <e1>singer</e1> caused a <e2>commotion</e2> ."
SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def strict_json(text: str):
    def refuse(name):
        raise AssertionError(f"{name} in a response")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def clf():
    from helpers import tiny, word_dim

    from anrc.inference.api import RelationClassifier
    from anrc.models.trained import TrainedModel

    model, feat, labels, _, cfg = tiny("transformer", "punct", max_length=24)
    return RelationClassifier(TrainedModel(cfg, model.eval(), feat, labels, word_dim(cfg)))


@pytest.fixture(scope="module")
def client(clf):
    return TestClient(create_app(clf, Limits(max_bytes=20_000)), raise_server_exceptions=False)


#: any text, surrogates and control characters included
TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=30)
#: words around which entity tags may stand, empty and odd ones included
WORDS = st.lists(TEXT, min_size=0, max_size=8)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


@st.composite
def tagged(draw):
    words = draw(WORDS)
    e1, e2 = draw(TEXT), draw(TEXT)
    a, b = sorted(draw(st.lists(st.integers(0, len(words)), min_size=2, max_size=2)))
    return " ".join([*words[:a], f"<e1>{e1}</e1>", *words[a:b], f"<e2>{e2}</e2>", *words[b:]])


@st.composite
def opennre(draw):
    text = draw(TEXT)
    ints = st.integers(-3, len(text) + 3) | st.integers()
    pos = st.lists(ints, min_size=0, max_size=3)
    return {"text": text, "h": {"pos": draw(pos)}, "t": {"pos": draw(pos)}}


BODY = (
    JSON
    | tagged()
    | opennre()
    | st.builds(lambda xs: {"items": xs}, st.lists(tagged() | opennre() | JSON, max_size=4))
)


def _check(response) -> None:
    assert response.status_code < 500, response.text
    body = strict_json(response.text)
    if response.status_code >= 400:
        assert set(body) == {"error"} and body["error"] and "\n" not in body["error"]


@SETTINGS
@given(body=BODY)
def test_predict_never_fails_inside(client, body):
    raw = json.dumps(body)  # ASCII, lone surrogates as \ud800 escapes: JSON allows them
    _check(client.post("/predict", content=raw, headers={"Content-Type": "application/json"}))


@SETTINGS
@given(raw=st.binary(max_size=200) | TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_predict_takes_any_bytes(client, raw):
    _check(client.post("/predict", content=raw, headers={"Content-Type": "application/json"}))


def test_the_service_still_answers(client):
    r = client.post("/predict", json=TAGGED)
    assert r.status_code == 200 and strict_json(r.text)["prediction"]["label"]


@SETTINGS
@given(lines=st.lists(tagged() | opennre().map(json.dumps) | TEXT, min_size=1, max_size=6))
def test_the_predict_stream_answers_every_line(clf, tmp_path_factory, lines):
    """Every non-blank input line gives one output line: a prediction or an error
    record, valid JSON without NaN."""
    path = tmp_path_factory.mktemp("fuzz") / "in.txt"
    text = "\n".join(line.replace("\n", " ").replace("\r", " ") for line in lines)
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    out = io.StringIO()
    predict_stream(clf, str(path), out, as_json=True)
    records = [strict_json(x) for x in out.getvalue().splitlines()]
    blank = sum(1 for raw in path.read_bytes().splitlines() if not raw.strip())
    assert len(records) == len(path.read_bytes().splitlines()) - blank
    assert all(("label" in r) != ("error" in r) for r in records)


OPTION = st.sampled_from(["source", "window", "decoding", "threshold", "with_negative", "x"])
EXTRACT_BODY = (
    JSON
    | st.builds(lambda t, o: {"text": t, **o}, TEXT, st.dictionaries(OPTION, JSON, max_size=3))
    | st.builds(lambda ts: {"texts": ts}, st.lists(TEXT | JSON, max_size=4))
)
FEWER = settings(SETTINGS, max_examples=60)


@FEWER
@given(body=EXTRACT_BODY)
def test_extract_never_fails_inside(client, body):
    raw = json.dumps(body)
    _check(client.post("/extract", content=raw, headers={"Content-Type": "application/json"}))


@FEWER
@given(lines=st.lists(TEXT | EXTRACT_BODY.map(json.dumps), min_size=1, max_size=6))
def test_the_extract_stream_answers_every_line(clf, tmp_path_factory, lines):
    """Every non-blank line gives one record: an extraction or an error, valid JSON."""
    path = tmp_path_factory.mktemp("fuzz") / "in.txt"
    text = "\n".join(line.replace("\n", " ").replace("\r", " ") for line in lines)
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    out = io.StringIO()
    extract_stream(clf, str(path), out, {"threshold": 0.0})
    records = [strict_json(x) for x in out.getvalue().splitlines()]
    assert len(records) == sum(1 for raw in path.read_bytes().splitlines() if raw.strip())
    assert all(("relations" in r) != ("error" in r) for r in records)
