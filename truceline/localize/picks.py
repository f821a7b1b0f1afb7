"""Acoustic detections ("picks") as arrays: the input of association and localisation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..geo import LocalFrame
from ..observations import Acoustic, Observation
from .met import met_field
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
    wind: FloatArray | None = None  # (N, 2) the wind a met station reported there, NaN if none
    snr: FloatArray | None = (
        None  # the signal-to-noise ratio each sensor reported (dB), NaN if none
    )
    #: the index of each pick's ``source`` (who reported it; None: each sensor is its own
    #: source). Copies from one source are never corroboration: see
    #: :func:`truceline.fusion.acoustic.acoustic_drafts`.
    source: NDArray[np.int64] | None = None
    #: each sensor's name (``sensor`` indexes it)
    sensor_names: NDArray[np.str_] | None = None

    def __len__(self) -> int:
        return int(self.t.size)


def picks_from(
    observations: Sequence[Observation], frame: LocalFrame, default_temperature_c: float = 10.0
) -> Picks:
    """Build :class:`Picks` from ``acoustic`` observations; ``met`` observations give each
    pick the wind (and, where the sensor reported none, the air temperature) of the nearest
    station's latest report (:mod:`truceline.localize.met`). Others are ignored."""
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
    names, sensor_idx = np.unique(np.array(sensors), return_inverse=True)
    _, source_idx = np.unique(np.array([m.source for m in models]), return_inverse=True)
    lon = np.array([m.position[0] for m in models])
    lat = np.array([m.position[1] for m in models])
    z = np.array([m.position[2] if len(m.position) > 2 else 0.0 for m in models])
    x, y = frame.forward(lon, lat)
    met = met_field(observations, frame)
    wind, met_temp = met.at(x, y, t_us[order]) if len(met) else (None, None)
    temp = np.array([np.nan if m.temperature_c is None else m.temperature_c for m in models])
    if met_temp is not None:
        temp = np.where(np.isnan(temp), met_temp, temp)
    temp = _smoothed(np.where(np.isnan(temp), default_temperature_c, temp), x, y, t_us[order])
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
        wind=wind,
        snr=np.array([np.nan if m.snr_db is None else m.snr_db for m in models], dtype=float),
        source=source_idx.astype(np.int64),
        sensor_names=names,
    )


TEMPERATURE_CELL_M = 30_000.0
TEMPERATURE_CELL_S = 3_600.0


def _smoothed(
    temp: FloatArray, x: FloatArray, y: FloatArray, t_us: NDArray[np.int64]
) -> FloatArray:
    """The air's temperature where and when each pick was made: the median of the
    temperatures the sensors reported within the same 30 km cell and hour (three reports or
    more), else the pick's own. Sound crosses kilometres of air, not the sensor's spot, and
    one thermometer's error (a degree or two) would move a source by tens of metres."""
    cell = np.stack(
        [
            np.floor(x / TEMPERATURE_CELL_M),
            np.floor(y / TEMPERATURE_CELL_M),
            np.floor(t_us / (TEMPERATURE_CELL_S * 1e6)),
        ],
        axis=1,
    )
    _, label, count = np.unique(cell, axis=0, return_inverse=True, return_counts=True)
    label = label.ravel()
    order = np.argsort(label, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(count)])
    sorted_t = temp[order]
    median = np.array([np.median(sorted_t[bounds[k] : bounds[k + 1]]) for k in range(count.size)])
    return np.where(count[label] >= 3, median[label], temp)
