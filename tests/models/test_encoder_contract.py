"""The contract every registered encoder keeps, parametrised over the registry."""

import pytest
import torch
from helpers import batch_of, tiny, word_dim

from anrc.inference.api import RelationClassifier
from anrc.models.encoders import ENCODERS
from anrc.models.trained import TrainedModel


def _markers(name):
    return ("tags", "punct") if name == "transformer" else ("none", "tags")


CASES = [(name, markers) for name in ENCODERS.choices() for markers in _markers(name)]


def _tiny(name, markers, **kw):
    if name == "transformer":
        pytest.importorskip("transformers")
    extra = {"attention_heads": 2} if name == "entity-lstm" else {}
    return tiny(name, markers, **{**extra, **kw})


@pytest.mark.parametrize("name,markers", CASES)
def test_padding_never_changes_a_prediction(name, markers):
    model, feat, labels, exs, cfg = _tiny(name, markers)
    model.eval()
    together = model(batch_of(exs, feat, labels)).logits  # (4, C), padded
    for i, ex in enumerate(exs):
        alone = model(batch_of([ex], feat, labels)).logits
        torch.testing.assert_close(alone[0], together[i], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name,markers", CASES)
def test_shapes_and_output_dim(name, markers):
    model, feat, labels, exs, cfg = _tiny(name, markers)
    b = batch_of(exs, feat, labels)
    x = model.embed(b)
    assert x.shape[:2] == b.ids.shape
    enc = model.encoder(b)
    assert enc.h.shape == (len(exs), model.encoder.get_output_dim())
    out = model(b, targets=b.labels)
    assert out.logits.shape == (len(exs), len(labels))
    assert out.loss.ndim == 0 and torch.isfinite(out.loss)
    if out.attention is not None:
        torch.testing.assert_close(out.attention.sum(1), torch.ones(len(exs)))
        assert (out.attention[~b.mask] == 0).all()


@pytest.mark.parametrize("name,markers", CASES)
def test_a_perturbation_on_embeds_changes_the_loss(name, markers):
    model, feat, labels, exs, cfg = _tiny(name, markers, dropout=0.0)
    model.eval()
    b = batch_of(exs, feat, labels)
    x = model.embed(b).detach().requires_grad_()
    clean = model(b, embeds=x, targets=b.labels).loss
    (g,) = torch.autograd.grad(clean, x)
    assert g.abs().sum() > 0
    assert (g[~b.mask] == 0).all()  # padding has no say in the loss
    delta = 0.5 * g / g.norm()
    after = model(b, embeds=x.detach() + delta, targets=b.labels).loss.detach()
    assert float(after) > float(clean.detach())
    # embeds=None is embeds=embed(batch)
    torch.testing.assert_close(model(b).logits, model(b, embeds=model.embed(b)).logits)


@pytest.mark.parametrize("name,markers", CASES)
def test_save_load_identical_predictions(name, markers, tmp_path):
    model, feat, labels, exs, cfg = _tiny(name, markers)
    model.eval()
    TrainedModel(cfg, model, feat, labels, word_dim(cfg)).save(tmp_path)
    run = TrainedModel.load(tmp_path)
    before = RelationClassifier(TrainedModel(cfg, model, feat, labels, word_dim(cfg))).predict_many(
        exs
    )
    after = RelationClassifier(run).predict_many(exs)
    assert [p.label for p in before] == [p.label for p in after]
    for p, q in zip(before, after, strict=True):
        assert p.scores == q.scores
        assert p.tokens == q.tokens


def test_markers_are_tokens_and_spans_are_exact():
    model, feat, labels, exs, cfg = tiny("att-blstm", "tags")
    m = feat.marked(exs[1])  # "A <e1>factory</e1> for <e2>cars</e2> was built in Russia ."
    assert m.tokens[:7] == ["A", "<e1>", "factory", "</e1>", "for", "<e2>", "cars"]
    assert m.tokens[m.e1[0] : m.e1[1]] == ["factory"] and m.tokens[m.starts[0]] == "<e1>"
    assert m.tokens[m.e2[0] : m.e2[1]] == ["cars"] and m.tokens[m.starts[1]] == "<e2>"
    assert feat.vocab.stoi["<e1>"] > 1  # a learned vector of its own, not <unk>


@pytest.mark.parametrize("name,markers", CASES)
@pytest.mark.parametrize("weights", ["fp16", "int8", "int8-embeddings"])
def test_compact_weights_load_close_to_the_trained_ones(name, markers, weights, tmp_path):
    """Each stored form reads back into the fp32 model, within its rounding; the
    int8-embeddings form stores the encoder's input table (get_input_embeddings) in int8."""
    from safetensors import safe_open

    model, feat, labels, exs, cfg = _tiny(name, markers)
    model.eval()
    TrainedModel(cfg, model, feat, labels, word_dim(cfg)).save(tmp_path, weights=weights)
    run = TrainedModel.load(tmp_path)
    want, got = model.state_dict(), run.network.state_dict()
    for key, tensor in want.items():
        if not tensor.is_floating_point():
            continue
        # fp16 keeps 11 bits of mantissa; an int8 row keeps max|row| / 127 steps
        bound = tensor.abs().max() / 127 if weights != "fp16" else tensor.abs().max() * 2**-10
        assert (got[key] - tensor).abs().max() <= bound + 1e-7, key
    table = next(n for n, m in model.named_modules() if m is model.encoder.get_input_embeddings())
    with safe_open(str(tmp_path / "model.safetensors"), "pt") as f:
        stored = f.get_tensor(f"{table}.weight").dtype
        assert f.metadata()["weights"] == weights
    assert stored == (torch.float16 if weights == "fp16" else torch.int8)
    b = batch_of(exs, feat, labels)
    torch.testing.assert_close(run.network(b).logits, model(b).logits, atol=0.05, rtol=0.05)


@pytest.mark.parametrize("name", ENCODERS.choices())
def test_every_encoder_says_what_it_is(name):
    from anrc.builder import encoder_class

    assert len(encoder_class(name).summary) > 20
