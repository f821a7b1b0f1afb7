"""The evidence log: an append-only Merkle tree (RFC 9162, Certificate Transparency v2) that
anyone holding the published entries can check without trusting the operator.

- Every entry is a JSON object canonicalised with RFC 8785 (JCS) before hashing, so the same
  entry gives the same bytes in any language.
- Leaf hash: SHA-256(0x00 ‖ entry); node hash: SHA-256(0x01 ‖ left ‖ right); a tree of n
  leaves splits at the largest power of two smaller than n (RFC 9162 §2.1.1).
- A *signed tree head* (STH) is the mechanism's Ed25519 signature over the canonical JSON of
  ``{"root_hash", "timestamp", "tree_size"}`` (FORMATS §5).
- An *inclusion proof* shows that an entry is in a tree head; a *consistency proof* shows
  that a later tree head extends an earlier one without changing anything already logged.
  Both follow RFC 9162 §2.1.3-2.1.4, and their verifiers are the RFC's algorithms.

>>> tree = MerkleTree()
>>> for text in ("a", "b", "c"):
...     _ = tree.append(leaf_hash(canonical({"n": text})))
>>> root = tree.root()
>>> proof = tree.inclusion_proof(1, 3)
>>> verify_inclusion(1, 3, leaf_hash(canonical({"n": "b"})), proof, root)
True
>>> verify_inclusion(1, 3, leaf_hash(canonical({"n": "x"})), proof, root)
False
>>> _ = tree.append(leaf_hash(canonical({"n": "d"})))
>>> verify_consistency(3, 4, root, tree.root(), tree.consistency_proof(3, 4))
True
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "EMPTY_ROOT",
    "MerkleTree",
    "TreeHead",
    "canonical",
    "key_id",
    "leaf_hash",
    "node_hash",
    "root_of",
    "sign_tree_head",
    "verify_consistency",
    "verify_inclusion",
]

EMPTY_ROOT = hashlib.sha256(b"").digest()


def canonical(entry: Any) -> bytes:
    """RFC 8785 canonical JSON: the exact bytes that are hashed and published.

    Members sorted by the UTF-16 code units of their names, no whitespace, strings escaped as
    RFC 8785 §3.2.2.2 says (which is what Python's encoder does without ``ensure_ascii``),
    numbers written as ECMAScript writes a double (:func:`_number`). Checked against the
    ``rfc8785`` package on random values by the tests; written here because that package's
    pure-Python serialiser was half the cost of an ingest.

    >>> canonical({"b": 1.0, "a": [True, None, "é"], "c": 1e-7})
    b'{"a":[true,null,"\\xc3\\xa9"],"b":1,"c":1e-7}'
    """
    return _jcs(entry).encode("utf-8")


_encode_str = json.JSONEncoder(ensure_ascii=False).encode


def _jcs(v: Any) -> str:
    if isinstance(v, str):
        return str(_encode_str(v))
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        if abs(v) > 2**53 - 1:  # beyond what a double holds exactly: refused, as RFC 8785 does
            raise ValueError(f"integer {v} is outside the exact range of JSON numbers")
        return str(v)
    if isinstance(v, float):
        return _number(v)
    if isinstance(v, list | tuple):
        return "[" + ",".join(_jcs(x) for x in v) + "]"
    if isinstance(v, dict):
        for k in v:
            if not isinstance(k, str):
                raise TypeError(f"object member names must be strings, not {k!r}")
        members = sorted(v.items(), key=lambda kv: kv[0].encode("utf-16-be"))
        return "{" + ",".join(_encode_str(k) + ":" + _jcs(x) for k, x in members) + "}"
    raise TypeError(f"not JSON: {type(v).__name__}")


def _number(f: float) -> str:
    """A double as ECMAScript's Number.prototype.toString writes it (RFC 8785 §3.2.2.3):
    the shortest digits that round-trip (Python's repr finds the same), then ES layout.

    >>> [_number(x) for x in (100.0, 0.5, 1e-7, 1e21, 1e20, 1.5e16, -0.0, 123.456)]
    ['100', '0.5', '1e-7', '1e+21', '100000000000000000000', '15000000000000000', '0', '123.456']
    """
    if f != f or f in (float("inf"), float("-inf")):
        raise ValueError("NaN and infinities are not JSON")
    if f == 0:
        return "0"
    mantissa, _, exp = repr(abs(f)).partition("e")
    whole, _, frac = mantissa.partition(".")
    all_digits = whole + frac
    stripped = all_digits.lstrip("0")
    n = len(whole) + (int(exp) if exp else 0) - (len(all_digits) - len(stripped))
    digits = stripped.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        out = digits + "0" * (n - k)
    elif 0 < n <= 21:
        out = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        out = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + ("+" if e >= 0 else "-")
        out += str(abs(e))
    return ("-" if f < 0 else "") + out


def leaf_hash(entry: bytes) -> bytes:
    """SHA-256(0x00 ‖ entry)."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 ‖ left ‖ right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    """The tree over a list of leaf hashes, keeping every complete (perfect, aligned) subtree
    so that appending is O(log n) and any root, inclusion or consistency proof costs
    O(log² n) hashes at most, for any earlier tree size as well as the current one.

    ``levels[k][j]`` is the hash of leaves ``[j·2ᵏ, (j+1)·2ᵏ)``.
    """

    def __init__(self, levels: list[list[bytes]] | None = None) -> None:
        self.levels: list[list[bytes]] = levels if levels is not None else [[]]

    @classmethod
    def from_leaves(cls, leaves: Iterable[bytes]) -> MerkleTree:
        tree = cls()
        for h in leaves:
            tree.append(h)
        return tree

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Append one leaf hash; return the new complete nodes ``(level, index, hash)``
        above the leaves (what a store must persist to avoid recomputing them)."""
        levels = self.levels
        levels[0].append(leaf)
        index, level, h = len(levels[0]) - 1, 0, leaf
        made = []
        while index & 1:
            h = node_hash(levels[level][index - 1], h)
            level += 1
            index >>= 1
            if len(levels) == level:
                levels.append([])
            levels[level].append(h)
            made.append((level, index, h))
        return made

    def _hash(self, start: int, end: int) -> bytes:
        """MTH of leaves [start, end)."""
        n = end - start
        if n == 0:
            return EMPTY_ROOT
        if n & (n - 1) == 0 and start % n == 0:
            return self.levels[n.bit_length() - 1][start // n]
        k = _split(n)
        return node_hash(self._hash(start, start + k), self._hash(start + k, end))

    def _check(self, size: int) -> None:
        if not 0 <= size <= self.size:
            raise ValueError(f"tree size {size} is outside 0..{self.size}")

    def root(self, size: int | None = None) -> bytes:
        """The root hash of the first ``size`` leaves (default: all)."""
        size = self.size if size is None else size
        self._check(size)
        return self._hash(0, size)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """RFC 9162 §2.1.3.1 PATH(index, D[0:size])."""
        self._check(size)
        if not 0 <= index < size:
            raise ValueError(f"entry {index} is not in a tree of size {size}")
        proof: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            k = _split(end - start)
            if index < start + k:
                proof.append(self._hash(start + k, end))
                end = start + k
            else:
                proof.append(self._hash(start, start + k))
                start += k
        proof.reverse()
        return proof

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """RFC 9162 §2.1.4.1 PROOF(first, D[0:second]) for 0 < first ≤ second."""
        self._check(second)
        if not 0 < first <= second:
            raise ValueError(f"no consistency proof from size {first} to size {second}")
        proof: list[bytes] = []
        start, end, m, whole = 0, second, first, True
        while True:
            n = end - start
            if m == n:
                if not whole:
                    proof.append(self._hash(start, end))
                break
            k = _split(n)
            if m <= k:
                proof.append(self._hash(start + k, end))
                end = start + k
            else:
                proof.append(self._hash(start, start + k))
                start, m, whole = start + k, m - k, False
        proof.reverse()
        return proof


def root_of(entries: Iterable[bytes]) -> bytes:
    """The RFC 9162 root hash of a sequence of (canonical) entries."""
    return MerkleTree.from_leaves(leaf_hash(e) for e in entries).root()


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` show leaf hash ``leaf`` at ``index`` in the tree of
    ``size`` leaves whose root is ``root``?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: does ``proof`` show that the tree of ``second`` leaves with root
    ``second_root`` extends the tree of ``first`` leaves with root ``first_root``?"""
    if first == second:
        return not proof and first_root == second_root
    if not 0 < first < second or not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


# -- keys and signed tree heads -------------------------------------------------------------


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


# -- export and offline verification (FORMATS §5) ---------------------------------------------

EXPORT_FILES = ("entries.jsonl", "sth.json", "tree_heads.jsonl", "keys.json")


def export_files(
    entries: Iterable[bytes], heads: Sequence[TreeHead], keys: dict[str, bytes]
) -> dict[str, bytes]:
    """The exported log as file name → bytes: ``entries.jsonl`` (one canonical entry per line),
    ``sth.json`` (the latest signed tree head), ``tree_heads.jsonl`` (every signed tree head,
    oldest first: the log's history, so a rewritten past can be caught) and ``keys.json``."""
    if not heads:
        raise ValueError("the log has no signed tree head yet")
    return {
        "entries.jsonl": b"".join(e + b"\n" for e in entries),
        "sth.json": json.dumps(heads[-1].as_dict(), indent=1).encode() + b"\n",
        "tree_heads.jsonl": b"".join(canonical(h.as_dict()) + b"\n" for h in heads),
        "keys.json": json.dumps({k: b64(v) for k, v in sorted(keys.items())}, indent=1).encode()
        + b"\n",
    }


@dataclass
class Verification:
    """What ``verify_files`` found: ``problems`` is empty when everything checks out."""

    tree_size: int = 0
    root_hash: str = ""
    log_key_id: str = ""
    heads_checked: int = 0
    signed_observations: int = 0
    problems: list[str] | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_files(
    files: dict[str, bytes], log_key: bytes | None = None, thorough: bool = True
) -> Verification:
    """Check an exported log without any database: every entry is canonical JSON, the
    entries' RFC 9162 root is the signed tree head's, every past tree head is signed by the
    log's key and is the root of a prefix of the same entries (so nothing logged was ever
    changed, removed or reordered), every tree head the log recorded in itself is in the
    history, and every signed observation's signature holds.

    ``log_key`` pins the log's public key (as published by the mechanism); without it the
    key named by the tree head in ``keys.json`` is used, and its id is reported so it can be
    compared with the published one. With ``thorough=False`` the first problem stops the
    check (the same verdict, faster on a bad log).
    """
    res = Verification(problems=[])
    problems: list[str] = []
    res.problems = problems

    def bad(msg: str) -> Verification:
        problems.append(msg)
        return res

    for name in EXPORT_FILES:
        if name not in files:
            return bad(f"{name}: missing")
    try:
        keys = {k: unb64(v) for k, v in json.loads(files["keys.json"]).items()}
        sth = TreeHead.from_dict(json.loads(files["sth.json"]))
        heads = [
            TreeHead.from_dict(json.loads(line))
            for line in files["tree_heads.jsonl"].split(b"\n")
            if line
        ]
    except (ValueError, TypeError, AttributeError) as exc:
        return bad(f"keys.json, sth.json or tree_heads.jsonl: unreadable ({exc})")
    public = log_key if log_key is not None else keys.get(sth.key_id)
    if public is None:
        return bad(f"sth.json: key_id {sth.key_id} is not in keys.json")
    res.log_key_id = key_id(public)
    if sth.key_id != res.log_key_id:
        return bad(f"sth.json: signed by {sth.key_id}, not by the log's key {res.log_key_id}")
    if not sth.verify(public):
        return bad("sth.json: the signature does not verify with the log's key")

    blob = files["entries.jsonl"]
    if blob and not blob.endswith(b"\n"):
        return bad("entries.jsonl: the last line is not terminated (truncated?)")
    lines = blob.split(b"\n")[:-1] if blob else []
    tree = MerkleTree.from_leaves(leaf_hash(e) for e in lines)
    res.tree_size, res.root_hash = tree.size, tree.root().hex()
    if tree.size != sth.tree_size:
        bad(f"entries.jsonl: {tree.size} entries, the signed tree head says {sth.tree_size}")
    elif tree.root().hex() != sth.root_hash:
        bad("entries.jsonl: the entries' root hash is not the signed tree head's")
    if problems and not thorough:
        return res

    if not heads or heads[-1] != sth:
        bad("tree_heads.jsonl: does not end with the signed tree head of sth.json")
        if not thorough:
            return res
    previous = 0
    for n, head in enumerate(heads, start=1):
        where = f"tree_heads.jsonl:{n}"
        if head.key_id != res.log_key_id or not head.verify(public):
            bad(f"{where}: the signature does not verify with the log's key")
        elif head.tree_size <= previous or head.tree_size > tree.size:
            bad(f"{where}: tree size {head.tree_size} is out of order or beyond the log")
        elif tree.root(head.tree_size).hex() != head.root_hash:
            bad(f"{where}: the first {head.tree_size} entries do not hash to this head's root")
        else:
            res.heads_checked += 1
            previous = head.tree_size
            continue
        if not thorough:
            return res

    head_dicts = [h.as_dict() for h in heads]
    for n, line in enumerate(lines, start=1):
        try:
            entry = json.loads(line)
            if canonical(entry) != line:
                raise ValueError("not in RFC 8785 canonical form")
            if not isinstance(entry, dict) or not isinstance(entry.get("kind"), str):
                raise ValueError("not an entry object with a kind")
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            bad(f"entries.jsonl:{n}: {exc}")
            if not thorough:
                return res
            continue
        if entry["kind"] == "tree_head":
            logged = {k: v for k, v in entry.items() if k != "kind"}
            if logged not in head_dicts:
                bad(f"entries.jsonl:{n}: logs a signed tree head that tree_heads.jsonl lacks")
                if not thorough:
                    return res
            continue
        kid = entry.get("key_id")
        obs = entry.get("observation")
        if entry["kind"] == "observation" and kid is not None and isinstance(obs, dict):
            pub = keys.get(kid)
            sig = obs.get("signature")
            if pub is None or not isinstance(sig, str):
                bad(f"entries.jsonl:{n}: signed with key {kid}, which keys.json lacks")
            elif not verify_signature(pub, sig, observation_signed_bytes(obs)):
                bad(f"entries.jsonl:{n}: the observation's signature does not verify")
            else:
                res.signed_observations += 1
                continue
            if not thorough:
                return res
    return res


def inclusion_bundle(tree: MerkleTree, index: int, entry: bytes, head: TreeHead) -> dict[str, Any]:
    """Everything a third party needs to check that ``entry`` is in the log at ``head``."""
    return {
        "entry_index": index,
        "entry": entry.decode(),
        "leaf_hash": leaf_hash(entry).hex(),
        "tree_size": head.tree_size,
        "inclusion_path": [h.hex() for h in tree.inclusion_proof(index, head.tree_size)],
        "sth": head.as_dict(),
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
