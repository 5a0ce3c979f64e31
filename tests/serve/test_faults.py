"""The service's faults of issue 36, each one that gave a 500, a NaN or a silent
surprise before: now a clear 4xx (or an answer) and the service still serving."""

import asyncio
import json
import math

import numpy as np
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from anrc.serve.app import _capped_body, create_app  # noqa: E402
from anrc.serve.requests import Limits  # noqa: E402

TAGGED = "The <e1>singer</e1> caused a <e2>commotion</e2> ."


def strict_json(text: str):
    """JSON as the standard has it: NaN and Infinity are not JSON."""

    def refuse(name):
        raise ValueError(f"{name} in the response")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def client(classifier):
    return TestClient(create_app(classifier, Limits(max_bytes=4000)))


@pytest.fixture(scope="module")
def transformer_client():
    pytest.importorskip("transformers")
    from helpers import tiny, word_dim

    from anrc.inference.api import RelationClassifier
    from anrc.models.trained import TrainedModel

    model, feat, labels, _, cfg = tiny("transformer", "punct")
    return TestClient(
        create_app(RelationClassifier(TrainedModel(cfg, model.eval(), feat, labels, word_dim(cfg))))
    )


def _post(client, body: bytes):
    return client.post("/predict", content=body, headers={"Content-Type": "application/json"})


@pytest.mark.parametrize("char", ["\u200b", "\u00ad", "\ufeff", "\u0301"])
def test_an_entity_the_tokenizer_cannot_see_is_a_422_not_nan(transformer_client, char):
    sentence = f"The <e1>{char}</e1> caused a <e2>commotion</e2> ."
    r = transformer_client.post("/predict", json={"sentence": sentence})
    assert r.status_code == 422, r.text
    assert r.json()["error"].startswith("request: entity e1 ") and "no characters" in r.text
    many = transformer_client.post("/predict", json={"items": [TAGGED, sentence]})
    got = strict_json(many.text)["predictions"]
    assert many.status_code == 200 and got[1]["item"] == 1 and "label" in got[0]
    assert transformer_client.post("/predict", json=TAGGED).status_code == 200


def test_a_lone_surrogate_is_a_400(client):
    r = _post(client, b'{"sentence": "The <e1>a\\ud800</e1> b <e2>c</e2> ."}')
    assert r.status_code == 400
    assert r.json()["error"] == "request: the text holds U+D800, a lone surrogate, not a character"
    assert client.post("/predict", json=TAGGED).status_code == 200


def test_an_absurd_integer_is_a_400(classifier):
    client = TestClient(create_app(classifier, Limits(max_bytes=20_000)))
    body = b'{"text": "a b c", "h": {"pos": [0, ' + b"9" * 5000 + b']}, "t": {"pos": [4, 5]}}'
    r = _post(client, body)
    assert r.status_code == 400 and "cannot read" in r.json()["error"]


@pytest.mark.parametrize(
    "body, message",
    [
        ({"itmes": [TAGGED]}, "request: unknown key 'itmes' (did you mean items?)"),
        ({"sentence": TAGGED, "saliancy": False}, "unknown key 'saliancy' (did you mean saliency?)"),
        ({"items": [TAGGED], "saliency": False, "x": 1}, "unknown key 'x'; known: items, saliency"),
        ({"items": [{"sentence": TAGGED, "sentense": 1}]}, "item 0: unknown key 'sentense'"),
        (
            {"text": "a b c", "h": {"pos": [0, 1], "nam": "a"}, "t": {"pos": [4, 5]}},
            "request: h: unknown key 'nam' (did you mean name?)",
        ),
    ],
)  # fmt: skip
def test_unknown_keys_are_a_400_with_the_nearest_key(client, body, message):
    r = client.post("/predict", json=body)
    assert r.status_code == 400 and message in r.json()["error"], r.json()


def test_a_byte_order_mark_is_read_and_the_icon_is_served(client):
    r = _post(client, b"\xef\xbb\xbf" + json.dumps(TAGGED).encode())
    assert r.status_code == 200 and r.json()["prediction"]["label"]
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")


def test_a_chunked_upload_is_cut_off_at_the_cap():
    """Without a Content-Length the body is read as it comes and dropped once past the
    cap: the rest is never pulled (it had been read whole, 300 MB at once)."""
    pulled = []

    class Endless:
        headers = {}  # chunked: no Content-Length

        async def stream(self):
            while True:
                pulled.append(1000)
                yield b"x" * 1000

    assert asyncio.run(_capped_body(Endless(), 4000)).status_code == 413
    assert sum(pulled) == 5000  # the first chunk past 4,000 bytes, and no more


def test_a_chunked_upload_past_the_cap_is_a_413(client):
    def body():
        for _ in range(10):
            yield b" " * 1000

    r = client.post("/predict", content=body(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "over 4000 bytes" in r.json()["error"]
    assert client.post("/predict", json=TAGGED).status_code == 200


def test_scores_that_are_not_numbers_never_reach_a_response(classifier):
    """A model that gives NaN (any cause) is an error in the item's place, valid JSON."""
    from anrc.inference.api import Prediction

    class NaNModel:
        config, labels = classifier.config, classifier.labels

        def check(self, ex):
            pass

        def predict_many(self, examples, with_saliency=False):
            nan = {lab: math.nan for lab in self.labels}
            return [Prediction(self.labels.labels[0], math.nan, nan, ex.tokens, None)
                    for ex in examples]  # fmt: skip

    client = TestClient(create_app(NaNModel()))
    r = client.post("/predict", json=TAGGED)
    assert r.status_code == 422 and "not numbers" in strict_json(r.text)["error"]
    r = client.post("/predict", json={"items": [TAGGED, TAGGED]})
    assert r.status_code == 200 and all("error" in p for p in strict_json(r.text)["predictions"])


def test_att_blstm_returns_its_attention(tmp_path):
    """Attention pooling (att-blstm, semeval-fast's encoder) gives each word its weight
    (it returned null, so the page's attention view never showed)."""
    from helpers import tiny, word_dim

    from anrc.inference.api import RelationClassifier
    from anrc.models.trained import TrainedModel

    model, feat, labels, exs, cfg = tiny("att-blstm", "tags", pooling="attention")
    TrainedModel(cfg, model.eval(), feat, labels, word_dim(cfg)).save(tmp_path)
    run = TrainedModel.load(tmp_path)
    clf = RelationClassifier(run)
    p = TestClient(create_app(clf)).post("/predict", json=TAGGED).json()["prediction"]
    assert p["attention"] is not None and len(p["attention"]) == len(p["tokens"])
    assert np.isclose(sum(p["attention"]), 1.0, atol=1e-4) and min(p["attention"]) >= 0


def test_saliency_is_given_over_the_users_words(transformer_client):
    """The transformer's tokens are word pieces with [CLS], [SEP] and markers; the
    reply's ``words`` view has the words as typed, each word's pieces merged."""
    sentence = "The <e1>burglar</e1> caused a <e2>commotion</e2> ."
    p = transformer_client.post("/predict", json=sentence).json()["prediction"]
    assert "[CLS]" in p["tokens"] and "[CLS]" not in p["words"]["words"]
    view = p["words"]
    assert view["words"] == ["The", "burglar", "caused", "a", "commotion", "."]
    assert view["roles"] == ["", "e1", "", "", "e2", ""]
    assert len(view["saliency"]) == 6 and abs(sum(view["saliency"]) - 1) < 1e-6
    assert view["attention"] is None
