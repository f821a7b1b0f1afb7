"""What every Truceline store does, whatever the database: observations keyed by
``(source, id)`` (re-sending is a no-op, a changed body is refused), analysis runs and their
incidents, the evidence log (RFC 9162 Merkle tree, signed tree heads), keys and signature
policy, bearer tokens, incident reviews and the commission's cases.

The SQL here is the common subset of SQLite and PostgreSQL (``?`` placeholders, rewritten
for PostgreSQL; ``ON CONFLICT`` upserts; ``RETURNING``). A subclass connects, migrates and
says how to start a write transaction that serialises appends to the log; see
:class:`~truceline.store.sqlite.SqliteStore` (the default, one file) and
:class:`~truceline.store.postgres.PostgresStore` (PostgreSQL + PostGIS).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .. import evidence as ev
from ..errors import InputError, InputErrors, StoreError
from ..observations import Observation, ObservationBatch, parse_record

__all__ = ["Store"]


def _position(obs: Observation) -> tuple[float | None, float | None]:
    raw = obs.raw
    pos = raw.get("position") or raw.get("observer")
    if isinstance(pos, list) and len(pos) >= 2:
        return float(pos[0]), float(pos[1])
    return None, None


class _NothingNew(Exception):
    """Raised inside a write transaction to roll it back: nothing was left to write."""


class Store:
    """Base of the stores. Use as a context manager."""

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
                [
                    (
                        "observation",
                        ev.canonical({"kind": "observation", "observation": json.loads(b)}),
                    )
                    for _, _, b in rows
                ]
            )
            self._many(
                "UPDATE observations SET log_index = ? WHERE source = ? AND id = ?",
                ((first + k, src, ident) for k, (src, ident, _) in enumerate(rows)),
            )

    # -- observations ---------------------------------------------------------------
    def add_observations(self, batch: ObservationBatch) -> tuple[int, int]:
        """Insert a validated batch atomically; return ``(accepted, duplicates)``.

        Raises :class:`InputErrors` (and writes nothing) when a key already stored has
        different content, or a signature does not hold. Safe against other writers (service
        workers, command-line tools): what is new is decided again under the write lock.
        """
        rows = batch.observations
        fresh = self._fresh(rows)
        if not fresh:  # a re-sent batch: nothing to store, nothing to log
            return 0, len(rows) + batch.duplicates
        self._check_signatures(fresh)  # refuse early, before taking the lock
        now = _now()
        try:
            with self._writing():
                fresh = self._fresh(rows)
                if not fresh:  # another writer stored them all meanwhile
                    raise _NothingNew
                signed_by = self._check_signatures(fresh)
                entries = []
                for o, kid in zip(fresh, signed_by, strict=True):
                    entry: dict[str, Any] = {
                        "kind": "observation",
                        "observation": json.loads(o.body),
                    }
                    if kid is not None:
                        entry["key_id"] = kid
                    entries.append(("observation", ev.canonical(entry)))
                first = self._append(entries)
                self._many(
                    "INSERT INTO observations (source, id, type, time_us, time_end_us, lon, lat, "
                    "body, ingested_at, log_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        (
                            o.key[0],
                            o.key[1],
                            o.type,
                            o.time_us,
                            o.model.time_end,
                            *_position(o),
                            o.body,
                            now,
                            first + k,
                        )
                        for k, o in enumerate(fresh)
                    ),
                )
        except _NothingNew:
            return 0, len(rows) + batch.duplicates
        return len(fresh), len(rows) - len(fresh) + batch.duplicates

    def _fresh(self, rows: list[Observation]) -> list[Observation]:
        """The observations not stored yet; :class:`InputErrors` if a stored one differs."""
        existing: dict[tuple[str, str], str] = {}
        for chunk in range(0, len(rows), 500):
            part = rows[chunk : chunk + 500]
            clause = " OR ".join(["(source = ? AND id = ?)"] * len(part))
            args = [v for o in part for v in o.key]
            for source, ident, body in self._x(
                f"SELECT source, id, body FROM observations WHERE {clause}", args
            ):
                existing[(source, ident)] = body
        errors = [
            InputError(
                o.file,
                o.line,
                "id",
                f"({o.key[0]}, {o.key[1]}) is already stored with different content",
            )
            for o in rows
            if o.key in existing and existing[o.key] != o.body
        ]
        if errors:
            raise InputErrors(errors)
        return [o for o in rows if o.key not in existing]

    def _check_signatures(self, rows: list[Observation]) -> list[str | None]:
        """The key each observation is signed with (None: unsigned); refuse a bad signature,
        a signature from a source without a registered key, and unsigned input of a type
        whose policy requires signatures."""
        keys: dict[str, list[tuple[str, bytes]]] = {}
        for kid, owner, public in self._x("SELECT key_id, owner, public_key FROM keys"):
            keys.setdefault(owner, []).append((kid, bytes(public)))
        required = self.signature_policy()
        errors: list[InputError] = []
        out: list[str | None] = []
        for o in rows:
            sig = o.model.signature
            source = o.model.source
            if sig is None:
                if required.get(o.type):
                    errors.append(
                        InputError(
                            o.file,
                            o.line,
                            "signature",
                            f"unsigned, but the policy requires signed {o.type} observations",
                        )
                    )
                out.append(None)
                continue
            candidates = keys.get(source, [])
            if not candidates:
                errors.append(
                    InputError(o.file, o.line, "signature", f"no key is registered for {source}")
                )
                out.append(None)
                continue
            message = ev.observation_signed_bytes(json.loads(o.body))
            kid = next((k for k, pub in candidates if ev.verify_signature(pub, sig, message)), None)
            if kid is None:
                errors.append(
                    InputError(
                        o.file,
                        o.line,
                        "signature",
                        f"does not verify with the key registered for {source}",
                    )
                )
            out.append(kid)
        if errors:
            raise InputErrors(errors)
        return out

    def count_observations(self) -> int:
        return int(self._x("SELECT count(*) FROM observations").fetchone()[0])

    def iter_observations(self) -> Iterator[Observation]:
        """Every stored observation, in (source, id) order, validated again on the way out."""
        where = f"{self.where}#observations"
        cur = self._x("SELECT body FROM observations ORDER BY source, id")
        for n, (body,) in enumerate(cur, start=1):
            yield parse_record(json.loads(body), where, n)

    # -- runs and incidents -----------------------------------------------------------
    def add_run(
        self,
        summary: dict[str, Any],
        features: list[dict[str, Any]],
        agreement: dict[str, str] | None = None,
        tree_size: int | None = None,
    ) -> int:
        """Store one analysis run and its incidents (GeoJSON features) atomically, and log it.

        ``agreement`` is the agreement's files (name → text), logged once so the run can be
        reproduced from the log alone; ``tree_size`` is the log size the run read its
        observations at (default: now).
        """
        now = _now()
        size = self.log_size() if tree_size is None else tree_size
        with self._writing():
            agreement_index = self._log_agreement(agreement) if agreement else None
            cur = self._x(
                "INSERT INTO runs (created_at, code_version, agreement_id, inputs_sha256, "
                "observations, incidents_sha256, summary) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "RETURNING id",
                (
                    now,
                    summary["truceline_version"],
                    summary["agreement"],
                    summary["inputs"]["sha256"],
                    summary["inputs"]["observations"],
                    summary.get("outputs", {}).get("incidents_sha256", ""),
                    json.dumps(summary, sort_keys=True),
                ),
            )
            run_id = int(cur.fetchone()[0])
            self._many(
                "INSERT INTO incidents (run_id, id, kind, time_start_us, time_end_us, lon, lat, "
                "confidence, attributed_to, status, feature) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (_incident_row(run_id, f) for f in features),
            )
            self._index_run(run_id)
            entry = {
                "kind": "run",
                "run": run_id,
                "tree_size": size,
                "root_hash": self.tree().root(size).hex(),
                "agreement_entry": agreement_index,
                "code_version": summary["truceline_version"],
                "parameters": summary.get("parameters", {}),
                "inputs_sha256": summary["inputs"]["sha256"],
                "incidents_sha256": summary.get("outputs", {}).get("incidents_sha256", ""),
            }
            index = self._append([("run", ev.canonical(entry))])
            self._x(
                "UPDATE runs SET log_index = ?, tree_size = ? WHERE id = ?", (index, size, run_id)
            )
            self._carry_reviews(features)
        return run_id

    def _carry_reviews(self, features: list[dict[str, Any]]) -> None:
        """An incident's id hashes its supporting observations, so new support (a late
        report, an allegation) gives it a new id in the next run. Analysts' reviews follow
        it: a reviewed incident missing from the run passes its review to the new incident
        holding most of its observations (at least half), if that one has none; logged."""
        new_ids = {f["properties"]["id"] for f in features}
        orphans = [
            (i, st, pub)
            for i, st, pub in self._x("SELECT id, status, published FROM incident_reviews")
            if i not in new_ids
        ]
        if not orphans:
            return
        holder: dict[str, list[str]] = {}
        for f in features:
            for ref in f["properties"].get("observations") or []:
                holder.setdefault(ref, []).append(f["properties"]["id"])
        reviewed = {i for (i,) in self._x("SELECT id FROM incident_reviews")}
        carried = []
        for old, status, published in sorted(orphans):
            row = self._x(
                "SELECT feature FROM incidents WHERE id = ? ORDER BY run_id DESC LIMIT 1", (old,)
            ).fetchone()
            refs = json.loads(row[0])["properties"].get("observations") or [] if row else []
            votes: dict[str, int] = {}
            for ref in refs:
                for target in holder.get(ref, []):
                    votes[target] = votes.get(target, 0) + 1
            if not votes:
                continue
            target, n = max(sorted(votes.items()), key=lambda kv: kv[1])
            if 2 * n < len(refs) or target in reviewed:
                continue
            reviewed.add(target)
            entry = {
                "kind": "incident_review",
                "incident": target,
                "status": status,
                "published": bool(published),
                "by": f"carried from {old}",
            }
            carried.append((target, status, published, entry))
        for target, status, published, entry in carried:
            index = self._append([("incident_review", ev.canonical(entry))])
            self._x(
                "INSERT INTO incident_reviews VALUES (?, ?, ?, ?, ?, ?)",
                (target, status, int(published), entry["by"], _now(), index),
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
                self._append([("tree_head", ev.canonical({"kind": "tree_head", **head.as_dict()}))])
            yield
            self._sign_head()
            self._x("COMMIT")
        except BaseException:
            self._x("ROLLBACK")
            del tree.levels[len(marks) :]
            for level, n in zip(tree.levels, marks, strict=True):
                del level[n:]
            raise

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

    def _append(self, entries: list[tuple[str, bytes]]) -> int:
        """Append canonical entries (inside a write transaction); return the first index."""
        tree = self.tree()
        first = tree.size
        leaves, nodes = [], []
        for k, (kind, entry) in enumerate(entries):
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
        heads = self.tree_heads()
        return heads[-1] if heads else None

    def entries(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Canonical entries ``[start, end)`` in log order."""
        stop = self.log_size() if end is None else end
        cur = self._x(
            "SELECT entry FROM log_entries WHERE idx >= ? AND idx < ? ORDER BY idx", (start, stop)
        )
        for (entry,) in cur:
            yield bytes(entry)

    def append(self, kind: str, entries: list[bytes]) -> int:
        """Append entries that are already RFC 8785 canonical JSON objects of ``kind`` (case
        events, rulings, ...) in one transaction under a new signed tree head; return the
        index of the first."""
        with self._writing():
            return self._append([(kind, e) for e in entries])

    def logged_observations(self, tree_size: int | None = None) -> Iterator[Observation]:
        """The observations of the log's first ``tree_size`` entries (default: all), read
        back from the log itself: what an analysis run at that tree head saw."""
        size = self.log_size() if tree_size is None else tree_size
        where = f"{self.where}#log"
        cur = self._x(
            "SELECT idx, entry FROM log_entries WHERE kind = 'observation' AND idx < ? "
            "ORDER BY idx",
            (size,),
        )
        for idx, entry in cur:
            yield parse_record(json.loads(entry)["observation"], where, int(idx))

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
            raise StoreError(f"no observation {source}:{ident} in the store")
        return int(row[0])

    def run_entry(self, run_id: int) -> dict[str, Any]:
        row = self._x("SELECT log_index FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None or row[0] is None:
            raise StoreError(f"no logged analysis run {run_id} in the store")
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
            self._append([("key", ev.canonical(entry))])
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
            self._append([("policy", ev.canonical(entry))])

    # -- the service: tokens, reviews, cases -------------------------------------------------
    def create_token(self, role: str, name: str, member_state: str | None = None) -> str:
        """Issue a bearer token; only its SHA-256 is stored. Logged (without the token)."""
        member_state = member_state.strip().upper() if member_state else None
        token = "tl_" + secrets.token_urlsafe(32)
        digest = hashlib.sha256(token.encode()).hexdigest()
        entry = {"kind": "token", "name": name, "role": role, "member_state": member_state}
        with self._writing():
            self._x(
                "INSERT INTO tokens VALUES (?, ?, ?, ?, ?)",
                (digest, name, role, member_state, _now()),
            )
            self._append([("token", ev.canonical(entry))])
        return token

    def token_holder(self, token: str) -> tuple[str, str, str | None] | None:
        """``(name, role, member_state)`` of a token, or None."""
        digest = hashlib.sha256(token.encode()).hexdigest()
        row = self._x(
            "SELECT name, role, member_state FROM tokens WHERE token_sha256 = ?", (digest,)
        ).fetchone()
        return None if row is None else (row[0], row[1], row[2])

    def set_review(self, incident: str, status: str, published: bool, by: str) -> int:
        """An analyst's status and publication decision on an incident; logged."""
        entry = {
            "kind": "incident_review",
            "incident": incident,
            "status": status,
            "published": published,
            "by": by,
        }
        with self._writing():
            index = self._append([("incident_review", ev.canonical(entry))])
            self._x(
                "INSERT INTO incident_reviews VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE "
                "SET status = excluded.status, published = excluded.published, reviewer = excluded.reviewer, "
                "updated_at = excluded.updated_at, log_index = excluded.log_index",
                (incident, status, int(published), by, _now(), index),
            )
        return index

    def reviews(self, ids: list[str] | None = None) -> dict[str, tuple[str, bool]]:
        """The analysts' (status, published) decisions, of ``ids`` or of every incident."""
        if ids is None:
            rows = list(self._x("SELECT id, status, published FROM incident_reviews"))
        else:
            rows = []
            for k in range(0, len(ids), 500):
                part = ids[k : k + 500]
                marks = ", ".join("?" * len(part))
                rows += list(
                    self._x(
                        f"SELECT id, status, published FROM incident_reviews WHERE id IN ({marks})",
                        part,
                    )
                )
        return {i: (st, bool(pub)) for i, st, pub in rows}

    def open_case(self, event: dict[str, Any]) -> int:
        with self._writing():
            cur = self._x(
                "INSERT INTO cases (incident, allegation, accused, filed_by, created_at) "
                "VALUES (?, ?, ?, ?, ?) RETURNING id",
                (
                    event["incident"],
                    event["allegation"],
                    event["accused"],
                    event["filed_by"],
                    _now(),
                ),
            )
            case_id = int(cur.fetchone()[0])
            self._case_event(case_id, 0, event)
        return case_id

    def add_case_event(
        self,
        case_id: int,
        event: dict[str, Any],
        check: Callable[[list[dict[str, Any]]], None] | None = None,
    ) -> int:
        """Append an event to a case; ``check(events)`` runs first, under the write lock,
        on the case's history as it is then (so two workers cannot both pass it)."""
        with self._writing():
            if check is not None:
                check(self.case_events(case_id))
            seq = self._x(
                "SELECT count(*) FROM case_events WHERE case_id = ?", (case_id,)
            ).fetchone()[0]
            return self._case_event(case_id, int(seq), event)

    def _case_event(self, case_id: int, seq: int, event: dict[str, Any]) -> int:
        entry = {"kind": "case_event", "case": case_id, "seq": seq, "event": event}
        index = self._append([("case_event", ev.canonical(entry))])
        self._x(
            "INSERT INTO case_events VALUES (?, ?, ?, ?)",
            (case_id, seq, json.dumps(event, sort_keys=True), index),
        )
        return index

    def case_events(self, case_id: int) -> list[dict[str, Any]]:
        return [
            json.loads(e)
            for (e,) in self._x(
                "SELECT event FROM case_events WHERE case_id = ? ORDER BY seq", (case_id,)
            )
        ]

    def case_ids(self) -> list[int]:
        return [int(i) for (i,) in self._x("SELECT id FROM cases ORDER BY id")]

    def observation_bodies(self, refs: list[str]) -> dict[str, tuple[dict[str, Any], int]]:
        """``source:id`` → (body, log index) for the refs that are stored."""
        out: dict[str, tuple[dict[str, Any], int]] = {}
        for ref in refs:
            source, _, ident = ref.partition(":")
            row = self._x(
                "SELECT body, log_index FROM observations WHERE source = ? AND id = ?",
                (source, ident),
            ).fetchone()
            if row is not None:
                out[ref] = (json.loads(row[0]), int(row[1]))
        return out

    def query_incidents(
        self,
        run_id: int | None = None,
        start_us: int | None = None,
        end_us: int | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        kind: str | None = None,
        after: tuple[int, str] | None = None,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Features of a run (the latest by default) in (time_start, id) order, filtered in
        SQL by time, bounding box and kind, from ``after`` (a cursor) on, at most ``limit``."""
        run = self.latest_run() if run_id is None else run_id
        if run is None:
            return
        sql = ["SELECT feature FROM incidents WHERE run_id = ?"]
        args: list[Any] = [run]
        if start_us is not None:
            # an incident lasts at most `span`: bound time_start_us too, so the time index
            # gives a range instead of everything that started before `end`
            sql.append("AND time_end_us >= ? AND time_start_us >= ?")
            args += [start_us, start_us - self._longest_incident_us(run)]
        if end_us is not None:
            sql.append("AND time_start_us <= ?")
            args.append(end_us)
        if bbox is not None:
            sql.append("AND lon >= ? AND lat >= ? AND lon <= ? AND lat <= ?")
            args += list(bbox)
            extra, extra_args = self._space_time_index(bbox, start_us, end_us)
            sql.append(extra)
            args += extra_args
        if kind is not None:
            sql.append("AND kind = ?")
            args.append(kind)
        if after is not None:
            sql.append("AND (time_start_us > ? OR (time_start_us = ? AND id > ?))")
            args += [after[0], after[0], after[1]]
        sql.append("ORDER BY time_start_us, id")
        if limit is not None:
            sql.append("LIMIT ?")
            args.append(limit)
        for (feature,) in self._x(" ".join(sql), args):
            yield json.loads(feature)

    def _longest_incident_us(self, run: int) -> int:
        cache: dict[int, int] = self.__dict__.setdefault("_spans", {})
        if run not in cache:
            row = self._x(
                "SELECT max(time_end_us - time_start_us) FROM incidents WHERE run_id = ?", (run,)
            ).fetchone()
            cache[run] = int(row[0] or 0)
        return cache[run]

    def incident(self, incident_id: str, run_id: int | None = None) -> dict[str, Any] | None:
        run = self.latest_run() if run_id is None else run_id
        row = self._x(
            "SELECT feature FROM incidents WHERE run_id = ? AND id = ?", (run, incident_id)
        ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

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
        return self._append(
            [("agreement", ev.canonical({"kind": "agreement", "sha256": digest, "files": files}))]
        )

    def latest_run(self) -> int | None:
        row = self._x("SELECT max(id) FROM runs").fetchone()
        return None if row[0] is None else int(row[0])

    def incidents(self, run_id: int | None = None) -> list[dict[str, Any]]:
        """The GeoJSON features of a run (the latest by default), in time order."""
        run = self.latest_run() if run_id is None else run_id
        if run is None:
            return []
        cur = self._x(
            "SELECT feature FROM incidents WHERE run_id = ? ORDER BY time_start_us, id", (run,)
        )
        return [json.loads(f) for (f,) in cur]


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _incident_row(run_id: int, feature: dict[str, Any]) -> tuple[Any, ...]:
    from .._time import parse_time

    p = feature["properties"]
    coords = (feature.get("geometry") or {}).get("coordinates") or [None, None]
    return (
        run_id,
        p["id"],
        p["kind"],
        parse_time(p["time_start"]),
        parse_time(p["time_end"]),
        coords[0],
        coords[1],
        p["confidence"],
        p["attributed_to"],
        p["status"],
        json.dumps(feature, separators=(",", ":"), sort_keys=True),
    )
