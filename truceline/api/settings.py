"""The service's configuration, declared once: each setting's default, help and bounds.

``truceline serve`` makes its options from these fields (:func:`options`), worker processes
receive them as JSON in one environment variable (:meth:`Settings.to_env`,
:meth:`Settings.from_env`), and :func:`~truceline.api.create_app` reads nothing else.

>>> s = Settings(db=Path("t.db"), quorum=3)
>>> Settings.from_env(s.to_env()) == s
True
>>> [o.name for o in options()][:3]
['quorum', 'delay_hours', 'coarsen_deg']
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ..access import Disclosure

__all__ = ["SETTINGS_ENV", "Option", "Settings", "options"]

SETTINGS_ENV = "TRUCELINE_SERVE_SETTINGS"


def _setting(default: Any, help: str, minimum: float | None = None) -> Any:
    """A setting of the service: shown by ``truceline serve --help`` as ``--NAME``."""
    return field(default=default, metadata={"help": help, "min": minimum})


def _now_us() -> int:
    return int(time.time() * 1e6)


@dataclass(frozen=True)
class Settings:
    """Everything the service is configured with."""

    db: Path = Path("truceline.db")
    database_url: str | None = None  # PostgreSQL + PostGIS instead of the SQLite file
    log_key: Path | None = None
    tiles: Path | None = None  # the mission's raster MBTiles, served at /tiles/{z}/{x}/{y}
    quorum: int = _setting(2, "Member states whose commissioners must sign a ruling.", 1)
    delay_hours: float = _setting(24.0, "Hours before the public sees an incident.", 0)
    coarsen_deg: float = _setting(0.05, "Public locations rounded to this many degrees.", 1e-4)
    rate_per_s: float = _setting(50.0, "Requests per second allowed per client (then 429).", 0.01)
    burst: int = _setting(200, "Requests a client may burst.", 1)
    max_body_mb: float = _setting(8.0, "Largest request body in MiB (then 413).", 0.001)
    max_attachment_mb: float = _setting(
        4.0, "Largest file attached to a reply, in MiB (then 413).", 0.001
    )
    min_reply_days: float = _setting(
        2.0, "Shortest reply window of a case, in days (opening and reopening).", 0.0
    )
    witness_quorum: int = _setting(
        2, "Witnesses whose cosignatures make a tree head the one cited.", 1
    )
    trusted_proxies: str = _setting(
        "",
        "Addresses of reverse proxies whose X-Forwarded-For is believed (comma-separated); "
        "none by default: the rate limit is per connecting address.",
    )
    now_us: Callable[[], int] = field(default=_now_us, compare=False, repr=False)

    @property
    def disclosure(self) -> Disclosure:
        return Disclosure(delay_hours=self.delay_hours, coarsen_deg=self.coarsen_deg)

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mb * 1024 * 1024)

    def to_env(self) -> str:
        """The settings as JSON, for worker processes (the clock stays the real one)."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "now_us"}
        return json.dumps({k: str(v) if isinstance(v, Path) else v for k, v in values.items()})

    @classmethod
    def from_env(cls, text: str) -> Settings:
        values = json.loads(text)
        for name in ("db", "log_key", "tiles"):
            if values.get(name) is not None:
                values[name] = Path(values[name])
        return cls(**values)


@dataclass(frozen=True)
class Option:
    """One setting as a command-line option."""

    name: str
    type: type
    default: Any
    help: str
    min: float | None


def options() -> list[Option]:
    """The settings a user sets on the command line (the store's are the store options)."""
    kinds = {"int": int, "float": float, "str": str}
    return [
        Option(f.name, kinds[str(f.type)], f.default, f.metadata["help"], f.metadata["min"])
        for f in fields(Settings)
        if "help" in f.metadata
    ]
