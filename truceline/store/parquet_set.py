"""A store's observations as a Parquet set (:mod:`truceline.columnar`): appended from the
evidence log, and read back only after the set was checked against the log.

:func:`append_observations` (``truceline ingest --parquet DIR``) writes the observation
entries logged since the manifest's tree head (all of them for a new set), in chunks of
:data:`CHUNK_ROWS` entries, one file per day and sector a chunk touches, and then the
manifest with the store's latest signed head. Nothing new, nothing written: re-ingesting
the same data leaves the set as it was.

:func:`read_observations` (``truceline analyze --parquet DIR``) refuses a set whose head is
not the log's, a file whose bytes are not the manifest's, a row whose entry does not hash to
its leaf or whose columns disagree with its entry, a leaf the log does not hold at that
index, and an observation entry of the log missing from the set (or one too many). Each
file is read and checked as a task of the map given (a Dask cluster's workers can take
them, the files then on a file system they share). `truceline analyze --parquet` reads
them in its own process whatever the engine: from workers, every parsed observation
travels back to the process that needs them all, and that was 2.5 times slower
(``benchmarks/parquet_set.py``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from .. import evidence as ev
from .._extras import require
from .._time import parse_time
from ..columnar import (
    MANIFEST,
    SET_FORMAT,
    Sectors,
    file_sha256,
    load_manifest,
    move_into_place,
    part_name,
    save_manifest,
    staged,
)
from ..errors import InputError, UsageError
from ..localize.partitions import TaskMap, serial_map
from ..observations import Observation, parse_record
from .records import Store

__all__ = [
    "CHUNK_ROWS",
    "Appended",
    "append_observations",
    "check_set_head",
    "read_observations",
]

CHUNK_ROWS = 250_000  # entries per chunk appended: bounds the memory of an append

_COLUMNS = ("log_index", "leaf", "entry", "source", "id", "type", "time", "lon", "lat")


def _schema() -> Any:
    pa = require("pyarrow", "geo", "Parquet sets")
    return pa.schema(
        [
            ("log_index", pa.int64()), ("leaf", pa.binary(32)), ("entry", pa.string()),
            ("source", pa.string()), ("id", pa.string()), ("type", pa.string()),
            ("time", pa.timestamp("us", tz="UTC")), ("lon", pa.float64()), ("lat", pa.float64()),
        ]
    )  # fmt: skip


@dataclass(frozen=True)
class Appended:
    """What an append wrote: rows, files, and the tree head the set now records."""

    rows: int
    files: int
    tree_size: int


def _row(
    idx: int,
    entry: bytes,
    leaf: bytes,
    body: dict[str, Any] | None = None,
    time_us: int | None = None,
) -> dict[str, Any]:
    """One entry's row: the entry itself, and the columns read from its observation
    (``body``, its time ``time_us``: where the caller has already decoded them)."""
    obs: dict[str, Any] = json.loads(entry)["observation"] if body is None else body
    pos = obs.get("position") or obs.get("observer")
    lon, lat = (
        (float(pos[0]), float(pos[1])) if isinstance(pos, list) and len(pos) >= 2 else (None, None)
    )
    return {
        "log_index": idx, "leaf": leaf, "entry": entry.decode(), "source": obs["source"],
        "id": str(obs["id"]), "type": obs["type"],
        "time": parse_time(obs["time"]) if time_us is None else time_us,
        "lon": lon, "lat": lat,
    }  # fmt: skip


def _write_chunk(root: Path, rows: list[dict[str, Any]], sectors: Sectors) -> list[dict[str, Any]]:
    """Stage one chunk's files (one per day and sector); their manifest records."""
    pa = require("pyarrow", "geo", "Parquet sets")
    pq = require("pyarrow.parquet", "geo", "Parquet sets")
    groups = sectors.groups(
        [r["time"] for r in rows], [r["lon"] for r in rows], [r["lat"] for r in rows]
    )
    name = part_name(rows[0]["log_index"], rows[-1]["log_index"])
    records = []
    for (day, s), members in sorted(groups.items()):
        rel = Path("observations") / f"day={day}" / f"sector={s}" / name
        table = pa.Table.from_pylist([rows[k] for k in members], schema=_schema())
        pq.write_table(table, staged(root / rel))
        records.append(
            {"path": rel.as_posix(), "rows": len(members), "day": day, "sector": s,
             "first_index": rows[members[0]]["log_index"],
             "last_index": rows[members[-1]]["log_index"]}
        )  # fmt: skip
    return records


def _chunks(store: Store, start: int, end: int) -> Iterable[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for idx, entry, leaf in store.observation_entries(start, end):
        chunk.append(_row(idx, entry, leaf))
        if len(chunk) >= CHUNK_ROWS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def check_set_head(store: Store, root: Path, manifest: dict[str, Any]) -> ev.TreeHead:
    """The set's tree head, after checking that it is a head of this store's log."""
    where = str(root / MANIFEST)
    head = _head(manifest, where)
    if (
        head.tree_size > store.log_size()
        or store.tree().root(head.tree_size).hex() != head.root_hash
    ):
        raise InputError(
            where, None, "tree_head", f"the set was written from a log whose root at "
            f"{head.tree_size} entries is {head.root_hash[:16]}…, which this store's log is not "
            "(another store, or a rewritten log)"
        )  # fmt: skip
    return head


def _check_continues(store: Store, root: Path, manifest: dict[str, Any], sectors: Sectors) -> int:
    """The tree size the set's observations were written at (0: none yet), after checking
    that its sectors are these and that this log continues it."""
    if manifest.get("sectors", {}).get("line") != sectors.fingerprint:
        raise InputError(
            str(root / MANIFEST), None, "sectors", "the set's sectors are cut along another "
            "line of contact (or another sector length) than this agreement's: write a new set"
        )  # fmt: skip
    if "tree_head" not in manifest:  # a set that holds only exported incidents so far
        return 0
    return check_set_head(store, root, manifest).tree_size


def append_observations(
    store: Store,
    root: Path,
    sectors: Sectors,
    agreement_id: str = "",
    progress: Callable[[int], None] | None = None,
) -> Appended:
    """Bring the set in ``root`` up to the store's latest signed tree head."""
    head = store.latest_head()
    if head is None:
        raise UsageError("--parquet", "the store's log is empty: nothing to write")
    root.mkdir(parents=True, exist_ok=True)
    manifest = load_manifest(root)
    start = 0 if manifest is None else _check_continues(store, root, manifest, sectors)
    files = [] if manifest is None else list(manifest.get("observations", []))
    _drop_strays(root, {f["path"] for f in files})
    if manifest is not None and "tree_head" in manifest and start == head.tree_size:
        return Appended(0, 0, start)
    written: list[dict[str, Any]] = []
    for chunk in _chunks(store, start, head.tree_size):
        written += _write_chunk(root, chunk, sectors)
        if progress is not None:
            progress(len(chunk))
    move_into_place([root / f["path"] for f in written])
    for f in written:
        f["sha256"] = file_sha256(root / f["path"])
    new = dict(manifest or {})
    new.update(
        format=SET_FORMAT, tree_head=head.as_dict(), sectors=sectors.describe(),
        agreement=agreement_id, observations=files + written,
        observation_rows=sum(int(f["rows"]) for f in files + written),
    )  # fmt: skip
    save_manifest(root, new)
    return Appended(sum(int(f["rows"]) for f in written), len(written), head.tree_size)


def _drop_strays(root: Path, listed: set[str]) -> None:
    """Remove what an interrupted append left: staged files, and files the manifest does
    not list (renamed into place, but the manifest was never replaced)."""
    base = root / "observations"
    if not base.exists():
        return
    for path in base.rglob("*.parquet*"):
        rel = path.relative_to(root).as_posix()
        if path.name.startswith(".") or rel not in listed:
            path.unlink()


def _head(manifest: dict[str, Any], where: str) -> ev.TreeHead:
    try:
        return ev.TreeHead.from_dict(manifest.get("tree_head") or {})
    except ValueError as exc:
        key, _, message = str(exc).partition(": ")
        raise InputError(where, None, f"tree_head.{key}", message) from None


def read_observations(
    store: Store, root: Path, run: TaskMap = serial_map
) -> tuple[list[Observation], ev.TreeHead]:
    """The set's observations in log order (as :meth:`Store.logged_observations` gives
    them at the set's tree head), and that head, once the set has been checked against
    the store's log; each file is read and checked by a task of ``run``."""
    manifest = load_manifest(root)
    if manifest is None:
        raise UsageError(
            "--parquet", f"{root}: no {MANIFEST}: not a Parquet set (truceline ingest "
            "--parquet writes one)"
        )  # fmt: skip
    where = str(root / MANIFEST)
    head = check_set_head(store, root, manifest)
    public = store.keys().get(head.key_id)
    if public is None or not head.verify(public):
        raise InputError(where, None, "tree_head.signature", "not this store's log's signature")
    listed = manifest.get("observations") or []
    tasks = [(str(root / f["path"]), str(f.get("sha256", "")), int(f.get("rows", -1)))
             for f in listed]  # fmt: skip
    parts: list[tuple[list[int], list[bytes], list[Observation]]] = run(_read_part, tasks)
    leaves = store.tree().levels[0]
    for (path, _, _), (idx, got, _) in zip(tasks, parts, strict=True):
        for r, (i, leaf) in enumerate(zip(idx, got, strict=True)):
            if i >= head.tree_size or leaves[i] != leaf:
                raise InputError(
                    path, f"row {r}", "leaf", f"the log does not hold this entry at index {i} "
                    f"below the set's tree head ({head.tree_size})"
                )  # fmt: skip
    return _in_log_order(store, head, where, [t[0] for t in tasks], parts), head


def _in_log_order(
    store: Store,
    head: ev.TreeHead,
    where: str,
    paths: Sequence[str],
    parts: Sequence[tuple[list[int], list[bytes], list[Observation]]],
) -> list[Observation]:
    """Every file's observations in log order, after checking that the set holds each
    observation entry of the log below its head once."""
    idx = np.array([i for p in parts for i in p[0]], dtype=np.int64)
    obs = [o for p in parts for o in p[2]]
    order = np.argsort(idx, kind="stable")
    ranked = idx[order]
    twice = np.flatnonzero(np.diff(ranked) == 0)
    if twice.size:
        i = int(ranked[twice[0]])
        holders = [pth for pth, p in zip(paths, parts, strict=True) if i in p[0]]
        raise InputError(where, None, "observations", f"the log's entry {i} is in two files "
                         f"({', '.join(holders[:2])})")  # fmt: skip
    expected = np.array(store.observation_indices(head.tree_size), dtype=np.int64)
    if not np.array_equal(ranked, expected):
        missing = np.setdiff1d(expected, ranked)
        raise InputError(
            where, None, "observations", f"{missing.size} of the log's {expected.size} "
            f"observation entries below its head are in no file of the set (the first: entry "
            f"{int(missing[0]) if missing.size else '?'}): a file is missing"
        )  # fmt: skip
    return [obs[k] for k in order]


def _read_part(
    path: str, sha256: str, rows: int
) -> tuple[list[int], list[bytes], list[Observation]]:
    """One file of the set, checked on its own: its bytes are the manifest's, each entry
    hashes to its row's leaf and is an observation whose columns are the row's."""
    pq = require("pyarrow.parquet", "geo", "Parquet sets")
    file = Path(path)
    if not file.exists():
        raise InputError(path, None, None, "listed by the manifest, but not there")
    if file_sha256(file) != sha256:
        raise InputError(path, None, None, "its SHA-256 is not the manifest's: the file was "
                         "changed after it was written")  # fmt: skip
    table = pq.read_table(file)
    if table.num_rows != rows or tuple(table.schema.names) != _COLUMNS:
        raise InputError(path, None, None, f"expected {rows} rows of {', '.join(_COLUMNS)}")
    cols = {c: table.column(c).to_pylist() for c in _COLUMNS if c != "time"}
    cols["time"] = table.column("time").cast("int64").to_pylist()
    idx, leaves, obs = [], [], []
    for r in range(table.num_rows):
        row = {c: cols[c][r] for c in _COLUMNS}
        entry = row["entry"].encode()
        if ev.leaf_hash(entry) != row["leaf"]:
            raise InputError(path, f"row {r}", "entry", "does not hash to the row's leaf")
        body = json.loads(entry)
        if not isinstance(body, dict) or body.get("kind") != "observation":
            raise InputError(path, f"row {r}", "entry", "is not an observation entry")
        o = parse_record(body.get("observation"), path, int(row["log_index"]))
        if _row(row["log_index"], entry, row["leaf"], body["observation"], o.time_us) != row:
            raise InputError(path, f"row {r}", "columns", "disagree with the row's entry")
        idx.append(int(row["log_index"]))
        leaves.append(bytes(row["leaf"]))
        obs.append(replace(o, leaf=bytes(row["leaf"])))
    return idx, leaves, obs
