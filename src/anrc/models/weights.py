"""How a trained model's weights are stored: fp32 as trained, fp16, int8 rows with a scale
each, or int8 for the word-vector table alone; and back to fp32 on loading."""

from __future__ import annotations

import torch

from anrc.models.classifier import RelationModel

#: how a run's weights are stored: fp32 as trained; fp16 halves the file; int8 stores each
#: weight matrix (embedding tables, linear and recurrent layers) as int8 rows with one fp32
#: scale a row (symmetric, max-abs) and the rest (biases, norms) as fp16, about a quarter
#: of the file; int8-embeddings does that to the word (or word-piece) vector table alone
#: and keeps the rest in fp16 (on the MiniLM transformer, where that table is half the
#: weights: 37% of the file, and its test answers change on 2 of 2,717 sentences
#: against 10 with int8). Loading turns every form back into the fp32 model.
WEIGHT_STORAGE = ("fp32", "fp16", "int8", "int8-embeddings")
SCALE_SUFFIX = ".int8_row_scale"


def embedding_tables(model: RelationModel) -> frozenset[str]:
    """The state-dict names of ``model``'s word (or word-piece) vector table, and of the
    frozen rows its embedder keeps beside it (``frozen_tables``: data.vectors_vocab)."""
    table = model.encoder.get_input_embeddings()
    names = set()
    for name, m in model.named_modules():
        if m is table:
            names.add(f"{name}.weight")
        names |= {
            f"{name}.{buf}"
            for buf in getattr(m, "frozen_tables", ())
            if isinstance(getattr(m, buf, None), torch.Tensor)
        }
    return frozenset(names)


def compact_state(
    state: dict[str, torch.Tensor], storage: str, embeddings: frozenset[str] = frozenset()
) -> dict[str, torch.Tensor]:
    """``state`` (fp32) in the stored form ``storage`` (one of WEIGHT_STORAGE);
    ``embeddings`` names the embedding tables (for int8-embeddings)."""
    if storage not in WEIGHT_STORAGE:
        raise ValueError(f"weights {storage!r}: choose from {', '.join(WEIGHT_STORAGE)}")
    out = {}
    for name, t in state.items():
        t = t.detach().cpu().contiguous()
        int8 = storage == "int8" or (storage == "int8-embeddings" and name in embeddings)
        if storage == "fp32" or not t.is_floating_point():
            out[name] = t
        elif int8 and t.dim() == 2:
            scale = t.abs().amax(dim=1).clamp_min(1e-12) / 127.0  # (rows,)
            out[name] = torch.round(t / scale[:, None]).clamp(-127, 127).to(torch.int8)
            out[name + SCALE_SUFFIX] = scale.float()
        else:
            out[name] = t.half()
    return out


def expand_state(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The fp32 state dict of any stored form (compact_state's inverse, up to rounding)."""
    state = {}
    for name, t in tensors.items():
        if name.endswith(SCALE_SUFFIX):
            continue
        scale = tensors.get(name + SCALE_SUFFIX)
        if scale is not None:
            if t.dtype != torch.int8 or t.dim() != 2 or scale.shape != (t.shape[0],):
                raise ValueError(f"{name}: an int8 row scale that does not fit its tensor")
            state[name] = t.float() * scale.float()[:, None]
        else:
            state[name] = t.float() if t.is_floating_point() else t
    return state
