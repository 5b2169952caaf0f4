"""The version of stepfold: `__version__`."""

__all__ = ["__version__"]

__version__ = "0.2.0"
"""This stepfold's version (PEP 440)."""
