"""The daily report: what a mission publishes about one day, in HTML, Markdown and PDF.

Contents: the evidence tree head it was computed from; headline counts of violations
(incidents with confidence ≥ 0.5 that break a clause) by clause, by party, by weapon class
and by region (any region layer, else 25 km sectors of the line); a map of the day; the
trend against the previous 7 and 30 days; **coverage** (which sensors reported, and the
sectors of the line no network could locate events in that day, so that "0 violations" is
never read as "nothing happened"); every incident with its confidence, attribution and
evidence; and a methodology note.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import shapely

from ._time import format_time, parse_time
from .agreement import Agreement
from .coverage import locatable_area, n_sectors_of, sensor_gaps, up_matrix

__all__ = [
    "DailyReport",
    "build_report",
    "render_html",
    "render_markdown",
    "render_pdf",
    "write_report",
    "write_reports",
]

DAY_US = 86_400_000_000
FIRM = 0.5
COLOURS = {"N": "#1f6fb4", "S": "#c2410c", None: "#6b7280"}


@dataclass
class DailyReport:
    date: str
    agreement: str
    tree_head: dict[str, Any] | None
    by_clause: dict[str, int]
    by_party: dict[str, int]
    by_weapon: dict[str, int]
    by_region: dict[str, int]
    trend: list[tuple[str, int]]  # (date, violations) for the 30 days before and the day
    coverage: list[dict[str, Any]]
    gaps: list[dict[str, Any]]
    sensors_reporting: int
    incidents: list[dict[str, Any]]
    map_png: bytes = b""
    trend_png: bytes = b""
    notes: list[str] = field(default_factory=list)


def _day(text: str) -> str:
    return text[:10]


def _violating(props: dict[str, Any]) -> bool:
    return bool(props["violations"]) and props["confidence"] >= FIRM


def build_report(
    date: str,
    features: list[dict[str, Any]],
    ag: Agreement,
    tree_head: dict[str, Any] | None,
    acoustic: list[dict[str, Any]],
    regions: list[tuple[str, shapely.Geometry]] | None = None,
    sector_km: float = 25.0,
    known_sensors: dict[str, tuple[float, float]] | None = None,
) -> DailyReport:
    """Everything the report says about ``date`` (YYYY-MM-DD), from a run's incidents and
    the day's acoustic detections (for coverage). ``known_sensors`` (id → lon, lat), the
    sensors seen on earlier days, lets a sensor that fell silent for the whole day show."""
    day0 = parse_time(f"{date}T00:00:00Z")
    today = [f for f in features if _day(f["properties"]["time_start"]) == date]
    firm = [f for f in today if _violating(f["properties"])]
    by_clause = Counter(c for f in firm for c in f["properties"]["violations"])
    by_party = Counter(f["properties"]["attributed_to"] or "undetermined" for f in firm)
    by_weapon = Counter(f["properties"].get("weapon", "unknown") for f in firm)
    by_region = _by_region(firm, ag, regions, sector_km)
    daily = Counter(
        _day(f["properties"]["time_start"]) for f in features if _violating(f["properties"])
    )
    trend = []
    for d in range(30, -1, -1):
        t = day0 - d * DAY_US
        key = _iso_day(t)
        trend.append((key, int(daily.get(key, 0))))
    coverage, gaps, reporting, positions = _coverage(
        acoustic, ag, day0, sector_km, known_sensors or {}
    )
    rep = DailyReport(
        date=date,
        agreement=ag.id,
        tree_head=tree_head,
        by_clause=dict(sorted(by_clause.items())),
        by_party=dict(sorted(by_party.items())),
        by_weapon=dict(sorted(by_weapon.items(), key=lambda kv: -kv[1])),
        by_region=dict(sorted(by_region.items())),
        trend=trend,
        coverage=coverage,
        gaps=gaps,
        sensors_reporting=len(reporting),
        incidents=[f["properties"] | {"_geometry": f.get("geometry")} for f in today],
    )
    gap_sensors = {g["sensor"] for g in gaps}
    rep.map_png = _map(
        today,
        ag,
        date,
        [p for s, p in reporting.items() if s not in gap_sensors],
        [positions[s] for s in sorted(gap_sensors)],
    )
    rep.trend_png = _trend_chart(trend)
    return rep


def _by_region(
    firm: list[dict[str, Any]],
    ag: Agreement,
    regions: list[tuple[str, shapely.Geometry]] | None,
    sector_km: float,
) -> Counter[str]:
    """Violations per region of the layer, else per sector of the line (all at once)."""
    counts: Counter[str] = Counter()
    located = [
        f["geometry"]["coordinates"] for f in firm if (f.get("geometry") or {}).get("coordinates")
    ]
    counts["(not located)"] += len(firm) - len(located)
    if not located:
        return +counts
    lon = np.array([c[0] for c in located])
    lat = np.array([c[1] for c in located])
    if regions:
        name = np.full(lon.size, "(outside the regions)", dtype=object)
        for n, g in reversed(regions):  # the first region that contains a point wins
            name[shapely.contains_xy(g, lon, lat)] = n
        counts.update(str(n) for n in name)
    else:
        x, y = ag.frame.forward(lon, lat)
        along = shapely.line_locate_point(ag.line_local, shapely.points(x, y))
        for k in (np.asarray(along) // (sector_km * 1000)).astype(int):
            counts[f"sector {k + 1} (km {k * sector_km:.0f}-{(k + 1) * sector_km:.0f})"] += 1
    return +counts


def _clock(t_us: int, day0: int) -> str:
    """HH:MM:SS on the report's day (24:00:00 at its end)."""
    if t_us >= day0 + DAY_US:
        return "24:00:00"
    return format_time(t_us)[11:19]


def _iso_day(t_us: int) -> str:
    return format_time(t_us)[:10]


def _coverage(
    acoustic: list[dict[str, Any]],
    ag: Agreement,
    day0: int,
    sector_km: float,
    known: dict[str, tuple[float, float]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    """Per sector of the line: the sensors that reported that day, their gaps, the hours in
    which the sector could locate events, and its locatable area (``truceline.coverage``).
    Also every gap, and the positions of the sensors reporting and of every sensor known.
    ``known`` sensors (from earlier days) that did not report are tested for a day-long gap."""
    day = [o for o in acoustic if day0 <= parse_time(o["time"]) < day0 + DAY_US]
    n_sectors = n_sectors_of(ag.line_local, sector_km)
    reporting = {o["sensor"]: (o["position"][0], o["position"][1]) for o in day}
    positions = known | reporting
    ids = np.array(sorted(positions))
    heard = np.array([s in reporting for s in ids], dtype=bool)
    if ids.size:
        x, y = ag.frame.forward([positions[s][0] for s in ids], [positions[s][1] for s in ids])
        xy = np.column_stack([x, y])
        index = {s: i for i, s in enumerate(ids)}
        det_s = np.array([index[o["sensor"]] for o in day])
        det_t = np.array([parse_time(o["time"]) for o in day])
        gaps = sensor_gaps(ids, xy, det_s, det_t, day0, day0 + DAY_US)
        first = np.full(ids.size, np.iinfo(np.int64).max)
        last = np.full(ids.size, np.iinfo(np.int64).min)
        np.minimum.at(first, det_s, det_t)
        np.maximum.at(last, det_s, det_t)
        up = up_matrix(ids, gaps, day0, 24, (first, last))
        along = shapely.line_locate_point(ag.line_local, shapely.points(x, y))
        sector_of = np.minimum((along // (sector_km * 1000)).astype(int), n_sectors - 1)
    else:
        xy, gaps, up = np.zeros((0, 2)), [], np.zeros((0, 24), bool)
        sector_of = np.zeros(0, int)
        heard = np.zeros(0, bool)
    areas = locatable_area(xy, up, ag.line_local, sector_km)
    gap_sector = {str(s): int(k) for s, k in zip(ids, sector_of, strict=True)}
    rows = []
    for area in areas:
        k = area.sector
        rows.append(
            {
                "sector": f"sector {k + 1} (km {k * sector_km:.0f}-{(k + 1) * sector_km:.0f})",
                "sensors_reporting": int(((sector_of == k) & heard).sum()),
                "gaps": sum(1 for g in gaps if gap_sector[g.sensor] == k),
                "sensor_uptime": f"{up[sector_of == k].mean():.0%}"
                if (sector_of == k).any()
                else "-",
                "hours_able_to_locate": area.hours_able_to_locate,
                "locatable_km2": round(area.mean_km2),
                "locatable_share": f"{area.share:.0%}",
                "observed": area.hours_able_to_locate > 0,
            }
        )
    gap_rows = [
        {
            "sensor": g.sensor,
            "sector": gap_sector[g.sensor] + 1,
            "silent from": _clock(g.start_us, day0),
            "silent to": _clock(g.end_us, day0),
            "sounds missed": g.missed,
            "hit rate": f"{g.hit_rate:.2f}",
        }
        for g in gaps
    ]
    return rows, gap_rows, reporting, positions


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def _map(
    today: list[dict[str, Any]],
    ag: Agreement,
    date: str,
    sensors: list[tuple[float, float]],
    silent: list[tuple[float, float]],
) -> bytes:
    fig, ax = plt.subplots(figsize=(9, 5.2), constrained_layout=True)
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


def _trend_chart(trend: list[tuple[str, int]]) -> bytes:
    fig, ax = plt.subplots(figsize=(9, 3), constrained_layout=True)
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


METHOD = (
    "Incidents are fused from acoustic detections (located by time differences of arrival), "
    "patrol reports, satellite thermal anomalies, UAV sightings and the parties' allegations. "
    "A violation is counted when an incident with confidence of at least 0.5 breaks a clause. "
    "Attribution is the probability that the origin lies in each party's control area, over "
    "the origin's uncertainty; it is named only at 0.95 or above. Counts cover what the "
    "network could observe: see the coverage table. Every figure can be checked against the "
    "published evidence log at the tree head printed at the top (docs/methods.md, "
    "docs/checking-a-published-figure.md)."
)


def _table(
    rows: list[dict[str, Any]] | dict[str, int],
    headers: tuple[str, ...],
    widths: tuple[int, ...] = (),
    css: str = "",
) -> str:
    """An HTML table; ``widths`` (percent per column) fix its layout, which is also much
    faster for WeasyPrint to lay out than an automatic one."""
    if isinstance(rows, dict):
        body = "".join(
            f"<tr><td>{html.escape(str(k))}</td><td>{v}</td></tr>" for k, v in rows.items()
        )
    else:
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(r[h]))}</td>" for h in headers) + "</tr>"
            for r in rows
        )
    head = "".join(f"<th>{html.escape(h.replace('_', ' '))}</th>" for h in headers)
    cols = "".join(f'<col style="width: {w}%">' for w in widths)
    attrs = f' class="{css}"' if css else ""
    if widths:
        attrs += ' style="table-layout: fixed; width: 100%"'
    return (
        f"<table{attrs}><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead>"
        f"<tbody>{body or '<tr><td>none</td></tr>'}</tbody></table>"
    )


def _incident_rows(rep: DailyReport) -> list[dict[str, Any]]:
    rows = []
    for p in rep.incidents:
        probs = ", ".join(f"{k} {v:.2f}" for k, v in sorted((p.get("attribution") or {}).items()))
        rows.append(
            {
                "time (UTC)": p["time_start"][11:19],
                "kind": p["kind"],
                "weapon": p.get("weapon", "unknown"),
                "confidence": f"{p['confidence']:.2f}",
                "attribution": probs or "undetermined",
                "violations": ", ".join(p["violations"]) or "-",
                "evidence": ", ".join(
                    f"{k} {v}" for k, v in sorted((p.get("sources") or {}).items())
                ),
                "id": p["id"][:12],
            }
        )
    return rows


COVERAGE_COLUMNS = (
    "sector",
    "sensors_reporting",
    "gaps",
    "sensor_uptime",
    "hours_able_to_locate",
    "locatable_km2",
    "locatable_share",
    "observed",
)
GAP_COLUMNS = ("sensor", "sector", "silent from", "silent to", "sounds missed", "hit rate")


def render_html(rep: DailyReport) -> str:
    head = rep.tree_head or {}
    total = sum(rep.by_party.values())
    blind = [r["sector"] for r in rep.coverage if not r["observed"]]
    img = lambda png: f'<img alt="" src="data:image/png;base64,{base64.b64encode(png).decode()}">'  # noqa: E731
    inc_headers = (
        "time (UTC)",
        "kind",
        "weapon",
        "confidence",
        "attribution",
        "violations",
        "evidence",
        "id",
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Daily report {rep.date}</title>
<style>
body {{ font-family: "DejaVu Sans", sans-serif; font-size: 10pt; color: #111; margin: 1.5em; }}
h1 {{ font-size: 16pt; }} h2 {{ font-size: 12pt; border-bottom: 1px solid #999; }}
table {{ border-collapse: collapse; margin: 0.4em 0 1em; }} td, th {{ border: 1px solid #bbb; padding: 2px 6px; text-align: left; }}
th {{ background: #eef; }} img {{ max-width: 100%; }} .small {{ font-size: 8pt; color: #444; }}
table.incidents {{ font-size: 7.5pt; }}
td {{ overflow-wrap: break-word; }}
.grid {{ display: flex; gap: 1.5em; flex-wrap: wrap; }}
@page {{ size: A4; margin: 1.5cm; }}
</style></head><body>
<h1>Ceasefire monitoring: daily report for {rep.date}</h1>
<p>Agreement <b>{html.escape(rep.agreement)}</b>. {total} violations observed (incidents with confidence ≥ 0.5 that break a clause).
{("<b>Not observed</b> (no network able to locate events): " + html.escape(", ".join(blind)) + ".") if blind else "Every sector of the line was observed."}</p>
<p class="small">Computed from the evidence log at tree size {head.get("tree_size", "-")}, root hash <code>{head.get("root_hash", "-")}</code>, signed {head.get("timestamp", "-")} by key {head.get("key_id", "-")}.</p>
<h2>Headline counts</h2>
<div class="grid">
{_table(rep.by_clause, ("clause", "violations"))}
{_table(rep.by_party, ("attributed to", "violations"))}
{_table(rep.by_weapon, ("weapon class", "violations"))}
{_table(rep.by_region, ("region", "violations"))}
</div>
<h2>Map of the day</h2>
{img(rep.map_png)}
<h2>Trend</h2>
{img(rep.trend_png)}
<p>This day: {rep.trend[-1][1]}; mean of the previous 7 days: {np.mean([c for _, c in rep.trend[-8:-1]]):.1f}; of the previous 30: {np.mean([c for _, c in rep.trend[:-1]]):.1f}.</p>
<h2>Coverage</h2>
<p>{rep.sensors_reporting} acoustic sensors reported; {len(rep.gaps)} gaps were found (a sensor silent while its neighbours heard sounds it would have heard). Sensor uptime is the share of the day's sensor-hours in which a sector's sensors were working: from an hour before each sensor's first detection to an hour after its last, less its gaps. Locating a sound takes four sensors that hear it: the locatable area is the part of the band within 10 km of the line that had four working sensors within 7.5 km (where a 120 mm mortar's impact is heard nine times in ten), as a mean over the hours; an hour counts as able to locate when any of the sector could.</p>
{_table(rep.coverage, COVERAGE_COLUMNS, (19, 12, 7, 11, 13, 13, 13, 12))}
<h3>Sensor gaps</h3>
{_table(rep.gaps, GAP_COLUMNS, (16, 10, 22, 22, 16, 14)) if rep.gaps else "<p>None found. Short outages in quiet stretches cannot be told from quiet (docs/methods.md).</p>"}
<h2>Incidents</h2>
{_table(_incident_rows(rep), inc_headers, (10, 10, 15, 10, 14, 9, 18, 14), "incidents")}
<h2>Method</h2>
<p>{html.escape(METHOD)}</p>
</body></html>
"""


def _md_table(rows: list[dict[str, Any]], headers: tuple[str, ...]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(r[h]) for h in headers) + " |" for r in rows]
    return "\n".join(lines)


def render_markdown(rep: DailyReport) -> str:
    head = rep.tree_head or {}

    def table(rows: dict[str, int], a: str) -> str:
        lines = [f"| {a} | violations |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows.items()]
        return "\n".join(lines) if rows else f"| {a} | violations |\n|---|---|\n| none | 0 |"

    blind = [r["sector"] for r in rep.coverage if not r["observed"]]
    inc = _incident_rows(rep)
    inc_lines = ["| " + " | ".join(r.values()) + " |" for r in inc]
    return (
        "\n\n".join(
            [
                f"# Ceasefire monitoring: daily report for {rep.date}",
                f"Agreement {rep.agreement}; {sum(rep.by_party.values())} violations observed. "
                + (f"Not observed: {', '.join(blind)}." if blind else "Every sector was observed."),
                f"Evidence log: tree size {head.get('tree_size', '-')}, root `{head.get('root_hash', '-')}`.",
                "## By clause\n\n" + table(rep.by_clause, "clause"),
                "## By party\n\n" + table(rep.by_party, "attributed to"),
                "## By weapon class\n\n" + table(rep.by_weapon, "weapon class"),
                "## By region\n\n" + table(rep.by_region, "region"),
                f"## Coverage\n\n{rep.sensors_reporting} acoustic sensors reported; "
                f"{len(rep.gaps)} gaps found.\n\n"
                + _md_table(rep.coverage, COVERAGE_COLUMNS)
                + "\n\n### Sensor gaps\n\n"
                + (_md_table(rep.gaps, GAP_COLUMNS) if rep.gaps else "none found"),
                "## Incidents\n\n| "
                + " | ".join(inc[0].keys())
                + " |\n|"
                + "---|" * len(inc[0])
                + "\n"
                + "\n".join(inc_lines)
                if inc
                else "## Incidents\n\nnone",
                "## Method\n\n" + METHOD,
            ]
        )
        + "\n"
    )


def render_pdf(page: str, path: Path) -> Path:
    """Render a report's HTML to PDF with WeasyPrint (the slow part of a report)."""
    from weasyprint import HTML

    HTML(string=page).write_pdf(path)
    return path


def write_report(rep: DailyReport, out: Path, formats: tuple[str, ...]) -> list[Path]:
    """Write ``report-DATE.{html,md,pdf}`` (and the figures) into ``out``."""
    written = _write_text_formats(rep, out, formats)
    if "pdf" in formats:
        written.append(render_pdf(render_html(rep), out / f"report-{rep.date}.pdf"))
    return written


def write_reports(
    reps: Iterable[DailyReport], out: Path, formats: tuple[str, ...], workers: int = 1
) -> Iterator[list[Path]]:
    """Write several reports, rendering their PDFs in ``workers`` processes alongside;
    yields each report's files as it is done, in order."""
    if "pdf" not in formats or workers <= 1:
        for rep in reps:
            yield write_report(rep, out, formats)
        return
    from concurrent.futures import ProcessPoolExecutor

    pending: list[tuple[list[Path], Any]] = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for rep in reps:
            files = _write_text_formats(rep, out, formats)
            pending.append(
                (files, pool.submit(render_pdf, render_html(rep), out / f"report-{rep.date}.pdf"))
            )
            while pending and (pending[0][1].done() or len(pending) > 2 * workers):
                files, job = pending.pop(0)
                yield [*files, job.result()]
        for files, job in pending:
            yield [*files, job.result()]


def _write_text_formats(rep: DailyReport, out: Path, formats: tuple[str, ...]) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if "html" in formats:
        path = out / f"report-{rep.date}.html"
        path.write_text(render_html(rep), encoding="utf-8")
        written.append(path)
    if "md" in formats:
        (out / f"map-{rep.date}.png").write_bytes(rep.map_png)
        (out / f"trend-{rep.date}.png").write_bytes(rep.trend_png)
        path = out / f"report-{rep.date}.md"
        text = render_markdown(rep).replace(
            "## Coverage",
            f"![map](map-{rep.date}.png)\n\n![trend](trend-{rep.date}.png)\n\n## Coverage",
            1,
        )
        path.write_text(text, encoding="utf-8")
        written.append(path)
    (out / f"report-{rep.date}.json").write_text(
        json.dumps(
            {
                "date": rep.date,
                "tree_head": rep.tree_head,
                "by_clause": rep.by_clause,
                "by_party": rep.by_party,
                "by_weapon": rep.by_weapon,
                "by_region": rep.by_region,
                "trend": rep.trend,
                "coverage": rep.coverage,
                "gaps": rep.gaps,
            },
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )
    return written
