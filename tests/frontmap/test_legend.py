"""The legend, rule by rule, on the real DeepState files: every polygon of every file in
../shared/data is given a side, each rule decides the polygons it should, and a polygon no
rule matches is reported by label and colour, never counted as held."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import shapely

from tests.conftest import shared_data
from truceline.errors import InputError, InputErrors
from truceline.frontmap import default_legend, load_legend, read_deepstate, read_snapshot
from truceline.frontmap.deepstate import snapshot_time
from truceline.frontmap.legend import Legend, normalise


def _files(folder: str) -> list[Path]:
    return sorted(shared_data(folder).glob("*.geojson"))


def _date(path: Path) -> str:
    from truceline._time import format_time

    return format_time(snapshot_time(path))[:10]


@pytest.fixture(scope="module")
def decided() -> dict[str, Counter[tuple[str, str, str]]]:
    """For every rule tag: (label, colour, class) of each polygon it decided, over the 7
    raw exports of spring 2022."""
    legend = default_legend()
    out: dict[str, Counter[tuple[str, str, str]]] = defaultdict(Counter)
    for path in _files("deepstate_raw_2022"):
        for feat in json.loads(path.read_text(encoding="utf-8"))["features"]:
            if feat["geometry"]["type"] in legend.ignore_geometry:
                continue
            props = feat["properties"]
            m = legend.classify(props, _date(path))
            assert m is not None, (path.name, props.get("name"), props.get("fill"))
            key = m.tag if m.how == "label" else f"colour:{m.cls}"
            out[key][(normalise(props.get("name")), props["fill"], m.cls)] += 1
    return out


# each rule of the default legend, what it must decide in spring 2022, and the colour DeepState
# gave those polygons then (the label and the colour agree everywhere in these files)
RULES = {
    "transnistria": ("outside", {"#880e4f"}, 7, "Придністров'я"),
    "crimea": ("occupied", {"#000000"}, 12, "Окупований Крим /// Occupied Crimea"),
    "ordlo": ("occupied", {"#000000"}, 7, "ОРДЛО /// CADR and CALR"),
    "contested": ("contested", {"#bcaaa4", "#bdbdbd"}, 56, "Під питанням /// In doubt"),
    "occupied": ("occupied", {"#a52714"}, 88, "Окуповано /// Occupied"),
    "liberated": ("held", {"#0288d1", "#0f9d58"}, 279, "Звільнено /// Liberated"),
}


@pytest.mark.parametrize("tag", sorted(RULES))
def test_each_label_rule_on_the_real_exports(
    decided: dict[str, Counter[tuple[str, str, str]]], tag: str
) -> None:
    cls, colours, count, example = RULES[tag]
    seen = decided[tag]
    assert sum(seen.values()) == count
    assert {c for _, _, c in seen} == {cls}
    assert {fill for _, fill, _ in seen} <= colours
    assert example in {label for label, _, _ in seen}


def test_labels_that_name_no_side_fall_to_their_colour(
    decided: dict[str, Counter[tuple[str, str, str]]],
) -> None:
    by_colour = {label: cls for (label, _, cls) in decided["colour:held"]}
    by_colour |= {label: cls for (label, _, cls) in decided["colour:occupied"]}
    assert by_colour == {
        "24.03": "held",
        "Дорога Тростянець-Суми 31.03": "held",
        "Багатокутник 47": "held",
        "Зміїний": "occupied",
        "Зміїний /// Snake Island": "occupied",
    }
    # and nothing else was decided by a colour: every other label names its side
    assert set(decided) == {*RULES, "colour:held", "colour:occupied"}


def test_the_daily_occupied_territory_files() -> None:
    legend = default_legend()
    for path in _files("deepstate_occupied"):
        layers = read_deepstate(path, legend)
        assert layers.counts == {"occupied/occupied (no properties)": 1}, path.name
        assert not layers.polygons["held"] and not layers.unmatched


@pytest.mark.parametrize(
    ("label", "cls"),
    [
        ("Contensed", "contested"),
        ("Contested area", "contested"),
        ("Situation unknown", "contested"),
        ("Gray zone", "contested"),
        (
            "Фактично контролюється ворогом, але немає інформації про його перебування тут",
            "contested",
        ),
        ("Taken back", "held"),
        ("Retaken 12.09", "held"),
        ("Деокуповано", "held"),
        ("De-occupied", "held"),
        ("Occupied", "occupied"),
        ("Окуповано\xa004.04 та 21.04 /// Occupied 04.04 and 21.04\n\n", "occupied"),
        ("Occupied Crimea", "occupied"),
        ("Придністров’я /// Transnistria", "outside"),
    ],
)
def test_label_spellings(label: str, cls: str) -> None:
    m = default_legend().classify({"name": label, "fill": "#123456"}, "2022-09-01")
    assert m is not None and m.cls == cls and m.how == "label"


def test_the_august_2022_recolouring() -> None:
    legend = default_legend()
    crimea = {"name": "Окупований Крим /// Occupied Crimea", "fill": "#880e4f"}
    m = legend.classify(crimea, "2022-08-08")
    assert m is not None and (m.cls, m.tag) == ("occupied", "crimea")  # the label wins
    unlabelled = {"name": "", "fill": "#880e4f"}
    spring, august = (
        legend.classify(unlabelled, "2022-05-01"),
        legend.classify(unlabelled, "2022-08-08"),
    )
    assert spring is not None and spring.cls == "outside"
    assert august is not None and (august.cls, august.tag) == ("occupied", "crimea")
    # a colour known only for other periods is unmatched, not guessed
    assert legend.classify(unlabelled, "2021-06-01") is None


def _collection(*features: tuple[str, str, list[list[float]]]) -> dict[str, object]:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": name, "fill": fill},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
            for name, fill, ring in features
        ],
    }


BOX = [[37.0, 48.0], [37.2, 48.0], [37.2, 48.2], [37.0, 48.2], [37.0, 48.0]]
NEW = [[36.0, 48.0], [36.2, 48.0], [36.2, 48.2], [36.0, 48.2], [36.0, 48.0]]


def test_a_polygon_no_rule_matches_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "deepstate_20220808T120000Z_1659960000.geojson"
    path.write_text(
        json.dumps(
            _collection(("Окуповано", "#a52714", BOX), ("Нова мітка /// New layer", "#ff00ff", NEW))
        )
    )
    with pytest.raises(InputErrors) as info:
        read_snapshot(path)
    [err] = info.value.errors
    text = str(err)
    assert err.line == "feature 1" and "'Нова мітка /// New layer'" in text and "#ff00ff" in text
    assert "km²" in text
    # a legend that keeps such polygons as ground of unknown side lists them, never as held
    lenient = tmp_path / "legend.yaml"
    base = (Path(default_legend().source)).read_text(encoding="utf-8")
    lenient.write_text(base.replace("unmatched: error", "unmatched: unknown"))
    snap = read_snapshot(path, load_legend(lenient))
    assert [u.label for u in snap.unmatched] == ["Нова мітка /// New layer"]
    assert snap.contested.contains(shapely.Point(36.1, 48.1))
    assert not snap.held.contains(shapely.Point(36.1, 48.1))


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ('class: outside\n    # "', 'class: elsewhere\n    # "', "labels[0].class"),
        ('pattern: "\\\\bкрим', 'pattern: "(\\\\bкрим', "labels[1].pattern"),
        ('occupied: ["#a52714"', 'occupied: ["red"', "colours.occupied[0]"),
        ("enclaves: contested", "enclaves: maybe", "enclaves"),
        ('to: "2022-07-31"', 'to: "31.07.2022"', "colour_overrides[0].to"),
    ],
)
def test_a_bad_legend_names_file_line_and_field(
    tmp_path: Path, old: str, new: str, field: str
) -> None:
    text = Path(default_legend().source).read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "legend.yaml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(InputError) as info:
        load_legend(path)
    err = info.value
    assert err.field == field and isinstance(err.line, int) and err.line > 40


def test_the_shipped_legend_is_package_data() -> None:
    legend = default_legend()
    assert isinstance(legend, Legend) and legend.unmatched == "error"
    assert Path(legend.source).name == "legend.yaml"
