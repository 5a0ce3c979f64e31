"""Predictions off the event loop: /health answers while the model works, a large
request's chunks interleave with a small one's, and a request past its deadline is a
503 that leaves the service serving. A stand-in classifier blocks on events, so no
test depends on how fast this machine is."""

import http.client
import json
import threading
import time
from urllib.parse import urlparse

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from helpers import live  # noqa: E402

from anrc.data import Example  # noqa: E402
from anrc.serve.app import create_app  # noqa: E402
from anrc.serve.requests import Limits  # noqa: E402
from anrc.serve.worker import chunks  # noqa: E402


class Gate:
    """A stand-in classifier: records each chunk's first word and, while closed, blocks."""

    def __init__(self, classifier):
        self.real = classifier
        self.config, self.labels = classifier.config, classifier.labels
        self.open = threading.Event()
        self.entered = threading.Event()
        self.calls: list[str] = []

    def check(self, ex):
        self.real.check(ex)

    def predict_many(self, examples, with_saliency=False):
        self.calls.append(examples[0].tokens[0])
        self.entered.set()
        assert self.open.wait(30)
        return self.real.predict_many(examples, with_saliency=with_saliency)


def _post(url, body, out, key):
    u = urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    conn.request("POST", "/predict", json.dumps(body), {"Content-Type": "application/json"})
    r = conn.getresponse()
    out[key] = (r.status, json.loads(r.read()))


def _get(url, path):
    u = urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    conn.request("GET", path)
    r = conn.getresponse()
    return r.status, json.loads(r.read())


def _wait(predicate, seconds=20):
    end = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < end, "timed out waiting"
        time.sleep(0.01)


def sentence(first: str, words: int = 6) -> str:
    rest = " ".join(["x"] * (words - 4))
    return f"{first} <e1>a</e1> {rest} <e2>b</e2> ."


def test_chunks_hold_at_most_the_word_budget():
    exs = [Example(str(i), ["w"] * n, (0, 1), (1, 2)) for i, n in enumerate([3, 3, 5, 9, 1])]
    got = [[len(e.tokens) for _, e in c] for c in chunks(exs, 6)]
    assert got == [[3, 3], [5], [9], [1]]  # a longer sentence is a chunk on its own


def test_chunks_of_a_request_are_even_and_a_multiple_of_the_workers():
    def sizes(lengths, budget, multiple):
        exs = [Example(str(i), ["w"] * n, (0, 1), (1, 2)) for i, n in enumerate(lengths)]
        got = list(chunks(exs, budget, multiple))
        assert [i for c in got for i, _ in c] == list(range(len(exs)))  # all, in order
        return [sum(len(e.tokens) for _, e in c) for c in got]

    assert sizes([4] * 10, 16, 1) == [12, 16, 12]  # 40 words in 3 chunks, evenly
    assert sizes([4] * 10, 16, 2) == [8, 12, 8, 12]  # 4 chunks for 2 workers, not 3
    assert sizes([4] * 12, 256, 2) == [24, 24]  # a small request: one chunk a worker
    assert sizes([3], 6, 2) == [3]  # one sentence cannot be cut
    assert sizes([], 6, 2) == []
    lengths = [1, 2, 30, 2, 9, 1, 5] * 5
    exs = [Example(str(i), ["w"] * n, (0, 1), (1, 2)) for i, n in enumerate(lengths)]
    for chunk in chunks(exs, 12, 2):  # within the budget, or one sentence over it
        assert len(chunk) == 1 or sum(len(e.tokens) for _, e in chunk) <= 12


def test_health_answers_while_the_model_works(classifier):
    gate = Gate(classifier)
    with live(create_app(gate)) as url:
        out = {}
        t = threading.Thread(target=_post, args=(url, sentence("one"), out, "p"))
        t.start()
        assert gate.entered.wait(20)
        assert _get(url, "/health")[0] == 200  # the prediction still blocks its thread
        gate.open.set()
        t.join(30)
    assert out["p"][0] == 200 and out["p"][1]["prediction"]["label"] in classifier.labels


def test_a_small_request_does_not_wait_for_a_large_one(classifier):
    gate = Gate(classifier)
    app = create_app(gate, Limits(chunk_words=6))
    with live(app) as url:
        out = {}
        large = {"items": [sentence(f"large{i}") for i in range(3)]}  # three chunks
        a = threading.Thread(target=_post, args=(url, large, out, "large"))
        a.start()
        assert gate.entered.wait(20)  # the large request's first chunk is running
        b = threading.Thread(target=_post, args=(url, sentence("small"), out, "small"))
        b.start()
        _wait(lambda: app.state.worker.waiting() == 1)
        gate.open.set()
        a.join(30), b.join(30)
    assert gate.calls == ["large0", "small", "large1", "large2"]
    assert out["large"][0] == out["small"][0] == 200
    assert len(out["large"][1]["predictions"]) == 3


def test_a_request_past_its_deadline_is_a_503_and_the_service_goes_on(classifier):
    gate = Gate(classifier)
    with live(create_app(gate, Limits(timeout=0.5))) as url:
        out = {}
        _post(url, sentence("slow"), out, "slow")  # the gate stays closed: it cannot finish
        status, body = out["slow"]
        assert status == 503 and "longer than 0.5 s" in body["error"]
        gate.open.set()
        _post(url, sentence("next"), out, "next")
        assert out["next"][0] == 200


def test_a_request_alone_uses_every_worker_and_shares_them_when_not_alone(classifier):
    """Work-conserving: a lone large request keeps a chunk on each of the two workers (it
    had used one, so a single client got half the machine); a small request arriving
    meanwhile still waits for one chunk of it, not for all of it."""
    gate = Gate(classifier)
    entered = []
    real_enter = gate.predict_many

    def counted(examples, with_saliency=False):
        entered.append(examples[0].tokens[0])
        return real_enter(examples, with_saliency)

    gate.predict_many = counted
    app = create_app(gate, Limits(chunk_words=6), workers=2)
    with live(app) as url:
        out = {}
        large = {"items": [sentence(f"large{i}") for i in range(4)]}  # four chunks
        a = threading.Thread(target=_post, args=(url, large, out, "large"))
        a.start()
        _wait(lambda: len(entered) == 2)  # both workers on the large request at once
        b = threading.Thread(target=_post, args=(url, sentence("small"), out, "small"))
        b.start()
        _wait(lambda: app.state.worker.waiting() == 1)  # the small one queued, nothing more
        gate.open.set()
        a.join(30), b.join(30)
    assert sorted(entered[:2]) == ["large0", "large1"] and entered[2] == "small"
    assert out["large"][0] == out["small"][0] == 200
    firsts = [p["tokens"][0] for p in out["large"][1]["predictions"]]
    assert firsts == [f"large{i}" for i in range(4)]  # answered in the request's order


def test_a_worker_whose_chunk_ends_first_takes_the_next_at_once(classifier):
    """The request's first chunk runs until its third has started: the worker that
    finished the second must take the third while the first still runs (it had waited
    for the first, so the two workers went in lock step and this never finished)."""
    gate = Gate(classifier)
    gate.open.set()
    third = threading.Event()
    real = gate.predict_many

    def staggered(examples, with_saliency=False):
        first = examples[0].tokens[0]
        if first == "large2":
            third.set()
        if first == "large0":
            assert third.wait(20), "the third chunk waited for the first"
        return real(examples, with_saliency)

    gate.predict_many = staggered
    with live(create_app(gate, Limits(chunk_words=6), workers=2)) as url:
        out = {}
        _post(url, {"items": [sentence(f"large{i}") for i in range(4)]}, out, "large")
    assert out["large"][0] == 200, out["large"]
    firsts = [p["tokens"][0] for p in out["large"][1]["predictions"]]
    assert firsts == [f"large{i}" for i in range(4)]


def test_chunks_hold_about_the_chunk_time_at_the_measured_speed():
    """Chunks follow the time budget at the worker's running speed estimate, apart for
    saliency; a fixed chunk_words overrides it."""
    from anrc.serve.worker import FIRST_CHUNK_WORDS, MIN_CHUNK_WORDS, SPEED_WEIGHT, Worker

    w = Worker(object(), workers=2, chunk_seconds=0.025)
    assert w.chunk_words(False) == FIRST_CHUNK_WORDS  # nothing timed yet
    w.learn(False, 4000, 1.0)  # 4,000 words a second: 100 words in 25 ms
    assert w.chunk_words(False) == 100
    assert w.chunk_words(True) == FIRST_CHUNK_WORDS  # saliency keeps its own speed
    w.learn(False, 2000, 0.1)  # 20,000 words a second moves the estimate a fifth of the way
    assert w.chunk_words(False) == round((4000 + SPEED_WEIGHT * 16000) * 0.025)
    w.learn(True, 10, 1.0)  # slow: never below the floor
    assert w.chunk_words(True) == MIN_CHUNK_WORDS
    w.learn(False, 0, 0.0)  # nothing to learn from an empty chunk
    assert w.chunk_words(False) == round((4000 + SPEED_WEIGHT * 16000) * 0.025)
    assert Worker(object(), chunk_words=6).chunk_words(False) == 6
