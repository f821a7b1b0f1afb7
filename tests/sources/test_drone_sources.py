"""The drone sources of FORMATS §2 (``drone_acoustic``, ``radar``, ``rf``): read, rejected
with file, line and field, idempotent by (source, id), and logged like every source."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from truceline.errors import InputErrors
from truceline.observations import DroneAcoustic, Radar, Rf, parse_lines
from truceline.sources import read_observations
from truceline.store.sqlite import SqliteStore

GOOD = {
    "drone_acoustic": {
        "id": "da1",
        "type": "drone_acoustic",
        "source": "sky-ears",
        "time": "2026-03-01T12:00:00.125Z",
        "time_end": "2026-03-01T12:00:40Z",
        "sensor": "DA-7",
        "position": [36.1, 48.2, 140.0],
        "bearing_deg": 212.5,
        "bearing_sigma_deg": 6.0,
        "f0_hz": 118.0,
        "snr_db": 9.5,
    },
    "radar": {
        "id": "r1",
        "type": "radar",
        "source": "radar-north",
        "time": "2026-03-01T12:00:03Z",
        "sensor": "RDR-1",
        "position": [36.12, 48.25],
        "alt_m": 450.0,
        "position_sigma_m": 60.0,
        "velocity_ms": [-20.5, 11.0],
        "rcs_dbsm": -12.0,
    },
    "rf": {
        "id": "f1",
        "type": "rf",
        "source": "rf-net",
        "time": "2026-03-01T12:00:05Z",
        "sensor": "RF-3",
        "position": [36.0, 48.1],
        "bearing_deg": 45.0,
        "bearing_sigma_deg": 3.0,
        "band_mhz": 5800.0,
        "protocol": "analog-video",
    },
}
MODELS = {"drone_acoustic": DroneAcoustic, "radar": Radar, "rf": Rf}


def _lines(*records: dict) -> list[str]:
    return [json.dumps(r) for r in records]


@pytest.mark.parametrize("kind", sorted(GOOD))
def test_each_drone_source_parses_to_its_model(kind: str) -> None:
    (obs,) = parse_lines(_lines(GOOD[kind]), "d.jsonl").observations
    assert isinstance(obs.model, MODELS[kind]) and obs.type == kind
    assert obs.raw == GOOD[kind]


def test_optional_fields_may_be_left_out() -> None:
    bare = {
        k: v
        for k, v in GOOD["drone_acoustic"].items()
        if k not in ("bearing_deg", "bearing_sigma_deg", "f0_hz", "snr_db")
    }
    radar = {k: v for k, v in GOOD["radar"].items() if k not in ("velocity_ms", "rcs_dbsm")}
    rf = {k: v for k, v in GOOD["rf"].items() if k != "protocol"}
    batch = parse_lines(_lines(bare, radar, rf), "d.jsonl")
    assert len(batch) == 3
    m = next(o.model for o in batch.observations if isinstance(o.model, DroneAcoustic))
    assert m.bearing_deg is None and m.time_end is not None and m.time_end > m.time


@pytest.mark.parametrize(
    ("kind", "change", "field", "words"),
    [
        ("drone_acoustic", {"time_end": None}, "time_end", "missing"),
        ("drone_acoustic", {"time_end": "2026-03-01T11:00:00Z"}, "time_end", "before time"),
        ("drone_acoustic", {"bearing_sigma_deg": None}, "bearing_sigma_deg", "both"),
        ("drone_acoustic", {"bearing_deg": None}, "bearing_deg", "both"),
        ("drone_acoustic", {"position": [36.1, 98.0, 1.0]}, "position", "latitude 98"),
        ("drone_acoustic", {"f0_hz": -5.0}, "f0_hz", ""),
        ("radar", {"alt_m": None}, "alt_m", "missing"),
        ("radar", {"alt_m": "high"}, "alt_m", "number"),
        ("radar", {"position_sigma_m": 0.0}, "position_sigma_m", ""),
        ("radar", {"velocity_ms": [1.0]}, "velocity_ms", ""),
        ("radar", {"sensor": None}, "sensor", "missing"),
        ("rf", {"bearing_deg": 360.0}, "bearing_deg", ""),
        ("rf", {"bearing_sigma_deg": None}, "bearing_sigma_deg", "missing"),
        ("rf", {"band_mhz": 0}, "band_mhz", ""),
        ("rf", {"position": [200.0, 48.0]}, "position", "longitude 200"),
    ],
)
def test_bad_fields_name_file_line_and_field(
    kind: str, change: dict, field: str, words: str
) -> None:
    rec = dict(GOOD[kind])
    for k, v in change.items():
        if v is None:
            rec.pop(k)
        else:
            rec[k] = v
    with pytest.raises(InputErrors) as info:
        parse_lines(_lines(GOOD["rf"], rec), "d.jsonl")
    (err,) = info.value.errors
    assert (err.file, err.line, err.field) == ("d.jsonl", 2, field)
    assert str(err).startswith(f"d.jsonl:2: {field}: ") and words in str(err)


def test_a_batch_with_one_bad_line_gives_nothing(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    good.write_text("\n".join(_lines(*GOOD.values())) + "\n")
    bad.write_text("\n".join(_lines(GOOD["radar"], dict(GOOD["rf"], id="f2", band_mhz="x"))))
    assert len(read_observations([good])) == 3
    with pytest.raises(InputErrors) as info:
        read_observations([good, bad])
    assert [(e.file, e.line, e.field) for e in info.value.errors] == [(str(bad), 2, "band_mhz")]


def test_repeats_are_one_observation_and_changed_repeats_refused() -> None:
    batch = parse_lines(_lines(GOOD["radar"], GOOD["radar"]), "d.jsonl")
    assert len(batch) == 1 and batch.duplicates == 1
    with pytest.raises(InputErrors, match="different content"):
        parse_lines(_lines(GOOD["radar"], dict(GOOD["radar"], alt_m=460.0)), "d.jsonl")


def test_drone_sources_enter_the_evidence_log_once(tmp_path: Path) -> None:
    batch = parse_lines(_lines(*GOOD.values()), "d.jsonl")
    with SqliteStore(tmp_path / "t.db") as store:
        assert store.add_observations(batch) == (3, 0)
        size = store.log_size()
        assert size >= 3
    with SqliteStore(tmp_path / "t.db") as store:
        assert store.add_observations(batch) == (0, 3)
        assert store.log_size() == size
        back = sorted(store.iter_observations(), key=lambda o: o.type)
    assert [o.raw for o in back] == [GOOD[k] for k in sorted(GOOD)]
