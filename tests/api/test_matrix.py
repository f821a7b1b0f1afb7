"""The authorisation matrix (issue 14): every role against every action that reveals or
writes something, not only routes: what each pages through (and what its cursors name),
which inclusion proofs it gets (observations, reviews inside and past the disclosure
delay, each case event, tokens, sensors, tree heads, witnesses), which ids appear anywhere
in its answers, which case events it is shown, and what it may write. Each cell's expected
set of roles is written out."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.test_holes import ROLES, Clock, Svc, _allegation, _features, prepared  # noqa: F401
from tests.conftest import copy_store
from truceline._time import parse_time
from truceline.api import Settings, create_app
from truceline.store.sqlite import SqliteStore

ALL = {"public", *ROLES}
STAFF = {"monitor", "analyst", "com_fr", "com_de"}
HOUR = 3_600_000_000


@pytest.fixture()
def world(prepared: tuple[Path, dict], tmp_path: Path) -> Iterator[tuple[Svc, dict[str, Any]]]:  # noqa: F811
    """Four incidents: N's and S's unpublished, one published long enough ago (S's), one
    published but inside the 2-hour disclosure delay (N's); a ruled case against N with N's
    reply; an allegation by N; the sensor's own observation."""
    db, tokens = prepared
    copy = copy_store(db, tmp_path)
    fires = sorted(
        (p for p in _features(copy) if p["kind"] == "fire" and p["attributed_to"]),
        key=lambda p: p["time_end"],
    )
    early_s = next(p for p in fires if p["attributed_to"] == "S")
    late_n = next(p for p in reversed(fires) if p["attributed_to"] == "N")
    hidden_n = next(p for p in fires if p["attributed_to"] == "N" and p is not late_n)
    hidden_s = next(p for p in reversed(fires) if p["attributed_to"] == "S" and p is not early_s)
    clock = Clock(parse_time(late_n["time_end"]) + HOUR // 2)
    settings = Settings(db=copy, now_us=clock, delay_hours=2, rate_per_s=1e6, burst=10**6)
    with TestClient(create_app(settings)) as client:
        svc = Svc(client, tokens, clock, copy)
        w: dict[str, Any] = {
            "inc": {"n": hidden_n, "s": hidden_s, "pub": early_s, "recent": late_n}
        }
        idx = {}
        for key, inc, status, published in (
            ("review_pub", early_s, "verified", True),
            ("review_recent", late_n, "verified", True),
            ("review_hidden_n", hidden_n, "rejected", False),
        ):
            res = svc.call(
                "analyst",
                "PATCH",
                f"/v1/incidents/{inc['id']}",
                json={"status": status, "published": published},
            )
            idx[key] = res.json()["log_index"]
        thermal = {
            "id": "m1",
            "type": "thermal",
            "source": "AS-N1-0001",
            "time": "2026-03-01T01:00:00Z",
            "position": [36.0, 48.0],
        }
        idx["obs_sensor"] = (
            svc.call("sensor", "POST", "/v1/observations", json=[thermal]).json()["tree_head"][
                "tree_size"
            ]
            - 1
        )
        idx["obs_party_n"] = (
            svc.call(
                "party_n", "POST", "/v1/observations", json=[_allegation("N", "S", 80)]
            ).json()["tree_head"]["tree_size"]
            - 1
        )
        case = svc.call(
            "analyst", "POST", "/v1/cases", json={"incident": hidden_n["id"], "accused": "N"}
        ).json()
        url = f"/v1/cases/{case['id']}"
        svc.call("party_n", "POST", url + "/replies", json={"text": "We deny it."})
        clock.now += 8 * 86_400_000_000
        ruling = {"decision": "violation", "responsible": "N", "clause": "C1", "remedy": "Stop."}
        for com in ("com_fr", "com_de"):
            svc.call(com, "POST", url + "/rulings", json=ruling)
        clock.now = parse_time(late_n["time_end"]) + HOUR // 2  # back inside the delay
        with SqliteStore(copy) as store:
            events = [
                int(i)
                for (i,) in store._x(
                    "SELECT log_index FROM case_events WHERE case_id = ? ORDER BY seq",
                    (case["id"],),
                )
            ]
            kinds = {json.loads(store.entry(i))["kind"]: i for i in range(store.log_size())}
        idx.update(case_opened=events[0], case_reply=events[1], case_ruling=events[2])
        idx.update(
            token=kinds["token"], sensor_registration=kinds["sensor"], tree_head=kinds["tree_head"]
        )
        w.update(idx=idx, case=case["id"])
        yield svc, w


def _roles(test: Callable[[str], bool]) -> set[str]:
    return {role for role in sorted(ALL) if test(role)}


def _pages(svc: Svc, role: str) -> tuple[list[str], list[str]]:
    ids, cursors, cursor = [], [], None
    while True:
        params: dict[str, Any] = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        doc = svc.call(role, "GET", "/v1/incidents", params=params).json()
        ids += [f["id"] for f in doc["features"]]
        cursor = doc["next"]
        if cursor is None:
            return ids, cursors
        cursors.append(cursor.split(":", 1)[1])


EXPECTED = {
    # what each role pages through (and its cursors name), and opens as a dossier
    "see N's unpublished incident": STAFF | {"party_n"},
    "see S's unpublished incident": STAFF | {"party_s"},
    "see a published incident past the delay": ALL,
    "see N's published incident inside the delay": STAFF | {"party_n"},
    # inclusion proofs
    "prove the sensor's own observation": STAFF | {"sensor"},
    "prove N's allegation": STAFF | {"party_n"},
    "prove the review of a published incident past the delay": ALL,
    "prove the review of an incident inside the delay": STAFF | {"party_n"},
    "prove the review of N's unpublished incident": STAFF | {"party_n"},
    "prove the opening of the case against N": STAFF | {"party_n"},
    "prove N's reply": STAFF | {"party_n"},
    "prove a signature of the ruling in force": ALL,
    "prove a token's issue": STAFF,
    "prove a sensor's registration": STAFF,
    "prove a tree head": ALL,
    # case events shown by GET /v1/cases/{id}
    "see the case's opening and reply": STAFF | {"party_n"},
    "see the ruling's signature events": STAFF,
    "see the ruling in force": ALL,
    # writes
    "submit under its own source": {"sensor", "monitor", "analyst", "party_n", "party_s"},
    "review an incident": {"analyst"},
    "open a case on an incident": {"analyst", "com_fr", "com_de"},
    "register a sensor": {"analyst"},
    "read the live counts": STAFF,
}


def test_the_authorisation_matrix(world: tuple[Svc, dict[str, Any]]) -> None:
    svc, w = world
    inc, idx = w["inc"], w["idx"]
    paged = {role: _pages(svc, role) for role in ALL}
    for role, (ids, cursors) in paged.items():
        assert set(cursors) <= set(ids), role  # a cursor names only what the role sees

    def sees(key: str) -> Callable[[str], bool]:
        def test(role: str) -> bool:
            listed = inc[key]["id"] in paged[role][0]
            opened = svc.call(role, "GET", f"/v1/incidents/{inc[key]['id']}").status_code == 200
            # the export of the dashboard's filtered set: hidden and unknown ids left out alike
            body = {"format": "geojson", "ids": [inc[key]["id"], "no-such-incident"]}
            res = svc.call(role, "POST", "/v1/incidents/export", json=body)
            exported = [f["properties"]["id"] for f in res.json()["features"]]
            assert res.headers["x-truceline-rows"] == str(len(exported)), (role, key)
            assert listed == opened == (exported == [inc[key]["id"]]), (role, key)
            return listed

        return test

    def proves(key: str) -> Callable[[str], bool]:
        return lambda role: (
            svc.call(role, "GET", f"/v1/evidence/proof/{idx[key]}").status_code == 200
        )

    def case_view(role: str) -> dict[str, Any]:
        res = svc.call(role, "GET", f"/v1/cases/{w['case']}")
        return res.json() if res.status_code == 200 else {"events": [], "state": {}}

    def submits(role: str) -> bool:
        name = ROLES[role][1] if role in ROLES else "public"
        party = name.split("-")[1] if name.startswith("party-") else None
        body = (
            _allegation(party, "S" if party == "N" else "N", 81)
            if party
            else {
                "id": f"own-{role}",
                "type": "thermal",
                "source": name,
                "time": "2026-03-01T01:00:00Z",
                "position": [36.0, 48.0],
            }
        )
        return svc.call(role, "POST", "/v1/observations", json=[body]).status_code == 200

    found = {
        "see N's unpublished incident": _roles(sees("n")),
        "see S's unpublished incident": _roles(sees("s")),
        "see a published incident past the delay": _roles(sees("pub")),
        "see N's published incident inside the delay": _roles(sees("recent")),
        "prove the sensor's own observation": _roles(proves("obs_sensor")),
        "prove N's allegation": _roles(proves("obs_party_n")),
        "prove the review of a published incident past the delay": _roles(proves("review_pub")),
        "prove the review of an incident inside the delay": _roles(proves("review_recent")),
        "prove the review of N's unpublished incident": _roles(proves("review_hidden_n")),
        "prove the opening of the case against N": _roles(proves("case_opened")),
        "prove N's reply": _roles(proves("case_reply")),
        "prove a signature of the ruling in force": _roles(proves("case_ruling")),
        "prove a token's issue": _roles(proves("token")),
        "prove a sensor's registration": _roles(proves("sensor_registration")),
        "prove a tree head": _roles(proves("tree_head")),
        "see the case's opening and reply": _roles(
            lambda r: {"opened", "reply"} <= {e["kind"] for e in case_view(r)["events"]}
        ),
        "see the ruling's signature events": _roles(
            lambda r: "ruling" in {e["kind"] for e in case_view(r)["events"]}
        ),
        "see the ruling in force": _roles(lambda r: bool(case_view(r)["state"].get("ruling"))),
        "submit under its own source": _roles(submits),
        "review an incident": _roles(
            lambda r: (
                svc.call(
                    r,
                    "PATCH",
                    f"/v1/incidents/{inc['s']['id']}",
                    json={"status": "disputed", "published": False},
                ).status_code
                == 200
            )
        ),
        "open a case on an incident": _roles(
            lambda r: (
                svc.call(
                    r, "POST", "/v1/cases", json={"incident": inc["pub"]["id"], "accused": "S"}
                ).status_code
                == 201
            )
        ),
        "register a sensor": _roles(
            lambda r: (
                svc.call(
                    r,
                    "POST",
                    "/v1/sensors",
                    json={"id": f"X-{r}", "position": [36.0, 48.0], "operator": "o"},
                ).status_code
                == 201
            )
        ),
        "read the live counts": _roles(
            lambda r: "observations" in svc.call(r, "GET", "/v1/health").json()
        ),
    }
    # no answer to a role names an incident id it may not see: pages, cursors, bulk
    for role in ALL:
        hidden = [inc[k]["id"] for k in inc if inc[k]["id"] not in paged[role][0]]
        bulk = svc.call(role, "GET", "/v1/dashboard/incidents").text
        for h in hidden:
            assert h not in bulk and h not in json.dumps(paged[role]), (role, h)
    width = max(map(len, EXPECTED))
    print("\n" + " " * width + "  " + " ".join(f"{r[:8]:>8}" for r in sorted(ALL)))
    for action, roles in found.items():
        cells = " ".join(f"{'yes' if r in roles else '-':>8}" for r in sorted(ALL))
        print(f"{action:<{width}}  {cells}")
    assert found == EXPECTED


def test_an_export_gives_what_the_list_gives_each_role(world: tuple[Svc, dict[str, Any]]) -> None:
    """``POST /v1/incidents/export`` writes each incident with exactly the fields the caller
    is shown by ``GET /v1/incidents`` (the public's coarsened point, no evidence lists), plus
    its place; CSV has ACLED's columns; a malformed request names the field."""
    svc, w = world
    pub = w["inc"]["pub"]["id"]
    for role in ("public", "party_n", "analyst"):
        listed = {
            f["properties"]["id"]: f
            for f in svc.call(role, "GET", "/v1/incidents?limit=1000").json()["features"]
        }
        res = svc.call(
            role, "POST", "/v1/incidents/export", json={"format": "geojson", "ids": [pub]}
        )
        assert res.status_code == 200 and "attachment" in res.headers["content-disposition"]
        (got,) = res.json()["features"]
        assert res.json()["tree_head"]["tree_size"] > 0
        place = got["properties"].pop("place")
        assert place["mgrs"] and place["label"]
        assert got == listed[pub], role
    res = svc.call("public", "POST", "/v1/incidents/export", json={"format": "csv", "ids": [pub]})
    lines = res.text.splitlines()
    assert res.headers["content-type"].startswith("text/csv")
    assert lines[0].startswith("event_id_cnty,") and len(lines) == 2 and pub in lines[1]
    for body, field in (
        ({"format": "gpkg", "ids": [pub]}, "format"),
        ({"format": "csv", "ids": ["a b"]}, "ids"),
        ({"format": "csv"}, "ids"),
    ):
        res = svc.call("public", "POST", "/v1/incidents/export", json=body)
        assert res.status_code == 422 and field in res.text, body
