"""Salts: what makes the leaf hash of an entry that is not public reveal nothing about it.

An inclusion proof of a public entry carries its siblings' hashes. Without a salt, anyone
who can guess a hidden entry's exact content (an analyst's retraction of a known incident,
a party's next allegation) could hash the guess and compare it with a sibling: a hidden
entry confirmed from a public proof. Every entry that is not public therefore carries
``"salt"``: 16 random bytes as 32 hex digits, inside its canonical form (so the leaf hash
covers it). Whoever is shown the entry is shown its salt and can recompute its leaf hash;
nobody else can.

>>> e = salted({"kind": "incident_review", "incident": "inc-1"})
>>> sorted(e), len(e["salt"])
(['incident', 'kind', 'salt'], 32)
>>> salted({"kind": "x"})["salt"] != salted({"kind": "x"})["salt"]
True
"""

from __future__ import annotations

import secrets
from typing import Any

__all__ = ["SALT_BYTES", "salted"]

SALT_BYTES = 16


def salted(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry with a fresh random ``salt`` (a new dict)."""
    return {**entry, "salt": secrets.token_hex(SALT_BYTES)}
