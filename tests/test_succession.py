"""How a case follows its incident from run to run (hole 16b): the rule, its ties, and an
incident with no successor (:mod:`truceline.succession`)."""

from __future__ import annotations

from typing import Any

from truceline.succession import successor


def _f(i: str, start: str, refs: list[str]) -> dict[str, Any]:
    return {"properties": {"id": i, "time_start": f"2026-03-01T{start}Z", "observations": refs}}


OLD = _f("old", "12:00:00", ["s:1", "s:2", "s:3", "party-N:a1"])
SENSED = {"s:1", "s:2", "s:3"}


def test_the_successor_shares_the_most_sensed_observations() -> None:
    split = [_f("b", "12:00:00", ["s:1", "party-N:a1"]), _f("c", "12:00:05", ["s:2", "s:3"])]
    feature, info = successor(OLD, SENSED, split, run=3)
    assert feature["properties"]["id"] == "c"
    assert (info["superseded_by"], info["shared"], info["of"], info["tied"]) == ("c", 2, 3, 0)
    assert info["incident"] == "old" and info["run"] == 3 and info["rule"]


def test_allegations_do_not_choose_the_successor() -> None:
    """Sharing the original's allegations (or many others') makes no incident its successor."""
    lure = _f("lure", "12:00:00", ["party-N:a1", "party-N:a2", "party-N:a3"])
    feature, info = successor(OLD, SENSED, [lure], run=2)
    assert feature is OLD and info["superseded_by"] is None and info["shared"] == 0


def test_a_tie_goes_to_the_nearest_in_time_then_the_smaller_id_and_says_so() -> None:
    a = _f("a", "12:00:09", ["s:1"])
    b = _f("b", "12:00:01", ["s:2"])
    c = _f("c", "12:00:01", ["s:3"])
    feature, info = successor(OLD, SENSED, [a, c, b], run=2)
    assert (feature["properties"]["id"], info["tied"], info["shared"]) == ("b", 2, 1)


def test_no_successor_keeps_the_incident_as_its_last_run_found_it() -> None:
    far = _f("far", "18:00:00", ["s:9"])
    feature, info = successor(OLD, SENSED, [far], run=2)
    assert feature is OLD and info["superseded_by"] is None and info["of"] == 3
    # an incident of allegations alone has nothing to be followed by
    feature, info = successor(OLD, set(), [OLD], run=2)
    assert feature is OLD and info["superseded_by"] is None and info["of"] == 0
