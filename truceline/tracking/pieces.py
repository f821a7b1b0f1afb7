"""Pieces of one object's track made one (:func:`stitch`): the tracker loses a drone in
a manoeuvre or a coverage gap and starts it again, or starts a second track beside the
first from plots the first did not take.

- **Alongside**: two tracks within ``stitch_m`` of each other on average where both exist.
- **Continues**: a track that starts within ``stitch_gap_s`` after another ended, where
  the first, flying on straight, could have got to (or, within ``max_gap_s``, anywhere it
  could have reached at its speed: it may have circled).
- **Takes over**: a track that starts up to ``handover_s`` *before* another ends, within
  ``stitch_m`` of where that one then was, and outlasts it (the first filter ran on a few
  updates after a manoeuvre it could not follow): the first until the second starts, then
  the second.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .multitarget import Track, TrackerParams

__all__ = ["stitch"]


def stitch(tracks: list[Track], prm: TrackerParams) -> list[Track]:
    """One object's pieces of track made one: a track that runs alongside another (within
    ``stitch_m`` on average where both exist, e.g. started from plots the other did not take)
    is absorbed into it, a track that starts within ``max_gap_s`` after another ended,
    where the first could have flown at its speed (plus ``stitch_m``), continues it, and
    one that starts shortly before another ends, where that one was, takes over from it."""
    pieces = sorted(tracks, key=lambda r: (r.start_s, -len(r.t_s)))
    i = 0
    while i < len(pieces):
        j = i + 1
        while j < len(pieces) and pieces[j].start_s <= pieces[i].end_s + prm.stitch_gap_s:
            a, b = pieces[i], pieces[j]
            if _alongside(a, b, prm) or _continues(a, b, prm):
                pieces[i] = _joined(a, b)
                del pieces[j]
                j = i + 1  # the longer track may now meet one it did not
            elif _takes_over(a, b, prm):
                pieces[i] = _handed_over(a, b)
                del pieces[j]
                j = i + 1  # the longer track may now meet one it did not
            else:
                j += 1
        i += 1
    return pieces


def _alongside(a: Track, b: Track, prm: TrackerParams) -> bool:
    lo, hi = max(a.start_s, b.start_s), min(a.end_s, b.end_s)
    shorter = min(b.end_s - b.start_s, a.end_s - a.start_s)
    if hi - lo < min(0.5 * shorter, 5.0) or hi <= lo:  # e.g. a piece started in a dive
        return False
    t = b.t_s[(b.t_s >= lo) & (b.t_s <= hi)]
    if t.size < 2:
        return False
    d = np.hypot(
        np.interp(t, a.t_s, a.mean[:, 0]) - np.interp(t, b.t_s, b.mean[:, 0]),
        np.interp(t, a.t_s, a.mean[:, 2]) - np.interp(t, b.t_s, b.mean[:, 2]),
    )
    return bool(d.size and float(d.mean()) < prm.stitch_m)


def _continues(a: Track, b: Track, prm: TrackerParams) -> bool:
    """``b`` starts within ``stitch_gap_s`` after ``a`` ended, where ``a`` could have got to
    flying on straight (``stitch_m`` plus a quarter of the way flown), or, for a gap of at
    most ``max_gap_s``, anywhere ``a`` could have reached at its speed (it may have circled)."""
    gap = b.start_s - a.end_s
    if not 0.0 <= gap <= prm.stitch_gap_s:
        return False
    x, vx, y, vy = a.mean[-1]
    speed = math.hypot(vx, vy)
    d = math.hypot(x + vx * gap - b.mean[0, 0], y + vy * gap - b.mean[0, 2])
    if d < prm.stitch_m + 0.25 * speed * gap:
        return True
    near = math.hypot(x - b.mean[0, 0], y - b.mean[0, 2])
    return gap <= prm.max_gap_s and near < prm.stitch_m + speed * gap


def _takes_over(a: Track, b: Track, prm: TrackerParams) -> bool:
    """``b`` starts up to ``handover_s`` before ``a`` ends, within ``stitch_m`` of where
    ``a`` then was, and ends after it (with updates enough not to be clutter)."""
    overlap = a.end_s - b.start_s
    if not 0.0 < overlap <= prm.handover_s or b.end_s <= a.end_s:
        return False
    if len(b.detections) < prm.min_updates:
        return False
    x = np.interp(b.start_s, a.t_s, a.mean[:, 0])
    y = np.interp(b.start_s, a.t_s, a.mean[:, 2])
    return bool(math.hypot(x - b.mean[0, 0], y - b.mean[0, 2]) < prm.stitch_m)


def _handed_over(a: Track, b: Track) -> Track:
    """``a`` until ``b`` starts, then ``b``; the detections of both."""
    keep = a.t_s < b.start_s
    rows = tuple(sorted(set(a.detections) | set(b.detections)))
    return replace(
        a,
        id=-1,
        t_s=np.concatenate([a.t_s[keep], b.t_s]),
        mean=np.concatenate([a.mean[keep], b.mean]),
        cov=np.concatenate([a.cov[keep], b.cov]),
        detections=rows,
    )


def _joined(a: Track, b: Track) -> Track:
    """Both pieces' updates in time order (where both have one at a time, the first's)."""
    t = np.concatenate([a.t_s, b.t_s])
    src = np.concatenate([np.zeros(a.t_s.size, int), np.ones(b.t_s.size, int)])
    order = np.lexsort((src, t))
    keep = order[np.concatenate([[True], np.diff(t[order]) > 0])]
    mean = np.concatenate([a.mean, b.mean])[keep]
    cov = np.concatenate([a.cov, b.cov])[keep]
    rows = tuple(sorted(set(a.detections) | set(b.detections)))
    return replace(a, id=-1, t_s=t[keep], mean=mean, cov=cov, detections=rows)
