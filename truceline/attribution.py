"""Attribution: the probability that each party is responsible for an incident.

For a **fire** incident whose origin was located, the probability that party P fired is the
probability that the origin lies in P's control area, integrated over the origin's
uncertainty (a bivariate normal with the localisation covariance). The integral is computed
by evaluating a fixed set of quasi-random points (an unscrambled Sobol sequence mapped
through the normal quantile and completed with its mirror images, the same for every
incident and every run, so results are reproducible to the last digit) placed along the
covariance's principal axes, and counting the share that falls in each area. Because the
point set is symmetric, mirroring the map mirrors every probability exactly. Points that fall
in no control area (beyond the agreement's map) are "undetermined".

For a fire incident known only by its **impact**, the direction of fire is unknown: no party
is given any probability, and the incident says so.

For **presence**, the equipment's side is the control area it stands in (same integral over
the position's uncertainty). For a **crossing**, the equipment's owner is the party its
markings identified.

``attributed_to`` is set only when one party's probability reaches the threshold (0.95 by
default): below it, the incident is published as undetermined.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np
from numpy.typing import NDArray
from scipy.stats import norm, qmc

from .agreement import Agreement
from .incidents import Attribution, Fused

__all__ = [
    "DEFAULT_THRESHOLD",
    "N_SAMPLES",
    "allegation_verdicts",
    "attribute",
    "standard_normal_points",
]

DEFAULT_THRESHOLD = 0.95
N_SAMPLES = 1024


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
    ag: Agreement, x: NDArray[np.float64], y: NDArray[np.float64], cov: NDArray[np.float64]
) -> NDArray[np.float64]:
    """(N, parties) probability that each point lies in each party's control area."""
    z = standard_normal_points()
    # principal axes: a mirrored covariance has mirrored axes, so the points mirror too
    values, vectors = np.linalg.eigh(cov)
    scaled = vectors * np.sqrt(np.maximum(values, 1e-6))[:, None, :]
    offsets = np.einsum("nij,kj->nki", scaled, z)
    sx = x[:, None] + offsets[..., 0]
    sy = y[:, None] + offsets[..., 1]
    owner = ag.owner_index(sx.ravel(), sy.ravel()).reshape(sx.shape)
    return np.stack([(owner == k).mean(axis=1) for k in range(len(ag.parties))], axis=1)


def attribute(
    incidents: Sequence[Fused], ag: Agreement, threshold: float = DEFAULT_THRESHOLD
) -> list[Attribution]:
    """The attribution of each incident, in order (probabilities, the party named when one
    reaches ``threshold``, and the basis in words)."""
    parties = ag.party_ids
    basis: list[str] = []
    probs: list[dict[str, float]] = [{} for _ in incidents]
    todo: list[int] = []
    for k, inc in enumerate(incidents):
        if inc.kind == "crossing" and inc.marking:
            probs[k] = {inc.marking: 1.0}
            basis.append("owner identified from markings seen by UAV")
        elif inc.kind in ("fire", "air", "presence") and inc.origin is not None:
            todo.append(k)
            what = "origin" if inc.kind != "presence" else "position"
            basis.append(
                f"P({what} in each control area) over its uncertainty, {N_SAMPLES} fixed points"
            )
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
        cov = np.array([o.cov for o in origins])
        for k, p in zip(todo, _probabilities(ag, x, y, cov), strict=True):
            probs[k] = {parties[j]: float(p[j]) for j in range(len(parties)) if p[j] > 0}
    return [Attribution(p, _named(p, threshold), b) for p, b in zip(probs, basis, strict=True)]


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
