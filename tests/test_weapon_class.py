"""The recalibration of the weapon class's top probability: monotone, recorded with the
model, applied only to firings the network heard, and fitted back from labelled data."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from truceline.confidence import ConfidenceModel, load_model
from truceline.errors import InputError
from truceline.incidents import FiringEvidence, Fused
from truceline.simulate.scenario import demo_agreement
from truceline.weapon_class import classify, fit_recalibration, recalibrate
from truceline.weapons import FIRING_CLASSES

SHARPER = {"intercept": 0.3, "slope": 1.8}


@settings(max_examples=200, deadline=None)
@given(
    raw=st.lists(st.floats(0.001, 1.0), min_size=2, max_size=8),
    intercept=st.floats(-2.0, 2.0),
    slope=st.floats(0.2, 4.0),
)
def test_recalibration_keeps_the_ranking_and_sums_to_one(
    raw: list[float], intercept: float, slope: float
) -> None:
    post = np.array(raw) / sum(raw)
    out = recalibrate(post, {"intercept": intercept, "slope": slope})
    assert out.sum() == pytest.approx(1.0)
    assert (out >= 0).all()
    top = int(np.argmax(post))
    assert int(np.argmax(out)) == top or out[top] == pytest.approx(out.max())
    rest = np.delete(np.arange(post.size), top)
    # the other classes keep their proportions
    if post[rest].sum() > 1e-9 and out[rest].sum() > 1e-9:
        assert out[rest] / out[rest].sum() == pytest.approx(post[rest] / post[rest].sum())


def test_recalibration_is_monotone_in_the_stated_probability() -> None:
    p = np.linspace(0.2, 0.99, 50)
    q = [recalibrate(np.array([x, 1 - x]), SHARPER)[0] for x in p]
    assert all(b >= a for a, b in itertools.pairwise(q))


def test_fit_recovers_a_known_map() -> None:
    rng = np.random.default_rng(5)
    p = rng.uniform(0.3, 0.99, 5000)
    z = np.log(p / (1 - p))
    truly = 1 / (1 + np.exp(-(0.4 + 1.6 * z)))
    fitted = fit_recalibration(p, rng.uniform(size=p.size) < truly)
    assert fitted["intercept"] == pytest.approx(0.4, abs=0.25)
    assert fitted["slope"] == pytest.approx(1.6, abs=0.25)


def _firing(share: float) -> Fused:
    """A paired firing whose kinematics give the first two classes ``share`` : 1 - share."""
    lik = [share, 1.0 - share] + [1e-9] * (len(FIRING_CLASSES) - 2)
    return Fused(
        "fire",
        0,
        0,
        firing=FiringEvidence(
            launches=1,
            impacts=1,
            range_m=10_000.0,
            tof_s=30.0,
            pairing_probability=1.0,
            likelihood=tuple(lik),
        ),
    )


def test_a_recalibrated_firing_is_named_and_says_so() -> None:
    ag = demo_agreement()
    (plain,) = classify([_firing(0.85)], ag)
    (sharp,) = classify([_firing(0.85)], ag, recalibration=SHARPER)
    assert max(plain.probabilities.values()) < 0.9 and plain.weapon == "unknown"
    assert max(sharp.probabilities.values()) >= 0.9 and sharp.weapon != "unknown"
    assert max(plain.probabilities, key=plain.probabilities.get) == sharp.weapon
    assert "recalibrated" in sharp.basis and "recalibrated" not in plain.basis


def test_what_the_network_did_not_hear_is_not_recalibrated() -> None:
    """A fire seen only by a patrol keeps the classifier's own probabilities: the map was
    fitted on firings the network heard."""
    inc = Fused("fire", 0, 0, reports=(("patrol", "mlrs"),))
    (plain,) = classify([inc], demo_agreement())
    (other,) = classify([inc], demo_agreement(), recalibration=SHARPER)
    assert plain == other


def test_the_model_records_the_map_only_when_it_has_one(tmp_path: Path) -> None:
    """A run logged before the map existed reads back to the same summary (reproduce)."""
    old = ConfidenceModel("m", {}, {})
    assert "weapon_class" not in old.as_dict()
    assert ConfidenceModel.from_dict(old.as_dict()) == old
    new = ConfidenceModel("m", {}, {}, SHARPER)
    assert new.as_dict()["weapon_class"] == SHARPER
    assert ConfidenceModel.from_dict(new.as_dict()).as_dict() == new.as_dict()
    assert new.sha256 != old.sha256
    path = tmp_path / "m.json"
    path.write_text(json.dumps(new.as_dict() | {"weapon_class": {"slope": "steep"}}))
    with pytest.raises(InputError, match="weapon_class"):
        load_model(path)


def test_a_class_published_at_the_threshold_is_named() -> None:
    """The lowest evidence whose class is published at 0.9 (its unrounded probability just
    below): what a reader sees at the threshold is named, never "unknown"."""
    ag = demo_agreement()

    def top(share: float) -> float:
        (wc,) = classify([_firing(share)], ag)
        return max(wc.probabilities.values())

    lo, hi = 0.5, 0.999
    for _ in range(60):  # the smallest share whose published top probability is 0.9
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if top(mid) >= 0.9 else (mid, hi)
    (wc,) = classify([_firing(hi)], ag)
    assert max(wc.probabilities.values()) == 0.9 and wc.weapon != "unknown"


def test_an_allegation_is_no_report_of_the_weapon() -> None:
    """A party's claim never votes in the class (hole 16): an incident stored by an older
    run may still carry ``("allegation", class)`` assessments; they weigh nothing and are
    not named in the basis, for a fire and for an incident of allegations alone."""
    ag = demo_agreement()
    salvo = Fused("fire", 0, 0, firing=FiringEvidence(launches=1, impacts=1))
    claimed = Fused(
        "fire",
        0,
        0,
        firing=FiringEvidence(launches=1, impacts=1),
        reports=(("allegation", "mlrs"),) * 15,
    )
    (plain, flooded) = classify([salvo, claimed], ag)
    assert flooded == plain and "allegation" not in flooded.basis
    (alone,) = classify([Fused("unlocated", 0, 0, reports=(("allegation", "mlrs"),))], ag)
    assert (alone.weapon, alone.probabilities, alone.basis) == (
        "unknown",
        {},
        "no report of what it was",
    )
