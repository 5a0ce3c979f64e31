"""Adversarial training methods and the perturbation geometry they share with attacks.

Importing the package registers every method in
:data:`anrc.adversarial.methods.METHODS`.
"""

from anrc.adversarial import free, methods, multistep, vat  # noqa: F401  (register)
