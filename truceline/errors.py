"""One exception hierarchy for the whole package.

The CLI maps :class:`InputError` to exit code 2 and anything else to exit code 1; the API
(later) maps them to HTTP 4xx / 5xx.

>>> err = InputError("obs.jsonl", 3, "position", "latitude 133 is outside [-90, 90]")
>>> str(err)
'obs.jsonl:3: position: latitude 133 is outside [-90, 90]'
"""

from __future__ import annotations

__all__ = ["AgreementError", "InputError", "InputErrors", "StoreError", "TrucelineError"]


class TrucelineError(Exception):
    """Base class of every error Truceline raises on purpose."""


class InputError(TrucelineError):
    """Bad input: names the file, the line (or feature index) and the field.

    ``line`` is 1-based for line-oriented files (JSONL, CSV) and a feature index (0-based,
    written ``feature N``) for GeoJSON; ``None`` when the whole file is at fault.
    """

    def __init__(
        self,
        file: str,
        line: int | str | None,
        field: str | None,
        message: str,
    ) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class InputErrors(InputError):
    """Several input errors found in one batch; the batch is rejected as a whole."""

    def __init__(self, errors: list[InputError]) -> None:
        self.errors = errors
        first = errors[0]
        super().__init__(first.file, first.line, first.field, first.message)

    def __str__(self) -> str:
        shown = [str(e) for e in self.errors[:20]]
        if len(self.errors) > 20:
            shown.append(f"... and {len(self.errors) - 20} more errors")
        return "\n".join(shown)


class AgreementError(InputError):
    """The agreement (YAML or its GeoJSON layers) is malformed or inconsistent."""


class StoreError(TrucelineError):
    """The store cannot be opened, migrated or written."""
