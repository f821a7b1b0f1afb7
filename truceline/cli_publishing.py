"""Commands that publish: `truceline report`, `truceline export`, `truceline alerts`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from .cli import (
    DEFAULT_DB,
    DatabaseUrlOption,
    DbOption,
    LogKeyOption,
    _guard,
    _logged_agreement,
    _open_store,
    _progress,
    app,
    err,
    out,
)


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

    from .exports import FORMATS, export

    if fmt not in FORMATS:
        err.print(f"error: --format must be one of {', '.join(FORMATS)}")
        raise typer.Exit(2)

    def go() -> tuple[Path, int, Any]:
        with _open_store(db, database_url) as store:
            features = store.incidents(run)
            head = store.latest_head()
            files = store.agreement_files()
            observations = (
                [json.loads(o.body) for o in store.iter_observations()] if fmt == "gpkg" else None
            )
        ag = _logged_agreement(files) if files else None
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

    path, n, head = _guard(go)
    tree = f" at tree head {head.tree_size}" if head else ""
    out.print(f"wrote {n} incidents to {path}{tree}")


KNOWN_DAYS = 7  # a sensor heard from within this many days before a report's day is known


def _seen(last_seen: dict[str, tuple[int, Any]], record: dict[str, Any]) -> None:
    """Keep each sensor's latest detection time and position."""
    from ._time import parse_time

    t = parse_time(record["time"])
    if t > last_seen.get(record["sensor"], (-1, None))[0]:
        last_seen[record["sensor"]] = (t, (record["position"][0], record["position"][1]))


def _day_before(d: str) -> str:
    from datetime import date, timedelta

    return (date.fromisoformat(d) - timedelta(days=1)).isoformat()


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
    db: DbOption = DEFAULT_DB,
    database_url: DatabaseUrlOption = None,
) -> None:
    """The daily report: counts by clause, party, weapon and region, a map, the trend, the
    coverage of the line and its sensors' gaps, every incident, the method, and the evidence
    tree head. With --through, one report per day of the period, from one read of the store."""
    import os
    import re
    from datetime import date as Date
    from datetime import timedelta

    from ._time import parse_time
    from .errors import StoreError
    from .report import DAY_US, build_report, write_reports

    formats = tuple(f.strip() for f in fmt.split(",") if f.strip())
    if (
        not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date)
        or not formats
        or any(f not in ("html", "md", "pdf") for f in formats)
        or (through is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", through))
    ):
        err.print("error: --date and --through are YYYY-MM-DD, --format a list of html, md, pdf")
        raise typer.Exit(2)
    try:
        first = Date.fromisoformat(date)
        last = Date.fromisoformat(through) if through else first
    except ValueError as exc:
        err.print(f"error: {exc}")
        raise typer.Exit(2) from None
    if last < first or (last - first).days > 366:
        err.print("error: --through must be on or after --date, and within a year of it")
        raise typer.Exit(2)
    days = [(first + timedelta(days=k)).isoformat() for k in range((last - first).days + 1)]

    def go() -> list[Path]:
        import shapely

        with _open_store(db, database_url) as store:
            features = store.incidents(run)
            head = store.latest_head()
            files = store.agreement_files()
            # the period's detections, and the week before it: the sensors known to exist
            acoustic: dict[str, list[dict[str, Any]]] = {d: [] for d in days}
            start = parse_time(f"{days[0]}T00:00:00Z")
            last_seen: dict[str, tuple[int, tuple[float, float]]] = {}
            records = store.observation_records(
                "acoustic", start - KNOWN_DAYS * DAY_US, start + len(days) * DAY_US
            )
            for body in records:
                day = body["time"][:10]
                if day in acoustic:
                    acoustic[day].append(body)
                else:
                    _seen(last_seen, body)
        if not files:
            raise StoreError("no analysis run has logged an agreement yet")
        ag = _logged_agreement(files)
        layer = None
        if regions is not None:
            doc = json.loads(regions.read_text(encoding="utf-8"))
            layer = [
                (
                    str(f["properties"].get(region_name, "?")),
                    shapely.from_geojson(json.dumps(f["geometry"])),
                )
                for f in doc["features"]
            ]

        def known(d: str) -> dict[str, tuple[float, float]]:
            """Sensors that reported in the week before day ``d``."""
            t0 = parse_time(f"{d}T00:00:00Z")
            for o in acoustic.get(_day_before(d), []):
                _seen(last_seen, o)
            return {s: p for s, (t, p) in last_seen.items() if t >= t0 - KNOWN_DAYS * DAY_US}

        reps = (
            build_report(
                d,
                features,
                ag,
                head.as_dict() if head else None,
                acoustic[d],
                layer,
                known_sensors=known(d),
            )
            for d in days
        )
        workers = min(len(days), os.cpu_count() or 1)  # PDFs render alongside the next day
        written: list[Path] = []
        with _progress("daily reports", len(days)) as advance:
            for files in write_reports(reps, out_dir, formats, workers):
                written += files
                advance(1)
        return written

    paths = _guard(go)
    for p in paths:
        out.print(f"wrote {p}")


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
    import os

    from .alerts import deliver, find_alerts
    from .errors import StoreError
    from .evidence import canonical

    def go() -> list[tuple[Any, dict[str, Any] | None]]:
        with _open_store(db, database_url, log_key) as store:
            features = store.incidents(run)
            files = store.agreement_files()
            if not files:
                raise StoreError("no analysis run has logged an agreement yet")
            ag = _logged_agreement(files)
            found = find_alerts(
                features,
                ag,
                sector_km,
                baseline_hours,
                ratio,
                threshold,
                quiet_hours,
                diurnal=not flat,
            )
            results: list[tuple[Any, dict[str, Any] | None]] = []
            secret = os.environ.get(secret_env, "").encode()
            if webhook and not secret:
                raise StoreError(f"--webhook needs the HMAC secret in ${secret_env}")
            for a in found:
                res = deliver(webhook, a, secret) if webhook else None
                results.append((a, res))
            if webhook and found:
                store.append(
                    "alert",
                    [
                        canonical(
                            {
                                "kind": "alert",
                                "alert": a.as_dict(),
                                "webhook": webhook,
                                "delivery": res,
                            }
                        )
                        for a, res in results
                    ],
                )
            return results

    results = _guard(go)
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
