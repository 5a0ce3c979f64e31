"""anrc: adversarial training for relation classification."""

from anrc.version import __version__

__all__ = ["__version__", "load"]


def load(run_dir, device: str = "cpu", form: str = "auto"):
    """Load a trained run directory, or a shipped model by name: ``anrc.load("semeval")``
    (``anrc.pretrained.shipped()`` lists them); ``form`` is how predictions run (fp32,
    bf16, int8, or auto: the fastest this CPU offers within the F1 allowed; see
    :mod:`anrc.inference.forms`); see :class:`anrc.inference.api.RelationClassifier`."""
    from anrc.inference.api import load as _load  # start-up: torch

    return _load(run_dir, device, form)
