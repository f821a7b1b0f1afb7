"""``GET /v1/incidents/stream`` sends each caller what its ``GET /v1/incidents`` shows, and
nothing of what it hides: checked role by role on the standard day, with incidents reviewed
and published, and again after a new run replaces what was shown."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.test_api import ROLES, Clock, Service, _pick, prepared  # noqa: F401  (a fixture)
from tests.conftest import copy_store
from truceline.api import Settings, create_app
from truceline.store.sqlite import SqliteStore


@pytest.fixture()
def svc(
    prepared: tuple[Path, dict[str, str | None]],  # noqa: F811
    scenario: Path,
    tmp_path: Path,
) -> Iterator[Service]:
    db, tokens = prepared
    copy = copy_store(db, tmp_path)
    clock = Clock()
    settings = Settings(db=copy, now_us=clock, delay_hours=24, coarsen_deg=0.05)
    with TestClient(create_app(settings)) as client:
        yield Service(client, tokens, clock, copy, scenario)


def _get_all(svc: Service, role: str) -> list[dict[str, Any]]:
    out, cursor = [], None
    while True:
        url = "/v1/incidents?limit=1000" + (f"&cursor={cursor}" if cursor else "")
        doc = svc.call(role, "GET", url).json()
        out += doc["features"]
        cursor = doc["next"]
        if not cursor:
            return out


def _stream(svc: Service, role: str, timeout: float = 0.3) -> list[tuple[str, dict[str, Any]]]:
    token = svc.tokens[role]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = f"/v1/incidents/stream?poll=0.05&timeout={timeout}"
    events: list[tuple[str, dict[str, Any]]] = []
    with svc.client.stream("GET", url, headers=headers) as res:
        assert res.status_code == 200
        assert res.headers["content-type"].startswith("text/event-stream")
        kind = None
        for line in res.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                assert kind is not None
                events.append((kind, json.loads(line[6:])))
    return events


def _review(svc: Service, incident: str, status: str, published: bool) -> None:
    res = svc.call(
        "analyst",
        "PATCH",
        f"/v1/incidents/{incident}",
        json={"status": status, "published": published},
    )
    assert res.status_code == 200, res.text


def test_each_role_is_streamed_exactly_what_its_get_shows(svc: Service) -> None:
    n = _pick(svc.db, attributed="N")["id"]
    s = _pick(svc.db, attributed="S")["id"]
    _review(svc, n, "verified", True)  # published: the public sees it (coarsened, delayed)
    _review(svc, s, "disputed", False)  # not published: its party only
    for role in ROLES:
        shown = _get_all(svc, role)
        streamed = _stream(svc, role)
        assert [k for k, _ in streamed] == ["incident"] * len(shown), role
        assert [f for _, f in streamed] == shown, role
    public = [f["properties"]["id"] for _, f in _stream(svc, "public")]
    assert n in public and s not in public


def test_a_new_run_streams_changes_and_removals_of_only_what_was_shown(
    svc: Service,
) -> None:
    s = _pick(svc.db, attributed="S")
    with SqliteStore(svc.db) as store:
        features = store.incidents()
    before = {role: {f["properties"]["id"] for f in _get_all(svc, role)} for role in ROLES}
    # a live version: one incident of each party dropped, the rest marked provisional
    dropped = {s["id"], _pick(svc.db, attributed="N")["id"]}
    kept = [
        {**f, "properties": {**f["properties"], "provisional": True}}
        for f in features
        if f["properties"]["id"] not in dropped
    ]
    token = svc.tokens["party_s"]
    with svc.client.stream(
        "GET",
        "/v1/incidents/stream?poll=0.05&timeout=1.5",
        headers={"Authorization": f"Bearer {token}"},
    ) as res:
        lines = res.iter_lines()
        got: list[tuple[str, dict[str, Any]]] = []
        kind = None
        added = False
        for line in lines:
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                got.append((str(kind), json.loads(line[6:])))
            if not added and len(got) == len(before["party_s"]):
                with SqliteStore(svc.db) as store:
                    summary = {
                        "truceline_version": "live",
                        "agreement": "x",
                        "inputs": {"sha256": "", "observations": 0},
                    }
                    # and, as the live analyser keeps them, the joined allegations as
                    # their filers read them, marked provisional with the rest
                    lone = [
                        {**f, "properties": {**f["properties"], "provisional": True}}
                        for f, _ in store.allegation_views()
                    ]
                    store.add_run(summary, kept, lone=lone)
                added = True
    first, rest = got[: len(before["party_s"])], got[len(before["party_s"]) :]
    removed = [d["id"] for k, d in rest if k == "removed"]
    assert removed == [s["id"]]  # the N incident it never saw is not mentioned
    changed = [d for k, d in rest if k == "incident"]
    assert {d["properties"]["id"] for d in changed} == before["party_s"] - dropped
    assert all(d["properties"].get("provisional") for d in changed)
    assert {d["properties"]["id"] for _, d in first} == before["party_s"]
