"""A real `truceline serve` on 127.0.0.1: durability under SIGKILL during a sustained ingest."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from truceline.evidence import EXPORT_FILES, export_files, verify_files
from truceline.store.sqlite import SqliteStore


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(db: Path, port: int, *options: str) -> subprocess.Popen[bytes]:
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
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"the server did not start: {proc.stderr.read() if proc.stderr else ''}")


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
def test_every_acknowledged_observation_survives_sigkill_exactly_once(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    with SqliteStore(db) as store:
        token = store.create_token("sensor", "firms-api")
    headers = {"Authorization": f"Bearer {token}"}
    port = _free_port()
    url = f"http://127.0.0.1:{port}/v1/observations"
    proc = _serve(db, port)
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
    proc = _serve(db, port)
    time.sleep(1.0)
    stop.set()
    worker.join()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)
    assert killed_after >= 3, "the kill came too early to test anything"

    with SqliteStore(db) as store:
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
