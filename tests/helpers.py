"""Small models and batches built in the test, no data files needed."""

import contextlib
import socket
import threading
import time
from pathlib import Path

import numpy as np
import torch

from anrc.builder import build_model, config_from_dict, encoder_class
from anrc.config import Config
from anrc.data import Example, parse_tagged
from anrc.data.labels import LabelSet
from anrc.data.vectors import Vectors

SENTENCES = [
    ("The <e1>singer</e1> caused a <e2>commotion</e2> .", "Cause-Effect(e1,e2)"),
    ("A <e1>factory</e1> for <e2>cars</e2> was built in Russia .", "Product-Producer(e2,e1)"),
    ("The <e1>notes</e1> to the <e2>statements</e2> .", "Other"),
    ("Both his <e1>feet</e1> have been moving into the big round <e2>ball</e2> today .", "Other"),
]


def examples():
    out = []
    for i, (text, label) in enumerate(SENTENCES):
        toks, e1, e2 = parse_tagged(text)
        out.append(Example(str(i), toks, e1, e2, label))
    return out


TINY_WORDS = [
    "the",
    "a",
    "singer",
    "caused",
    "commotion",
    "factory",
    "for",
    "cars",
    "was",
    "built",
    "in",
    "russia",
    "notes",
    "to",
    "statements",
    "both",
    "his",
    "feet",
    "have",
    "been",
    "moving",
    "into",
    "big",
    "round",
    "ball",
    "today",
    ".",
    ",",
    "##s",
    "##ing",
    "##ed",
]
_PRETRAINED: dict[str, str] = {}


def tiny_pretrained(kind: str = "bert") -> str:
    """A tiny randomly initialised BERT (or MPNet: ``kind="mpnet"``, the family of the
    base-size all-mpnet-base-v2) saved as a Hugging Face model folder (built once)."""
    if kind in _PRETRAINED:
        return _PRETRAINED[kind]
    import atexit
    import json
    import shutil
    import tempfile

    from safetensors.torch import save_file
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, MPNetConfig, MPNetModel

    folder = Path(tempfile.mkdtemp(prefix=f"anrc-tiny-{kind}-"))
    atexit.register(shutil.rmtree, folder, True)  # built once a session, gone after it
    special = {"bert": ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
               "mpnet": ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]}[kind]  # fmt: skip
    vocab = [*special, "$", "#", *TINY_WORDS]
    unk, start, end = ("[UNK]", "[CLS]", "[SEP]") if kind == "bert" else ("<unk>", "<s>", "</s>")
    ids = {w: i for i, w in enumerate(vocab)}
    tok = Tokenizer(models.WordPiece(ids, unk_token=unk))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single=f"{start} $A {end}", special_tokens=[(start, ids[start]), (end, ids[end])]
    )
    tok.save(str(folder / "tokenizer.json"))
    size = dict(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=2,
                num_attention_heads=2, intermediate_size=32, max_position_embeddings=64)  # fmt: skip
    if kind == "bert":
        conf, body = BertConfig(**size), BertModel
    else:
        conf, body = MPNetConfig(**size, pad_token_id=1, bos_token_id=0, eos_token_id=2), MPNetModel
    (folder / "config.json").write_text(json.dumps(conf.to_dict()))
    torch.manual_seed(0)
    state = body(conf).state_dict()
    save_file({k: v.contiguous() for k, v in state.items()}, str(folder / "model.safetensors"))
    _PRETRAINED[kind] = str(folder)
    return _PRETRAINED[kind]


#: small sizes for each setting an encoder may have (each takes those it declares)
SMALL = {"hidden": 8, "position_dim": 4, "max_distance": 10, "filters": 8, "word_dim": 6}


def tiny_config(
    encoder: str = "anrc", markers: str = "none", head: str = "softmax", **encoder_kw
) -> Config:
    """The config of a tiny model: ``encoder_kw`` set the encoder's own settings."""
    from dataclasses import fields

    own = {f.name for f in fields(encoder_class(encoder).Params)}
    settings = {k: v for k, v in SMALL.items() if k in own}
    if encoder == "transformer":
        body = encoder_kw.pop("body", "bert")
        settings.update(pretrained=tiny_pretrained(body), pooling="cls+entity_start")
    d = {
        "model": {"encoder": encoder, "head": head},
        "encoder": {**settings, **encoder_kw},
        "data": {"markers": markers, "embeddings": "none"},
    }
    return config_from_dict(d)


def word_dim(cfg: Config) -> int:
    return encoder_class(cfg.model.encoder).word_dim_for(cfg.encoder, None)


def tiny(encoder: str = "anrc", markers: str = "none", head: str = "softmax", **encoder_kw):
    """(model, featurizer, labels, examples, cfg) of a tiny randomly initialised model."""
    exs = examples()
    cfg = tiny_config(encoder, markers, head, **encoder_kw)
    featurizer = encoder_class(encoder).build_featurizer(cfg.encoder, cfg.data, exs, None)
    labels = LabelSet.from_labels([ex.label for ex in exs])
    torch.manual_seed(0)
    model = build_model(cfg, featurizer, labels, word_dim(cfg))
    if encoder == "transformer":  # the tiny BERT folder stands in for the pretrained weights
        model.encoder.init_pretrained(cfg.encoder, featurizer, None, 0)
    return model, featurizer, labels, exs, cfg


def batch_of(exs, featurizer, labels):
    return featurizer(exs, labels)


def grouped_vectors(words: list[str], groups: int = 8) -> Vectors:
    """Vectors in which the words of one group (i mod groups) are near-parallel and the
    groups orthogonal: a word's neighbours (cosine > 0.6) are exactly its group."""
    noise = 0.05 * np.random.default_rng(0).normal(size=(len(words), groups))
    return Vectors(words, (np.eye(groups)[np.arange(len(words)) % groups] + noise).astype("f4"))


def write_vectors(vectors: Vectors, path: Path) -> Path:
    """``vectors`` as a GloVe-style text file (a ``data.embeddings`` path)."""
    rows = zip(vectors.words, vectors.matrix, strict=True)
    path.write_text("".join(f"{w} {' '.join(f'{x:.5f}' for x in row)}\n" for w, row in rows))
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def live(app):
    """``app`` under uvicorn on a free loopback port, in a thread; yields its base URL."""
    import uvicorn

    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


def loss_of(model):
    """The plain training loss of ``model`` (its head's loss on the gold labels)."""
    from anrc.training.loss import Loss

    return Loss(model.head)


def one_step(model, batch):
    """The Step a method's backward takes for ``batch`` (plain loss, no extra data)."""
    from anrc.adversarial.methods import Step

    return Step(batch, loss_of(model))


def backward_all(method, model, batch) -> None:
    """The method's backward for each step of one minibatch (free AT: each replay)."""
    for step in method.steps(batch, loss_of(model), lambda n: None):
        model.zero_grad()
        method.backward(model, step)


def train_minibatch(model, batch, opt, method, grad_clip=0.0, unlabelled=None) -> list:
    """The optimiser steps of one minibatch, as the training loop takes them."""
    from anrc.training.step import train_step

    steps = method.steps(batch, loss_of(model), lambda n: unlabelled)
    return [train_step(model, step, opt, method, grad_clip) for step in steps]


def write(tmp_path: Path, name: str, text: str, newline: str = "\n") -> Path:
    p = tmp_path / name
    p.write_bytes(text.replace("\n", newline).encode("utf-8"))
    return p


def nan_scores(monkeypatch, word: str | None = None) -> None:
    """Every RelationClassifier answers NaN for the sentences holding ``word`` (all of
    them for None): a model gone wrong, whatever the cause."""
    from anrc.inference.api import RelationClassifier

    real = RelationClassifier.probs

    def probs(self, examples, *a, **k):
        out, attn = real(self, examples, *a, **k)
        for i, ex in enumerate(examples):
            if word is None or word in ex.tokens:
                out[i] = float("nan")
        return out, attn

    monkeypatch.setattr(RelationClassifier, "probs", probs)
