"""The daily report rendered: HTML, Markdown and PDF (WeasyPrint, the ``[pdf]`` extra), and
the figures and the machine-readable JSON beside them."""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .._extras import require
from .report import DailyReport, witness_statement

__all__ = ["render_html", "render_markdown", "render_pdf", "write_report", "write_reports"]

COLOURS = {"N": "#1f6fb4", "S": "#c2410c", None: "#6b7280"}


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


def _img(png: bytes) -> str:
    return f'<img alt="" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def render_html(rep: DailyReport) -> str:
    head = rep.tree_head or {}
    total = sum(rep.by_party.values())
    blind = [r["sector"] for r in rep.coverage if not r["observed"]]
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
<p class="small">Computed from the evidence log at tree size {head.get("tree_size", "-")}, root hash <code>{head.get("root_hash", "-")}</code>, signed {head.get("timestamp", "-")} by key {head.get("key_id", "-")}. {html.escape(witness_statement(head))}</p>
<h2>Headline counts</h2>
<div class="grid">
{_table(rep.by_clause, ("clause", "violations"))}
{_table(rep.by_party, ("attributed to", "violations"))}
{_table(rep.by_weapon, ("weapon class", "violations"))}
{_table(rep.by_region, ("region", "violations"))}
</div>
<h2>Map of the day</h2>
{_img(rep.map_png)}
<h2>Trend</h2>
{_img(rep.trend_png)}
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
                f"Evidence log: tree size {head.get('tree_size', '-')}, root `{head.get('root_hash', '-')}`. "
                + witness_statement(head),
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
    HTML = require("weasyprint", "pdf", "PDF reports").HTML

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
