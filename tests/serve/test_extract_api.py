"""``POST /extract``: relations in raw text, under /predict's limits and error shape."""

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from anrc.serve.app import create_app  # noqa: E402
from anrc.serve.requests import Limits  # noqa: E402

TEXT = "The singer caused a commotion in the hall. Heavy rain flooded the old streets."
LIMITS = Limits(max_bytes=2000, max_items=3, max_words=12, timeout=30)


@pytest.fixture
def client(classifier):
    return TestClient(create_app(classifier, LIMITS))


def test_one_text_and_several_give_the_same_extraction(client, classifier):
    one = client.post("/extract", json={"text": TEXT, "threshold": 0}).json()["extraction"]
    many = client.post("/extract", json={"texts": [TEXT, "Two dogs."], "threshold": 0}).json()
    assert many["extractions"][0] == one
    assert one == classifier.extract(TEXT, threshold=0).to_json()
    assert len(one["sentences"]) == 2 and one["relations"]
    for rel in one["relations"]:
        for m in (rel["e1"], rel["e2"]):
            assert TEXT[m["start"] : m["end"]] == m["text"]


def test_options_are_those_of_anrc_extract(client):
    def relations(**opts):
        return client.post("/extract", json={"text": TEXT, **opts}).json()["extraction"][
            "relations"
        ]

    assert len(relations(threshold=0, decoding="sentence")) == 2
    assert relations(threshold=1) == []


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({}, 400, 'give "text"'),
        ({"text": TEXT, "texts": [TEXT]}, 400, 'give "text"'),
        ({"text": ""}, 400, "non-empty string"),
        ({"texts": []}, 400, "non-empty list"),
        ({"texts": [TEXT] * 4}, 413, "at most 3"),
        ({"text": "word " * 49}, 413, "at most 48"),
        ({"text": TEXT, "treshold": 0.5}, 400, "did you mean threshold?"),
        ({"text": TEXT, "threshold": 2}, 400, '"threshold" must be a probability'),
        ({"text": TEXT, "window": -1}, 400, '"window" must be'),
        ({"text": TEXT, "decoding": "best"}, 400, '"decoding" must be one of'),
        ({"text": TEXT, "with_negative": "yes"}, 400, '"with_negative" must be true or false'),
        (["a list"], 400, "must be a JSON object"),
    ],
)
def test_bad_bodies_are_one_line_errors_and_the_service_goes_on(client, body, status, says):
    r = client.post("/extract", json=body)
    assert r.status_code == status and says in r.json()["error"], r.text
    assert client.post("/extract", json={"text": TEXT}).status_code == 200


def test_a_lone_surrogate_is_a_clear_400(client):
    r = client.post("/extract", content=b'{"text": "a \\ud800 b"}')
    assert r.status_code == 400 and "U+D800" in r.json()["error"]


def test_an_oversized_body_is_refused_before_it_is_read(client):
    r = client.post("/extract", content=b'{"text": "' + b"x" * 3000 + b'"}')
    assert r.status_code == 413 and "at most 2000" in r.json()["error"]


def test_scores_that_are_not_numbers_are_a_422_not_an_empty_answer(client, monkeypatch):
    """A model that answers NaN must not read as 'no relation here' (every decoding
    compares NaN as false): the request is refused, in /predict's error shape."""
    from helpers import nan_scores

    nan_scores(monkeypatch)
    for decoding in ("threshold", "pair", "sentence"):
        r = client.post("/extract", json={"text": TEXT, "decoding": decoding})
        assert r.status_code == 422, (decoding, r.text)
        assert "not numbers" in r.json()["error"]
