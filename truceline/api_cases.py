"""The Special Commission's cases over HTTP: opening a case, the parties' replies,
commissioners' rulings and reopening. The workflow itself is :mod:`truceline.review`; who
sees what of a case is decided here, by :func:`visible_case`.

(No ``from __future__ import annotations`` here: FastAPI reads the handlers' annotations,
and ``Who`` is a value passed in by :func:`truceline.api.create_app`.)
"""

from typing import Annotated, Any

from fastapi import FastAPI, HTTPException
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from . import review
from .access import Principal
from .api_errors import unprocessable

__all__ = ["CaseIn", "ReopenIn", "ReplyIn", "RulingIn", "add_case_routes", "visible_case"]


class CaseIn(BaseModel):
    model_config = {
        "json_schema_extra": {
            "anyOf": [
                {"required": ["incident"], "properties": {"incident": {"type": "string"}}},
                {"required": ["allegation"], "properties": {"allegation": {"type": "string"}}},
            ]
        }
    }

    incident: str | None = Field(None, min_length=1, max_length=200)
    allegation: str | None = Field(
        None, min_length=3, max_length=600, description="an allegation observation, SOURCE:ID"
    )
    accused: str
    reply_days: float = Field(7.0, gt=0, le=90)
    summary: str = Field("", max_length=10_000)


class ReplyIn(BaseModel):
    text: str = Field(min_length=1, max_length=100_000)


class RulingIn(BaseModel):
    decision: str = Field(pattern="^(violation|no_violation|undetermined)$")
    responsible: str | None = None
    clause: str | None = None
    remedy: str = Field("", max_length=10_000)
    position: str = Field("sign", pattern="^(sign|dissent)$")
    reason: str = Field("", max_length=10_000)


class ReopenIn(BaseModel):
    reason: str = Field(min_length=1, max_length=10_000)
    reply_days: float = Field(7.0, gt=0, le=90)


def visible_case(
    store: Any, settings: Any, who: Principal, case_id: int
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The case's events and state as ``who`` may see them (404 if not at all). Staff
    see everything; the parties of the case see it without draft rulings (proposals
    not in force, and their signatures); the public sees a ruled case's ruling in force
    with its dissents, and earlier rulings."""
    events = store.case_events(case_id)
    if not events:
        raise HTTPException(404, "no such case")
    state = review.case_state(events, settings.now_us(), settings.quorum)
    if who.is_staff:
        return events, state
    undrafted = {**state, "proposals": []}
    if who.party is not None and who.party in (state["accused"], state["filed_by"]):
        return [e for e in events if e["kind"] != "ruling"], undrafted
    if state["status"] == "ruled" or state["earlier_rulings"]:
        public = {
            k: state[k]
            for k in ("status", "incident", "accused", "opened", "ruling", "earlier_rulings")
        }
        return [], public
    raise HTTPException(404, "no such case")


def add_case_routes(
    app: FastAPI, store: Any, lock: Any, settings: Any, Who: Any, require: Any
) -> None:
    """The case endpoints of the application (``Who`` resolves the caller)."""
    CaseId = Annotated[int, PathParam(ge=1, le=2**62)]

    @app.post("/v1/cases", status_code=201)
    async def post_case(body: CaseIn, who: Who) -> dict[str, Any]:
        """Open a case from an incident or an allegation (analysts, commissioners; a party on
        its own allegation)."""
        if not (body.incident or body.allegation):
            raise unprocessable(["body"], "give incident or allegation")
        if who.party is None and who.role not in ("analyst", "commissioner"):
            raise HTTPException(403, f"{who.role} may not open cases")
        if who.party is not None and not body.allegation:
            raise HTTPException(403, "a party opens cases only on its own allegations")
        filed_by = None
        with lock:
            parties = store.agreement_parties()
            if body.allegation:
                found = store.observation_bodies([body.allegation]).get(body.allegation)
                if (
                    found is None
                    or found[0].get("type") != "allegation"
                    or (who.party is not None and found[0].get("party") != who.party)
                ):
                    raise HTTPException(404, "no such allegation")
                filed_by = found[0]["party"]
                if body.accused != found[0]["accused"]:
                    raise unprocessable(
                        ["body", "accused"], "must be the party the allegation accuses"
                    )
            if body.incident and store.incident(body.incident) is None:
                raise HTTPException(404, "no such incident")
            if parties and body.accused not in parties:
                raise unprocessable(
                    ["body", "accused"], f"must be one of the parties: {', '.join(parties)}"
                )
            event = review.opened(
                settings.now_us(),
                who.name,
                accused=body.accused,
                incident=body.incident,
                allegation=body.allegation,
                filed_by=filed_by,
                reply_days=body.reply_days,
                summary=body.summary,
            )
            case_id = store.open_case(event)
            events, state = visible_case(store, settings, who, case_id)
            return {"id": case_id, "state": state, "events": events}

    @app.get("/v1/cases")
    async def list_cases(who: Who) -> list[dict[str, Any]]:
        """The cases the caller may see, with their state."""
        out = []
        with lock:
            for case_id in store.case_ids():
                try:
                    _, state = visible_case(store, settings, who, case_id)
                except HTTPException:
                    continue
                out.append({"id": case_id, "state": state})
        return out

    @app.get("/v1/cases/{case_id}")
    async def get_case(case_id: CaseId, who: Who) -> dict[str, Any]:
        with lock:
            events, state = visible_case(store, settings, who, case_id)
            return {"id": case_id, "state": state, "events": events}

    def _add(case_id: int, who: Principal, event: dict[str, Any]) -> dict[str, Any]:
        def check(events: list[dict[str, Any]]) -> None:
            try:
                review.check_event(events, event, settings.now_us(), settings.quorum)
            except review.ReviewError as exc:
                raise HTTPException(409, str(exc)) from None

        store.add_case_event(case_id, event, check)  # checked under the store's write lock
        events, state = visible_case(store, settings, who, case_id)
        return {"id": case_id, "state": state, "events": events}

    @app.post("/v1/cases/{case_id}/replies", status_code=201)
    async def post_reply(case_id: CaseId, body: ReplyIn, who: Who) -> dict[str, Any]:
        """A party's reply, within the reply window (the accused party or the filer)."""
        if who.party is None:
            raise HTTPException(403, "only parties reply")
        with lock:
            visible_case(store, settings, who, case_id)
            return _add(
                case_id, who, review.reply(settings.now_us(), who.name, who.party, body.text)
            )

    @app.post("/v1/cases/{case_id}/rulings", status_code=201)
    async def post_ruling(case_id: CaseId, body: RulingIn, who: Who) -> dict[str, Any]:
        """A commissioner signs (or dissents from) a ruling; it takes effect when
        commissioners of ``quorum`` member states have signed the same ruling."""
        require(who, "commissioner")
        if not who.member_state:
            raise HTTPException(403, "this commissioner's token names no member state")
        with lock:
            visible_case(store, settings, who, case_id)
            event = review.ruling(
                settings.now_us(),
                who.name,
                who.member_state,
                body.decision,
                body.responsible,
                body.clause,
                body.remedy,
                body.position,
                body.reason,
            )
            return _add(case_id, who, event)

    @app.post("/v1/cases/{case_id}/reopen", status_code=201)
    async def post_reopen(case_id: CaseId, body: ReopenIn, who: Who) -> dict[str, Any]:
        """Reopen a ruled case; its history is kept."""
        require(who, "commissioner")
        with lock:
            visible_case(store, settings, who, case_id)
            event = review.reopened(settings.now_us(), who.name, body.reason, body.reply_days)
            return _add(case_id, who, event)
