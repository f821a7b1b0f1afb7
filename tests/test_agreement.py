from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import shapely
import yaml

from truceline.agreement import load_agreement
from truceline.errors import AgreementError
from truceline.simulate.scenario import build_scenario, write_agreement


@pytest.fixture
def files(tmp_path: Path) -> Path:
    write_agreement(build_scenario(3), tmp_path, "2026-03-01T00:00:00Z")
    return tmp_path


def test_loads_and_derives_the_line(files: Path) -> None:
    ag = load_agreement(files / "agreement.yaml")
    assert ag.party_ids == ("N", "S")
    assert [c.id for c in ag.clauses] == ["C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8"]
    # the derived line of contact is the shared border: the wavy line, not the box's edges
    sc = build_scenario(3)
    wavy = float(np.hypot(np.diff(sc.line_x), np.diff(sc.line_y)).sum())
    assert shapely.length(ag.line_local) == pytest.approx(wavy, rel=1e-4)
    assert ag.line_local.geom_type == "LineString"
    rule = ag.clauses[1].rule
    assert rule.kind == "presence" and rule.within_km == 25 and rule.classes == ("artillery_ge100",)
    assert ag.clauses[4].rule.area_local is not None


def test_sides_and_distances_are_metric(files: Path) -> None:
    ag = load_agreement(files / "agreement.yaml")
    sc = build_scenario(3)
    x = np.array([0.0, 0.0, 50_000.0])
    y = sc.line_at(x) + np.array([10_000.0, -4_000.0, 30_000.0])
    # scenario metres -> the agreement's frame
    ax, ay = ag.frame.forward(*sc.frame.inverse(x, y))
    assert ag.owner_index(ax, ay).tolist() == [0, 1, 0]
    d = ag.distance_to_line_m(ax, ay)
    assert d[0] <= 10_000 + 1 and d[0] > 5_000  # perpendicular distance on a wavy line
    signed = ag.signed_distance_m(ax, ay, "S")
    assert signed[1] > 0 and signed[0] < 0


def test_explicit_line_of_contact(files: Path) -> None:
    ag0 = load_agreement(files / "agreement.yaml")
    line = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {},
                "geometry": json.loads(shapely.to_geojson(ag0.line)),
            }
        ],
    }
    (files / "line.geojson").write_text(json.dumps(line))
    doc = yaml.safe_load((files / "agreement.yaml").read_text())
    doc["line_of_contact"] = "line.geojson"
    (files / "agreement.yaml").write_text(yaml.safe_dump(doc))
    ag = load_agreement(files / "agreement.yaml")
    assert abs(shapely.length(ag.line_local) - shapely.length(ag0.line_local)) < 1.0


def _edit_yaml(files: Path, path: list, value: object) -> None:
    doc = yaml.safe_load((files / "agreement.yaml").read_text())
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    (files / "agreement.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))


@pytest.mark.parametrize(
    ("path", "value", "field", "words"),
    [
        (["clauses", 1, "rule", "within_km"], "far", "clauses[1].rule.within_km", "a number"),
        (
            ["clauses", 1, "rule", "classes"],
            ["howitzer"],
            "clauses[1].rule.classes[0]",
            "weapon class",
        ),
        (["clauses", 0, "rule", "kind"], "noise", "clauses[0].rule.kind", "not one of"),
        (["effective_from"], "tomorrow", "effective_from", "RFC 3339"),
        (["parties"], [{"id": "N"}], "parties", "at least two"),
        (["line_of_contact_sigma_m"], -5, "line_of_contact_sigma_m", "not in [0, 10000]"),
        (["line_of_contact_sigma_m"], "wide", "line_of_contact_sigma_m", "a number"),
        (
            ["clauses", 0, "rule", "air_types"],
            ["reconnaissance_drone"],
            "clauses[0].rule.air_types",
            "only an air rule",
        ),
        (
            ["clauses", 6, "rule", "air_types"],
            ["zeppelin"],
            "clauses[6].rule.air_types[0]",
            "one of fpv",
        ),
        (["clauses", 6, "rule", "air_types"], [], "clauses[6].rule.air_types", "forbids nothing"),
    ],
)
def test_bad_yaml_fields(files: Path, path: list, value: object, field: str, words: str) -> None:
    _edit_yaml(files, path, value)
    with pytest.raises(AgreementError) as info:
        load_agreement(files / "agreement.yaml")
    err = info.value
    assert err.field == field and words in str(err)
    assert isinstance(err.line, int) and err.line > 1  # the YAML line of that field
    assert str(err).startswith(f"{files / 'agreement.yaml'}:{err.line}: {field}:")


def test_wrong_party_id_in_control_areas(files: Path) -> None:
    doc = json.loads((files / "control.geojson").read_text())
    doc["features"][1]["properties"]["party"] = "XX"
    (files / "control.geojson").write_text(json.dumps(doc))
    with pytest.raises(AgreementError, match=r"properties\.party: unknown party 'XX'"):
        load_agreement(files / "agreement.yaml")


def test_self_intersecting_polygon(files: Path) -> None:
    doc = json.loads((files / "disengagement.geojson").read_text())
    (a, b, c, d, _) = doc["features"][2]["geometry"]["coordinates"][0][:5]
    doc["features"][2]["geometry"]["coordinates"] = [[a, c, b, d, a]]  # a bow-tie
    (files / "disengagement.geojson").write_text(json.dumps(doc))
    with pytest.raises(AgreementError) as info:
        load_agreement(files / "agreement.yaml")
    assert "disengagement.geojson:feature 2: geometry: invalid geometry: Self-intersection" in str(
        info.value
    )


def test_latitude_out_of_range_in_geojson(files: Path) -> None:
    doc = json.loads((files / "control.geojson").read_text())
    doc["features"][0]["geometry"]["coordinates"][0][3][1] = 133.0
    (files / "control.geojson").write_text(json.dumps(doc))
    with pytest.raises(AgreementError, match=r"feature 0: geometry.coordinates: latitude 133"):
        load_agreement(files / "agreement.yaml")


def test_missing_file_and_bad_yaml(files: Path, tmp_path: Path) -> None:
    (files / "control.geojson").unlink()
    with pytest.raises(AgreementError, match=r"control\.geojson: cannot read"):
        load_agreement(files / "agreement.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nparties: [\n")
    with pytest.raises(AgreementError, match="not valid YAML"):
        load_agreement(bad)


def test_overlapping_control_areas(files: Path, tmp_path: Path) -> None:
    doc = json.loads((files / "control.geojson").read_text())
    doc["features"][1]["geometry"] = doc["features"][0]["geometry"]
    (files / "control.geojson").write_text(json.dumps(doc))
    with pytest.raises(AgreementError, match="overlap"):
        load_agreement(files / "agreement.yaml")
    shutil.rmtree(tmp_path / "x", ignore_errors=True)


def test_names_and_texts_in_other_languages(files: Path) -> None:
    path = files / "agreement.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["parties"][0]["names"] = {"uk": "Північна сторона", "ru": "Северная сторона"}
    doc["clauses"][0]["texts"] = {"uk": "Будь-яке ведення вогню припиняється."}
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    ag = load_agreement(path)
    north, south = ag.parties
    assert north.name_in("ru") == "Северная сторона" and north.name_in("en") == north.name
    assert south.name_in("uk") == south.name  # none given: the agreement's own name
    assert (
        ag.clauses[0].text_in("uk").startswith("Будь-яке")
        and ag.clauses[0].text_in("ru") == ag.clauses[0].text
    )
    doc["clauses"][0]["texts"] = {"uk": ""}
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    with pytest.raises(AgreementError, match=r"clauses\[0\].texts.uk"):
        load_agreement(path)


def test_the_lines_uncertainty_is_read(files: Path) -> None:
    assert load_agreement(files / "agreement.yaml").line_sigma_m == 0.0
    _edit_yaml(files, ["line_of_contact_sigma_m"], 250)
    assert load_agreement(files / "agreement.yaml").line_sigma_m == 250.0
