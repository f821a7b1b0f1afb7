"""The one gating helper every source family uses: is an observation close enough, by its own
uncertainty and the incident's, to be the same event?

The Mahalanobis distance d² = Δᵀ(Σ_obs + Σ_incident)⁻¹Δ must be below the chi-square quantile
(2 degrees of freedom, 99.9 %: 13.8), and the observation's time must fall in a window set
per source type. An observation joins the single incident point it fits best; it never
supports two. Observations that fit nothing are grouped among themselves by the same gates
(connected components, so the grouping does not depend on input order).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from ..incidents import Point
from ..observations import Observation
from .draft import Draft

__all__ = [
    "Candidates",
    "Located",
    "combine",
    "components",
    "group_point",
    "groups",
    "mahalanobis",
    "point",
]

FloatArray = NDArray[np.float64]


def point(x: float, y: float, cov: FloatArray, t_us: int, bound: FloatArray | None = None) -> Point:
    """A :class:`Point` from plain numbers (``bound``: the Cramér-Rao bound's matrix)."""
    crlb_m = None if bound is None else float(np.sqrt(np.trace(bound)))
    return Point(float(x), float(y), np.asarray(cov, float), int(t_us), crlb_m)


def mahalanobis(dx: FloatArray, dy: FloatArray, cov: FloatArray) -> FloatArray:
    """d² of offsets ``(dx, dy)`` under 2x2 covariances ``cov`` (broadcast)."""
    a, b, d = cov[..., 0, 0], cov[..., 0, 1], cov[..., 1, 1]
    det = np.maximum(a * d - b * b, 1e-9)
    return (d * dx * dx - 2 * b * dx * dy + a * dy * dy) / det


def components(n: int, pairs: list[tuple[int, int]]) -> NDArray[np.int64]:
    """Connected-component label of each of ``n`` items linked by ``pairs``."""
    if not pairs:
        return np.arange(n, dtype=np.int64)
    a = np.array(pairs, dtype=np.int64)
    graph = coo_matrix((np.ones(len(a)), (a[:, 0], a[:, 1])), shape=(n, n))
    return np.asarray(connected_components(graph, directed=False)[1], dtype=np.int64)


def combine(located: Sequence[tuple[float, float, FloatArray]], t_us: int) -> Point:
    """Inverse-covariance weighted mean of several independent position estimates."""
    infos = [np.linalg.inv(c) for _, _, c in located]
    cov = np.linalg.inv(sum(infos))
    mean = cov @ sum(i @ np.array([x, y]) for i, (x, y, _) in zip(infos, located, strict=True))
    return point(mean[0], mean[1], cov, t_us)


@dataclass
class Candidates:
    """The points of the incidents found so far, as arrays for gating: one row per
    (incident, origin|impact) named in ``which``, with a k-d tree over their positions."""

    draft: NDArray[np.int64]  # index of the draft each row belongs to
    x: FloatArray
    y: FloatArray
    cov: FloatArray
    t0: NDArray[np.int64]

    @classmethod
    def of(cls, drafts: list[Draft], which: tuple[str, ...]) -> Candidates:
        rows = [
            (i, p.x, p.y, p.cov, p.time_us)
            for i, d in enumerate(drafts)
            for w in which
            if (p := getattr(d, w)) is not None
        ]
        if not rows:
            return cls(
                np.zeros(0, np.int64),
                np.zeros(0),
                np.zeros(0),
                np.zeros((0, 2, 2)),
                np.zeros(0, np.int64),
            )
        return cls(
            np.array([r[0] for r in rows], dtype=np.int64),
            np.array([r[1] for r in rows]),
            np.array([r[2] for r in rows]),
            np.array([r[3] for r in rows]),
            np.array([r[4] for r in rows], dtype=np.int64),
        )

    @cached_property
    def tree(self) -> cKDTree | None:
        return cKDTree(np.column_stack([self.x, self.y])) if len(self.x) else None

    @cached_property
    def max_sd(self) -> float:
        """The largest 1-sigma axis of any point: bounds the search radius of every gate."""
        return float(np.sqrt(np.max(np.linalg.eigvalsh(self.cov)))) if len(self.x) else 0.0

    def near(self, x: float, y: float, radius: float, window: tuple[int, int]) -> NDArray[np.int64]:
        """Rows within ``radius`` metres of (x, y) whose time is inside ``window``."""
        if self.tree is None:
            return np.zeros(0, np.int64)
        cand = np.array(sorted(self.tree.query_ball_point([x, y], radius)), dtype=np.int64)
        if cand.size == 0:
            return cand
        return cand[(self.t0[cand] <= window[1]) & (self.t0[cand] >= window[0])]

    def best(
        self, x: float, y: float, cov: FloatArray, window: tuple[int, int], gate: float
    ) -> int:
        """The draft whose point fits (x, y, cov) best inside the gate and window, or -1."""
        own = float(np.sqrt(np.max(np.linalg.eigvalsh(cov))))
        cand = self.near(x, y, float(np.sqrt(gate) * (own + self.max_sd) + 1.0), window)
        if cand.size == 0:
            return -1
        d2 = mahalanobis(self.x[cand] - x, self.y[cand] - y, self.cov[cand] + cov)
        k = int(np.argmin(d2))
        return int(self.draft[cand[k]]) if d2[k] <= gate else -1


Located = tuple[Observation, float, float, FloatArray]  # an observation, its x, y, covariance


def groups(
    items: list[Located],
    gate: float,
    window_us: int,
    compatible: Callable[[Observation, Observation], bool] = lambda a, b: True,
) -> list[list[Located]]:
    """Located observations of one type grouped into events: connected components of the
    pairs within the Mahalanobis gate and the time window (and ``compatible``)."""
    n = len(items)
    if n == 0:
        return []
    xy = np.column_stack(
        [
            np.fromiter((it[1] for it in items), float, n),
            np.fromiter((it[2] for it in items), float, n),
        ]
    )
    cov = np.stack([it[3] for it in items])
    sd = np.sqrt(np.maximum(cov[:, 0, 0], cov[:, 1, 1]))
    tree = cKDTree(xy)
    pairs = []
    for i, j in sorted(tree.query_pairs(float(np.sqrt(gate) * 2 * sd.max()) + 1.0)):
        oi, oj = items[i][0], items[j][0]
        if abs(oi.model.time - oj.model.time) > window_us or not compatible(oi, oj):
            continue
        d2 = mahalanobis(
            np.array(xy[i, 0] - xy[j, 0]), np.array(xy[i, 1] - xy[j, 1]), items[i][3] + items[j][3]
        )
        if d2 <= gate:
            pairs.append((i, j))
    labels = components(n, pairs)
    return [[items[k] for k in np.flatnonzero(labels == lab)] for lab in np.unique(labels)]


def group_point(members: list[Located]) -> tuple[int, int, Point]:
    """A group's first and last time and its combined position."""
    t0 = min(m[0].model.time for m in members)
    t1 = max(m[0].model.time_end or m[0].model.time for m in members)
    return t0, t1, combine([(m[1], m[2], m[3]) for m in members], t0)
