"""Witnesses: each party and member state keeps the last head of the log it cosigned, and
cosigns a new one only if it extends that head (an RFC 9162 consistency proof), so the
operator cannot show two parties two different histories, or roll one back, without the
witnesses' cosignatures giving it away.

A witness (:func:`witness_cosign`) refuses, with :class:`~truceline.errors.WitnessError`:

- a checkpoint the log's pinned key did not sign, or of another log (origin);
- an *older* head than the one it last cosigned (a rollback);
- a head of the *same size* with another root, or a larger head the consistency proof does
  not tie to its last one (a fork: a rewritten or a second history).

It keeps its state (origin, the log's public key, last size and root) between runs; the
state changes only when it cosigns. This follows the checks of C2SP ``tlog-witness``
(``add-checkpoint``), with the witness pulling checkpoints and proofs rather than being sent
them. :func:`newest_cosigned` finds the newest head cosigned by a quorum of known witnesses
(what the report and the dashboard cite), and refuses two cosigned heads that cannot both be
true.

>>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
>>> from truceline.evidence import MerkleTree, public_bytes
>>> log, wkey = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
>>> tree = MerkleTree.from_leaves(bytes([i]) * 32 for i in range(7))
>>> state = WitnessState.new(public_bytes(log.public_key()))
>>> state, line = witness_cosign(state, checkpoint_note(log, 4, tree.root(4)), [], "w1", wkey, 10)
>>> note = checkpoint_note(log, 7, tree.root(7))
>>> state, line = witness_cosign(state, note, tree.consistency_proof(4, 7), "w1", wkey, 11)
>>> state.size
7
>>> witness_cosign(state, checkpoint_note(log, 5, tree.root(5)), [], "w1", wkey, 12)
Traceback (most recent call last):
truceline.errors.WitnessError: refused: size 5 is older than the head this witness cosigned (size 7)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..errors import WitnessError
from .checkpoint import (
    COSIGNATURE_V1,
    Checkpoint,
    NoteError,
    Verifier,
    checkpoint_note,
    cosign,
    log_origin,
    log_vkey,
    parse_vkey,
    split_note,
    verify_note,
    vkey,
)
from .heads import b64, public_bytes, unb64
from .merkle import EMPTY_ROOT, verify_consistency

__all__ = [
    "CosignedHead",
    "WitnessState",
    "checkpoint_note",
    "merge_notes",
    "newest_cosigned",
    "witness_cosign",
    "witness_vkey",
]


def witness_vkey(name: str, key: Ed25519PrivateKey) -> str:
    """The verifier key of a witness's cosignatures (type 0x04)."""
    return vkey(name, COSIGNATURE_V1, public_bytes(key.public_key()))


@dataclass(frozen=True)
class WitnessState:
    """What a witness remembers: the log (origin and public key) and the last head it
    cosigned (size 0: none yet)."""

    origin: str
    log_key: bytes
    size: int = 0
    root: bytes = EMPTY_ROOT

    @classmethod
    def new(cls, log_key: bytes) -> WitnessState:
        return cls(log_origin(log_key), log_key)

    def as_dict(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "log_key": b64(self.log_key),
            "size": self.size,
            "root": self.root.hex(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WitnessState:
        try:
            return cls(
                str(d["origin"]), unb64(d["log_key"]), int(d["size"]), bytes.fromhex(d["root"])
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise WitnessError(f"the witness's state is unreadable ({exc})", 400) from None


def witness_cosign(
    state: WitnessState,
    note: str,
    proof: Sequence[bytes],
    name: str,
    key: Ed25519PrivateKey,
    now_s: int,
) -> tuple[WitnessState, str]:
    """Check a checkpoint of the log against the witness's last head and cosign it: the new
    state and the cosignature line. ``proof`` is the consistency proof from the last head's
    size to the checkpoint's (empty when the witness has cosigned nothing yet)."""
    try:
        body = verify_note(note, [log_vkey(state.log_key)], now_s=now_s).text
        cp = Checkpoint.parse(body)
    except NoteError as exc:
        raise WitnessError(
            f"refused: not a checkpoint signed by the log's key ({exc})", 403
        ) from None
    if cp.origin != state.origin:
        raise WitnessError(f"refused: a checkpoint of {cp.origin}, not of {state.origin}", 404)
    if cp.size < state.size:
        raise WitnessError(
            f"refused: size {cp.size} is older than the head this witness cosigned "
            f"(size {state.size})",
            409,
        )
    if cp.size == state.size and cp.root != state.root:
        raise WitnessError(
            f"refused: FORK: size {cp.size} with root {cp.root.hex()}, but this witness "
            f"cosigned root {state.root.hex()} at that size",
            409,
        )
    if 0 < state.size < cp.size and not verify_consistency(
        state.size, cp.size, state.root, cp.root, proof
    ):
        raise WitnessError(
            f"refused: FORK: the head of size {cp.size} does not extend the head of size "
            f"{state.size} this witness cosigned (the consistency proof fails)",
            422,
        )
    if state.size == 0 and proof:
        raise WitnessError("refused: a first checkpoint comes without a proof", 422)
    line = cosign(body, name, key, now_s).render()
    return WitnessState(state.origin, state.log_key, cp.size, cp.root), line


@dataclass(frozen=True)
class CosignedHead:
    """A checkpoint cosigned by a quorum of known witnesses: its size, root and the note
    (with every known signature), and each cosigner's name and cosignature time (s)."""

    size: int
    root: bytes
    note: str
    cosigners: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {
            "tree_size": self.size,
            "root_hash": self.root.hex(),
            "checkpoint": self.note,
            "cosigners": dict(sorted(self.cosigners.items())),
        }


def newest_cosigned(
    notes: Iterable[str],
    log_key: bytes,
    witnesses: Iterable[str | Verifier],
    quorum: int,
    now_s: float | None = None,
) -> CosignedHead | None:
    """The newest checkpoint signed by the log (``log_key``, pinned) and cosigned by at
    least ``quorum`` of the ``witnesses`` (their vkeys), or None. A note with a known key's
    bad signature is refused whole; two cosigned checkpoints of one size with different roots
    are a fork (:class:`~truceline.errors.WitnessError`)."""
    known = [w if isinstance(w, Verifier) else parse_vkey(w) for w in witnesses]
    if any(w.sig_type != COSIGNATURE_V1 for w in known):
        raise WitnessError("a witness's verifier key is of type 0x04 (cosignature/v1)", 400)
    logv = parse_vkey(log_vkey(log_key))
    best: CosignedHead | None = None
    roots: dict[int, bytes] = {}
    for note in notes:
        try:
            checked = verify_note(note, [logv, *known], now_s=now_s)
            cp = Checkpoint.parse(checked.text)
        except NoteError as exc:
            raise WitnessError(f"a cosigned checkpoint does not verify: {exc}", 422) from None
        if logv.name not in checked.signers or cp.origin != logv.name:
            continue  # not this log's checkpoint
        if roots.setdefault(cp.size, cp.root) != cp.root:
            raise WitnessError(f"FORK: two cosigned checkpoints of size {cp.size} differ", 409)
        cosigners = {n: t for n, t in checked.signers.items() if t is not None}
        if len(cosigners) >= quorum and (best is None or cp.size > best.size):
            best = CosignedHead(cp.size, cp.root, note, cosigners)
    return best


def merge_notes(note: str, lines: Iterable[str]) -> str:
    """A note with further signature lines appended (each once)."""
    _, existing = split_note(note)
    have = {x.render() for x in existing}
    extra = [line for line in lines if line not in have]
    return note + "".join(dict.fromkeys(extra))
