"""anrc: adversarial training for relation classification."""

__version__ = "0.1.0"
