"""What every Truceline store does, whatever the database: observations keyed by
``(source, id)`` (re-sending is a no-op, a changed body is refused), analysis runs and their
incidents, and the queries the service asks; on top of the service's records
(:mod:`.service`) and the evidence log (:mod:`.evidence_log`). See
:class:`~truceline.store.sqlite.SqliteStore` (the default, one file) and
:class:`~truceline.store.postgres.PostgresStore` (PostgreSQL + PostGIS).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from .. import evidence as ev
from ..errors import InputError, InputErrors
from ..observations import Observation, ObservationBatch, parse_record
from .log import _now
from .service import ServiceStore

__all__ = ["Store"]


def _position(obs: Observation) -> tuple[float | None, float | None]:
    raw = obs.raw
    pos = raw.get("position") or raw.get("observer")
    if isinstance(pos, list) and len(pos) >= 2:
        return float(pos[0]), float(pos[1])
    return None, None


class _NothingNew(Exception):
    """Raised inside a write transaction to roll it back: nothing was left to write."""


class Store(ServiceStore):
    """Observations, analysis runs and incidents. Use as a context manager."""

    # -- observations ---------------------------------------------------------------
    def add_observations(
        self,
        batch: ObservationBatch,
        strict_sensors: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[int, int]:
        """Insert a validated batch atomically; return ``(accepted, duplicates)``.

        Raises :class:`InputErrors` (and writes nothing) when a key already stored has
        different content, a signature does not hold, or a detection names a registered
        sensor it does not come from (:mod:`truceline.sensors`; with ``strict_sensors``, a
        sensor's own token, every detection must name a registered sensor). Safe against
        other writers (service workers, command-line tools): what is new is decided again
        under the write lock.
        ``progress(n)`` is told of the work as it is done: three steps per observation
        (checked, logged, stored).
        """
        tick = progress or (lambda n: None)
        rows = batch.observations
        fresh = self._fresh(rows)
        tick(3 * (len(rows) - len(fresh)) + len(fresh))  # duplicates done; the rest checked
        if not fresh:  # a re-sent batch: nothing to store, nothing to log
            return 0, len(rows) + batch.duplicates
        self._check_signatures(fresh)  # refuse early, before taking the lock
        self._check_sensors(fresh, strict_sensors)
        now = _now()
        try:
            with self._writing():
                fresh = self._fresh(rows)
                if not fresh:  # another writer stored them all meanwhile
                    raise _NothingNew
                signed_by = self._check_signatures(fresh)
                self._check_sensors(fresh, strict_sensors)
                entries = []
                for k, (o, kid) in enumerate(zip(fresh, signed_by, strict=True), start=1):
                    entry: dict[str, Any] = {
                        "kind": "observation",
                        "observation": json.loads(o.body),
                    }
                    if kid is not None:
                        entry["key_id"] = kid
                    entries.append(entry)
                    if k % 10_000 == 0:
                        tick(10_000)
                first = self._append(entries)
                tick(len(fresh) % 10_000)
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
                tick(len(fresh))
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

    def count_observations(self, type_: str | None = None) -> int:
        """How many observations the store holds (of one type, if given)."""
        if type_ is None:
            return int(self._x("SELECT count(*) FROM observations").fetchone()[0])
        return int(
            self._x("SELECT count(*) FROM observations WHERE type = ?", (type_,)).fetchone()[0]
        )

    def iter_observations(self) -> Iterator[Observation]:
        """Every stored observation, in (source, id) order, validated again on the way out."""
        where = f"{self.where}#observations"
        cur = self._x("SELECT body FROM observations ORDER BY source, id")
        for n, (body,) in enumerate(cur, start=1):
            yield parse_record(json.loads(body), where, n)

    def observation_records(self, type_: str, start_us: int, end_us: int) -> list[dict[str, Any]]:
        """The stored records of one observation type with ``start_us <= time < end_us``, as
        the dicts they were stored as (for reading many quickly: not validated again)."""
        cur = self._x(
            "SELECT body FROM observations WHERE type = ? AND time_us >= ? AND time_us < ?"
            " ORDER BY source, id",
            (type_, start_us, end_us),
        )
        return [json.loads(body) for (body,) in cur]

    def reconcile_detections(self, batch: ObservationBatch) -> ObservationBatch:
        """The batch reconciled with the thermal detections already stored on its days (a
        copy of a stored detection merged, an NRT row whose archive row is stored dropped,
        an archive row naming the stored NRT row it supersedes): see
        :func:`truceline.sources.against_stored`."""
        from ..sources import against_stored

        times = [(o.time_us, o.model.time_end or o.time_us) for o in batch.of_type("thermal")]
        if not times:
            return batch
        day = 86_400_000_000
        start = min(t for t, _ in times) - day
        end = max(t for _, t in times) + day
        return against_stored(batch, self.observation_records("thermal", start, end))

    def observation_days(self, start_us: int, end_us: int) -> dict[str, int]:
        """How many observations each day (YYYY-MM-DD, UTC) in ``[start_us, end_us)`` holds;
        a day with none is absent: the mechanism did not observe it. Heartbeats do not count
        (a sensor saying it works observes nothing of the line)."""
        from .._time import format_time

        cur = self._x(
            "SELECT time_us / 86400000000, count(*) FROM observations"
            " WHERE time_us >= ? AND time_us < ? AND type <> 'status'"
            " GROUP BY time_us / 86400000000",
            (start_us, end_us),
        )
        return {format_time(int(d) * 86_400_000_000)[:10]: int(n) for d, n in cur}

    # -- runs and incidents -----------------------------------------------------------
    def add_run(
        self,
        summary: dict[str, Any],
        features: list[dict[str, Any]],
        agreement: dict[str, str] | None = None,
        tree_size: int | None = None,
        lone: list[dict[str, Any]] | None = None,
    ) -> int:
        """Store one analysis run and its incidents (GeoJSON features) atomically, and log it.

        ``agreement`` is the agreement's files (name → text), logged once so the run can be
        reproduced from the log alone; ``tree_size`` is the log size the run read its
        observations at (default: now). ``lone``: the run's joined allegations as the
        incidents they would be alone (:attr:`truceline.analysis.AnalysisResult.lone`;
        derived from what the run found, so not logged).
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
            self._add_allegation_views(run_id, features, lone or [])
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
                # ids are over the supporting entries' leaf hashes (runs logged before this
                # field existed hashed the refs: truceline.store.runs.reproduce)
                "incident_ids": "leaf_hashes",
            }
            if "network" in summary:  # the sensors' clocks and surveys, as the run measured them
                from ..localize.network import calibration_record

                entry["sensor_calibration"] = calibration_record(summary["network"])
            index = self._append([entry])
            self._x(
                "UPDATE runs SET log_index = ?, tree_size = ? WHERE id = ?", (index, size, run_id)
            )
            self._carry_reviews(features)
        return run_id

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

    def current_incident(
        self, incident_id: str
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The feature a case opened on ``incident_id`` reads now, and None or how it was
        followed (:func:`truceline.succession.successor`): the incident itself while the
        latest run has it; else its successor in the latest run (found among the incidents
        of that run within two days of it), or the incident as its last run found it. (None,
        None) for an id no run found."""
        from .._time import parse_time
        from ..succession import successor

        day = 86_400_000_000
        feature = self.incident(incident_id)
        if feature is not None:
            return feature, None
        row = self._x(
            "SELECT feature FROM incidents WHERE id = ? ORDER BY run_id DESC LIMIT 1",
            (incident_id,),
        ).fetchone()
        if row is None:
            return None, None
        original = json.loads(row[0])
        p = original["properties"]
        refs = list(p.get("observations") or [])
        bodies = self.observation_bodies(refs)
        sensed = {r for r in refs if r not in bodies or bodies[r][0].get("type") != "allegation"}
        run = self.latest_run()
        near = self._x(
            "SELECT feature FROM incidents WHERE run_id = ? AND time_start_us <= ? "
            "AND time_end_us >= ?",
            (run, parse_time(p["time_end"]) + 2 * day, parse_time(p["time_start"]) - 2 * day),
        )
        found, info = successor(original, sensed, (json.loads(f) for (f,) in near), run)
        return dict(found), info

    def has_run(self, run_id: int) -> bool:
        return self._x("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is not None

    def run_calibration(self, run_id: int | None = None) -> dict[str, Any] | None:
        """What a run (the latest by default) measured of the sensors' clocks and surveys:
        ``{"run", "log_index", "sensors": [...]}`` (the records of its summary's
        ``network``; their hash is in the run's log entry), or None without such a run."""
        run = self.latest_run() if run_id is None else run_id
        row = self._x("SELECT log_index, summary FROM runs WHERE id = ?", (run,)).fetchone()
        if row is None:
            return None
        network = json.loads(row[1]).get("network") or {}
        return {"run": run, "log_index": row[0], "sensors": network.get("sensors") or []}

    def sensor_calibration(self, sensor: str) -> list[dict[str, Any]]:
        """A sensor's clock and survey as each run measured them, oldest first, each with the
        run and the log entry that carries it (:func:`truceline.localize.network.sensor_history`)."""
        from ..localize.network import sensor_history

        cur = self._x("SELECT id, log_index, summary FROM runs ORDER BY id")
        return sensor_history([(int(r), i, json.loads(s)) for r, i, s in cur], sensor)

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
