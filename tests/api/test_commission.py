"""The commission's workflow as its users work (issue 20): a case says what is alleged (to
the commission and to the case's parties, never to the public), and the reply window can be
closed early once every party has replied."""

from __future__ import annotations

from tests.api import test_api
from tests.api.test_api import Service, _pick

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


def test_an_allegations_case_shows_the_accused_only_the_summary(svc: Service) -> None:
    """A case on an incident attributed to N, opened against S: S may not see the incident
    (unpublished, not its own), so its card holds the summary and nothing of the incident."""
    inc = _pick(svc.db, attributed="N")
    body = {"incident": inc["id"], "accused": "S", "summary": "Who fired from here?"}
    case = svc.call("analyst", "POST", "/v1/cases", json=body).json()
    got = svc.call("party_s", "GET", f"/v1/cases/{case['id']}").json()["accusation"]
    assert got == {
        "summary": "Who fired from here?",
        "clauses": [],
        "time_start": None,
        "time_end": None,
        "place": None,
        "weapon": None,
        "evidence_count": None,
    }
