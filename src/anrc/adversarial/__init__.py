"""Adversarial training methods and the perturbation geometry they share with attacks."""
