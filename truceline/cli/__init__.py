"""The ``truceline`` command line: thin wrappers over the library, one module per command
group (analysis, evidence, publishing, service, trust) over the shared :mod:`._app`.

Exit codes: 0 success, 2 bad input or arguments (the message names file, line and field, or
the option), 1 anything else.
"""

from __future__ import annotations

from . import analysis, evidence, live, publishing, service, trust  # noqa: F401  (they register commands)
from ._app import app

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``truceline`` script."""
    app()


if __name__ == "__main__":
    main()
