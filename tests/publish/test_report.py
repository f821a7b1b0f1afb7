"""The daily report, rendered for a simulated day (HTML, Markdown, PDF) in three languages,
and a test for each way the report used to say more, or less, than its figures."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.conftest import copy_store
from tests.tracking.test_flights import _observations, _truth
from truceline._time import parse_time
from truceline.analysis import analyze
from truceline.cli import app as cli
from truceline.i18n import language
from truceline.incidents import to_feature
from truceline.labels import label
from truceline.publish.day_coverage import day_coverage
from truceline.publish.document import flights_section
from truceline.publish.report import build_report, trend_means
from truceline.publish.summary import coverage_headline
from truceline.simulate.scenario import demo_agreement
from truceline.store.sqlite import SqliteStore

runner = CliRunner()
DAY = "2026-03-01"


@pytest.fixture(scope="module")
def day(stored_day: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("report")
    args = ["report", "--db", str(stored_day), "--date", DAY, "--out", str(out)]
    res = runner.invoke(cli, [*args, "--lang", "en,uk,ru"])
    assert res.exit_code == 0, res.output
    return stored_day, out


def _firm(db: Path) -> list[dict[str, Any]]:
    with SqliteStore(db) as store:
        return [
            f for f in store.incidents()
            if f["properties"]["violations"] and f["properties"]["confidence"] >= 0.5
        ]  # fmt: skip


def test_the_report_counts_what_the_run_found(day: tuple[Path, Path]) -> None:
    db, out = day
    summary = json.loads((out / f"report-{DAY}.json").read_text())
    firm = [f["properties"] for f in _firm(db)]
    with SqliteStore(db) as store:
        head = store.latest_head()
    assert head is not None and summary["tree_head"]["root_hash"] == head.root_hash
    assert summary["by_clause"]["C1"]["all"] == sum("C1" in p["violations"] for p in firm)
    assert summary["violations"] == {"all": len(firm), "verified": 0}
    assert sum(r["all"] for r in summary["by_region"]) == len(firm)
    assert summary["trend"][-1] == [DAY, len(firm)] and len(summary["trend"]) == 31
    # the simulated day is 8 hours (arrivals spill into a ninth), and a sensor counts as up
    # for an hour after its last detection, not for the rest of the day
    assert 0 < max(r["hours_able_to_locate"] for r in summary["coverage"]) <= 10


def test_the_report_renders_in_every_format_and_language(day: tuple[Path, Path]) -> None:
    from weasyprint import HTML

    _, out = day
    page = (out / f"report-{DAY}.html").read_text()
    assert "tree size" in page and "data:image/png;base64," in page and "Coverage" in page
    md = (out / f"report-{DAY}.md").read_text()
    assert md.startswith("# Ceasefire monitoring") and f"(map-{DAY}.png)" in md
    assert (out / f"report-{DAY}.pdf").read_bytes().startswith(b"%PDF")
    uk = (out / f"report-{DAY}.uk.md").read_text()
    ru = (out / f"report-{DAY}.ru.md").read_text()
    assert uk.startswith("# Моніторинг режиму припинення вогню: щоденний звіт за 1 березня 2026")
    assert ru.startswith("# Мониторинг режима прекращения огня: ежедневный отчёт за 1 марта 2026")
    assert (
        "Coverage" not in uk
        and "## Охоплення спостереженням" in uk
        and "## Охват наблюдением" in ru
    )
    assert (out / f"report-{DAY}.uk.pdf").exists() and (out / f"map-{DAY}.ru.png").exists()
    doc = HTML(string=page).render()
    # page 1 is filled: the summary, the clauses, the parties and the map are all on it
    first = [b for b in _boxes(doc.pages[0]._page_box) if type(b).__name__ == "InlineReplacedBox"]
    assert first, "the map is not on the first page"
    assert len(doc.pages) >= 3


def _boxes(box: Any) -> list[Any]:
    out = [box]
    for child in getattr(box, "children", []) or []:
        out += _boxes(child)
    return out


def test_places_grid_references_words_and_full_ids(day: tuple[Path, Path]) -> None:
    db, out = day
    md = (out / f"report-{DAY}.md").read_text()
    incidents = md.split("## Incidents", 1)[1].split("## Method", 1)[0]
    rows = [r for r in incidents.splitlines() if r.startswith("| ") and "inc-" in r]
    with SqliteStore(db) as store:
        located = [f for f in store.incidents() if f["properties"]["time_start"].startswith(DAY)]
    assert len(rows) == len(located)
    for row, f in zip(rows, located, strict=True):
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[-1] == f["properties"]["id"]  # the full id, which the API knows
        if f.get("geometry"):
            assert re.search(r"\d+(\.\d)? km (N|S|E|W)+ of \w", cells[2]), cells[2]
            assert re.search(r"<br>\d\d[A-Z]{3}(\d\d)+$", cells[2]), cells[2]  # MGRS
    # plain words, never codes: weapon classes, kinds, booleans; clause texts and parties
    for code in ("artillery_ge100", "mortar_lt120", "mlrs_heavy", "True", "False"):
        assert code not in md, code
    assert "All firing of weapons ceases." in md and "Northern Party" in md
    assert "GeoNames (geonames.org), CC BY 4.0" in md
    uk = (out / f"report-{DAY}.uk.md").read_text()
    assert re.search(r"\d+,\d км на (Пн|Пд|Сх|Зх)+ від н\. п\. [А-ЯІЇЄҐ]", uk)


def test_the_api_resolves_the_ids_the_report_prints(day: tuple[Path, Path], tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from truceline.api import Settings, create_app

    db, out = day
    ids = re.findall(r"inc-[0-9a-f]{16}\b", (out / f"report-{DAY}.md").read_text())
    copy = copy_store(db, tmp_path)
    token = runner.invoke(cli, ["token", "create", "--db", str(copy), "--role", "analyst",
                                "--name", "a"]).output.split()[-1]  # fmt: skip
    with TestClient(create_app(Settings(db=copy))) as client:
        res = client.get(f"/v1/incidents/{ids[0]}", headers={"Authorization": f"Bearer {token}"})
    assert res.status_code == 200 and res.json()["properties"]["id"] == ids[0]


def test_days_without_data_are_not_observed_never_zero(day: tuple[Path, Path]) -> None:
    _, out = day
    summary = json.loads((out / f"report-{DAY}.json").read_text())
    assert all(count is None for _, count in summary["trend"][:-1])  # monitoring began today
    md = (out / f"report-{DAY}.md").read_text()
    assert "None of the previous 7 days was observed." in md and "days: 0.0" not in md
    assert "The previous day was not observed" in md
    trend = [("a", None), ("b", 6), ("c", None), ("d", 2), ("e", 5)]
    assert trend_means(trend, 3) == (4.0, 2)  # over the two observed days of three


def test_the_trend_is_over_observed_days_only(agreement: Any) -> None:
    def fire(day: str) -> dict[str, Any]:
        return {"type": "Feature", "geometry": None, "properties": {
            "id": f"inc-{day}", "kind": "fire", "time_start": f"{day}T01:00:00Z",
            "time_end": f"{day}T01:00:01Z", "violations": ["C1"], "confidence": 0.9,
            "attributed_to": None, "status": "automatic"}}  # fmt: skip

    features = [fire("2026-03-05"), fire("2026-03-05"), fire("2026-03-07")]
    observed = {"2026-03-05", "2026-03-07"}  # 6 March: the network sent nothing
    rep = build_report("2026-03-07", features, agreement, None, [], observed_days=observed)
    assert rep.trend[-3:] == [("2026-03-05", 2), ("2026-03-06", None), ("2026-03-07", 1)]
    assert trend_means(rep.trend, 7) == (2.0, 1)


def _sensors_along(ag: Any, hours_in: Any) -> list[dict[str, Any]]:
    """Sensors every 2 km, 3 km either side of the line, each hearing a sound every 10
    minutes in the hours ``hours_in(k_along)`` says."""
    line = ag.line_local
    out = []
    for n, s in enumerate(np.arange(1_000, line.length, 2_000)):
        p, q = line.interpolate(s), line.interpolate(min(s + 10, line.length))
        nx, ny = -(q.y - p.y) / 10, (q.x - p.x) / 10
        for side in (-1, 1):
            lon, lat = ag.to_lonlat([p.x + side * 3_000 * nx], [p.y + side * 3_000 * ny])
            for h in hours_in(s / 1000):
                for m in range(0, 60, 10):
                    out.append({"sensor": f"S{n}{side}", "position": [float(lon[0]), float(lat[0]), 0],
                                "time": f"2026-03-01T{h:02d}:{m:02d}:00Z"})  # fmt: skip
    return out


def test_a_sector_is_observed_only_for_the_share_of_the_day_it_could_locate() -> None:
    ag = demo_agreement()
    day0 = parse_time("2026-03-01T00:00:00Z")
    acoustic = _sensors_along(ag, lambda km: range(24) if not 50 <= km < 75 else [5])
    cov = day_coverage(acoustic, ag, day0, 25.0, {})
    third = cov.rows[2]
    assert third["hours_able_to_locate"] == 24  # its neighbours reach into it all day
    assert 0 < third["hours_observed"] < 18 and not third["observed"]  # but its own: hours 4-7
    assert all(r["observed"] for r in cov.rows if r["number"] not in (3, len(cov.rows)))
    rep = build_report("2026-03-01", [], ag, None, acoustic)
    text = coverage_headline(rep, language("en"))
    assert "Every sector" not in text and re.search(
        r"sector 3 \(km 50–75\), half of it able to locate for [1-5] of 24 hours", text
    )
    strict = build_report("2026-03-01", [], ag, None, acoustic, observed_share=0.1)
    assert strict.coverage.rows[2]["observed"]  # three hours are a tenth of the day


def test_counts_split_verified_from_automatic(stored_day: Path, tmp_path: Path) -> None:
    db = copy_store(stored_day, tmp_path / "store")
    firm = _firm(db)
    with SqliteStore(db) as store:
        store.set_review(firm[0]["properties"]["id"], "verified", True, "ana")
        store.set_review(firm[1]["properties"]["id"], "rejected", False, "ana")
    res = runner.invoke(cli, ["report", "--db", str(db), "--date", DAY, "--out", str(tmp_path),
                              "--format", "md"])  # fmt: skip
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / f"report-{DAY}.json").read_text())
    assert summary["violations"] == {"all": len(firm) - 1, "verified": 1}
    assert summary["rejected"] == 1
    verified = firm[0]["properties"]
    assert summary["by_clause"][verified["violations"][0]]["verified"] == 1
    md = (tmp_path / f"report-{DAY}.md").read_text()
    assert "1 of them was verified by an analyst" in md and "1 that an analyst rejected" in md


def test_the_region_table_keeps_every_sector_in_order(day: tuple[Path, Path]) -> None:
    _, out = day
    summary = json.loads((out / f"report-{DAY}.json").read_text())
    sectors = [r["region"] for r in summary["by_region"] if r["region"].startswith("sector")]
    assert sectors == [
        f"sector {k + 1} " + sectors[k].split(" ", 2)[2] for k in range(len(sectors))
    ]
    assert len(sectors) == len(summary["coverage"]) >= 12
    assert any(r["all"] == 0 for r in summary["by_region"])  # zeros are kept


def test_the_map_numbers_the_sectors_and_names_places(stored_day: Path, agreement: Any) -> None:
    from truceline.publish.figures import map_figure

    with SqliteStore(stored_day) as store:
        features = store.incidents()
    rep = build_report(DAY, features, agreement, None, [])
    for lang, place in (("en", "Zaporizhzhya"), ("uk", "Запоріжжя"), ("ru", "Запорожье")):
        fig = map_figure(rep, language(lang))
        texts = {t.get_text() for t in fig.axes[0].texts}
        assert {str(k) for k in range(1, len(rep.coverage.rows) + 1)} <= texts
        assert place in texts, sorted(texts)


def test_bad_dates_formats_languages_and_runs_are_refused(
    day: tuple[Path, Path], tmp_path: Path
) -> None:
    db, _ = day
    for args in (
        ["--date", "1 March"],
        ["--date", DAY, "--format", "docx"],
        ["--date", DAY, "--through", "2026-02-28"],
        ["--date", "2026-02-30"],
        ["--date", DAY, "--lang", "de"],
        ["--date", DAY, "--run", "9"],
    ):
        res = runner.invoke(cli, ["report", "--db", str(db), "--out", str(tmp_path), *args])
        assert res.exit_code == 2, args


def test_a_period_gives_one_report_per_day_from_one_read(
    day: tuple[Path, Path], tmp_path: Path
) -> None:
    db, out = day
    args = ["report", "--db", str(db), "--date", "2026-02-28", "--through", DAY]
    res = runner.invoke(cli, [*args, "--format", "html", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in tmp_path.glob("report-*.html")) == [
        "report-2026-02-28.html",
        f"report-{DAY}.html",
    ]
    before = json.loads((tmp_path / "report-2026-02-28.json").read_text())
    assert before["violations"]["all"] == 0 and before["trend"][-1] == ["2026-02-28", None]
    assert not any(r["observed"] for r in before["coverage"])  # and nothing reported before
    assert "Nothing was received" in (tmp_path / "report-2026-02-28.html").read_text()
    same = json.loads((tmp_path / f"report-{DAY}.json").read_text())
    alone = json.loads((out / f"report-{DAY}.json").read_text())
    assert same == alone


def test_counts_by_region_follow_the_region_layer(day: tuple[Path, Path], tmp_path: Path) -> None:
    db, _ = day
    firm = _firm(db)
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
    regions = [box("West", 0.0, cut + 1e-9), box("East", cut - 0.5, 90.0), box("Region 10", 0, 0.1)]
    regions.append(box("Region 9", 0, 0.1))
    layer.write_text(json.dumps({"type": "FeatureCollection", "features": regions}))
    args = ["report", "--db", str(db), "--date", DAY, "--format", "md"]
    res = runner.invoke(
        cli, [*args, "--out", str(tmp_path), "--regions", str(layer), "--region-name", "oblast"]
    )
    assert res.exit_code == 0, res.output
    rows = json.loads((tmp_path / f"report-{DAY}.json").read_text())["by_region"]
    by = {r["region"]: r["all"] for r in rows}
    west = sum(1 for x in lons if x <= cut)
    assert by.pop("(not located)", 0) == len(firm) - len(lons)
    assert by == {"East": len(lons) - west, "Region 9": 0, "Region 10": 0, "West": west}
    assert [r["region"] for r in rows][:4] == ["East", "Region 9", "Region 10", "West"]


def test_the_sensors_calibration_is_in_the_log_and_in_the_report(day: tuple[Path, Path]) -> None:
    import hashlib

    db, out = day
    with SqliteStore(db) as store:
        cal = store.run_calibration()
        assert cal is not None and cal["log_index"] is not None
        entry = json.loads(store.entry(cal["log_index"]))
        history = store.sensor_calibration(cal["sensors"][0]["sensor"])
    # the run's log entry binds every sensor's record, without naming the sensors
    text = json.dumps(cal["sensors"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    logged = entry["sensor_calibration"]
    assert logged["sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert logged["sensors"] == len(cal["sensors"]) > 20 and "AS-" not in json.dumps(logged)
    assert [h["run"] for h in history] == [1] and history[0]["log_index"] == cal["log_index"]
    summary = json.loads((out / f"report-{DAY}.json").read_text())["sensor_calibration"]
    assert summary["run"] == 1 and 20 < summary["measured"] <= len(cal["sensors"])
    md = (out / f"report-{DAY}.md").read_text()
    assert "### Sensor calibration" in md and f"log entry {cal['log_index']}" in md
    assert "Калібрування датчиків" in (out / f"report-{DAY}.uk.md").read_text()


def test_a_re_timed_sensor_is_named_with_its_correction(agreement: Any) -> None:
    from truceline.publish.render import render_markdown

    acoustic = _sensors_along(agreement, lambda km: range(24))
    sensors = sorted({o["sensor"] for o in acoustic})
    rec = {"sensor": sensors[3], "clock_offset_s": 0.1534, "clock_sd_s": 0.0061,
           "clock_drift_s_per_h": 0.0, "position_error_m": [3.0, -4.0], "position_sd_m": 2.5,
           "residuals": 31, "flagged": True, "at": "2026-03-01T04:00:00Z"}  # fmt: skip
    good = [dict(rec, sensor=s, clock_offset_s=0.002, flagged=False) for s in sensors[4:10]]
    elsewhere = dict(rec, sensor="AS-ELSEWHERE")  # reported on no day of this report
    cal = {"run": 4, "log_index": 77, "sensors": [rec, *good, elsewhere]}
    rep = build_report(DAY, [], agreement, None, acoustic, calibration=cal)
    assert rep.calibration is not None and rep.calibration.measured == 7
    assert [r["sensor"] for r in rep.calibration.corrected] == [sensors[3]]
    md = render_markdown(rep)
    assert f"| {sensors[3]} | 153 | 6 | 5.0 | 2.5 | 31 |" in md
    assert "1 sensor was off by more than its uncertainty allows" in md
    assert "analysis run 4, log entry 77" in md and "AS-ELSEWHERE" not in md
    assert "Sensor calibration" not in render_markdown(
        build_report(DAY, [], agreement, None, acoustic)
    )
    # a sensor re-surveyed but not re-timed shows a clock correction of 0, never "-0"
    moved = dict(rec, clock_offset_s=-0.0003)
    rep = build_report(DAY, [], agreement, None, acoustic, calibration=dict(cal, sensors=[moved]))
    assert f"| {sensors[3]} | 0 | 6 |" in render_markdown(rep)


def test_every_sector_says_what_may_have_gone_undetected(day: tuple[Path, Path]) -> None:
    _, out = day
    summary = json.loads((out / f"report-{DAY}.json").read_text())
    rows = summary["undetected"]
    assert [r["sector"] for r in rows] == [c["sector"] for c in summary["coverage"]]
    assert {"small_arms", "drone", "aircraft"} <= set(summary["not_covered"])
    counted = sum(r["counted"] for r in rows)
    assert 0 < counted <= summary["violations"]["all"]
    for r in rows:  # a bound is a whole number of firings, or none when nothing could count
        assert r["undetected_at_most"] is None or r["undetected_at_most"] >= 0
        assert 0 <= r["p_counted_least"] <= min(r["p_counted"].values()) + 1e-9
    md = (out / f"report-{DAY}.md").read_text()
    assert "### What may have gone undetected" in md and "firings missed, at most (95 %)" in md
    assert "Що могло залишитися не виявленим" in (out / f"report-{DAY}.uk.md").read_text()


def test_heartbeats_say_when_a_quiet_sensor_was_working(agreement: Any) -> None:
    # sensors that heard something only in hours 0-3, but whose heartbeats say they were
    # working all day: the sectors were watched all day, not for four hours
    acoustic = _sensors_along(agreement, lambda km: range(4))
    sensors = {o["sensor"]: o["position"] for o in acoustic}
    day0 = parse_time(f"{DAY}T00:00:00Z")
    beats = [
        {"sensor": s, "position": pos, "time": f"{DAY}T{h:02d}:00:00Z", "state": "up",
         "interval_s": 3600.0}
        for s, pos in sensors.items() for h in range(24)
    ]  # fmt: skip
    quiet = day_coverage(acoustic, agreement, day0, 25.0, {})
    told = day_coverage(acoustic, agreement, day0, 25.0, {}, status=beats)
    assert max(r["hours_able_to_locate"] for r in quiet.rows) <= 6
    assert min(r["hours_able_to_locate"] for r in told.rows[1:-1]) == 24
    assert all(r["observed"] for r in told.rows[1:-1]) and not any(
        r["observed"] for r in quiet.rows
    )
    # a sensor that says it is down is down, whatever it seemed to hear
    down = [dict(b, state="down") for b in beats]
    assert max(r["hours_able_to_locate"] for r in day_coverage(
        acoustic, agreement, day0, 25.0, {}, status=down).rows) == 0  # fmt: skip
    rep = build_report(DAY, [], agreement, None, acoustic, status=beats)
    assert rep.coverage.rows == told.rows


def test_the_report_lists_the_flights_with_their_type_launch_and_crossing() -> None:
    """A drone tracked over the line (8 km on N's side to 6 km into S's): the Flights
    section names what it most probably was, where it was launched from and where and when
    it crossed the line, in every language; a day without flights has no such section."""
    ag = demo_agreement(3)
    t, xy = _truth(ag, 8_000.0, -6_000.0)
    run = analyze(_observations(ag, t, xy), ag)
    features = [json.loads(json.dumps(to_feature(i, ag.frame))) for i in run.incidents]
    (air,) = [f["properties"] for f in features if f["properties"]["kind"] == "air"]
    date = air["time_start"][:10]
    rep = build_report(date, features, ag, None, [])
    for code, title, crossed in (
        ("en", "Flights", "crossed the line"),
        ("uk", "Польоти", "перетнув лінію"),
        ("ru", "Полёты", "пересёк линию"),
    ):
        lang = language(code)
        blocks = flights_section(rep, lang)
        assert [b.content for b in blocks if b.kind == "h2"] == [title]
        (table,) = [b.content for b in blocks if b.kind == "table"]
        assert crossed in table.headers and len(table.rows) == 1
        row = table.rows[0]
        assert row[-1] == air["id"] and "C8" in row[-2]
        best = max(air["flight"]["types"], key=air["flight"]["types"].__getitem__)
        assert row[1].startswith(label("air_type", best, lang))
        assert air["flight"]["crossing_time"][11:19] in row[3]
    quiet = [f for f in features if not f["properties"].get("flight")]
    assert flights_section(build_report(date, quiet, ag, None, []), language("en")) == []
