"""The package's version (one place; ``truceline.__version__`` and every run record read it)."""

__all__ = ["__version__"]

__version__ = "0.1.0"
