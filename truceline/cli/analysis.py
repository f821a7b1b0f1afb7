"""The analysis commands: `truceline simulate`, `ingest`, `analyze`, `evaluate`, `frontline`."""

from __future__ import annotations

import json
import sys
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
    open_store,
    out,
    progress,
)

__all__ = ["analyze", "evaluate", "frontline", "ingest", "read_files", "simulate"]


@app.command()
def simulate(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write the scenario into.")],
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same files.")] = 1,
    hours: Annotated[float, typer.Option(help="Simulated hours.", min=0.1, max=24 * 60)] = 24.0,
    start: Annotated[str, typer.Option(help="Start time (RFC 3339).")] = "2026-03-01T00:00:00Z",
    fire_rate: Annotated[float, typer.Option(help="Mean firing events per hour.", min=0.0)] = 12.0,
    length_km: Annotated[float, typer.Option(help="Length of the front.", min=60.0)] = 300.0,
    sensor_spacing_km: Annotated[
        float, typer.Option(help="Spacing of the acoustic sensors along each row.", min=0.1)
    ] = 6.0,
    presence_scale: Annotated[
        float, typer.Option(help="Multiplier of equipment near the line (UAV sightings).", min=0)
    ] = 1.0,
    background_fires: Annotated[
        float, typer.Option(help="Mean unrelated thermal anomalies per overpass.", min=0)
    ] = 5.0,
    allegation_rate: Annotated[
        float, typer.Option(help="Multiplier of the parties' allegations.", min=0)
    ] = 1.0,
    uav_sightings: Annotated[
        int, typer.Option(help="Most UAV sightings of one piece of equipment.", min=1)
    ] = 3,
    escalation: Annotated[
        list[str] | None,
        typer.Option(
            help="An escalation: START_H,HOURS,ALONG_KM,FACTOR[,WIDTH_KM] (fire × FACTOR in a "
            "stretch WIDTH_KM wide, default 25, centred ALONG_KM from the front's western end). "
            "Repeatable."
        ),
    ] = None,
) -> None:
    """Simulate a front: agreement.yaml, control.geojson, observations.jsonl, truth.jsonl,
    and the ground truth of escalations and of sensor outages."""
    from ..simulate import Escalation
    from ..simulate import simulate as run

    try:
        escalations = tuple(Escalation.parse(e) for e in escalation or ())
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--escalation") from None
    res = guard(
        lambda: run(
            out_dir,
            seed=seed,
            hours=hours,
            start=start,
            fire_rate_per_hour=fire_rate,
            length_km=length_km,
            sensor_spacing_km=sensor_spacing_km,
            presence_scale=presence_scale,
            background_fires_per_pass=background_fires,
            allegation_rate=allegation_rate,
            uav_sightings=uav_sightings,
            escalations=escalations,
        )
    )
    kinds = ", ".join(f"{k} {v}" for k, v in res.by_type.items())
    out.print(
        f"wrote {res.observations} observations ({kinds}) and {res.truth} true events to {out_dir}"
    )


def read_files(files: list[Path]) -> Any:
    """Observation files read as one batch (all-or-nothing), with a progress indicator."""
    from ..sources import read_observations

    with progress("reading observations", None):
        return read_observations(files)


@app.command()
def ingest(
    files: Annotated[
        list[Path],
        typer.Argument(help="Observation files (.jsonl, FIRMS .csv).", metavar="FILE"),
    ],
    db: DbOption = DEFAULT_DB,
    database_url: DatabaseUrlOption = None,
    agreement: Annotated[
        Path | None, typer.Option(help="Agreement whose parties allegations must name.")
    ] = None,
    log_key: LogKeyOption = None,
) -> None:
    """Validate observation files and add them to the store (all-or-nothing, idempotent);
    each new observation becomes an entry of the signed evidence log."""
    from ..agreement import load_agreement
    from ..observations import check_parties

    def run() -> tuple[int, int, int, Any]:
        batch = read_files(files)
        if agreement is not None:
            check_parties(batch.observations, load_agreement(agreement).party_ids)
        with (
            open_store(db, database_url, log_key) as store,
            progress("checking, signing and storing", len(batch.observations)) as tick,
        ):
            accepted, dup = store.add_observations(batch, progress=lambda n: tick(n / 3))
            return accepted, dup, store.count_observations(), store.latest_head()

    accepted, dup, total, head = guard(run)
    out.print(f"accepted {accepted}, duplicates {dup}; the store {db} holds {total} observations")
    if head is not None:
        out.print(f"evidence log: {head.tree_size} entries, root {head.root_hash[:16]}…")


@app.command()
def analyze(
    agreement: Annotated[Path, typer.Option(help="The agreement YAML.")],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Directory for incidents.geojson and summary.json.")
    ],
    files: Annotated[
        list[Path] | None, typer.Argument(help="Observation files.", metavar="FILE")
    ] = None,
    db: Annotated[
        Path | None,
        typer.Option(
            "--db",
            help="Store: analyse its observations (files given are ingested first) and keep the incidents.",
        ),
    ] = None,
    threshold: Annotated[
        float, typer.Option(help="Attribution threshold.", min=0.5, max=1.0)
    ] = 0.95,
    log_key: LogKeyOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Localise, fuse, attribute and judge; write incidents.geojson and summary.json.

    With --db the run reads the observations of the evidence log's current tree head and is
    logged with it (code version, parameters, agreement, output hash): `truceline reproduce`
    re-runs it from the log."""
    if database_url and db is None:
        db = DEFAULT_DB  # (unused: the PostgreSQL store is the store)

    def run() -> tuple[Any, int | None]:
        if not files and db is None:
            raise UsageError("--db", "give observation files, --db (or --database-url), or both")
        return _analyze(agreement, out_dir, files, db, database_url, log_key, threshold)

    outputs, run_id = guard(run)
    inc = outputs.summary["incidents"]
    kinds = ", ".join(f"{k} {v}" for k, v in inc["by_kind"].items())
    viol = ", ".join(f"{k} {v}" for k, v in inc["violations_by_clause"].items()) or "none"
    out.print(
        f"{inc['total']} incidents ({kinds}); {inc['confidence_ge_0_5']} with confidence ≥ 0.5"
    )
    out.print(f"violations by clause (confidence ≥ 0.5): {viol}")
    stored = f"; stored as run {run_id}" if run_id else ""
    out.print(f"wrote {outputs.incidents} and {outputs.summary_file}{stored}")


def _analyze(
    agreement: Path,
    out_dir: Path,
    files: list[Path] | None,
    db: Path | None,
    database_url: str | None,
    log_key: Path | None,
    threshold: float,
) -> tuple[Any, int | None]:
    from ..agreement import agreement_files, load_agreement
    from ..analysis import analyze as run_analysis
    from ..analysis import write_outputs
    from ..store.runs import analyze_logged

    ag = load_agreement(agreement)
    batch = read_files(list(files)) if files else None
    if db is None:
        observations = batch.observations if batch is not None else []
        with progress("locating acoustic events", len(observations)) as tick:
            result = run_analysis(observations, ag, threshold=threshold, progress=tick)
        return write_outputs(result, ag, out_dir), None
    with open_store(db, database_url, log_key) as store:
        if batch is not None:
            from ..observations import check_parties

            check_parties(batch.observations, ag.party_ids)  # before anything is stored
            with progress("checking, signing and storing", len(batch.observations)) as tick:
                store.add_observations(batch, progress=lambda n: tick(n / 3))
        picks = store.count_observations("acoustic")
        with progress("locating acoustic events", picks) as tick:
            return analyze_logged(
                store, ag, agreement_files(agreement), out_dir, batch, threshold, progress=tick
            )


@app.command()
def evaluate(
    truth: Annotated[Path, typer.Option(help="Ground truth JSONL from the simulator.")],
    incidents: Annotated[Path, typer.Option(help="incidents.geojson from analyze.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print every figure as JSON.")] = False,
    min_confidence: Annotated[
        float,
        typer.Option(help="Incidents below this confidence are not counted.", min=0.0, max=1.0),
    ] = 0.5,
) -> None:
    """Score incidents against ground truth: recall, precision, attribution, localisation."""
    from ..evaluate import evaluate as run

    report = guard(lambda: run(truth, incidents, min_confidence))
    if as_json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
        return
    out.print(_kind_table(report))
    out.print(_clause_table(report))


@app.command()
def frontline(
    points: Annotated[
        Path, typer.Option(help="Thermal detections: FIRMS CSV or observation JSONL.")
    ],
    snapshots: Annotated[
        list[Path],
        typer.Option(
            help="Front snapshots (DeepStateMap raw exports); repeat or give a directory."
        ),
    ],
    border: Annotated[
        Path, typer.Option(help="Region layer whose union is the state's territory.")
    ],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Directory for sided.csv, summary.json and the chart.")
    ],
) -> None:
    """Side every detection against the nearest earlier front snapshot: side and signed distance."""
    summary = guard(lambda: _frontline(points, snapshots, border, out_dir))
    sides = ", ".join(f"{k} {v}" for k, v in summary["all"]["by_side"].items())
    out.print(f"{summary['points']} detections sided in {summary['siding_seconds']:.2f} s: {sides}")
    names = ", ".join(str(out_dir / n) for n in ("sided.csv", "summary.json", "fires_vs_front.png"))
    out.print(f"wrote {names}")


def _frontline(points: Path, snapshots: list[Path], border: Path, out_dir: Path) -> dict[str, Any]:
    import time

    from ..frontline import (
        read_border,
        read_deepstate,
        side_over_time,
        sided_csv,
        summarise,
        thermal_points,
    )
    from ..publish.charts import fires_against_front

    files = [q for p in snapshots for q in (sorted(p.glob("*.geojson")) if p.is_dir() else [p])]
    snaps = [read_deepstate(f) for f in files]
    terr = read_border(border)
    obs, lon, lat, t_us = thermal_points(read_files([points]).observations)
    start = time.perf_counter()
    sided = side_over_time(lon, lat, t_us, snaps, terr)
    elapsed = time.perf_counter() - start
    summary = summarise(sided, snaps)
    summary["siding_seconds"] = round(elapsed, 2)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "sided.csv").write_text(sided_csv(obs, sided, snaps), encoding="utf-8")
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    title = f"{len(obs):,} thermal detections against {len(snaps)} front snapshots"
    fires_against_front(sided, summary, out_dir / "fires_vs_front.png", title)
    return summary


def _fmt(v: Any) -> str:
    return "-" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))


def _m(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"


KIND_ROWS = (
    ("true events", "truth"),
    ("locatable true events", "truth_locatable"),
    ("incidents", "incidents"),
    ("matched", "matched"),
    ("recall", "recall"),
    ("recall (locatable)", "recall_locatable"),
    ("precision", "precision"),
    ("attributed", "attributed"),
    ("attribution accuracy", "attribution_accuracy"),
    ("coverage (attributed / true)", "coverage"),
    ("Brier score", "brier"),
    ("weapon class accuracy", "weapon_accuracy"),
)


def _kind_table(report: dict[str, Any]) -> Table:
    t = Table(title=f"Evaluation (incidents with confidence ≥ {report['min_confidence']})")
    t.add_column("figure")
    kinds = report["kinds"]
    for k in kinds:
        t.add_column(k, justify="right")
    for label, key in KIND_ROWS:
        t.add_row(label, *(_fmt(kinds[k][key]) for k in kinds))
    for label, key in (("origin error m", "origin_error_m"), ("impact error m", "impact_error_m")):
        t.add_row(
            f"{label} (median / p90)",
            *(f"{_m(kinds[k][key]['median'])} / {_m(kinds[k][key]['p90'])}" for k in kinds),
        )
    return t


def _clause_table(report: dict[str, Any]) -> Table:
    t = Table(title="Violations by clause")
    for col in ("clause", "TP", "FP", "FN", "precision", "recall", "F1", "F1 locatable"):
        t.add_column(col, justify="right" if col != "clause" else "left")
    for clause, c in report["clauses"].items():
        t.add_row(
            clause,
            *(str(c[k]) for k in ("tp", "fp", "fn")),
            *(_fmt(c[k]) for k in ("precision", "recall", "f1", "f1_locatable")),
        )
    return t
