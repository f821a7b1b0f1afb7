"""Shared fixtures: the standard simulated scenario and the real data beside the repository."""

from __future__ import annotations

import os
from pathlib import Path

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
