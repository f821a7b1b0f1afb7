"""The log's tree heads in the formats standard transparency tooling reads: C2SP
``tlog-checkpoint`` bodies in ``signed-note`` notes, signed by the log with Ed25519
(signature type 0x01) and cosigned by witnesses with ``tlog-cosignature/v1`` (type 0x04).

- A **checkpoint** body is three lines, each ending in a newline: the log's *origin*, the
  tree size in decimal, the RFC 6962/9162 root hash in base64 (optional extension lines are
  read and kept, never written).
- A **signed note** is the body, a blank line, then signature lines
  ``— <key name> base64(key ID[4] ‖ signature)``. A key ID is
  ``SHA-256(key name ‖ 0x0A ‖ signature type ‖ public key)[:4]``; a *verifier key* (vkey)
  is ``<name>+<key ID in 8 hex digits>+base64(type ‖ public key)``.
- A **cosignature/v1** signs ``"cosignature/v1\\ntime <t>\\n" + body``; its signature bytes are
  ``u64 big-endian t ‖ Ed25519 signature``: "as of time t, the largest consistent tree this
  witness has seen for this origin has this root".

The log's origin is ``truceline/<its key id>`` (:func:`log_origin`), also the name in its
signature lines. Written from the C2SP specifications (tlog-checkpoint, signed-note,
tlog-cosignature) and checked against the known-answer tests of golang.org/x/mod's
``sumdb/note`` (the tests reproduce its signature byte for byte).

>>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
>>> log, witness = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
>>> note = checkpoint_note(log, 5, bytes(32))
>>> note.splitlines()[1:3]
['5', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=']
>>> body = split_note(note)[0]
>>> cosigned = note + cosign(body, "w1", witness, 1_700_000_000).render()
>>> keys = [log_vkey(log.public_key()), vkey("w1", COSIGNATURE_V1, public_bytes(witness.public_key()))]
>>> sorted(verify_note(cosigned, keys, now_s=1_700_000_001).signers.items())
[('truceline/...', None), ('w1', 1700000000)]
"""

from __future__ import annotations

import base64
import hashlib
import struct
import time
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .heads import key_id, public_bytes

__all__ = [
    "COSIGNATURE_V1",
    "ED25519",
    "Checkpoint",
    "NoteError",
    "NoteVerification",
    "SignatureLine",
    "Verifier",
    "checkpoint_note",
    "cosign",
    "log_origin",
    "log_vkey",
    "note_key_id",
    "parse_vkey",
    "sign_note",
    "split_note",
    "verify_note",
    "vkey",
]

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
EM_DASH = "\u2014"
MAX_SIGNATURES = 64


class NoteError(ValueError):
    """A checkpoint or note that is malformed, or a signature that does not verify."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise NoteError(f"not base64: {text[:40]!r}") from None


def _valid_name(name: str) -> bool:
    """Key names are non-empty, without Unicode spaces or ``+``."""
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def note_key_id(name: str, sig_type: int, public: bytes) -> bytes:
    """``SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]`` (signed-note)."""
    if not _valid_name(name):
        raise NoteError(f"bad key name {name!r}")
    return hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public).digest()[:4]


def vkey(name: str, sig_type: int, public: bytes) -> str:
    """A verifier key: ``<name>+<8 hex digit key ID>+base64(type ‖ public key)``."""
    return f"{name}+{note_key_id(name, sig_type, public).hex()}+{_b64(bytes([sig_type]) + public)}"


@dataclass(frozen=True)
class Verifier:
    """A parsed verifier key."""

    name: str
    sig_type: int
    public: bytes

    @property
    def key_id(self) -> bytes:
        return note_key_id(self.name, self.sig_type, self.public)

    def __str__(self) -> str:
        return vkey(self.name, self.sig_type, self.public)


def parse_vkey(text: str) -> Verifier:
    """A vkey's name, type and public key; its key ID is recomputed and checked."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise NoteError(f"not a verifier key: {text[:60]!r}")
    name, kid, data = parts
    raw = _unb64(data)
    if len(kid) != 8 or len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
        raise NoteError(f"not an Ed25519 verifier key: {text[:60]!r}")
    found = Verifier(name, raw[0], raw[1:])
    if found.key_id.hex() != kid.lower():
        raise NoteError(f"verifier key {name}: the key ID does not match the key")
    return found


def log_origin(public: bytes) -> str:
    """The origin line (and key name) of the log whose raw Ed25519 public key is ``public``."""
    return f"truceline/{key_id(public)}"


def log_vkey(key: Ed25519PublicKey | bytes) -> str:
    """The verifier key of the log's checkpoints."""
    public = key if isinstance(key, bytes) else public_bytes(key)
    return vkey(log_origin(public), ED25519, public)


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint body: origin, tree size, root hash (and extension lines, if any)."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        """The body text, each line ending in a newline."""
        if not self.origin or "\n" in self.origin or self.size < 0 or len(self.root) != 32:
            raise NoteError("a checkpoint needs an origin, a size >= 0 and a 32-byte root")
        if any(not e or "\n" in e for e in self.extensions):
            raise NoteError("extension lines must be non-empty")
        lines = (self.origin, str(self.size), _b64(self.root), *self.extensions)
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        lines = body.split("\n")
        if len(lines) < 4 or lines[-1] != "" or any(line == "" for line in lines[:-1]):
            raise NoteError("a checkpoint body is at least three non-empty lines")
        size = lines[1]
        if not (size.isascii() and size.isdigit()) or (size != "0" and size.startswith("0")):
            raise NoteError(f"bad tree size {size!r}")
        root = _unb64(lines[2])
        if len(root) != 32:
            raise NoteError("the root hash is not 32 bytes")
        return cls(lines[0], int(size), root, tuple(lines[3:-1]))


@dataclass(frozen=True)
class SignatureLine:
    """One signature line of a note: key name, key ID, signature bytes."""

    name: str
    key_id: bytes
    signature: bytes

    def render(self) -> str:
        return f"{EM_DASH} {self.name} {_b64(self.key_id + self.signature)}\n"


def split_note(note: str) -> tuple[str, list[SignatureLine]]:
    """The note's text (ending in a newline) and its signature lines."""
    if any(ord(c) < 0x20 and c != "\n" for c in note) or not note.endswith("\n"):
        raise NoteError("a note is UTF-8 text without control characters, ending in a newline")
    cut = note.rfind("\n\n")
    if cut < 0:
        raise NoteError("a note's signatures follow a blank line")
    text, lines = note[: cut + 1], note[cut + 2 : -1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"more than {MAX_SIGNATURES} signatures")
    sigs = []
    for line in lines:
        if not line.startswith(EM_DASH + " "):
            raise NoteError("a signature line starts with an em dash and a space")
        name, _, encoded = line[2:].partition(" ")
        raw = _unb64(encoded)
        if not _valid_name(name) or len(raw) < 5:
            raise NoteError("malformed signature line")
        sigs.append(SignatureLine(name, raw[:4], raw[4:]))
    return text, sigs


def sign_note(text: str, name: str, key: Ed25519PrivateKey) -> SignatureLine:
    """An Ed25519 (type 0x01) signature line over the note text."""
    kid = note_key_id(name, ED25519, public_bytes(key.public_key()))
    return SignatureLine(name, kid, key.sign(text.encode()))


def checkpoint_note(key: Ed25519PrivateKey, size: int, root: bytes) -> str:
    """The log's checkpoint of a tree head, signed by the log's key."""
    origin = log_origin(public_bytes(key.public_key()))
    body = Checkpoint(origin, size, root).body()
    return body + "\n" + sign_note(body, origin, key).render()


def _cosigned_message(timestamp: int, body: str) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


def cosign(body: str, name: str, key: Ed25519PrivateKey, timestamp: int) -> SignatureLine:
    """A witness's cosignature/v1 line over a checkpoint body, at ``timestamp`` (s)."""
    Checkpoint.parse(body)
    if not 0 <= timestamp < 2**63:
        raise NoteError("a cosignature's time is 0 <= t < 2^63")
    kid = note_key_id(name, COSIGNATURE_V1, public_bytes(key.public_key()))
    sig = key.sign(_cosigned_message(timestamp, body))
    return SignatureLine(name, kid, struct.pack(">Q", timestamp) + sig)


@dataclass(frozen=True)
class NoteVerification:
    """A verified note: its text, and each known signer's name with its cosignature time
    (None for a plain signature)."""

    text: str
    signers: dict[str, int | None]


def _verified(
    line: SignatureLine, v: Verifier, text: str, now_s: float, future_s: int
) -> int | None:
    key = Ed25519PublicKey.from_public_bytes(v.public)
    try:
        if v.sig_type == ED25519 and len(line.signature) == 64:
            key.verify(line.signature, text.encode())
            return None
        if v.sig_type == COSIGNATURE_V1 and len(line.signature) == 72:
            ts = struct.unpack(">Q", line.signature[:8])[0]
            if ts >= 2**63 or ts > now_s + future_s:
                raise NoteError(f"{v.name}: a cosignature from the future ({ts})")
            key.verify(line.signature[8:], _cosigned_message(ts, text))
            return int(ts)
    except InvalidSignature:
        pass
    raise NoteError(f"the signature of {v.name} ({v.key_id.hex()}) does not verify")


def verify_note(
    note: str, vkeys: Iterable[str | Verifier], now_s: float | None = None, max_future_s: int = 600
) -> NoteVerification:
    """Verify a note with the known keys: signatures of unknown (name, key ID) pairs are
    ignored; one known key's failing signature rejects the whole note; at least one known
    key must have signed (signed-note's rules)."""
    text, lines = split_note(note)
    known = {}
    for k in vkeys:
        v = k if isinstance(k, Verifier) else parse_vkey(k)
        known[(v.name, v.key_id)] = v
    now = time.time() if now_s is None else now_s
    signers: dict[str, int | None] = {}
    for line in lines:
        found = known.get((line.name, line.key_id))
        if found is not None:
            signers[found.name] = _verified(line, found, text, now, max_future_s)
    if not signers:
        raise NoteError("no signature from a known key")
    return NoteVerification(text, signers)
