"""The evidence log in the store: every write is logged and signed, an export verifies
offline, any tampering is caught, signed observations are checked, runs reproduce."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from tests.conftest import flights_day, store_day
from truceline.cli import app
from truceline.errors import InputErrors, StoreError
from truceline.evidence import (
    b64,
    canonical,
    check_inclusion_bundle,
    export_files,
    inclusion_bundle,
    observation_signed_bytes,
    public_bytes,
    sign_tree_head,
    verify_files,
)
from truceline.observations import parse_lines
from truceline.store.sqlite import SqliteStore

runner = CliRunner()


def _thermal(n: int, source: str = "firms") -> dict[str, object]:
    return {
        "id": f"t{n}",
        "type": "thermal",
        "source": source,
        "time": f"2026-03-01T00:{n % 60:02d}:00Z",
        "position": [36.0 + n / 1000, 48.0],
    }


def _lines(records: list[dict[str, object]]) -> list[str]:
    return [json.dumps(r) for r in records]


def _store_with_history(opener: Any, batches: int = 6, per_batch: int = 11) -> Any:
    store = opener()
    for b in range(batches):
        recs = [_thermal(b * per_batch + k) for k in range(per_batch)]
        store.add_observations(parse_lines(_lines(recs), f"batch{b}.jsonl"))
    return store


def test_every_batch_is_logged_under_a_new_signed_head(open_store: Any) -> None:
    with _store_with_history(open_store) as store:
        heads = store.tree_heads()
        assert [h.tree_size for h in heads] == [11, 23, 35, 47, 59, 71]
        assert store.tree().root().hex() == heads[-1].root_hash
        again = store.add_observations(parse_lines(_lines([_thermal(0)]), "again.jsonl"))
        assert again == (0, 1) and store.log_size() == 71 and len(store.tree_heads()) == 6
        files = export_files(store.entries(), store.tree_heads(), store.keys())
    res = verify_files(files)
    assert res.ok, res.problems
    assert res.tree_size == 71 and res.heads_checked == 6
    # the tree reloaded from the file is the same tree
    with open_store() as store:
        assert store.tree().root().hex() == heads[-1].root_hash
        assert store.tree().levels == _store_levels(store)


def _store_levels(store: Any) -> list[list[bytes]]:
    store._tree = None
    return store.tree().levels


def test_a_failed_batch_leaves_log_and_tree_unchanged(open_store: Any) -> None:
    with _store_with_history(open_store, batches=1) as store:
        root = store.tree().root()
        changed = dict(_thermal(3), position=[36.5, 48.0])
        with pytest.raises(InputErrors):
            store.add_observations(parse_lines(_lines([_thermal(100), changed]), "bad.jsonl"))
        assert store.tree().root() == root and store.log_size() == 11


def test_a_missing_log_key_is_never_silently_replaced(open_store: Any, tmp_path: Path) -> None:
    _store_with_history(open_store, batches=1).close()
    (tmp_path / "t.key").unlink()
    with open_store() as store, pytest.raises(StoreError, match="missing"):
        store.add_observations(parse_lines(_lines([_thermal(500)]), "x.jsonl"))


MUTATIONS = 10_000


def test_every_tampering_of_an_exported_log_is_detected(tmp_path: Path) -> None:
    """10,000 random mutations of an exported log (bit flips anywhere in the entries,
    deleted, reordered, duplicated, inserted or truncated entries, a rewritten or dropped
    past tree head, a forged signed tree head): the offline verifier detects every one."""
    opener = lambda: SqliteStore(tmp_path / "t.db")  # noqa: E731
    with _store_with_history(opener, batches=6, per_batch=11) as store:
        files = export_files(store.entries(), store.tree_heads(), store.keys())
    assert verify_files(files).ok
    forger = Ed25519PrivateKey.generate()
    rng = random.Random(20261125)
    kinds: dict[str, int] = {}
    undetected = []
    for _ in range(MUTATIONS):
        kind, mutated = _mutate(rng, files, forger)
        kinds[kind] = kinds.get(kind, 0) + 1
        if mutated == files:
            continue  # a no-op mutation (e.g. swapping two identical lines) is not tampering
        if verify_files(mutated, thorough=False).ok:
            undetected.append(kind)
    assert not undetected
    assert len(kinds) == 9 and min(kinds.values()) > 800


def _mutate(
    rng: random.Random, files: dict[str, bytes], forger: Ed25519PrivateKey
) -> tuple[str, dict[str, bytes]]:
    out = dict(files)
    lines = files["entries.jsonl"].split(b"\n")[:-1]
    heads = files["tree_heads.jsonl"].split(b"\n")[:-1]
    kind = rng.choice(
        [
            "bit flip",
            "delete entry",
            "reorder entries",
            "duplicate entry",
            "insert entry",
            "truncate",
            "rewrite past head",
            "drop past head",
            "forged sth",
        ]
    )
    if kind == "bit flip":
        blob = bytearray(files["entries.jsonl"])
        i = rng.randrange(len(blob))
        blob[i] ^= 1 << rng.randrange(8)
        out["entries.jsonl"] = bytes(blob)
    elif kind == "delete entry":
        del lines[rng.randrange(len(lines))]
    elif kind == "reorder entries":
        i, j = rng.sample(range(len(lines)), 2)
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == "duplicate entry":
        i = rng.randrange(len(lines))
        lines.insert(rng.randrange(len(lines) + 1), lines[i])
    elif kind == "insert entry":
        fake = canonical({"kind": "observation", "observation": _thermal(rng.randrange(10**6))})
        lines.insert(rng.randrange(len(lines) + 1), fake)
    elif kind == "truncate":
        blob = files["entries.jsonl"]
        out["entries.jsonl"] = blob[: rng.randrange(len(blob))]
    elif kind in ("rewrite past head", "drop past head"):
        k = rng.randrange(len(heads) - 1)
        if kind == "drop past head":
            del heads[k]
        else:
            head = json.loads(heads[k])
            field = rng.choice(["tree_size", "root_hash", "timestamp", "resign"])
            if field == "tree_size":
                head["tree_size"] += rng.choice([-1, 1])
            elif field == "root_hash":
                head["root_hash"] = bytes(rng.randrange(256) for _ in range(32)).hex()
            elif field == "timestamp":
                head["timestamp"] = "2026-01-01T00:00:00Z"
            else:  # a consistent-looking head signed by someone else
                forged = sign_tree_head(
                    forger, head["tree_size"], bytes.fromhex(head["root_hash"]), head["timestamp"]
                )
                head = forged.as_dict()
            heads[k] = canonical(head)
        out["tree_heads.jsonl"] = b"".join(h + b"\n" for h in heads)
    else:  # a new head over rewritten entries, signed with a key that is not the log's
        del lines[rng.randrange(len(lines))]
        from truceline.evidence import root_of

        forged = sign_tree_head(forger, len(lines), root_of(lines), "2026-12-01T00:00:00Z")
        out["sth.json"] = json.dumps(forged.as_dict()).encode()
    if kind in ("delete entry", "reorder entries", "duplicate entry", "insert entry", "forged sth"):
        out["entries.jsonl"] = b"".join(e + b"\n" for e in lines)
    return kind, out


def test_signed_observations(open_store: Any) -> None:
    key = Ed25519PrivateKey.generate()
    good = dict(_thermal(1, source="sat-1"))
    good["signature"] = b64(key.sign(observation_signed_bytes(good)))
    forged = dict(_thermal(2, source="sat-1"))
    forged["signature"] = b64(Ed25519PrivateKey.generate().sign(observation_signed_bytes(forged)))
    with open_store() as store:
        with pytest.raises(InputErrors, match="no key is registered for sat-1"):
            store.add_observations(parse_lines(_lines([good]), "a.jsonl"))
        kid = store.register_key("sat-1", "sensor", public_bytes(key.public_key()))
        assert store.add_observations(parse_lines(_lines([good]), "a.jsonl")) == (1, 0)
        with pytest.raises(InputErrors) as exc:
            store.add_observations(parse_lines(_lines([forged]), "b.jsonl"))
        assert str(exc.value).startswith("b.jsonl:1: signature: does not verify")
        # tampering after signing is a bad signature too
        altered = dict(good, id="t9", time="2026-03-01T01:00:00Z")
        with pytest.raises(InputErrors, match="does not verify"):
            store.add_observations(parse_lines(_lines([altered]), "c.jsonl"))
        store.set_signature_policy("thermal", True)
        with pytest.raises(InputErrors, match="policy requires signed thermal"):
            store.add_observations(parse_lines(_lines([_thermal(3)]), "d.jsonl"))
        assert store.add_observations(parse_lines(_lines([good]), "a.jsonl")) == (0, 1)
        files = export_files(store.entries(), store.tree_heads(), store.keys())
    res = verify_files(files)
    assert res.ok and res.signed_observations == 1
    assert kid in json.loads(files["keys.json"])


def test_inclusion_proofs_of_the_store_check_with_the_public_key(open_store: Any) -> None:
    with _store_with_history(open_store) as store:
        head = store.latest_head()
        assert head is not None
        log_key = store.keys()[head.key_id]
        for index in (0, 17, 65):
            bundle = inclusion_bundle(store.tree(), index, store.entry(index), head)
            assert check_inclusion_bundle(bundle, log_key)
            assert len(bundle["inclusion_path"]) <= 7
            bundle["entry"] = bundle["entry"].replace("firms", "fake!")
            assert not check_inclusion_bundle(bundle, log_key)


def test_reproduce_a_simulated_day_from_the_log(scenario: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    obs = str(scenario / "observations.jsonl")
    ag = str(scenario / "agreement.yaml")
    assert runner.invoke(app, ["ingest", "--db", db, obs]).exit_code == 0
    # with a prior and a label error of its own: the run records them, and reproduce uses them
    res = runner.invoke(
        app,
        [
            "analyze",
            "--db",
            db,
            "--agreement",
            ag,
            "--out",
            str(tmp_path / "a"),
            "--standoff-m",
            "400",
            "--label-error",
            "0.1",
        ],
    )
    assert res.exit_code == 0, res.output
    logged = json.loads((tmp_path / "a" / "summary.json").read_text())["parameters"]
    assert (
        logged["attribution"]["standoff_m"] == 400 and logged["attribution"]["label_error"] == 0.1
    )
    res = runner.invoke(app, ["reproduce", "1", "--db", db, "--out", str(tmp_path / "b")])
    assert res.exit_code == 0, res.output
    assert "reproduced run 1" in res.output
    for name in ("incidents.geojson", "summary.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    ingested = summary["inputs"]["observations"]
    assert summary["evidence"]["tree_size"] == ingested  # the head the run read at

    res = runner.invoke(app, ["log", "consistency", str(ingested), "--db", db])
    assert res.exit_code == 0, res.output
    proof = json.loads(res.output)
    assert proof["first"]["tree_size"] == ingested and proof["consistency_path"]

    res = runner.invoke(app, ["log", "export", "--db", db, "--out", str(tmp_path / "exp")])
    assert res.exit_code == 0, res.output
    keys = json.loads((tmp_path / "exp" / "keys.json").read_text())
    sth = json.loads((tmp_path / "exp" / "sth.json").read_text())
    res = runner.invoke(
        app, ["log", "verify", str(tmp_path / "exp"), "--log-key", keys[sth["key_id"]]]
    )
    assert res.exit_code == 0 and "verified" in res.output
    first = json.loads((scenario / "observations.jsonl").read_text().splitlines()[0])
    res = runner.invoke(app, ["log", "prove", f"{first['source']}:{first['id']}", "--db", db])
    assert res.exit_code == 0, res.output
    (tmp_path / "proof.json").write_text(res.output)
    res = runner.invoke(
        app, ["log", "check-proof", str(tmp_path / "proof.json"), "--log-key", keys[sth["key_id"]]]
    )
    assert res.exit_code == 0 and "verified" in res.output
    entries = tmp_path / "exp" / "entries.jsonl"
    entries.write_bytes(entries.read_bytes().replace(b'"N"', b'"S"', 1))
    res = runner.invoke(app, ["log", "verify", str(tmp_path / "exp"), "--unpinned"])
    assert res.exit_code == 1 and "FAILED" in res.output and "UNPINNED" in res.output
    # without a trusted key the verifier does not run at all
    res = runner.invoke(app, ["log", "verify", str(tmp_path / "exp")])
    assert res.exit_code == 2 and "--log-key" in res.output


def test_two_processes_appending_to_one_log_stay_consistent(open_store: Any) -> None:
    """The service and a CLI command (or two workers) share the store file: each sees the
    other's appends before its own, so the tree and the signed heads stay one log."""
    a = open_store()
    a.add_observations(parse_lines(_lines([_thermal(1)]), "a.jsonl"))
    b = open_store()
    b.add_observations(parse_lines(_lines([_thermal(2)]), "b.jsonl"))
    a.add_observations(parse_lines(_lines([_thermal(3)]), "c.jsonl"))
    b.create_token("analyst", "x")
    for store in (a, b):
        head = store.latest_head()
        assert head is not None and store.tree().root().hex() == head.root_hash
        bundle = inclusion_bundle(store.tree(), 0, store.entry(0), head)
        assert check_inclusion_bundle(bundle, store.keys()[head.key_id])
    files = export_files(a.entries(), a.tree_heads(), a.keys())
    assert verify_files(files).ok
    a.close()
    b.close()


def test_a_writer_that_loses_the_race_writes_nothing_twice(open_store: Any) -> None:
    """Two writers send the same batch at once: what is new is decided again under the write
    lock, so the loser stores nothing, logs nothing and raises nothing."""
    a, b = open_store(), open_store()
    batch = parse_lines(_lines([_thermal(1), _thermal(2)]), "x.jsonl")
    original = a._check_signatures
    calls = [0]

    def meanwhile(rows: Any) -> Any:
        calls[0] += 1
        if calls[0] == 1:  # after a's first look, before it takes the lock
            assert b.add_observations(batch) == (2, 0)
        return original(rows)

    a._check_signatures = meanwhile
    assert a.add_observations(batch) == (0, 2)
    assert a.count_observations() == 2 and a.log_size() == 2
    a.close()
    b.close()


def test_a_day_of_tracked_flights_reproduces_byte_for_byte(tmp_path: Path) -> None:
    """Tracked flights carry type probabilities whose order comes from the air types'
    parameters; the log's canonical JSON sorts keys, and reproduce must restore the
    parameters in their own order, not the log's."""
    db = str(store_day(flights_day(tmp_path / "day", hours=1), tmp_path / "t.db", tmp_path / "a"))
    text = (tmp_path / "a" / "incidents.geojson").read_text()
    assert '"types"' in text  # the day has tracked flights
    res = runner.invoke(app, ["reproduce", "1", "--db", db, "--out", str(tmp_path / "b")])
    assert res.exit_code == 0 and "incidents identical" in res.output, res.output
    for name in ("incidents.geojson", "summary.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
