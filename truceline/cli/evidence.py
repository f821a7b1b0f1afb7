"""Commands of the evidence log (`truceline log ...`), keys and signature policy
(`truceline key ...`), and `truceline reproduce`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import NotFound
from ._app import (
    DEFAULT_DB,
    DatabaseUrlOption,
    DbOption,
    EngineOption,
    LogKeyOption,
    PartitionOption,
    SchedulerOption,
    SectorOption,
    WorkersOption,
    app,
    engine_partitions,
    err,
    guard,
    open_existing,
    open_store,
    out,
    progress,
)

__all__ = [
    "key_add",
    "key_generate",
    "key_policy",
    "log_check_proof",
    "log_consistency",
    "log_export",
    "log_key_show",
    "log_prove",
    "log_sth",
    "log_verify",
    "reproduce",
]

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


@log_app.command("sth")
def log_sth(db: DbOption = DEFAULT_DB, database_url: DatabaseUrlOption = None) -> None:
    """Print the latest signed tree head (JSON)."""

    def run() -> Any:
        with open_existing(db, database_url) as store:
            return store.latest_head()

    head = guard(run)
    if head is None:
        err.print("error: the log is empty")
        raise typer.Exit(1)
    out.print_json(json.dumps(head.as_dict()))


@log_app.command("key")
def log_key_show(db: DbOption = DEFAULT_DB, database_url: DatabaseUrlOption = None) -> None:
    """Print the log's public key (base64) and its checkpoint verifier key: what the mission
    publishes (the agreement's log_key) and what verifiers and witnesses pin."""
    from ..evidence import b64, log_vkey

    def run() -> bytes:
        with open_existing(db, database_url) as store:
            return bytes(store.log_public_key())

    public = guard(run)
    print(b64(public))
    print(log_vkey(public))


@log_app.command("export")
def log_export(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write.")],
    db: DbOption = DEFAULT_DB,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Write entries.jsonl, sth.json, tree_heads.jsonl and keys.json (FORMATS §5)."""
    from ..evidence import export_files

    def run() -> Any:
        with open_existing(db, database_url) as store:
            files = export_files(store.entries(), store.tree_heads(), store.keys())
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (out_dir / name).write_bytes(data)
        return json.loads(files["sth.json"])

    sth = guard(run)
    out.print(
        f"exported {sth['tree_size']} entries to {out_dir} (root {sth['root_hash']}, "
        f"signed by key {sth['key_id']})"
    )


def _trusted_key(log_key: str | None, agreement: Path | None, unpinned: bool) -> bytes | None:
    """The log key to pin: given, or the agreement's ``log_key``; None only with --unpinned."""
    from ..agreement import load_agreement
    from ..errors import UsageError
    from ..evidence import unb64

    if log_key is None and agreement is not None:
        log_key = load_agreement(agreement).log_key
        if log_key is None:
            raise UsageError("--agreement", f"{agreement} publishes no log_key")
    if log_key is not None:
        try:
            key = unb64(log_key)
        except ValueError:
            key = b""
        if len(key) != 32:
            raise UsageError("--log-key", "the base64 of a raw 32-byte Ed25519 public key")
        return key
    if not unpinned:
        raise UsageError(
            "--log-key",
            "a log is verified against the key the mission published: give --log-key or "
            "--agreement (with its log_key), or --unpinned to check the export against "
            "whatever key it names itself",
        )
    return None


@log_app.command("verify")
def log_verify(
    directory: Annotated[Path, typer.Argument(help="An exported log (truceline log export).")],
    log_key: Annotated[
        str | None,
        typer.Option(help="The log's public key as published (base64); pins the signer."),
    ] = None,
    agreement: Annotated[
        Path | None, typer.Option(help="Pin the log key the agreement publishes (log_key).")
    ] = None,
    unpinned: Annotated[
        bool, typer.Option("--unpinned", help="Check without a trusted key (says so, loudly).")
    ] = False,
) -> None:
    """Check an exported log without the database, against the log key the mission
    published: canonical entries, the root hash, every signed tree head (the whole history)
    and every signed observation. Exit 0 when all hold, 1 otherwise (2 without a trusted key
    unless --unpinned)."""
    from ..evidence import EXPORT_FILES, verify_files

    def run() -> Any:
        pinned = _trusted_key(log_key, agreement, unpinned)
        files = {n: (directory / n).read_bytes() for n in EXPORT_FILES if (directory / n).exists()}
        return verify_files(files, pinned)

    res = guard(run)
    if unpinned and log_key is None and agreement is None:
        err.print(
            "[bold yellow]WARNING: UNPINNED[/]: who signed this log was NOT checked. The "
            f"export names its own key ({res.log_key_id or 'none'}); a rewritten log re-signed "
            "with a new key would pass. Compare that key id with the one the mission "
            "published, or verify with --log-key / --agreement.",
            highlight=False,
        )
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
    from ..evidence import inclusion_bundle

    def run() -> Any:
        with open_existing(db, database_url) as store:
            head = store.latest_head()
            if entry.isdigit():
                index = int(entry)
            else:
                source, _, ident = entry.rpartition(":")
                index = store.entry_of(source, ident)
            if head is None or index >= head.tree_size:
                raise NotFound(f"entry {index} is not covered by a signed tree head")
            return inclusion_bundle(store.tree(), index, store.entry(index), head)

    bundle = guard(run)
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
    from ..evidence import verify_consistency

    def run() -> dict[str, Any]:
        with open_existing(db, database_url) as store:
            heads = {h.tree_size: h for h in store.tree_heads()}
            later = second if second is not None else store.log_size()
            for size in (first, later):
                if size not in heads:
                    raise NotFound(f"no signed tree head of size {size}")
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

    print(json.dumps(guard(run), indent=1))


@log_app.command("check-proof")
def log_check_proof(
    proof: Annotated[Path, typer.Argument(help="A proof printed by `truceline log prove`.")],
    log_key: Annotated[str, typer.Option(help="The log's public key as published (base64).")],
) -> None:
    """Check an inclusion proof against the log's public key. Exit 0 if it holds."""
    from ..evidence import check_inclusion_bundle, proof_names, unb64

    bundle = guard(lambda: json.loads(proof.read_text()))
    ok = guard(lambda: check_inclusion_bundle(bundle, unb64(log_key)))
    names = guard(lambda: proof_names(bundle))
    if not ok:
        err.print(
            f"[bold red]FAILED[/]: the proof of {names['entry']} does not hold at the "
            f"{names['tree_head']}",
            highlight=False,
        )
        raise typer.Exit(1)
    out.print(
        f"[green]verified[/]: {names['entry']} is in the log at the {names['tree_head']}",
        highlight=False,
    )


@key_app.command("generate")
def key_generate(
    out_file: Annotated[Path, typer.Option("--out", help="Private key file to write (PEM).")],
) -> None:
    """Make an Ed25519 key pair for a sensor, monitor or party; print the public key."""
    import os

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ..evidence import b64, key_id, public_bytes

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
    from ..evidence import unb64

    def run() -> str:
        with open_store(db, database_url, log_key) as store:
            return str(store.register_key(owner, role, unb64(public_key)))

    kid = guard(run)
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

    from ..vocabulary import OBSERVATION_TYPES as types

    if obs_type not in types:
        err.print(f"error: --type must be one of {', '.join(types)}")
        raise typer.Exit(2)

    def run() -> None:
        with open_store(db, database_url, log_key) as store:
            store.set_signature_policy(obs_type, required)

    guard(run)
    out.print(f"{obs_type}: signatures {'required' if required else 'optional'}")


@app.command()
def reproduce(
    run_id: Annotated[int, typer.Argument(help="The analysis run to reproduce.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for the re-run's outputs.")],
    db: DbOption = DEFAULT_DB,
    database_url: DatabaseUrlOption = None,
    engine: EngineOption = "single",
    scheduler: SchedulerOption = None,
    workers: WorkersOption = 2,
    partition_minutes: PartitionOption = 60.0,
    sector_km: SectorOption = None,
) -> None:
    """Re-run an analysis from the evidence log alone (its observations up to the run's tree
    head, the logged agreement and parameters) and compare the incidents byte for byte.
    Exit 0 when identical, 1 when not."""
    from ..store.runs import reproduce as rerun

    def run() -> Any:
        with (
            engine_partitions(engine, scheduler, workers, partition_minutes, sector_km) as parts,
            open_existing(db, database_url) as store,
            progress("re-running", None) as tick,
        ):
            return rerun(store, run_id, out_dir, tick, parts)

    res = guard(run)
    logged = res.entry["incidents_sha256"]
    if not res.identical:
        err.print(
            f"[bold red]DIFFERENT[/]: run {run_id} logged incidents {logged}, "
            f"the re-run gives {res.digest}",
            highlight=False,
        )
        raise typer.Exit(1)
    out.print(
        f"[green]reproduced[/] run {run_id} from the log's first {res.entry['tree_size']} "
        f"entries: incidents identical (sha256 {res.digest}), written to {out_dir}",
        highlight=False,
    )
