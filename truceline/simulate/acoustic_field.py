"""A bare acoustic field for localisation tests and benchmarks: sensors on a grid over a sector,
impulsive events at random places and times, noisy arrival times, misses and false alarms,
and the truth of which detection belongs to which event.

It is the acoustic part of the full simulator without the rest of the scenario, so that a
"busy night" (2,000 events an hour on a 100 km sector heard by 200 sensors, 5 % false
detections) or a million detections can be generated in seconds.

>>> field = acoustic_field(seed=1, n_events=50, duration_s=600.0)
>>> picks = field.picks
>>> len(picks) > 200, bool((field.event_of >= -1).all()), round(field.false_fraction, 2) <= 0.1
(True, True, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..localize.association import Picks
from ..localize.tdoa import sound_speed
from .hearing import detection_probability

__all__ = ["AcousticField", "acoustic_field", "sensor_grid"]


@dataclass
class AcousticField:
    picks: Picks
    event_of: NDArray[np.int64]  # per pick: index of the true event, -1 for a false alarm
    ex: NDArray[np.float64]  # true events (metres, seconds)
    ey: NDArray[np.float64]
    et: NDArray[np.float64]
    sx: NDArray[np.float64]  # sensors
    sy: NDArray[np.float64]

    @property
    def false_fraction(self) -> float:
        return float((self.event_of < 0).mean()) if self.event_of.size else 0.0

    def score(self, groups: list[NDArray[np.int64]], min_sensors: int = 4) -> tuple[float, float]:
        """Recall of the events heard by at least ``min_sensors`` sensors, and the share of
        associated events that are false: an event is true when at least half its picks come
        from one true event not matched before; otherwise (a mixture, or a duplicate) false."""
        found: set[int] = set()
        false = 0
        for g in groups:
            labels = self.event_of[g]
            values, counts = np.unique(labels[labels >= 0], return_counts=True)
            best = int(values[counts.argmax()]) if counts.size else -1
            if counts.size and counts.max() >= len(g) / 2 and best not in found:
                found.add(best)
            else:
                false += 1
        locatable = set(np.flatnonzero(self.heard_by() >= min_sensors).tolist())
        recall = len(found & locatable) / max(len(locatable), 1)
        return recall, false / max(len(groups), 1)

    def heard_by(self) -> NDArray[np.int64]:
        """Number of distinct sensors that detected each true event."""
        ok = self.event_of >= 0
        pairs = np.unique(np.column_stack([self.event_of[ok], self.picks.sensor[ok]]), axis=0)
        return np.bincount(pairs[:, 0], minlength=self.ex.size)


def sensor_grid(
    n_sensors: int, length_m: float, width_m: float, rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """About ``n_sensors`` on a jittered grid covering ``length_m`` x ``width_m``."""
    cols = max(1, round(np.sqrt(n_sensors * length_m / width_m)))
    rows = max(1, int(np.ceil(n_sensors / cols)))
    gx, gy = np.meshgrid(
        (np.arange(cols) + 0.5) * length_m / cols - length_m / 2,
        (np.arange(rows) + 0.5) * width_m / rows - width_m / 2,
    )
    sx, sy = gx.ravel()[:n_sensors], gy.ravel()[:n_sensors]
    spacing = length_m / cols
    return sx + rng.normal(0, 0.15 * spacing, sx.size), sy + rng.normal(0, 0.15 * spacing, sy.size)


def acoustic_field(
    seed: int = 1,
    n_events: int = 2_000,
    duration_s: float = 3_600.0,
    n_sensors: int = 200,
    length_m: float = 100_000.0,
    width_m: float = 40_000.0,
    audible_m: float = 12_000.0,
    sigma_s: float = 0.02,
    false_fraction: float = 0.05,
    temperature_c: float = 10.0,
) -> AcousticField:
    """Generate the field; picks are sorted by time like a real feed."""
    rng = np.random.default_rng([seed, 99])
    sx, sy = sensor_grid(n_sensors, length_m, width_m, rng)
    sz = rng.uniform(50.0, 250.0, sx.size)
    ex = rng.uniform(-length_m / 2, length_m / 2, n_events)
    ey = rng.uniform(-width_m / 2, width_m / 2, n_events)
    et = np.sort(rng.uniform(0.0, duration_s, n_events))
    temp = temperature_c + rng.normal(0.0, 1.0, sx.size)
    c_s = sound_speed(temp)
    chunks_e, chunks_s, chunks_t = [], [], []
    step = 2_000
    for lo in range(0, n_events, step):
        hi = min(lo + step, n_events)
        d = np.sqrt(
            (sx[None] - ex[lo:hi, None]) ** 2
            + (sy[None] - ey[lo:hi, None]) ** 2
            + (sz[None] - 150.0) ** 2
        )
        p = detection_probability(d, audible_m)
        e_idx, s_idx = np.nonzero(rng.uniform(size=p.shape) < p)
        chunks_e.append(e_idx + lo)
        chunks_s.append(s_idx)
        chunks_t.append(et[e_idx + lo] + d[e_idx, s_idx] / c_s[s_idx])
    ev = np.concatenate(chunks_e)
    sensor = np.concatenate(chunks_s)
    t = np.concatenate(chunks_t) + rng.normal(0.0, sigma_s, ev.size)
    n_false = int(rng.poisson(false_fraction / (1.0 - false_fraction) * ev.size))
    ev = np.concatenate([ev, np.full(n_false, -1)])
    sensor = np.concatenate([sensor, rng.integers(0, sx.size, n_false)])
    t = np.concatenate([t, rng.uniform(0.0, duration_s + 60.0, n_false)])
    order = np.lexsort((sensor, t))
    ev, sensor, t = ev[order], sensor[order], t[order]
    n = t.size
    picks = Picks(
        ref=np.array([f"S{sensor[i]:05d}:{i}" for i in range(n)], dtype=object),
        sensor=sensor.astype(np.int64),
        x=sx[sensor],
        y=sy[sensor],
        z=sz[sensor],
        t=t,
        sigma=np.full(n, sigma_s),
        c=c_s[sensor],
        cls=np.full(n, 2, dtype=np.int8),
        t_ref_us=0,
    )
    return AcousticField(picks, ev.astype(np.int64), ex, ey, et, sx, sy)
