"""Shared fixtures: the standard simulated scenario and the real data beside the repository."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from truceline.agreement import Agreement, load_agreement
from truceline.analysis import AnalysisResult, analyze, write_outputs
from truceline.observations import ObservationBatch, read_observations
from truceline.simulate import simulate

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("TRUCELINE_DATA", REPO.parent / "shared" / "data"))

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


def _pg_bin(name: str) -> str | None:
    import glob
    import shutil

    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (initdb + pg_ctl), for the session; yields
    the URL of its maintenance database. Skips (fails under CI=true) without PostgreSQL and
    PostGIS (Debian: postgresql-15 postgresql-15-postgis-3)."""
    import glob
    import shutil
    import socket
    import subprocess

    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    postgis = glob.glob("/usr/share/postgresql/*/extension/postgis.control")
    if not (initdb and pg_ctl and postgis):
        reason = "PostgreSQL with PostGIS is not installed (apt: postgresql-15-postgis-3)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    import tempfile

    # (not under pytest's temporary folder: as root, the cluster runs as 'postgres', which
    # must be able to reach its directory)
    base = Path(tempfile.mkdtemp(prefix="truceline-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root: run the cluster as 'postgres'
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(base, "postgres")
        shutil.chown(sock, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run = {"check": True, "capture_output": True}
    subprocess.run(
        [
            *as_user,
            initdb,
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "--locale=C",
            "-E",
            "UTF8",
        ],
        **run,
    )  # type: ignore[call-overload]
    opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [*as_user, pg_ctl, "-D", str(data), "-o", opts, "-w", "-l", str(base / "log"), "start"],
        **run,
    )  # type: ignore[call-overload]
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True
        )
        shutil.rmtree(base, ignore_errors=True)


_DB_COUNTER = [0]


def new_postgres_db(cluster: str) -> str:
    import psycopg

    _DB_COUNTER[0] += 1
    name = f"t{_DB_COUNTER[0]}"
    with psycopg.connect(cluster, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return cluster.rsplit("/", 1)[0] + f"/{name}"


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
