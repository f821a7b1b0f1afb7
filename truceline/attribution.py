"""Attribution: the probability that a firing position lies in each party's area.

For a **fire** incident whose origin was located, the probability that the firing position
lies in party P's control area is the product of three things, each stated in the
incident's ``attribution_basis``:

1. **P(real)**: the incident's confidence (the calibrated probability that the firing
   happened at all, :mod:`truceline.confidence`): a firing that did not happen was fired
   from nowhere.
2. **P(a launch)**: that the located origin is where a round was *fired*, not where one
   *landed*. The origin is the end of the firing the sensors labelled "launch"; each
   sensor's label is wrong with probability ``label_error`` (stated, 0.2 by default), so
   with ``m`` more labels for "this end is the launch" than against (at both ends of a
   paired firing) the odds are ((1 − ε)/ε)^m. A mislabelled impact would put the firing
   position in the victim's area, so what is not a launch is undetermined, never the other
   side.
3. **The share of the origin's uncertainty in P's area**: the position's bivariate normal
   (the localisation covariance, already scaled by the fit's χ²/dof where the fit is worse
   than its noise), widened by the line's own uncertainty (``line_of_contact_sigma_m`` of
   the agreement: a front map's age and resolution), weighted by the stated prior on where
   weapons stand (``standoff_m``: the prior density rises as 1 − exp(−d/standoff) with the
   distance d from the line, alike on both sides; 0, the default, is flat: no party's
   doctrine is assumed). The integral is computed over a fixed set of quasi-random points
   (an unscrambled Sobol sequence mapped through the normal quantile and completed with its
   mirror images, the same for every incident and every run, so results are reproducible
   to the last digit) placed along the covariance's principal axes. Because the point set
   is symmetric, mirroring the map mirrors every probability exactly. Points that fall in
   no control area (beyond the agreement's map) are "undetermined".

An origin that rests on a single event of four arrivals is flagged: its fit has one degree
of freedom, which no chi-square test can use, so one wrong pick would go unnoticed.

For a fire incident known only by its **impact**, the direction of fire is unknown: no party
is given any probability, and the incident says so. An **air** incident's launch area is
attributed like an origin, without P(real) (a track's confidence is not yet a calibrated
probability: a clean three-source crossing can read 0.27) and without labels (a track has
none).

For **presence**, the equipment's side is the control area it stands in (same integral over
the position's uncertainty). For a **crossing**, the equipment's owner is the party its
markings identified.

``attributed_to`` is set only when one party's probability reaches the threshold (0.95 by
default): below it, the incident is published as undetermined. The wording everywhere is
"the firing position lies in P's area with probability p", never "P fired".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit
from scipy.stats import norm, qmc

from .agreement import Agreement
from .incidents import Attribution, Fused

__all__ = [
    "DEFAULT_THRESHOLD",
    "N_SAMPLES",
    "AttributionParams",
    "allegation_verdicts",
    "attribute",
    "p_launch",
    "standard_normal_points",
]

DEFAULT_THRESHOLD = 0.95
N_SAMPLES = 1024


@dataclass(frozen=True)
class AttributionParams:
    """What attribution assumes, recorded in every run's parameters (``attribution``).

    ``label_error``: the chance that one sensor labels a launch an impact or the reverse
    (None: the labels are taken as certain); ``standoff_m``: the prior on where weapons
    stand (0: flat); ``fold_confidence``: P(real) multiplies the probabilities;
    ``line_band``: the agreement's ``line_of_contact_sigma_m`` widens every position;
    ``flag_untestable``: an origin of four arrivals says so.

    >>> AttributionParams.from_dict(AttributionParams().as_dict()) == AttributionParams()
    True
    """

    label_error: float | None = 0.2
    standoff_m: float = 0.0
    fold_confidence: bool = True
    line_band: bool = True
    flag_untestable: bool = True

    def __post_init__(self) -> None:
        if self.label_error is not None and not 0.0 < self.label_error < 0.5:
            raise ValueError(f"label_error {self.label_error} is not in (0, 0.5)")
        if not 0.0 <= self.standoff_m <= 100_000.0:
            raise ValueError(f"standoff_m {self.standoff_m} is not in [0, 100000]")

    @classmethod
    def legacy(cls) -> AttributionParams:
        """The rule of runs logged before attribution was a posterior (their parameters
        have no ``attribution``): the ellipse's share alone."""
        return cls(None, 0.0, fold_confidence=False, line_band=False, flag_untestable=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> AttributionParams:
        if d is None:
            return cls.legacy()
        err = d.get("label_error")
        return cls(
            label_error=None if err is None else float(err),
            standoff_m=float(d.get("standoff_m", 0.0)),
            fold_confidence=bool(d.get("fold_confidence", True)),
            line_band=bool(d.get("line_band", True)),
            flag_untestable=bool(d.get("flag_untestable", True)),
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@cache
def standard_normal_points(n: int = N_SAMPLES) -> NDArray[np.float64]:
    """``n`` fixed 2-D standard-normal points, symmetric under either axis' sign flip: a
    quarter are unscrambled Sobol points mapped through the normal quantile, the rest their
    mirror images.

    >>> pts = standard_normal_points(1024)
    >>> pts.shape, float(abs(pts.mean())) < 1e-12, bool(abs(pts.std() - 1) < 0.02)
    ((1024, 2), True, True)
    """
    quarter = max(n // 4, 1)
    m = int(np.ceil(np.log2(quarter)))
    u = qmc.Sobol(d=2, scramble=False).random_base2(m)[:quarter]
    # Sobol points lie on a lattice starting at 0; shift by half a cell so none is 0 or 1.
    z = np.asarray(norm.ppf((u + 0.5 / 2**m) % 1.0), dtype=float)
    return np.concatenate([z * np.array(s) for s in ((1, 1), (-1, 1), (1, -1), (-1, -1))])


def _probabilities(
    ag: Agreement,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    cov: NDArray[np.float64],
    standoff_m: float = 0.0,
) -> NDArray[np.float64]:
    """(N, parties) probability that each point lies in each party's control area, under
    the prior density 1 − exp(−d/standoff) of the distance d from the line (flat at 0)."""
    z = standard_normal_points()
    # principal axes: a mirrored covariance has mirrored axes, so the points mirror too
    values, vectors = np.linalg.eigh(cov)
    scaled = vectors * np.sqrt(np.maximum(values, 1e-6))[:, None, :]
    offsets = np.einsum("nij,kj->nki", scaled, z)
    sx = x[:, None] + offsets[..., 0]
    sy = y[:, None] + offsets[..., 1]
    owner = ag.owner_index(sx.ravel(), sy.ravel()).reshape(sx.shape)
    weight = np.ones(owner.shape)
    mixed = np.flatnonzero((owner != owner[:, :1]).any(axis=1))
    if standoff_m > 0 and mixed.size:  # an area's share moves only where the points straddle
        d = ag.distance_to_line_m(sx[mixed].ravel(), sy[mixed].ravel()).reshape(-1, z.shape[0])
        weight[mixed] = -np.expm1(-d / standoff_m)
    total = np.maximum(weight.sum(axis=1), 1e-300)
    return np.stack(
        [np.where(owner == k, weight, 0.0).sum(axis=1) / total for k in range(len(ag.parties))],
        axis=1,
    )


def p_launch(inc: Fused, label_error: float | None) -> float:
    """P(the located origin is where the round was fired), from the sensors' labels.

    >>> from truceline.incidents import FiringEvidence
    >>> one = Fused("fire", 0, 0, firing=FiringEvidence(origin_labels=(5, 1)))
    >>> round(p_launch(one, 0.2), 4)
    0.9961
    >>> p_launch(one, None)
    1.0
    """
    f = inc.firing
    if label_error is None or f is None or f.origin_labels is None:
        return 1.0
    margin = f.origin_labels[0] - f.origin_labels[1]
    if f.impact_labels is not None:  # the other end's labels say the same of this one
        margin += f.impact_labels[1] - f.impact_labels[0]
    return float(expit(margin * np.log((1.0 - label_error) / label_error)))


def attribute(
    incidents: Sequence[Fused],
    ag: Agreement,
    threshold: float = DEFAULT_THRESHOLD,
    params: AttributionParams | None = None,
) -> list[Attribution]:
    """The attribution of each incident, in order (probabilities, the party named when one
    reaches ``threshold``, and the basis in words)."""
    prm = AttributionParams() if params is None else params
    parties = ag.party_ids
    band = ag.line_sigma_m if prm.line_band else 0.0
    basis: list[str] = []
    probs: list[dict[str, float]] = [{} for _ in incidents]
    factor = np.ones(len(incidents))  # P(real) × P(a launch), where they apply
    todo: list[int] = []
    for k, inc in enumerate(incidents):
        if inc.kind == "crossing" and inc.marking:
            probs[k] = {inc.marking: 1.0}
            basis.append("owner identified from markings seen by UAV")
        elif inc.kind in ("fire", "air", "presence") and inc.origin is not None:
            todo.append(k)
            words, factor[k] = _basis(inc, prm, band)
            basis.append(words)
        elif inc.kind in ("fire", "air"):
            basis.append(
                "impact only: the origin was not located, so the direction of fire is undetermined"
            )
        else:
            basis.append("not located: no attribution")
    if todo:
        origins = [o for k in todo if (o := incidents[k].origin) is not None]
        x = np.array([o.x for o in origins])
        y = np.array([o.y for o in origins])
        cov = np.array([o.cov for o in origins]) + band**2 * np.eye(2)
        shares = _probabilities(ag, x, y, cov, prm.standoff_m)
        for k, p in zip(todo, shares * factor[todo, None], strict=True):
            probs[k] = {parties[j]: float(p[j]) for j in range(len(parties)) if p[j] > 0}
    return [Attribution(p, _named(p, threshold), b) for p, b in zip(probs, basis, strict=True)]


#: the words of a basis that say its areas' shares were multiplied (by P(real) and P(a launch))
MULTIPLIED_BY = ", times "


def multiplied(basis: str | None) -> bool:
    """Whether an attribution ``basis`` says the areas' shares were multiplied by the
    incident's P(real) (and P(a launch)): then what is not any party's share includes the
    chance that no firing happened there.

    >>> multiplied("P(origin in each control area) over its uncertainty, 1024 fixed points")
    False
    >>> multiplied("..., 1024 fixed points, times P(real) 0.9")
    True
    """
    return MULTIPLIED_BY in (basis or "")


def _basis(inc: Fused, prm: AttributionParams, band: float) -> tuple[str, float]:
    """The words of how an incident's attribution is computed, and the factor (its P(real)
    and P(a launch)) that multiplies its areas' shares."""
    what = "position" if inc.kind == "presence" else "origin"
    words = f"P({what} in each control area) over its uncertainty"
    if band > 0:
        words += f" and the line's (± {band:g} m, 1 σ)"
    if prm.standoff_m > 0:
        words += f", prior rising over {prm.standoff_m:g} m from the line"
    words += f", {N_SAMPLES} fixed points"
    factor = 1.0
    if inc.kind == "fire" and prm.fold_confidence:
        terms = [f"P(real) {inc.confidence:.4g}"]
        factor = inc.confidence
        if prm.label_error is not None and inc.firing and inc.firing.origin_labels is not None:
            pl = p_launch(inc, prm.label_error)
            terms.append(f"P(a launch, from the sensors' labels) {pl:.4g}")
            factor *= pl
        words += f"{MULTIPLIED_BY}{' and '.join(terms)}"
    if prm.flag_untestable and inc.firing is not None and inc.firing.origin_untestable:
        words += "; the origin rests on four arrivals, which no test can check"
    return words, factor


def _named(probs: dict[str, float], threshold: float) -> str | None:
    """The party whose probability reaches the threshold (ties broken by party id)."""
    if not probs:
        return None
    best = max(sorted(probs), key=lambda k: probs[k])
    return best if probs[best] >= threshold else None


def allegation_verdicts(
    incidents: Sequence[Fused],
    attributions: Sequence[Attribution],
    threshold: float = DEFAULT_THRESHOLD,
) -> list[dict[str, str]]:
    """What the sensors say of each allegation that joined an incident: ``contradicted``
    when the firing position lies in the accuser's own area (its own side fired: the
    allegation is not support), ``corroborated`` when it lies in the accused's area, and
    ``unverified`` otherwise (no located origin, too uncertain a one, or nothing but
    allegations behind the incident). Both with at least ``threshold`` probability.

    >>> import numpy as np
    >>> from truceline.incidents import Point
    >>> inc = Fused("fire", 0, 0, origin=Point(0.0, 0.0, np.eye(2), 0),
    ...             support={"acoustic": ("s:1",), "allegation": ("party-S:1",)},
    ...             allegation_parties={"party-S:1": ("S", "N")})
    >>> allegation_verdicts([inc], [Attribution({"S": 1.0}, "S", "")])
    [{'party-S:1': 'contradicted'}]
    """
    out = []
    for inc, att in zip(incidents, attributions, strict=True):
        sensed = any(k != "allegation" for k in inc.support)
        verdicts = {}
        for ref, (accuser, accused) in inc.allegation_parties.items():
            p = att.probabilities
            if sensed and inc.origin is not None and p.get(accuser, 0.0) >= threshold:
                verdicts[ref] = "contradicted"
            elif sensed and inc.origin is not None and p.get(accused, 0.0) >= threshold:
                verdicts[ref] = "corroborated"
            else:
                verdicts[ref] = "unverified"
        out.append(verdicts)
    return out
