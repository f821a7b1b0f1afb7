from __future__ import annotations

import json
from pathlib import Path

import pytest

from truceline.errors import InputError, InputErrors
from truceline.observations import check_parties, parse_lines
from truceline.sources import read_observations

GOOD = {
    "acoustic": {
        "id": "a1",
        "type": "acoustic",
        "source": "AS-1",
        "time": "2026-03-01T12:00:00.25Z",
        "sensor": "AS-1",
        "position": [36.1, 48.2, 120.0],
        "class": "impact",
        "sigma_s": 0.02,
        "temperature_c": 4.5,
    },
    "patrol": {
        "id": "p1",
        "type": "patrol",
        "source": "smm",
        "time": "2026-03-01T12:00:00Z",
        "time_end": "2026-03-01T12:10:00Z",
        "observer": [36.1, 48.2],
        "event": "explosion",
        "count": 12,
        "bearing_deg": 135.0,
        "bearing_sigma_deg": 15.0,
        "distance_km": [3, 5],
    },
    "thermal": {
        "id": "t1",
        "type": "thermal",
        "source": "firms",
        "time": "2026-03-01T00:30:00Z",
        "position": [36.1, 48.2],
        "frp_mw": 12.5,
        "confidence": "h",
        "satellite": "N20",
        "instrument": "VIIRS",
        "scan_km": 0.39,
        "track_km": 0.36,
    },
    "uav": {
        "id": "u1",
        "type": "uav",
        "source": "uav-ops",
        "time": "2026-03-01T09:00:00Z",
        "position": [36.1, 48.2],
        "position_sigma_m": 25.0,
        "object": "mlrs",
        "count": 2,
    },
    "allegation": {
        "id": "al1",
        "type": "allegation",
        "source": "party-N",
        "time": "2026-03-01T09:00:00Z",
        "party": "N",
        "accused": "S",
        "position": [36.1, 48.2],
        "radius_km": 3.0,
        "event": "explosion",
        "description": "Shelling of a village.",
    },
}


def lines(*records: dict) -> list[str]:
    return [json.dumps(r) for r in records]


@pytest.mark.parametrize("kind", sorted(GOOD))
def test_every_type_parses(kind: str) -> None:
    batch = parse_lines(lines(GOOD[kind]), "x.jsonl")
    assert len(batch) == 1 and batch.observations[0].type == kind


def test_unknown_fields_are_kept() -> None:
    rec = dict(GOOD["uav"], camera="EO/IR", mission={"id": 7})
    obs = parse_lines(lines(rec), "x.jsonl").observations[0]
    assert obs.raw["camera"] == "EO/IR" and obs.raw["mission"] == {"id": 7}
    assert json.loads(obs.body)["mission"] == {"id": 7}


def _error(records: list[str]) -> InputError:
    with pytest.raises(InputErrors) as info:
        parse_lines(records, "obs.jsonl")
    return info.value.errors[0]


@pytest.mark.parametrize(
    ("kind", "change", "field", "words"),
    [
        ("acoustic", {"sigma_s": None}, "sigma_s", ""),
        ("acoustic", {"sigma_s": "fast"}, "sigma_s", "number"),
        ("acoustic", {"position": [36.1, 133.0, 10]}, "position", "latitude 133"),
        ("thermal", {"position": [236.1, 48.0]}, "position", "longitude 236"),
        ("acoustic", {"time": "2026-03-01 noon"}, "time", "RFC 3339"),
        ("acoustic", {"class": "bang"}, "class", ""),
        ("patrol", {"count": 0}, "count", ""),
        ("patrol", {"bearing_deg": 360.0}, "bearing_deg", ""),
        ("patrol", {"distance_km": [5, 3]}, "distance_km", "min <= max"),
        ("patrol", {"time_end": "2026-03-01T11:00:00Z"}, "time_end", "before time"),
        ("allegation", {"event": None}, "event", "an event or an object"),
        ("uav", {"object": "howitzer"}, "object", ""),
        ("allegation", {"accused": "N"}, "accused", "itself"),
        ("acoustic", {"type": "sonar"}, "type", "one of"),
    ],
)
def test_bad_fields_are_named(kind: str, change: dict, field: str, words: str) -> None:
    rec = dict(GOOD[kind])
    for k, v in change.items():
        if v is None:
            rec.pop(k)
        else:
            rec[k] = v
    err = _error([json.dumps(GOOD["thermal"]), json.dumps(rec)])
    assert err.file == "obs.jsonl" and err.line == 2
    if field:
        assert err.field == field
    assert words in str(err)
    assert str(err).startswith(f"obs.jsonl:2: {field}" if field else "obs.jsonl:2:")


def test_missing_field_message() -> None:
    rec = dict(GOOD["uav"])
    rec.pop("position")
    err = _error(lines(rec))
    assert str(err) == "obs.jsonl:1: position: required field is missing"


def test_truncated_line() -> None:
    text = json.dumps(GOOD["uav"])
    err = _error([text, text[:40]])
    assert err.line == 2 and "not valid JSON" in str(err)


def test_all_errors_of_a_batch_are_reported() -> None:
    bad = dict(GOOD["uav"], count=-1)
    with pytest.raises(InputErrors) as info:
        parse_lines(lines(bad, GOOD["thermal"], dict(bad, id="u2")), "x.jsonl")
    assert [e.line for e in info.value.errors] == [1, 3]


def test_duplicates_identical_are_dropped_conflicts_rejected() -> None:
    batch = parse_lines(lines(GOOD["uav"], GOOD["uav"]), "x.jsonl")
    assert len(batch) == 1 and batch.duplicates == 1
    changed = dict(GOOD["uav"], count=3)
    err = _error(lines(GOOD["uav"], changed))
    assert err.line == 2 and err.field == "id" and "different content" in str(err)


def test_wrong_party_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text("\n".join(lines(GOOD["thermal"], dict(GOOD["allegation"], accused="XX"))))
    batch = read_observations([path])
    with pytest.raises(InputErrors) as info:
        check_parties(batch.observations, ["N", "S"])
    assert str(info.value).startswith(f"{path}:2: accused: unknown party 'XX'")


def test_read_many_files_reports_all(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text(json.dumps(dict(GOOD["uav"], count="x")) + "\n")
    b.write_text(json.dumps(dict(GOOD["thermal"], frp_mw=-1)) + "\n")
    with pytest.raises(InputErrors) as info:
        read_observations([a, b])
    assert {e.file for e in info.value.errors} == {str(a), str(b)}
    with pytest.raises(InputError, match="no such file"):
        read_observations([tmp_path / "missing.jsonl"])
