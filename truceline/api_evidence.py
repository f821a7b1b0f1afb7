"""The evidence log's endpoints: the latest signed tree head, public keys by id, and
inclusion proofs of log entries, each for the callers who may see the entry.

(No ``from __future__ import annotations`` here: FastAPI reads the handlers' annotations,
and ``Who`` is a value passed in by :func:`truceline.api.create_app`.)
"""

import json
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException
from fastapi import Path as PathParam

from .access import Principal
from .api_cases import visible_case
from .evidence import b64, inclusion_bundle

__all__ = ["add_evidence_routes", "may_see_entry"]

#: log entries anyone may prove: what a published figure is computed from
PUBLIC_KINDS = ("run", "agreement", "key", "policy", "tree_head")


def may_see_entry(store: Any, settings: Any, who: Principal, entry: dict[str, Any]) -> bool:
    """Whether ``who`` may have an inclusion proof of a log entry: staff any; others the
    log's public entries, their own observations, reviews of published incidents, and the
    events (not the rulings) of the cases they may see."""
    if who.is_staff:
        return True
    kind = entry["kind"]
    if kind in PUBLIC_KINDS:
        return True
    if kind == "observation":
        return bool(entry["observation"].get("source") == who.name and who.role != "public")
    if kind == "incident_review":
        return bool(entry["published"] and entry["status"] == "verified")
    if kind == "case_event":
        try:
            visible_case(store, settings, who, int(entry["case"]))
        except HTTPException:
            return False
        return who.party is not None and entry["event"]["kind"] != "ruling"
    return False


def add_evidence_routes(app: FastAPI, store: Any, lock: Any, settings: Any, Who: Any) -> None:
    """The evidence endpoints of the application (``Who`` resolves the caller)."""

    @app.get("/v1/evidence/sth")
    async def get_sth() -> dict[str, Any]:
        """The latest signed tree head of the evidence log."""
        with lock:
            head = store.latest_head()
        if head is None:
            raise HTTPException(404, "the log is empty")
        return dict(head.as_dict())

    @app.get("/v1/evidence/keys/{key_id}")
    async def get_key(
        key_id: Annotated[str, PathParam(pattern="^[0-9a-f]{16}$")],
    ) -> dict[str, Any]:
        """A registered Ed25519 public key (the log's, or a source's) by its key id, raw and
        base64: to check a tree head's or an observation's signature. Keys are public log
        entries; the key id is the first 16 hex digits of the key's SHA-256, so the answer
        can be checked against the id a tree head names."""
        with lock:
            public = store.keys().get(key_id)
        if public is None:
            raise HTTPException(404, "no such key")
        return {"key_id": key_id, "algorithm": "Ed25519", "public_key": b64(public)}

    @app.get("/v1/evidence/proof/{entry}")
    async def get_proof(
        entry: Annotated[int, PathParam(ge=0, le=2**62)], who: Who
    ) -> dict[str, Any]:
        """An inclusion proof of one log entry in the latest signed tree head: of any entry
        for staff; otherwise of the log's public entries (runs, agreements, keys, policies,
        tree heads), of the caller's own observations, of reviews of published incidents and
        of the events of the cases the caller may see."""
        with lock:
            head = store.latest_head()
            if head is None or not 0 <= entry < head.tree_size:
                raise HTTPException(404, "no such entry under the signed tree head")
            data = store.entry(entry)
            if not may_see_entry(store, settings, who, json.loads(data)):
                raise HTTPException(403, "this entry's proof is not for this caller")
            return dict(inclusion_bundle(store.tree(), entry, data, head))
