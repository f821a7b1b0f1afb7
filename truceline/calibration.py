"""Calibration from the data: what the weapons on *this* line really do.

The analysis starts from a broad model of each weapon class (:mod:`truceline.weapons`): wide
enough for any firing table, so its class probabilities are honest but not sharp. Observed
firings teach it better:

- **Firings whose class is known independently**: a UAV saw the launcher at the firing
  position, or a patrol named the weapon. Their ranges and times of flight show that class's
  ground speeds.
- **The mixture of every paired firing**: most firings are classed by nothing but their own
  range, time of flight and salvo size. Expectation-maximisation fits, at once, the share of
  each class among the firings and each class's speed distribution (log-normal: median and
  spread) and salvo sizes, each firing counted for each class in proportion to how likely it
  is that class (with the independent reports weighing in as they do in the analysis). The
  broad model is the prior: a class seen rarely keeps its broad figures.

The result is a calibration file (YAML) that ``truceline analyze --calibration FILE`` applies
and every run records, so ``truceline reproduce`` uses it too.

>>> import numpy as np
>>> rng = np.random.default_rng(1)
>>> d = rng.uniform(5_000, 25_000, 400); v = 300.0 * np.exp(rng.normal(0, 0.1, 400))
>>> cal = fit_mixture(d, d / v, np.ones(400, int), [()] * 400)
>>> round(cal["classes"]["artillery_ge100"]["speed_ms"] / 10) * 10
300
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from numpy.typing import NDArray

from .errors import InputError
from .weapon_class import REPORT_RIGHT
from .weapons import DEFAULT_MODEL, FIRING_CLASSES, WeaponModel

__all__ = ["calibrate", "fit_mixture", "load_calibration", "write_calibration"]

FloatArray = NDArray[np.float64]
PRIOR_WEIGHT = 10.0  # the broad model counts as this many firings of each class
MIN_LOG_SD = 0.05


def calibrate(
    features: Sequence[dict[str, Any]], model: WeaponModel = DEFAULT_MODEL
) -> dict[str, Any]:
    """A calibration from a run's incidents (GeoJSON features, FORMATS §3): every fire
    incident whose launch was paired with its impact."""
    d, tof, k, reports, levels = [], [], [], [], []
    for f in features:
        p = f.get("properties", f)
        pairing = p.get("pairing")
        if p.get("kind") not in ("fire", "air") or not pairing:
            continue
        if not pairing.get("range_m") or not pairing.get("time_of_flight_s"):
            continue
        if (pairing.get("probability") or 0.0) < 0.9:
            continue  # only pairings the analysis is sure of teach speeds
        d.append(float(pairing["range_m"]))
        tof.append(float(pairing["time_of_flight_s"]))
        heard = p.get("heard") or {}
        k.append(int(heard.get("launches") or 1))
        levels.append((heard.get("launch_level_db", np.nan), heard.get("impact_level_db", np.nan)))
        reports.append(tuple(tuple(r) for r in p.get("assessments") or ()))
    lv = np.array(levels, dtype=float).reshape(-1, 2)
    cal = fit_mixture(np.array(d), np.array(tof), np.array(k, dtype=np.int64), reports, model, lv)
    cal["firings"] = len(d)
    return cal


def fit_mixture(
    d: FloatArray,
    tof: FloatArray,
    k: NDArray[np.int64],
    reports: Sequence[tuple[tuple[str, str], ...]],
    model: WeaponModel = DEFAULT_MODEL,
    levels: FloatArray | None = None,
    iterations: int = 60,
) -> dict[str, Any]:
    """Expectation-maximisation of the class shares and each class's speeds and salvo sizes
    over paired firings (range ``d`` m, time of flight ``tof`` s, ``k`` launches heard,
    independent ``reports``, and optionally the launch's and impact's source ``levels`` (dB;
    NaN where not measured)), from ``model`` as the prior."""
    classes = list(FIRING_CLASSES)
    n, m = d.size, len(classes)
    v = d / np.maximum(tof, 1e-3)
    labels = _report_likelihood(reports, classes)
    lv = np.full((n, 2), np.nan) if levels is None else levels
    current = model
    resp = np.full((n, m), 1.0 / m)
    for _ in range(iterations):
        lik = np.column_stack(
            [
                current.classes[c].range_density(d)
                * current.classes[c].speed_density(v)
                * current.classes[c].launches_p(k)
                * _level_density(current.classes[c], lv)
                for c in classes
            ]
        )
        prior = np.array([current.prior.get(c, 0.0) for c in classes])
        w = lik * prior * labels
        total = w.sum(axis=1, keepdims=True)
        resp = np.where(total > 0, w / np.maximum(total, 1e-300), 1.0 / m)
        current = _maximise(current, classes, resp, v, k, lv)
    doc = _as_calibration(current, classes, resp, labels)
    return doc


def _report_likelihood(
    reports: Sequence[tuple[tuple[str, str], ...]], classes: list[str]
) -> FloatArray:
    """Π p(report | class) per firing (the analysis' own report model)."""
    out = np.ones((len(reports), len(classes)))
    for i, rs in enumerate(reports):
        for kind, said in rs:
            if said not in classes or kind not in REPORT_RIGHT:
                continue
            right = REPORT_RIGHT[kind]
            out[i] *= np.where(np.array(classes) == said, right, (1.0 - right) / (len(classes) - 1))
    return out


def _level_density(cm: Any, lv: FloatArray) -> FloatArray:
    """p(launch and impact source levels | class), 1 where a level was not measured."""
    out = np.ones(lv.shape[0])
    for col, mean in ((0, cm.launch_level_db), (1, cm.impact_level_db)):
        x = lv[:, col]
        ok = np.isfinite(x)
        z = (x[ok] - mean) / cm.level_sd_db
        out[ok] *= np.exp(-0.5 * z * z) / (cm.level_sd_db * np.sqrt(2 * np.pi))
    return out


def _maximise(
    model: WeaponModel,
    classes: list[str],
    resp: FloatArray,
    v: FloatArray,
    k: NDArray[np.int64],
    lv: FloatArray,
) -> WeaponModel:
    """Each class's shares, speeds and salvo sizes given the responsibilities, each pulled
    towards the broad model by ``PRIOR_WEIGHT`` pseudo-firings."""
    logv = np.log(np.maximum(v, 1e-3))
    updates: dict[str, dict[str, Any]] = {}
    for j, c in enumerate(classes):
        cm = DEFAULT_MODEL.classes[c]
        r = resp[:, j]
        # the usual fire only: a firing far slower than the class's usual is its slow mode
        usual = r * (
            logv > np.log(cm.speed_ms * cm.slow_factor * 1.3) if cm.slow_share > 0 else 1.0
        )
        wsum = usual.sum() + PRIOR_WEIGHT
        mu = (usual @ logv + PRIOR_WEIGHT * np.log(cm.speed_ms)) / wsum
        var = (usual @ (logv - mu) ** 2 + PRIOR_WEIGHT * cm.speed_log_sd**2) / wsum
        counts = np.bincount(np.minimum(k, 30), weights=r, minlength=31)[1:]
        base = np.asarray(cm.launches, float)
        table = np.zeros(max(base.size, 1 + int(np.max(np.flatnonzero(counts > 0.01), initial=0))))
        table[: base.size] += PRIOR_WEIGHT * base / base.sum()
        table[: min(table.size, counts.size)] += counts[: table.size]
        table += 0.2  # no salvo size is impossible
        updates[c] = {
            "speed_ms": float(np.exp(mu)),
            "speed_log_sd": float(max(np.sqrt(var), MIN_LOG_SD)),
            "launches": [float(x) for x in table / table.sum()],
        }
        for col, key in ((0, "launch_level_db"), (1, "impact_level_db")):
            x = lv[:, col]
            ok = np.isfinite(x)
            prior_mean = float(getattr(cm, key))
            updates[c][key] = float(
                (r[ok] @ x[ok] + PRIOR_WEIGHT * prior_mean) / (r[ok].sum() + PRIOR_WEIGHT)
            )
    share = resp.sum(axis=0) + 1.0  # one pseudo-firing of each class
    others = {c: p for c, p in model.prior.items() if c not in classes}
    fire_total = 1.0 - sum(others.values())
    prior = {
        **others,
        **{c: float(fire_total * s / share.sum()) for c, s in zip(classes, share, strict=True)},
    }
    return model.with_calibration({"classes": updates, "prior": prior, "name": "calibration"})


def _as_calibration(
    model: WeaponModel, classes: list[str], resp: FloatArray, labels: FloatArray
) -> dict[str, Any]:
    labelled = labels.max(axis=1) > 2.0 * labels.min(axis=1)  # an independent report
    return {
        "name": "calibration",
        "classes": {
            c: {
                "speed_ms": round(model.classes[c].speed_ms, 1),
                "speed_log_sd": round(model.classes[c].speed_log_sd, 4),
                "launch_level_db": round(float(model.classes[c].launch_level_db or 0.0), 2),
                "impact_level_db": round(float(model.classes[c].impact_level_db or 0.0), 2),
                "launches": [round(x, 4) for x in model.classes[c].launches],
                "firings": round(float(resp[:, j].sum()), 1),
                "labelled": int((labelled & (labels[:, j] == labels.max(axis=1))).sum()),
            }
            for j, c in enumerate(classes)
        },
        "prior": {c: round(p, 5) for c, p in sorted(model.prior.items())},
    }


def write_calibration(cal: dict[str, Any], path: Path) -> Path:
    """Write a calibration as YAML (what ``truceline analyze --calibration`` reads)."""
    head = (
        "# A calibration of the weapon classes' speeds, salvo sizes and shares, learned from\n"
        "# paired firings (truceline calibrate). truceline analyze --calibration applies it.\n"
    )
    path.write_text(
        head + yaml.safe_dump(cal, sort_keys=True, allow_unicode=True), encoding="utf-8"
    )
    return path


def load_calibration(path: Path, model: WeaponModel = DEFAULT_MODEL) -> WeaponModel:
    """The analysis' model with a calibration file applied (a clear error if it is not one)."""
    file = str(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(file, None, None, f"cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise InputError(file, None, None, f"not valid YAML: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("classes"), dict):
        raise InputError(
            file, None, "classes", "not a calibration (truceline calibrate writes one)"
        )
    for name, values in doc["classes"].items():
        if name not in model.classes:
            raise InputError(file, None, f"classes.{name}", "not a weapon class of the model")
        for key in ("speed_ms", "speed_log_sd"):
            v = values.get(key)
            if not isinstance(v, int | float) or isinstance(v, bool) or not 0 < v < 1e4:
                raise InputError(file, None, f"classes.{name}.{key}", "must be a positive number")
    return model.with_calibration({**doc, "source": f"calibration {path.name}"})
