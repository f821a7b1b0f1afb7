"""One exception hierarchy for the whole package.

Every error Truceline raises on purpose is a :class:`TrucelineError`::

    TrucelineError
    ├── InputError              bad input: names the file, the line (or feature) and the field
    │   ├── InputErrors         several input errors of one batch (the batch is rejected whole)
    │   ├── AgreementError      the agreement (YAML or its GeoJSON layers) is malformed
    │   └── UsageError          a command's arguments do not fit (a run that does not exist,
    │                           an output file of the wrong kind, ...)
    ├── NotFound                no such object (or none the caller may see)
    ├── Forbidden               the caller's role may not do this
    ├── ReviewError             a case event the case's state does not allow
    ├── StoreError              the store cannot be opened, migrated or written
    ├── WitnessError            a witness refuses a checkpoint (older, a fork, not the log's),
    │                           or cosignatures do not verify
    └── MissingExtra            an optional part is not installed (says which extra to add)

They are mapped to answers in exactly two places: the command line
(:mod:`truceline.cli`) turns :class:`InputError` (and its kinds) and :class:`NotFound` into
exit code 2, anything else into 1 with an ``error:`` or ``internal error:`` message; the
HTTP API (:mod:`truceline.api.errors`) turns them into 422, 404, 403, 409, 503 and 501 (a
:class:`WitnessError` into its own ``status``).

>>> err = InputError("obs.jsonl", 3, "position", "latitude 133 is outside [-90, 90]")
>>> str(err)
'obs.jsonl:3: position: latitude 133 is outside [-90, 90]'
>>> isinstance(AgreementError("a.yaml", 1, None, "x"), InputError)
True
"""

from __future__ import annotations

__all__ = [
    "AgreementError",
    "Forbidden",
    "InputError",
    "InputErrors",
    "MissingExtra",
    "NotFound",
    "ReviewError",
    "StoreError",
    "TrucelineError",
    "UsageError",
    "WitnessError",
]


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


class UsageError(InputError):
    """A command's arguments do not fit: ``file`` names the option (``--run``)."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(option, None, None, message)


class NotFound(TrucelineError):
    """No such object, or none the caller may see (the two are not told apart)."""


class Forbidden(TrucelineError):
    """The caller's role may not do this."""


class ReviewError(TrucelineError):
    """An event that the case's state does not allow (the API answers 409)."""


class StoreError(TrucelineError):
    """The store cannot be opened, migrated or written."""


class WitnessError(TrucelineError):
    """A witness refuses a checkpoint (signed by another key, older than its last head, or
    not an extension of it: a fork), or cosignatures do not verify. ``status`` is the HTTP
    answer C2SP tlog-witness gives for it (403, 404, 409, 422)."""

    def __init__(self, message: str, status: int = 409) -> None:
        self.status = status
        super().__init__(message)


class MissingExtra(TrucelineError):
    """An optional part of Truceline is not installed.

    >>> str(MissingExtra("pdf", "weasyprint", "PDF reports"))
    "PDF reports need the optional package 'weasyprint': pip install 'truceline[pdf]'"
    """

    def __init__(self, extra: str, module: str, what: str) -> None:
        self.extra, self.module, self.what = extra, module, what
        super().__init__(
            f"{what} need the optional package {module!r}: pip install 'truceline[{extra}]'"
        )
