"""Proofs for everyone (issue 20): inclusion proofs by index or by ``SOURCE:ID`` (as
``truceline log prove`` takes them), named alike by the CLI and the API, and a published
incident's dossier listing the log entries it rests on, each with its proof, for each
audience only what :mod:`truceline.access` lets it prove."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.api import test_api
from tests.api.test_api import Service, _pick
from truceline.cli import app as cli
from truceline.evidence import check_inclusion_bundle, unb64
from truceline.store.sqlite import SqliteStore

DAY_US = 86_400_000_000
prepared = test_api.prepared  # the service's fixtures, shared
svc = test_api.svc


def _first_observation(db: Path) -> tuple[str, int]:
    with SqliteStore(db) as store:
        source, ident, index = store._x(
            "SELECT source, id, log_index FROM observations ORDER BY log_index LIMIT 1"
        ).fetchone()
    return f"{source}:{ident}", int(index)


def test_a_proof_by_source_and_id_is_the_proof_by_index(svc: Service, tmp_path: Path) -> None:
    ref, index = _first_observation(svc.db)
    by_name = svc.call("analyst", "GET", f"/v1/evidence/proof/{ref}")
    by_index = svc.call("analyst", "GET", f"/v1/evidence/proof/{index}")
    assert by_name.status_code == by_index.status_code == 200, by_name.text
    assert by_name.json() == by_index.json()
    bundle = by_name.json()
    size = bundle["sth"]["tree_size"]
    assert bundle["names"] == {
        "entry": f"entry {index} (observation {ref})",
        "tree_head": f"signed tree head of size {size} (root {bundle['sth']['root_hash'][:12]}…)",
    }
    # the CLI's proof of the same name is the same bundle, and its check names what it checked
    res = CliRunner().invoke(cli, ["log", "prove", ref, "--db", str(svc.db)])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output) == bundle
    (tmp_path / "proof.json").write_text(res.output)
    key = svc.call("public", "GET", f"/v1/evidence/keys/{bundle['sth']['key_id']}").json()
    res = CliRunner().invoke(
        cli, ["log", "check-proof", str(tmp_path / "proof.json"), "--log-key", key["public_key"]]
    )
    assert res.exit_code == 0, res.output
    assert (
        f"verified: entry {index} (observation {ref}) is in the log at the signed tree head "
        f"of size {size}" in " ".join(res.output.split())
    )
    # who may not prove an observation is not told whether it exists
    missing = svc.call("public", "GET", "/v1/evidence/proof/nobody:nothing")
    hidden = svc.call("public", "GET", f"/v1/evidence/proof/{ref}")
    assert missing.status_code == hidden.status_code == 404
    assert hidden.json()["detail"] == f"no observation {ref} under the signed tree head"
    assert svc.call("analyst", "GET", "/v1/evidence/proof/nocolon").status_code == 422


def _publish(svc: Service, ident: str) -> None:
    res = svc.call(
        "analyst", "PATCH", f"/v1/incidents/{ident}", json={"status": "verified", "published": True}
    )
    assert res.status_code == 200, res.text


def _ruled_case(svc: Service, ident: str, accused: str) -> int:
    case = svc.call(
        "analyst",
        "POST",
        "/v1/cases",
        json={"incident": ident, "accused": accused, "reply_days": 3},
    ).json()["id"]
    reply = {"text": "SECRET-REPLY the position was abandoned"}
    assert svc.call(f"party_{accused.lower()}", "POST", f"/v1/cases/{case}/replies", json=reply)
    svc.clock.now += 4 * DAY_US
    ruling = {"decision": "violation", "responsible": accused, "clause": "C1", "remedy": "Stop."}
    for who in ("com_fr", "com_de"):
        res = svc.call(who, "POST", f"/v1/cases/{case}/rulings", json=ruling)
        assert res.status_code == 201, res.text
    return int(case)


def test_a_published_dossier_lists_its_log_entries_with_proofs(svc: Service) -> None:
    inc = _pick(svc.db, attributed="S")
    ident = inc["id"]
    # unpublished: the public does not see it, nor any proof of its review
    assert svc.call("public", "GET", f"/v1/incidents/{ident}").status_code == 404
    _publish(svc, ident)
    case = _ruled_case(svc, ident, "S")
    public = svc.call("public", "GET", f"/v1/incidents/{ident}").json()
    entries = public["log_entries"]
    assert [e["supports"] for e in entries] == ["run", "review", "case_event", "case_event"]
    key = unb64(
        svc.call(
            "public", "GET", f"/v1/evidence/keys/{entries[0]['proof']['sth']['key_id']}"
        ).json()["public_key"]
    )
    for e in entries:
        assert check_inclusion_bundle(e["proof"], key)
        again = svc.call("public", "GET", e["proof_url"])  # the link the page shows
        assert again.status_code == 200 and again.json() == e["proof"]
        assert e["name"] == e["proof"]["names"]["entry"]
    assert entries[1]["name"].endswith(f"(review of incident {ident}: verified, published)")
    # the public is shown the ruling's signatures, not the case's opening or the reply
    assert [e["name"].split(": ")[-1] for e in entries[2:]] == ["ruling)", "ruling)"]
    assert all(f"case {case}" in e["name"] for e in entries[2:])
    # the accused party sees its case's whole history, its reply among it
    party = svc.call("party_s", "GET", f"/v1/incidents/{ident}").json()["log_entries"]
    kinds = [e["name"].split(": ")[-1] for e in party if e["supports"] == "case_event"]
    assert kinds == ["opened)", "reply)", "ruling)", "ruling)"]
    staff = svc.call("analyst", "GET", f"/v1/incidents/{ident}").json()["log_entries"]
    assert len(staff) == len(party)


def test_the_public_dossier_leaks_nothing_access_withholds(svc: Service) -> None:
    """Everything in the public's answer: the fields :data:`PUBLIC_FIELDS` allows (coarsened),
    proofs only of entries the public may prove, and nothing of the observations, the
    case's reply or the parties' drafts."""
    inc = _pick(svc.db, attributed="N")
    ident = inc["id"]
    _publish(svc, ident)
    case = _ruled_case(svc, ident, "N")
    staff = svc.call("analyst", "GET", f"/v1/incidents/{ident}").json()
    public = svc.call("public", "GET", f"/v1/incidents/{ident}").json()
    assert public["evidence"] == []
    text = json.dumps(public)
    assert "SECRET-REPLY" not in text
    for ref in inc.get("observations") or []:
        assert ref not in text  # no observation named, by reference or in an entry
    for e in staff["evidence"]:
        assert json.dumps(e["observation"]["id"]) not in text
    # the exact positions are not in it (the coarsened ones are)
    for point in (inc.get("origin"), inc.get("impact")):
        if point:
            assert f"{point[0]}" not in text and f"{point[1]}" not in text
    # every entry's kind is one the public may prove, and each proof is served to it
    for e in public["log_entries"]:
        entry = json.loads(e["proof"]["entry"])
        assert entry["kind"] in ("run", "incident_review", "case_event")
        if entry["kind"] == "case_event":
            assert entry["event"]["kind"] == "ruling" and entry["case"] == case
        assert svc.call("public", "GET", e["proof_url"]).status_code == 200
    hidden = {e["index"] for e in staff["log_entries"]} - {
        e["index"] for e in public["log_entries"]
    }
    assert len(hidden) == 2  # the opening and the reply
    for index in hidden:
        assert svc.call("public", "GET", f"/v1/evidence/proof/{index}").status_code == 403
