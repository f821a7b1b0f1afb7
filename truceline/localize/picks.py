"""Acoustic detections ("picks") as arrays: the input of association and localisation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..geo import LocalFrame
from ..observations import Acoustic, Observation
from .tdoa import sound_speed

__all__ = ["CLASS_CODES", "Picks", "picks_from"]

FloatArray = NDArray[np.float64]
CLASS_CODES = {"launch": 0, "impact": 1, "unknown": 2}


@dataclass
class Picks:
    """Acoustic detections as arrays, sorted by (time, ref); times in s from ``t_ref_us``."""

    ref: NDArray[np.object_]
    sensor: NDArray[np.int64]
    x: FloatArray
    y: FloatArray
    z: FloatArray
    t: FloatArray
    sigma: FloatArray
    c: FloatArray
    cls: NDArray[np.int8]
    t_ref_us: int
    #: the index of each pick's ``source`` (who reported it; None: each sensor is its own
    #: source). Copies from one source are never corroboration: see
    #: :func:`truceline.fusion.acoustic.acoustic_drafts`.
    source: NDArray[np.int64] | None = None

    def __len__(self) -> int:
        return int(self.t.size)


def picks_from(
    observations: Sequence[Observation], frame: LocalFrame, default_temperature_c: float = 10.0
) -> Picks:
    """Build :class:`Picks` from ``acoustic`` observations (others are ignored)."""
    obs = [o for o in observations if isinstance(o.model, Acoustic)]
    if not obs:
        empty = np.zeros(0)
        return Picks(
            np.zeros(0, object),
            np.zeros(0, np.int64),
            empty,
            empty,
            empty,
            empty,
            empty,
            empty,
            np.zeros(0, np.int8),
            0,
            np.zeros(0, np.int64),
        )
    models = [o.model for o in obs if isinstance(o.model, Acoustic)]
    t_us = np.array([m.time for m in models], dtype=np.int64)
    t_ref = int(t_us.min())
    refs = np.array([o.ref for o in obs], dtype=object)
    order = np.lexsort((refs.astype(str), t_us))
    models = [models[i] for i in order]
    sensors = [m.sensor for m in models]
    _, sensor_idx = np.unique(np.array(sensors), return_inverse=True)
    _, source_idx = np.unique(np.array([m.source for m in models]), return_inverse=True)
    lon = np.array([m.position[0] for m in models])
    lat = np.array([m.position[1] for m in models])
    z = np.array([m.position[2] if len(m.position) > 2 else 0.0 for m in models])
    x, y = frame.forward(lon, lat)
    temp = np.array(
        [default_temperature_c if m.temperature_c is None else m.temperature_c for m in models]
    )
    return Picks(
        ref=refs[order],
        sensor=sensor_idx.astype(np.int64),
        x=x,
        y=y,
        z=z,
        t=(t_us[order] - t_ref) / 1e6,
        sigma=np.array([m.sigma_s for m in models]),
        c=sound_speed(temp),
        cls=np.array([CLASS_CODES[m.class_] for m in models], dtype=np.int8),
        t_ref_us=t_ref,
        source=source_idx.astype(np.int64),
    )
