"""Commands that publish: `truceline report`, `truceline export`, `truceline alerts`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ..access import Disclosure
from ..agreement import agreement_from_files
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
    out_file: Annotated[
        Path, typer.Option("--out", help="File to write (.geojson, .gpkg, .csv or .parquet).")
    ],
    run: Annotated[int | None, typer.Option(help="Analysis run (default: the latest).")] = None,
    audience: Annotated[
        str,
        typer.Option(
            help="internal: every incident as reviewed; public: what the public API shows "
            "(published, verified, after the delay, locations coarsened)."
        ),
    ] = "internal",
    as_of: Annotated[
        str | None,
        typer.Option(help="For --audience public: the time the delay runs to (default: now)."),
    ] = None,
    delay_hours: Annotated[
        float, typer.Option(help="For --audience public: hours before an incident is shown.", min=0)
    ] = Disclosure().delay_hours,
    coarsen_deg: Annotated[
        float,
        typer.Option(
            help="For --audience public: locations rounded to this many degrees.", min=1e-4
        ),
    ] = Disclosure().coarsen_deg,
    db: DbOption = DEFAULT_DB,
    database_url: DatabaseUrlOption = None,
    partitioned: Annotated[
        bool,
        typer.Option(
            "--partitioned",
            help="With --format parquet: --out is a Parquet set (a directory), the incidents "
            "partitioned by day and sector of the line.",
        ),
    ] = False,
) -> None:
    """Export a run's incidents for the tools their readers use: GeoJSON (FORMATS §3), a
    GeoPackage for QGIS (incidents, origins, impacts, observations, the line of contact,
    control areas, withdrawal zones; times as DATETIME), CSV with ACLED's columns and
    UCDP GED's precision codes, or GeoParquet with typed and nested columns (with
    --partitioned, a Parquet set by day and sector). Each records the evidence tree head it
    was made from, and reflects the analysts' reviews."""
    if partitioned:
        policy = Disclosure(delay_hours=delay_hours, coarsen_deg=coarsen_deg)
        return _partitioned(fmt, out_file, run, audience, as_of, policy, db, database_url)

    def go() -> tuple[Path, int, Any]:
        from ..publish.exports import export

        _check_export(fmt, out_file, audience)
        now = _as_of(as_of)
        policy = Disclosure(delay_hours=delay_hours, coarsen_deg=coarsen_deg)
        with open_existing(db, database_url) as store, progress("exporting", None):
            _check_run(store, run)
            features = _audience_view(store, run, audience, now, policy)
            head = store.latest_head()
            files = store.agreement_files()
            observations = (
                [json.loads(o.body) for o in store.iter_observations()]
                if fmt == "gpkg" and audience == "internal"
                else None
            )
            ag = agreement_from_files(files) if files else None
            names = {p.id: p.name for p in ag.parties} if ag else {}
            path = export(fmt, out_file, features, head.as_dict() if head else None, names,
                          observations, ag)  # fmt: skip
        return path, len(features), head

    path, n, head = guard(go)
    tree = f" at tree head {head.tree_size}" if head else ""
    out.print(f"wrote {n} incidents to {path}{tree}")


def _partitioned(
    fmt: str,
    out_dir: Path,
    run: int | None,
    audience: str,
    as_of: str | None,
    policy: Any,
    db: Path,
    database_url: str | None,
) -> None:
    guard(lambda: _check_partitioned(fmt, out_dir, audience))
    n, head, files = guard(
        lambda: _export_partitioned(out_dir, run, audience, _as_of(as_of), policy, db, database_url)
    )
    out.print(
        f"wrote {n} incidents in {files} files to the Parquet set {out_dir} at tree head "
        f"{head.tree_size if head else 0}"
    )


def _check_partitioned(fmt: str, out_dir: Path, audience: str) -> None:
    from ..publish.audience import AUDIENCES

    if fmt != "parquet":
        raise UsageError("--partitioned", "only a Parquet export is partitioned (--format parquet)")
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError("--out", f"{out_dir}: a partitioned export goes to a directory")
    if audience not in AUDIENCES:
        raise UsageError("--audience", f"must be one of {', '.join(AUDIENCES)}")


def _export_partitioned(
    out_dir: Path,
    run: int | None,
    audience: str,
    now: int,
    policy: Any,
    db: Path,
    database_url: str | None,
) -> tuple[int, Any, int]:
    """The run's incidents, as the audience may see them, into the Parquet set ``out_dir``
    (whose observations, if it holds any, must come from this store's log)."""
    from ..columnar import load_manifest
    from ..places import describe_features
    from ..publish.parquet import write_partitioned
    from ..store.parquet_set import check_set_head

    with open_existing(db, database_url) as store, progress("exporting", None):
        _check_run(store, run)
        manifest = load_manifest(out_dir) if out_dir.exists() else None
        if manifest is not None and "tree_head" in manifest:
            check_set_head(store, out_dir, manifest)
        features = _audience_view(store, run, audience, now, policy)
        head = store.latest_head()
        ag = logged_agreement(store)
        out_dir.mkdir(parents=True, exist_ok=True)
        section = {"run": run if run is not None else store.latest_run(), "audience": audience}
        written = write_partitioned(
            out_dir, features, head.as_dict() if head else None, ag,
            describe_features(features), section,
        )  # fmt: skip
    return len(features), head, len(written["files"])


def _check_export(fmt: str, out_file: Path, audience: str) -> None:
    """Arguments that cannot work are refused before the store is opened."""
    from ..publish.audience import AUDIENCES
    from ..publish.exports import FORMATS, SUFFIXES

    if fmt not in FORMATS:
        raise UsageError("--format", f"must be one of {', '.join(FORMATS)}")
    if out_file.suffix.lower() not in SUFFIXES[fmt]:
        raise UsageError(
            "--out", f"{out_file.name}: a {fmt} export goes to a file ending in "
            f"{' or '.join(SUFFIXES[fmt])}"
        )  # fmt: skip
    if audience not in AUDIENCES:
        raise UsageError("--audience", f"must be one of {', '.join(AUDIENCES)}")


def _as_of(text: str | None) -> int:
    import time

    from .._time import parse_time

    if text is None:
        return int(time.time() * 1e6)
    try:
        return parse_time(text)
    except ValueError as exc:
        raise UsageError("--as-of", str(exc)) from None


def _audience_view(
    store: Any, run: int | None, audience: str, now: int, policy: Any
) -> list[dict[str, Any]]:
    from ..publish.audience import for_audience

    return for_audience(store.incidents(run), store.reviews(), audience, now, policy)


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
    lang: Annotated[
        str, typer.Option("--lang", help="Any of en, uk, ru, comma-separated: one report each.")
    ] = "en",
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
    observed_share: Annotated[
        float,
        typer.Option(
            help="Share of the day's hours a sector must be able to locate sounds in to count "
            "as observed.",
            min=0.0,
            max=1.0,
        ),
    ] = 0.75,
    db: DbOption = DEFAULT_DB,
    database_url: DatabaseUrlOption = None,
) -> None:
    """The daily report: a summary, counts by clause, party, weapon and region (verified and
    automatic), a map, the trend over the observed days, the coverage of the line and its
    sensors' gaps, every incident with its place, the method, and the evidence tree head
    (with the log's published key and the newest head a quorum of witnesses cosigned).
    With --through, one report per day of the period, from one read of the store."""

    def go() -> list[Path]:
        days, formats, langs = _days(date, through), _formats(fmt), _langs(lang)
        layer = _regions(regions, region_name) if regions is not None else None
        with open_existing(db, database_url) as store:
            inputs = _report_inputs(store, run, days, witness_quorum)
        return _write_period(days, inputs, layer, observed_share, out_dir, formats, langs)

    paths = guard(go)
    for p in paths:
        out.print(f"wrote {p}")


MAX_PERIOD_DAYS = 3_653


def _report_inputs(store: Any, run: int | None, days: list[str], quorum: int) -> dict[str, Any]:
    """What the reports of ``days`` read from the store, in one go: the run's incidents as
    reviewed, the acoustic detections, the days observed, the agreement and the tree head."""
    from .._time import parse_time
    from ..access import Disclosure
    from ..publish.audience import for_audience
    from ..publish.day_coverage import registered_only
    from ..publish.report import DAY_US, KNOWN_DAYS, witnessed_head

    _check_run(store, run)
    start = parse_time(f"{days[0]}T00:00:00Z")
    end = start + len(days) * DAY_US
    with progress("reading the store", None):
        features = for_audience(store.incidents(run), store.reviews(), "internal", 0, Disclosure())
        ag = logged_agreement(store)
        registry = set(store.sensors())  # coverage counts registered sensors, where any are
        return {
            "features": features,
            "head": witnessed_head(store.latest_head(), ag, store.cosigned_heads(quorum)),
            "ag": ag,
            "acoustic": registered_only(
                store.observation_records("acoustic", start - KNOWN_DAYS * DAY_US, end), registry
            ),
            "observed": set(store.observation_days(start - 30 * DAY_US, end)),
            "calibration": store.run_calibration(run),
            "status": registered_only(
                store.observation_records("status", start - DAY_US, end), registry
            ),
        }


def _write_period(
    days: list[str],
    inputs: dict[str, Any],
    layer: list[tuple[str, Any]] | None,
    observed_share: float,
    out_dir: Path,
    formats: list[str],
    langs: list[str],
) -> list[Path]:
    from ..publish.render import write_reports
    from ..publish.report import period_reports

    reps = period_reports(
        days, inputs["features"], inputs["ag"], inputs["head"], inputs["acoustic"], layer,
        observed_days=inputs["observed"], observed_share=observed_share,
        calibration=inputs["calibration"], status=inputs["status"],
    )  # fmt: skip
    workers = min(len(days), os.cpu_count() or 1)  # PDFs render alongside the next day
    written: list[Path] = []
    with progress("daily reports", len(days)) as advance:
        for files in write_reports(reps, out_dir, tuple(formats), workers, tuple(langs)):
            written += files
            advance(1)
    return written


def _check_run(store: Any, run: int | None) -> None:
    """A run that does not exist is a bad argument, not an empty answer."""
    latest = store.latest_run()
    if latest is None:
        raise UsageError("--run", "the store holds no analysis run yet: run `truceline analyze`")
    if run is not None and not store.has_run(run):
        raise UsageError("--run", f"no run {run} in the store (the latest is run {latest})")


def _langs(text: str) -> list[str]:
    from ..i18n import LANGUAGES

    langs = [c.strip() for c in text.split(",") if c.strip()]
    if not langs or any(c not in LANGUAGES for c in langs):
        raise UsageError("--lang", f"a comma-separated list of {', '.join(LANGUAGES)}")
    return list(dict.fromkeys(langs))


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
    if a < date.min + timedelta(days=30):  # the trend reads the 30 days before the first
        raise UsageError("--date", f"must be on or after {date.min + timedelta(days=30)}")
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
