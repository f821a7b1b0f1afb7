"""Fit the model that turns fusion's evidence into a calibrated confidence (P(real)).

    python tools/fit_confidence.py --world field --seeds 201-212 --hours 8 \\
        --out truceline/data/confidence_model.json

Each seed is simulated, analysed with fusion's raw score (the identity model), and every
published incident is labelled real or not by the scorer of ``truceline evaluate`` (the
same fixed gates; a launch paired with another firing's impact is not real). A logistic
regression per family is fitted on those labels (:func:`truceline.confidence.fit`) and
written with its provenance: the world, seeds, hours, code version and the fit's own
reliability table. The seeds used to fit must differ from the seeds used to evaluate
(``benchmarks/accuracy.py`` uses 1-10).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from rich.progress import track

from truceline._version import __version__
from truceline.agreement import load_agreement
from truceline.analysis import analyze, write_outputs
from truceline.confidence import ConfidenceModel, features, fit
from truceline.evaluate import published_matches
from truceline.evaluate.truth import read_scored
from truceline.reliability import max_gap, reliability_table
from truceline.simulate import simulate
from truceline.sources import read_observations


def labelled(world: str, seed: int, hours: float) -> list[tuple[dict[str, Any], bool]]:
    """(features, real) for every located incident of one simulated day."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        simulate(root / "sc", seed=seed, hours=hours, world=world)
        ag = load_agreement(root / "sc" / "agreement.yaml")
        batch = read_observations([root / "sc" / "observations.jsonl"])
        run = analyze(batch.observations, ag, confidence=ConfidenceModel.identity())
        write_outputs(run, ag, root / "an")
        truth, incs = read_scored(root / "sc" / "truth.jsonl", root / "an" / "incidents.geojson")
    real = {i["id"]: m.right for i, m in published_matches(truth, incs)}
    return [(features(i), real[i.id]) for i in run.incidents if i.id in real]


def _seeds(text: str) -> list[int]:
    if "-" in text:
        a, b = text.split("-")
        return list(range(int(a), int(b) + 1))
    return [int(s) for s in text.split(",")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--world", default="field")
    ap.add_argument("--seeds", default="201-212")
    ap.add_argument("--hours", type=float, default=8.0)
    ap.add_argument("--l2", type=float, default=1.0)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    seeds = _seeds(a.seeds)
    rows: list[tuple[dict[str, Any], bool]] = []
    for s in track(seeds, description=f"simulating and analysing {len(seeds)} days"):
        rows += labelled(a.world, s, a.hours)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    provenance = {
        "fitted_on": {"world": a.world, "seeds": seeds, "hours": a.hours},
        "fitted": dt.date.today().isoformat(),
        "truceline_version": __version__,
        "commit": commit or None,
        "l2": a.l2,
        "features": "see truceline.confidence",
    }
    model = fit(rows, f"{a.world}-logistic", provenance, l2=a.l2)
    fitted = [(x, y) for x, y in rows if model.applies(x)]
    table = reliability_table([model.probability(x) for x, _ in fitted], [y for _, y in fitted])
    doc = model.as_dict()
    doc["provenance"]["in_sample"] = {
        "incidents": len(fitted),
        "bins": table,
        "max_gap_bins_of_100": max_gap(table),
    }
    a.out.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    json.dump(doc["provenance"]["in_sample"], sys.stdout, indent=1)
    sys.stdout.write(f"\nwrote {a.out} ({len(rows)} incidents)\n")


if __name__ == "__main__":
    main()
