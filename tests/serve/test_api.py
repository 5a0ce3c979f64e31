"""The JSON API, in process: answers, bounds, and 4xx errors that leave it serving."""

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from anrc.serve.app import create_app  # noqa: E402

TAGGED = "The <e1>singer</e1> caused a <e2>commotion</e2> ."
OPENNRE = {"text": "The singer caused a commotion .", "h": {"pos": [4, 10]}, "t": {"pos": [20, 29]}}


@pytest.fixture
def client(classifier):
    return TestClient(create_app(classifier, max_items=3, max_bytes=2000))


def test_health_labels_and_page(client, classifier):
    assert client.get("/health").json() == {"status": "ok", "encoder": "cnn", "labels": 3}
    assert client.get("/labels").json()["labels"] == list(classifier.labels.labels)
    page = client.get("/")
    assert page.status_code == 200 and 'id="predict"' in page.text


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


def test_many_items(client):
    r = client.post("/predict", json={"items": [TAGGED, OPENNRE]})
    assert r.status_code == 200 and len(r.json()["predictions"]) == 2
    assert len(client.post("/predict", json=[TAGGED]).json()["predictions"]) == 1


@pytest.mark.parametrize(
    "body, status, message",
    [
        (b"{not json", 400, "not JSON"),
        (b'"no tags here"', 400, "request:"),
        (b'{"items": ["ok <e1>a</e1> <e2>b</e2>", 5]}', 400, "item 1:"),
        (b'{"items": []}', 400, "non-empty"),
        (b'{"items": ["a", "b", "c", "d"]}', 413, "at most 3"),
        (b'"' + b"x" * 3000 + b'"', 413, "at most 2000"),
    ],
)
def test_bad_requests_are_4xx_json_and_the_service_keeps_serving(client, body, status, message):
    r = client.post("/predict", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == status and message in r.json()["error"]
    assert client.post("/predict", json=TAGGED).status_code == 200
