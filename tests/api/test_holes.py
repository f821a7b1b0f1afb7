"""Regression tests of the holes an independent attack found (issue 14), one (or more) per
hole, each reproducing the attack against a service over the standard simulated day. Every
one of them failed on the code before the fix (checked against a scratch copy of it).

The fixture tolerates the old code (it registers the sensor only where a registry exists),
so that these tests fail there for the hole itself, not for a missing command."""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.conftest import copy_store
from truceline._time import parse_time
from truceline.api import Settings, create_app
from truceline.cli import app as cli
from truceline.evidence import canonical, inclusion_bundle, leaf_hash
from truceline.store.sqlite import SqliteStore

NOW = parse_time("2026-03-20T00:00:00Z")
DAY = 86_400_000_000
ROLES = {
    "sensor": ("sensor", "AS-N1-0001", None),
    "monitor": ("monitor", "mon-1", None),
    "analyst": ("analyst", "ana-1", None),
    "com_fr": ("commissioner", "com-fr", "FR"),
    "com_de": ("commissioner", "com-de", "DE"),
    "party_n": ("party:N", "party-N", None),
    "party_s": ("party:S", "party-S", None),
}


@dataclass
class Clock:
    now: int = NOW

    def __call__(self) -> int:
        return self.now


@dataclass
class Svc:
    client: TestClient
    tokens: dict[str, str | None]
    clock: Clock
    db: Path

    def call(self, role: str, method: str, url: str, **kw: Any) -> Any:
        token = self.tokens.get(role)
        headers = {"Authorization": f"Bearer {token}", **kw.pop("headers", {})} if token else {}
        return self.client.request(method, url, headers=headers or kw.pop("headers", {}), **kw)


def _sensor_position(db: Path, sensor: str) -> list[float]:
    with SqliteStore(db) as store:
        for body in store.observation_records("acoustic", 0, 2**62):
            if body["sensor"] == sensor:
                return list(body["position"])
    raise AssertionError(sensor)


@pytest.fixture(scope="module")
def prepared(stored_day: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    db = copy_store(stored_day, tmp_path_factory.mktemp("holes"))
    runner = CliRunner()
    for sensor in ("AS-N1-0001", "AS-N1-0002", "AS-N1-0003"):
        lon, lat, *_ = _sensor_position(db, sensor)
        args = ["sensor", "add", "--db", str(db), "--id", sensor, "--position", f"{lon},{lat}"]
        runner.invoke(cli, [*args, "--operator", "ops-north"])  # (no registry before the fix)
    tokens: dict[str, str | None] = {"public": None}
    for key, (role, name, state) in ROLES.items():
        args = ["token", "create", "--db", str(db), "--role", role, "--name", name]
        res = runner.invoke(cli, args + (["--member-state", state] if state else []))
        assert res.exit_code == 0, res.output
        tokens[key] = res.output.split()[-1]
    return db, tokens


@pytest.fixture()
def svc(prepared: tuple[Path, dict], tmp_path: Path) -> Iterator[Svc]:
    db, tokens = prepared
    copy = copy_store(db, tmp_path)
    clock = Clock()
    with TestClient(create_app(Settings(db=copy, now_us=clock))) as client:
        yield Svc(client, tokens, clock, copy)


def _features(db: Path) -> list[dict[str, Any]]:
    with SqliteStore(db) as store:
        return [f["properties"] for f in store.incidents()]


def _pick(db: Path, attributed: str, alleged_by: str | None = None) -> dict[str, Any]:
    for p in _features(db):
        if p["attributed_to"] == attributed and p["kind"] == "fire":
            if (
                (alleged_by in (p.get("alleged_by") or []))
                if alleged_by
                else not p.get("alleged_by")
            ):
                return p
    raise AssertionError("no such incident")


def _allegation(party: str, accused: str, n: int, **extra: Any) -> dict[str, Any]:
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
        **extra,
    }


def _detection(sensor: str, source: str, position: list[float], n: int) -> dict[str, Any]:
    return {
        "id": f"forged-{n}",
        "type": "acoustic",
        "source": source,
        "time": "2026-03-01T03:00:00Z",
        "sensor": sensor,
        "position": position,
        "class": "impact",
        "sigma_s": 0.01,
    }


# -- hole 1 -----------------------------------------------------------------------------------


def test_hole_1_a_sensor_cannot_report_for_other_sensors(svc: Svc) -> None:
    other = _sensor_position(svc.db, "AS-N1-0002")
    own = _sensor_position(svc.db, "AS-N1-0001")
    forged = _detection("AS-N1-0002", "AS-N1-0001", other, 1)
    assert svc.call("sensor", "POST", "/v1/observations", json=[forged]).status_code == 403
    # its own detection, but from somewhere else than where it was surveyed
    moved = _detection("AS-N1-0001", "AS-N1-0001", [own[0] + 0.01, own[1]], 2)
    res = svc.call("sensor", "POST", "/v1/observations", json=[moved])
    assert res.status_code == 422 and "surveyed position" in res.text
    ok = _detection("AS-N1-0001", "AS-N1-0001", own, 3)
    assert svc.call("sensor", "POST", "/v1/observations", json=[ok]).status_code == 200
    # nor may anyone else report for a registered sensor
    as_analyst = _detection("AS-N1-0003", "ana-1", _sensor_position(svc.db, "AS-N1-0003"), 4)
    assert svc.call("analyst", "POST", "/v1/observations", json=[as_analyst]).status_code == 422


def test_hole_1_a_sensor_cannot_keep_another_alive(svc: Svc) -> None:
    # a heartbeat (status) says a sensor was working: the same rules as for its detections,
    # and more (found by an adversarial review): only a registered sensor's count, whoever
    # sends them, and only when sent at the time they state
    from truceline._time import format_time

    def beat(sensor: str, source: str, position: list[float], n: int, **kw: Any) -> dict[str, Any]:
        return {"id": f"beat-{n}", "type": "status", "source": source, "sensor": sensor,
                "time": format_time(svc.clock.now), "position": position, "state": "up",
                "interval_s": 600.0, **kw}  # fmt: skip

    def post(role: str, body: dict[str, Any]) -> Any:
        return svc.call(role, "POST", "/v1/observations", json=[body])

    other = _sensor_position(svc.db, "AS-N1-0002")
    own = _sensor_position(svc.db, "AS-N1-0001")
    res = post("sensor", beat("AS-N1-0002", "AS-N1-0001", other, 1))
    assert res.status_code == 403 and "its own" in res.text
    res = post("sensor", beat("AS-N1-0001", "AS-N1-0001", [own[0] + 0.01, own[1]], 2))
    # refused without saying how far off or the tolerance (three answers would trilaterate)
    assert res.status_code == 422 and "surveyed position" in res.text and " m " not in res.text
    assert post("sensor", beat("AS-N1-0001", "AS-N1-0001", own, 3)).status_code == 200
    res = post("monitor", beat("AS-N1-0003", "mon-1", _sensor_position(svc.db, "AS-N1-0003"), 4))
    assert res.status_code == 403
    # staff may not send heartbeats at all (a heartbeat is its sensor's own word)
    res = post("analyst", beat("WATCH-01", "ana-1", own, 5))
    assert res.status_code == 403 and "own token" in res.text
    res = post("analyst", beat("AS-N1-0003", "ana-1", _sensor_position(svc.db, "AS-N1-0003"), 6))
    assert res.status_code == 403
    # nor turn its own token into a sensor (it would then write as one)
    reg = {"id": "ana-1", "position": own[:2], "operator": "x", "tolerance_m": 50.0}
    res = svc.call("analyst", "POST", "/v1/sensors", json=reg)
    assert res.status_code == 422 and "token" in res.text
    # a sensor's refused batch names its first refused row only: no map of the tolerance
    probes = [beat("AS-N1-0001", "AS-N1-0001", [own[0] + d, own[1]], 20 + k)
              for k, d in enumerate((0.0, 0.002, 0.01, 0.02))]  # fmt: skip
    res = svc.call("sensor", "POST", "/v1/observations", json=probes)
    assert res.status_code == 422 and len(res.json()["detail"]) == 1
    # a liveness claim for another time (backdated, or ahead) is not one; nor one for a day
    late = beat("AS-N1-0001", "AS-N1-0001", own, 7, time=format_time(svc.clock.now - 3_600_000_000))
    assert post("sensor", late).status_code == 422
    ahead = beat(
        "AS-N1-0001", "AS-N1-0001", own, 8, time=format_time(svc.clock.now + 3_600_000_000)
    )
    assert post("sensor", ahead).status_code == 422
    assert (
        post("sensor", beat("AS-N1-0001", "AS-N1-0001", own, 9, interval_s=86_400.0)).status_code
        == 422
    )


# -- hole 2 (the property test over hidden rows is tests/api/test_paging.py) -----------------


def test_hole_2_the_next_cursor_never_names_a_hidden_incident(svc: Svc) -> None:
    visible = _pick(svc.db, "S")
    svc.call(
        "analyst",
        "PATCH",
        f"/v1/incidents/{visible['id']}",
        json={"status": "verified", "published": True},
    )
    page = svc.call("public", "GET", "/v1/incidents", params={"limit": 1}).json()
    assert [f["id"] for f in page["features"]] == [visible["id"]]
    assert page["next"] is None  # only hidden incidents follow: no cursor, no time leaked


# -- hole 3 -----------------------------------------------------------------------------------


def _ruled_case_on(svc: Svc, accused: str) -> tuple[int, list[int]]:
    inc = _pick(svc.db, accused)
    case = svc.call(
        "analyst", "POST", "/v1/cases", json={"incident": inc["id"], "accused": accused}
    ).json()
    url = f"/v1/cases/{case['id']}"
    party = f"party_{accused.lower()}"
    assert (
        svc.call(party, "POST", url + "/replies", json={"text": "We deny it."}).status_code == 201
    )
    svc.clock.now += 8 * DAY
    ruling = {"decision": "violation", "responsible": accused, "clause": "C1", "remedy": "Stop."}
    for com in ("com_fr", "com_de"):
        assert svc.call(com, "POST", url + "/rulings", json=ruling).status_code == 201
    with SqliteStore(svc.db) as store:
        rows = store._x(
            "SELECT log_index FROM case_events WHERE case_id = ? ORDER BY seq", (case["id"],)
        ).fetchall()
    return int(case["id"]), [int(r[0]) for r in rows]


def test_hole_3_a_party_cannot_prove_another_partys_reply(svc: Svc) -> None:
    _, (opened, reply, *rulings) = _ruled_case_on(svc, "N")
    for role in ("party_s", "public"):  # S is not in the case
        for index in (opened, reply):
            assert svc.call(role, "GET", f"/v1/evidence/proof/{index}").status_code == 403
    assert svc.call("party_n", "GET", f"/v1/evidence/proof/{reply}").status_code == 200
    # the ruling in force is public: its signatures may be proved by anyone
    assert svc.call("public", "GET", f"/v1/evidence/proof/{rulings[0]}").status_code == 200


# -- hole 4 -----------------------------------------------------------------------------------


def _refs_id(refs: list[str]) -> str:
    return "inc-" + hashlib.sha256("\n".join(sorted(refs)).encode()).hexdigest()[:16]


def test_hole_4_an_id_does_not_confirm_a_guessed_allegation(svc: Svc) -> None:
    inc = _pick(svc.db, "S", alleged_by="N")
    seen = svc.call("party_s", "GET", f"/v1/incidents/{inc['id']}").json()
    shown = [e["ref"] for e in seen["evidence"]]
    withheld = [r for r in inc["observations"] if r not in shown]
    assert withheld and all(r.startswith("party-N:") for r in withheld)
    # S guesses N's allegation refs: the id must not tell it that it guessed right
    assert _refs_id(shown + withheld) != inc["id"]
    assert _refs_id(shown) != inc["id"]
    # ... and the id is reproducible from the log: over the supporting entries' leaf hashes
    with SqliteStore(svc.db) as store:
        leaves = [
            bytes(store.tree().levels[0][store.entry_of(*r.split(":"))])
            for r in inc["observations"]
        ]
    assert "inc-" + hashlib.sha256(b"".join(sorted(leaves))).hexdigest()[:16] == inc["id"]


# -- hole 5 -----------------------------------------------------------------------------------


def test_hole_5_one_commissioner_cannot_void_a_ruling(svc: Svc) -> None:
    case_id, _ = _ruled_case_on(svc, "S")
    url = f"/v1/cases/{case_id}"
    res = svc.call("com_fr", "POST", url + "/reopen", json={"reason": "x", "reply_days": 1e-5})
    assert res.status_code == 422  # a reply window of 0.86 s
    res = svc.call("com_fr", "POST", url + "/reopen", json={"reason": "New imagery."})
    assert res.status_code == 201
    assert svc.call("public", "GET", url).json()["state"]["status"] == "ruled"
    inc = _pick(svc.db, "N")
    short = {"incident": inc["id"], "accused": "N", "reply_days": 1e-5}
    assert svc.call("analyst", "POST", "/v1/cases", json=short).status_code == 422


# -- hole 6 -----------------------------------------------------------------------------------


def test_hole_6_a_monitor_writes_only_under_its_own_source(svc: Svc) -> None:
    taken = {
        "id": "AS-N1-0001-999999",
        "type": "thermal",
        "source": "AS-N1-0001",
        "time": "2026-03-01T12:00:00Z",
        "position": [36.0, 48.0],
    }
    assert svc.call("monitor", "POST", "/v1/observations", json=[taken]).status_code == 403
    party = {**taken, "id": "N-00099", "source": "party-N"}
    assert svc.call("monitor", "POST", "/v1/observations", json=[party]).status_code == 403
    own = {**taken, "source": "mon-1"}
    assert svc.call("monitor", "POST", "/v1/observations", json=[own]).status_code == 200


# -- hole 7 -----------------------------------------------------------------------------------


def test_hole_7_a_look_alike_member_state_gets_no_token(svc: Svc) -> None:
    runner = CliRunner()
    base = ["token", "create", "--db", str(svc.db), "--role", "commissioner", "--name", "x"]
    for fake in ("FR\u200b", "F\u200dR", "XX", "FRA"):
        res = runner.invoke(cli, [*base, "--member-state", fake])
        assert res.exit_code == 2, (fake, res.output)
    assert runner.invoke(cli, [*base, "--member-state", "fr"]).exit_code == 0


# -- hole 8 -----------------------------------------------------------------------------------


def test_hole_8_a_public_proof_does_not_confirm_a_guessed_hidden_entry(svc: Svc) -> None:
    inc = _pick(svc.db, "N")
    with SqliteStore(svc.db) as store:
        if store.log_size() % 2:  # the review's tree head entry at an even index: siblings
            store.create_token("analyst", "parity")
        index = store.set_review(inc["id"], "rejected", False, "ana-1")
        guess = {
            "kind": "incident_review",
            "incident": inc["id"],
            "status": "rejected",
            "published": False,
            "by": "ana-1",
        }
        head = store.latest_head()
        assert head is not None
        public = [
            i
            for i in range(head.tree_size)
            if json.loads(store.entry(i))["kind"] in ("tree_head", "run", "agreement", "key")
        ]
        assert index - 1 in public  # the public neighbour whose proof shows the review's hash
        siblings = {
            h
            for i in public
            for h in inclusion_bundle(store.tree(), i, store.entry(i), head)["inclusion_path"]
        }
    assert leaf_hash(canonical(guess)).hex() not in siblings


# -- hole 9 -----------------------------------------------------------------------------------


def _thermal_text(**fields: str) -> str:
    base = {
        "id": '"t1"',
        "type": '"thermal"',
        "source": '"ana-1"',
        "time": '"2026-03-01T12:00:00Z"',
        "position": "[36.0, 48.0]",
    }
    base.update(fields)
    return "{" + ", ".join(f'"{k}": {v}' for k, v in base.items()) + "}"


BAD_BODIES = [
    _thermal_text(position="[NaN, 48.0]"),
    _thermal_text(position="[Infinity, 48.0]"),
    _thermal_text(position="[-Infinity, 48.0]"),
    _thermal_text(position="[1e400, 48.0]"),
    _thermal_text(frp_mw="1e400"),
    _thermal_text(frp_mw="NaN"),
    _thermal_text(note=str(2**64)),
    _thermal_text(note=str(2**70)),
    _thermal_text(extra=str(2**64)),
    _thermal_text(confidence="1e400"),
    _thermal_text(id='"\\ud800"'),
    _thermal_text(note='"\\udfff"'),
    _thermal_text(extra="[" * 600 + "]" * 600),
    _thermal_text(extra="[" * 5000 + "]" * 5000),
    _thermal_text(extra='{"a":' * 600 + "1" + "}" * 600),
    _thermal_text(time='"0001-01-01T00:00:00+01:00"'),
    _thermal_text(time='"9999-12-31T23:59:59-01:00"'),
    _thermal_text(scan_km=str(2**64)),
]


def test_hole_9_bad_inputs_are_4xx_with_the_field_named_never_500(svc: Svc, tmp_path: Path) -> None:
    svc.client.app_state = None  # (nothing: the client raises on a 500 itself)
    for text in BAD_BODIES:
        for body, ctype in ((f"[{text}]", "application/json"), (text, "application/x-ndjson")):
            res = svc.call(
                "analyst",
                "POST",
                "/v1/observations",
                content=body,
                headers={"Content-Type": ctype},
            )
            assert 400 <= res.status_code < 500, (text[:80], res.status_code)
    res = svc.call("public", "GET", "/v1/incidents", params={"start": "0001-01-01T00:00:00+01:00"})
    assert res.status_code == 422
    inc = _pick(svc.db, "N")
    for url, body in (
        ("/v1/cases", f'{{"incident": "{inc["id"]}", "accused": "N", "reply_days": NaN}}'),
        (f"/v1/incidents/{inc['id']}", '{"status": "verified", "published": NaN}'),
    ):
        method = "POST" if url == "/v1/cases" else "PATCH"
        res = svc.call(
            "analyst", method, url, content=body, headers={"Content-Type": "application/json"}
        )
        assert res.status_code == 422, (url, res.text)
        json.loads(res.text)  # valid JSON
    # the command line: exit 2, the line and field named, never "internal error"
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(BAD_BODIES) + "\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["ingest", "--db", str(tmp_path / "x.db"), str(bad)])
    assert res.exit_code == 2 and "internal error" not in res.output, res.output
    assert f"{bad}:1: position" in res.output.replace("\n", "")


# -- hole 10 ----------------------------------------------------------------------------------


def test_hole_10_a_review_proof_waits_for_the_disclosure_delay(svc: Svc) -> None:
    inc = _pick(svc.db, "S")
    svc.clock.now = parse_time(inc["time_end"]) + 3_600_000_000  # one hour after it ended
    rev = svc.call(
        "analyst",
        "PATCH",
        f"/v1/incidents/{inc['id']}",
        json={"status": "verified", "published": True},
    ).json()
    url = f"/v1/evidence/proof/{rev['log_index']}"
    assert svc.call("public", "GET", url).status_code == 403  # inside the delay
    svc.clock.now += 2 * DAY
    assert svc.call("public", "GET", url).status_code == 200


def test_hole_10_a_case_tells_nothing_about_hidden_incidents_or_cases(svc: Svc) -> None:
    svc.call("party_n", "POST", "/v1/observations", json=[_allegation("N", "S", 70)])
    hidden = _pick(svc.db, "S")  # S's, unpublished: N may not see it
    codes = {
        svc.call(
            "party_n",
            "POST",
            "/v1/cases",
            json={"allegation": "party-N:a70", "incident": i, "accused": "S"},
        ).status_code
        for i in (hidden["id"], "inc-0000000000000000")
    }
    assert codes == {404}  # a hidden id answers as a missing one
    ids = [
        svc.call(
            "analyst",
            "POST",
            "/v1/cases",
            json={"incident": _pick(svc.db, "N")["id"], "accused": "N"},
        ).json()["id"]
        for _ in range(3)
    ]
    assert all(abs(a - b) > 1 for a, b in itertools.pairwise(ids))  # not sequential


def test_hole_10_health_gives_the_public_no_live_counts(svc: Svc) -> None:
    public = svc.call("public", "GET", "/v1/health").json()
    assert public["status"] == "ok" and "observations" not in public and "log_size" not in public
    assert "observations" in svc.call("analyst", "GET", "/v1/health").json()


def test_hole_10_tokens_are_revoked_and_expire(svc: Svc) -> None:
    runner = CliRunner()
    res = runner.invoke(
        cli,
        [
            "token",
            "create",
            "--db",
            str(svc.db),
            "--role",
            "analyst",
            "--name",
            "tmp",
            "--expires-days",
            "1",
        ],
    )
    assert res.exit_code == 0, res.output
    token = res.output.split()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    svc.clock.now = int(time.time() * 1e6)
    assert svc.client.get("/v1/me", headers=headers).status_code == 200
    svc.clock.now += 2 * DAY
    assert svc.client.get("/v1/me", headers=headers).status_code == 401  # expired
    svc.clock.now = int(time.time() * 1e6)
    res = runner.invoke(cli, ["token", "revoke", "--db", str(svc.db), "--name", "party-N"])
    assert res.exit_code == 0, res.output
    assert svc.call("party_n", "GET", "/v1/me").status_code == 401


VALIDATION = {
    "position strings": {"position": ["36", "48"]},
    "position boolean": {"position": [True, 48]},
    "time with a newline": {"time": "2026-03-01T12:00:00Z\n"},
    "blank id": {"id": "   "},
    "id with a colon": {"id": "a:b"},
    "source with a colon": {"source": "ana-1:x"},
}


def test_hole_10_validation(svc: Svc) -> None:
    base = {
        "id": "v1",
        "type": "thermal",
        "source": "ana-1",
        "time": "2026-03-01T12:00:00Z",
        "position": [36.0, 48.0],
    }
    for what, change in VALIDATION.items():
        res = svc.call("analyst", "POST", "/v1/observations", json=[{**base, **change}])
        assert res.status_code in (403, 422), what
    inc = _pick(svc.db, "N")
    res = svc.call(
        "analyst",
        "PATCH",
        f"/v1/incidents/{inc['id']}",
        json={"status": "verified", "published": "yes"},
    )
    assert res.status_code == 422
    # valid NDJSON with a raw U+2028 inside a string is one line, and accepted
    line = json.dumps({**base, "id": "v2", "note": "a\u2028b"}, ensure_ascii=False)
    res = svc.call(
        "analyst",
        "POST",
        "/v1/observations",
        content=line.encode(),
        headers={"Content-Type": "application/x-ndjson"},
    )
    assert res.status_code == 200, res.text


def test_hole_10_a_large_ingest_does_not_block_other_requests(
    svc: Svc, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a large batch is being parsed and validated, the service answers others: the
    parse is held until another request has been answered (on the old code, which parsed
    on the event loop, that request could not be served, and this test timed out)."""
    import truceline.api.observations as api_obs

    answered = threading.Event()
    original = api_obs._parse

    def slow_parse(text: str, ctype: str) -> Any:
        assert answered.wait(20), "no other request was served while the batch was parsed"
        return original(text, ctype)

    monkeypatch.setattr(api_obs, "_parse", slow_parse)
    body = [{**json.loads(_thermal_text()), "id": f"big-{k}"} for k in range(2000)]
    result: dict[str, int] = {}

    def ingest() -> None:
        result["code"] = svc.call("analyst", "POST", "/v1/observations", json=body).status_code

    worker = threading.Thread(target=ingest)
    worker.start()
    time.sleep(0.2)
    other: dict[str, int] = {}

    def ask() -> None:
        other["code"] = svc.call("public", "GET", "/v1/me").status_code
        answered.set()

    asker = threading.Thread(target=ask, daemon=True)
    asker.start()
    asker.join(10)
    answered.set()  # let the ingest finish either way
    worker.join(30)
    assert other.get("code") == 200, "the service served nothing during the ingest"
    assert result.get("code") == 200


def test_hole_12_no_token_of_another_role_bears_a_sensors_name(svc: Svc) -> None:
    from truceline.errors import UsageError
    from truceline.store.sqlite import SqliteStore

    with SqliteStore(svc.db) as store, pytest.raises(UsageError, match="registered sensor"):
        store.create_token("analyst", "AS-N1-0001")  # its holder would write as the sensor


# -- holes of the sixth attack (issue 20) ------------------------------------------------------


def _analyze(svc: Svc, scenario: Path, tmp: Path) -> None:
    """A new analysis run of the service's store (as the analysts' next run)."""
    args = ["analyze", "--db", str(svc.db), "--agreement", str(scenario / "agreement.yaml")]
    res = CliRunner().invoke(cli, [*args, "--out", str(tmp)])
    assert res.exit_code == 0, res.output


def _holding(db: Path, refs: list[str]) -> dict[str, Any]:
    """The latest run's incident holding the most of ``refs``."""
    return max(_features(db), key=lambda p: len(set(refs) & set(p["observations"])))


def _at(p: dict[str, Any]) -> list[float]:
    return list((p.get("impact") or p["origin"])[:2])


def test_hole_16_allegations_do_not_vote_in_the_weapon_class(
    svc: Svc, scenario: Path, tmp_path: Path
) -> None:
    """S files 15 allegations naming MLRS on N's hidden incident: they join it as claims
    (staff see them), but its weapon class, its clauses and its weapon basis are what the
    sensors made them, for everyone; N is not told "allegation said mlrs"."""
    inc = _pick(svc.db, "N")
    assert inc["weapon"] != "mlrs"
    sensed = [r for r in inc["observations"] if not r.startswith("party-")]
    at = {"time": inc["time_start"], "position": _at(inc), "radius_km": 0.3, "object": "mlrs"}
    flood = [_allegation("S", "N", 100 + k, **at) for k in range(15)]
    assert svc.call("party_s", "POST", "/v1/observations", json=flood).is_success
    _analyze(svc, scenario, tmp_path)
    now = _holding(svc.db, sensed)
    assert set(sensed) <= set(now["observations"]) and "S" in now["alleged_by"]  # joined
    for key in ("weapon", "weapon_probabilities", "weapon_basis", "violations", "kind"):
        assert now[key] == inc[key], key
    assert "allegation" not in now["weapon_basis"]
    assert all(kind != "allegation" for kind, _ in now.get("assessments") or [])
    seen = svc.call("party_n", "GET", f"/v1/incidents/{now['id']}").json()["properties"]
    assert seen["weapon"] == inc["weapon"] and "allegation" not in seen["weapon_basis"]


def _unlocated(svc: Svc, role: str) -> dict[str, dict[str, Any]]:
    """What ``role`` is shown of unlocated incidents, by their one supporting observation."""
    res = svc.call(role, "GET", "/v1/incidents", params={"kind": "unlocated", "limit": 1000})
    assert res.json()["next"] is None
    return {f["properties"]["observations"][0]: f for f in res.json()["features"]}


def test_hole_16_a_party_cannot_tell_that_its_allegation_joined_a_hidden_incident(
    svc: Svc, scenario: Path, tmp_path: Path
) -> None:
    """S files one allegation on N's hidden incident (300 m) and one where nothing happened:
    the first joins the incident, the second stays unplaced. S reads both alike, in the list
    and by id: an allegation joined only to an incident hidden from S reads exactly as it
    would unplaced (its id the one it would have alone), so filing at small radii no longer
    locates a hidden incident. The staff see where it joined; N sees neither."""
    inc = _pick(svc.db, "N")
    near = _allegation("S", "N", 200, time=inc["time_start"], position=_at(inc), radius_km=0.3)
    far = _allegation("S", "N", 201, time="2026-03-02T20:00:00Z", radius_km=0.3)
    assert svc.call("party_s", "POST", "/v1/observations", json=[near, far]).is_success
    _analyze(svc, scenario, tmp_path)
    held = _holding(svc.db, ["party-S:a200"])
    assert "party-S:a200" in held["observations"] and held["kind"] != "unlocated"  # joined
    assert svc.call("party_s", "GET", f"/v1/incidents/{held['id']}").status_code == 404
    shown = _unlocated(svc, "party_s")
    a, b = shown["party-S:a200"]["properties"], shown["party-S:a201"]["properties"]
    assert list(a) == list(b) and a["observations"] == ["party-S:a200"]
    moved = {"id", "time_start", "time_end", "origin", "impact", "observations", "allegations"}
    assert {k: v for k, v in a.items() if k not in moved} == {
        k: v for k, v in b.items() if k not in moved
    }
    assert list(a["allegations"].values()) == list(b["allegations"].values())
    with SqliteStore(svc.db) as store:
        (_, index) = store.observation_bodies(["party-S:a200"])["party-S:a200"]
        from truceline.incidents import incident_id

        assert a["id"] == incident_id([leaf_hash(store.entry(index))])
        assert store.incident(a["id"]) is None  # not an incident of the run
    for ref, p in (("party-S:a200", a), ("party-S:a201", b)):
        got = svc.call("party_s", "GET", f"/v1/incidents/{p['id']}")
        assert got.status_code == 200 and got.json()["properties"] == p
        assert [e["ref"] for e in got.json()["evidence"]] == [ref]
        assert svc.call("party_n", "GET", f"/v1/incidents/{p['id']}").status_code == 404
    assert not {"party-S:a200", "party-S:a201"} & set(_unlocated(svc, "party_n"))
    staff = _unlocated(svc, "analyst")
    assert "party-S:a201" in staff and "party-S:a200" not in staff


# -- the eighth attack's seq ------------------------------------------------------------------


def test_hole_17_a_case_events_entry_does_not_count_the_hidden_events_before_it(
    svc: Svc,
) -> None:
    """After a reopening (its signatures are hidden from the parties) N replies again and
    proves its reply: the entry named the event by ``seq``, its place in the case's whole
    history, so ``seq`` minus the events N is shown counted the hidden ones. It names it by
    a random id now; who may prove it is decided as before (the store maps the entry back
    to its event)."""
    case_id, _ = _ruled_case_on(svc, "N")
    url = f"/v1/cases/{case_id}"
    for com in ("com_fr", "com_de"):
        res = svc.call(com, "POST", url + "/reopen", json={"reason": "New imagery."})
        assert res.status_code == 201
    res = svc.call("party_n", "POST", url + "/replies", json={"text": "Still no."})
    assert res.status_code == 201
    shown = svc.call("party_n", "GET", url).json()["events"]
    with SqliteStore(svc.db) as store:
        (index, seq) = store._x(
            "SELECT log_index, seq FROM case_events WHERE case_id = ? ORDER BY seq DESC LIMIT 1",
            (case_id,),
        ).fetchone()
    assert seq > len(shown) - 1  # hidden events came before it
    proof = svc.call("party_n", "GET", f"/v1/evidence/proof/{index}")
    assert proof.status_code == 200
    logged = json.loads(proof.json()["entry"])  # what N is given, and may show anyone
    assert logged["kind"] == "case_event" and logged["event"]["text"] == "Still no."
    assert "seq" not in logged and len(logged["event_id"]) == 32
    assert f"event {seq}:" not in proof.json()["names"]["entry"]
    for role in ("party_s", "public"):
        assert svc.call(role, "GET", f"/v1/evidence/proof/{index}").status_code == 403
