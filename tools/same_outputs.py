"""Run the standard day end to end and print a manifest of every output's SHA-256.

Used to show that a change which must not change behaviour (a refactoring) does not: run it
before and after and compare the two manifests (``--compare OLD.json``).

    python tools/same_outputs.py --out /tmp/before > before.json
    ... change the code ...
    python tools/same_outputs.py --out /tmp/after --compare before.json

It simulates the standard day, ingests it into a SQLite store, analyses it, reproduces the
run from the log, writes the daily report (HTML and Markdown; the PDF is rendered from the
same HTML), every export format and the alerts, and scores the run. The clock of the
evidence log is fixed and the log's key is made from a fixed seed, so the signed tree heads
and everything that quotes them are the same on every run. A GeoPackage is compared by the
content of its layers (GDAL stamps the file with the time it was written).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

FIXED_NOW = "2026-03-02T06:00:00Z"


def _freeze_clock() -> None:
    """Every ``_now`` of the store's modules (they import it by name) returns FIXED_NOW."""
    for name, module in list(sys.modules.items()):
        if name.startswith("truceline") and callable(getattr(module, "_now", None)):
            module._now = lambda: FIXED_NOW  # type: ignore[attr-defined]


def _fixed_key(path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"same-outputs").digest())
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _gpkg_digest(path: Path) -> str:
    import pyogrio

    h = hashlib.sha256()
    for layer, _ in sorted(pyogrio.list_layers(path).tolist()):
        df = pyogrio.read_dataframe(path, layer=layer)
        h.update(layer.encode())
        h.update(df.to_csv(index=False).encode())
        if "geometry" in df:
            h.update(b"".join(g.wkb if g is not None else b"-" for g in df.geometry))
    return h.hexdigest()


def _digest(path: Path) -> str:
    if path.suffix == ".gpkg":
        return _gpkg_digest(path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(out: Path, seed: int, hours: float) -> dict[str, str]:
    from typer.testing import CliRunner

    import truceline.store  # noqa: F401  (load the store's modules, then freeze their clock)
    from truceline.cli import app

    for mod in ("log", "evidence_log", "service", "base", "records"):  # before and after the split
        with contextlib.suppress(ModuleNotFoundError):
            __import__(f"truceline.store.{mod}")
    _freeze_clock()
    out.mkdir(parents=True, exist_ok=True)
    db = out / "t.db"
    _fixed_key(Path(f"{db}.key"))
    runner = CliRunner()

    def cli(*args: str) -> str:
        res = runner.invoke(app, list(args), catch_exceptions=False)
        if res.exit_code != 0:
            raise SystemExit(f"truceline {' '.join(args)} failed ({res.exit_code}):\n{res.output}")
        return res.output

    sc = out / "scenario"
    cli("simulate", "--out", str(sc), "--seed", str(seed), "--hours", str(hours))
    cli("ingest", "--db", str(db), str(sc / "observations.jsonl"))
    cli(
        "analyze",
        "--db",
        str(db),
        "--agreement",
        str(sc / "agreement.yaml"),
        "--out",
        str(out / "run"),
    )
    cli("reproduce", "1", "--db", str(db), "--out", str(out / "reproduced"))
    cli(
        "analyze",
        "--agreement",
        str(sc / "agreement.yaml"),
        "--out",
        str(out / "nostore"),
        str(sc / "observations.jsonl"),
    )
    cli(
        "report",
        "--db",
        str(db),
        "--date",
        "2026-03-01",
        "--out",
        str(out / "report"),
        "--format",
        "html,md",
    )
    for fmt, ext in (
        ("geojson", "geojson"),
        ("gpkg", "gpkg"),
        ("csv", "csv"),
        ("parquet", "parquet"),
    ):
        cli(
            "export",
            "--db",
            str(db),
            "--format",
            fmt,
            "--out",
            str(out / "export" / f"incidents.{ext}"),
        )
    (out / "alerts.txt").write_text(cli("alerts", "--db", str(db)))
    ev = cli(
        "evaluate",
        "--truth",
        str(sc / "truth.jsonl"),
        "--incidents",
        str(out / "run" / "incidents.geojson"),
        "--json",
    )
    (out / "evaluate.json").write_text(ev)
    cli("log", "export", "--db", str(db), "--out", str(out / "log"))
    files = sorted(
        p
        for p in out.rglob("*")
        if p.is_file()
        and p.suffix not in (".db", ".key", ".pdf")
        and not p.name.endswith(("-wal", "-shm"))
    )
    return {str(p.relative_to(out)): _digest(p) for p in files}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--hours", type=float, default=8.0)
    ap.add_argument("--compare", type=Path, help="a manifest printed before the change")
    args = ap.parse_args()
    manifest = run(args.out, args.seed, args.hours)
    if args.compare is None:
        json.dump(manifest, sys.stdout, indent=1, sort_keys=True)
        sys.stdout.write("\n")
        return
    before: dict[str, Any] = json.loads(args.compare.read_text())
    changed = sorted(k for k in before.keys() | manifest.keys() if before.get(k) != manifest.get(k))
    for k in changed:
        print(
            f"differs: {k}  {before.get(k, '(absent)')[:12]} -> {manifest.get(k, '(absent)')[:12]}"
        )
    print(f"{len(manifest)} outputs, {len(changed)} differ")
    raise SystemExit(1 if changed else 0)


if __name__ == "__main__":
    main()
