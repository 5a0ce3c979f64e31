"""Small models and batches built in the test, no data files needed."""

import torch

from anrc.batching import collate
from anrc.config import ModelConfig
from anrc.data import Example
from anrc.labels import LabelSet
from anrc.model import ANRC
from anrc.vocab import Vocab

SENTENCES = [
    ("The <e1>singer</e1> caused a <e2>commotion</e2> .", "Cause-Effect(e1,e2)"),
    ("A <e1>factory</e1> for <e2>cars</e2> was built in Russia .", "Product-Producer(e2,e1)"),
    ("The <e1>notes</e1> to the <e2>statements</e2> .", "Other"),
    ("Both his <e1>feet</e1> have been moving into the big round <e2>ball</e2> today .", "Other"),
]


def examples():
    from anrc.data import parse_tagged

    out = []
    for i, (text, label) in enumerate(SENTENCES):
        toks, e1, e2 = parse_tagged(text)
        out.append(Example(str(i), toks, e1, e2, label))
    return out


def tiny(**model_kw):
    exs = examples()
    vocab = Vocab.build([ex.tokens for ex in exs])
    labels = LabelSet.from_labels([ex.label for ex in exs])
    cfg = ModelConfig(**{"hidden": 8, "position_dim": 4, "max_distance": 10, **model_kw})
    torch.manual_seed(0)
    model = ANRC(cfg, len(vocab), 6, len(labels))
    return model, vocab, labels, exs, cfg


def batch_of(exs, vocab, labels, cfg):
    return collate(exs, vocab, cfg.max_distance, labels)
