"""The package version (read by run directories and ``anrc --version``)."""

__version__ = "0.2.0"
