"""UCDP GED and ACLED as published, into event reports whose radius and time window come
from the datasets' precision codes."""

from __future__ import annotations

import csv
import itertools
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import shared_data
from truceline._time import parse_time
from truceline.errors import InputErrors
from truceline.observations import EventReport
from truceline.sources import AcledCsv, UcdpGedCsv, read_source

DAY = 86_400_000_000

#: ACLED's 31 columns in the codebook's order (since the change of 20 March 2023)
ACLED_COLUMNS = (
    "event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,"
    "actor1,assoc_actor_1,inter1,actor2,assoc_actor_2,inter2,interaction,civilian_targeting,"
    "iso,region,country,admin1,admin2,admin3,location,latitude,longitude,geo_precision,source,"
    "source_scale,notes,fatalities,tags,timestamp"
)
# written by hand from the column list; the notes say what each row is
ACLED = (
    ACLED_COLUMNS
    + "\n"
    + "UKR100001,2025-08-11,2025,1,Political violence,Explosions/Remote violence,"
    "Shelling/artillery/missile attack,Military Forces of Russia (2000-),,External/Other forces,"
    "Civilians (Ukraine),,Civilians,External/Other forces-Civilians,Civilians targeted,804,"
    'Europe,Ukraine,Kharkiv,Kupianskyi,Kupianska,Kupiansk,49.7106,37.6156,1,Suspilne,National,"'
    'On 11 August, shelling of Kupiansk, ""two injured"", test row",0,,1755302400\n'
    + "UKR100002,2025-08-13,2025,2,Political violence,Battles,Armed clash,"
    "Military Forces of Russia (2000-),,External/Other forces,Military Forces of Ukraine (2019-),,"
    "State forces,State forces-External/Other forces,,804,Europe,Ukraine,Donetsk,Pokrovskyi,"
    "Shakhivska,Zolotyi Kolodiaz,48.4128,37.2281,2,Ministry of Defence of Ukraine,"
    "Other-National,A clash near the village during the week (test row),3,,1755302400\n"
    + "UKR100003,2025-08-15,2025,3,Political violence,Explosions/Remote violence,Air/drone strike,"
    "Military Forces of Russia (2000-),,External/Other forces,,,,External/Other forces only,,804,"
    "Europe,Ukraine,Zaporizhzhia,,,Zaporizhzhia,47.8388,35.1396,3,Ukrainska Pravda,National,"
    "Drone strikes in the region in August (test row),0,,1755302400\n"
    + "UKR100004,2025-08-16,2025,1,Strategic developments,Strategic developments,Agreement,"
    "Government of Ukraine (2019-),,State forces,,,,State forces only,,804,Europe,Ukraine,Kyiv City,"
    ",,Kyiv,50.4501,30.5234,1,Interfax,International,A local truce is announced (test row),0,"
    "ceasefire,1755302400\n"
)
# an export from before 2023: data_id, iso3 and event_id_no_cnty, numeric actor codes,
# dates written out
ACLED_OLD = (
    "data_id,iso,event_id_cnty,event_id_no_cnty,event_date,year,time_precision,event_type,"
    "sub_event_type,actor1,assoc_actor_1,inter1,actor2,assoc_actor_2,inter2,interaction,region,"
    "country,admin1,admin2,admin3,location,latitude,longitude,geo_precision,source,source_scale,"
    "notes,fatalities,timestamp,iso3\n"
    "8801,804,UKR2001,2001,15 February 2015,2015,1,Battles,Armed clash,"
    "Military Forces of Ukraine (2014-2019),,1,DNR: Donetsk People's Republic,,2,12,Europe,"
    "Ukraine,Donetsk,Bakhmutskyi,Debaltsivska,Debaltseve,48.3400,38.4000,1,Reuters,International,"
    "Fighting at Debaltseve on the day the ceasefire began (test row),5,1552577806,UKR\n"
)


def test_acled_as_published(tmp_path: Path) -> None:
    path = tmp_path / "acled_ukraine.csv"
    path.write_text(ACLED)
    batch = read_source(path)
    by_id = {o.model.id: o.model for o in batch.observations}
    assert len(by_id) == 4 and all(isinstance(m, EventReport) for m in by_id.values())
    shell, clash, drones, truce = (by_id[f"UKR10000{k}"] for k in range(1, 5))
    assert isinstance(shell, EventReport) and shell.dataset == "acled"
    assert shell.radius_km == 5.0 and shell.event == "explosion"
    assert shell.time_window == [
        parse_time("2025-08-11T00:00:00Z"),
        parse_time("2025-08-12T00:00:00Z") - 1,
    ]
    assert shell.description is not None and '"two injured"' in shell.description
    assert isinstance(clash, EventReport) and clash.radius_km == 25.0 and clash.event == "shot"
    # a week coded to its middle: three days either side
    assert clash.time_window[1] - clash.time_window[0] == 7 * DAY - 1 and clash.fatalities == 3
    assert isinstance(drones, EventReport) and drones.radius_km == 100.0 and drones.event is None
    assert drones.event_type == "Explosions/Remote violence: Air/drone strike"
    assert drones.time_window[0] == parse_time("2025-08-01T00:00:00Z")  # the month
    assert drones.time_window[1] == parse_time("2025-09-01T00:00:00Z") - 1
    assert isinstance(truce, EventReport) and truce.actors == ["Government of Ukraine (2019-)"]
    raw = batch.observations[0].raw
    assert raw["acled_source"] == "Suspilne" and raw["source"] == "acled" and raw["iso"] == "804"


def test_an_older_acled_export(tmp_path: Path) -> None:
    path = tmp_path / "acled_2015.csv"
    path.write_text(ACLED_OLD)
    [obs] = read_source(path).observations
    m = obs.model
    assert isinstance(m, EventReport) and m.time == parse_time("2015-02-15T00:00:00Z")
    assert obs.raw["interaction"] == "12" and obs.raw["iso3"] == "UKR"


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("geo_precision", "4", "'4' is not one of 1, 2, 3"),
        ("event_date", "2025-13-01", "is not a date"),
        ("fatalities", "several", "is not a whole number"),
    ],
)
def test_bad_acled_rows_name_line_and_field(
    tmp_path: Path, column: str, value: str, message: str
) -> None:
    header = ACLED_COLUMNS.split(",")
    lines = ACLED.splitlines()
    row = lines[2].split(",")
    row[header.index(column)] = value
    path = tmp_path / "bad.csv"
    path.write_text("\n".join([lines[0], lines[1], ",".join(row)]) + "\n")
    with pytest.raises(InputErrors) as info:
        AcledCsv().read(path)
    [err] = info.value.errors
    assert err.line == 3 and err.field == column and message in err.message


def test_ucdp_ged_2014_2019_ingests_whole() -> None:
    batch = read_source(shared_data("ucdp_ged_ukraine/ucdp_ged_ukraine_2014_2019.csv"))
    reports = [o.model for o in batch.observations]
    assert len(reports) == 2_677 and batch.duplicates == 0
    assert all(isinstance(m, EventReport) and m.dataset == "ucdp_ged" for m in reports)
    # every location precision becomes its radius, every date precision its window
    radius = Counter(m.radius_km for m in reports if isinstance(m, EventReport))
    assert radius == {5.0: 649, 25.0: 1_445, 35.0: 15, 100.0: 375, 150.0: 190, 700.0: 2, 50.0: 1}
    by_prec = Counter(
        (o.raw["date_prec"], (m.time_window[1] + 1 - m.time_window[0]) // DAY)
        for o in batch.observations
        if isinstance((m := o.model), EventReport) and o.raw["date_prec"] in ("1", "3")
    )
    assert by_prec == {("1", 1): 2_098, ("3", 7): 57}
    first = next(o for o in batch.observations if o.model.id == "155016")
    m = first.model
    assert isinstance(m, EventReport) and m.fatalities == 12 and m.radius_km == 25.0
    assert m.actors == ["Government of Ukraine", "DPR"] and first.raw["adm_1"] == "Donetsk oblast"
    assert m.time_window == [
        parse_time("2014-08-12T00:00:00Z"),
        parse_time("2014-08-14T00:00:00Z") - 1,
    ]


def _ged_rows(n: int) -> tuple[list[str], list[list[str]]]:
    """The header and the first ``n`` rows of the real GED file."""
    real = shared_data("ucdp_ged_ukraine/ucdp_ged_ukraine_2014_2019.csv")
    with real.open(encoding="utf-8", newline="") as fh:
        rows = list(itertools.islice(csv.reader(fh), n + 1))
    return rows[0], rows[1:]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])
    return path


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("where_prec", "9", "9 is not one of 1, 2, 3, 4, 5, 6, 7"),
        ("date_prec", "x", "'x' is not a number"),
        ("latitude", "48,1", "is not a number"),
        ("date_end_iso", "2014-01-01", "is before date_start"),
    ],
)
def test_a_bad_ged_row_names_line_and_field(
    tmp_path: Path, column: str, value: str, message: str
) -> None:
    header, rows = _ged_rows(5)
    assert len(UcdpGedCsv().read(_write(tmp_path / "ok.csv", header, rows))) == 5
    rows[2][header.index(column)] = value
    path = _write(tmp_path / "ged.csv", header, rows)
    with pytest.raises(InputErrors) as info:
        UcdpGedCsv().read(path)
    [err] = info.value.errors
    # the first rows' source_article cells span no lines, so row k is on line k + 2
    assert err.line == 4 and message in err.message
    assert err.field == ("date_end" if column == "date_end_iso" else column)
