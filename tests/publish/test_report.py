"""The daily report, rendered for a simulated day (HTML, Markdown, PDF)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from truceline.cli import app as cli
from truceline.store.sqlite import SqliteStore

runner = CliRunner()


@pytest.fixture(scope="module")
def day(stored_day: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("report")
    args = ["report", "--db", str(stored_day), "--date", "2026-03-01", "--out", str(out)]
    res = runner.invoke(cli, args)
    assert res.exit_code == 0, res.output
    return stored_day, out


def test_the_report_counts_what_the_run_found(day: tuple[Path, Path]) -> None:
    db, out = day
    summary = json.loads((out / "report-2026-03-01.json").read_text())
    with SqliteStore(db) as store:
        firm = [
            f["properties"]
            for f in store.incidents()
            if f["properties"]["violations"] and f["properties"]["confidence"] >= 0.5
        ]
        head = store.latest_head()
    assert head is not None and summary["tree_head"]["root_hash"] == head.root_hash
    assert summary["by_clause"]["C1"] == sum("C1" in p["violations"] for p in firm)
    assert sum(summary["by_party"].values()) == len(firm) == sum(summary["by_region"].values())
    assert summary["trend"][-1] == ["2026-03-01", len(firm)] and len(summary["trend"]) == 31
    assert summary["coverage"] and all("observed" in r for r in summary["coverage"])
    # the simulated day is 8 hours (arrivals spill into a ninth), and a sensor counts as up
    # for an hour after its last detection, not for the rest of the day
    assert 0 < max(r["hours_able_to_locate"] for r in summary["coverage"]) <= 10


def test_the_report_renders_in_every_format(day: tuple[Path, Path]) -> None:
    from weasyprint import HTML

    _, out = day
    page = (out / "report-2026-03-01.html").read_text()
    assert "tree size" in page and "data:image/png;base64," in page and "Coverage" in page
    md = (out / "report-2026-03-01.md").read_text()
    assert md.startswith("# Ceasefire monitoring") and "(map-2026-03-01.png)" in md
    pdf = (out / "report-2026-03-01.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    assert len(HTML(string=page).render().pages) >= 3


def test_bad_dates_and_formats_are_refused(day: tuple[Path, Path], tmp_path: Path) -> None:
    db, _ = day
    for args in (
        ["--date", "1 March"],
        ["--date", "2026-03-01", "--format", "docx"],
        ["--date", "2026-03-01", "--through", "2026-02-28"],
        ["--date", "2026-02-30"],
    ):
        res = runner.invoke(cli, ["report", "--db", str(db), "--out", str(tmp_path), *args])
        assert res.exit_code == 2


def test_a_period_gives_one_report_per_day_from_one_read(
    day: tuple[Path, Path], tmp_path: Path
) -> None:
    db, out = day
    args = ["report", "--db", str(db), "--date", "2026-02-28", "--through", "2026-03-01"]
    res = runner.invoke(cli, [*args, "--format", "html", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in tmp_path.glob("report-*.html")) == [
        "report-2026-02-28.html",
        "report-2026-03-01.html",
    ]
    before = json.loads((tmp_path / "report-2026-02-28.json").read_text())
    assert sum(before["by_party"].values()) == 0  # the simulated day starts on 1 March
    assert not any(r["observed"] for r in before["coverage"])  # and nothing reported before
    same = json.loads((tmp_path / "report-2026-03-01.json").read_text())
    alone = json.loads((out / "report-2026-03-01.json").read_text())
    assert same == alone


def test_counts_by_region_follow_the_region_layer(day: tuple[Path, Path], tmp_path: Path) -> None:
    db, _ = day
    with SqliteStore(db) as store:
        firm = [
            f
            for f in store.incidents()
            if f["properties"]["violations"] and f["properties"]["confidence"] >= 0.5
        ]
    lons = sorted(f["geometry"]["coordinates"][0] for f in firm if f.get("geometry"))
    cut = lons[len(lons) // 2]

    def box(name: str, west: float, east: float) -> dict[str, object]:
        ring = [[west, 40.0], [east, 40.0], [east, 60.0], [west, 60.0], [west, 40.0]]
        return {
            "type": "Feature",
            "properties": {"oblast": name},
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        }

    layer = tmp_path / "regions.geojson"
    # "West" overlaps "East" by a little: a point in both counts for the first region.
    regions = [box("West", 0.0, cut + 1e-9), box("East", cut - 0.5, 90.0)]
    layer.write_text(json.dumps({"type": "FeatureCollection", "features": regions}))
    args = ["report", "--db", str(db), "--date", "2026-03-01", "--format", "md"]
    res = runner.invoke(
        cli, [*args, "--out", str(tmp_path), "--regions", str(layer), "--region-name", "oblast"]
    )
    assert res.exit_code == 0, res.output
    by_region = json.loads((tmp_path / "report-2026-03-01.json").read_text())["by_region"]
    west = sum(1 for x in lons if x <= cut)
    unplaced = len(firm) - len(lons)
    assert by_region.pop("(not located)", 0) == unplaced
    assert by_region == {"East": len(lons) - west, "West": west}
