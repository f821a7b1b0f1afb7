"""The ``truceline`` command line: thin wrappers over the library.

Exit codes: 0 success, 2 bad input (the message names file, line and field), 1 internal
error.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .errors import InputError, TrucelineError

app = typer.Typer(
    help="Truceline: ceasefire monitoring and verification.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)
T = TypeVar("T")

DbOption = Annotated[Path, typer.Option("--db", help="SQLite store file.")]
DEFAULT_DB = Path("truceline.db")
DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="TRUCELINE_DATABASE_URL",
        help="PostgreSQL + PostGIS store (postgresql://...) instead of the SQLite file.",
    ),
]
LogKeyOption = Annotated[
    Path | None,
    typer.Option(help="The evidence log's signing key (default: the store's path + .key)."),
]


def _fail(exc: BaseException) -> None:
    if isinstance(exc, InputError):
        err.print(
            f"[bold red]error:[/] input rejected, nothing was written\n{exc}", highlight=False
        )
        raise typer.Exit(2)
    if isinstance(exc, TrucelineError):
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(1)
    err.print(f"[bold red]internal error:[/] {type(exc).__name__}: {exc}", highlight=False)
    raise typer.Exit(1)


def _guard(fn: Callable[[], T]) -> T:
    try:
        return fn()
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        _fail(exc)
        raise  # unreachable: _fail always raises


@contextmanager
def _progress(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


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
    from .simulate import Escalation
    from .simulate import simulate as run

    try:
        escalations = tuple(Escalation.parse(e) for e in escalation or ())
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--escalation") from None

    res = _guard(
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


def _read(files: list[Path]) -> Any:
    from .observations import read_observations

    with _progress("reading observations", None):
        return read_observations(files)


@app.command()
def ingest(
    files: Annotated[list[Path], typer.Argument(help="Observation files (.jsonl, FIRMS .csv).")],
    db: DbOption = DEFAULT_DB,
    database_url: DatabaseUrlOption = None,
    agreement: Annotated[
        Path | None, typer.Option(help="Agreement whose parties allegations must name.")
    ] = None,
    log_key: LogKeyOption = None,
) -> None:
    """Validate observation files and add them to the store (all-or-nothing, idempotent);
    each new observation becomes an entry of the signed evidence log."""
    from .agreement import load_agreement
    from .observations import check_parties

    def run() -> tuple[int, int, int, Any]:
        batch = _read(files)
        if agreement is not None:
            check_parties(batch.observations, load_agreement(agreement).party_ids)
        with _store(db, database_url, log_key) as store:
            accepted, dup = store.add_observations(batch)
            head = store.latest_head()
            return accepted, dup, store.count_observations(), head

    accepted, dup, total, head = _guard(run)
    out.print(f"accepted {accepted}, duplicates {dup}; the store {db} holds {total} observations")
    if head is not None:
        out.print(f"evidence log: {head.tree_size} entries, root {head.root_hash[:16]}…")


@app.command()
def analyze(
    agreement: Annotated[Path, typer.Option(help="The agreement YAML.")],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Directory for incidents.geojson and summary.json.")
    ],
    files: Annotated[list[Path] | None, typer.Argument(help="Observation files.")] = None,
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
    from .agreement import agreement_files, load_agreement
    from .analysis import analyze as run_analysis
    from .analysis import write_outputs
    from .observations import check_parties

    if database_url and db is None:
        db = DEFAULT_DB  # (unused: the PostgreSQL store is the store)
    if not files and db is None:
        err.print("error: give observation files, --db (or --database-url), or both")
        raise typer.Exit(2)

    def run() -> tuple[Path, dict[str, Any], int | None]:
        ag = load_agreement(agreement)
        batch = _read(list(files or [])) if files else None
        run_id = None
        size = None
        if db is not None:
            with _store(db, database_url, log_key) as store:
                if batch is not None:
                    check_parties(batch.observations, ag.party_ids)  # before anything is stored
                    store.add_observations(batch)
                size = store.log_size()
                root = store.tree().root(size).hex()
                observations = list(store.logged_observations(size))
        else:
            observations = batch.observations if batch is not None else []
        with _progress("locating acoustic events", len(observations)) as tick:
            result = run_analysis(observations, ag, threshold=threshold, progress=tick)
        if size is not None:  # the tree head the run read its observations at
            result.summary["evidence"] = {"tree_size": size, "root_hash": root}
        geo, _ = write_outputs(result, ag, out_dir)
        if db is not None:
            features = json.loads(geo.read_text())["features"]
            with _store(db, database_url, log_key) as store:
                run_id = store.add_run(
                    result.summary, features, agreement_files(agreement), tree_size=size
                )
        return geo, result.summary, run_id

    geo, summary, run_id = _guard(run)
    inc = summary["incidents"]
    kinds = ", ".join(f"{k} {v}" for k, v in inc["by_kind"].items())
    viol = ", ".join(f"{k} {v}" for k, v in inc["violations_by_clause"].items()) or "none"
    out.print(
        f"{inc['total']} incidents ({kinds}); {inc['confidence_ge_0_5']} with confidence ≥ 0.5"
    )
    out.print(f"violations by clause (confidence ≥ 0.5): {viol}")
    out.print(
        f"wrote {geo} and {geo.parent / 'summary.json'}"
        + (f"; stored as run {run_id}" if run_id else "")
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
    from .evaluate import evaluate as run

    report = _guard(lambda: run(truth, incidents, min_confidence))
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
    import time

    from .charts import fires_against_front
    from .frontline import SIDES, read_border, read_deepstate, side_over_time, summarise

    def run() -> tuple[dict[str, Any], float]:
        files = [q for p in snapshots for q in (sorted(p.glob("*.geojson")) if p.is_dir() else [p])]
        snaps = [read_deepstate(f) for f in files]
        terr = read_border(border)
        obs = [o for o in _read([points]).observations if o.type == "thermal"]
        lon = np.array([o.raw["position"][0] for o in obs], dtype=float)
        lat = np.array([o.raw["position"][1] for o in obs], dtype=float)
        t_us = np.array([o.time_us for o in obs], dtype=np.int64)
        start = time.perf_counter()
        sided = side_over_time(lon, lat, t_us, snaps, terr)
        elapsed = time.perf_counter() - start
        summary = summarise(sided, snaps)
        summary["siding_seconds"] = round(elapsed, 2)
        out_dir.mkdir(parents=True, exist_ok=True)
        names = [s.source for s in sorted(snaps, key=lambda s: s.time_us)]
        with (out_dir / "sided.csv").open("w", encoding="utf-8") as fh:
            fh.write("id,longitude,latitude,time,snapshot,lag_days,side,signed_distance_km\n")
            for i, o in enumerate(obs):
                fh.write(
                    f"{o.ref},{lon[i]:.6f},{lat[i]:.6f},{o.raw['time']},{names[sided.snapshot[i]]},"
                    f"{sided.lag_days[i]:.2f},{SIDES[sided.side[i]]},{sided.distance_m[i] / 1000:.3f}\n"
                )
        (out_dir / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
        fires_against_front(
            sided,
            summary,
            out_dir / "fires_vs_front.png",
            f"{len(obs):,} thermal detections against {len(snaps)} front snapshots",
        )
        return summary, elapsed

    import numpy as np

    summary, elapsed = _guard(run)
    sides = ", ".join(f"{k} {v}" for k, v in summary["all"]["by_side"].items())
    out.print(f"{summary['points']} detections sided in {elapsed:.2f} s: {sides}")
    out.print(
        f"wrote {out_dir / 'sided.csv'}, {out_dir / 'summary.json'}, {out_dir / 'fires_vs_front.png'}"
    )


def _store(db: Path | None, database_url: str | None, log_key: Path | None = None) -> Any:
    from .store import open_store

    return open_store(db, database_url, log_key)


def _logged_agreement(files: dict[str, str]) -> Any:
    """An agreement as the evidence log keeps it (its files, name -> text)."""
    from .agreement import agreement_from_files

    return agreement_from_files(files)


def _open_store(db: Path, database_url: str | None, log_key: Path | None = None) -> Any:
    """An existing store (a command that only reads must not create an empty one)."""
    from .errors import StoreError

    if not database_url and not db.exists():
        raise StoreError(f"{db}: no such store")
    return _store(db, database_url, log_key)


def _fmt(v: Any) -> str:
    return "-" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))


def _m(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"


def _kind_table(report: dict[str, Any]) -> Table:
    t = Table(title=f"Evaluation (incidents with confidence ≥ {report['min_confidence']})")
    t.add_column("figure")
    kinds = report["kinds"]
    for k in kinds:
        t.add_column(k, justify="right")
    rows = [
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
    ]
    for label, key in rows:
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
            str(c["tp"]),
            str(c["fp"]),
            str(c["fn"]),
            _fmt(c["precision"]),
            _fmt(c["recall"]),
            _fmt(c["f1"]),
            _fmt(c["f1_locatable"]),
        )
    return t


# Command groups kept in modules of their own register themselves on `app` when imported.
from . import cli_evidence, cli_publishing, cli_service  # noqa: E402, F401


def main() -> None:
    """Entry point of the ``truceline`` script."""
    app()


if __name__ == "__main__":
    main()
