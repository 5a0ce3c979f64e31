"""The same sentences through each path a user meets, in one run, against
``model.predict_labels``: the stream behind ``anrc predict`` (text and ``--json``
output) and ``anrc serve`` with its default settings (POST /predict, ``--items``
sentences a request, ``"saliency": false`` as predict_labels computes none, from one
client and from ``--clients`` at once; and once with the saliency a request gets
unless it says otherwise, for scale). Every path predicts in the model's ``auto`` form
(what ``anrc.load``, ``anrc predict`` and ``anrc serve`` use by default). Passes
interleaved path by path, median of ``--repeats``; the ratio is each path's time over
``predict_labels``'s on Examples read beforehand (the target: at most 1.10). A second
row gives predict_labels on the same tagged lines as strings, parsing them as the
stream and serve must (the issue's own baseline): a path's ratio to that row is its
ratio over this row's ratio.

    .venv/bin/python benchmarks/bench_paths.py [MODEL] [--sentences 1000] [--threads 2]
        [--repeats 3] [--items 64] [--clients 2] [--out results/benchmarks/paths-MODEL.txt]
"""

import argparse
import http.client
import io
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import torch
from common import ROOT, add_model_options, interleaved, ratio_table, report, test_sentences

import anrc
from anrc.inference.forms import cpu_flags
from anrc.inference.stream import predict_stream

ap = argparse.ArgumentParser()
add_model_options(ap)
ap.add_argument("--items", type=int, default=64, help="sentences a request (the server's most)")
ap.add_argument("--clients", type=int, default=2)
args = ap.parse_args()
torch.set_num_threads(args.threads)

test = test_sentences(args.sentences)


def tagged(ex) -> str:
    words = list(ex.tokens)
    for (start, end), tag in sorted(((ex.e1, "e1"), (ex.e2, "e2")), reverse=True):
        words[start:end] = [f"<{tag}>", *words[start:end], f"</{tag}>"]
    return " ".join(words)


lines = [tagged(ex) for ex in test]
clf = anrc.load(args.model)
clf.predict_labels(test[:64])  # warm-up
tmp = Path(tempfile.mkdtemp())
(tmp / "in.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def stream(as_json: bool):
    def run():
        predict_stream(clf, str(tmp / "in.txt"), io.StringIO(), as_json)

    return run


with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
server = subprocess.Popen(
    [sys.executable, "-m", "anrc", "serve", args.model, "--port", str(port)],
    cwd=ROOT, stderr=subprocess.DEVNULL,
)  # fmt: skip


def post(body: bytes) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request("POST", "/predict", body, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = resp.read()
    if resp.status != 200:
        raise SystemExit(f"serve answered {resp.status}: {data[:200]!r}")
    conn.close()


def bodies(saliency: bool) -> list[bytes]:
    return [
        json.dumps({"items": lines[i : i + args.items], "saliency": saliency}).encode()
        for i in range(0, len(lines), args.items)
    ]


def serve(clients: int, saliency: bool = False):
    def run():
        todo = bodies(saliency)
        lock = threading.Lock()

        def client():
            while True:
                with lock:
                    if not todo:
                        return
                    body = todo.pop()
                post(body)

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    return run


for _ in range(600):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/health")
        if conn.getresponse().status == 200:
            break
    except OSError:
        time.sleep(0.5)
post(bodies(False)[0])  # warm-up
paths = {
    "predict_labels": lambda: clf.predict_labels(test),
    "predict_labels on the tagged lines": lambda: clf.predict_labels(lines),
    "anrc predict (stream, text)": stream(False),
    "anrc predict (stream, --json)": stream(True),
    f"anrc serve, 1 client, {args.items} a request": serve(1),
    f"anrc serve, {args.clients} clients, {args.items} a request": serve(args.clients),
    f"anrc serve, {args.clients} clients, with saliency (its default)": serve(args.clients, True),
}
try:
    times = interleaved(paths, args.repeats)
finally:
    server.terminate()
    server.wait()
flags = " ".join(sorted(f for f in cpu_flags() if f.startswith(("avx512_", "amx", "avx_vnni"))))
out = [
    f"{args.model}, form {clf.form}: the first {len(test):,} test sentences, threads "
    f"{args.threads}, median of {args.repeats} interleaved passes; CPU flags: {flags or 'none'}",
    *ratio_table(times, "predict_labels", len(test)),
]
report(out, args.out and Path(args.out))
