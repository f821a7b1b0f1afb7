"""A real `truceline serve` on 127.0.0.1: durability under SIGKILL during a sustained ingest."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import without_ids
from truceline.evidence import EXPORT_FILES, export_files, verify_files
from truceline.sensors import Sensor
from truceline.store import open_store


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(db: Path, port: int, *options: str) -> subprocess.Popen[bytes]:
    """``truceline serve`` in a process of its own, once it answers; what it says on standard
    error goes to a file, read only if it does not start."""
    errors = tempfile.TemporaryFile()  # noqa: SIM115 (the child writes to it; closed below)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "truceline",
            "serve",
            "--db",
            str(db),
            "--port",
            str(port),
            *options,
        ],
        stdout=subprocess.DEVNULL,
        stderr=errors,
    )
    with errors:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1).status_code == 200:
                    return proc
            except httpx.TransportError:
                time.sleep(0.1)
        proc.kill()
        proc.wait()
        errors.seek(0)
        raise AssertionError(f"the server did not start: {errors.read().decode()}")


def _batch(k: int, size: int = 100) -> list[dict[str, Any]]:
    return [
        {
            "id": f"b{k}-{i}",
            "type": "thermal",
            "source": "firms-api",
            "time": "2026-03-01T12:00:00Z",
            "position": [36.0 + i * 1e-3, 48.0 + k * 1e-3],
        }
        for i in range(size)
    ]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_every_acknowledged_observation_survives_sigkill_exactly_once(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    db = tmp_path / "t.db"
    key = tmp_path / "log.key"
    options: list[str] = ["--log-key", str(key)]
    database_url = None
    if kind == "postgres":
        from tests.conftest import new_postgres_db

        database_url = new_postgres_db(request.getfixturevalue("postgres_cluster"))
        options += ["--database-url", database_url]
    with open_store(db, database_url, key) as store:
        store.register_sensor(Sensor("firms-api", (36.0, 48.0), "ops"))  # a token's sensor
        token = store.create_token("sensor", "firms-api")
    headers = {"Authorization": f"Bearer {token}"}
    port = _free_port()
    url = f"http://127.0.0.1:{port}/v1/observations"
    proc = _serve(db, port, *options)
    acknowledged: set[int] = set()
    sent: set[int] = set()
    stop = threading.Event()

    def client() -> None:
        k = 0
        with httpx.Client(timeout=5) as http:
            while not stop.is_set():
                sent.add(k)
                try:
                    res = http.post(url, json=_batch(k), headers=headers)
                except httpx.TransportError:
                    time.sleep(0.05)  # the server is down: retry the same batch
                    continue
                if res.status_code == 200:
                    acknowledged.add(k)
                    k += 1

    worker = threading.Thread(target=client)
    worker.start()
    time.sleep(1.5)
    os.kill(proc.pid, signal.SIGKILL)  # in the middle of the ingest
    proc.wait()
    killed_after = len(acknowledged)
    time.sleep(0.3)
    proc = _serve(db, port, *options)
    time.sleep(1.0)
    stop.set()
    worker.join()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)
    assert killed_after >= 3, "the kill came too early to test anything"

    with open_store(db, database_url, key) as store:
        logged = [
            json.loads(e)["observation"]["id"]
            for e in store.entries()
            if json.loads(e)["kind"] == "observation"
        ]
        stored = set(logged)
        assert len(logged) == len(stored)  # no observation logged twice
        n_obs = store.count_observations()
        files = export_files(store.entries(), store.tree_heads(), store.keys())
    expected = {f"b{k}-{i}" for k in acknowledged for i in range(100)}
    assert expected <= stored  # every acknowledged observation is there
    assert n_obs == len(stored)  # once each: the log holds no duplicate either
    assert stored <= {f"b{k}-{i}" for k in sent for i in range(100)}
    assert all(name in files for name in EXPORT_FILES)
    assert verify_files(files).ok  # and the log survived the kill intact


def test_the_same_day_through_postgres_and_sqlite_gives_the_same_answers(
    postgres_cluster: str, scenario: Path, tmp_path: Path
) -> None:
    """Ingest, analyse, reproduce and serve a simulated day on PostgreSQL + PostGIS: the
    incidents (and the API's answers) are the SQLite store's, byte for byte."""
    from typer.testing import CliRunner

    from tests.conftest import new_postgres_db
    from truceline.cli import app as cli

    runner = CliRunner()
    url = new_postgres_db(postgres_cluster)
    key = str(tmp_path / "log.key")
    obs, ag = str(scenario / "observations.jsonl"), str(scenario / "agreement.yaml")
    outs = {}
    for name, where in (
        ("pg", ["--database-url", url]),
        ("sqlite", ["--db", str(tmp_path / "t.db")]),
    ):
        for args in (
            ["ingest", *where, "--log-key", key + name, obs],
            [
                "analyze",
                *where,
                "--log-key",
                key + name,
                "--agreement",
                ag,
                "--out",
                str(tmp_path / name),
            ],
            ["reproduce", "1", *where, "--out", str(tmp_path / f"{name}-again")],
        ):
            res = runner.invoke(cli, args)
            assert res.exit_code == 0, (args, res.output)
        outs[name] = (tmp_path / name / "incidents.geojson").read_bytes()
        assert outs[name] == (tmp_path / f"{name}-again" / "incidents.geojson").read_bytes()
    assert without_ids(outs["pg"]) == without_ids(outs["sqlite"])  # salts differ

    res = runner.invoke(
        cli,
        [
            "token",
            "create",
            "--database-url",
            url,
            "--log-key",
            key + "pg",
            "--role",
            "analyst",
            "--name",
            "a",
        ],
    )
    token = res.output.split()[-1]
    port = _free_port()
    proc = _serve(tmp_path / "unused.db", port, "--database-url", url, "--log-key", key + "pg")
    try:
        page = httpx.get(
            f"http://127.0.0.1:{port}/v1/incidents",
            params={"limit": 1000, "bbox": "30,40,45,55"},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        sth = httpx.get(f"http://127.0.0.1:{port}/v1/evidence/sth").json()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    expected = [f["properties"]["id"] for f in json.loads(outs["pg"])["features"]]
    assert [f["properties"]["id"] for f in page["features"]] == expected[:1000]
    assert sth["tree_size"] > 0


def test_hole_10_x_forwarded_for_does_not_reset_the_rate_limit(tmp_path: Path) -> None:
    """A real `truceline serve` (uvicorn) behind no proxy: a client that sends a new
    X-Forwarded-For with every request still has one bucket (issue 14, hole 10)."""
    port = _free_port()
    proc = _serve(tmp_path / "t.db", port, "--rate-per-s", "0.01", "--burst", "5")
    try:
        codes = [
            httpx.get(
                f"http://127.0.0.1:{port}/v1/me",
                headers={"X-Forwarded-For": f"10.0.0.{k}"},
                timeout=5,
            ).status_code
            for k in range(12)
        ]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert 429 in codes, codes
