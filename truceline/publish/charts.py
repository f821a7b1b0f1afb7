"""Charts of the real-data and calibration studies (matplotlib, the ``[plot]`` extra,
rendered offline to PNG)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..frontline import SIDES, SidedPoints
from .figures import pyplot

__all__ = ["fires_against_front", "reliability"]

COLOURS = {"held": "#1f77b4", "occupied": "#b2182b", "contested": "#9e9e9e", "outside": "#dddddd"}


def fires_against_front(sided: SidedPoints, summary: dict[str, Any], out: Path, title: str) -> Path:
    """Two panels: fires per week by side; signed distance to the line of contact."""
    plt = pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 8.5), constrained_layout=True)
    weeks = list(summary["by_week"])
    bottom_stack = np.zeros(len(weeks))
    for side in SIDES:
        counts = np.array([summary["by_week"][w][side] for w in weeks])
        top.bar(weeks, counts, bottom=bottom_stack, label=side, color=COLOURS[side])
        bottom_stack += counts
    top.set_ylabel("fire detections per week")
    top.set_title(title)
    top.tick_params(axis="x", rotation=60)
    top.legend(title="side of the front (nearest earlier snapshot)")
    first = summary.get("first_snapshot_week")
    if first in weeks:
        top.axvline(weeks.index(first) - 0.5, color="k", lw=1, ls="--")
        top.text(
            weeks.index(first) - 0.4, top.get_ylim()[1] * 0.9, "first front snapshot", fontsize=8
        )
    proper = sided.lag_days >= 0
    km = sided.distance_m / 1000.0
    bins = np.arange(-60, 61, 2.5)
    for i, side in enumerate(SIDES[:3]):
        sel = proper & (sided.side == i)
        bottom.hist(
            np.clip(km[sel], -60, 60), bins=bins, color=COLOURS[side], alpha=0.85, label=side
        )
    bottom.axvline(0, color="k", lw=1)
    bottom.set_xlabel("signed distance to the line of contact, km (negative: occupied side)")
    bottom.set_ylabel("fire detections")
    bottom.set_title("Fires with an earlier front snapshot (clipped at ±60 km)")
    bottom.legend()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def reliability(bins: dict[str, dict[str, Any]], out: Path, title: str) -> Path:
    """Reliability diagram: for incidents whose top party probability falls in each bin, the
    share where that party really fired. Calibrated probabilities lie on the diagonal."""
    keys = sorted(bins)
    n = np.array([bins[k]["n"] for k in keys], dtype=float)
    # each bin at the mean probability given in it where known, else at the bin's centre
    centre = np.array(
        [
            bins[k]["p_sum"] / bins[k]["n"]
            if bins[k].get("p_sum") and bins[k]["n"]
            else np.mean([float(v) for v in k.split("-")])
            for k in keys
        ]
    )
    correct = np.array([bins[k]["correct"] for k in keys], dtype=float)
    share = correct / np.maximum(n, 1)
    # 95 % Wilson interval per bin
    z = 1.96
    denom = 1 + z**2 / np.maximum(n, 1)
    mid = (share + z**2 / (2 * np.maximum(n, 1))) / denom
    half = (
        z
        * np.sqrt(share * (1 - share) / np.maximum(n, 1) + z**2 / (4 * np.maximum(n, 1) ** 2))
        / denom
    )
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 5.5), constrained_layout=True)
    ax.plot([0, 1], [0, 1], color="#888888", lw=1, ls="--", label="perfect calibration")
    ax.errorbar(
        centre,
        share,
        yerr=[share - (mid - half), (mid + half) - share],
        fmt="o",
        color=COLOURS["held"],
        label="observed (95 % interval)",
    )
    for xc, yc, count in zip(centre, share, n, strict=True):
        ax.annotate(
            f"n={int(count)}", (xc, yc), textcoords="offset points", xytext=(6, -12), fontsize=8
        )
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("probability given to the most likely party")
    ax.set_ylabel("share of incidents where that party fired")
    ax.set_title(title)
    ax.legend(loc="upper left")
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
