"""The Special Commission's cases over HTTP: opening a case, the parties' replies,
commissioners' rulings and reopening. The workflow is :mod:`truceline.review`; who may see
and do what is :mod:`truceline.access` (:func:`~truceline.access.view_case`,
:func:`~truceline.access.may_open_case`, :func:`~truceline.access.may_act_on_case`).

(No ``from __future__ import annotations`` here: FastAPI reads the handlers' annotations.)
"""

import json
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, HTTPException
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from .. import review
from ..access import (
    Principal,
    may_act_on_case,
    may_open_case,
    may_see_accusation,
    may_see_evidence,
    may_see_observation,
    view_case,
    view_incident,
)
from ..agreement import agreement_from_files
from ..errors import NotFound, ReviewError
from .attachments import MAX_FILES, AttachmentIn, decode_attachments
from .deps import Context, Ctx, Who, locked
from .errors import unprocessable

__all__ = ["CaseIn", "CloseIn", "ReopenIn", "ReplyIn", "RulingIn", "router", "visible_case"]

router = APIRouter()
CaseId = Annotated[int, PathParam(ge=1, le=2**62)]


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
    accused: str = Field(max_length=200)
    reply_days: float = Field(
        7.0, gt=0, le=90, allow_inf_nan=False, description="at least the configured minimum"
    )
    summary: str = Field("", max_length=10_000)


class ReplyIn(BaseModel):
    text: str = Field(min_length=1, max_length=100_000)
    attachments: list[AttachmentIn] = Field(
        default_factory=list, max_length=MAX_FILES, description="files (truceline.api.attachments)"
    )


class RulingIn(BaseModel):
    decision: str = Field(pattern="^(violation|no_violation|undetermined)$")
    responsible: str | None = None
    clause: str | None = None
    remedy: str = Field("", max_length=10_000)
    position: str = Field("sign", pattern="^(sign|dissent)$")
    reason: str = Field("", max_length=10_000)


class ReopenIn(BaseModel):
    reason: str = Field(min_length=1, max_length=10_000)
    reply_days: float = Field(
        7.0, gt=0, le=90, allow_inf_nan=False, description="at least the configured minimum"
    )


class CloseIn(BaseModel):
    reason: str | None = Field(
        None,
        max_length=10_000,
        description="why the window closes before every party has replied (needed then)",
    )


def _reply_days(ctx: Context, days: float) -> None:
    """422 for a reply window shorter than the configured minimum."""
    try:
        review.check_reply_days(days, ctx.settings.min_reply_days)
    except ReviewError as exc:
        raise unprocessable(["body", "reply_days"], str(exc)) from None


def visible_case(
    ctx: Context, who: Principal, case_id: int
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The case's events and state as ``who`` may see them (NotFound if not at all)."""
    events = ctx.store.case_events(case_id)
    if events:
        state = review.case_state(events, ctx.settings.now_us(), ctx.settings.quorum)
        incident = state.get("incident")
        visible = not who.is_staff and bool(incident) and _sees_incident(ctx, who, str(incident))
        seen = view_case(who, events, state, visible)
        if seen is not None:
            return seen
    raise NotFound("no such case")


def _answer(ctx: Context, who: Principal, case_id: int) -> dict[str, Any]:
    events, state = visible_case(ctx, who, case_id)
    out = {"id": case_id, "state": state, "events": events}
    return _with_accusation(ctx, who, case_id, state, out)


def _with_accusation(
    ctx: Context, who: Principal, case_id: int, state: dict[str, Any], out: dict[str, Any]
) -> dict[str, Any]:
    """``out`` with what the case alleges, for those :func:`may_see_accusation` allows: of
    its incident what ``who`` may see of it (:func:`view_incident`). The party the
    commission accuses over an incident it opened the case on reads it as if the incident
    were attributed to it (it cannot answer what it may not read; :func:`_accused_view`)."""
    if not may_see_accusation(who, state):
        return out
    first = ctx.store.case_events(case_id)[0]
    seen, place, count, followed = None, None, None, None
    feature, succession = (
        ctx.store.current_incident(state["incident"]) if state.get("incident") else (None, None)
    )
    if feature is not None:
        current = feature["properties"]["id"]
        rev = ctx.store.reviews([current]).get(current)
        now = ctx.settings.now_us()
        view = view_incident(who, feature, rev, now, ctx.settings.disclosure)
        # how the case followed its incident to this run, to whoever may see the incident
        # it reads: the accused reading only its accusation is not told (a new id would tell
        # it that the other party's withheld allegation joined the incident)
        followed = succession if who.is_staff or view is not None else None
        # the accused reads its accusation where it may not see the incident, or sees only
        # the public's rounded view of it (once published)
        if _accused_by_the_commission(who, state) and (
            view is None or "disclosure" in view["properties"]
        ):
            seen, place, count = _accused_view(ctx, who, feature, rev, now)
        elif view is not None:
            seen, place = view["properties"], _place(view)
            count = 0
            if may_see_evidence(who, seen):
                refs = feature["properties"].get("observations") or []
                bodies = ctx.store.observation_bodies(refs)
                count = sum(may_see_observation(who, seen, b) for b, _ in bodies.values())
    accusation = review.accusation(first, seen, _clauses(ctx), place, count)
    return {**out, "accusation": {**accusation, "succession": followed}}


def _accused_by_the_commission(who: Principal, state: dict[str, Any]) -> bool:
    """Whether ``who`` is the party accused in a case the commission's staff opened on an
    incident (not on an allegation: a party that files one may not thereby read an
    incident it could not see)."""
    return who.party is not None and who.party == state.get("accused") and not state.get("filed_by")


#: the accused party reads an incident it may not otherwise see placed to this (m)
ACCUSED_PLACE_M = 1_000.0


def _accused_view(
    ctx: Context,
    who: Principal,
    feature: dict[str, Any],
    rev: tuple[str, bool] | None,
    now: int,
) -> tuple[dict[str, Any] | None, str | None, int | None]:
    """What the accused reads of an incident it may not otherwise see: the card's fields
    (clauses, times, weapon) as if it were attributed to it, the place to the kilometre
    (not the 0.1 km the attributed party reads), and the count of the supporting
    observations that are not the other party's allegations (whether or not those are
    published: the count must not move with the analysts' review). An incident whose only
    support is the other party's allegations is not described at all: its time and place
    would be the allegation's."""
    view = view_incident(who, feature, rev, now, ctx.settings.disclosure, concerned=True)
    if view is None:
        return None, None, None
    refs = feature["properties"].get("observations") or []
    bodies = ctx.store.observation_bodies(refs)
    count = sum(
        not (b.get("type") == "allegation" and b.get("party") != who.party)
        for b, _ in bodies.values()
    )
    if count == 0:
        return None, None, None
    return view["properties"], _place(view, min_sigma_m=ACCUSED_PLACE_M), count


def _clauses(ctx: Context) -> dict[str, str]:
    """The clauses of the logged agreement, id to text (kept per agreement)."""
    files = ctx.store.agreement_files()
    if files is None:
        return {}
    key = json.dumps(files, sort_keys=True)
    kept = ctx.cache.setdefault("clauses", {})
    if key not in kept:
        kept.clear()
        kept[key] = {c.id: c.text for c in agreement_from_files(files).clauses}
    return dict(kept[key])


def _place(feature: dict[str, Any], min_sigma_m: float = 0.0) -> str | None:
    """The incident's place label ("3.2 km SSW of Pokrovsk"), where the gazetteer (the
    ``[places]`` extra) is installed and a settlement is near; to the kilometre or coarser
    where the location (or ``min_sigma_m``) is known to no better than 500 m."""
    from ..errors import MissingExtra
    from ..i18n import language
    from ..labels import place_label
    from ..places import describe_features

    p = feature["properties"]
    sigma = p.get("impact_sigma_m") if p.get("impact") else p.get("origin_sigma_m")
    sigma = max(float(sigma or 0.0), min_sigma_m) or None
    try:
        place = describe_features([feature])[0]
    except MissingExtra:
        return None
    return place_label(place, language("en"), sigma) or None


def _allowed(reason: str | None) -> None:
    if reason:
        raise HTTPException(403, reason)


def _filed_by(ctx: Context, who: Principal, body: CaseIn) -> str | None:
    """The party that filed the case's allegation (404 if it is not one the caller may use)."""
    if not body.allegation:
        return None
    found = ctx.store.observation_bodies([body.allegation]).get(body.allegation)
    if (
        found is None
        or found[0].get("type") != "allegation"
        or (who.party is not None and found[0].get("party") != who.party)
    ):
        raise HTTPException(404, "no such allegation")
    if body.accused != found[0]["accused"]:
        raise unprocessable(["body", "accused"], "must be the party the allegation accuses")
    return str(found[0]["party"])


def _sees_incident(ctx: Context, who: Principal, incident: str) -> bool:
    """Whether the incident exists and ``who`` may see it (a hidden one answers as a missing
    one: opening a case must not tell a party that an id it may not see exists)."""
    feature = ctx.store.incident(incident)
    if feature is None:
        return False
    review_ = ctx.store.reviews([incident]).get(incident)
    now = ctx.settings.now_us()
    return view_incident(who, feature, review_, now, ctx.settings.disclosure) is not None


@router.post("/v1/cases", status_code=201)
async def post_case(body: CaseIn, ctx: Ctx, who: Who) -> dict[str, Any]:
    """Open a case from an incident or an allegation (analysts, commissioners; a party on
    its own allegation)."""
    if not (body.incident or body.allegation):
        raise unprocessable(["body"], "give incident or allegation")
    _allowed(may_open_case(who, bool(body.allegation)))
    _reply_days(ctx, body.reply_days)
    async with locked(ctx):
        parties = ctx.store.agreement_parties()
        filed_by = _filed_by(ctx, who, body)
        if body.incident and not _sees_incident(ctx, who, body.incident):
            raise HTTPException(404, "no such incident")
        if parties and body.accused not in parties:
            raise unprocessable(
                ["body", "accused"], f"must be one of the parties: {', '.join(parties)}"
            )
        event = review.opened(
            ctx.settings.now_us(),
            who.name,
            accused=body.accused,
            incident=body.incident,
            allegation=body.allegation,
            filed_by=filed_by,
            reply_days=body.reply_days,
            summary=body.summary,
        )
        return _answer(ctx, who, ctx.store.open_case(event))


@router.get("/v1/cases")
async def list_cases(ctx: Ctx, who: Who) -> list[dict[str, Any]]:
    """The cases the caller may see, with their state."""
    out = []
    async with locked(ctx):
        for case_id in ctx.store.case_ids():
            try:
                _, state = visible_case(ctx, who, case_id)
            except NotFound:
                continue
            out.append(_with_accusation(ctx, who, case_id, state, {"id": case_id, "state": state}))
    return out


@router.get("/v1/cases/{case_id}")
async def get_case(case_id: CaseId, ctx: Ctx, who: Who) -> dict[str, Any]:
    async with locked(ctx):
        return _answer(ctx, who, case_id)


def _add(
    ctx: Context,
    case_id: int,
    who: Principal,
    event: dict[str, Any],
    files: list[bytes] | None = None,
) -> dict[str, Any]:
    """Add an event the case's state allows (checked under the store's write lock), with
    the bytes of the files it describes."""

    def check(events: list[dict[str, Any]]) -> None:
        review.check_event(events, event, ctx.settings.now_us(), ctx.settings.quorum)

    ctx.store.add_case_event(case_id, event, check, files)
    return _answer(ctx, who, case_id)


@router.post("/v1/cases/{case_id}/replies", status_code=201)
async def post_reply(case_id: CaseId, body: ReplyIn, ctx: Ctx, who: Who) -> dict[str, Any]:
    """A party's reply, within the reply window (the accused party or the filer), with
    up to five files attached (:mod:`truceline.api.attachments`)."""
    _allowed(may_act_on_case(who, "reply"))
    assert who.party is not None
    # decoding and hashing megabytes in a worker thread, not on the event loop
    described, files = await anyio.to_thread.run_sync(decode_attachments, ctx, body.attachments)
    async with locked(ctx):
        visible_case(ctx, who, case_id)
        event = review.reply(ctx.settings.now_us(), who.name, who.party, body.text, described)
        return _add(ctx, case_id, who, event, files)


@router.post("/v1/cases/{case_id}/rulings", status_code=201)
async def post_ruling(case_id: CaseId, body: RulingIn, ctx: Ctx, who: Who) -> dict[str, Any]:
    """A commissioner signs (or dissents from) a ruling; it takes effect when
    commissioners of ``quorum`` member states have signed the same ruling."""
    _allowed(may_act_on_case(who, "ruling"))
    assert who.member_state is not None
    async with locked(ctx):
        visible_case(ctx, who, case_id)
        event = review.ruling(
            ctx.settings.now_us(),
            who.name,
            who.member_state,
            body.decision,
            body.responsible,
            body.clause,
            body.remedy,
            body.position,
            body.reason,
        )
        return _add(ctx, case_id, who, event)


@router.post("/v1/cases/{case_id}/close-replies", status_code=201)
async def post_close_replies(
    case_id: CaseId, ctx: Ctx, who: Who, body: CloseIn | None = None
) -> dict[str, Any]:
    """A commissioner closes the reply window early: at once when every party of the case
    (the accused, and the filer of its allegation) has replied; before that, by decision of
    the commission: each commissioner signs the closing with a ``reason``, and the window
    closes when commissioners of ``quorum`` member states have signed. Rulings may then be
    signed before the deadline; no reply is taken after it. 409 without a reason while a
    party has not replied, or when this commissioner has signed already."""
    _allowed(may_act_on_case(who, "close_replies"))
    assert who.member_state is not None
    async with locked(ctx):
        _, state = visible_case(ctx, who, case_id)
        now = ctx.settings.now_us()
        event = (
            review.close_replies(now, who.name)
            if state["all_replied"]
            else review.close_signed(now, who.name, who.member_state, (body and body.reason) or "")
        )
        return _add(ctx, case_id, who, event)


@router.post("/v1/cases/{case_id}/reopen", status_code=201)
async def post_reopen(case_id: CaseId, body: ReopenIn, ctx: Ctx, who: Who) -> dict[str, Any]:
    """A commissioner signs the reopening of a ruled case; it reopens (its history kept)
    when commissioners of ``quorum`` member states have signed the same reopening, as many
    as it took to rule."""
    _allowed(may_act_on_case(who, "reopen"))
    _reply_days(ctx, body.reply_days)
    assert who.member_state is not None
    async with locked(ctx):
        visible_case(ctx, who, case_id)
        event = review.reopen(
            ctx.settings.now_us(), who.name, who.member_state, body.reason, body.reply_days
        )
        return _add(ctx, case_id, who, event)
