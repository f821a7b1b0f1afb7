from __future__ import annotations

from pathlib import Path

from truceline.publish.charts import reliability


def test_reliability_diagram_is_a_png(tmp_path: Path) -> None:
    bins = {
        "0.5-0.6": {"n": 40, "correct": 22},
        "0.7-0.8": {"n": 30, "correct": 23},
        "0.9-1.0": {"n": 500, "correct": 498},
    }
    out = reliability(bins, tmp_path / "r.png", "test")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
