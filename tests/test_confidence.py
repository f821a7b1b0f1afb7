"""Calibrated confidence: fitted, recorded, never raised by an allegation, and calibrated on
days it was not fitted on."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from truceline.attribution import Attribution, allegation_verdicts
from truceline.confidence import (
    FEATURES,
    ConfidenceModel,
    default_model,
    features,
    fit,
    load_model,
    with_family,
)
from truceline.errors import InputError
from truceline.evaluate import evaluate
from truceline.fusion import FusionParams
from truceline.fusion.draft import Draft, freeze
from truceline.incidents import Point


def _leaf(ref: str) -> bytes:
    return hashlib.sha256(ref.encode()).digest()


def test_fit_recovers_a_known_likelihood_ratio() -> None:
    """Rows whose odds of being real double with each acoustic pick: the fitted model's
    probabilities match the true ones."""
    rng = np.random.default_rng(3)
    rows = []
    for _ in range(4000):
        n = int(rng.integers(0, 12))
        x = {"family": "fire", "score": 0.0, "acoustic": np.log1p(n + 1)} | {
            k: 0.0 for k in ("thermal", "uav", "patrol", "event_report", "both_points", "spread")
        }
        p_true = 1 / (1 + np.exp(-(-2.0 + 1.5 * x["acoustic"])))
        rows.append((x, bool(rng.random() < p_true)))
    m = fit(rows, "test", {}, l2=0.01)
    for n in (0, 3, 10):
        x = rows[0][0] | {"acoustic": float(np.log1p(n + 1))}
        p_true = 1 / (1 + np.exp(-(-2.0 + 1.5 * x["acoustic"])))
        assert abs(m.probability(x) - p_true) < 0.05


@settings(max_examples=200, deadline=None)
@given(
    n_acoustic=st.integers(0, 30),
    n_thermal=st.integers(0, 4),
    n_allegations=st.integers(1, 6),
    accuser_share=st.floats(0.0, 1.0),
    located=st.booleans(),
)
def test_an_allegation_never_raises_confidence_nor_counts_as_support_when_contradicted(
    n_acoustic: int, n_thermal: int, n_allegations: int, accuser_share: float, located: bool
) -> None:
    prm = FusionParams()
    origin = Point(0.0, 0.0, np.eye(2) * 100.0, 0) if located else None
    d = Draft("fire", 0, 0, origin=origin, impact=Point(5e3, 0.0, np.eye(2) * 100.0, 10))
    if n_acoustic:
        d.add_many("acoustic", [f"net:{k}" for k in range(n_acoustic)], 0.9)
    for k in range(n_thermal):
        d.add("thermal", f"firms:{k}", prm.strength_thermal)
    before = freeze(d, prm, _leaf)
    for k in range(n_allegations):
        d.add("allegation", f"party-S:{k}", prm.strength_allegation)
        d.allegation_parties[f"party-S:{k}"] = ("S", "N")
    after = freeze(d, prm, _leaf)
    if n_acoustic or n_thermal:
        assert after.confidence == before.confidence and after.status == before.status
    model = default_model()
    fb, fa = features(before), features(after)
    if n_acoustic or n_thermal:
        assert model.probability(fa) == model.probability(fb)
    att = Attribution({"S": accuser_share, "N": 1.0 - accuser_share}, None, "")
    verdicts = allegation_verdicts([after], [att], threshold=0.9)[0]
    if accuser_share >= 0.9:
        assert "corroborated" not in verdicts.values()


def test_a_bad_model_file_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"name": "x", "coefficients": {"fire": {"charm": 1.0}}}))
    with pytest.raises(InputError) as err:
        load_model(path)
    assert "coefficients.fire" in str(err.value) and "charm" in str(err.value)
    path.write_text("{")
    with pytest.raises(InputError):
        load_model(path)


def test_the_shipped_model_says_where_it_came_from() -> None:
    m = default_model()
    assert m.name != "identity", "truceline/data/confidence_model.json ships with the package"
    fitted = m.provenance["fitted_on"]
    assert fitted["world"] == "field" and not set(fitted["seeds"]) & set(range(1, 11))
    assert {"fire", "fire_unheard", "presence"} <= set(m.coefficients)
    # a source the simulated world never made (news reports) keeps fusion's score
    report = {"family": "fire_unheard", "score": 0.0, "event_report": 1.0}
    assert not m.applies(report) and m.applies(report | {"event_report": 0.0, "thermal": 1.0})


def test_tracked_flights_have_their_own_family_fitted_on_other_days() -> None:
    """A tracked flight is calibrated as a flight (was it one?), not as a firing: its
    family was fitted on days of its own, labelled by the flights flown, and a long track
    seen by radar and radio is confident while a short radar-only one is not."""
    m = default_model()
    assert "flight" in m.coefficients
    own = m.provenance["families"]["flight"]["fitted_on"]
    assert own["world"] == "field" and own["flights"] and not set(own["seeds"]) & set(range(1, 11))
    x = dict.fromkeys(FEATURES, 0.0) | {"family": "flight", "score": 2.0, "spread": 4.5}
    long = x | {"radar": np.log1p(3), "rf": np.log1p(2), "drone_acoustic": np.log1p(2)}
    short = x | {"radar": np.log1p(1), "score": 0.0, "spread": 5.5}
    assert m.applies(long) and m.probability(long) > 0.8
    assert m.probability(short) < m.probability(long)


def test_one_family_is_refitted_and_the_others_kept() -> None:
    base = ConfidenceModel("base", {"fire": {"intercept": 1.0}}, {"counts": {"fire": {"real": 1}}})
    other = ConfidenceModel(
        "new", {"flight": {"intercept": 2.0}}, {"counts": {"flight": {"real": 5}}, "seeds": [7]}
    )
    both = with_family(base, other, "flight")
    assert both.coefficients == {"fire": {"intercept": 1.0}, "flight": {"intercept": 2.0}}
    assert both.provenance["counts"] == {"fire": {"real": 1}, "flight": {"real": 5}}
    assert both.provenance["families"] == {"flight": {"seeds": [7]}}


def test_confidence_is_calibrated_on_a_day_it_was_not_fitted_on(tmp_path: Path) -> None:
    """A field-world day (seed 9, never fitted on): incidents stated below 0.5 are mostly not
    real, those above 0.9 mostly are, and the run records the model it used."""
    from truceline.agreement import load_agreement
    from truceline.analysis import analyze, write_outputs
    from truceline.simulate import simulate
    from truceline.sources import read_observations

    simulate(tmp_path / "sc", seed=9, hours=6, world="field")
    ag = load_agreement(tmp_path / "sc" / "agreement.yaml")
    run = analyze(read_observations([tmp_path / "sc" / "observations.jsonl"]).observations, ag)
    write_outputs(run, ag, tmp_path / "an")
    recorded = run.summary["parameters"]["confidence_model"]
    assert ConfidenceModel.from_dict(recorded).sha256 == default_model().sha256
    report = evaluate(tmp_path / "sc" / "truth.jsonl", tmp_path / "an" / "incidents.geojson")
    bins = report["by_confidence"]["bins"]
    low = [b for k, b in bins.items() if float(k.split("-")[1]) <= 0.5]
    high = bins.get("0.9-1.0")
    n_low = sum(b["n"] for b in low)
    assert n_low >= 10 and sum(b["n"] * b["observed"] for b in low) / n_low < 0.35
    assert high is not None and high["n"] >= 50 and high["observed"] >= 0.9
