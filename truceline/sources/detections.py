"""Which thermal rows are one detection: the same detection published twice, and a
near-real-time row superseded by its archive row.

**The same detection published twice.** From June 2022 FIRMS extracts carry pairs of rows
with the same date (time, satellite, instrument and version, where given) and the same
position to about a metre, one written to 4-5 decimals and one to 6. Two such rows are one
detection when the coarser one is the finer one rounded to the coarser one's published
precision: both coordinates differ by at most half a unit of its last decimal (a writer
that drops trailing zeros makes ``48.1200`` look like ``48.12``, so the precision is taken
as at least 4 decimals: two rows 50 m apart are never merged). The most precise row is
kept and the others are *merged* into it (counted, not stored). Their other fields must
agree, numbers up to the coarser precision; where they do not, it is a genuine conflict,
reported with both lines.

Where a row has a time and a satellite, two distinct detections cannot share them and a
place, so any such pair is merged. The reduced form (date and position only) cannot tell a
republished row from two instruments that saw the same spot: two distinct detections of
one day fall within the ±5 m of a 4-decimal position by chance (4 pairs in the 57,688 rows
of spring 2022), but not within the ±0.5 m of 5 decimals (expected: 0.05 pairs). So a
reduced-form pair is merged when its coarser row has 5 decimals or more, and at 4 decimals
only on a day whose rows show the republication (at least one pair at 5 or more).

**Near-real-time superseded by the archive.** FIRMS serves near-real-time (NRT) data
(``version`` ending ``NRT``, or ``RT``/``URT``) until the standard-processing archive row
of the same detection exists. An archive row and an NRT row are one detection when they
have the same instrument, satellite and date, times within 6 minutes (one granule) and
positions within half a pixel (half the larger of ``scan`` and ``track``; NRT geolocation
uses predicted ephemeris, so the two routinely differ by tens of metres). Pairs are matched
one to one, nearest first. Within a batch the NRT row is dropped (counted as
*superseded*); an NRT row already stored stays in the evidence log, and the archive row
that supersedes it names it in ``supersedes``, so that analysis counts the detection once
(:func:`current`).

>>> from truceline.observations import parse_record, ObservationBatch
>>> rows = [parse_record({"id": i, "type": "thermal", "source": "firms",
...     "time": "2022-08-01T00:00:00Z", "position": p}, "f.csv", n)
...     for n, (i, p) in enumerate([("a", [37.1234, 48.5678]), ("b", [37.123412, 48.567798])])]
>>> batch = reconcile(ObservationBatch(rows))
>>> [o.model.id for o in batch.observations], batch.merged
(['b'], 1)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from ..errors import InputError, InputErrors
from ..observations import Observation, ObservationBatch, Thermal, parse_record

__all__ = [
    "NRT_MAX_DT_S",
    "against_stored",
    "current",
    "is_nrt",
    "position_text",
    "reconcile",
]

#: the decimals a position is taken to have at least (trailing zeros are often dropped)
MIN_DECIMALS = 4
#: archive and NRT rows of one detection: at most one granule apart
NRT_MAX_DT_S = 360.0
_DAY_US = 86_400_000_000
_DEFAULT_PIXEL_KM = {"MODIS": 1.0, "VIIRS": 0.375}
_IDENTITY_EXEMPT = {"id", "position"}


def is_nrt(version: object) -> bool | None:
    """True for a near-real-time product version (``2.0NRT``, ``6.1NRT``, ``2.0URT``,
    ``2.0RT``), False for the archive (``2``, ``6.1``), None where there is none.

    >>> is_nrt("2.0NRT"), is_nrt("6.1"), is_nrt(None)
    (True, False, None)
    """
    if version is None or str(version).strip() == "":
        return None
    return str(version).strip().upper().endswith("RT")


def position_text(value: float) -> str:
    """A coordinate as the shortest decimal text that reads back as the same number
    (trailing zeros and a trailing point dropped): the position "as published".

    >>> position_text(48.120), position_text(-0.0), position_text(1e-05)
    ('48.12', '0', '0.00001')
    """
    text = repr(float(value))
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _decimals(value: float) -> int:
    text = position_text(value)
    return len(text) - text.index(".") - 1 if "." in text else 0


@dataclass
class _Table:
    """The thermal rows as arrays, for finding pairs quickly."""

    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    t0: NDArray[np.int64]
    identity: list[tuple[Any, ...]]  # source, time, time_end, satellite, instrument
    nrt: list[bool | None]
    pixel_km: NDArray[np.float64]
    ids: list[str]
    _decimals: dict[int, int] = field(default_factory=dict)

    def decimals(self, i: int) -> int:
        """The published decimals of row i (the more of its two coordinates')."""
        found = self._decimals.get(i)
        if found is None:
            found = max(_decimals(float(self.lon[i])), _decimals(float(self.lat[i])))
            self._decimals[i] = found
        return found

    @classmethod
    def of(cls, records: Sequence[dict[str, Any]]) -> _Table:
        lon = np.array([float(r["position"][0]) for r in records], dtype=float)
        lat = np.array([float(r["position"][1]) for r in records], dtype=float)
        pixel = [
            max(
                float(r.get("scan_km") or 0.0),
                float(r.get("track_km") or 0.0),
                _DEFAULT_PIXEL_KM.get(str(r.get("instrument", "")).upper(), 0.375),
            )
            for r in records
        ]
        return cls(
            lon,
            lat,
            np.array([int(r["_t0"]) for r in records], dtype=np.int64),
            [
                (r["source"], r["_t0"], r["_t1"], r.get("satellite"), r.get("instrument"))
                for r in records
            ],
            [is_nrt(r.get("version")) for r in records],
            np.array(pixel, dtype=float),
            [str(r["id"]) for r in records],
        )


def _record(obs: Observation) -> dict[str, Any]:
    """What pairing needs of an observation, without decoding its whole body."""
    m = obs.model
    assert isinstance(m, Thermal)
    extra = m.model_extra or {}
    return {
        "id": m.id,
        "source": m.source,
        "position": m.position,
        "_t0": m.time,
        "_t1": m.time_end,
        "satellite": m.satellite,
        "instrument": m.instrument,
        "version": extra.get("version"),
        "scan_km": m.scan_km,
        "track_km": m.track_km,
    }


def _stored_record(raw: dict[str, Any]) -> dict[str, Any]:
    from .._time import parse_time

    rec = dict(raw)
    rec["_t0"] = parse_time(raw["time"])
    rec["_t1"] = parse_time(raw["time_end"]) if raw.get("time_end") else None
    return rec


def _copy_pairs(a: _Table, b: _Table | None = None) -> list[tuple[int, int]]:
    """Pairs (i in a, j in b) that are one detection published twice (``b`` None: pairs
    within ``a``): one identity, positions that agree to the coarser one's published
    precision, precisions that differ, and (reduced form) the republication shown."""
    pairs = _consistent_pairs(a, b)
    other = a if b is None else b
    shown = {
        (a.identity[i][0], int(a.t0[i]) // _DAY_US)
        for i, j in pairs
        if min(a.decimals(i), other.decimals(j)) >= MIN_DECIMALS + 1
    }
    return [
        (i, j)
        for i, j in pairs
        if a.identity[i][2] is None  # a timed row: its time and satellite identify it
        or min(a.decimals(i), other.decimals(j)) >= MIN_DECIMALS + 1
        or (a.identity[i][0], int(a.t0[i]) // _DAY_US) in shown
    ]


def _consistent_pairs(a: _Table, b: _Table | None = None) -> list[tuple[int, int]]:
    """Pairs (i in a, j in b) with one identity whose positions agree to the coarser one's
    published precision and whose precisions differ (``b`` None: pairs within ``a``)."""
    radius = 0.5 * 10.0**-MIN_DECIMALS + 1e-9
    if len(a.ids) == 0 or (b is not None and len(b.ids) == 0):
        return []
    ta = cKDTree(np.column_stack([a.lon, a.lat]))
    if b is None:
        raw = [(int(i), int(j)) for i, j in ta.query_pairs(radius, p=np.inf)]
        b = a
    else:
        tb = cKDTree(np.column_stack([b.lon, b.lat]))
        raw = [(i, j) for i, js in enumerate(ta.query_ball_tree(tb, radius, p=np.inf)) for j in js]
    out = []
    for i, j in sorted(raw):
        if a.identity[i] != b.identity[j] or a.nrt[i] != b.nrt[j]:
            continue
        di, dj = a.decimals(i), b.decimals(j)
        if di == dj:
            continue
        tol = 0.5 * 10.0 ** -max(min(di, dj), MIN_DECIMALS) + 1e-9
        if abs(a.lon[i] - b.lon[j]) <= tol and abs(a.lat[i] - b.lat[j]) <= tol:
            out.append((i, j))
    return out


def _agree(x: object, y: object) -> bool:
    """Two values of one field are the same up to the coarser one's precision."""
    if x == y:
        return True
    try:
        fx, fy = float(str(x)), float(str(y))
    except ValueError:
        return False
    decimals = [len(s.split(".")[1]) if "." in s else 0 for s in (str(x), str(y))]
    return abs(fx - fy) <= 0.5 * 10.0 ** -min(decimals) + 1e-9


def _conflict(a: Observation, b_raw: dict[str, Any], b_where: str) -> InputError | None:
    """An error if two rows of one detection disagree in a field other than id and position."""
    a_raw = a.raw
    for name in sorted((set(a_raw) | set(b_raw)) - _IDENTITY_EXEMPT):
        if not _agree(a_raw.get(name), b_raw.get(name)):
            return InputError(
                a.file,
                a.line,
                name,
                f"the same detection as {b_where} (one position to the published precision), "
                f"but {name} is {a_raw.get(name)!r} there and {b_raw.get(name)!r} here",
            )
    return None


def _nrt_pairs(a: _Table, b: _Table) -> list[tuple[int, int]]:
    """One-to-one (NRT row in a, archive row in b), nearest first."""
    if True not in a.nrt or False not in b.nrt:
        return []
    km_lat = 110.57

    def xy(t: _Table) -> NDArray[np.float64]:
        return np.column_stack([t.lon * 111.32 * np.cos(np.radians(t.lat)), t.lat * km_lat])

    reach = 0.5 * float(max(a.pixel_km.max(), b.pixel_km.max())) + 1e-6
    found = cKDTree(xy(a)).query_ball_tree(cKDTree(xy(b)), reach)
    pa, pb = xy(a), xy(b)
    cand = []
    for i, js in enumerate(found):
        if a.nrt[i] is not True:
            continue
        for j in js:
            same = a.identity[i][0] == b.identity[j][0] and a.identity[i][3:] == b.identity[j][3:]
            dt = abs(int(a.t0[i]) - int(b.t0[j])) / 1e6
            if not same or b.nrt[j] is not False or dt > NRT_MAX_DT_S or a.identity[i][2]:
                continue
            dist = float(np.hypot(*(pa[i] - pb[j])))
            if dist <= 0.5 * max(a.pixel_km[i], b.pixel_km[j]) and _same_day(a, i, b, j):
                cand.append((dist, a.ids[i], b.ids[j], i, j))
    used_a: set[int] = set()
    used_b: set[int] = set()
    out = []
    for _, _, _, i, j in sorted(cand):
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            out.append((i, j))
    return out


def _same_day(a: _Table, i: int, b: _Table, j: int) -> bool:
    return int(a.t0[i]) // _DAY_US == int(b.t0[j]) // _DAY_US


def reconcile(batch: ObservationBatch) -> ObservationBatch:
    """Merge the same detection published twice and drop NRT rows superseded by an archive
    row of the batch; all-or-nothing (a genuine conflict is an :class:`InputErrors`)."""
    thermal = [k for k, o in enumerate(batch.observations) if isinstance(o.model, Thermal)]
    if not thermal:
        return batch
    obs = [batch.observations[k] for k in thermal]
    table = _Table.of([_record(o) for o in obs])
    drop: set[int] = set()
    errors: list[InputError] = []
    for i, j in _copy_pairs(table):
        coarse, fine = (i, j) if table.decimals(i) < table.decimals(j) else (j, i)
        err = _conflict(obs[coarse], obs[fine].raw, f"{obs[fine].file}:{obs[fine].line}")
        if err is not None:
            errors.append(err)
        drop.add(coarse)
    if errors:
        raise InputErrors(errors)
    merged = len(drop)
    keep = [k for k in range(len(obs)) if k not in drop]
    kept = _subset(table, keep)
    superseded = {keep[i] for i, _ in _nrt_pairs(kept, kept)}
    drop |= superseded
    gone = {thermal[k] for k in drop}
    return replace(
        batch,
        observations=[o for k, o in enumerate(batch.observations) if k not in gone],
        merged=batch.merged + merged,
        superseded=batch.superseded + len(superseded),
    )


def _subset(t: _Table, keep: list[int]) -> _Table:
    idx = np.array(keep, dtype=np.int64)
    return _Table(
        t.lon[idx],
        t.lat[idx],
        t.t0[idx],
        [t.identity[k] for k in keep],
        [t.nrt[k] for k in keep],
        t.pixel_km[idx],
        [t.ids[k] for k in keep],
    )


def against_stored(batch: ObservationBatch, stored: Sequence[dict[str, Any]]) -> ObservationBatch:
    """Reconcile a batch with the thermal observations already stored (their raw records):
    a row that is a copy of a stored detection is merged into it, an NRT row whose archive
    row is stored is superseded, and an archive row whose NRT row is stored names it in
    ``supersedes`` (so re-sending the same archive file is still a no-op)."""
    new = [k for k, o in enumerate(batch.observations) if isinstance(o.model, Thermal)]
    if not new or not stored:
        return batch
    keys = {batch.observations[k].key for k in new}
    obs = [batch.observations[k] for k in new]
    mine = _Table.of([_record(o) for o in obs])
    records = [_stored_record(r) for r in stored]
    theirs = _Table.of(records)
    drop: set[int] = set()
    errors = []
    for i, j in _copy_pairs(mine, theirs):
        err = _conflict(obs[i], stored[j], f"the stored observation {stored[j]['id']}")
        if err is not None:
            errors.append(err)
        drop.add(i)
    if errors:
        raise InputErrors(errors)
    # NRT rows another stored archive row already names (a re-sent row may name its own)
    taken = {
        s for r in stored if (r["source"], r["id"]) not in keys for s in r.get("supersedes") or ()
    }
    superseded = {i for i, _ in _nrt_pairs(mine, theirs)} - drop
    links: dict[int, list[str]] = {}
    for j, i in _nrt_pairs(theirs, mine):
        if theirs.ids[j] not in taken and i not in drop:
            links.setdefault(i, []).append(theirs.ids[j])
    replaced = {new[i]: _with_supersedes(obs[i], ids) for i, ids in links.items()}
    gone = {new[i] for i in drop | superseded}
    return replace(
        batch,
        observations=[
            replaced.get(k, o) for k, o in enumerate(batch.observations) if k not in gone
        ],
        merged=batch.merged + len(drop),
        superseded=batch.superseded + len(superseded),
    )


def _with_supersedes(obs: Observation, ids: list[str]) -> Observation:
    raw = obs.raw
    raw["supersedes"] = sorted({*(raw.get("supersedes") or ()), *ids})
    return parse_record(raw, obs.file, obs.line)


def current(observations: Iterable[Observation]) -> list[Observation]:
    """The observations less the NRT rows an archive row of them ``supersedes``: what
    analysis counts (each detection once).

    >>> from truceline.observations import parse_record
    >>> rows = [parse_record({"id": i, "type": "thermal", "source": "firms",
    ...     "time": "2022-08-01T10:00:00Z", "position": [37.1, 48.5], **extra}, "f", 1)
    ...     for i, extra in [("nrt", {}), ("sp", {"supersedes": ["nrt"]})]]
    >>> [o.model.id for o in current(rows)]
    ['sp']
    """
    rows = list(observations)
    named = {
        (o.model.source, s)
        for o in rows
        if isinstance(o.model, Thermal)
        for s in (o.model.supersedes or ())
    }
    if not named:
        return rows
    return [o for o in rows if o.key not in named]
