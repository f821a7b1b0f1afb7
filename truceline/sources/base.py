"""The one base class every source adapter overrides."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

from ..observations import ObservationBatch

__all__ = ["Source"]


class Source(ABC):
    """Turns one file of some real-world format into a validated batch (all-or-nothing)."""

    @abstractmethod
    def read(self, path: Path) -> ObservationBatch:
        """Validate the whole file; raise :class:`~truceline.errors.InputErrors` on any bad line."""
