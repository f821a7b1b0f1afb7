"""Shared fixtures: the standard simulated scenario and the real data beside the repository."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from truceline.agreement import Agreement, load_agreement
from truceline.analysis import AnalysisResult, analyze, write_outputs
from truceline.observations import ObservationBatch
from truceline.simulate import simulate
from truceline.sources import read_observations

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("TRUCELINE_DATA", REPO.parent / "shared" / "data"))
# the gazetteer's cache (truceline.places) beside pytest's own, not in the user's home
os.environ.setdefault("TRUCELINE_CACHE_DIR", str(REPO / ".pytest_cache" / "truceline"))

#: the one standard scenario of the test suite (also used by the docs and the demo)
SEED = 7
HOURS = 8.0


def shared_data(relative: str) -> Path:
    """A file of the real data set, or skip (fail under CI=true) when it is absent."""
    path = DATA / relative
    if not path.exists():
        reason = f"real data {path} is absent (it lives in ../shared/data beside the repository)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scenario")
    simulate(out, seed=SEED, hours=HOURS)
    return out


@pytest.fixture(scope="session")
def agreement(scenario: Path) -> Agreement:
    return load_agreement(scenario / "agreement.yaml")


@pytest.fixture(scope="session")
def batch(scenario: Path) -> ObservationBatch:
    return read_observations([scenario / "observations.jsonl"])


@pytest.fixture(scope="session")
def analysis(
    scenario: Path,
    agreement: Agreement,
    batch: ObservationBatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[AnalysisResult, Path]:
    result = analyze(batch.observations, agreement)
    out = tmp_path_factory.mktemp("analysis")
    write_outputs(result, agreement, out)
    return result, out


# -- stores: every store test runs against SQLite and against PostgreSQL + PostGIS -------------


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[str]:
    """A throwaway PostgreSQL + PostGIS cluster for the session (the URL of its maintenance
    database). Skips, saying why, where PostgreSQL is absent; fails under CI=true."""
    from .pgcluster import missing, throwaway_cluster

    reason = missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    with throwaway_cluster() as url:
        yield url


def new_postgres_db(cluster: str) -> str:
    from .pgcluster import new_database

    return new_database(cluster)


@pytest.fixture(params=["sqlite", "postgres"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., Any]:
    """``open_store(name="t", log_key=None)`` opens (creating on first use) the store ``name``
    of this test in the parametrised database; the log key is ``tmp_path/name.key``."""
    from truceline.store.postgres import PostgresStore
    from truceline.store.sqlite import SqliteStore

    urls: dict[str, str] = {}
    cluster = request.getfixturevalue("postgres_cluster") if request.param == "postgres" else ""

    def opener(name: str = "t", log_key: Path | None = None) -> Any:
        key = log_key if log_key is not None else tmp_path / f"{name}.key"
        if request.param == "sqlite":
            return SqliteStore(tmp_path / f"{name}.db", key)
        if name not in urls:
            urls[name] = new_postgres_db(cluster)
        return PostgresStore(urls[name], key)

    opener.kind = request.param  # type: ignore[attr-defined]
    return opener


def store_day(day: Path, db: Path, out: Path) -> Path:
    """A simulated ``day`` (its folder) ingested into the SQLite store ``db`` and analysed
    (run 1, outputs in ``out``) by the command line; ``db``."""
    from typer.testing import CliRunner

    from truceline.cli import app

    runner = CliRunner()
    for args in (
        ["ingest", "--db", str(db), str(day / "observations.jsonl")],
        ["analyze", "--db", str(db), "--agreement", str(day / "agreement.yaml"), "--out", str(out)],
    ):
        res = runner.invoke(app, args)
        assert res.exit_code == 0, res.output
    return db


def flights_day(out: Path, hours: float) -> Path:
    """A ``field`` day (seed 7) with reconnaissance (3 an hour) and one-way drones (2 an
    hour) flying besides the strikes, simulated into ``out``; ``out``."""
    from dataclasses import replace

    from truceline.simulate import simulate
    from truceline.simulate.world import load_world

    field = load_world("field")
    assert field.drones is not None
    flying = replace(field.drones, recon_per_hour=3.0, one_way_per_hour=2.0)
    simulate(out, seed=7, hours=hours, world=replace(field, drones=flying))
    return out


@pytest.fixture(scope="session")
def stored_day(scenario: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The standard scenario ingested into a SQLite store and analysed (run 1) by the
    command line, once. Read it as it is; a test that writes to it takes a copy first
    (:func:`copy_store`)."""
    tmp = tmp_path_factory.mktemp("stored")
    return store_day(scenario, tmp / "t.db", tmp / "out")


def copy_store(db: Path, folder: Path) -> Path:
    """A copy of a (closed) SQLite store and its log key in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / db.name
    copy.write_bytes(db.read_bytes())
    Path(f"{copy}.key").write_bytes(Path(f"{db}.key").read_bytes())
    return copy


def without_ids(geojson: bytes) -> list[str]:
    """An incidents file's features without their ids, sorted: what two stores' runs of the
    same observations share (each store salts its log entries, and ids are over the leaf
    hashes)."""
    import json

    out = []
    for f in json.loads(geojson)["features"]:
        props = {k: v for k, v in f["properties"].items() if k != "id"}
        out.append(json.dumps({**f, "id": None, "properties": props}, sort_keys=True))
    return sorted(out)
