"""Keys, signatures and signed tree heads of the evidence log (FORMATS §5), and the
inclusion proof bundles a third party checks with the log's public key."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .canonical import canonical
from .merkle import MerkleTree, leaf_hash, verify_inclusion

__all__ = [
    "TreeHead",
    "b64",
    "check_inclusion_bundle",
    "entry_json",
    "inclusion_bundle",
    "key_id",
    "observation_signed_bytes",
    "proof_names",
    "public_bytes",
    "sign_tree_head",
    "signed_part",
    "unb64",
    "verify_signature",
]


def public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public: bytes) -> str:
    """A short, stable name for a raw 32-byte Ed25519 public key: the first 16 hex digits
    of its SHA-256."""
    return hashlib.sha256(public).hexdigest()[:16]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


@dataclass(frozen=True)
class TreeHead:
    """A signed tree head (FORMATS §5)."""

    tree_size: int
    root_hash: str  # hex
    timestamp: str  # RFC 3339
    key_id: str
    signature: str  # base64

    def signed_bytes(self) -> bytes:
        return signed_part(self.tree_size, self.root_hash, self.timestamp)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tree_size": self.tree_size,
            "root_hash": self.root_hash,
            "timestamp": self.timestamp,
            "key_id": self.key_id,
            "signature": self.signature,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TreeHead:
        for key, kind in (
            ("tree_size", int),
            ("root_hash", str),
            ("timestamp", str),
            ("key_id", str),
            ("signature", str),
        ):
            if not isinstance(d.get(key), kind) or isinstance(d.get(key), bool):
                raise ValueError(f"{key}: missing or not a {kind.__name__}")
        return cls(d["tree_size"], d["root_hash"], d["timestamp"], d["key_id"], d["signature"])

    def verify(self, public: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(
                unb64(self.signature), self.signed_bytes()
            )
        except (InvalidSignature, ValueError):
            return False
        return True


def signed_part(tree_size: int, root_hex: str, timestamp: str) -> bytes:
    return canonical({"root_hash": root_hex, "timestamp": timestamp, "tree_size": tree_size})


def sign_tree_head(key: Ed25519PrivateKey, tree_size: int, root: bytes, timestamp: str) -> TreeHead:
    """Sign ``{"root_hash", "timestamp", "tree_size"}`` with the log's key."""
    root_hex = root.hex()
    sig = key.sign(signed_part(tree_size, root_hex, timestamp))
    return TreeHead(
        tree_size, root_hex, timestamp, key_id(public_bytes(key.public_key())), b64(sig)
    )


def observation_signed_bytes(body: dict[str, Any]) -> bytes:
    """What an observation's ``signature`` covers: its canonical form without the
    ``signature`` field."""
    return canonical({k: v for k, v in body.items() if k != "signature"})


def verify_signature(public: bytes, signature_b64: str, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(unb64(signature_b64), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def entry_json(entry: bytes) -> dict[str, Any]:
    return dict(json.loads(entry))


def inclusion_bundle(tree: MerkleTree, index: int, entry: bytes, head: TreeHead) -> dict[str, Any]:
    """Everything a third party needs to check that ``entry`` is in the log at ``head``."""
    return {
        "entry_index": index,
        "entry": entry.decode(),
        "leaf_hash": leaf_hash(entry).hex(),
        "tree_size": head.tree_size,
        "inclusion_path": [h.hex() for h in tree.inclusion_proof(index, head.tree_size)],
        "sth": head.as_dict(),
        "names": proof_names({"entry_index": index, "entry": entry, "sth": head.as_dict()}),
    }


def entry_name(index: int, entry: dict[str, Any]) -> str:
    """How the CLI, the API and the page name a log entry: its index and what it is.

    >>> entry_name(7, {"kind": "observation", "observation": {"source": "AS-1", "id": "d9"}})
    'entry 7 (observation AS-1:d9)'
    >>> entry_name(9, {"kind": "case_event", "case": 31, "seq": 2, "event": {"kind": "reply"}})
    'entry 9 (case 31, event 2: reply)'
    >>> entry_name(9, {"kind": "case_event", "case": 31, "event_id": "5e1f" * 8,
    ...                "event": {"kind": "reply"}})
    'entry 9 (case 31, event 5e1f5e1f: reply)'
    """
    kind = entry.get("kind")
    what = str(kind)
    if kind == "observation":
        obs = entry.get("observation") or {}
        what = f"observation {obs.get('source')}:{obs.get('id')}"
    elif kind == "incident_review":
        what = f"review of incident {entry.get('incident')}: {entry.get('status')}" + (
            ", published" if entry.get("published") else ""
        )
    elif kind == "case_event":
        event = entry.get("event") or {}
        # entries logged before event ids carry the event's place in its case instead
        ident = entry["seq"] if "seq" in entry else str(entry.get("event_id", ""))[:8]
        what = f"case {entry.get('case')}, event {ident}: {event.get('kind')}"
    elif kind == "run":
        what = f"analysis run {entry.get('run')}"
    return f"entry {index} ({what})"


def head_name(sth: dict[str, Any]) -> str:
    """How the CLI, the API and the page name a signed tree head: by its size (heads grow:
    a larger size is a newer head) and the start of its root hash.

    >>> head_name({"tree_size": 6938, "root_hash": "ab" * 32})
    'signed tree head of size 6938 (root abababababab…)'
    """
    return f"signed tree head of size {sth['tree_size']} (root {str(sth['root_hash'])[:12]}…)"


def proof_names(bundle: dict[str, Any]) -> dict[str, str]:
    """The names of a proof bundle's entry and tree head (:func:`entry_name`,
    :func:`head_name`)."""
    try:
        entry = json.loads(bundle["entry"])  # text, or bytes
    except (ValueError, TypeError):
        entry = {}
    return {
        "entry": entry_name(int(bundle["entry_index"]), entry if isinstance(entry, dict) else {}),
        "tree_head": head_name(bundle["sth"]),
    }


def check_inclusion_bundle(bundle: dict[str, Any], log_key: bytes) -> bool:
    """Verify a bundle from :func:`inclusion_bundle` with the log's public key."""
    head = TreeHead.from_dict(bundle["sth"])
    if not head.verify(log_key) or head.tree_size != bundle["tree_size"]:
        return False
    entry = bundle["entry"].encode()
    return verify_inclusion(
        int(bundle["entry_index"]),
        head.tree_size,
        leaf_hash(entry),
        [bytes.fromhex(h) for h in bundle["inclusion_path"]],
        bytes.fromhex(head.root_hash),
    )
