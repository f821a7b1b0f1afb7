"""The ground floor of every store: the connection, the SQL dialect hooks a database
fills in, and the evidence log (RFC 9162 Merkle tree, signed tree heads, registered keys,
signature policy, the logged agreement).

The SQL here is the common subset of SQLite and PostgreSQL (``?`` placeholders, rewritten
for PostgreSQL; ``ON CONFLICT`` upserts; ``RETURNING``). A subclass connects, migrates and
says how to start a write transaction that serialises appends to the log.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .. import evidence as ev
from ..access import PUBLIC_ENTRY_KINDS
from ..errors import NotFound, StoreError
from ..observations import Observation, parse_record

__all__ = ["LogStore"]


class LogStore:
    """The connection, the dialect hooks and the evidence log. Use as a context manager."""

    #: a name for messages (the file, or the database URL without its password)
    where: str
    key_path: Path

    def __init__(self, log_key: str | Path | None, default_key: Path) -> None:
        #: the log's Ed25519 signing key (PEM), created on first use
        self.key_path = Path(log_key) if log_key is not None else default_key
        self._tree: ev.MerkleTree | None = None
        self._key: Ed25519PrivateKey | None = None
        self.db: Any = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    # -- dialect ------------------------------------------------------------------------------
    def _sql(self, sql: str) -> str:
        """The statement in this database's placeholder style."""
        return sql

    def _x(self, sql: str, args: Sequence[Any] = ()) -> Any:
        return self.db.execute(self._sql(sql), args)

    def _many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        cur = self.db.cursor()
        try:
            cur.executemany(self._sql(sql), list(rows))
        finally:
            cur.close()

    def _begin_write(self) -> None:
        """Start a transaction that no other writer can interleave with (appends to the
        log must be serial)."""
        raise NotImplementedError

    def _bbox_clause(self) -> str:
        return "AND lon >= ? AND lat >= ? AND lon <= ? AND lat <= ?"

    def _space_time_index(
        self, bbox: tuple[float, float, float, float], start_us: int | None, end_us: int | None
    ) -> tuple[str, list[Any]]:
        """An extra condition that lets a spatial index narrow a bbox (+ time) query; the
        exact conditions are applied besides it. None by default."""
        return "", []

    def _index_run(self, run_id: int) -> None:
        """Index a new run's incidents where the database needs it done by hand."""

    def _migrated(self, version_before: int) -> None:
        """After the schema is migrated: log what a store made before the log holds."""
        if version_before < 2:
            self._log_unlogged()

    def _log_unlogged(self) -> None:
        """A store made before the evidence log: log its observations, in (source, id)
        order, so that everything it holds is provable from now on."""
        rows = self._x(
            "SELECT source, id, body FROM observations WHERE log_index IS NULL ORDER BY source, id"
        ).fetchall()
        if not rows:
            return
        with self._writing():
            first = self._append(
                [{"kind": "observation", "observation": json.loads(b)} for _, _, b in rows]
            )
            self._many(
                "UPDATE observations SET log_index = ? WHERE source = ? AND id = ?",
                ((first + k, src, ident) for k, (src, ident, _) in enumerate(rows)),
            )

    # -- the evidence log ---------------------------------------------------------------
    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One write transaction that also appends to the log and signs a new tree head; on
        any failure the database and the in-memory tree are both rolled back."""
        self._begin_write()
        try:
            tree = self.tree()  # brought up to date under the write lock
        except BaseException:
            self._x("ROLLBACK")
            raise
        marks = [len(level) for level in tree.levels]
        try:
            # The log records its own history: the head signed last becomes an entry, so an
            # export from which a past head was dropped or rewritten no longer verifies.
            head = self.latest_head()
            if head is not None and head.tree_size == tree.size:
                self._append([{"kind": "tree_head", **head.as_dict()}])
            yield
            self._sign_head()
            self._notify_log(tree.size)
            self._x("COMMIT")
        except BaseException:
            self._x("ROLLBACK")
            del tree.levels[len(marks) :]
            for level, n in zip(tree.levels, marks, strict=True):
                del level[n:]
            raise

    #: whether the database tells listeners of a commit (:mod:`truceline.store.notify`)
    NOTIFIES = False

    def _notify_log(self, tree_size: int) -> None:
        """Tell the log's listeners, on commit, that it has grown (a no-op here)."""

    def tree(self) -> ev.MerkleTree:
        """The log's Merkle tree: loaded once from the stored leaves and nodes, then brought
        up to date with what other processes (another CLI command, the service) appended."""
        if self._tree is not None:
            stored = self._x("SELECT max(idx) FROM log_entries").fetchone()[0]
            stored = 0 if stored is None else int(stored) + 1
            if stored > self._tree.size:
                for (leaf,) in self._x(
                    "SELECT leaf FROM log_entries WHERE idx >= ? ORDER BY idx", (self._tree.size,)
                ):
                    self._tree.append(bytes(leaf))
            elif stored < self._tree.size:
                self._tree = None
        if self._tree is None:
            levels: list[list[bytes]] = [
                [bytes(h) for (h,) in self._x("SELECT leaf FROM log_entries ORDER BY idx")]
            ]
            for level, h in self._x("SELECT level, hash FROM log_nodes ORDER BY level, idx"):
                while len(levels) <= level:
                    levels.append([])
                levels[level].append(bytes(h))
            self._tree = ev.MerkleTree(levels)
        return self._tree

    def log_size(self) -> int:
        return self.tree().size

    def _append(self, entries: list[dict[str, Any]]) -> int:
        """Append entries (objects with a ``kind``) inside a write transaction, in RFC 8785
        canonical form, those that are not public with a random salt
        (:mod:`truceline.evidence.salt`); return the first index."""
        tree = self.tree()
        first = tree.size
        leaves, nodes = [], []
        for k, fields in enumerate(entries):
            kind = str(fields["kind"])
            entry = ev.canonical(fields if kind in PUBLIC_ENTRY_KINDS else ev.salted(fields))
            h = ev.leaf_hash(entry)
            leaves.append((first + k, kind, entry, h))
            nodes += tree.append(h)
        self._many("INSERT INTO log_entries VALUES (?, ?, ?, ?)", leaves)
        self._many("INSERT INTO log_nodes VALUES (?, ?, ?)", nodes)
        return first

    def _signing_key(self) -> Ed25519PrivateKey:
        """The log's key: loaded from ``key_path``, or made there (mode 0600) for a new log.
        A log that already has a key never silently gets another one."""
        if self._key is not None:
            return self._key
        registered = self._x("SELECT key_id FROM keys WHERE role = 'log'").fetchall()
        if self.key_path.exists():
            try:
                key = serialization.load_pem_private_key(self.key_path.read_bytes(), None)
            except ValueError as exc:
                raise StoreError(f"{self.key_path}: not a PEM private key ({exc})") from None
            if not isinstance(key, Ed25519PrivateKey):
                raise StoreError(f"{self.key_path}: not an Ed25519 key")
        elif registered:
            raise StoreError(
                f"the log's signing key {self.key_path} is missing (the store's log is signed "
                f"by key {registered[-1][0]}); give it with --log-key"
            )
        else:
            key = Ed25519PrivateKey.generate()
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
        public = ev.public_bytes(key.public_key())
        kid = ev.key_id(public)
        if registered and kid not in {r[0] for r in registered}:
            raise StoreError(f"{self.key_path}: key {kid} is not this log's key")
        if not registered:
            self._x("INSERT INTO keys VALUES (?, 'log', 'log', ?, ?)", (kid, public, _now()))
        self._key = key
        return key

    def _sign_head(self) -> None:
        tree = self.tree()
        last = self._x("SELECT max(tree_size) FROM tree_heads").fetchone()[0]
        if last is not None and last == tree.size:
            return
        head = ev.sign_tree_head(self._signing_key(), tree.size, tree.root(), _now())
        self._x(
            "INSERT INTO tree_heads VALUES (?, ?, ?, ?, ?)",
            (head.tree_size, head.root_hash, head.timestamp, head.key_id, head.signature),
        )

    def tree_heads(self) -> list[ev.TreeHead]:
        """Every signed tree head, oldest first."""
        return [
            ev.TreeHead(*row)
            for row in self._x(
                "SELECT tree_size, root_hash, timestamp, key_id, signature FROM tree_heads "
                "ORDER BY tree_size"
            )
        ]

    def latest_head(self) -> ev.TreeHead | None:
        """The last signed tree head (one row: every write reads it, and a live day signs
        a head per request)."""
        row = self._x(
            "SELECT tree_size, root_hash, timestamp, key_id, signature FROM tree_heads "
            "ORDER BY tree_size DESC LIMIT 1"
        ).fetchone()
        return None if row is None else ev.TreeHead(*row)

    def entries(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Canonical entries ``[start, end)`` in log order."""
        stop = self.log_size() if end is None else end
        cur = self._x(
            "SELECT entry FROM log_entries WHERE idx >= ? AND idx < ? ORDER BY idx", (start, stop)
        )
        for (entry,) in cur:
            yield bytes(entry)

    def append(self, kind: str, entries: list[bytes]) -> int:
        """Append entries of ``kind`` given as JSON objects (canonical JSON bytes: alerts,
        ...) in one transaction under a new signed tree head; return the index of the first.
        They are written canonical, with a salt unless ``kind`` is public."""
        with self._writing():
            return self._append([{**json.loads(e), "kind": kind} for e in entries])

    def logged_observations(self, tree_size: int | None = None) -> Iterator[Observation]:
        """The observations of the log's first ``tree_size`` entries (default: all), read
        back from the log itself: what an analysis run at that tree head saw."""
        size = self.log_size() if tree_size is None else tree_size
        where = f"{self.where}#log"
        for idx, entry, leaf in self.observation_entries(0, size):
            obs = parse_record(json.loads(entry)["observation"], where, idx)
            yield replace(obs, leaf=leaf)  # incident ids are over the leaf hashes

    def observation_entries(self, start: int, end: int) -> Iterator[tuple[int, bytes, bytes]]:
        """The observation entries among the log's entries ``[start, end)``, in log order:
        ``(index, canonical entry, leaf hash)``."""
        cur = self._x(
            "SELECT idx, entry, leaf FROM log_entries WHERE kind = 'observation' "
            "AND idx >= ? AND idx < ? ORDER BY idx",
            (start, end),
        )
        for idx, entry, leaf in cur:
            yield int(idx), bytes(entry), bytes(leaf)

    def observation_indices(self, end: int) -> list[int]:
        """The log indices of the observation entries below ``end``, in order."""
        cur = self._x(
            "SELECT idx FROM log_entries WHERE kind = 'observation' AND idx < ? ORDER BY idx",
            (end,),
        )
        return [int(i) for (i,) in cur]

    def entries_of_kind(self, kind: str) -> list[bytes]:
        """Every entry of ``kind`` (``alert``, ``run``, ...), in log order."""
        cur = self._x("SELECT entry FROM log_entries WHERE kind = ? ORDER BY idx", (kind,))
        return [bytes(e) for (e,) in cur]

    def entry(self, index: int) -> bytes:
        row = self._x("SELECT entry FROM log_entries WHERE idx = ?", (index,)).fetchone()
        if row is None:
            raise StoreError(f"the log has no entry {index} (it holds {self.log_size()})")
        return bytes(row[0])

    def entry_of(self, source: str, ident: str) -> int:
        """The log index of observation ``(source, id)``."""
        row = self._x(
            "SELECT log_index FROM observations WHERE source = ? AND id = ?", (source, ident)
        ).fetchone()
        if row is None or row[0] is None:
            raise NotFound(f"no observation {source}:{ident} in the store")
        return int(row[0])

    def run_entry(self, run_id: int) -> dict[str, Any]:
        row = self._x("SELECT log_index FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None or row[0] is None:
            raise NotFound(f"no logged analysis run {run_id} in the store")
        return ev.entry_json(self.entry(int(row[0])))

    def keys(self) -> dict[str, bytes]:
        """Every registered public key (the log's and the sources'), by key id."""
        return {
            kid: bytes(pub)
            for kid, pub in self._x("SELECT key_id, public_key FROM keys ORDER BY key_id")
        }

    def register_key(self, owner: str, role: str, public: bytes) -> str:
        """Register a source's (sensor's, monitor's, party's) Ed25519 public key; logged."""
        if len(public) != 32:
            raise StoreError("an Ed25519 public key is 32 bytes")
        kid = ev.key_id(public)
        if self._x("SELECT 1 FROM keys WHERE key_id = ?", (kid,)).fetchone():
            return kid
        entry = {
            "kind": "key",
            "key_id": kid,
            "owner": owner,
            "role": role,
            "public_key": ev.b64(public),
        }
        with self._writing():
            self._x("INSERT INTO keys VALUES (?, ?, ?, ?, ?)", (kid, owner, role, public, _now()))
            self._append([entry])
        return kid

    def signature_policy(self) -> dict[str, bool]:
        return {t: bool(r) for t, r in self._x("SELECT type, required FROM signature_policy")}

    def set_signature_policy(self, obs_type: str, required: bool) -> None:
        """Whether unsigned observations of ``obs_type`` are refused; logged."""
        if self.signature_policy().get(obs_type, False) == required:
            return
        entry = {"kind": "policy", "type": obs_type, "signatures_required": required}
        with self._writing():
            self._x(
                "INSERT INTO signature_policy VALUES (?, ?) "
                "ON CONFLICT (type) DO UPDATE SET required = excluded.required",
                (obs_type, int(required)),
            )
            self._append([entry])

    def agreement_files(self) -> dict[str, str] | None:
        """The files of the agreement logged last (by an analysis run), or None."""
        row = self._x(
            "SELECT entry FROM log_entries WHERE kind = 'agreement' ORDER BY idx DESC LIMIT 1"
        ).fetchone()
        return None if row is None else dict(json.loads(row[0])["files"])

    def agreement_parties(self) -> tuple[str, ...]:
        """The party ids of the agreement logged last (by an analysis run), or ()."""
        import yaml

        files = self.agreement_files()
        if files is None:
            return ()
        from ..agreement import agreement_yaml_name

        text = files[agreement_yaml_name(files)]
        doc = yaml.safe_load(text) or {}
        return tuple(str(p["id"]) for p in doc.get("parties") or [] if isinstance(p, dict))

    def _log_agreement(self, files: dict[str, str]) -> int:
        """Log the agreement's files once; return the index of the entry that holds them."""
        digest = hashlib.sha256(ev.canonical(files)).hexdigest()
        for idx, entry in self._x(
            "SELECT idx, entry FROM log_entries WHERE kind = 'agreement' ORDER BY idx"
        ):
            if json.loads(entry)["sha256"] == digest:
                return int(idx)
        return self._append([{"kind": "agreement", "sha256": digest, "files": files}])


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
