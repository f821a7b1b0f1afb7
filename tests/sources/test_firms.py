"""FIRMS as FIRMS publishes it: every product's columns, ids from the detection's identity,
the same detection published twice merged, near-real-time rows superseded by the archive."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import shared_data
from truceline.cli import app
from truceline.errors import InputError, InputErrors
from truceline.sources import FirmsCsv, current, read_observations, read_source

VIIRS_NRT_HEADER = (
    "latitude,longitude,bright_ti4,scan,track,acq_date,acq_time,satellite,instrument,"
    "confidence,version,bright_ti5,frp,daynight"
)
MODIS_NRT_HEADER = (
    "latitude,longitude,brightness,scan,track,acq_date,acq_time,satellite,instrument,"
    "confidence,version,bright_t31,frp,daynight"
)
VIIRS = (
    f"{VIIRS_NRT_HEADER}\n"
    "48.12345,37.54321,333.2,0.39,0.36,2026-03-01,0012,N20,VIIRS,n,2.0NRT,290.1,5.62,N\n"
    "48.22345,37.64321,367.0,0.41,0.37,2026-03-01,1047,N,VIIRS,h,2.0NRT,301.5,22.1,D\n"
)
MODIS = (
    f"{MODIS_NRT_HEADER},type\n"
    "48.1,37.5,320.1,1.1,1.0,2026-03-01,845,Terra,MODIS,77,6.1NRT,290.0,15.3,D,0\n"
)

# One small file per product, each following the published header (FIRMS attribute pages;
# file names as FIRMS names its downloads), and what its first row must become.
PRODUCTS = {
    "fire_nrt_M-C61_1.csv": (
        MODIS_NRT_HEADER + "\n48.3412,37.2271,321.4,1.2,1.1,2022-08-03,1052,Aqua,MODIS,64,6.1NRT,"
        "296.2,18.4,D\n",
        ("Aqua", "MODIS", "6.1NRT"),
    ),
    "fire_archive_M-C61_1.csv": (
        MODIS_NRT_HEADER + ",type\n48.3412,37.2271,321.4,1.2,1.1,2022-08-03,1052,A,MODIS,64,6.1,"
        "296.2,18.4,D,0\n",
        ("Aqua", "MODIS", "6.1"),
    ),
    "fire_nrt_SV-C2_1.csv": (
        VIIRS_NRT_HEADER + "\n48.34127,37.22714,338.1,0.39,0.36,2022-08-03,1047,N,VIIRS,n,2.0NRT,"
        "291.7,4.3,D\n",
        ("N", "VIIRS", "2.0NRT"),
    ),
    "fire_archive_SV-C2_1.csv": (
        VIIRS_NRT_HEADER + ",type\n48.341312,37.227187,338.1,0.39,0.36,2022-08-03,1047,N,VIIRS,n,2,"
        "291.7,4.3,D,0\n",
        ("N", "VIIRS", "2"),
    ),
    "fire_nrt_J1V-C2_1.csv": (
        VIIRS_NRT_HEADER + "\n48.34101,37.22733,340.2,0.44,0.38,2022-08-03,958,N20,VIIRS,h,2.0NRT,"
        "292.0,7.7,D\n",
        ("N20", "VIIRS", "2.0NRT"),
    ),
    "fire_archive_J1V-C2_1.csv": (
        VIIRS_NRT_HEADER + ",type\n48.341044,37.227301,340.2,0.44,0.38,2022-08-03,0958,1,VIIRS,h,2,"
        "292.0,7.7,D,0\n",
        ("N20", "VIIRS", "2"),
    ),
    "fire_nrt_J2V-C2_1.csv": (
        VIIRS_NRT_HEADER + "\n48.34098,37.22702,336.0,0.41,0.37,2024-08-03,1022,N21,VIIRS,l,2.0NRT,"
        "290.4,2.1,D\n",
        ("N21", "VIIRS", "2.0NRT"),
    ),
    "fire_archive_J2V-C2_1.csv": (
        VIIRS_NRT_HEADER + ",type\n48.340981,37.227024,336.0,0.41,0.37,2024-08-03,1022,2,VIIRS,l,2,"
        "290.4,2.1,D,0\n",
        ("N21", "VIIRS", "2"),
    ),
    "viirs-snpp_2022_Ukraine.csv": (
        VIIRS_NRT_HEADER + ",type\n48.341312,37.227187,338.1,0.39,0.36,2022-08-03,1047,N,VIIRS,n,2,"
        "291.7,4.3,D,0\n",
        ("N", "VIIRS", "2"),
    ),
    "modis_2022_Ukraine.csv": (
        MODIS_NRT_HEADER + ",type\n48.3412,37.2271,321.4,1.2,1.1,2022-08-03,1052,Aqua,MODIS,64,6.1,"
        "296.2,18.4,D,0\n",
        ("Aqua", "MODIS", "6.1"),
    ),
    "country_api_VIIRS_NOAA20_NRT_UKR.csv": (
        "country_id," + VIIRS_NRT_HEADER + "\nUKR,48.34101,37.22733,340.2,0.44,0.38,2022-08-03,958,"
        "N20,VIIRS,h,2.0NRT,292.0,7.7,D\n",
        ("N20", "VIIRS", "2.0NRT"),
    ),
    "firms_ukraine_extract.csv": (
        "LATITUDE,LONGITUDE,ACQ_DATE\n48.3412,37.2271,2022-08-03\n",
        None,
    ),
}


@pytest.mark.parametrize("name", sorted(PRODUCTS))
def test_every_product_column_set(tmp_path: Path, name: str) -> None:
    text, want = PRODUCTS[name]
    path = tmp_path / name
    path.write_text(text)
    [obs] = read_source(path).observations
    raw = obs.raw
    assert obs.type == "thermal" and raw["position"][1] == pytest.approx(48.341, abs=1e-3)
    if want is None:  # the reduced form: the whole day, no satellite
        assert raw["time_end"].endswith("T23:59:59.999999Z") and "satellite" not in raw
        assert obs.model.id == "2022-08-03T----_x_x_48.3412_37.2271"
        return
    sat, instrument, version = want
    assert (raw["satellite"], raw["instrument"], raw["version"]) == want
    assert obs.model.id.endswith(f"_{version}") and f"_{sat}_{instrument}_" in obs.model.id
    assert len(raw["time"]) == len("2022-08-03T10:47:00Z") and "time_end" not in raw
    if "type" in text.splitlines()[0].split(","):
        assert raw["firms_type"] == "0"
    if "country_id" in text:
        assert raw["country_id"] == "UKR"


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


def test_satellite_spellings_are_one_identity(tmp_path: Path) -> None:
    a, b = tmp_path / "archive.csv", tmp_path / "api.csv"
    row = "48.341044,37.227301,340.2,0.44,0.38,2022-08-03,958,{},VIIRS,h,2,292.0,7.7,D\n"
    a.write_text(f"{VIIRS_NRT_HEADER}\n" + row.format("1"))
    b.write_text(f"{VIIRS_NRT_HEADER}\n" + row.format("N20"))
    oa, ob = read_source(a).observations[0], read_source(b).observations[0]
    assert oa.model.id == ob.model.id and oa.raw["firms_satellite"] == "1"
    assert "firms_satellite" not in ob.raw


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
    both = read_observations([a, b])
    assert len(both) == 2 and both.duplicates == 2


def _august_like(path: Path, seed: int = 8) -> dict[str, int]:
    """A reduced-form extract like FIRMS' of August 2022: detections at 6, 5 or 4 decimals,
    and, from one day on, each of many republished: the same date and the position rounded
    to 4 or 5 decimals (one row at 6, its copy about a metre away). Returns what it wrote."""
    rng = random.Random(seed)
    rows, copies, same = [], 0, 0
    for day in range(1, 29):
        for _ in range(40):
            lat, lon = rng.uniform(46.0, 50.5), rng.uniform(30.0, 39.5)
            digits = rng.choice([6, 6, 5, 4])
            rows.append((round(lat, digits), round(lon, digits), day))
            if digits == 6 and day >= 10 and rng.random() < 0.7:
                coarse = rng.choice([5, 5, 4])
                copy = (round(lat, coarse), round(lon, coarse), day)
                rows.append(copy)
                if copy == rows[-2]:  # rounding changed nothing: the very same row
                    same += 1
                else:
                    copies += 1
    # two distinct detections of one day 3 m apart, on a day without republication
    rows += [(48.5001, 35.2002, 3), (48.500122, 35.200231, 3)]
    rng.shuffle(rows)
    text = "".join(f"{lat},{lon},2022-08-{day:02d}\n" for lat, lon, day in rows)
    path.write_text("LATITUDE,LONGITUDE,ACQ_DATE\n" + text)
    return {"rows": len(rows), "copies": copies, "same": same}


def test_an_august_like_extract_ingests_with_its_copies_merged(tmp_path: Path) -> None:
    path = tmp_path / "firms_ukraine_202208.csv"
    wrote = _august_like(path)
    batch = read_source(path)
    assert batch.merged == wrote["copies"] > 150 and batch.duplicates == wrote["same"]
    assert len(batch) == wrote["rows"] - wrote["copies"] - wrote["same"]
    # the most precise row of each pair is the one kept; the chance pair of day 3 stays two
    kept = {tuple(o.model.position) for o in batch.observations}  # type: ignore[union-attr]
    assert (35.2002, 48.5001) in kept and (35.200231, 48.500122) in kept
    # and through the command line, which says how many were merged
    result = CliRunner().invoke(app, ["ingest", "--db", str(tmp_path / "t.db"), str(path)])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert f"accepted {len(batch)}" in said and f"merged {wrote['copies']}" in said
    again = CliRunner().invoke(app, ["ingest", "--db", str(tmp_path / "t.db"), str(path)])
    assert "accepted 0" in " ".join(again.output.split())


def test_copies_split_over_two_files_and_over_two_ingests(tmp_path: Path) -> None:
    fine, coarse = tmp_path / "fine.csv", tmp_path / "coarse.csv"
    fine.write_text("LATITUDE,LONGITUDE,ACQ_DATE\n48.123412,37.512388,2022-08-05\n")
    coarse.write_text("LATITUDE,LONGITUDE,ACQ_DATE\n48.12341,37.51239,2022-08-05\n")
    batch = read_observations([fine, coarse])
    assert len(batch) == 1 and batch.merged == 1
    db = str(tmp_path / "t.db")
    assert CliRunner().invoke(app, ["ingest", "--db", db, str(fine)]).exit_code == 0
    second = CliRunner().invoke(app, ["ingest", "--db", db, str(coarse)])
    assert "accepted 0" in " ".join(second.output.split())
    assert "merged 1" in " ".join(second.output.split())


def test_a_copy_that_disagrees_is_a_genuine_conflict(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        f"{VIIRS_NRT_HEADER}\n"
        "48.341312,37.227187,338.1,0.39,0.36,2022-08-03,1047,N,VIIRS,n,2.0NRT,291.7,4.3,D\n"
        "48.34131,37.22719,338.1,0.39,0.36,2022-08-03,1047,N,VIIRS,n,2.0NRT,291.7,9.8,D\n"
    )
    with pytest.raises(InputErrors) as info:
        read_source(path)
    err = info.value.errors[0]
    assert err.line == 3 and err.field == "frp_mw" and "c.csv:2" in str(err)
    # the same id with different content is one too
    path.write_text(
        "LATITUDE,LONGITUDE,ACQ_DATE,FRP\n48.1,37.5,2022-08-03,1.5\n48.10,37.5,2022-08-03,2.5\n"
    )
    with pytest.raises(InputErrors, match=r"repeats .*with different content"):
        read_source(path)


NRT_ROW = "48.34127,37.22714,338.1,0.39,0.36,2022-08-03,1047,N,VIIRS,n,2.0NRT,291.7,4.3,D\n"
SP_ROW = "48.341812,37.227903,338.4,0.39,0.36,2022-08-03,1048,N,VIIRS,n,2,291.9,4.4,D,0\n"


def test_nrt_rows_superseded_by_the_archive_are_not_doubled(tmp_path: Path) -> None:
    nrt, sp = tmp_path / "fire_nrt_SV-C2.csv", tmp_path / "fire_archive_SV-C2.csv"
    nrt.write_text(f"{VIIRS_NRT_HEADER}\n{NRT_ROW}")  # ~90 m and one minute from its archive row
    sp.write_text(f"{VIIRS_NRT_HEADER},type\n{SP_ROW}")
    together = read_observations([nrt, sp])
    [kept] = together.observations
    assert together.superseded == 1 and kept.raw["version"] == "2"
    assert "supersedes" not in kept.raw  # the NRT row was never stored: nothing to name
    # another satellite's NRT row at the same place is another detection
    other = tmp_path / "n20.csv"
    other.write_text(f"{VIIRS_NRT_HEADER}\n" + NRT_ROW.replace(",N,VIIRS", ",N20,VIIRS"))
    assert len(read_observations([other, sp])) == 2
    # the NRT row ingested first, its archive row later: linked, and counted once
    db = str(tmp_path / "t.db")
    assert CliRunner().invoke(app, ["ingest", "--db", db, str(nrt)]).exit_code == 0
    later = CliRunner().invoke(app, ["ingest", "--db", db, str(sp)])
    assert "accepted 1" in " ".join(later.output.split())
    from truceline.store import open_store

    with open_store(Path(db)) as store:
        stored = list(store.iter_observations())
    archive = next(o for o in stored if o.raw["version"] == "2")
    assert archive.raw["supersedes"] == [read_source(nrt).observations[0].model.id]
    assert [o.raw["version"] for o in current(stored)] == ["2"]
    again = CliRunner().invoke(app, ["ingest", "--db", db, str(sp), str(nrt)])
    assert "accepted 0" in " ".join(again.output.split())


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


def test_an_unknown_csv_names_what_was_expected(tmp_path: Path) -> None:
    path = tmp_path / "mystery.csv"
    path.write_text("lat,lon,when\n48.0,37.0,2022-03-01\n")
    with pytest.raises(InputError) as info:
        read_source(path)
    text = str(info.value)
    assert "mystery.csv:1: unknown CSV: its header (lat, lon, when)" in text
    for expected in ("NASA FIRMS (latitude, longitude, acq_date)", "UCDP GED (id,", "ACLED ("):
        assert expected in text


def test_real_firms_file_loads() -> None:
    path = shared_data("firms_ukraine_2022/firms_ukraine_20220224_20220515.csv")
    batch = read_source(path)
    assert len(batch) == 57_688 and batch.duplicates == 0
    # spring 2022 shows no republication: its four pairs within 5 m at 4 decimals are
    # (by chance, at the expected rate) two detections, and are kept as two
    assert batch.merged == 0 and batch.superseded == 0
