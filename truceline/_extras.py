"""Optional parts: the service, PDF reports, plots and the open exports are extras.

:func:`require` imports an optional module or raises :class:`~truceline.errors.MissingExtra`
naming the extra that provides it, so a user without it reads what to install instead of a
bare ``ModuleNotFoundError``.

>>> require("json", "none", "JSON").__name__
'json'
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import MissingExtra

__all__ = ["require"]


def require(module: str, extra: str, what: str) -> ModuleType:
    """Import ``module``; if it is not installed, raise MissingExtra for ``extra``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        if exc.name is not None and exc.name.split(".")[0] != top:
            raise  # the module is there but something it needs is broken: say so as it is
        raise MissingExtra(extra, top, what) from None
