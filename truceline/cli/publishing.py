"""Commands that publish: `truceline report`, `truceline export`, `truceline alerts`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ..errors import UsageError
from ._app import (
    DEFAULT_DB,
    DatabaseUrlOption,
    DbOption,
    LogKeyOption,
    app,
    guard,
    logged_agreement,
    open_existing,
    out,
    progress,
)

__all__ = ["alerts", "export_cmd", "report"]


@app.command("export")
def export_cmd(
    fmt: Annotated[str, typer.Option("--format", help="geojson, gpkg, csv or parquet.")],
    out_file: Annotated[Path, typer.Option("--out", help="File to write.")],
    run: Annotated[int | None, typer.Option(help="Analysis run (default: the latest).")] = None,
    db: DbOption = DEFAULT_DB,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Export a run's incidents: GeoJSON (FORMATS §3), a GeoPackage (incidents, observations,
    control areas, zones) for QGIS, CSV with ACLED columns and UCDP-GED precision codes, or
    Parquet; each records the evidence tree head it was made from."""

    from ..agreement import agreement_from_files
    from ..publish.exports import FORMATS, export

    def go() -> tuple[Path, int, Any]:
        if fmt not in FORMATS:
            raise UsageError("--format", f"must be one of {', '.join(FORMATS)}")
        with open_existing(db, database_url) as store:
            features = store.incidents(run)
            head = store.latest_head()
            files = store.agreement_files()
            observations = (
                [json.loads(o.body) for o in store.iter_observations()] if fmt == "gpkg" else None
            )
        ag = agreement_from_files(files) if files else None
        names = {p.id: p.name for p in ag.parties} if ag else {}
        path = export(
            fmt,
            out_file,
            features,
            head.as_dict() if head else None,
            names,
            observations,
            ag,
        )
        return path, len(features), head

    path, n, head = guard(go)
    tree = f" at tree head {head.tree_size}" if head else ""
    out.print(f"wrote {n} incidents to {path}{tree}")


@app.command()
def report(
    date: Annotated[str, typer.Option(help="The day, YYYY-MM-DD (UTC).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for the report.")],
    through: Annotated[
        str | None,
        typer.Option(help="Also every day after --date up to this one: one report per day."),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="Any of html, md, pdf, comma-separated.")
    ] = "html,md,pdf",
    run: Annotated[int | None, typer.Option(help="Analysis run (default: the latest).")] = None,
    regions: Annotated[
        Path | None,
        typer.Option(help="A region layer (GeoJSON polygons) for the counts by region."),
    ] = None,
    region_name: Annotated[str, typer.Option(help="The region layer's name property.")] = "name",
    witness_quorum: Annotated[
        int,
        typer.Option(help="Witnesses whose cosignatures make the head the report cites.", min=1),
    ] = 2,
    db: DbOption = DEFAULT_DB,
    database_url: DatabaseUrlOption = None,
) -> None:
    """The daily report: counts by clause, party, weapon and region, a map, the trend, the
    coverage of the line and its sensors' gaps, every incident, the method, and the evidence
    tree head (with the log's published key and the newest head a quorum of witnesses
    cosigned). With --through, one report per day of the period, from one read of the store."""
    from .._time import parse_time

    def go() -> list[Path]:
        from ..publish.render import write_reports
        from ..publish.report import DAY_US, KNOWN_DAYS, period_reports

        days, formats = _days(date, through), _formats(fmt)
        start = parse_time(f"{days[0]}T00:00:00Z")
        from ..publish.report import witnessed_head

        with open_existing(db, database_url) as store:
            features = store.incidents(run)
            ag = logged_agreement(store)
            head = witnessed_head(store.latest_head(), ag, store.cosigned_heads(witness_quorum))
            records = store.observation_records(
                "acoustic", start - KNOWN_DAYS * DAY_US, start + len(days) * DAY_US
            )
        layer = _regions(regions, region_name) if regions is not None else None
        reps = period_reports(days, features, ag, head, records, layer)
        workers = min(len(days), os.cpu_count() or 1)  # PDFs render alongside the next day
        written: list[Path] = []
        with progress("daily reports", len(days)) as advance:
            for files in write_reports(reps, out_dir, tuple(formats), workers):
                written += files
                advance(1)
        return written

    paths = guard(go)
    for p in paths:
        out.print(f"wrote {p}")


MAX_PERIOD_DAYS = 3_653


def _days(first: str, through: str | None) -> list[str]:
    """Every day from ``first`` to ``through`` (YYYY-MM-DD; at most ten years: a backtest
    of a whole ceasefire, such as Minsk 2015-2019, is one period)."""
    from datetime import date, timedelta

    try:
        a = date.fromisoformat(first) if len(first) == 10 else None
        b = date.fromisoformat(through) if through and len(through) == 10 else a
    except ValueError as exc:
        raise UsageError("--date", str(exc)) from None
    if a is None or b is None or (through is not None and len(through) != 10):
        raise UsageError("--date", "--date and --through are YYYY-MM-DD")
    if b < a or (b - a).days > MAX_PERIOD_DAYS:
        raise UsageError("--through", "must be on or after --date, and within ten years of it")
    return [(a + timedelta(days=k)).isoformat() for k in range((b - a).days + 1)]


def _formats(text: str) -> list[str]:
    formats = [f.strip() for f in text.split(",") if f.strip()]
    if not formats or any(f not in ("html", "md", "pdf") for f in formats):
        raise UsageError("--format", "a comma-separated list of html, md, pdf")
    return formats


def _regions(path: Path, name: str) -> list[tuple[str, Any]]:
    """A region layer: (name, polygon) of each feature, in the file's order."""
    import shapely

    doc = json.loads(path.read_text(encoding="utf-8"))
    return [
        (str(f["properties"].get(name, "?")), shapely.from_geojson(json.dumps(f["geometry"])))
        for f in doc["features"]
    ]


@app.command()
def alerts(
    run: Annotated[int | None, typer.Option(help="Analysis run (default: the latest).")] = None,
    sector_km: Annotated[float, typer.Option(help="Length of a sector of the line.", min=1)] = 25.0,
    baseline_hours: Annotated[
        int, typer.Option(help="Hours that set each sector's calm rate.", min=0)
    ] = 72,
    ratio: Annotated[
        float, typer.Option(help="Escalation to detect (× the calm rate).", min=1.01)
    ] = 2.0,
    threshold: Annotated[float, typer.Option(help="CUSUM threshold.", min=0.1)] = 5.0,
    flat: Annotated[
        bool,
        typer.Option(
            "--flat", help="One calm rate for every hour, not one that follows the hour of day."
        ),
    ] = False,
    quiet_hours: Annotated[
        int, typer.Option(help="Quiet hours before fire is 'resumed'.", min=1)
    ] = 24,
    webhook: Annotated[str | None, typer.Option(help="URL to POST each alert to.")] = None,
    secret_env: Annotated[
        str, typer.Option(help="Environment variable holding the webhook's HMAC secret.")
    ] = "TRUCELINE_WEBHOOK_SECRET",
    db: DbOption = DEFAULT_DB,
    database_url: DatabaseUrlOption = None,
    log_key: LogKeyOption = None,
) -> None:
    """Escalation (Poisson CUSUM per sector) and rule alerts over a run's incidents; with
    --webhook, each is delivered signed (HMAC-SHA256), with retries, and logged."""
    from ..evidence import canonical
    from ..publish.alerts import deliver_all, find_alerts, log_records

    def go() -> list[tuple[Any, dict[str, Any] | None]]:
        secret = os.environ.get(secret_env, "").encode()
        if webhook and not secret:
            raise UsageError("--webhook", f"needs the HMAC secret in ${secret_env}")
        with open_existing(db, database_url, log_key) as store:
            ag = logged_agreement(store)
            found = find_alerts(
                store.incidents(run),
                ag,
                sector_km,
                baseline_hours,
                ratio,
                threshold,
                quiet_hours,
                diurnal=not flat,
            )
            results = deliver_all(found, webhook, secret)
            if webhook and found:
                store.append("alert", [canonical(r) for r in log_records(results, webhook)])
            return results

    results = guard(go)
    table = Table(title=f"{len(results)} alerts")
    for col in ("time", "sector", "kind", "detail", "delivered"):
        table.add_column(col)
    for a, res in results:
        table.add_row(
            a.time,
            str(a.sector),
            a.kind,
            a.detail,
            "-" if res is None else f"{res['delivered']} ({res['attempts']} attempts)",
        )
    out.print(table)
