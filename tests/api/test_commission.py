"""The commission's workflow as its users work (issue 20): a case says what is alleged (to
the commission and to the case's parties, never to the public), and the reply window can be
closed early once every party has replied."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from typer.testing import CliRunner

from tests.api import test_api
from tests.api.test_api import Service, _pick
from truceline.access import Disclosure, Principal
from truceline.api.cases import _accused_view
from truceline.cli import app as cli
from truceline.store.sqlite import SqliteStore

DAY_US = 86_400_000_000
prepared = test_api.prepared  # the service's fixtures, shared
svc = test_api.svc


def _clauses(svc: Service) -> dict[str, str]:
    return {
        c["id"]: c["text"] for c in svc.call("public", "GET", "/v1/agreement").json()["clauses"]
    }


def test_a_case_says_what_is_alleged(svc: Service) -> None:
    inc = _pick(svc.db, attributed="S")
    assert inc["violations"]
    body = {"incident": inc["id"], "accused": "S", "summary": "Mortar fire on the line."}
    case = svc.call("analyst", "POST", "/v1/cases", json=body).json()
    texts = _clauses(svc)
    for role in ("analyst", "com_fr", "party_s"):
        got = svc.call(role, "GET", f"/v1/cases/{case['id']}").json()["accusation"]
        assert got["clauses"] == [{"id": c, "text": texts[c]} for c in inc["violations"]]
        assert all(c["text"] for c in got["clauses"])
        assert (got["time_start"], got["time_end"]) == (inc["time_start"], inc["time_end"])
        assert got["weapon"] == inc["weapon"]
        assert got["summary"] == "Mortar fire on the line."
        assert " of " in got["place"] or got["place"].startswith("near ")  # "2.1 km N of X"
        listed = [c for c in svc.call(role, "GET", "/v1/cases").json() if c["id"] == case["id"]]
        assert listed[0]["accusation"] == got
    # the count is what the role may see of the incident's evidence
    staff = svc.call("analyst", "GET", f"/v1/incidents/{inc['id']}").json()["evidence"]
    party = svc.call("party_s", "GET", f"/v1/incidents/{inc['id']}").json()["evidence"]
    assert svc.call("analyst", "GET", f"/v1/cases/{case['id']}").json()["accusation"][
        "evidence_count"
    ] == len(staff)
    assert svc.call("party_s", "GET", f"/v1/cases/{case['id']}").json()["accusation"][
        "evidence_count"
    ] == len(party)
    # the other party does not see the case; the public sees no accusation, ever
    assert svc.call("party_n", "GET", f"/v1/cases/{case['id']}").status_code == 404
    svc.clock.now += 8 * DAY_US
    ruling = {"decision": "violation", "responsible": "S", "clause": "C1", "remedy": ""}
    for who in ("com_fr", "com_de"):
        assert svc.call(who, "POST", f"/v1/cases/{case['id']}/rulings", json=ruling).is_success
    public = svc.call("public", "GET", f"/v1/cases/{case['id']}").json()
    assert public["state"]["status"] == "ruled" and "accusation" not in public
    assert "Mortar fire" not in str(svc.call("public", "GET", "/v1/cases").json())


def test_a_party_the_commission_accuses_over_the_others_incident_reads_the_accusation(
    svc: Service,
) -> None:
    """A case the analysts open on an unpublished incident attributed to N, accusing S: S
    reads what it is accused of (it was shown only the case's id and summary before), placed
    to the kilometre, and counts of the support only what is not N's; never the incident's
    dossier. N, not a party to the case, sees no case."""
    inc = _pick(svc.db, attributed="N")
    assert inc["violations"]
    body = {"incident": inc["id"], "accused": "S", "summary": "Who fired from here?"}
    case = svc.call("analyst", "POST", "/v1/cases", json=body).json()
    got = svc.call("party_s", "GET", f"/v1/cases/{case['id']}").json()["accusation"]
    staff = svc.call("analyst", "GET", f"/v1/cases/{case['id']}").json()["accusation"]
    assert got["summary"] == "Who fired from here?"
    assert [c["id"] for c in got["clauses"]] == inc["violations"]
    assert (got["time_start"], got["weapon"]) == (staff["time_start"], staff["weapon"])
    assert got["place"] and got["place"].split(" km ")[0].isdigit()  # "2 km SSE of X"
    evidence = svc.call("analyst", "GET", f"/v1/incidents/{inc['id']}").json()["evidence"]
    not_ns = [e for e in evidence if e["observation"].get("party") not in ("N",)]
    assert got["evidence_count"] == len(not_ns)
    assert svc.call("party_s", "GET", f"/v1/incidents/{inc['id']}").status_code == 404
    assert svc.call("party_n", "GET", f"/v1/cases/{case['id']}").status_code == 404
    assert "Who fired" not in str(svc.call("public", "GET", "/v1/cases").json())
    # published, and past the disclosure delay: the accused still reads its accusation (not
    # the public's rounded view), and the count does not move with the review
    review = {"status": "verified", "published": True}
    assert svc.call("analyst", "PATCH", f"/v1/incidents/{inc['id']}", json=review).is_success
    svc.clock.now += 30 * DAY_US
    assert svc.call("public", "GET", f"/v1/incidents/{inc['id']}").status_code == 200
    after = svc.call("party_s", "GET", f"/v1/cases/{case['id']}").json()["accusation"]
    assert after == got


def test_a_party_cannot_read_the_others_incident_by_attaching_it_to_its_own_case(
    svc: Service,
) -> None:
    """A party files an allegation and opens a case on it with the other party's incident
    attached: its card shows no more of that incident than the party may see of it anyway
    (here, unpublished: nothing), however the case was made."""
    inc = _pick(svc.db, attributed="N")
    svc.call("party_s", "POST", "/v1/observations", json=[test_api._allegation("S", "N", 71)])
    ref = "party-S:a71"
    body = {"allegation": ref, "accused": "N", "summary": "Theirs."}
    opened = svc.call("party_s", "POST", "/v1/cases", json=body | {"incident": inc["id"]})
    assert opened.status_code == 404  # an incident it may not see, as if there were none
    # opened by the analysts on S's allegation, with N's incident: S is the filer, not the
    # accused, and reads the incident only as it may see it (unpublished: nothing)
    case = svc.call("analyst", "POST", "/v1/cases", json=body | {"incident": inc["id"]}).json()
    got = svc.call("party_s", "GET", f"/v1/cases/{case['id']}").json()["accusation"]
    assert (got["clauses"], got["time_start"], got["place"], got["evidence_count"]) == (
        [],
        None,
        None,
        None,
    )


def test_an_accusation_resting_only_on_the_others_allegations_does_not_describe_them(
    svc: Service,
) -> None:
    """An incident made of N's allegations alone, a case accusing S: its time and place
    would be the allegations', and a count of 0 would tell S that all the support is N's
    withheld allegations. S reads nothing of it (the card's summary only); with one sensor's
    detection beside them, the incident and a count of 1."""
    inc = _pick(svc.db, attributed="N")
    with SqliteStore(svc.db) as store:
        feature = store.incident(inc["id"])
    assert feature is not None
    s = Principal("party-S", "party:S")
    bodies = {
        "party-N:a1": ({"type": "allegation", "party": "N"}, 1),
        "party-N:a2": ({"type": "allegation", "party": "N"}, 2),
        "AS-1:p1": ({"type": "acoustic"}, 3),
    }

    def with_support(refs: list[str]) -> tuple[Any, Any, Any]:
        f = {**feature, "properties": {**feature["properties"], "observations": refs}}
        ctx = SimpleNamespace(
            store=SimpleNamespace(observation_bodies=lambda r: {k: bodies[k] for k in r}),
            settings=SimpleNamespace(disclosure=Disclosure()),
        )
        return _accused_view(ctx, s, f, None, 0)  # type: ignore[arg-type]

    assert with_support(["party-N:a1", "party-N:a2"]) == (None, None, None)
    seen, _, count = with_support(["party-N:a1", "party-N:a2", "AS-1:p1"])
    assert seen is not None and seen["violations"] == inc["violations"] and count == 1


def test_the_reply_window_closes_early_once_every_party_has_replied(svc: Service) -> None:
    inc = _pick(svc.db, attributed="S")
    case = svc.call(
        "analyst",
        "POST",
        "/v1/cases",
        json={"incident": inc["id"], "accused": "S", "reply_days": 7},
    ).json()["id"]
    close = f"/v1/cases/{case}/close-replies"
    ruling = {"decision": "violation", "responsible": "S", "clause": "C1", "remedy": "Stop."}
    # before the deadline, and before the party replied: no ruling, no early close
    res = svc.call("com_fr", "POST", f"/v1/cases/{case}/rulings", json=ruling)
    assert res.status_code == 409 and "rule after" in res.json()["detail"]
    res = svc.call("com_fr", "POST", close)
    assert res.status_code == 409 and "needs a reason" in res.json()["detail"]
    state = svc.call("com_fr", "GET", f"/v1/cases/{case}").json()["state"]
    assert state["all_replied"] is False and state["replies_closed_early"] is None
    assert svc.call("party_s", "POST", f"/v1/cases/{case}/replies", json={"text": "No."})
    # only a commissioner closes it; then rulings are taken before the deadline
    for role in ("analyst", "party_s", "public"):
        assert svc.call(role, "POST", close).status_code in (401, 403)
    res = svc.call("com_fr", "POST", close)
    assert res.status_code == 201, res.text
    state = res.json()["state"]
    assert state["status"] == "under_review" and not state["reply_open"]
    assert state["replies_closed_early"]["by"] == "com-fr"
    assert svc.call("com_fr", "POST", close).status_code == 409  # closed already
    late = svc.call("party_s", "POST", f"/v1/cases/{case}/replies", json={"text": "And..."})
    assert late.status_code == 409
    for who in ("com_fr", "com_de"):
        assert svc.call(who, "POST", f"/v1/cases/{case}/rulings", json=ruling).status_code == 201
    state = svc.call("party_s", "GET", f"/v1/cases/{case}").json()["state"]
    assert state["status"] == "ruled"
    # the party sees that the window was closed early, and by whom (it is in the log)
    kinds = [e["kind"] for e in svc.call("party_s", "GET", f"/v1/cases/{case}").json()["events"]]
    assert kinds == ["opened", "reply", "replies_closed"]  # (signatures are the commission's)


def test_the_commission_closes_the_window_by_decision_before_a_party_replies(
    svc: Service,
) -> None:
    inc = _pick(svc.db, attributed="S")
    case = svc.call(
        "analyst",
        "POST",
        "/v1/cases",
        json={"incident": inc["id"], "accused": "S", "reply_days": 7},
    ).json()["id"]
    close = f"/v1/cases/{case}/close-replies"
    why = {"reason": "The party's liaison has not answered three summonses."}
    res = svc.call("com_fr", "POST", close, json=why)
    assert res.status_code == 201, res.text
    state = res.json()["state"]
    assert state["reply_open"] and [c["member_state"] for c in state["close_signatures"]] == ["FR"]
    assert svc.call("com_fr", "POST", close, json=why).status_code == 409  # signed already
    # the party is told at once (a notice: it may still reply), and may prove the entry
    seen = svc.call("party_s", "GET", f"/v1/cases/{case}").json()
    assert [e["kind"] for e in seen["events"]] == ["opened", "close_signed"]
    assert [c["reason"] for c in seen["state"]["close_signatures"]] == [why["reason"]]
    assert seen["state"]["reply_open"] and seen["state"]["replies_closed_early"] is None
    # a reason must say something: blanks and invisible characters are none
    for blank in (" ", "\u200b\u2060\ufeff", "", "\u3164", "\u115f\uffa0"):
        res = svc.call("com_de", "POST", close, json={"reason": blank})
        assert res.status_code == 409 and "needs a reason" in res.json()["detail"]
    res = svc.call("com_de", "POST", close, json={"reason": "Agreed: three summonses."})
    assert res.status_code == 201, res.text
    state = res.json()["state"]
    assert not state["reply_open"] and state["status"] == "under_review"
    closed = state["replies_closed_early"]
    assert closed["by_decision"] and closed["signed_by_states"] == ["DE", "FR"]
    late = svc.call("party_s", "POST", f"/v1/cases/{case}/replies", json={"text": "Wait."})
    assert late.status_code == 409
    # the party is told the window closed, by which states and why
    answer = svc.call("party_s", "GET", f"/v1/cases/{case}").json()
    seen = answer["state"]
    assert seen["replies_closed_early"]["reasons"] == [why["reason"], "Agreed: three summonses."]
    assert [e["kind"] for e in answer["events"]] == ["opened", "close_signed", "close_signed"]
    ruling = {"decision": "violation", "responsible": "S", "clause": "C1", "remedy": "Stop."}
    for who in ("com_fr", "com_de"):
        assert svc.call(who, "POST", f"/v1/cases/{case}/rulings", json=ruling).status_code == 201
    assert svc.call("party_s", "GET", f"/v1/cases/{case}").json()["state"]["status"] == "ruled"


def test_a_case_on_an_allegation_waits_for_both_parties(svc: Service) -> None:
    """The accused and the filer are both parties of a case on an allegation: the window
    closes early only when both have replied."""
    allegation = test_api._allegation("N", "S", 71)
    assert svc.call("party_n", "POST", "/v1/observations", json=[allegation]).is_success
    case = svc.call(
        "party_n", "POST", "/v1/cases", json={"allegation": "party-N:a71", "accused": "S"}
    ).json()["id"]
    close = f"/v1/cases/{case}/close-replies"
    assert svc.call("party_s", "POST", f"/v1/cases/{case}/replies", json={"text": "No."})
    assert svc.call("com_de", "POST", close).status_code == 409
    assert svc.call("party_n", "POST", f"/v1/cases/{case}/replies", json={"text": "Yes."})
    assert svc.call("com_de", "POST", close).status_code == 201


def _file(name: str, media_type: str, data: bytes) -> dict[str, str]:
    import base64

    return {"name": name, "media_type": media_type, "data": base64.b64encode(data).decode()}


def test_a_party_attaches_files_to_its_reply_and_the_log_commits_to_them(svc: Service) -> None:
    import hashlib

    inc = _pick(svc.db, attributed="S")
    case = svc.call(
        "analyst",
        "POST",
        "/v1/cases",
        json={"incident": inc["id"], "accused": "S", "reply_days": 7},
    ).json()["id"]
    inventory = b"unit,weapon,position\n3rd bde,2S1,withdrawn 25 km\n"
    photo = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10
    files = [_file("inventory.csv", "text/csv", inventory), _file("depot.png", "image/png", photo)]
    body = {"text": "See the attached inventory.", "attachments": files}
    replies = f"/v1/cases/{case}/replies"
    # refused whole, nothing written: a type the page could run, bad base64, a path, too many
    for bad in (
        [_file("x.html", "text/html", b"<script>alert(1)</script>")],
        [{**files[0], "data": "not base64!"}],
        [{**files[0], "name": "../../etc/passwd"}],
        [{**files[0], "name": ".."}],
        [{**files[0], "name": "a\u202etxt.exe"}],  # a right-to-left override
        [{**files[0], "name": "a\x85b"}],
        [{**files[0], "name": "\u200b"}],
        [{**files[0], "name": ". . "}],
        [files[0], {**files[0], "name": "copy.csv"}],  # the same file twice
        [files[0]] * 6,
    ):
        res = svc.call("party_s", "POST", replies, json={"text": "x", "attachments": bad})
        assert res.status_code == 422, (bad[0]["name"], res.text)
    big = _file("big.csv", "text/csv", b"0" * (4 * 1024 * 1024 + 1))
    res = svc.call("party_s", "POST", replies, json={"text": "x", "attachments": [big]})
    assert res.status_code == 413
    assert [
        e["kind"] for e in svc.call("party_s", "GET", f"/v1/cases/{case}").json()["events"]
    ] == ["opened"]
    res = svc.call("party_s", "POST", replies, json=body)
    assert res.status_code == 201, res.text
    reply = res.json()["events"][-1]
    digests = [hashlib.sha256(b).hexdigest() for b in (inventory, photo)]
    assert [a["sha256"] for a in reply["attachments"]] == digests
    assert [a["size"] for a in reply["attachments"]] == [len(inventory), len(photo)]
    url = f"/v1/cases/{case}/attachments/{digests[0]}"
    for role in ("party_s", "analyst", "com_fr"):
        got = svc.call(role, "GET", url)
        assert got.status_code == 200 and got.content == inventory
        assert got.headers["content-disposition"].startswith("attachment;")
        assert got.headers["x-content-type-options"] == "nosniff"
    for role in ("party_n", "public"):  # the other party and the public: as if there were none
        assert svc.call(role, "GET", url).status_code == 404
    assert svc.call("party_s", "GET", f"/v1/cases/{case}/attachments/{'0' * 64}").status_code == 404
    # the log holds each file's description; the party may prove it, the other party not
    with SqliteStore(svc.db) as store:
        index = store.attachments_of(case, digests[1])[0]["log_index"]
    proof = svc.call("party_s", "GET", f"/v1/evidence/proof/{index}")
    assert proof.status_code == 200, proof.text
    assert digests[1] in proof.text
    assert svc.call("party_n", "GET", f"/v1/evidence/proof/{index}").status_code == 403


def test_a_case_follows_its_incident_to_the_next_run(svc: Service, tmp_path: Path) -> None:
    """N files an allegation that joins the incident S is accused over: the next run gives
    the incident a new id (ids hash the supporting observations). The card does not go
    blank: it reads the incident of the latest run sharing the most of the original's
    sensed observations, and says it was superseded, and by what (hole 16b)."""
    inc = _pick(svc.db, attributed="S")
    body = {"incident": inc["id"], "accused": "S", "summary": "Mortar fire on the line."}
    case = svc.call("analyst", "POST", "/v1/cases", json=body).json()
    before = {
        r: svc.call(r, "GET", f"/v1/cases/{case['id']}").json() for r in ("analyst", "party_s")
    }
    assert before["analyst"]["accusation"]["succession"] is None
    at = {"time": inc["time_start"], "position": (inc.get("impact") or inc["origin"])[:2]}
    blank = test_api._allegation("N", "S", 72) | at | {"radius_km": 0.3}
    assert svc.call("party_n", "POST", "/v1/observations", json=[blank]).is_success
    args = ["analyze", "--db", str(svc.db), "--agreement", str(svc.scenario / "agreement.yaml")]
    assert CliRunner().invoke(cli, [*args, "--out", str(tmp_path)]).exit_code == 0
    with SqliteStore(svc.db) as store:
        assert store.incident(inc["id"]) is None  # the id of the run the case was opened in
        now = max(
            (f["properties"] for f in store.incidents()),
            key=lambda p: len(set(p["observations"]) & set(inc["observations"])),
        )
    assert now["id"] != inc["id"] and "N" in now["alleged_by"]
    for role in ("analyst", "party_s"):
        got = svc.call(role, "GET", f"/v1/cases/{case['id']}").json()["accusation"]
        was = before[role]["accusation"]
        assert got["clauses"] == was["clauses"] and got["clauses"], role
        assert (got["time_start"], got["weapon"], got["place"]) == (
            was["time_start"],
            was["weapon"],
            was["place"],
        )
        followed = got["succession"]
        assert (followed["incident"], followed["superseded_by"]) == (inc["id"], now["id"])
        assert followed["shared"] == followed["of"] > 0 and followed["tied"] == 0
    # the case itself still names the incident it was opened on
    assert (
        svc.call("analyst", "GET", f"/v1/cases/{case['id']}").json()["state"]["incident"]
        == inc["id"]
    )
