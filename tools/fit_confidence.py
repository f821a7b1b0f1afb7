"""Fit the model that turns fusion's evidence into a calibrated confidence (P(real)).

    python tools/fit_confidence.py --world field --seeds 201-212 --hours 8 \\
        --out truceline/data/confidence_model.json

Each seed is simulated, analysed with fusion's raw score (the identity model), and every
published incident is labelled real or not by the scorer of ``truceline evaluate`` (the
same fixed gates; a launch paired with another firing's impact is not real). A logistic
regression per family is fitted on those labels (:func:`truceline.confidence.fit`), and the
recalibration of the weapon class's top probability on the real fire incidents the network
heard (:func:`truceline.weapon_class.fit_recalibration`: was the top class the true one?);
both are written with their provenance: the world, seeds, hours, code version and the fit's own
reliability table. The seeds used to fit must differ from the seeds used to evaluate
(``benchmarks/accuracy.py`` uses 1-10).

A tracked flight (the ``flight`` family) is real when it is the track of a flight the
simulator flew (:func:`truceline.evaluate.flights.flights_of`, ``drones_truth.jsonl``), with
or without a strike at its end. ``--flights`` flies reconnaissance drones, one-way drones
and aircraft too (2, 1 and 0.5 an hour, as ``benchmarks/drones.py``; ``field.yaml`` flies
only the strikes), and ``--family flight --base MODEL`` fits that family alone, keeping the
others of MODEL as they are (its provenance then says where each came from):

    python tools/fit_confidence.py --world field --seeds 201-212 --hours 8 --flights \
        --family flight --base truceline/data/confidence_model.json \
        --out truceline/data/confidence_model.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.progress import track

from truceline._version import __version__
from truceline.analysis import analyze, write_outputs
from truceline.confidence import ConfidenceModel, features, fit, load_model, with_family
from truceline.evaluate import published_matches
from truceline.evaluate.days import seed_list, simulated_day
from truceline.evaluate.flights import flights_of, read_flights
from truceline.evaluate.truth import read_scored
from truceline.reliability import max_gap, reliability_table
from truceline.simulate.world import World, load_world
from truceline.weapon_class import fit_recalibration, heard_firing, top_probability

Labelled = tuple[list[tuple[dict[str, Any], bool]], list[tuple[float, bool]]]


def labelled(world: World, seed: int, hours: float) -> Labelled:
    """(features, real) for every located incident of one simulated day, and (stated top
    class probability, right) for every real fire incident the network heard."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ag, observations = simulated_day(root, world, seed, hours)
        run = analyze(observations, ag, confidence=ConfidenceModel.identity())
        write_outputs(run, ag, root / "an")
        truth, incs = read_scored(root / "sc" / "truth.jsonl", root / "an" / "incidents.geojson")
        flown = read_flights(root / "sc" / "drones_truth.jsonl", ag)
    matches = published_matches(truth, incs)
    real = {i["id"]: m.right for i, m in matches}
    air = [i for i in run.incidents if i.flight is not None]
    real |= {i.id: m is not None for i, m in zip(air, flights_of(air, flown), strict=True)}
    fired = [t for t in truth if t["kind"] == "fire"]  # what a fire match's index counts
    weapon = {
        i["id"]: fired[m.truth]["weapon"]
        for i, m in matches
        if m.right and m.truth is not None and i["kind"] in ("fire", "air")
    }
    tops = [
        (max(i.weapon_probabilities.values()), _top(i.weapon_probabilities) == weapon[i.id])
        for i in run.incidents
        if i.id in weapon and i.weapon_probabilities and heard_firing(i)
    ]
    return [(features(i), real[i.id]) for i in run.incidents if i.id in real], tops


def in_sample(model: ConfidenceModel, rows: list[tuple[dict[str, Any], bool]]) -> dict[str, Any]:
    """The model's own reliability on the rows it was fitted on (those it applies to)."""
    fitted = [(x, y) for x, y in rows if model.applies(x)]
    table = reliability_table([model.probability(x) for x, _ in fitted], [y for _, y in fitted])
    return {"incidents": len(fitted), "bins": table, "max_gap_bins_of_100": max_gap(table)}


def _top(probs: Mapping[str, float]) -> str:
    return max(sorted(probs), key=lambda c: probs[c])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--world", default="field")
    ap.add_argument("--seeds", default="201-212")
    ap.add_argument("--hours", type=float, default=8.0)
    ap.add_argument("--l2", type=float, default=1.0)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--flights", action="store_true", help="fly recon, one-way and aircraft")
    ap.add_argument("--family", help="fit this family alone (with --base)")
    ap.add_argument("--base", type=Path, help="the model whose other families are kept")
    a = ap.parse_args()
    seeds = seed_list(a.seeds)
    world = load_world(a.world)
    if a.flights:
        assert world.drones is not None, "--flights needs a world with drones"
        flying = replace(world.drones, recon_per_hour=2.0, one_way_per_hour=1.0)
        world = replace(world, drones=replace(flying, aircraft_per_hour=0.5))
    rows: list[tuple[dict[str, Any], bool]] = []
    tops: list[tuple[float, bool]] = []
    for s in track(seeds, description=f"simulating and analysing {len(seeds)} days"):
        day, day_tops = labelled(world, s, a.hours)
        rows += day
        tops += day_tops
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], capture_output=True, text=True, check=False
    ).stdout.strip()
    provenance = {
        "fitted_on": {"world": a.world, "seeds": seeds, "hours": a.hours, "flights": a.flights},
        "fitted": dt.date.today().isoformat(),
        "truceline_version": __version__,
        "commit": commit or None,
        "l2": a.l2,
        "features": "see truceline.confidence",
    }
    if a.family:
        fam_rows = [(x, y) for x, y in rows if x.get("family") == a.family]
        part = fit(fam_rows, f"{a.world}-logistic", provenance, l2=a.l2)
        model = with_family(load_model(a.base), part, a.family)
        doc = model.as_dict()
        doc["provenance"]["families"][a.family]["in_sample"] = in_sample(model, fam_rows)
        a.out.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        json.dump(doc["provenance"]["families"][a.family]["in_sample"], sys.stdout, indent=1)
        sys.stdout.write(f"\nwrote {a.out} ({len(fam_rows)} {a.family} incidents)\n")
        return
    model = fit(rows, f"{a.world}-logistic", provenance, l2=a.l2)
    recal = fit_recalibration([p for p, _ in tops], [y for _, y in tops])
    model = replace(model, weapon_class=recal)
    doc = model.as_dict()
    doc["provenance"]["in_sample"] = in_sample(model, rows)
    stated = reliability_table([p for p, _ in tops], [y for _, y in tops])
    mapped = reliability_table(
        list(top_probability([p for p, _ in tops], recal)), [y for _, y in tops]
    )
    doc["provenance"]["weapon_class_in_sample"] = {
        "firings": len(tops),
        "stated_bins": stated,
        "recalibrated_bins": mapped,
    }
    a.out.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    json.dump(doc["provenance"]["in_sample"], sys.stdout, indent=1)
    sys.stdout.write(f"\nwrote {a.out} ({len(rows)} incidents)\n")


if __name__ == "__main__":
    main()
