"""Commands of the registries and the witnesses: `truceline sensor ...` (the sensor registry)
and `truceline witness ...` (run by each party and member state: keep the last head seen,
check a consistency proof, cosign; and register a witness's key with the mission)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import UsageError
from ._app import (
    DEFAULT_DB,
    DatabaseUrlOption,
    DbOption,
    LogKeyOption,
    app,
    err,
    guard,
    open_existing,
    open_store,
    out,
)

__all__ = [
    "sensor_add",
    "sensor_list",
    "witness_add",
    "witness_cosign",
    "witness_init",
    "witness_verify",
]

sensor_app = typer.Typer(help="The sensor registry: ids, surveyed positions, operators.")
app.add_typer(sensor_app, name="sensor")
witness_app = typer.Typer(
    help="Witnesses: cosign the log's checkpoints after checking they extend the last one.",
    no_args_is_help=True,
)
app.add_typer(witness_app, name="witness")


def _position(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) not in (2, 3) or not (-180 <= values[0] <= 180 and -90 <= values[1] <= 90):
        raise UsageError("--position", "give LON,LAT or LON,LAT,ELEVATION_M in degrees")
    return values


@sensor_app.command("add")
def sensor_add(
    sensor_id: Annotated[str, typer.Option("--id", help="The sensor's id (its source).")],
    position: Annotated[str, typer.Option(help="Surveyed LON,LAT[,ELEVATION_M].")],
    operator: Annotated[str, typer.Option(help="Who operates it.")],
    tolerance_m: Annotated[
        float, typer.Option(help="How far a detection's position may be from it (m).", min=0.1)
    ] = 50.0,
    db: DbOption = DEFAULT_DB,
    database_url: DatabaseUrlOption = None,
    log_key: LogKeyOption = None,
) -> None:
    """Register (or re-survey) a sensor; logged. Its token and detections are bound to it."""
    from ..observation_models import check_ident
    from ..sensors import Sensor

    def run() -> int:
        try:
            check_ident(sensor_id)
        except ValueError as exc:
            raise UsageError("--id", str(exc)) from None
        sensor = Sensor(sensor_id, _position(position), operator, tolerance_m)
        with open_store(db, database_url, log_key) as store:
            return int(store.register_sensor(sensor))

    index = guard(run)
    out.print(f"registered sensor {sensor_id} at {position} (log entry {index})")


@sensor_app.command("list")
def sensor_list(db: DbOption = DEFAULT_DB, database_url: DatabaseUrlOption = None) -> None:
    """Print the registered sensors (JSON lines)."""

    def run() -> list[dict[str, Any]]:
        with open_existing(db, database_url) as store:
            return [s.as_dict() for s in store.sensors().values()]

    for s in guard(run):
        print(json.dumps(s))


@witness_app.command("add")
def witness_add(
    vkey: Annotated[str, typer.Option(help="The witness's verifier key (witness init prints it).")],
    db: DbOption = DEFAULT_DB,
    database_url: DatabaseUrlOption = None,
    log_key: LogKeyOption = None,
) -> None:
    """Register a witness's key with the log (logged, public): its cosignatures count."""

    def run() -> int:
        with open_store(db, database_url, log_key) as store:
            return int(store.register_witness(vkey))

    index = guard(run)
    out.print(f"registered witness {vkey.split('+', 1)[0]} (log entry {index})")


def _state_file(directory: Path) -> Path:
    return directory / "state.json"


@witness_app.command("init")
def witness_init(
    directory: Annotated[Path, typer.Option("--dir", help="The witness's own folder.")],
    name: Annotated[str, typer.Option(help="The witness's name (e.g. party-N, FR).")],
    log_key: Annotated[str, typer.Option(help="The log's public key as published (base64).")],
) -> None:
    """Make a witness: its Ed25519 key (0600) and its state (the log's key, no head yet);
    print its verifier key, for the mission to register (`truceline witness add`)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ..evidence import WitnessState, unb64, witness_vkey

    def run() -> str:
        public = unb64(log_key)
        if len(public) != 32:
            raise UsageError("--log-key", "an Ed25519 public key is 32 bytes (base64)")
        directory.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(directory / "witness.key", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        state = {"name": name, **WitnessState.new(public).as_dict()}
        _state_file(directory).write_text(json.dumps(state, indent=1) + "\n")
        return witness_vkey(name, key)

    vk = guard(run)
    out.print(f"witness {name} in {directory}; its verifier key:", highlight=False)
    print(vk)


def _load(directory: Path) -> tuple[str, Any, Any]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ..evidence import WitnessState

    if not _state_file(directory).exists():
        raise UsageError("--dir", f"{directory} is not a witness (truceline witness init)")
    doc = json.loads(_state_file(directory).read_text())
    key = serialization.load_pem_private_key((directory / "witness.key").read_bytes(), None)
    if not isinstance(key, Ed25519PrivateKey):
        raise UsageError("--dir", "the witness's key is not an Ed25519 key")
    return str(doc["name"]), key, WitnessState.from_dict(doc)


def _fetch(url: str, size: int) -> tuple[str, list[bytes]]:
    """The log's latest checkpoint and the consistency proof from ``size`` to it."""
    from .._extras import require
    from ..evidence import Checkpoint, split_note, unb64

    httpx = require("httpx", "service", "Talking to a Truceline service")
    note = httpx.get(f"{url}/v1/evidence/checkpoint", timeout=30).raise_for_status().text
    new = Checkpoint.parse(split_note(note)[0]).size
    if not 0 < size < new:
        return note, []
    res = httpx.get(
        f"{url}/v1/evidence/consistency", params={"first": size, "second": new}, timeout=30
    ).raise_for_status()
    return note, [unb64(h) for h in res.json()["proof"]]


@witness_app.command("cosign")
def witness_cosign(
    directory: Annotated[Path, typer.Option("--dir", help="The witness's folder.")],
    url: Annotated[
        str | None, typer.Option(help="The service: fetch, check, cosign and send back.")
    ] = None,
    checkpoint: Annotated[
        Path | None, typer.Option(help="Offline: a checkpoint file (GET /v1/evidence/checkpoint).")
    ] = None,
    proof: Annotated[
        Path | None, typer.Option(help="Offline: its consistency proof (JSON, from the last head).")
    ] = None,
) -> None:
    """Check the log's new checkpoint against the last head this witness cosigned (a
    consistency proof) and cosign it; refuse an older head or a fork (exit 1). The state
    is saved only after a cosignature."""
    from ..evidence import split_note, unb64, witness_cosign

    def run() -> tuple[str, Any]:
        name, key, state = _load(directory)
        if url is not None:
            note, path = _fetch(url.rstrip("/"), state.size)
        elif checkpoint is not None:
            note = checkpoint.read_text(encoding="utf-8")
            path = [unb64(h) for h in json.loads(proof.read_text())["proof"]] if proof else []
        else:
            raise UsageError("--url", "give --url, or --checkpoint (and --proof)")
        new, line = witness_cosign(state, note, path, name, key, int(time.time()))
        cosigned = note + line if note.endswith("\n") else note
        if url is not None:
            _post(url.rstrip("/"), split_note(note)[0] + "\n" + line)
        _state_file(directory).write_text(
            json.dumps({"name": name, **new.as_dict()}, indent=1) + "\n"
        )
        return cosigned, new

    cosigned, new = guard(run)
    err.print(f"cosigned tree size {new.size}, root {new.root.hex()}", highlight=False)
    print(cosigned, end="")


def _post(url: str, note: str) -> None:
    from .._extras import require

    httpx = require("httpx", "service", "Talking to a Truceline service")
    res = httpx.post(
        f"{url}/v1/evidence/cosignatures",
        content=note.encode(),
        headers={"Content-Type": "text/plain; charset=utf-8"},
        timeout=30,
    )
    if res.status_code != 201:
        raise UsageError("--url", f"the service refused the cosignature: {res.text}")


@witness_app.command("verify")
def witness_verify(
    checkpoint: Annotated[Path, typer.Argument(help="A cosigned checkpoint.")],
    log_key: Annotated[str, typer.Option(help="The log's public key as published (base64).")],
    witness: Annotated[list[str], typer.Option(help="A witness's verifier key; repeat.")],
    quorum: Annotated[int, typer.Option(help="Cosignatures needed.", min=1)] = 2,
) -> None:
    """Check a checkpoint's signature by the log and its cosignatures by the witnesses;
    exit 0 when at least QUORUM witnesses cosigned it, 1 otherwise."""
    from ..evidence import newest_cosigned, unb64

    def run() -> Any:
        note = checkpoint.read_text(encoding="utf-8")
        return newest_cosigned([note], unb64(log_key), witness, quorum)

    head = guard(run)
    if head is None:
        err.print(f"[bold red]FAILED[/]: fewer than {quorum} known witnesses cosigned it")
        raise typer.Exit(1)
    names = ", ".join(sorted(head.cosigners))
    out.print(
        f"[green]verified[/]: tree size {head.size}, root {head.root.hex()}, cosigned by {names}",
        highlight=False,
    )
