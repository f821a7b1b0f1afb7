"""The dashboard with 50,000 incidents: time to first render and to apply a filter, measured in
the browser (Debian Chromium driven by Playwright, headless), the dashboard as it is against
three baselines, side by side in the same run (interleaved, run by run):

- ``points`` (the dashboard): every incident in one answer (``GET /v1/dashboard/incidents``),
  drawn by its own canvas layer (typed arrays, one path per colour);
- ``markers``: one Leaflet ``circleMarker`` per incident on Leaflet's canvas renderer
  (``preferCanvas``; ``?renderer=markers``);
- ``svg``: one Leaflet ``circleMarker`` per incident as an SVG element (``?renderer=svg``);
- ``paged``: the dashboard's drawing, but loading through ``GET /v1/incidents`` 1,000 at a
  time, following ``next`` (``?paging=1``).

The server keeps a role's bulk answer until the next write (or for a minute): before every
run of every configuration an analyst's review is written, so each starts cold, except
``points-warm``, the dashboard opened again right after ``points`` (a second user of the
same role).

    python benchmarks/dashboard.py [--incidents 50000] [--runs 5] [--configs points,markers,svg,paged]

The store: one simulated day (seed 1, 24 h) analysed by `analyze`, its incidents repeated
over as many days as it takes to reach ``--incidents`` (each copy shifted by whole days and
by up to ±1 km, with its own id; every property — attribution, covariances, the list of
supporting observations — kept, so the payload is what an analyst really receives), stored
as one run with the day's agreement. `truceline serve` runs on 127.0.0.1; the page is opened
as an analyst (who sees every incident) in a fresh browser context each run.

Measured by the page itself (`performance.now()`, exposed on `window.truceline.timings`):

- first render: from navigation start until the frame after every incident was drawn
  (includes fetching all pages of ``GET /v1/incidents``, parsing and drawing); split into
  the fetch (until the last page arrived) and the draw (making and drawing the markers);
- filter: from the control's change event until the frame after the map was redrawn, for
  three filters in turn (party S; clause C2 on top; then the later half of the time range),
  the median of the three per run.

Medians over ``--runs`` runs; results in benchmarks/results/dashboard.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.web.browser import api, choose, launch, missing, open_dashboard, serving, wait_until
from truceline._time import format_time, parse_time
from truceline.agreement import agreement_files, load_agreement
from truceline.analysis import analyze
from truceline.incidents import feature_collection
from truceline.simulate import simulate
from truceline.sources import read_observations
from truceline.store import open_store

DAY_US = 86_400_000_000
SUMMARY = {
    "truceline_version": "bench",
    "agreement": "bench",
    "inputs": {"sha256": "-", "observations": 0},
    "outputs": {"incidents_sha256": "-"},
}


def build_store(folder: Path, n: int, seed: int = 1) -> tuple[Path, str, int]:
    """A store with ``n`` incidents (see the module's doc); returns it, an analyst's token
    and the size of one simulated day."""
    scenario = folder / "scenario"
    simulate(scenario, seed=seed, hours=24)
    ag = load_agreement(scenario / "agreement.yaml")
    day = analyze(read_observations([scenario / "observations.jsonl"]).observations, ag)
    base = feature_collection(day.incidents, ag.frame)["features"]
    rng = np.random.default_rng(seed)
    features: list[dict[str, Any]] = []
    k = 0
    while len(features) < n:
        for f in base:
            if len(features) >= n:
                break
            g = json.loads(json.dumps(f))
            p = g["properties"]
            dlon, dlat = rng.uniform(-0.013, 0.013), rng.uniform(-0.009, 0.009)
            for key in ("origin", "impact"):
                if p.get(key):
                    p[key] = [p[key][0] + dlon, p[key][1] + dlat]
            if g.get("geometry"):
                lon, lat = g["geometry"]["coordinates"]
                g["geometry"]["coordinates"] = [lon + dlon, lat + dlat]
            for key in ("time_start", "time_end"):
                p[key] = format_time(parse_time(p[key]) + k * DAY_US)
            p["id"] = g["id"] = f"{p['id']}-{k:03d}"
            features.append(g)
        k += 1
    features.sort(key=lambda g: (g["properties"]["time_start"], g["properties"]["id"]))
    db = folder / "bench.db"
    with open_store(db, None, None) as store:
        store.add_run(SUMMARY, features, agreement=agreement_files(scenario / "agreement.yaml"))
        token = store.create_token("analyst", "bench")
    return db, token, len(base)


CONFIGS = {
    "points": "",
    "points-warm": "",
    "markers": "?renderer=markers",
    "svg": "?renderer=svg",
    "paged": "?paging=1",
}


def measure(browser: Any, base: str, token: str, config: str) -> dict[str, float]:
    page = open_dashboard(browser, base, token, query=CONFIGS[config], timeout_ms=600_000)
    t = page.evaluate("window.truceline.timings")
    shown = int(page.get_attribute("#count", "data-shown"))
    filters = []
    for action in (
        lambda: choose(page, "#f-party", "S"),
        lambda: choose(page, "#f-clause", "C2"),
        lambda: page.fill("#f-from", "500"),
    ):
        seq = page.evaluate("window.truceline.filterSeq")
        action()
        wait_until(page, f"window.truceline.filterSeq > {seq}", 600_000)
        filters.append(page.evaluate("window.truceline.timings.filter.at(-1)"))
    final = int(page.get_attribute("#count", "data-shown"))
    page.context.close()
    return {
        "first_render_ms": t["firstRender"],
        "fetch_ms": t["fetched"] - t["setup"],
        "draw_ms": t["draw"],
        "filter_ms": statistics.median(filters),
        "filters_ms": filters,
        "incidents": shown,
        "after_filters": final,
    }


def write_review(base: str, token: str, n: int) -> None:
    """An analyst's review of the first incident: a write, so no kept answer outlives it."""
    first = api(base, token, "GET", "/v1/incidents", params={"limit": 1}).json()["features"][0]
    status = ("automatic", "corroborated")[n % 2]
    res = api(
        base,
        token,
        "PATCH",
        f"/v1/incidents/{first['id']}",
        json={"status": status, "published": False},
    )
    res.raise_for_status()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--incidents", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "dashboard.json"
    )
    args = ap.parse_args()
    reason = missing()
    if reason:
        raise SystemExit(reason)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        db, token, per_day = build_store(Path(tmp), args.incidents)
        print(
            f"store of {args.incidents:,} incidents in {time.perf_counter() - t0:.0f} s", flush=True
        )
        results: dict[str, list[dict[str, float]]] = {}
        with serving(db) as base, sync_playwright() as p:
            browser = launch(p)
            for run in range(args.runs):
                for renderer in args.configs.split(","):  # interleaved: same conditions
                    if not renderer.endswith("-warm"):
                        write_review(base, token, run)  # the server's kept answers expire
                    r = measure(browser, base, token, renderer)
                    assert r["incidents"] == args.incidents, r
                    results.setdefault(renderer, []).append(r)
                    print(
                        f"run {run + 1} {renderer}: first render {r['first_render_ms']:.0f} ms "
                        f"(fetch {r['fetch_ms']:.0f}, draw {r['draw_ms']:.0f}), "
                        f"filter {r['filter_ms']:.0f} ms",
                        flush=True,
                    )
            browser.close()
    medians = {
        renderer: {
            key: statistics.median(r[key] for r in runs)
            for key in ("first_render_ms", "fetch_ms", "draw_ms", "filter_ms")
        }
        for renderer, runs in results.items()
    }
    doc = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores, {platform.system()}",
        "browser": "Debian chromium, headless, via Playwright for Python",
        "incidents": args.incidents,
        "incidents_per_simulated_day": per_day,
        "runs": args.runs,
        "medians": medians,
        "runs_raw": results,
    }
    if "points" in medians:
        doc["ratio_to_points"] = {
            config: {k: m[k] / medians["points"][k] for k in m}
            for config, m in medians.items()
            if config != "points"
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    print(json.dumps({"medians": medians, "ratios": doc.get("ratio_to_points")}, indent=1))


if __name__ == "__main__":
    main()
