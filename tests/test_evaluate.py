from __future__ import annotations

import json
from pathlib import Path

from truceline.evaluate import evaluate


def _perfect(truth_path: Path, out: Path) -> Path:
    feats = []
    for line in truth_path.read_text().splitlines():
        t = json.loads(line)
        feats.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": t["impact"] or t["origin"]},
                "properties": {
                    "id": t["id"],
                    "kind": t["kind"],
                    "time_start": t["time"],
                    "time_end": t.get("time_impact") or t.get("time_end") or t["time"],
                    "weapon": t["weapon"],
                    "origin": t["origin"],
                    "origin_sigma_m": 10.0,
                    "impact": t["impact"],
                    "impact_sigma_m": 10.0 if t["impact"] else None,
                    "confidence": 1.0,
                    "attribution": {t["side"]: 1.0},
                    "attributed_to": t["side"],
                    "violations": t["violations"],
                    "status": "automatic",
                    "observations": [],
                },
            }
        )
    path = out / "perfect.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path


def test_perfect_incidents_score_perfectly(scenario: Path, tmp_path: Path) -> None:
    report = evaluate(scenario / "truth.jsonl", _perfect(scenario / "truth.jsonl", tmp_path))
    for kind in ("fire", "presence"):
        k = report["kinds"][kind]
        assert k["recall"] == 1.0 and k["precision"] == 1.0 and k["attribution_accuracy"] == 1.0
        assert k["brier"] == 0.0 and k["origin_error_m"]["median"] == 0.0
    assert all(c["f1"] == 1.0 for c in report["clauses"].values())


def test_wrong_sides_and_missing_incidents_are_counted(scenario: Path, tmp_path: Path) -> None:
    path = _perfect(scenario / "truth.jsonl", tmp_path)
    doc = json.loads(path.read_text())
    fire = [f for f in doc["features"] if f["properties"]["kind"] == "fire"]
    for f in fire[:10]:  # wrong attribution
        p = f["properties"]
        other = "S" if p["attributed_to"] == "N" else "N"
        p["attribution"], p["attributed_to"] = {other: 1.0}, other
    doc["features"] = [f for f in doc["features"] if f not in fire[10:20]]  # 10 missed
    path.write_text(json.dumps(doc))
    k = evaluate(scenario / "truth.jsonl", path)["kinds"]["fire"]
    assert k["matched"] == k["truth"] - 10
    assert k["attribution_accuracy"] == round((k["attributed"] - 10) / k["attributed"], 4)
    assert k["brier"] > 0


def test_violations_nobody_could_hear_are_scored_apart(scenario: Path, tmp_path: Path) -> None:
    path = _perfect(scenario / "truth.jsonl", tmp_path)
    truth = {
        json.loads(line)["id"]: json.loads(line)
        for line in (scenario / "truth.jsonl").read_text().splitlines()
    }
    doc = json.loads(path.read_text())
    unheard = [f for f in doc["features"] if not truth[f["properties"]["id"]]["locatable"]]
    assert unheard, "the standard scenario has firings too deep or too small to be located"
    doc["features"] = [f for f in doc["features"] if f not in unheard]
    path.write_text(json.dumps(doc))
    c1 = evaluate(scenario / "truth.jsonl", path)["clauses"]["C1"]
    assert c1["fn"] == len(unheard) and c1["fn_locatable"] == 0
    assert c1["f1"] < 1.0 and c1["f1_locatable"] == 1.0


def test_a_launch_paired_with_another_firings_impact_is_wrong(
    scenario: Path, tmp_path: Path
) -> None:
    """Both points sit exactly on true events, but on two different ones: not a find."""
    path = _perfect(scenario / "truth.jsonl", tmp_path)
    doc = json.loads(path.read_text())
    fire = [f for f in doc["features"] if f["properties"]["kind"] == "fire"]
    fire = [f for f in fire if f["properties"]["impact"]]
    a, b = fire[0]["properties"], fire[1]["properties"]
    a["impact"], b["impact"] = b["impact"], a["impact"]
    a["time_end"], b["time_end"] = b["time_end"], a["time_end"]
    path.write_text(json.dumps(doc))
    k = evaluate(scenario / "truth.jsonl", path)["kinds"]["fire"]
    assert k["wrong_pairs"] >= 1
    assert k["precision"] < 1.0 and k["recall"] < 1.0


def test_incidents_below_the_threshold_are_scored_too(scenario: Path, tmp_path: Path) -> None:
    """An incident published at low confidence is out of the headline figures but in the
    reliability table, real or not."""
    path = _perfect(scenario / "truth.jsonl", tmp_path)
    doc = json.loads(path.read_text())
    feats = doc["features"]
    for f in feats[:5]:
        f["properties"]["confidence"] = 0.2
    ghost = json.loads(json.dumps(feats[5]))
    ghost["properties"] |= {"id": "ghost", "confidence": 0.3, "time_start": "2026-03-01T00:00:00Z"}
    ghost["properties"]["time_end"] = "2026-03-01T00:00:01Z"
    ghost["properties"]["origin"] = [0.0, 0.0]
    feats.append(ghost)
    path.write_text(json.dumps(doc))
    report = evaluate(scenario / "truth.jsonl", path)
    by = report["by_confidence"]
    assert by["incidents"] == len(feats)
    assert by["below_threshold"] == 6
    assert by["below_threshold_real"] == round(5 / 6, 4)


def test_a_side_stated_for_a_firing_that_never_happened_is_scored_wrong(
    scenario: Path, tmp_path: Path
) -> None:
    """Every published origin's side is scored, whatever its confidence: an incident that
    matched no true firing stated its side wrongly, however sure it was."""
    path = _perfect(scenario / "truth.jsonl", tmp_path)
    doc = json.loads(path.read_text())
    fire = [f for f in doc["features"] if f["properties"]["kind"] == "fire"]
    sides = evaluate(scenario / "truth.jsonl", path)["sides"]
    assert sides["published"]["brier"] == 0.0 and sides["published"]["incidents"] == len(fire)
    ghost = json.loads(json.dumps(fire[0]))
    ghost["properties"] |= {"id": "ghost", "confidence": 0.2, "time_start": "2026-03-01T00:00:00Z"}
    ghost["properties"]["time_end"] = ghost["properties"]["time_start"]
    ghost["properties"]["origin"] = [o + 0.5 for o in ghost["properties"]["origin"][:2]]
    doc["features"].append(ghost)
    path.write_text(json.dumps(doc))
    sides = evaluate(scenario / "truth.jsonl", path)["sides"]
    top = sides["published"]["reliability"]["0.9-1.0"]
    assert top["n"] == len(fire) + 1 and top["observed"] < 1.0
    near = sides["near_line"]  # the agreement beside the truth gives the line
    assert near["within_m"] == 1000.0 and near["true_firings"] >= near["located"] > 0
    assert near["named_accuracy"] == 1.0 and near["mean_p_true_side"] == 1.0
