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
) -> None:
    """Simulate a front: agreement.yaml, control.geojson, observations.jsonl, truth.jsonl."""
    from .simulate import simulate as run

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


log_app = typer.Typer(
    help="The evidence log: signed tree heads, export, offline verification, proofs.",
    no_args_is_help=True,
)
app.add_typer(log_app, name="log")
key_app = typer.Typer(
    help="Keys of sensors, monitors and parties, and the signature policy.",
    no_args_is_help=True,
)
app.add_typer(key_app, name="key")


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


@log_app.command("sth")
def log_sth(db: DbOption = DEFAULT_DB, database_url: DatabaseUrlOption = None) -> None:
    """Print the latest signed tree head (JSON)."""

    def run() -> Any:
        with _open_store(db, database_url) as store:
            return store.latest_head()

    head = _guard(run)
    if head is None:
        err.print("error: the log is empty")
        raise typer.Exit(1)
    out.print_json(json.dumps(head.as_dict()))


@log_app.command("export")
def log_export(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write.")],
    db: DbOption = DEFAULT_DB,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Write entries.jsonl, sth.json, tree_heads.jsonl and keys.json (FORMATS §5)."""
    from .evidence import export_files

    def run() -> Any:
        with _open_store(db, database_url) as store:
            files = export_files(store.entries(), store.tree_heads(), store.keys())
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (out_dir / name).write_bytes(data)
        return json.loads(files["sth.json"])

    sth = _guard(run)
    out.print(
        f"exported {sth['tree_size']} entries to {out_dir} (root {sth['root_hash']}, "
        f"signed by key {sth['key_id']})"
    )


@log_app.command("verify")
def log_verify(
    directory: Annotated[Path, typer.Argument(help="An exported log (truceline log export).")],
    log_key: Annotated[
        str | None,
        typer.Option(help="The log's public key as published (base64); pins the signer."),
    ] = None,
) -> None:
    """Check an exported log without the database: canonical entries, the root hash, every
    signed tree head (the whole history) and every signed observation. Exit 0 when all hold,
    1 otherwise."""
    from .evidence import EXPORT_FILES, unb64, verify_files

    def run() -> Any:
        files = {n: (directory / n).read_bytes() for n in EXPORT_FILES if (directory / n).exists()}
        return verify_files(files, unb64(log_key) if log_key else None)

    res = _guard(run)
    if res.ok:
        out.print(
            f"[green]verified[/]: {res.tree_size} entries, root {res.root_hash}, "
            f"{res.heads_checked} signed tree heads consistent, {res.signed_observations} "
            f"signed observations; log key {res.log_key_id}",
            highlight=False,
        )
        return
    for p in res.problems or []:
        err.print(f"[bold red]FAILED[/] {p}", highlight=False)
    raise typer.Exit(1)


@log_app.command("prove")
def log_prove(
    entry: Annotated[str, typer.Argument(help="Entry index, or an observation as SOURCE:ID.")],
    db: DbOption = DEFAULT_DB,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Print an inclusion proof of one entry in the latest signed tree head (JSON); anyone
    can check it with `truceline log check-proof` or a few lines of any language."""
    from .evidence import inclusion_bundle

    def run() -> Any:
        with _open_store(db, database_url) as store:
            head = store.latest_head()
            if entry.isdigit():
                index = int(entry)
            else:
                source, _, ident = entry.rpartition(":")
                index = store.entry_of(source, ident)
            if head is None or index >= head.tree_size:
                from .errors import StoreError

                raise StoreError(f"entry {index} is not covered by a signed tree head")
            return inclusion_bundle(store.tree(), index, store.entry(index), head)

    bundle = _guard(run)
    print(json.dumps(bundle, indent=1))


@log_app.command("consistency")
def log_consistency(
    first: Annotated[int, typer.Argument(help="The earlier tree size.")],
    second: Annotated[
        int | None, typer.Argument(help="The later tree size (default: now).")
    ] = None,
    db: DbOption = DEFAULT_DB,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Print a consistency proof between two signed tree heads (JSON): that the later log
    extends the earlier one without changing any entry (RFC 9162 §2.1.4)."""
    from .errors import StoreError
    from .evidence import verify_consistency

    def run() -> dict[str, Any]:
        with _open_store(db, database_url) as store:
            heads = {h.tree_size: h for h in store.tree_heads()}
            later = second if second is not None else store.log_size()
            for size in (first, later):
                if size not in heads:
                    raise StoreError(f"no signed tree head of size {size}")
            proof = store.tree().consistency_proof(first, later)
            a, b = heads[first], heads[later]
            assert verify_consistency(
                first, later, bytes.fromhex(a.root_hash), bytes.fromhex(b.root_hash), proof
            )
            return {
                "first": a.as_dict(),
                "second": b.as_dict(),
                "consistency_path": [h.hex() for h in proof],
            }

    print(json.dumps(_guard(run), indent=1))


@log_app.command("check-proof")
def log_check_proof(
    proof: Annotated[Path, typer.Argument(help="A proof printed by `truceline log prove`.")],
    log_key: Annotated[str, typer.Option(help="The log's public key as published (base64).")],
) -> None:
    """Check an inclusion proof against the log's public key. Exit 0 if it holds."""
    from .evidence import check_inclusion_bundle, unb64

    ok = _guard(lambda: check_inclusion_bundle(json.loads(proof.read_text()), unb64(log_key)))
    if not ok:
        err.print("[bold red]FAILED[/]: the proof does not hold")
        raise typer.Exit(1)
    out.print("[green]verified[/]: the entry is in the log at the signed tree head")


@key_app.command("generate")
def key_generate(
    out_file: Annotated[Path, typer.Option("--out", help="Private key file to write (PEM).")],
) -> None:
    """Make an Ed25519 key pair for a sensor, monitor or party; print the public key."""
    import os

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from .evidence import b64, key_id, public_bytes

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(out_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    public = public_bytes(key.public_key())
    out.print(f"wrote {out_file}; key id {key_id(public)}; public key {b64(public)}")


@key_app.command("add")
def key_add(
    owner: Annotated[str, typer.Option(help="The observations' `source` this key signs for.")],
    public_key: Annotated[str, typer.Option(help="Raw Ed25519 public key, base64.")],
    role: Annotated[str, typer.Option(help="sensor, monitor or party:<ID>.")] = "sensor",
    db: DbOption = DEFAULT_DB,
    database_url: DatabaseUrlOption = None,
    log_key: LogKeyOption = None,
) -> None:
    """Register a public key: signed observations from OWNER must verify with it."""
    from .evidence import unb64

    def run() -> str:
        with _store(db, database_url, log_key) as store:
            return store.register_key(owner, role, unb64(public_key))

    kid = _guard(run)
    out.print(f"registered key {kid} for {owner} ({role})")


@key_app.command("policy")
def key_policy(
    obs_type: Annotated[str, typer.Option("--type", help="Observation type.")],
    required: Annotated[
        bool, typer.Option("--required/--optional", help="Refuse unsigned observations?")
    ],
    db: DbOption = DEFAULT_DB,
    database_url: DatabaseUrlOption = None,
    log_key: LogKeyOption = None,
) -> None:
    """Set whether unsigned observations of a type are refused (logged)."""

    types = ("patrol", "acoustic", "thermal", "uav", "allegation")
    if obs_type not in types:
        err.print(f"error: --type must be one of {', '.join(types)}")
        raise typer.Exit(2)

    def run() -> None:
        with _store(db, database_url, log_key) as store:
            store.set_signature_policy(obs_type, required)

    _guard(run)
    out.print(f"{obs_type}: signatures {'required' if required else 'optional'}")


token_app = typer.Typer(help="Bearer tokens of the HTTP API.", no_args_is_help=True)
app.add_typer(token_app, name="token")


@token_app.command("create")
def token_create(
    role: Annotated[
        str, typer.Option(help="sensor, monitor, analyst, commissioner or party:<ID>.")
    ],
    name: Annotated[str, typer.Option(help="Who holds it (a sensor: the source it writes).")],
    member_state: Annotated[
        str | None, typer.Option(help="A commissioner's member state (e.g. FR).")
    ] = None,
    db: DbOption = DEFAULT_DB,
    database_url: DatabaseUrlOption = None,
    log_key: LogKeyOption = None,
) -> None:
    """Issue a bearer token (only its hash is stored); the token is the last word printed."""
    from .access import valid_role

    if not valid_role(role) or role == "public":
        err.print("error: --role must be sensor, monitor, analyst, commissioner or party:<ID>")
        raise typer.Exit(2)
    if role == "commissioner" and not member_state:
        err.print("error: a commissioner's token needs --member-state")
        raise typer.Exit(2)

    def run() -> str:
        with _store(db, database_url, log_key) as store:
            return store.create_token(role, name, member_state)

    token = _guard(run)
    print(f"token for {name} ({role}): {token}")


@app.command()
def serve(
    db: DbOption = DEFAULT_DB,
    database_url: DatabaseUrlOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.", min=1, max=65535)] = 8080,
    log_key: LogKeyOption = None,
    quorum: Annotated[
        int, typer.Option(help="Member states whose commissioners must sign a ruling.", min=1)
    ] = 2,
    delay_hours: Annotated[
        float, typer.Option(help="Hours before the public sees an incident.", min=0)
    ] = 24.0,
    coarsen_deg: Annotated[
        float, typer.Option(help="Public locations rounded to this many degrees.", min=0.0001)
    ] = 0.05,
    rate_per_s: Annotated[
        float, typer.Option(help="Requests per second allowed per client (then 429).", min=0.01)
    ] = 50.0,
    burst: Annotated[int, typer.Option(help="Requests a client may burst.", min=1)] = 200,
    max_body_mb: Annotated[
        float, typer.Option(help="Largest request body (then 413).", min=0.001)
    ] = 8.0,
    workers: Annotated[
        int,
        typer.Option(
            help="Worker processes (each with its own connection and rate limits).", min=1
        ),
    ] = 1,
) -> None:
    """Serve the HTTP API (OpenAPI at /openapi.json, documentation at /docs)."""
    import uvicorn

    from .access import Disclosure
    from .api import Settings, create_app

    settings = Settings(
        db=db,
        database_url=database_url,
        log_key=log_key,
        quorum=quorum,
        disclosure=Disclosure(delay_hours=delay_hours, coarsen_deg=coarsen_deg),
        rate_per_s=rate_per_s,
        burst=burst,
        max_body_bytes=int(max_body_mb * 1024 * 1024),
    )
    application = _guard(lambda: create_app(settings))  # opens and migrates the store once
    where = "PostgreSQL" if database_url else str(db)
    out.print(f"serving {where} on http://{host}:{port} (OpenAPI: /openapi.json)")
    if workers == 1:
        uvicorn.run(application, host=host, port=port, log_level="warning")
        return
    import os

    from .api import SETTINGS_ENV, settings_to_env

    os.environ[SETTINGS_ENV] = settings_to_env(settings)
    uvicorn.run(
        "truceline.api:app_from_environment",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="warning",
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


@app.command()
def report(
    date: Annotated[str, typer.Option(help="The day, YYYY-MM-DD (UTC).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for the report.")],
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
    coverage of the line, every incident, the method, and the evidence tree head."""
    import re

    from .errors import StoreError
    from .report import build_report, write_report

    formats = tuple(f.strip() for f in fmt.split(",") if f.strip())
    if (
        not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date)
        or not formats
        or any(f not in ("html", "md", "pdf") for f in formats)
    ):
        err.print("error: --date is YYYY-MM-DD and --format a list of html, md, pdf")
        raise typer.Exit(2)

    def go() -> list[Path]:
        import shapely

        with _open_store(db, database_url) as store:
            features = store.incidents(run)
            head = store.latest_head()
            files = store.agreement_files()
            acoustic = [
                json.loads(o.body)
                for o in store.iter_observations()
                if o.type == "acoustic" and o.body.find(f'"time":"{date}') >= 0
            ]
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
        rep = build_report(date, features, ag, head.as_dict() if head else None, acoustic, layer)
        return write_report(rep, out_dir, formats)

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
                features, ag, sector_km, baseline_hours, ratio, threshold, quiet_hours
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


@app.command()
def reproduce(
    run_id: Annotated[int, typer.Argument(help="The analysis run to reproduce.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for the re-run's outputs.")],
    db: DbOption = DEFAULT_DB,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Re-run an analysis from the evidence log alone (its observations up to the run's tree
    head, the logged agreement and parameters) and compare the incidents byte for byte.
    Exit 0 when identical, 1 when not."""
    import hashlib

    from .analysis import analyze as run_analysis
    from .analysis import write_outputs
    from .evidence import entry_json
    from .fusion import FusionParams

    def run() -> tuple[dict[str, Any], str]:
        with _open_store(db, database_url) as store:
            entry = store.run_entry(run_id)
            files = entry_json(store.entry(int(entry["agreement_entry"])))["files"]
            observations = list(store.logged_observations(int(entry["tree_size"])))
        ag = _logged_agreement(files)
        params = dict(entry["parameters"])
        threshold = float(params.pop("attribution_threshold"))
        with _progress("re-running the analysis", len(observations)) as tick:
            result = run_analysis(
                observations, ag, FusionParams.from_dict(params), threshold=threshold, progress=tick
            )
        result.summary["evidence"] = {
            "tree_size": entry["tree_size"],
            "root_hash": entry["root_hash"],
        }
        geo, _ = write_outputs(result, ag, out_dir)
        return entry, hashlib.sha256(geo.read_bytes()).hexdigest()

    entry, digest = _guard(run)
    if digest != entry["incidents_sha256"]:
        err.print(
            f"[bold red]DIFFERENT[/]: run {run_id} logged incidents {entry['incidents_sha256']}, "
            f"the re-run gives {digest}",
            highlight=False,
        )
        raise typer.Exit(1)
    out.print(
        f"[green]reproduced[/] run {run_id} from the log's first {entry['tree_size']} entries: "
        f"incidents identical (sha256 {digest}), written to {out_dir}",
        highlight=False,
    )


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


def main() -> None:
    """Entry point of the ``truceline`` script."""
    app()


if __name__ == "__main__":
    main()
