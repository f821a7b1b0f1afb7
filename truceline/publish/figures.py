"""The report's figures: the map of the day and the trend chart, as PNG bytes (matplotlib,
the ``[plot]`` extra)."""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from .._extras import require
from ..agreement import Agreement

__all__ = ["map_png", "pyplot", "trend_png"]

FIRM = 0.5


def pyplot() -> Any:
    """matplotlib's pyplot on the off-screen Agg backend (the ``[plot]`` extra)."""
    matplotlib = require("matplotlib", "plot", "Report figures and charts")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    pyplot().close(fig)
    return buf.getvalue()


def map_png(
    today: list[dict[str, Any]],
    ag: Agreement,
    date: str,
    sensors: list[tuple[float, float]],
    silent: list[tuple[float, float]],
) -> bytes:
    fig, ax = pyplot().subplots(figsize=(9, 5.2), constrained_layout=True)
    fills = {ag.party_ids[0]: "#dbeafe", ag.party_ids[-1]: "#ffedd5"}
    for party, geom in ag.control.items():
        for poly in getattr(geom, "geoms", [geom]):
            xs, ys = poly.exterior.xy
            ax.fill(xs, ys, color=fills.get(party, "#eeeeee"), lw=0)
    for line in getattr(ag.line, "geoms", [ag.line]):
        xs, ys = line.xy
        ax.plot(xs, ys, color="black", lw=1.2, label="line of contact")
    for clause in ag.clauses:
        if clause.rule.area is not None:
            for poly in getattr(clause.rule.area, "geoms", [clause.rule.area]):
                xs, ys = poly.exterior.xy
                ax.plot(xs, ys, color="#7c3aed", lw=0.9, ls="--")
    if sensors:
        sx, sy = zip(*sensors, strict=True)
        ax.scatter(sx, sy, s=3, marker="^", color="#9ca3af", lw=0)
        ax.scatter([], [], s=12, marker="^", color="#9ca3af", label="acoustic sensor reporting")
    if silent:
        gx, gy = zip(*silent, strict=True)
        ax.scatter(gx, gy, s=28, marker="x", color="#111827", lw=1.2)
        ax.scatter([], [], s=28, marker="x", color="#111827", label="sensor with a gap")
    colours = {ag.party_ids[0]: "#1f6fb4", ag.party_ids[-1]: "#c2410c"}
    shown = [f for f in today if f.get("geometry") and f["properties"]["confidence"] >= FIRM]
    if shown:
        lon, lat = np.array([f["geometry"]["coordinates"][:2] for f in shown]).T
        size = np.array([10 + 30 * f["properties"]["confidence"] for f in shown])
        fill = [colours.get(f["properties"]["attributed_to"], "#6b7280") for f in shown]
        ax.scatter(lon, lat, s=size, color=fill, alpha=0.8, lw=0)  # one call: fast at any size
    for party, c in colours.items():
        ax.scatter([], [], color=c, label=f"attributed to {party}")
    ax.scatter([], [], color="#6b7280", label="undetermined")
    ax.set_title(f"Incidents of {date} (confidence ≥ 0.5)")
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.legend(loc="lower left", fontsize=8)
    ax.set_aspect(1 / np.cos(np.radians(float(np.mean(ax.get_ylim())))))
    return _png(fig)


def trend_png(trend: list[tuple[str, int]]) -> bytes:
    fig, ax = pyplot().subplots(figsize=(9, 3), constrained_layout=True)
    days = [d for d, _ in trend]
    counts = np.array([c for _, c in trend], float)
    ax.bar(range(len(days)), counts, color="#94a3b8", label="violations per day")
    week = np.convolve(counts, np.ones(7) / 7, mode="full")[: len(counts)]
    ax.plot(range(len(days)), week, color="#0f172a", label="7-day mean")
    ax.bar([len(days) - 1], [counts[-1]], color="#dc2626", label="this day")
    ax.set_xticks(range(0, len(days), 5), [days[i][5:] for i in range(0, len(days), 5)])
    ax.legend(fontsize=8)
    ax.set_title("Violations: this day against the previous 30 days")
    return _png(fig)
