"""The JSON API, in process: answers, limits, one error shape, and 4xx errors that leave
it serving."""

import json

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from anrc.data.labels import describe_label  # noqa: E402
from anrc.serve.app import create_app  # noqa: E402
from anrc.serve.requests import Limits  # noqa: E402

TAGGED = "The <e1>singer</e1> caused a <e2>commotion</e2> ."
OPENNRE = {"text": "The singer caused a commotion .", "h": {"pos": [4, 10]}, "t": {"pos": [20, 29]}}
LIMITS = Limits(max_bytes=2000, max_items=3, max_words=12, timeout=30)


@pytest.fixture
def client(classifier):
    return TestClient(create_app(classifier, LIMITS, model_card="# card\n"))


def test_health_labels_page_and_card(client, classifier):
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["encoder"] == "cnn" and health["labels"] == 3
    assert health["auth"] is False and health["model_card"] is True
    assert health["limits"]["max_words"] == 12
    labels = client.get("/labels").json()
    assert labels["labels"] == list(classifier.labels)
    assert labels["descriptions"]["Cause-Effect(e1,e2)"] == "{e1} causes {e2}"
    page = client.get("/")
    assert page.status_code == 200 and 'id="predict"' in page.text
    assert client.get("/model-card").text == "# card\n"


def test_one_item_in_each_form_gives_the_same_answer(client, classifier):
    answers = [
        client.post("/predict", json=body).json()["prediction"]
        for body in (TAGGED, {"sentence": TAGGED}, OPENNRE)
    ]
    assert answers[0] == answers[1]
    assert answers[0]["label"] == answers[2]["label"] == classifier.predict(TAGGED).label
    p = answers[0]
    assert set(p["scores"]) == set(classifier.labels.labels)
    assert sum(p["scores"].values()) == pytest.approx(1.0, abs=1e-4)
    assert len(p["saliency"]) == len(p["tokens"]) and p["attention"] is None
    assert p["entities"] == {"e1": "singer", "e2": "commotion"}
    assert [p["tokens"][i] for i in range(*p["spans"]["e2"])] == ["commotion"]
    assert p["roles"] == ["", "e1", "", "", "e2", ""]  # no markers: the tiny model strips them


def test_saliency_can_be_skipped(client):
    p = client.post("/predict", json={"sentence": TAGGED, "saliency": False}).json()["prediction"]
    assert "saliency" not in p and p["tokens"]
    r = client.post("/predict", json={"items": [TAGGED], "saliency": "no"})
    assert r.status_code == 400 and "saliency" in r.json()["error"]


def test_many_items(client):
    r = client.post("/predict", json={"items": [TAGGED, OPENNRE]})
    assert r.status_code == 200 and len(r.json()["predictions"]) == 2
    assert len(client.post("/predict", json=[TAGGED]).json()["predictions"]) == 1


LONG = "The <e1>singer</e1> " + "and " * 20 + "the <e2>commotion</e2> ."


@pytest.mark.parametrize(
    "body, status, message",
    [
        (b"{not json", 400, "the body is not JSON"),
        (b'"no tags here"', 400, "request: "),
        (b"5", 400, "request: expected a tagged sentence or an OpenNRE item"),
        (b'{"items": ["ok <e1>a</e1> <e2>b</e2>", 5]}', 400, "item 1: expected a tagged"),
        (b'{"items": []}', 400, "non-empty"),
        (b'{"items": ["a", "b", "c", "d"]}', 413, "at most 3"),
        (b'"' + b"x" * 3000 + b'"', 413, "at most 2000"),
        (json.dumps(LONG).encode(), 413, "request: a sentence of 25 words; at most 12"),
        (json.dumps({"items": [TAGGED, LONG]}).encode(), 413, "item 1: a sentence of 25 words"),
    ],
)
def test_bad_requests_are_4xx_json_and_the_service_keeps_serving(client, body, status, message):
    r = client.post("/predict", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == status and message in r.json()["error"], r.json()
    error = r.json()["error"]
    assert error.count("request:") <= 1 and error.count("item ") <= 1  # no doubled prefix
    assert client.post("/predict", json=TAGGED).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 5000 + b"]" * 5000,
        b'{"items": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"text": "a b", "h": {"pos": ' + b"[" * 990 + b"]" * 990 + b'}, "t": {"pos": [2, 3]}}',
    ],
)
def test_deeply_nested_json_is_a_400(classifier, body):
    client = TestClient(create_app(classifier), raise_server_exceptions=False)
    r = client.post("/predict", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and set(r.json()) == {"error"}, r.json()
    assert client.post("/predict", json=TAGGED).status_code == 200


def test_every_error_has_one_shape(client):
    for r, status in (
        (client.get("/nowhere"), 404),
        (client.get("/predict"), 405),
        (client.post("/health"), 405),
    ):
        assert r.status_code == status and set(r.json()) == {"error"}, r.json()
        assert r.json()["error"]


def test_an_internal_error_is_a_json_500(classifier):
    class Broken:
        config, labels = classifier.config, classifier.labels

        def check(self, ex):
            pass

        def predict_many(self, examples, with_saliency=False):
            raise RuntimeError("boom")

    client = TestClient(create_app(Broken()), raise_server_exceptions=False)
    r = client.post("/predict", json=TAGGED)
    assert r.status_code == 500 and "internal error" in r.json()["error"]


def test_api_key(classifier):
    client = TestClient(create_app(classifier, api_key="s3cret"))
    assert client.get("/health").json()["auth"] is True
    assert client.get("/").status_code == 200  # the page and /health stay open
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"X-API-Key": "s3cre"}):
        r = client.post("/predict", json=TAGGED, headers=headers)
        assert r.status_code == 401 and "API key" in r.json()["error"]
        assert client.get("/labels", headers=headers).status_code == 401
    for headers in ({"Authorization": "Bearer s3cret"}, {"X-API-Key": "s3cret"}):
        assert client.post("/predict", json=TAGGED, headers=headers).status_code == 200


def test_no_model_card_is_a_404(classifier):
    client = TestClient(create_app(classifier))
    assert client.get("/health").json()["model_card"] is False
    assert client.get("/model-card").status_code == 404


@pytest.mark.parametrize(
    "label, text",
    [
        ("Cause-Effect(e2,e1)", "{e2} causes {e1}"),
        ("Other", "no relation of the label set between {e1} and {e2}"),
        ("org:founded_by(e1,e2)", "org:founded_by: {e1} \u2192 {e2}"),
        ("main subject", "main subject ({e1}, {e2})"),
    ],
)
def test_label_descriptions(label, text):
    assert describe_label(label, "Other") == text


def test_a_sentence_the_model_cannot_take_is_answered_in_place_and_far_entities_are_answered():
    """The transformer (max_length 12 here): entities far apart are answered (the middle
    goes); an entity longer than the model takes is an error in its place among many
    (the others answered, as alone) and a 422 naming the problem alone, not a 500."""
    pytest.importorskip("transformers")
    from helpers import tiny, word_dim

    from anrc.inference.api import RelationClassifier
    from anrc.models.trained import TrainedModel

    model, feat, labels, _, cfg = tiny("transformer", "punct", max_length=12)
    client = TestClient(
        create_app(RelationClassifier(TrainedModel(cfg, model, feat, labels, word_dim(cfg))))
    )
    far = "The <e1>singer</e1> " + "and " * 40 + "a <e2>commotion</e2> ."
    assert client.post("/predict", json={"sentence": far}).status_code == 200
    huge = "The <e1>" + "singer " * 20 + "</e1> caused a <e2>commotion</e2> ."
    r = client.post("/predict", json={"items": [TAGGED, huge, far], "saliency": False})
    assert r.status_code == 200
    got = r.json()["predictions"]
    assert got[1]["item"] == 1
    assert got[1]["error"].startswith("the entities and their markers alone")
    for i, item in ((0, TAGGED), (2, far)):
        alone = client.post("/predict", json={"sentence": item, "saliency": False}).json()
        want = alone["prediction"]  # the same but for float order in a padded batch
        assert got[i]["tokens"] == want["tokens"] and got[i]["label"] == want["label"]
        assert got[i]["scores"] == pytest.approx(want["scores"], abs=1e-5)
    r = client.post("/predict", json={"sentence": huge})
    assert r.status_code == 422
    assert r.json()["error"].startswith("request: the entities and their markers alone")
    assert client.post("/predict", json={"sentence": TAGGED}).status_code == 200
