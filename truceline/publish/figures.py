"""The report's figures: the map of the day (with the sectors of the line numbered and the
main settlements named, so that the region table and the incident table can be read on it)
and the trend chart (days without data drawn as "not observed", never as zero), as PNG
bytes (matplotlib, the ``[plot]`` extra)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from .._extras import require
from ..i18n import Language, language

if TYPE_CHECKING:
    from .report import DailyReport

__all__ = ["map_figure", "map_png", "pyplot", "settlements", "trend_png"]

FIRM = 0.5
LABEL_OFFSET_M = 22_000.0  # the sector numbers stand this far north of the line
FILLS = ("#dbeafe", "#ffedd5", "#e5e7eb")
COLOURS = ("#1f6fb4", "#c2410c", "#15803d")
UNDETERMINED = "#6b7280"


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


def settlements(
    bounds: tuple[float, float, float, float], most: int = 14, spacing_km: float = 35.0
) -> list[tuple[float, float, int]]:
    """The most populous places inside ``bounds`` (lon0, lat0, lon1, lat1), at least
    ``spacing_km`` apart, as (lon, lat, gazetteer index): the map's place labels."""
    from ..places import gazetteer

    g = gazetteer()
    lon0, lat0, lon1, lat1 = bounds
    inside = np.flatnonzero((g.lon >= lon0) & (g.lon <= lon1) & (g.lat >= lat0) & (g.lat <= lat1))
    order = inside[np.argsort(-g.a["population"][inside], kind="stable")]
    kx = 111.32 * np.cos(np.radians((lat0 + lat1) / 2))
    chosen: list[int] = []
    for i in order:
        if len(chosen) >= most:
            break
        dx = (g.lon[chosen] - g.lon[i]) * kx
        dy = (g.lat[chosen] - g.lat[i]) * 110.57
        if not chosen or np.min(np.hypot(dx, dy)) >= spacing_km:
            chosen.append(int(i))
    return [(float(g.lon[i]), float(g.lat[i]), i) for i in chosen]


def _sectors(ax: Any, rep: DailyReport) -> None:
    """Number the sectors along the line (north of it, clear of the fire at the line) and
    mark where each ends with a tick across the line."""
    line, step = rep.ag.line_local, rep.sector_km * 1000.0
    n = len(rep.coverage.rows) or 1
    frame = rep.ag
    for k in range(n + 1):
        a = line.interpolate(min(k * step, line.length))
        b = line.interpolate(min(k * step + 500.0, line.length))
        dx, dy = b.x - a.x, b.y - a.y
        norm = float(np.hypot(dx, dy)) or 1.0
        px, py = -dy / norm * 5_000.0, dx / norm * 5_000.0
        lon, lat = frame.to_lonlat([a.x - px, a.x + px], [a.y - py, a.y + py])
        ax.plot(lon, lat, color="black", lw=0.8, zorder=4)
    mids = [line.interpolate(min((k + 0.5) * step, line.length)) for k in range(n)]
    mx, my = frame.to_lonlat([p.x for p in mids], [p.y + LABEL_OFFSET_M for p in mids])
    for k, (x, y) in enumerate(zip(mx, my, strict=True)):
        ax.annotate(
            str(k + 1), (x, y), ha="center", va="center", fontsize=7, zorder=6,
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "#111", "lw": 0.6},
        )  # fmt: skip


def _extent(rep: DailyReport, shown: list[dict[str, Any]]) -> tuple[float, float, float, float]:
    """The map's frame: the line, the sensors and the day's incidents, not the whole of the
    control areas (which may reach far behind the line)."""
    line = np.asarray(shapely.get_coordinates(rep.ag.line))
    xs = [line[:, 0], [p[0] for p in rep.coverage.reporting.values()]]
    ys = [line[:, 1], [p[1] for p in rep.coverage.reporting.values()]]
    xs.append([p["_geometry"]["coordinates"][0] for p in shown])
    ys.append([p["_geometry"]["coordinates"][1] for p in shown])
    x = np.concatenate([np.asarray(v, float) for v in xs])
    y = np.concatenate([np.asarray(v, float) for v in ys])
    mx, my = 0.04 * (x.max() - x.min()) + 0.05, 0.08 * (y.max() - y.min()) + 0.05
    return x.min() - mx, x.max() + mx, y.min() - my, y.max() + my


def _places(ax: Any, lang: Language) -> None:
    from matplotlib import patheffects

    from ..places import gazetteer

    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    g = gazetteer()
    halo = [patheffects.withStroke(linewidth=2.2, foreground="white")]
    for lon, lat, i in settlements((x0, y0, x1, y1), most=18, spacing_km=28.0):
        ax.scatter([lon], [lat], s=10, color="#111", zorder=5, lw=0)
        ax.annotate(
            g.names(i).get(lang.code) or g.names(i)["en"], (lon, lat), xytext=(3, -2),
            textcoords="offset points", fontsize=6.5, color="#111", zorder=5, va="top",
            path_effects=halo,
        )  # fmt: skip


def map_png(rep: DailyReport, lang: Language | None = None) -> bytes:
    """The map of the day (:func:`map_figure`) as PNG."""
    return _png(map_figure(rep, lang))


def map_figure(rep: DailyReport, lang: Language | None = None) -> Any:
    """The map of the day: control areas, the line and its numbered sectors, the clauses'
    areas, the sensors (and those with a gap), the incidents (coloured by the party they are
    attributed to) and the main settlements; a matplotlib figure."""
    from .summary import party_name

    lang = lang or language("en")
    ag = rep.ag
    shown = [p for p in rep.incidents if p.get("_geometry") and p["confidence"] >= FIRM]
    x0, x1, y0, y1 = _extent(rep, shown)
    aspect = (y1 - y0) / ((x1 - x0) * np.cos(np.radians((y0 + y1) / 2)))
    fig, ax = pyplot().subplots(
        figsize=(9, float(np.clip(8.2 * aspect + 1.3, 3.8, 7.0))), layout="constrained"
    )
    fills = dict(zip(ag.party_ids, FILLS, strict=False))
    colours = dict(zip(ag.party_ids, COLOURS, strict=False))
    for party, geom in ag.control.items():
        for poly in getattr(geom, "geoms", [geom]):
            ax.fill(*poly.exterior.xy, color=fills.get(party, "#eeeeee"), lw=0)
    for line in getattr(ag.line, "geoms", [ag.line]):
        ax.plot(
            *line.xy,
            color="black",
            lw=1.2,
            label=lang.gettext("line of contact (sectors numbered)"),
        )
    for clause in ag.clauses:
        for poly in getattr(
            clause.rule.area, "geoms", [clause.rule.area] if clause.rule.area else []
        ):
            ax.plot(*poly.exterior.xy, color="#7c3aed", lw=0.9, ls="--")
    if any(c.rule.area is not None for c in ag.clauses):
        ax.plot([], [], color="#7c3aed", lw=0.9, ls="--", label=lang.gettext("area of a clause"))
    sensors = [p for s, p in rep.coverage.reporting.items()]
    if sensors:
        ax.scatter(*zip(*sensors, strict=True), s=3, marker="^", color="#9ca3af", lw=0)
        ax.scatter(
            [],
            [],
            s=12,
            marker="^",
            color="#9ca3af",
            label=lang.gettext("acoustic sensor reporting"),
        )
    if rep.coverage.silent:
        ax.scatter(
            *zip(*rep.coverage.silent, strict=True), s=28, marker="x", color="#111827", lw=1.2
        )
        ax.scatter(
            [], [], s=28, marker="x", color="#111827", label=lang.gettext("sensor with a gap")
        )
    if shown:
        lon, lat = np.array([p["_geometry"]["coordinates"][:2] for p in shown]).T
        size = np.array([10 + 30 * p["confidence"] for p in shown])
        fill = [colours.get(p["attributed_to"], UNDETERMINED) for p in shown]
        ax.scatter(lon, lat, s=size, color=fill, alpha=0.8, lw=0, zorder=3)  # one call: fast
    for party, c in colours.items():
        ax.scatter([], [], color=c, label=lang.gettext("attributed to: {party}").format(
            party=party_name(rep, party, lang)))  # fmt: skip
    ax.scatter([], [], color=UNDETERMINED, label=lang.gettext("side not determined"))
    ax.scatter([], [], s=9, color="#111", label=lang.gettext("settlement"))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(1 / np.cos(np.radians((y0 + y1) / 2)), adjustable="box")
    _sectors(ax, rep)
    _places(ax, lang)
    ax.set_title(
        lang.gettext("Incidents of {date} (confidence 0.5 or more)").format(
            date=lang.date(rep.date)
        )
    )
    ax.set_xlabel(lang.gettext("longitude"))
    ax.set_ylabel(lang.gettext("latitude"))
    fig.legend(loc="outside lower center", ncol=3, fontsize=7, frameon=False)
    return fig


def trend_png(trend: list[tuple[str, int | None]], lang: Language | None = None) -> bytes:
    """Violations per day over the 30 days before and the day itself; a day without data
    is a hatched "not observed" column, and the 7-day mean is over observed days only."""
    lang = lang or language("en")
    fig, ax = pyplot().subplots(figsize=(9, 2.8), constrained_layout=True)
    days = [d for d, _ in trend]
    counts = np.array([np.nan if c is None else c for _, c in trend], float)
    seen = ~np.isnan(counts)
    x = np.arange(len(days))
    ax.bar(x[seen][:-1] if seen[-1] else x[seen], counts[seen][:-1] if seen[-1] else counts[seen],
           color="#94a3b8", label=lang.gettext("violations per day"))  # fmt: skip
    top = max(1.0, float(np.nanmax(counts)) if seen.any() else 1.0)
    if (~seen).any():
        ax.bar(x[~seen], np.full((~seen).sum(), top), color="none", edgecolor="#cbd5e1",
               hatch="///", lw=0, label=lang.gettext("not observed"))  # fmt: skip
    window = np.array(
        [np.nanmean(counts[max(0, i - 6) : i + 1]) if seen[max(0, i - 6) : i + 1].any() else np.nan
         for i in range(len(days))]
    )  # fmt: skip
    ax.plot(
        x, window, color="#0f172a", label=lang.gettext("mean of the observed days of the last 7")
    )
    if seen[-1]:
        ax.bar([x[-1]], [counts[-1]], color="#dc2626", label=lang.gettext("this day"))
    ticks = list(range(0, len(days), 5))
    ax.set_xticks(ticks, [lang.short_date(days[i]) for i in ticks])
    ax.set_ylim(0, top * 1.15)
    ax.legend(fontsize=7, loc="upper left")
    ax.set_title(lang.gettext("Violations per day: this day against the previous 30"), fontsize=10)
    return _png(fig)
