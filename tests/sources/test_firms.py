from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import shared_data
from truceline.errors import InputError, InputErrors
from truceline.sources import FirmsCsv, read_source

VIIRS = (
    "latitude,longitude,bright_ti4,scan,track,acq_date,acq_time,satellite,instrument,"
    "confidence,version,bright_ti5,frp,daynight\n"
    "48.12345,37.54321,333.2,0.39,0.36,2026-03-01,0012,N20,VIIRS,n,2.0NRT,290.1,5.62,N\n"
    "48.22345,37.64321,367.0,0.41,0.37,2026-03-01,1047,N,VIIRS,h,2.0NRT,301.5,22.1,D\n"
)
MODIS = (
    "latitude,longitude,brightness,scan,track,acq_date,acq_time,satellite,instrument,"
    "confidence,version,bright_t31,frp,daynight,type\n"
    "48.1,37.5,320.1,1.1,1.0,2026-03-01,845,Terra,MODIS,77,6.1NRT,290.0,15.3,D,0\n"
)


def test_viirs_full_columns(tmp_path: Path) -> None:
    path = tmp_path / "viirs.csv"
    path.write_text(VIIRS)
    batch = read_source(path)
    first = batch.observations[0]
    assert first.type == "thermal" and first.key[0] == "firms"
    assert first.raw["time"] == "2026-03-01T00:12:00Z"
    assert first.raw["confidence"] == "n" and first.raw["frp_mw"] == 5.62
    assert first.raw["bright_ti4"] == "333.2" and first.raw["daynight"] == "N"  # kept


def test_modis_numeric_confidence_and_short_time(tmp_path: Path) -> None:
    path = tmp_path / "modis.csv"
    path.write_text(MODIS)
    obs = read_source(path).observations[0]
    assert obs.raw["confidence"] == 77.0 and obs.raw["time"] == "2026-03-01T08:45:00Z"
    assert obs.raw["scan_km"] == 1.1
    assert obs.raw["type"] == "thermal" and obs.raw["firms_type"] == "0"  # no clobbering


def test_reduced_form_covers_the_day(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("LATITUDE,LONGITUDE,ACQ_DATE\n48.1,37.5,2022-03-01\n")
    obs = read_source(path).observations[0]
    assert obs.raw["time"] == "2022-03-01T00:00:00Z"
    assert obs.raw["time_end"] == "2022-03-01T23:59:59.999999Z"


def test_reingesting_overlapping_downloads_is_idempotent(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(VIIRS)
    b.write_text(VIIRS)
    assert {o.key for o in read_source(a).observations} == {
        o.key for o in read_source(b).observations
    }


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ("x48.1,37.5,2022-03-01", "latitude"),
        ("48.1,37.5,2022-02-30", "acq_date"),
        ("148.1,37.5,2022-03-01", "position"),
        ("48.1,37.5", None),
    ],
)
def test_bad_rows_name_line_and_field(tmp_path: Path, row: str, field: str | None) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(f"LATITUDE,LONGITUDE,ACQ_DATE\n48.0,37.0,2022-03-01\n{row}\n")
    with pytest.raises(InputErrors) as info:
        FirmsCsv().read(path)
    err = info.value.errors[0]
    assert err.line == 3 and err.field == field


def test_header_without_required_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("LATITUDE,LON,ACQ_DATE\n48.0,37.0,2022-03-01\n")
    with pytest.raises(InputError, match=r"bad\.csv:1: longitude: column missing"):
        FirmsCsv().read(path)


def test_real_firms_file_loads() -> None:
    path = shared_data("firms_ukraine_2022/firms_ukraine_20220224_20220515.csv")
    batch = read_source(path)
    assert len(batch) + batch.duplicates == 57_688
    assert batch.duplicates == 0
