"""The weapon class as a probability.

For every incident, Bayes' rule over the classes the evidence allows:

    P(class | evidence) ∝ P(class) × p(what the sensors heard | class) × Π p(report | class)

- **What the sensors heard** (:class:`~truceline.incidents.FiringEvidence`). A launch paired
  with an impact: the range, the time of flight and how many launches the firing made
  (:func:`truceline.localize.pairing.kinematic_likelihood`, over the analysis' broad model of
  each class, :mod:`truceline.weapons`). Because a pairing can be wrong, its stated
  probability mixes this with what the launch alone says. A launch alone: how many launches,
  and that the weapon could reach the line of contact from where it stood. An impact alone:
  how many impacts, and that the launch was not heard (likelier for a drone, whose launch is
  nearly silent, than for a gun).
- **How loud it was**: the source level of the launch and of the impact (the SNR each
  sensor reported plus the loss of spreading to it), against each class's (a 152 mm gun is
  louder than an 82 mm mortar; one shot differs from another by a few decibels).
- **Reports**: a patrol's assessment of the weapon (right three times in four, by this
  model), a patrol that saw or heard a drone or an aircraft, a UAV that saw the launcher at
  the firing position (right 95 % of the time). Equipment seen from the air is classed by
  what was seen. A party's allegation is no report: it names what the party says the
  other fired, and never votes (:mod:`truceline.fusion.allegation`).
- **P(class)**: the model's prior share of each class (uniform by default; ``truceline
  calibrate`` learns it from data).

**Recalibration of the top class.** The broad model is wide enough for any firing table, so
the posterior it gives is honest in order but too modest where the acoustic evidence is
good: on simulated days of the ``field`` world, firings given 0.85 for their top class were
right about 91 % of the time, and those given 0.75 about 88 %. Where the confidence model
carries a ``weapon_class`` recalibration (fitted by ``tools/fit_confidence.py`` on labelled
days, never on the days it is evaluated on), the top class's probability ``p`` becomes

    q = 1 / (1 + exp(-(a + b · logit p)))

and the other classes share ``1 − q`` in their own proportions (:func:`recalibrate`): a
monotone map, so the ranking of classes never changes, only how sure the top one is. The
run records the map with the model, and the basis of each incident says it was applied.

``weapon`` names a class only when its probability reaches the threshold (default 0.9);
below it the incident says ``unknown`` and lists the probabilities.

>>> from truceline.incidents import FiringEvidence, Fused
>>> from truceline.simulate.scenario import demo_agreement
>>> salvo = Fused("fire", 0, 0, firing=FiringEvidence(launches=12))
>>> (wc,) = classify([salvo], demo_agreement())
>>> max(wc.probabilities, key=wc.probabilities.get)
'mlrs'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .agreement import Agreement
from .incidents import Fused, WeaponClass
from .vocabulary import WEAPON_CLASSES
from .weapons import DEFAULT_MODEL, FIRING_CLASSES, WeaponModel

__all__ = [
    "DEFAULT_THRESHOLD",
    "REPORT_RIGHT",
    "classify",
    "fit_recalibration",
    "heard_firing",
    "recalibrate",
    "top_probability",
]

FloatArray = NDArray[np.float64]
DEFAULT_THRESHOLD = 0.9
#: how often each kind of report names the right class (the rest is spread evenly)
#: (no ``allegation``: a party's claim is not a report of the event, and a report of a kind
#: not listed here, as in an incident stored by an older run, is left out)
REPORT_RIGHT = {"patrol": 0.75, "uav": 0.95}
#: a patrol reports a drone (or aircraft): P(when it is one), P(when it is something else)
AIR_EVENT = (0.9, 0.02)
LAUNCH_WOULD_BE_HEARD = 0.6  # a launch of a class that can be heard, had the network heard it
FIRE_CLASSES = (*FIRING_CLASSES, "drone", "aircraft")
OTHER_CLASSES = tuple(c for c in WEAPON_CLASSES if c != "unknown")


def classify(
    incidents: Sequence[Fused],
    ag: Agreement,
    model: WeaponModel = DEFAULT_MODEL,
    threshold: float = DEFAULT_THRESHOLD,
    recalibration: Mapping[str, float] | None = None,
) -> list[WeaponClass]:
    """The weapon class of each incident, in order; ``recalibration`` (``intercept``,
    ``slope``) maps the top class's probability of a fire incident (:func:`recalibrate`)."""
    depth = _depth_to_line(incidents, ag)
    return [
        _classify(inc, depth[k], model, threshold, recalibration or {})
        for k, inc in enumerate(incidents)
    ]


def heard_firing(inc: Fused) -> bool:
    """Whether the acoustic network heard the firing (the incidents the recalibration is
    fitted on and applied to; a tracked air object is classed by how it flew)."""
    f = inc.firing
    return inc.flight is None and f is not None and (f.launches > 0 or f.impacts > 0)


def top_probability(p: ArrayLike, recalibration: Mapping[str, float]) -> FloatArray:
    """The logistic map of a top class's probability ``p`` (before the runner-up floor of
    :func:`recalibrate`).

    >>> top_probability([0.5, 0.85], {"intercept": 0.0, "slope": 2.0}).round(3).tolist()
    [0.5, 0.97]
    """
    x = np.clip(np.asarray(p, float), 1e-6, 1.0 - 1e-6)
    z = recalibration.get("intercept", 0.0) + recalibration.get("slope", 1.0) * np.log(x / (1 - x))
    out: FloatArray = 1.0 / (1.0 + np.exp(-np.clip(z, -40.0, 40.0)))
    return out


def recalibrate(post: FloatArray, recalibration: Mapping[str, float]) -> FloatArray:
    """The posterior ``post`` (summing to 1) with its top probability mapped by the logistic
    ``recalibration`` and the rest scaled to share what is left (see the module docstring).

    >>> recalibrate(np.array([0.85, 0.1, 0.05]), {"intercept": 0.0, "slope": 2.0}).round(3)
    array([0.97, 0.02, 0.01])
    >>> recalibrate(np.array([0.85, 0.15]), {}).tolist()
    [0.85, 0.15]
    """
    if not recalibration or post.size < 2:
        return post
    top = int(np.argmax(post))
    q = float(top_probability(post[top], recalibration))
    rest = post.sum() - post[top]
    second = float(np.max(np.delete(post, top)))
    if rest > 0:  # never below the runner-up: the ranking stays
        q = max(q, second / (rest + second))
    out = post * ((1.0 - q) / rest) if rest > 0 else np.zeros_like(post)
    out[top] = q if rest > 0 else 1.0
    return np.asarray(out, float)


def fit_recalibration(tops: Sequence[float], right: Sequence[bool]) -> dict[str, float]:
    """The logistic map of :func:`recalibrate` fitted by maximum likelihood to the stated top
    probabilities ``tops`` of labelled firings and whether that class was ``right``.

    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0.4, 0.99, 2000)
    >>> truly = 1 / (1 + np.exp(-2 * np.log(p / (1 - p))))  # twice as sure as stated
    >>> fit = fit_recalibration(p, rng.uniform(size=2000) < truly)
    >>> round(fit["slope"], 0)
    2.0
    """
    from scipy.optimize import minimize

    p = np.clip(np.asarray(tops, float), 1e-4, 1.0 - 1e-4)
    z = np.log(p / (1 - p))
    y = np.asarray(right, float)

    def nll(w: FloatArray) -> tuple[float, FloatArray]:
        s = w[0] + w[1] * z
        g = 1.0 / (1.0 + np.exp(-s)) - y
        return float(np.sum(np.logaddexp(0.0, s) - y * s)), np.array([g.sum(), g @ z])

    w = minimize(nll, np.array([0.0, 1.0]), jac=True, method="L-BFGS-B").x
    return {"intercept": round(float(w[0]), 6), "slope": round(float(w[1]), 6)}


def _depth_to_line(incidents: Sequence[Fused], ag: Agreement) -> FloatArray:
    """Distance of each located origin to the line of contact (NaN where none)."""
    out = np.full(len(incidents), np.nan)
    k = [i for i, inc in enumerate(incidents) if inc.origin is not None]
    if k:
        x = np.array([o.x for i in k if (o := incidents[i].origin) is not None])
        y = np.array([o.y for i in k if (o := incidents[i].origin) is not None])
        out[k] = ag.distance_to_line_m(x, y)
    return out


def _prior(model: WeaponModel, classes: tuple[str, ...]) -> FloatArray:
    p = np.array([model.prior.get(c, 0.0) for c in classes])
    if not p.any():
        p = np.ones(len(classes))
    return np.asarray(p / p.sum(), float)


def _classify(
    inc: Fused,
    depth: float,
    model: WeaponModel,
    threshold: float,
    recalibration: Mapping[str, float],
) -> WeaponClass:
    if inc.flight is not None:  # a tracked air object: classed by how it flew
        fc = inc.flight.classes
        best = max(sorted(fc), key=lambda c: fc[c])
        flew = f"tracked: median speed {inc.flight.speed_ms:.0f} m/s"
        return WeaponClass(dict(fc), best if fc[best] >= threshold else "unknown", flew)
    fire = inc.kind in ("fire", "air")
    classes = FIRE_CLASSES if fire else OTHER_CLASSES
    prior = _prior(model, classes) if fire else np.full(len(classes), 1.0 / len(classes))
    reported = [(k, c) for k, c in inc.reports if k in REPORT_RIGHT or k == "patrol_event"]
    if not fire and not reported:
        return WeaponClass({}, "unknown", "no report of what it was")
    hypotheses, why = _heard(inc, depth, model, classes)
    reports = _reports(reported, classes) * _loudness(inc, model, classes)
    post = np.zeros(len(classes))
    for weight, likelihood in hypotheses:  # e.g. "paired" and "the pairing is wrong"
        post += weight * _norm(prior * likelihood * reports)
    if post.sum() <= 0 or not np.isfinite(post).all():
        return WeaponClass({}, "unknown", "the evidence fits no class")
    post = post / post.sum()
    done = fire and bool(recalibration) and heard_firing(inc)
    if done:
        post = recalibrate(post, recalibration)
    probs = {c: round(float(p), 4) for c, p in zip(classes, post, strict=True) if p >= 0.001}
    best = classes[int(np.argmax(post))]
    # named by the probability as published: a class stated at 0.9 is named at 0.9
    named = best if probs.get(best, 0.0) >= threshold else "unknown"
    said = [f"{kind} said {c}" for kind, c in reported]
    note = ["top class recalibrated"] if done else []
    basis = "; ".join([*why, *said, *note]) or "prior only"
    return WeaponClass(dict(sorted(probs.items(), key=lambda kv: -kv[1])), named, basis)


def _heard(
    inc: Fused, depth: float, model: WeaponModel, classes: tuple[str, ...]
) -> tuple[list[tuple[float, FloatArray]], list[str]]:
    """The explanations of what the acoustic network heard, each with its weight and its
    likelihood p(heard | class) for each class, and them in words."""
    f = inc.firing
    ones = np.ones(len(classes))
    if f is None or (f.launches == 0 and f.impacts == 0):
        return [(1.0, ones)], []
    launch_only = _launch_alone(f.launches, depth, model, classes) if f.launches else None
    if f.likelihood is not None and f.pairing_probability is not None:
        paired = np.zeros(len(classes))
        for j, c in enumerate(FIRING_CLASSES):
            paired[classes.index(c)] = f.likelihood[j]
        p = f.pairing_probability
        alone = launch_only if launch_only is not None else ones
        speed = (f.range_m or 0.0) / max(f.tof_s or 1.0, 1e-3)
        why = [
            f"range {(f.range_m or 0) / 1000:.1f} km in {f.tof_s:.1f} s "
            f"(ground speed {speed:.0f} m/s), {f.launches} launch(es) heard; "
            f"launch and impact paired with probability {p:.2f}"
        ]
        return [(p, paired), (1.0 - p, alone)], why
    if launch_only is not None:
        where = f", {depth / 1000:.1f} km from the line" if np.isfinite(depth) else ""
        return [(1.0, launch_only)], [f"{f.launches} launch(es) heard{where}, no impact"]
    out = np.array(
        [
            model.classes[c].launches_p(f.impacts)
            * (1.0 - LAUNCH_WOULD_BE_HEARD * model.classes[c].launch_heard)
            if c in model.classes
            else 1.0
            for c in classes
        ],
        dtype=float,
    )
    return [(1.0, out)], [f"{f.impacts} impact(s) heard, no launch"]


def _loudness(inc: Fused, model: WeaponModel, classes: tuple[str, ...]) -> FloatArray:
    """p(how loud the launch and the impact were | class), where the sensors reported it."""
    f = inc.firing
    out = np.ones(len(classes))
    if f is None:
        return out
    for j, c in enumerate(classes):
        cm = model.classes.get(c)
        if cm is not None:
            out[j] = cm.level_density(f.launch_level_db, "launch") * cm.level_density(
                f.impact_level_db, "impact"
            )
    return out


def _launch_alone(k: int, depth: float, model: WeaponModel, classes: tuple[str, ...]) -> FloatArray:
    """p(k launches heard, from ``depth`` m behind the line | class): the salvo's size, that
    its launch can be heard, and that it can reach across the line from there."""
    out = np.zeros(len(classes))
    for j, c in enumerate(classes):
        if c not in model.classes:
            continue
        cm = model.classes[c]
        reach = 1.0
        if np.isfinite(depth):
            reach = float(
                np.clip((cm.max_range_m - depth) / (cm.max_range_m - cm.min_range_m), 0.05, 1.0)
            )
        out[j] = float(cm.launches_p(k)) * cm.launch_heard * reach
    return out


def _reports(reports: Sequence[tuple[str, str]], classes: tuple[str, ...]) -> FloatArray:
    """Π p(report | class) over the reports (see the module docstring)."""
    out = np.ones(len(classes))
    n = len(classes)
    for kind, said in reports:
        if kind == "patrol_event":
            air = np.array([c == said for c in classes])
            out = out * np.where(
                air,
                AIR_EVENT[0],
                np.where(np.isin(classes, ["drone", "aircraft"]), 0.1, AIR_EVENT[1]),
            )
            continue
        right = REPORT_RIGHT.get(kind)
        if right is None or said not in classes:
            continue
        out = out * np.where(np.array(classes) == said, right, (1.0 - right) / (n - 1))
    return out


def _norm(v: FloatArray) -> FloatArray:
    s = float(v.sum())
    return v / s if s > 0 else np.full(v.size, 1.0 / v.size)
