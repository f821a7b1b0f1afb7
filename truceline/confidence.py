"""An incident's ``confidence`` as a calibrated probability that it is real.

Fusion scores each incident by its evidence (:mod:`truceline.fusion.draft`: a noisy-OR of
hand-set source strengths). That score orders incidents well but is not a probability:
measured on simulated days of the ``field`` world, incidents scored 0.30 were real about
one time in ten. This module turns the evidence into ``P(real | evidence)`` with a model
fitted on labelled days, and says so in every run's parameters.

**The model** is a logistic regression per family of incident (``fire``: fire and air heard
by the acoustic network; ``fire_unheard``: fire seen only otherwise, from orbit or by a
patrol; ``flight``: a tracked air object's flight, with or without the strike joined at its
end, real when it was a flight that flew; ``presence``: presence and crossing), over
features a commission member can read:

- ``score``: the logit of fusion's own score (the hand-set strengths, as a starting point);
- ``acoustic``, ``thermal``, ``uav``, ``patrol``, ``event_report``, and a drone's
  ``radar``, ``rf`` and ``drone_acoustic`` (engine) detections: log(1 + the number of
  independent sources of each type supporting it: sensors, satellites, patrols; copies
  from one source count once) — each coefficient is how much one more source of that type
  multiplies the odds (a log likelihood ratio);
- ``both_points``: the firing has a located launch *and* a located impact. Launch and impact
  come from one network, so this term, fitted jointly with ``acoustic``, is what keeps them
  from counting as two independent confirmations;
- ``spread``: log of the located point's radial σ in metres (a poorly constrained fix is
  more often a chance alignment of unrelated picks).

An allegation is **not** a feature: a party's word never raises confidence, whatever it
says. The intercept is the prior (the log odds of an incident with no evidence beyond the
baseline). **Where the simulated world stands in for the real one**: the rate at which
a fire seen only from orbit is a weapon's is the simulated world's rate of unrelated fires,
which no simulation can know of a real line; a mission should refit on its own corroborated
incidents. Coefficients, the days they were fitted on and the fit's own reliability are in
the shipped model file (``truceline/data/confidence_model.json``), and a run records the
whole model in its parameters, so ``reproduce`` re-runs with the model the run used (a run
logged before calibration existed is re-run with the identity).

>>> m = ConfidenceModel.identity()
>>> m.name, m.probability({"family": "fire", "score": 0.0, "acoustic": 2.0})
('identity', 0.5)
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize

from .errors import InputError
from .incidents import Fused

__all__ = [
    "FEATURES",
    "ConfidenceModel",
    "calibrated",
    "default_model",
    "features",
    "fit",
    "load_model",
    "with_family",
]

FEATURES = (
    "score",
    "acoustic",
    "thermal",
    "uav",
    "patrol",
    "event_report",
    "radar",
    "rf",
    "drone_acoustic",
    "both_points",
    "spread",
)
FAMILIES = {"fire": "fire", "air": "fire", "presence": "presence", "crossing": "presence"}
SOURCES = ("acoustic", "thermal", "uav", "patrol", "event_report", "radar", "rf", "drone_acoustic")
MIN_SEEN = 30
_EPS = 1e-4


def family(kind: str, heard: bool = True, tracked: bool = False) -> str | None:
    """The model family of an incident (None: not calibrated, e.g. ``unlocated``): a fire the
    acoustic network did not hear (seen from orbit, by a patrol) is a family of its own, and
    so is a tracked flight (whether or not a strike was joined with it).

    >>> family("air"), family("fire", heard=False), family("air", tracked=True)
    ('fire', 'fire_unheard', 'flight')
    >>> family("unlocated") is None
    True
    """
    if tracked:
        return "flight"
    fam = FAMILIES.get(kind)
    return "fire_unheard" if fam == "fire" and not heard else fam


def _logit(p: float) -> float:
    q = min(max(p, _EPS), 1.0 - _EPS)
    return math.log(q / (1.0 - q))


def features(f: Fused) -> dict[str, Any]:
    """The features of one incident (before calibration: ``confidence`` is fusion's score)."""
    # independent sources, not observations: one token posting for many sensors (or many
    # reports) counts once, as in fusion (truceline.fusion.acoustic)
    n = {k: len({r.split(":", 1)[0] for r in v}) for k, v in f.support.items()}
    pts = [p for p in (f.origin, f.impact) if p is not None]
    sigma = max(min((p.sigma_m for p in pts), default=1.0), 1.0)
    return {
        "family": family(f.kind, heard=n.get("acoustic", 0) > 0, tracked=f.flight is not None),
        "score": _logit(f.confidence),
        "acoustic": math.log1p(n.get("acoustic", 0)),
        "thermal": math.log1p(n.get("thermal", 0)),
        "uav": math.log1p(n.get("uav", 0)),
        "patrol": math.log1p(n.get("patrol", 0)),
        "event_report": math.log1p(n.get("event_report", 0)),
        "radar": math.log1p(n.get("radar", 0)),
        "rf": math.log1p(n.get("rf", 0)),
        "drone_acoustic": math.log1p(n.get("drone_acoustic", 0)),
        "both_points": float(f.origin is not None and f.impact is not None),
        "spread": math.log(sigma),
    }


@dataclass(frozen=True)
class ConfidenceModel:
    """Coefficients per family (``intercept`` and one per feature), with where they came
    from. A family without coefficients keeps fusion's score."""

    name: str
    coefficients: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    provenance: Mapping[str, Any] = field(default_factory=dict)
    #: the recalibration of the weapon class's top probability (``intercept``, ``slope`` on
    #: its logit; :func:`truceline.weapon_class.recalibrate`), fitted on the same days; empty: none
    weapon_class: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def identity(cls) -> ConfidenceModel:
        """Fusion's score unchanged (used to fit a model, and where none is shipped)."""
        return cls("identity")

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> ConfidenceModel:
        """The model recorded with a run (:meth:`as_dict`)."""
        return cls(
            str(doc["name"]),
            doc.get("coefficients", {}),
            doc.get("provenance", {}),
            doc.get("weapon_class", {}),
        )

    def as_dict(self) -> dict[str, Any]:
        """The model as plain data, keys sorted at every level (so that a model read back
        from a logged run writes the same summary)."""
        doc = {
            "name": self.name,
            "coefficients": self.coefficients,
            "provenance": self.provenance,
        }
        if self.weapon_class:  # absent from runs logged before it existed: they reproduce
            doc["weapon_class"] = self.weapon_class
        out: dict[str, Any] = _plain(json.loads(json.dumps(doc, sort_keys=True)))
        return out

    def applies(self, x: Mapping[str, Any]) -> bool:
        """Whether the model was fitted on incidents like this one: its family was fitted,
        and every source supporting it was seen in at least ``MIN_SEEN`` fitted incidents
        of that family. Elsewhere (a news report, which the simulated world does not make)
        fusion's score stands."""
        fam = str(x.get("family"))
        seen = self.provenance.get("counts", {}).get(fam, {}).get("with", {})
        if fam not in self.coefficients:
            return False
        return all(seen.get(k, 0) >= MIN_SEEN for k in SOURCES if float(x.get(k, 0.0)) > 0.0)

    @property
    def sha256(self) -> str:
        """Digest of the canonical JSON of the model (recorded with every run)."""
        text = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def probability(self, x: Mapping[str, Any]) -> float:
        """P(real) for one incident's :func:`features`."""
        coef = self.coefficients.get(str(x.get("family")))
        if not coef:
            s = float(x.get("score", 0.0))
            return 1.0 / (1.0 + math.exp(-s))
        z = coef.get("intercept", 0.0) + sum(
            coef.get(k, 0.0) * float(x.get(k, 0.0)) for k in FEATURES
        )
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))


def _plain(v: Any) -> Any:
    """Integral floats as ints, at every level: the evidence log's canonical JSON writes 8.0
    as 8, and a model read back from a logged run must write the same summary."""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


def calibrated(found: Sequence[Fused], model: ConfidenceModel) -> list[Fused]:
    """Each incident with its confidence replaced by the model's P(real), rounded to 4
    decimals, where the model applies (:meth:`ConfidenceModel.applies`); elsewhere fusion's
    score stands."""
    if model.name == "identity":
        return list(found)
    out = []
    for f in found:
        x = features(f)
        applies = model.applies(x)
        out.append(replace(f, confidence=round(model.probability(x), 4)) if applies else f)
    return out


def fit(
    rows: Iterable[tuple[Mapping[str, Any], bool]],
    name: str,
    provenance: Mapping[str, Any],
    l2: float = 1.0,
) -> ConfidenceModel:
    """Fit one logistic regression per family on ``(features, real)`` rows (L2-penalised
    maximum likelihood; the intercept is not penalised)."""
    by: dict[str, list[tuple[Mapping[str, Any], bool]]] = {}
    for x, y in rows:
        if x.get("family") is not None:
            by.setdefault(str(x["family"]), []).append((x, y))
    coefficients: dict[str, dict[str, float]] = {}
    counts: dict[str, dict[str, Any]] = {}
    for fam, data in sorted(by.items()):
        xs = np.array([[1.0] + [float(x.get(k, 0.0)) for k in FEATURES] for x, _ in data])
        ys = np.array([1.0 if y else 0.0 for _, y in data])
        counts[fam] = {
            "incidents": len(data),
            "real": int(ys.sum()),
            "with": {k: sum(1 for x, _ in data if float(x.get(k, 0.0)) > 0.0) for k in SOURCES},
        }
        if ys.min() == ys.max():
            continue  # nothing to learn from one class only: keep fusion's score
        pen = np.r_[0.0, np.full(len(FEATURES), l2)]

        res = minimize(_penalised_nll, np.zeros(xs.shape[1]), (xs, ys, pen), "L-BFGS-B", jac=True)
        w = res.x
        coefficients[fam] = {"intercept": round(float(w[0]), 6)} | {
            k: round(float(v), 6) for k, v in zip(FEATURES, w[1:], strict=True)
        }
    return ConfidenceModel(name, coefficients, dict(provenance) | {"counts": counts})


def with_family(base: ConfidenceModel, fitted: ConfidenceModel, fam: str) -> ConfidenceModel:
    """``base`` with family ``fam``'s coefficients and counts taken from ``fitted`` (a model
    fitted on other days), and where they came from under ``provenance["families"][fam]``;
    the other families stay as they were."""
    coefficients = {k: v for k, v in base.coefficients.items() if k != fam}
    if fam in fitted.coefficients:
        coefficients[fam] = fitted.coefficients[fam]
    prov = dict(base.provenance)
    counts = dict(prov.get("counts", {}))
    if fam in fitted.provenance.get("counts", {}):
        counts[fam] = fitted.provenance["counts"][fam]
    own = {k: v for k, v in fitted.provenance.items() if k != "counts"}
    prov["counts"] = counts
    prov["families"] = dict(prov.get("families", {})) | {fam: own}
    return replace(base, coefficients=coefficients, provenance=prov)


def _penalised_nll(
    w: np.ndarray, xs: np.ndarray, ys: np.ndarray, pen: np.ndarray
) -> tuple[float, np.ndarray]:
    """The logistic negative log-likelihood with an L2 penalty, and its gradient."""
    z = xs @ w
    nll = float(np.sum(np.logaddexp(0.0, z) - ys * z))
    grad = xs.T @ (1.0 / (1.0 + np.exp(-z)) - ys)
    return nll + 0.5 * float(np.sum(pen * w * w)), grad + pen * w


def load_model(path: Path) -> ConfidenceModel:
    """Read a model file written by ``tools/fit_confidence.py``."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(str(path), exc.lineno, None, f"not valid JSON ({exc.msg})") from None
    for key in ("name", "coefficients"):
        if key not in doc:
            raise InputError(str(path), None, key, "required field is missing")
    for fam, coef in doc["coefficients"].items():
        unknown = set(coef) - {"intercept", *FEATURES}
        if fam not in {*FAMILIES.values(), "fire_unheard", "flight"} or unknown:
            raise InputError(
                str(path), None, f"coefficients.{fam}", f"unknown: {sorted(unknown) or fam}"
            )
    wc = doc.get("weapon_class", {})
    if (
        not isinstance(wc, dict)
        or not set(wc) <= {"intercept", "slope"}
        or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in wc.values()
        )
    ):
        raise InputError(str(path), None, "weapon_class", "must be {intercept, slope} numbers")
    return ConfidenceModel.from_dict(doc)


def default_model() -> ConfidenceModel:
    """The shipped model (fitted on the ``field`` world), or the identity if none ships."""
    res = resources.files("truceline") / "data" / "confidence_model.json"
    if not res.is_file():
        return ConfidenceModel.identity()
    with resources.as_file(res) as p:
        return load_model(Path(p))
