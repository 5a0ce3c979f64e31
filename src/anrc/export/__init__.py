"""Exporting trained models for serving without PyTorch."""
