"""What the store registers beside the log itself: the sensors (their surveyed positions,
:mod:`truceline.sensors`), the witnesses (their cosignature keys) and the cosignatures they
sent, and the log's checkpoints in the C2SP formats (:mod:`truceline.evidence.checkpoint`).
Each registration is an entry of the evidence log."""

from __future__ import annotations

from typing import Any

from .. import evidence as ev
from ..errors import InputError, InputErrors, NotFound, WitnessError
from ..evidence.checkpoint import COSIGNATURE_V1, Checkpoint, NoteError, split_note
from ..observations import Acoustic, Observation, Status
from ..sensors import Sensor, detection_problem
from .log import LogStore, _now

__all__ = ["RegistryStore"]


class RegistryStore(LogStore):
    """Sensors, witnesses and cosignatures, on top of the evidence log."""

    # -- sensors --------------------------------------------------------------------------
    def register_sensor(self, sensor: Sensor) -> int:
        """Register (or re-survey) a sensor; logged. Returns the entry's index. A name that
        a token of another role already bears is refused (its holder would write as the
        sensor: a sensor's source is its id)."""
        held = self._x(
            "SELECT role FROM tokens WHERE name = ? AND role <> 'sensor'", (sensor.id,)
        ).fetchone()
        if held is not None:
            raise InputError(
                "sensor", 1, "id", f"{sensor.id} is the name of a {held[0]}'s token, not a sensor's"
            )
        lon, lat, *elev = sensor.position
        entry = {"kind": "sensor", **sensor.as_dict()}
        with self._writing():
            index = self._append([entry])
            self._x(
                "INSERT INTO sensors VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE "
                "SET lon = excluded.lon, lat = excluded.lat, elevation_m = excluded.elevation_m, "
                "operator = excluded.operator, tolerance_m = excluded.tolerance_m, "
                "registered_at = excluded.registered_at, log_index = excluded.log_index",
                (
                    sensor.id,
                    lon,
                    lat,
                    elev[0] if elev else None,
                    sensor.operator,
                    sensor.tolerance_m,
                    _now(),
                    index,
                ),
            )
        return index

    def sensors(self) -> dict[str, Sensor]:
        """Every registered sensor, by id."""
        out = {}
        for sid, lon, lat, elev, operator, tol in self._x(
            "SELECT id, lon, lat, elevation_m, operator, tolerance_m FROM sensors ORDER BY id"
        ):
            pos = (lon, lat) if elev is None else (lon, lat, elev)
            out[sid] = Sensor(sid, tuple(float(v) for v in pos), operator, float(tol))
        return out

    def _check_sensors(self, rows: list[Observation], strict: bool) -> None:
        """Refuse a detection or a heartbeat that names a registered sensor but is not from
        it (another source, or far from its surveyed position); with ``strict`` (a sensor's
        own token), also a detection that names a sensor nobody registered, and always a
        heartbeat that does."""
        acoustic = [o for o in rows if isinstance(o.model, Acoustic | Status)]
        if not acoustic:
            return
        registry = self.sensors()
        errors = []
        for o in acoustic:
            m = o.model
            assert isinstance(m, Acoustic | Status)
            s = registry.get(m.sensor)
            if s is None:
                # a heartbeat says a sensor was working: only a registered sensor's counts
                # (an invented one would make a dead sector look watched)
                if strict or isinstance(m, Status):
                    errors.append(
                        InputError(
                            o.file, o.line, "sensor", f"{m.sensor} is not a registered sensor"
                        )
                    )
                continue
            problem = detection_problem(s, m.source, m.position)
            if problem is not None:
                field = "source" if m.source != s.id else "position"
                errors.append(InputError(o.file, o.line, field, problem))
        if errors:
            # a sensor's own token learns of the first refused row only: a batch that named
            # every refused probe position would map its tolerance circle in one request
            raise InputErrors(errors[:1] if strict else errors)

    # -- witnesses and cosignatures ---------------------------------------------------------
    def log_public_key(self) -> bytes:
        """The log's raw Ed25519 public key (the one its tree heads are signed with)."""
        row = self._x("SELECT public_key FROM keys WHERE role = 'log'").fetchone()
        if row is None:
            return ev.public_bytes(self._signing_key().public_key())
        return bytes(row[0])

    def register_witness(self, vkey: str) -> int:
        """Register a witness by its cosignature verifier key (type 0x04); logged."""
        try:
            v = ev.parse_vkey(vkey)
        except NoteError as exc:
            raise InputError("--vkey", None, None, str(exc)) from None
        if v.sig_type != COSIGNATURE_V1:
            raise InputError("--vkey", None, None, "a witness's key is a cosignature/v1 (0x04) key")
        entry = {"kind": "witness", "name": v.name, "vkey": str(v), "public_key": ev.b64(v.public)}
        with self._writing():
            index = self._append([entry])
            self._x(
                "INSERT INTO witnesses VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                "vkey = excluded.vkey, registered_at = excluded.registered_at, "
                "log_index = excluded.log_index",
                (v.name, str(v), _now(), index),
            )
        return index

    def witnesses(self) -> dict[str, str]:
        """Every registered witness's verifier key, by name."""
        return dict(self._x("SELECT name, vkey FROM witnesses ORDER BY name").fetchall())

    def checkpoint(self, tree_size: int | None = None) -> str:
        """The log's checkpoint (a C2SP signed note) of its signed tree head of ``tree_size``
        (default: the latest), with the cosignatures witnesses sent for it."""
        heads = {h.tree_size: h for h in self.tree_heads()}
        size = max(heads) if tree_size is None and heads else tree_size
        if size is None or size not in heads:
            raise NotFound(f"no signed tree head of size {tree_size}")
        note = ev.checkpoint_note(self._signing_key(), size, bytes.fromhex(heads[size].root_hash))
        lines = [
            line
            for (line,) in self._x(
                "SELECT line FROM cosignatures WHERE tree_size = ? ORDER BY witness", (size,)
            )
        ]
        return note + "".join(lines)

    def add_cosignatures(self, note: str, now_s: float) -> list[str]:
        """Keep the cosignatures of registered witnesses on one of the log's checkpoints;
        the names kept. Refused whole if the checkpoint is not the log's own, or a registered
        witness's cosignature does not verify."""
        try:
            text, lines = split_note(note)
            cp = Checkpoint.parse(text)
        except NoteError as exc:
            raise WitnessError(f"not a cosigned checkpoint: {exc}", 422) from None
        heads = {h.tree_size: h for h in self.tree_heads()}
        head = heads.get(cp.size)
        if (
            head is None
            or cp.root.hex() != head.root_hash
            or text != Checkpoint(ev.log_origin(self.log_public_key()), cp.size, cp.root).body()
        ):
            raise WitnessError("not a checkpoint this log signed", 422)
        registered = {ev.parse_vkey(v) for v in self.witnesses().values()}
        mine = {(v.name, v.key_id): v for v in registered}
        kept = [ln for ln in lines if (ln.name, ln.key_id) in mine]
        if not kept:
            raise WitnessError("no cosignature from a registered witness", 403)
        try:
            checked = ev.verify_note(
                text + "\n" + "".join(ln.render() for ln in kept), mine.values(), now_s
            )
        except NoteError as exc:
            raise WitnessError(f"a cosignature does not verify: {exc}", 422) from None
        # not a log write (which would sign a new head, never cosigned): cosignatures are
        # checkable by anyone from the witnesses' keys, and kept beside the log
        self._begin_write()
        try:
            for ln in kept:
                self._x(
                    "INSERT INTO cosignatures VALUES (?, ?, ?, ?) ON CONFLICT (tree_size, witness) "
                    "DO UPDATE SET line = excluded.line, cosigned_at = excluded.cosigned_at",
                    (cp.size, ln.name, ln.render(), checked.signers[ln.name]),
                )
            self._x("COMMIT")
        except BaseException:
            self._x("ROLLBACK")
            raise
        return sorted(ln.name for ln in kept)

    def cosigned_heads(self, quorum: int, now_s: float | None = None) -> Any:
        """The newest checkpoint cosigned by ``quorum`` registered witnesses
        (:class:`~truceline.evidence.CosignedHead`), or None."""
        sizes = [int(s) for (s,) in self._x("SELECT DISTINCT tree_size FROM cosignatures")]
        notes = [self.checkpoint(s) for s in sorted(sizes)]
        return ev.newest_cosigned(
            notes, self.log_public_key(), self.witnesses().values(), quorum, now_s
        )
