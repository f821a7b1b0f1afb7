"""The Minsk backtest (docs/backtest-minsk.md): the agreement folder is derived from the real
data and loads, and UCDP GED 2015-2019 judged against it says what the document says."""

from __future__ import annotations

import importlib.util
import shutil
from collections import Counter
from pathlib import Path

import pytest
import shapely

from tests.conftest import REPO, shared_data
from truceline.agreement import load_agreement
from truceline.analysis import analyze
from truceline.cli.publishing import _days
from truceline.errors import UsageError
from truceline.sources import read_observations

EXAMPLE = REPO / "examples" / "minsk-2015"


def _build_module() -> object:
    spec = importlib.util.spec_from_file_location("minsk_build", EXAMPLE / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def minsk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = shared_data("deepstate_raw_2022").parent
    out = tmp_path_factory.mktemp("minsk")
    shutil.copy(EXAMPLE / "agreement.yaml", out / "agreement.yaml")
    figures = _build_module().build(data, None, out)  # type: ignore[attr-defined]
    assert 16_900 < figures["ordlo_km2"] < 17_100 and 400 < figures["line_km"] < 440
    return out / "agreement.yaml"


def test_the_agreement_folder_is_derived_and_loads(minsk: Path) -> None:
    ag = load_agreement(minsk)
    assert ag.party_ids == ("UA", "ORDLO")
    assert [c.id for c in ag.clauses] == ["P1", "P2-artillery", "P2-mlrs", "P2-heavy"]
    assert [c.rule.within_km for c in ag.clauses[1:]] == [25.0, 35.0, 70.0]
    assert 410_000 < shapely.length(ag.line_local) < 440_000
    # Donetsk is ORDLO's, Kramatorsk Ukraine's, Simferopol (Crimea) neither's
    x, y = ag.to_local([37.80, 37.56, 34.10], [48.00, 48.72, 44.95])
    assert ag.owner_index(x, y).tolist() == [1, 0, -1]
    assert (
        not (EXAMPLE / "control.geojson").exists()
        or "control.geojson" in (EXAMPLE / ".gitignore").read_text()
    )


def test_ucdp_ged_judged_against_minsk(minsk: Path) -> None:
    ag = load_agreement(minsk)
    batch = read_observations([shared_data("ucdp_ged_ukraine/ucdp_ged_ukraine_2014_2019.csv")])
    result = analyze(batch.observations, ag)
    after = [i for i in result.incidents if i.time_start_us >= ag.effective_from_us]
    assert len(result.incidents) == 2_677 and len(after) == 1_054
    assert Counter(i.kind for i in after) == {"fire": 1_052, "unlocated": 2}
    assert sum("P1" in i.violations for i in after) == 1_052
    assert not any(i.violations for i in result.incidents if i.time_start_us < ag.effective_from_us)
    # a dataset's report alone is never a counted violation, and nobody is named
    assert result.summary["incidents"]["violations_by_clause"] == {}
    assert max(i.confidence for i in result.incidents) == pytest.approx(0.25)
    assert all(i.attributed_to is None for i in result.incidents)


def test_report_through_takes_a_whole_ceasefire() -> None:
    assert len(_days("2015-02-15", "2019-12-31")) == 1_781
    with pytest.raises(UsageError, match="within ten years"):
        _days("2015-02-15", "2026-01-01")
