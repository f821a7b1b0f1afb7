"""What the service keeps beside the evidence: bearer tokens (their hashes), analysts'
reviews of incidents (which follow an incident to its successor in a new run) and the
Special Commission's cases. Every write is an entry of the evidence log."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from typing import Any

from .._time import format_time, parse_time
from ..access import member_state as iso_member_state
from ..errors import UsageError
from .log import _now
from .registry import RegistryStore

__all__ = ["ServiceStore"]

#: the largest random case id (exact in JSON; case ids are not sequential, so a caller
#: cannot enumerate or time the cases it may not see)
CASE_ID_MAX = 2**53 - 1
DAY_US = 86_400_000_000


class ServiceStore(RegistryStore):
    """Tokens, incident reviews and cases, on top of the registries and the evidence log."""

    # -- the service: tokens, reviews, cases -------------------------------------------------
    def create_token(
        self,
        role: str,
        name: str,
        member_state: str | None = None,
        expires_us: int | None = None,
    ) -> str:
        """Issue a bearer token valid until ``expires_us``; only its SHA-256 is stored.
        Logged (without the token). A commissioner's member state must be an ISO 3166-1
        code; a sensor's token must name a registered sensor."""
        if member_state is not None:
            try:
                member_state = iso_member_state(member_state)
            except ValueError as exc:
                raise UsageError("--member-state", str(exc)) from None
        if role == "sensor" and name not in self.sensors():
            raise UsageError(
                "--name", f"{name} is not a registered sensor (truceline sensor add first)"
            )
        if role != "sensor" and name in self.sensors():
            # whoever holds it would write as that sensor (its source is the sensor's id)
            raise UsageError(
                "--name", f"{name} is a registered sensor's name: only its token may bear it"
            )
        token = "tl_" + secrets.token_urlsafe(32)
        digest = hashlib.sha256(token.encode()).hexdigest()
        entry = {
            "kind": "token",
            "name": name,
            "role": role,
            "member_state": member_state,
            "expires": None if expires_us is None else format_time(expires_us),
        }
        with self._writing():
            self._x(
                "INSERT INTO tokens (token_sha256, name, role, member_state, created_at, "
                "expires_us) VALUES (?, ?, ?, ?, ?, ?)",
                (digest, name, role, member_state, _now(), expires_us),
            )
            self._append([entry])
        return token

    def token_holder(
        self, token: str, now_us: int | None = None
    ) -> tuple[str, str, str | None] | None:
        """``(name, role, member_state)`` of a token, or None (unknown, revoked, or expired
        at ``now_us``)."""
        digest = hashlib.sha256(token.encode()).hexdigest()
        row = self._x(
            "SELECT name, role, member_state, expires_us, revoked_at FROM tokens "
            "WHERE token_sha256 = ?",
            (digest,),
        ).fetchone()
        if row is None or row[4] is not None:
            return None
        if now_us is not None and row[3] is not None and now_us >= int(row[3]):
            return None
        return (row[0], row[1], row[2])

    def revoke_tokens(self, name: str | None = None, token: str | None = None) -> int:
        """Revoke a token, or every token of a holder; logged. The number revoked."""
        if (name is None) == (token is None):
            raise UsageError("--name", "give a holder's name or one token")
        where, arg = (
            ("name = ?", name)
            if name is not None
            else ("token_sha256 = ?", hashlib.sha256(str(token).encode()).hexdigest())
        )
        rows = self._x(
            f"SELECT token_sha256, name FROM tokens WHERE {where} AND revoked_at IS NULL", (arg,)
        ).fetchall()
        if not rows:
            return 0
        with self._writing():
            self._x(f"UPDATE tokens SET revoked_at = ? WHERE {where}", (_now(), arg))
            self._append([{"kind": "token_revocation", "name": r[1]} for r in rows])
        return len(rows)

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
            index = self._append([entry])
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
        """Open a case under a random id (never sequential); its first event is logged."""
        with self._writing():
            case_id = secrets.randbelow(CASE_ID_MAX) + 1
            while self._x("SELECT 1 FROM cases WHERE id = ?", (case_id,)).fetchone():
                case_id = secrets.randbelow(CASE_ID_MAX) + 1
            self._x(
                "INSERT INTO cases (id, incident, allegation, accused, filed_by, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    case_id,
                    event["incident"],
                    event["allegation"],
                    event["accused"],
                    event["filed_by"],
                    _now(),
                ),
            )
            self._case_event(case_id, 0, event)
        return case_id

    def add_case_event(
        self,
        case_id: int,
        event: dict[str, Any],
        check: Callable[[list[dict[str, Any]]], None] | None = None,
        files: list[bytes] | None = None,
    ) -> int:
        """Append an event to a case; ``check(events)`` runs first, under the write lock,
        on the case's history as it is then (so two workers cannot both pass it).

        ``files`` are the bytes of the event's ``attachments`` (in their order; each
        described there by ``sha256``, ``name``, ``media_type``, ``size``): each is kept,
        and logged as an ``attachment`` entry (its description, the case and the event's
        place in it) just before the event, in the same transaction."""
        described = list(event.get("attachments") or [])
        if len(described) != len(files or []):
            raise ValueError("each attachment needs its bytes, and no more")
        with self._writing():
            if check is not None:
                check(self.case_events(case_id))
            seq = int(
                self._x(
                    "SELECT count(*) FROM case_events WHERE case_id = ?", (case_id,)
                ).fetchone()[0]
            )
            event_id = secrets.token_hex(16)
            for meta, data in zip(described, files or [], strict=True):
                if hashlib.sha256(data).hexdigest() != meta["sha256"] or len(data) != meta["size"]:
                    raise ValueError("an attachment's bytes are not the ones described")
                entry = {"kind": "attachment", "case": case_id, "event_id": event_id, **meta}
                index = self._append([entry])
                self._x(
                    "INSERT INTO attachments VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (case_id, seq, meta["sha256"], meta["name"], meta["media_type"],
                     meta["size"], data, index),
                )  # fmt: skip
            return self._case_event(case_id, seq, event, event_id)

    def attachment_seqs(self, case_id: int, sha256: str) -> list[int]:
        """The events (their ``seq``) of a case that a file of hash ``sha256`` is attached
        to, without reading the file."""
        cur = self._x(
            "SELECT seq FROM attachments WHERE case_id = ? AND sha256 = ? ORDER BY seq",
            (case_id, sha256),
        )
        return [int(q) for (q,) in cur]

    def attachment(self, case_id: int, seq: int, sha256: str) -> dict[str, Any] | None:
        """The file attached to event ``seq`` of a case (as :meth:`attachments_of`), its
        bytes read for that event alone."""
        found = self._attachments(case_id, sha256, seq)
        return found[0] if found else None

    def attachments_of(self, case_id: int, sha256: str) -> list[dict[str, Any]]:
        """The files of hash ``sha256`` attached to a case's events: each with the event's
        ``seq`` (who may read a file is who may see its event), ``name``, ``media_type``,
        ``data`` and its entry's ``log_index``."""
        return self._attachments(case_id, sha256)

    def _attachments(
        self, case_id: int, sha256: str, seq: int | None = None
    ) -> list[dict[str, Any]]:
        one = "" if seq is None else " AND seq = ?"
        cur = self._x(
            "SELECT seq, name, media_type, data, log_index FROM attachments "
            f"WHERE case_id = ? AND sha256 = ?{one} ORDER BY seq",
            (case_id, sha256) if seq is None else (case_id, sha256, seq),
        )
        return [
            {"seq": int(q), "name": n, "media_type": m, "data": bytes(d), "log_index": int(i)}
            for q, n, m, d, i in cur
        ]

    def _case_event(
        self, case_id: int, seq: int, event: dict[str, Any], event_id: str | None = None
    ) -> int:
        """Log and keep event ``seq`` of a case. Its log entry names it by a random
        ``event_id``, not by ``seq``: a party may prove its own reply, and ``seq`` counted
        every event before it, the hidden ones too (entries logged before carry ``seq``;
        :meth:`case_event_seq` maps any of them back to its event)."""
        ident = event_id or secrets.token_hex(16)
        entry = {"kind": "case_event", "case": case_id, "event_id": ident, "event": event}
        index = self._append([entry])
        self._x(
            "INSERT INTO case_events VALUES (?, ?, ?, ?)",
            (case_id, seq, json.dumps(event, sort_keys=True), index),
        )
        return index

    def case_event_seq(self, index: int) -> int | None:
        """The place in its case of the event a ``case_event`` or ``attachment`` log entry
        ``index`` logged (None if it logged none)."""
        for table in ("case_events", "attachments"):
            row = self._x(f"SELECT seq FROM {table} WHERE log_index = ?", (index,)).fetchone()
            if row is not None:
                return int(row[0])
        return None

    def case_events(self, case_id: int) -> list[dict[str, Any]]:
        return [
            json.loads(e)
            for (e,) in self._x(
                "SELECT event FROM case_events WHERE case_id = ? ORDER BY seq", (case_id,)
            )
        ]

    def incident_entries(self, incident: str, run_id: int | None) -> dict[str, Any]:
        """The log indexes of what an incident rests on besides its observations: the
        analysis run ``run_id`` that found it, the analysts' latest review,
        and every event of the cases opened on it (``(case, seq, index)``)."""
        row = self._x("SELECT log_index FROM runs WHERE id = ?", (run_id,)).fetchone()
        review = self._x(
            "SELECT log_index FROM incident_reviews WHERE id = ?", (incident,)
        ).fetchone()
        events = self._x(
            "SELECT e.case_id, e.seq, e.log_index FROM case_events e JOIN cases c "
            "ON c.id = e.case_id WHERE c.incident = ? ORDER BY e.log_index",
            (incident,),
        )
        return {
            "run": None if row is None or row[0] is None else int(row[0]),
            "review": None if review is None else int(review[0]),
            "case_events": [(int(c), int(q), int(i)) for c, q, i in events],
        }

    def _add_allegation_views(
        self, run_id: int, features: list[dict[str, Any]], lone: list[dict[str, Any]]
    ) -> None:
        """Keep what the filer of each joined allegation reads of it while the incident it
        joined (``incident``, the run's incident holding it) is hidden from it; kept as the
        run's incidents are (:func:`truceline.store.records._incident_row`), so that it reads
        exactly as an unplaced one."""
        if not lone:
            return
        holder = {
            ref: f["properties"]["id"]
            for f in features
            for ref in f["properties"].get("observations") or []
        }
        rows = []
        for f in lone:
            p = f["properties"]
            (ref,) = p["observations"]
            start = parse_time(p["time_start"])
            (party,) = p["alleged_by"]
            rows.append((run_id, p["id"], ref, party, holder.get(ref), start,
                         json.dumps(f, separators=(",", ":"), sort_keys=True)))  # fmt: skip
        self._many("INSERT INTO allegation_views VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    def allegation_views(
        self, party: str | None = None, incident_id: str | None = None, run: int | None = None
    ) -> list[tuple[dict[str, Any], str | None]]:
        """A run's (the latest by default) joined allegations (filed by ``party``, of id
        ``incident_id``, if given), each as the incident it would be alone with the id of
        the incident it joined (None if the run holds it nowhere), in (time_start, id)
        order."""
        sql = ["SELECT feature, incident FROM allegation_views WHERE run_id = "]
        args: list[Any] = []
        if run is None:
            sql.append("(SELECT max(id) FROM runs)")
        else:
            sql.append("?")
            args.append(run)
        for column, value in (("party", party), ("id", incident_id)):
            if value is not None:
                sql.append(f" AND {column} = ?")
                args.append(value)
        cur = self._x("".join(sql) + " ORDER BY time_start_us, id", args)
        return [(json.loads(f), i) for f, i in cur]

    def case_ids(self) -> list[int]:
        """Every case's id, in the order the cases were opened."""
        return [
            int(i)
            for (i,) in self._x("SELECT case_id FROM case_events WHERE seq = 0 ORDER BY log_index")
        ]

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
            index = self._append([entry])
            self._x(
                "INSERT INTO incident_reviews VALUES (?, ?, ?, ?, ?, ?)",
                (target, status, int(published), entry["by"], _now(), index),
            )
