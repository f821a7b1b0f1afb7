"""The analysis commands: `truceline simulate`, `ingest`, `analyze`, `evaluate`, `frontline`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import UsageError
from ._app import (
    DEFAULT_DB,
    DatabaseUrlOption,
    DbOption,
    EngineOption,
    LogKeyOption,
    ParquetSetOption,
    PartitionOption,
    SchedulerOption,
    SectorOption,
    WorkersOption,
    app,
    engine_partitions,
    guard,
    logged_agreement,
    open_store,
    out,
    progress,
)

if TYPE_CHECKING:  # the CLI imports the library lazily, to start fast
    from ..analysis import Outputs
    from ..attribution import AttributionParams
    from ..localize.partitions import Partitioning

__all__ = ["analyze", "calibrate", "evaluate", "frontline", "ingest", "read_files", "simulate"]


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
    front: Annotated[
        Path | None,
        typer.Option(
            help="A real front map (or a GeoJSON line): the scenario is built along its line "
            "of contact instead of a synthetic one (front.json says how closely)."
        ),
    ] = None,
    border: Annotated[
        Path | None, typer.Option(help="With --front: the state's territory (region layer).")
    ] = None,
    escalation: Annotated[
        list[str] | None,
        typer.Option(
            help="An escalation: START_H,HOURS,ALONG_KM,FACTOR[,WIDTH_KM] (fire × FACTOR in a "
            "stretch WIDTH_KM wide, default 25, centred ALONG_KM from the front's western end). "
            "Repeatable."
        ),
    ] = None,
    world: Annotated[
        str,
        typer.Option(
            help="The world's physics: a preset (matched: the analysis' own assumptions; "
            "field: speeds, charges, salvos, wind, clocks and positions that differ from them) "
            "or a world YAML file."
        ),
    ] = "matched",
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
            world=world,
            front=None if front is None else (front, border),
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
        typer.Argument(
            help="Observation files (.jsonl; FIRMS, UCDP GED or ACLED .csv).", metavar="FILE"
        ),
    ],
    db: DbOption = DEFAULT_DB,
    database_url: DatabaseUrlOption = None,
    agreement: Annotated[
        Path | None, typer.Option(help="Agreement whose parties allegations must name.")
    ] = None,
    log_key: LogKeyOption = None,
    parquet: ParquetSetOption = None,
) -> None:
    """Validate observation files and add them to the store (all-or-nothing, idempotent);
    each new observation becomes an entry of the signed evidence log. With --parquet, the
    store's observations are also kept as a Parquet set partitioned by day and sector of
    the line (what was logged since the set's tree head is appended)."""
    from ..agreement import load_agreement
    from ..observations import check_parties

    def run() -> tuple[int, int, Any, int, Any, Any]:
        batch = read_files(files)
        ag = load_agreement(agreement) if agreement is not None else None
        if ag is not None:
            check_parties(batch.observations, ag.party_ids)
        with open_store(db, database_url, log_key) as store:
            sectors = None
            if parquet is not None:  # along the agreement's line, else the logged one's
                from ..columnar import Sectors

                if ag is None and not store.agreement_files():
                    raise UsageError("--agreement", "a Parquet set is cut by sectors of the "
                                     "line of contact: give the agreement")  # fmt: skip
                sectors = Sectors.of(ag if ag is not None else logged_agreement(store))
            with progress("checking, signing and storing", len(batch.observations)) as tick:
                batch = store.reconcile_detections(batch)
                accepted, dup = store.add_observations(batch, progress=lambda n: tick(n / 3))
            appended = None
            if parquet is not None and sectors is not None:
                from ..store.parquet_set import append_observations

                with progress("writing the Parquet set", store.count_observations()) as tick:
                    appended = append_observations(store, parquet, sectors, progress=tick)
            total, head = store.count_observations(), store.latest_head()
            return accepted, dup, batch, total, head, appended

    accepted, dup, batch, total, head, appended = guard(run)
    out.print(
        f"accepted {accepted}, duplicates {dup}, merged {batch.merged} (the same detection "
        f"published twice), superseded {batch.superseded} (near-real-time rows replaced by "
        f"their archive rows); the store {db} holds {total} observations"
    )
    if head is not None:
        out.print(f"evidence log: {head.tree_size} entries, root {head.root_hash[:16]}…")
    if appended is not None:
        out.print(
            f"Parquet set {parquet}: {appended.rows} observations appended in {appended.files} "
            f"files; it records tree head {appended.tree_size}"
        )


LabelErrorOption = Annotated[
    float,
    typer.Option(
        help="Attribution: the chance that one sensor labels a launch an impact or back.",
        min=0.01,
        max=0.49,
    ),
]
StandoffOption = Annotated[
    float,
    typer.Option(
        help="Attribution's prior: weapons' density rises as 1 - exp(-d/standoff) with "
        "the distance d from the line, alike on both sides (0: flat).",
        min=0.0,
        max=100_000.0,
    ),
]


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
    calibration: Annotated[
        Path | None,
        typer.Option(help="A calibration of the weapon classes (truceline calibrate writes one)."),
    ] = None,
    engine: EngineOption = "single",
    scheduler: SchedulerOption = None,
    workers: WorkersOption = 2,
    partition_minutes: PartitionOption = 60.0,
    sector_km: SectorOption = None,
    label_error: LabelErrorOption = 0.2,
    standoff_m: StandoffOption = 0.0,
    parquet: ParquetSetOption = None,
) -> None:
    """Localise, fuse, attribute and judge; write incidents.geojson and summary.json.

    With --db the run reads the observations of the evidence log's current tree head and is
    logged with it (code version, parameters, agreement, output hash): `truceline reproduce`
    re-runs it from the log. With --parquet (and --db) it reads them from a Parquet set
    instead, at the tree head the set records, once the set has been checked against the
    store's log (a set that does not match it is refused)."""
    if database_url and db is None:
        db = DEFAULT_DB  # (unused: the PostgreSQL store is the store)

    def run() -> tuple[Any, int | None]:
        from ..attribution import AttributionParams

        if not files and db is None:
            raise UsageError("--db", "give observation files, --db (or --database-url), or both")
        _check_parquet(parquet, db, files)
        with engine_partitions(engine, scheduler, workers, partition_minutes, sector_km) as parts:
            return _analyze(
                agreement,
                out_dir,
                files,
                db,
                database_url,
                log_key,
                threshold,
                calibration,
                parts,
                AttributionParams(label_error=label_error, standoff_m=standoff_m),
                parquet,
            )

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
    if parquet is not None:
        size = outputs.summary.get("evidence", {}).get("tree_size")
        out.print(f"read the Parquet set {parquet}, checked against the log at tree head {size}")


def _check_parquet(parquet: Path | None, db: Path | None, files: list[Path] | None) -> None:
    if parquet is not None and (db is None or files):
        raise UsageError(
            "--parquet", "a Parquet set is read with the store whose log it was written "
            "from (--db or --database-url), and without files (ingest them with "
            "--parquet first)"
        )  # fmt: skip


def _analyze(
    agreement: Path,
    out_dir: Path,
    files: list[Path] | None,
    db: Path | None,
    database_url: str | None,
    log_key: Path | None,
    threshold: float,
    calibration: Path | None,
    partitions: Partitioning | None = None,
    attribution: AttributionParams | None = None,
    parquet: Path | None = None,
) -> tuple[Outputs, int | None]:
    from ..agreement import agreement_files, load_agreement
    from ..analysis import analyze as run_analysis
    from ..analysis import write_outputs
    from ..calibration import load_calibration
    from ..store.runs import analyze_logged

    ag = load_agreement(agreement)
    model = load_calibration(calibration) if calibration is not None else None
    batch = read_files(list(files)) if files else None
    if db is None:
        observations = batch.observations if batch is not None else []
        with progress("locating acoustic events", len(observations)) as tick:
            result = run_analysis(
                observations,
                ag,
                threshold=threshold,
                progress=tick,
                model=model,
                partitions=partitions,
                attribution=attribution,
            )
        return write_outputs(result, ag, out_dir), None
    with open_store(db, database_url, log_key) as store:
        if batch is not None:
            from ..observations import check_parties

            check_parties(batch.observations, ag.party_ids)  # before anything is stored
            batch = store.reconcile_detections(batch)
            with progress("checking, signing and storing", len(batch.observations)) as tick:
                store.add_observations(batch, progress=lambda n: tick(n / 3))
        picks = store.count_observations("acoustic")
        with progress("locating acoustic events", picks) as tick:
            return analyze_logged(
                store,
                ag,
                agreement_files(agreement),
                out_dir,
                None,
                threshold,
                tick,
                model,
                partitions,
                attribution,
                parquet,
            )


@app.command()
def calibrate(
    incidents: Annotated[
        list[Path], typer.Argument(help="incidents.geojson of analysed days (one or more).")
    ],
    out_file: Annotated[Path, typer.Option("--out", help="The calibration file to write (YAML).")],
) -> None:
    """Learn each weapon class's ground speeds, salvo sizes and share from paired firings
    (and the launchers and weapons seen independently); write a calibration file for
    `truceline analyze --calibration`."""
    from ..calibration import calibrate as learn
    from ..calibration import write_calibration
    from ..incidents import read_incidents

    def run() -> dict[str, Any]:
        features = [f for path in incidents for f in read_incidents(path)]
        cal = learn(features)
        write_calibration(cal, out_file)
        return cal

    cal = guard(run)
    shares = ", ".join(f"{c} {p:.2f}" for c, p in cal["prior"].items() if p >= 0.01)
    out.print(f"learned from {cal['firings']} paired firings; shares: {shares}")
    out.print(f"wrote {out_file}")


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
    from .scores import clause_table, kind_table

    report = guard(lambda: run(truth, incidents, min_confidence))
    if as_json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
        return
    out.print(kind_table(report))
    out.print(clause_table(report))


@app.command()
def frontline(
    points: Annotated[
        Path, typer.Option(help="Thermal detections: FIRMS CSV or observation JSONL.")
    ],
    snapshots: Annotated[
        list[Path],
        typer.Option(
            help="Front maps (DeepStateMap exports or daily occupied-territory files); "
            "repeat or give a directory."
        ),
    ],
    border: Annotated[
        Path, typer.Option(help="Region layer whose union is the state's territory.")
    ],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Directory for sided.csv, summary.json and the chart.")
    ],
    legend: Annotated[
        Path | None,
        typer.Option(help="Legend YAML: which side each polygon is (default: the shipped one)."),
    ] = None,
) -> None:
    """Side every detection against the nearest earlier front map, read by its legend: side,
    and signed distance to the line of contact; each map's occupied area and line length."""
    summary = guard(lambda: _frontline(points, snapshots, border, out_dir, legend))
    for snap in summary["fronts"]:
        out.print(
            f"{snap['snapshot']}: occupied {snap['occupied_km2']:,} km² (since 2014 "
            f"{snap['occupied_since_2014_km2']:,}), contested {snap['contested_km2']:,} km², "
            f"line of contact {snap['line_of_contact_km']:,} km"
        )
    sides = ", ".join(f"{k} {v}" for k, v in summary["all"]["by_side"].items())
    out.print(f"{summary['points']} detections sided in {summary['siding_seconds']:.2f} s: {sides}")
    names = ", ".join(str(out_dir / n) for n in ("sided.csv", "summary.json", "fires_vs_front.png"))
    out.print(f"wrote {names}")


def _frontline(
    points: Path, snapshots: list[Path], border: Path, out_dir: Path, legend: Path | None
) -> dict[str, Any]:
    import time

    from ..frontmap import (
        Front,
        Territory,
        default_legend,
        load_legend,
        read_border,
        read_snapshot,
        side_over_time,
        sided_csv,
        summarise,
        thermal_points,
    )
    from ..publish.charts import fires_against_front

    leg = load_legend(legend) if legend is not None else default_legend()
    files = [q for p in snapshots for q in (sorted(p.glob("*.geojson")) if p.is_dir() else [p])]
    with progress("reading front maps", len(files)) as tick:
        snaps = []
        for f in files:
            snaps.append(read_snapshot(f, leg))
            tick(1)
    terr = Territory.of(read_border(border))
    with progress("lines of contact", len(snaps)) as tick:
        fronts = []
        for s in snaps:
            fronts.append(Front.of(s, terr))
            tick(1)
    obs, lon, lat, t_us = thermal_points(read_files([points]).observations)
    start = time.perf_counter()
    sided = side_over_time(lon, lat, t_us, fronts, terr)
    elapsed = time.perf_counter() - start
    summary = summarise(sided, fronts)
    summary["siding_seconds"] = round(elapsed, 2)
    summary["legend"] = leg.source
    summary["fronts"] = [f.summary for f in sorted(fronts, key=lambda f: f.snapshot.time_us)]
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "sided.csv").write_text(sided_csv(obs, sided, fronts), encoding="utf-8")
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    title = f"{len(obs):,} thermal detections against {len(fronts)} front snapshots"
    fires_against_front(sided, summary, out_dir / "fires_vs_front.png", title)
    return summary
