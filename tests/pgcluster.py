"""A throwaway PostgreSQL + PostGIS cluster on 127.0.0.1 (initdb + pg_ctl), for the tests and
the service benchmark. As root, the cluster runs as the 'postgres' user (initdb refuses root).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["missing", "new_database", "throwaway_cluster"]


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def missing() -> str | None:
    """Why a cluster cannot be started here, or None."""
    if not (_bin("initdb") and _bin("pg_ctl")):
        return "PostgreSQL is not installed (apt: postgresql-15 postgresql-15-postgis-3)"
    if not glob.glob("/usr/share/postgresql/*/extension/postgis.control"):
        return "PostGIS is not installed (apt: postgresql-15-postgis-3)"
    return None


@contextmanager
def throwaway_cluster(fsync: bool = False) -> Iterator[str]:
    """Start a cluster; yield the URL of its maintenance database; stop and remove it."""
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    assert initdb and pg_ctl, missing()
    # (not under pytest's temporary folder, which the 'postgres' user cannot reach)
    base = Path(tempfile.mkdtemp(prefix="truceline-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(base, "postgres")
        shutil.chown(sock, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
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
        check=True,
        capture_output=True,
    )
    opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync={'on' if fsync else 'off'}"
    subprocess.run(
        [*as_user, pg_ctl, "-D", str(data), "-o", opts, "-w", "-l", str(base / "log"), "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True
        )
        shutil.rmtree(base, ignore_errors=True)


_COUNTER = [0]


def new_database(cluster: str) -> str:
    """A new, empty database in the cluster; its URL."""
    import psycopg

    _COUNTER[0] += 1
    name = f"t{os.getpid()}_{_COUNTER[0]}"
    with psycopg.connect(cluster, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return cluster.rsplit("/", 1)[0] + f"/{name}"
