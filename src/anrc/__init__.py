"""anrc: adversarial training for relation classification."""

__version__ = "0.1.0"


def load(run_dir):
    """Load a trained run directory; see :class:`anrc.api.RelationClassifier`."""
    from anrc.inference.api import load as _load

    return _load(run_dir)
