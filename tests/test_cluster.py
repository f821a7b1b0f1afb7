"""The Dask engine gives the single-process engine's run byte for byte: on a local cluster of
two workers with 15-minute windows (events across their edges), with those windows cut into
100 km sectors of the line (events across their edges too), against a real
``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1, and in ``reproduce``."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.conftest import copy_store
from truceline.agreement import Agreement
from truceline.analysis import AnalysisResult, analyze, write_outputs
from truceline.cli import app
from truceline.cluster import dask_map
from truceline.localize.association import picks_from
from truceline.localize.partitions import Partitioning
from truceline.observations import ObservationBatch

pytest.importorskip("distributed")

runner = CliRunner()
WINDOW_S = 900.0  # small windows: many edges for events to straddle


def _straddling(batch: ObservationBatch, agreement: Agreement, result: AnalysisResult) -> int:
    """Incidents whose acoustic detections lie on both sides of a window's edge."""
    picks = picks_from(batch.observations, agreement.frame)
    t0 = picks.t_ref_us + float(picks.t[0]) * 1e6
    edges = t0 + WINDOW_S * 1e6 * np.arange(1, 1 + (float(picks.t[-1] - picks.t[0]) // WINDOW_S))
    when = {o.ref: o.time_us for o in batch.observations if o.type == "acoustic"}
    n = 0
    for inc in result.incidents:
        t = np.array([when[r] for r in inc.refs if r in when], dtype=float)
        n += bool(t.size and np.any((t.min() < edges) & (t.max() >= edges)))
    return n


SECTOR_M = 100_000.0  # four sectors of the 377 km line: events across each edge


def _across_sectors(batch: ObservationBatch, agreement: Agreement, result: AnalysisResult) -> int:
    """Incidents whose acoustic detections come from sensors on both sides of a sector's
    edge (the sectors cut from the first sensor's foot on the line, as the partitions do)."""
    import shapely

    along = {}
    for o in batch.observations:
        if o.type == "acoustic":
            x, y = agreement.frame.forward(*o.model.position[:2])
            along[o.ref] = float(
                shapely.line_locate_point(agreement.line_local, shapely.Point(x, y))
            )
    start = min(along.values())
    n = 0
    for inc in result.incidents:
        a = np.array([along[r] for r in inc.refs if r in along])
        n += bool(a.size and np.unique(np.floor((a - start) / SECTOR_M)).size > 1)
    return n


@pytest.mark.parametrize("sector_m", [None, SECTOR_M], ids=["windows", "windows-and-sectors"])
def test_two_local_workers_give_the_same_run(
    batch: ObservationBatch,
    agreement: Agreement,
    analysis: tuple[AnalysisResult, Path],
    tmp_path: Path,
    sector_m: float | None,
) -> None:
    single, single_dir = analysis
    assert _straddling(batch, agreement, single) >= 10
    if sector_m is not None:
        assert agreement.line_local.length > 3 * sector_m
        assert _across_sectors(batch, agreement, single) >= 5
    with dask_map(workers=2) as run:
        parts = Partitioning(core_s=WINDOW_S, run=run, sector_m=sector_m)
        result = analyze(batch.observations, agreement, partitions=parts)
    write_outputs(result, agreement, tmp_path)
    assert len(result.incidents) > 50
    for name in ("incidents.geojson", "summary.json"):
        assert (tmp_path / name).read_bytes() == (single_dir / name).read_bytes(), name


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1 (ports chosen by
    the system), stopped after the module's tests; the scheduler's address."""
    tmp = tmp_path_factory.mktemp("dask")
    file = tmp / "scheduler.json"
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
             "--port", "0", "--no-dashboard", "--scheduler-file", str(file)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not file.exists() or not file.read_text().strip():
            assert time.monotonic() < deadline, "the scheduler did not start"
            assert procs[0].poll() is None, "the scheduler stopped"
            time.sleep(0.2)
        address = json.loads(file.read_text())["address"]
        for k in range(2):
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "distributed.cli.dask_worker", address,
                     "--host", "127.0.0.1", "--nthreads", "1", "--no-nanny",
                     "--no-dashboard", "--name", f"w{k}"],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )  # fmt: skip
        from distributed import Client

        with Client(address, set_as_default=False, timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
            assert len(client.scheduler_info()["workers"]) == 2
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in reversed(procs):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_the_command_on_a_real_scheduler_and_two_workers(
    scenario: Path, analysis: tuple[AnalysisResult, Path], scheduler: str, tmp_path: Path
) -> None:
    _, single_dir = analysis
    res = runner.invoke(
        app,
        [
            "analyze",
            "--agreement",
            str(scenario / "agreement.yaml"),
            "--out",
            str(tmp_path),
            "--engine",
            "dask",
            "--scheduler",
            scheduler,
            "--partition-minutes",
            "15",
            "--sector-km",
            "100",
            str(scenario / "observations.jsonl"),
        ],
    )
    assert res.exit_code == 0, res.output
    for name in ("incidents.geojson", "summary.json"):
        assert (tmp_path / name).read_bytes() == (single_dir / name).read_bytes(), name


def test_reproduce_on_the_cluster_is_byte_identical(
    stored_day: Path, scheduler: str, tmp_path: Path
) -> None:
    """Run 1 was analysed by the single-process engine; re-run on the cluster from the log."""
    db = copy_store(stored_day, tmp_path / "store")
    res = runner.invoke(
        app,
        ["reproduce", "1", "--db", str(db), "--out", str(tmp_path / "re"), "--engine", "dask",
         "--scheduler", scheduler, "--partition-minutes", "15"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "reproduced run 1" in res.output
    logged = (stored_day.parent / "out" / "incidents.geojson").read_bytes()
    assert (tmp_path / "re" / "incidents.geojson").read_bytes() == logged


def test_an_unknown_engine_or_a_scheduler_without_dask_is_refused(
    scenario: Path, tmp_path: Path
) -> None:
    base = ["analyze", "--agreement", str(scenario / "agreement.yaml"), "--out", str(tmp_path)]
    files = [str(scenario / "observations.jsonl")]
    res = runner.invoke(app, [*base, "--engine", "spark", *files])
    assert res.exit_code == 2 and "--engine" in res.output
    res = runner.invoke(app, [*base, "--scheduler", "tcp://127.0.0.1:1", *files])
    assert res.exit_code == 2 and "--scheduler" in res.output
    res = runner.invoke(app, [*base, "--sector-km", "100", *files])
    assert res.exit_code == 2 and "--sector-km" in res.output
    assert not (tmp_path / "incidents.geojson").exists()
