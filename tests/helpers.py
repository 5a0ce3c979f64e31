"""Small models and batches built in the test, no data files needed."""

import torch

from anrc.config import Config, ModelConfig
from anrc.data import Example, parse_tagged
from anrc.data.labels import LabelSet
from anrc.models.classifier import ENCODERS, build_model

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


def tiny_config(encoder: str = "anrc", markers: str = "none", **model_kw) -> Config:
    small = {"hidden": 8, "position_dim": 4, "max_distance": 10, "filters": 8, "word_dim": 6}
    cfg = Config()
    cfg.model = ModelConfig(**{**small, "encoder": encoder, **model_kw})
    cfg.data.markers = markers
    cfg.data.embeddings = "none"
    return cfg


def tiny(encoder: str = "anrc", markers: str = "none", **model_kw):
    """(model, featurizer, labels, examples, cfg) of a tiny randomly initialised model."""
    exs = examples()
    cfg = tiny_config(encoder, markers, **model_kw)
    featurizer = ENCODERS.get(encoder).build_featurizer(cfg, exs, None)
    labels = LabelSet.from_labels([ex.label for ex in exs])
    torch.manual_seed(0)
    model = build_model(cfg, featurizer, labels, cfg.model.word_dim)
    return model, featurizer, labels, exs, cfg


def batch_of(exs, featurizer, labels):
    return featurizer(exs, labels)
