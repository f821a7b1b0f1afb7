"""The HTTP API: the authorisation matrix (every role × endpoint × own / other party's
object, asserting the exact allowed set), the case workflow, the disclosure policy, limits."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.conftest import copy_store
from truceline._time import parse_time
from truceline.access import MAP_FIELDS
from truceline.api import Settings, create_app
from truceline.cli import app as cli
from truceline.evidence import TreeHead
from truceline.store.sqlite import SqliteStore

ROLES = {
    "public": None,
    "sensor": ("sensor", "firms-api", None),
    "monitor": ("monitor", "mon-1", None),
    "analyst": ("analyst", "ana-1", None),
    "com_fr": ("commissioner", "com-fr", "FR"),
    "com_fr2": ("commissioner", "com-fr-2", "FR"),
    "com_de": ("commissioner", "com-de", "DE"),
    "party_n": ("party:N", "party-N", None),
    "party_s": ("party:S", "party-S", None),
}
NOW = parse_time("2026-03-20T00:00:00Z")  # weeks after the simulated day


@dataclass
class Clock:
    now: int = NOW

    def __call__(self) -> int:
        return self.now


@dataclass
class Service:
    client: TestClient
    tokens: dict[str, str | None]
    clock: Clock
    db: Path
    scenario: Path

    def call(self, role: str, method: str, url: str, **kw: Any) -> Any:
        token = self.tokens[role]
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.client.request(method, url, headers=headers, **kw)


@pytest.fixture(scope="module")
def prepared(
    stored_day: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, str | None]]:
    db = copy_store(stored_day, tmp_path_factory.mktemp("api"))
    runner = CliRunner()
    # a sensor's token is bound to a registered sensor
    add = ["sensor", "add", "--db", str(db), "--id", "firms-api", "--position", "36.0,48.0"]
    assert runner.invoke(cli, [*add, "--operator", "ops"]).exit_code == 0
    tokens: dict[str, str | None] = {"public": None}
    for key, spec in ROLES.items():
        if spec is None:
            continue
        args = ["token", "create", "--db", str(db), "--role", spec[0], "--name", spec[1]]
        if spec[2]:
            args += ["--member-state", spec[2]]
        res = runner.invoke(cli, args)
        assert res.exit_code == 0, res.output
        tokens[key] = res.output.split()[-1]
    return db, tokens


@pytest.fixture()
def svc(
    prepared: tuple[Path, dict[str, str | None]], scenario: Path, tmp_path: Path
) -> Iterator[Service]:
    db, tokens = prepared
    copy = copy_store(db, tmp_path)
    clock = Clock()
    settings = Settings(db=copy, now_us=clock, delay_hours=24, coarsen_deg=0.05)
    with TestClient(create_app(settings)) as client:
        yield Service(client, tokens, clock, copy, scenario)


def _incidents(db: Path) -> list[dict[str, Any]]:
    with SqliteStore(db) as store:
        return store.incidents()


def _pick(db: Path, *, attributed: str, alleged_by: str | None = None) -> dict[str, Any]:
    for f in _incidents(db):
        p = f["properties"]
        if (
            p["attributed_to"] == attributed
            and p["kind"] == "fire"
            and (
                alleged_by in (p.get("alleged_by") or []) if alleged_by else not p.get("alleged_by")
            )
        ):
            return p
    raise AssertionError("no such incident in the scenario")


ALL = set(ROLES)
STAFF = {"monitor", "analyst", "com_fr", "com_fr2", "com_de"}


def _allowed(
    svc: Service, method: str, url: str, ok: set[int], body: Any = None, **kw: Any
) -> set[str]:
    out = set()
    for role in ROLES:
        res = (
            svc.call(role, method, url, json=body, **kw)
            if body is not None
            else svc.call(role, method, url, **kw)
        )
        assert res.status_code < 500, (role, url, res.text)
        if res.status_code in ok:
            out.add(role)
    return out


# -- observations -----------------------------------------------------------------------------


def _thermal(source: str, n: int) -> dict[str, Any]:
    return {
        "id": f"x{n}",
        "type": "thermal",
        "source": source,
        "time": "2026-03-01T12:00:00Z",
        "position": [36.0, 48.0],
    }


def _allegation(party: str, accused: str, n: int) -> dict[str, Any]:
    return {
        "id": f"a{n}",
        "type": "allegation",
        "source": f"party-{party}",
        "time": "2026-03-01T12:00:00Z",
        "party": party,
        "accused": accused,
        "position": [36.0, 48.0],
        "radius_km": 1.0,
        "event": "explosion",
        "description": "shelling",
    }


def test_who_may_submit_what(svc: Service) -> None:
    # every writer writes under its own source only (hole 6)
    cases = {
        "the sensor's thermal": ([_thermal("firms-api", 1)], {"sensor"}),
        "the monitor's thermal": ([_thermal("mon-1", 5)], {"monitor"}),
        "the analyst's thermal": ([_thermal("ana-1", 6)], {"analyst"}),
        "another source thermal": ([_thermal("firms-other", 2)], set()),
        "allegation by N": ([_allegation("N", "S", 3)], {"party_n"}),
        "allegation by S": ([_allegation("S", "N", 4)], {"party_s"}),
    }
    for what, (body, allowed) in cases.items():
        got = _allowed(svc, "POST", "/v1/observations", {200}, body)
        assert got == allowed, what


def test_submission_is_idempotent_all_or_nothing_and_returns_the_tree_head(svc: Service) -> None:
    body = [_thermal("firms-api", 10), _thermal("firms-api", 11)]
    first = svc.call("sensor", "POST", "/v1/observations", json=body).json()
    assert first["accepted"] == 2 and first["tree_head"]["tree_size"] > 0
    again = svc.call("sensor", "POST", "/v1/observations", json=body).json()
    assert again["accepted"] == 0 and again["duplicates"] == 2
    assert again["tree_head"] == first["tree_head"]
    lines = "\n".join(json.dumps(b) for b in [_thermal("firms-api", 12), {"id": "bad"}])
    res = svc.client.post(
        "/v1/observations",
        content=lines,
        headers={
            "Authorization": f"Bearer {svc.tokens['sensor']}",
            "Content-Type": "application/x-ndjson",
        },
    )
    assert res.status_code == 422
    assert res.json()["detail"][0]["line"] == 2
    assert (
        svc.call("sensor", "POST", "/v1/observations", json=[_thermal("firms-api", 12)]).json()[
            "accepted"
        ]
        == 1
    )


# -- incidents -----------------------------------------------------------------------------


def test_incident_visibility_by_role_and_object(svc: Service) -> None:
    of_s = _pick(svc.db, attributed="S")
    of_n = _pick(svc.db, attributed="N")
    url = "/v1/incidents/{}"
    assert _allowed(svc, "GET", url.format(of_s["id"]), {200}) == STAFF | {"party_s"}
    assert _allowed(svc, "GET", url.format(of_n["id"]), {200}) == STAFF | {"party_n"}
    # published and verified: the public (and everyone) sees it, coarsened
    assert (
        svc.call(
            "analyst",
            "PATCH",
            url.format(of_s["id"]),
            json={"status": "verified", "published": True},
        ).status_code
        == 200
    )
    assert _allowed(svc, "GET", url.format(of_s["id"]), {200}) == ALL
    public = svc.call("public", "GET", url.format(of_s["id"])).json()
    assert "observations" not in public["properties"] and public["evidence"] == []
    for v in public["geometry"]["coordinates"]:  # a cell centre of the 0.05° grid
        assert abs((v - 0.025) / 0.05 - round((v - 0.025) / 0.05)) < 1e-6
    assert "disclosure" in public["properties"]
    # ... but not before the disclosure delay has passed
    svc.clock.now = parse_time(of_s["time_end"]) + 3_600_000_000
    assert _allowed(svc, "GET", url.format(of_s["id"]), {200}) == STAFF | {"party_s"}


def test_only_analysts_review_incidents(svc: Service) -> None:
    inc = _pick(svc.db, attributed="N")
    got = _allowed(
        svc,
        "PATCH",
        f"/v1/incidents/{inc['id']}",
        {200},
        {"status": "disputed", "published": False},
    )
    assert got == {"analyst"}


def test_a_party_never_sees_the_other_partys_unpublished_allegation(svc: Service) -> None:
    inc = _pick(svc.db, attributed="S", alleged_by="N")
    url = f"/v1/incidents/{inc['id']}"
    # N alleged it, but filing an allegation does not open the other side's incidents
    assert svc.call("party_n", "GET", url).status_code == 404
    as_s = svc.call("party_s", "GET", url).json()
    assert as_s["properties"]["alleged_by"] == [] and "observations" not in as_s["properties"]
    kinds = {e["observation"]["type"] for e in as_s["evidence"]}
    assert "allegation" not in kinds and "acoustic" in kinds
    assert all("proof" in e for e in as_s["evidence"])
    listed_s = svc.call("party_s", "GET", "/v1/incidents", params={"limit": 1000}).json()
    assert listed_s["features"]
    for f in listed_s["features"]:
        p = f["properties"]
        own_unplaced = p["kind"] == "unlocated" and p["alleged_by"] == ["S"]
        assert p["attributed_to"] == "S" or p.get("published") or own_unplaced
        assert "N" not in (p.get("alleged_by") or [])
    # once published and verified, the allegation is part of the public record
    svc.call("analyst", "PATCH", url, json={"status": "verified", "published": True})
    as_s = svc.call("party_s", "GET", url).json()
    assert "allegation" in {e["observation"]["type"] for e in as_s["evidence"]}


def test_the_public_cannot_locate_an_incident_finer_than_its_grid(svc: Service) -> None:
    inc = _pick(svc.db, attributed="S")
    svc.call(
        "analyst",
        "PATCH",
        f"/v1/incidents/{inc['id']}",
        json={"status": "verified", "published": True},
    )
    lon, lat = inc["impact"] or inc["origin"]

    def found(box: tuple[float, float, float, float]) -> bool:
        params = {"bbox": ",".join(f"{v:.6f}" for v in box), "limit": 1000}
        res = svc.call("public", "GET", "/v1/incidents", params=params)
        return inc["id"] in {f["properties"]["id"] for f in res.json()["features"]}

    shown = svc.call("public", "GET", f"/v1/incidents/{inc['id']}").json()
    sx, sy = shown["geometry"]["coordinates"]
    assert found((sx - 1e-4, sy - 1e-4, sx + 1e-4, sy + 1e-4))
    # a box around the true position, away from the cell's centre, does not find it
    tiny = (lon - 1e-4, lat - 1e-4, lon + 1e-4, lat + 1e-4)
    assert not (tiny[0] <= sx <= tiny[2] and tiny[1] <= sy <= tiny[3])
    assert not found(tiny)


def test_incident_filters_and_cursor_pages(svc: Service) -> None:
    everything = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 37}
        if cursor:
            params["cursor"] = cursor
        res = svc.call("analyst", "GET", "/v1/incidents", params=params)
        assert res.status_code == 200, res.text
        page = res.json()
        everything += [f["properties"]["id"] for f in page["features"]]
        cursor = page["next"]
        if not cursor:
            break
    assert everything == [f["properties"]["id"] for f in _incidents(svc.db)]
    res = svc.call(
        "analyst",
        "GET",
        "/v1/incidents",
        params={"party": "S", "clause": "C1", "kind": "fire", "limit": 1000},
    ).json()
    assert res["features"] and all(
        f["properties"]["attributed_to"] == "S" and "C1" in f["properties"]["violations"]
        for f in res["features"]
    )
    f0 = res["features"][0]
    lon, lat = f0["geometry"]["coordinates"]
    box = f"{lon - 0.01},{lat - 0.01},{lon + 0.01},{lat + 0.01}"
    near = svc.call(
        "analyst",
        "GET",
        "/v1/incidents",
        params={
            "bbox": box,
            "start": f0["properties"]["time_start"],
            "end": f0["properties"]["time_end"],
        },
    ).json()
    assert f0["properties"]["id"] in {f["properties"]["id"] for f in near["features"]}
    for bad in ({"bbox": "1,2,3"}, {"start": "yesterday"}, {"cursor": "%%%"}, {"limit": 0}):
        assert svc.call("analyst", "GET", "/v1/incidents", params=bad).status_code == 422


# -- evidence ---------------------------------------------------------------------------------


def test_evidence_endpoints(svc: Service) -> None:
    assert _allowed(svc, "GET", "/v1/evidence/sth", {200}) == ALL
    sth = svc.call("public", "GET", "/v1/evidence/sth").json()
    key_path = f"/v1/evidence/keys/{sth['key_id']}"
    assert _allowed(svc, "GET", key_path, {200}) == ALL  # keys are public log entries
    key = svc.call("public", "GET", key_path).json()
    assert TreeHead.from_dict(sth).verify(base64.b64decode(key["public_key"]))
    assert svc.call("public", "GET", "/v1/evidence/keys/0000000000000000").status_code == 404
    assert svc.call("public", "GET", "/v1/evidence/keys/xyz").status_code == 422
    assert _allowed(svc, "GET", "/v1/evidence/proof/0", {200}) == STAFF  # an observation
    n_allegation = svc.call(
        "party_n", "POST", "/v1/observations", json=[_allegation("N", "S", 77)]
    ).json()
    index = n_allegation["tree_head"]["tree_size"] - 1
    assert _allowed(svc, "GET", f"/v1/evidence/proof/{index}", {200}) == STAFF | {"party_n"}
    assert (
        svc.call("public", "GET", f"/v1/evidence/proof/{sth['tree_size'] + 99}").status_code == 404
    )


# -- the dashboard ----------------------------------------------------------------------------


def test_the_dashboards_endpoints_are_open_to_every_role(svc: Service) -> None:
    # the agreement is public (its log entry is provable by anyone); /v1/me tells a caller
    # only what its own token says
    assert _allowed(svc, "GET", "/v1/agreement", {200}) == ALL
    assert _allowed(svc, "GET", "/v1/me", {200}) == ALL
    assert _allowed(svc, "GET", "/", {200}) == ALL
    assert _allowed(svc, "GET", "/static/js/main.js", {200}) == ALL
    ag = svc.call("public", "GET", "/v1/agreement").json()
    assert [p["id"] for p in ag["parties"]] == ["N", "S"]
    assert {f["properties"]["party"] for f in ag["control"]["features"]} == {"N", "S"}
    assert ag["line"]["features"] and ag["zones"]["features"]
    assert [c["id"] for c in ag["clauses"]] == [f"C{i}" for i in range(1, 9)]
    for role, spec in ROLES.items():
        me = svc.call(role, "GET", "/v1/me").json()
        if spec is None:
            assert me == {
                "name": "public",
                "role": "public",
                "member_state": None,
                "party": None,
                "staff": False,
            }
        else:
            assert (me["role"], me["name"], me["member_state"]) == spec
    assert svc.client.get("/v1/me", headers={"Authorization": "Bearer nope"}).status_code == 401
    # the page's files do not shadow the API: unknown API paths still answer 404
    assert svc.call("public", "GET", "/v1/nothing-here").status_code == 404
    # and nothing outside the static folder is served (the package's own source, say)
    for bad in ("/static/%2e%2e/%2e%2e/api.py", "/static/..%2F..%2Fapi.py"):
        assert svc.call("public", "GET", bad).status_code == 404


def _paged(svc: Service, role: str) -> list[dict[str, Any]]:
    out, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
        page = svc.call(role, "GET", "/v1/incidents", params=params).json()
        out += page["features"]
        cursor = page["next"]
        if not cursor:
            return out


def test_the_dashboards_bulk_incidents_are_what_each_role_pages_through(svc: Service) -> None:
    assert _allowed(svc, "GET", "/v1/dashboard/incidents", {200}) == ALL
    before = svc.call("public", "GET", "/v1/dashboard/incidents").json()["features"]
    assert before == []  # nothing is published yet (and this answer is kept a while) ...
    published = _pick(svc.db, attributed="S")
    svc.call(
        "analyst",
        "PATCH",
        f"/v1/incidents/{published['id']}",
        json={"status": "verified", "published": True},
    )
    sizes = {}
    for role in ROLES:  # ... but a review is a write: no kept answer outlives it
        bulk = svc.call(role, "GET", "/v1/dashboard/incidents").json()["features"]
        paged = _paged(svc, role)
        assert [f["id"] for f in bulk] == [f["id"] for f in paged], role
        for b, p in zip(bulk, paged, strict=True):
            # the same geometry, and only fields the paged answer has, with its values
            assert b["geometry"] == p["geometry"]
            # ... plus the sector of the point shown (the sector filter's), a whole number
            shown = {k: v for k, v in b["properties"].items() if k != "sector"}
            assert shown == {k: v for k, v in p["properties"].items() if k in MAP_FIELDS}
            assert isinstance(b["properties"]["sector"], int), role
            assert "observations" not in b["properties"]
        sizes[role] = len(bulk)
    assert sizes["public"] == sizes["sensor"] == 1
    assert sizes["party_n"] < sizes["analyst"] and sizes["party_s"] < sizes["analyst"]
    assert sizes["analyst"] == len(_incidents(svc.db))


def test_no_agreement_before_the_first_run(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(db=tmp_path / "empty.db"))) as client:
        assert client.get("/v1/agreement").status_code == 404


# -- cases ------------------------------------------------------------------------------------


def test_who_may_open_cases(svc: Service) -> None:
    inc = _pick(svc.db, attributed="S")
    got = _allowed(svc, "POST", "/v1/cases", {201}, {"incident": inc["id"], "accused": "S"})
    assert got == {"analyst", "com_fr", "com_fr2", "com_de"}
    n_ref = "party-N:a5"
    svc.call("party_n", "POST", "/v1/observations", json=[_allegation("N", "S", 5)])
    got = _allowed(svc, "POST", "/v1/cases", {201}, {"allegation": n_ref, "accused": "S"})
    assert got == {"analyst", "com_fr", "com_fr2", "com_de", "party_n"}


def test_the_case_workflow(svc: Service) -> None:
    inc = _pick(svc.db, attributed="S", alleged_by="N")
    svc.call("party_n", "POST", "/v1/observations", json=[_allegation("N", "S", 6)])
    case = svc.call(
        "party_n",
        "POST",
        "/v1/cases",
        json={"allegation": "party-N:a6", "incident": inc["id"], "accused": "S", "reply_days": 3},
    )
    assert case.status_code == 404  # N may not see S's incident: nor attach it (hole 10)
    case = svc.call(
        "party_n",
        "POST",
        "/v1/cases",
        json={"allegation": "party-N:a6", "accused": "S", "reply_days": 3},
    ).json()
    url = f"/v1/cases/{case['id']}"
    assert case["state"]["status"] == "awaiting_reply" and case["state"]["filed_by"] == "N"
    # who sees it before a ruling: staff and both parties involved, not the public
    assert _allowed(svc, "GET", url, {200}) == STAFF | {"party_n", "party_s"}
    # replies: the accused and the filer, within the window
    assert _allowed(svc, "POST", url + "/replies", {201}, {"text": "We deny it."}) == {
        "party_n",
        "party_s",
    }
    # no ruling while the parties may still reply
    ruling = {"decision": "violation", "responsible": "S", "clause": "C1", "remedy": "Cease fire."}
    assert svc.call("com_fr", "POST", url + "/rulings", json=ruling).status_code == 409
    svc.clock.now += 4 * 86_400_000_000  # past the reply window
    assert svc.call("party_s", "POST", url + "/replies", json={"text": "late"}).status_code == 409
    assert svc.call("com_de", "GET", url).json()["state"]["status"] == "under_review"
    # signing: commissioners only; one member state is not enough
    assert svc.call("party_s", "POST", url + "/rulings", json=ruling).status_code == 403
    assert svc.call("analyst", "POST", url + "/rulings", json=ruling).status_code == 403
    r = svc.call("com_fr", "POST", url + "/rulings", json=ruling).json()
    assert r["state"]["ruling"] is None
    r = svc.call("com_fr2", "POST", url + "/rulings", json=ruling).json()
    assert r["state"]["ruling"] is None  # two commissioners, one member state
    # one position per commissioner and round
    assert svc.call("com_fr", "POST", url + "/rulings", json=ruling).status_code == 409
    other = {**ruling, "decision": "no_violation", "responsible": None}
    assert svc.call("com_fr", "POST", url + "/rulings", json=other).status_code == 409
    # drafts stay with the commission
    draft = svc.call("party_s", "GET", url).json()
    assert draft["state"]["proposals"] == []
    assert all(e["kind"] != "ruling" for e in draft["events"])
    assert svc.call("public", "GET", url).status_code == 404
    # DE signs the same text: two member states, in force, and public
    r = svc.call("com_de", "POST", url + "/rulings", json=ruling).json()
    assert r["state"]["status"] == "ruled"
    assert r["state"]["ruling"]["signed_by_states"] == ["DE", "FR"]
    public = svc.call("public", "GET", url).json()
    assert public["state"]["ruling"]["responsible"] == "S" and public["events"] == []
    assert "proposals" not in public["state"] and "replies" not in public["state"]
    assert svc.call("party_s", "POST", url + "/replies", json={"text": "x"}).status_code == 409
    # reopening takes the quorum a ruling took (hole 5), and keeps the history
    reopen = {"reason": "New imagery.", "reply_days": 7}
    for role in ("public", "sensor", "monitor", "analyst", "party_n", "party_s"):
        assert svc.call(role, "POST", url + "/reopen", json=reopen).status_code in (403, 404)
    assert svc.call("com_fr", "POST", url + "/reopen", json=reopen).status_code == 201
    assert svc.call("com_fr", "POST", url + "/reopen", json=reopen).status_code == 409
    assert svc.call("com_fr2", "POST", url + "/reopen", json=reopen).status_code == 201
    assert svc.call("public", "GET", url).json()["state"]["status"] == "ruled"  # FR alone
    assert svc.call("com_de", "POST", url + "/reopen", json=reopen).status_code == 201
    again = svc.call("com_fr", "GET", url).json()
    assert again["state"]["ruling"] is None and again["state"]["earlier_rulings"]
    assert [e["kind"] for e in again["events"]][:2] == ["opened", "reply"]


def test_a_public_ruling_shows_its_dissent(svc: Service) -> None:
    inc = _pick(svc.db, attributed="N")
    case = svc.call(
        "analyst", "POST", "/v1/cases", json={"incident": inc["id"], "accused": "N"}
    ).json()
    url = f"/v1/cases/{case['id']}"
    assert _allowed(svc, "GET", url, {200}) == STAFF | {"party_n"}
    svc.clock.now += 8 * 86_400_000_000  # after the reply window
    ruling = {"decision": "no_violation", "responsible": None, "clause": "C1", "remedy": ""}
    svc.call("com_fr", "POST", url + "/rulings", json=ruling)
    svc.call("com_de", "POST", url + "/rulings", json=ruling)
    # a dissent from the ruling in force is still recorded, and published with it
    res = svc.call(
        "com_fr2", "POST", url + "/rulings", json={**ruling, "position": "dissent", "reason": "No."}
    )
    assert res.status_code == 201, res.text
    assert _allowed(svc, "GET", url, {200}) == ALL
    public = svc.call("public", "GET", url).json()
    assert public["state"]["ruling"]["dissents"][0]["reason"] == "No."
    assert public["events"] == []


# -- limits -----------------------------------------------------------------------------------


def test_oversized_malformed_and_floods(svc: Service, tmp_path: Path) -> None:
    token = svc.tokens["analyst"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    res = svc.client.post(
        "/v1/observations", content=b"[" + b" " * (9 * 1024 * 1024) + b"]", headers=headers
    )
    assert res.status_code == 413
    res = svc.client.post("/v1/observations", content=b'[{"id": 1,', headers=headers)
    assert res.status_code == 422
    assert svc.call("public", "GET", "/v1/cases/999999").status_code == 404
    bad = svc.client.get("/v1/incidents", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    settings = Settings(db=svc.db, rate_per_s=1.0, burst=5)
    with TestClient(create_app(settings)) as flooded:
        codes = [flooded.get("/v1/health").status_code for _ in range(20)]
    assert codes[:5] == [200] * 5 and 429 in codes


def test_what_the_first_review_of_the_api_found_stays_fixed(svc: Service) -> None:
    # nobody files in another's name: a sensor cannot allege, a party writes as itself
    forged = dict(_allegation("S", "N", 90), source="firms-api")
    assert _allowed(svc, "POST", "/v1/observations", {200}, [forged]) == set()
    as_sensor = dict(_allegation("N", "S", 91), source="AS-N1-0043")
    assert svc.call("party_n", "POST", "/v1/observations", json=[as_sensor]).status_code == 403
    # a refusal names every row refused, not the first only, and writes none of the batch
    mine, theirs = _allegation("N", "S", 94), dict(_allegation("N", "S", 95), source="AS-N1-0042")
    res = svc.call("party_n", "POST", "/v1/observations", json=[as_sensor, mine, theirs])
    assert res.status_code == 403 and "body:1:" in res.text and "body:3:" in res.text
    assert "body:2:" not in res.text and res.text.index("body:1:") < res.text.index("body:3:")
    assert svc.call("party_n", "POST", "/v1/observations", json=[mine]).json()["accepted"] == 1
    # an allegation must name the agreement's parties (else every later analysis fails)
    res = svc.call("party_n", "POST", "/v1/observations", json=[_allegation("N", "ZZ", 92)])
    assert res.status_code == 422 and "ZZ" in res.text
    # a cursor beyond 64 bits is bad input, not a server error
    res = svc.call("analyst", "GET", "/v1/incidents", params={"cursor": "9" * 19 + ":x"})
    assert res.status_code == 422
    # proofs: an analyst's review of an unpublished incident is not public
    inc = _pick(svc.db, attributed="N")
    rev = svc.call(
        "analyst",
        "PATCH",
        f"/v1/incidents/{inc['id']}",
        json={"status": "rejected", "published": False},
    ).json()
    proof_url = f"/v1/evidence/proof/{rev['log_index']}"
    assert _allowed(svc, "GET", proof_url, {200}) == STAFF | {"party_n"}  # N sees it
    # a case's events are provable by its parties, not by the public before a ruling
    svc.call("party_n", "POST", "/v1/observations", json=[_allegation("N", "S", 93)])
    case = svc.call(
        "party_n", "POST", "/v1/cases", json={"allegation": "party-N:a93", "accused": "S"}
    ).json()
    with SqliteStore(svc.db) as store:
        index = int(
            store._x(
                "SELECT log_index FROM case_events WHERE case_id = ?", (case["id"],)
            ).fetchone()[0]
        )
    assert _allowed(svc, "GET", f"/v1/evidence/proof/{index}", {200}) == STAFF | {
        "party_n",
        "party_s",
    }
    # a case on an allegation accuses whom the allegation accuses; others' allegations 404
    bad = svc.call(
        "party_n", "POST", "/v1/cases", json={"allegation": "party-N:a93", "accused": "N"}
    )
    assert bad.status_code == 422
    other = svc.call(
        "party_s", "POST", "/v1/cases", json={"allegation": "party-N:a93", "accused": "S"}
    )
    assert other.status_code == 404
    assert (
        svc.call(
            "public", "POST", "/v1/cases", json={"allegation": "party-N:a93", "accused": "S"}
        ).status_code
        == 403
    )
