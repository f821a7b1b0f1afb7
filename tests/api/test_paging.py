"""Paging over the caller's visible set only (issue 14, hole 2), as a property: adding rows
the public may not see (unpublished incidents, published ones still inside the disclosure
delay) anywhere in time never changes any answer the public gets: the features, the next
cursor of every page, the number of pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from truceline._time import format_time, parse_time
from truceline.api import Settings, create_app
from truceline.store.sqlite import SqliteStore

T0 = parse_time("2026-03-01T00:00:00Z")
NOW = T0 + 30 * 86_400_000_000


def _feature(n: int, minute: int) -> dict[str, Any]:
    t = T0 + minute * 60_000_000
    lon, lat = 36.0 + (n % 7) * 0.01, 48.0 + (n % 5) * 0.01
    return {
        "type": "Feature",
        "id": f"inc-{n:016x}",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "id": f"inc-{n:016x}",
            "kind": "fire",
            "time_start": format_time(t),
            "time_end": format_time(t + 60_000_000),
            "weapon": "unknown",
            "confidence": 0.9,
            "attribution": {},
            "attributed_to": None,
            "violations": ["C1"],
            "status": "automatic",
            "observations": [],
        },
    }


SUMMARY = {
    "truceline_version": "test",
    "agreement": "t",
    "inputs": {"sha256": "0" * 64, "observations": 0},
}


def _store(path: Path, visible: list[int], hidden: list[tuple[int, bool]]) -> Path:
    """A store whose latest run holds ``visible`` (published, verified, long past) and
    ``hidden`` incidents (minutes; True: published but inside the delay, at NOW). Ids are
    spread so that hidden ones sort between visible ones of the same time too."""
    features, published = [], []
    for k, minute in enumerate(visible):
        f = _feature(2 * k, minute)
        features.append(f)
        published.append(f["id"])
    for k, (minute, recent) in enumerate(hidden):
        f = _feature(2 * k + 1, minute)
        if recent:  # ended an hour before NOW: published, but the public waits 24 h
            t = NOW - 3_600_000_000
            f["properties"]["time_start"] = format_time(t - 60_000_000 * (minute % 50))
            f["properties"]["time_end"] = format_time(t)
            published.append(f["id"])
        features.append(f)
    with SqliteStore(path) as store:
        store.add_run(SUMMARY, features)
        for ident in published:
            store.set_review(ident, "verified", True, "ana")
    return path


def _public_pages(db: Path, limit: int, params: dict[str, str]) -> list[tuple[list[str], Any]]:
    settings = Settings(db=db, now_us=lambda: NOW, rate_per_s=1e6, burst=10**6)
    pages = []
    with TestClient(create_app(settings)) as client:
        cursor = None
        for _ in range(100):
            q = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
            res = client.get("/v1/incidents", params=q)
            assert res.status_code == 200, res.text
            doc = res.json()
            pages.append(([f["id"] for f in doc["features"]], doc["next"]))
            cursor = doc["next"]
            if cursor is None:
                return pages
    raise AssertionError("paging did not end")


minutes = st.integers(min_value=0, max_value=600)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    visible=st.lists(minutes, max_size=6, unique=True),
    hidden=st.lists(st.tuples(minutes, st.booleans()), min_size=1, max_size=10),
    limit=st.integers(min_value=1, max_value=4),
    window=st.sampled_from([None, (0, 300), (100, 600)]),
)
def test_hole_2_hidden_rows_never_change_a_public_answer(
    tmp_path_factory: Any,
    visible: list[int],
    hidden: list[tuple[int, bool]],
    limit: int,
    window: tuple[int, int] | None,
) -> None:
    folder = tmp_path_factory.mktemp("paging")
    params = {}
    if window is not None:
        params = {
            "start": format_time(T0 + window[0] * 60_000_000),
            "end": format_time(T0 + window[1] * 60_000_000),
        }
    without = _public_pages(_store(folder / "a.db", visible, []), limit, params)
    with_hidden = _public_pages(_store(folder / "b.db", visible, hidden), limit, params)
    assert with_hidden == without
