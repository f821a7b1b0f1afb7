"""The exported log (FORMATS §5) and its offline verification: anyone holding the files can
recompute the root, check every signed tree head of the history, and every signed
observation, without the database."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .canonical import canonical
from .heads import TreeHead, b64, key_id, observation_signed_bytes, unb64, verify_signature
from .merkle import MerkleTree, leaf_hash

__all__ = ["EXPORT_FILES", "Verification", "export_files", "verify_files"]


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


class _Stop(Exception):
    """The first problem of a check that is not thorough."""


@dataclass
class _Check:
    """One verification under way: its result, and whether to stop at the first problem."""

    res: Verification
    thorough: bool

    def bad(self, msg: str) -> None:
        """A problem; the check goes on only if it is thorough."""
        assert self.res.problems is not None
        self.res.problems.append(msg)
        if not self.thorough:
            raise _Stop

    def fatal(self, msg: str) -> None:
        """A problem after which nothing else can be checked."""
        self.thorough = False
        self.bad(msg)


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
    check = _Check(Verification(problems=[]), thorough)
    with contextlib.suppress(_Stop):
        _verify(files, log_key, check)
    return check.res


def _verify(files: dict[str, bytes], log_key: bytes | None, check: _Check) -> None:
    res = check.res
    for name in EXPORT_FILES:
        if name not in files:
            check.fatal(f"{name}: missing")
    try:
        keys = {k: unb64(v) for k, v in json.loads(files["keys.json"]).items()}
        sth = TreeHead.from_dict(json.loads(files["sth.json"]))
        heads = [
            TreeHead.from_dict(json.loads(line))
            for line in files["tree_heads.jsonl"].split(b"\n")
            if line
        ]
    except (ValueError, TypeError, AttributeError) as exc:
        check.fatal(f"keys.json, sth.json or tree_heads.jsonl: unreadable ({exc})")
        return
    public = _log_key(sth, keys, log_key, check)
    blob = files["entries.jsonl"]
    if blob and not blob.endswith(b"\n"):
        check.fatal("entries.jsonl: the last line is not terminated (truncated?)")
    lines = blob.split(b"\n")[:-1] if blob else []
    tree = MerkleTree.from_leaves(leaf_hash(e) for e in lines)
    res.tree_size, res.root_hash = tree.size, tree.root().hex()
    if tree.size != sth.tree_size:
        check.bad(f"entries.jsonl: {tree.size} entries, the signed tree head says {sth.tree_size}")
    elif tree.root().hex() != sth.root_hash:
        check.bad("entries.jsonl: the entries' root hash is not the signed tree head's")
    _check_history(heads, sth, public, tree, check)
    head_dicts = [h.as_dict() for h in heads]
    for n, line in enumerate(lines, start=1):
        _check_entry(n, line, head_dicts, keys, check)


def _log_key(sth: TreeHead, keys: dict[str, bytes], pinned: bytes | None, check: _Check) -> bytes:
    """The log's public key (the pinned one, else the one the head names), checked against
    the signed tree head; any problem here stops the check."""
    public = pinned if pinned is not None else keys.get(sth.key_id)
    if public is None:
        check.fatal(f"sth.json: key_id {sth.key_id} is not in keys.json")
        raise _Stop
    check.res.log_key_id = key_id(public)
    if sth.key_id != check.res.log_key_id:
        check.fatal(
            f"sth.json: signed by {sth.key_id}, not by the log's key {check.res.log_key_id}"
        )
    if not sth.verify(public):
        check.fatal("sth.json: the signature does not verify with the log's key")
    return public


def _check_history(
    heads: list[TreeHead], sth: TreeHead, public: bytes, tree: MerkleTree, check: _Check
) -> None:
    """Every signed tree head of the history: signed by the log's key, in order, and the
    root of a prefix of the entries."""
    if not heads or heads[-1] != sth:
        check.bad("tree_heads.jsonl: does not end with the signed tree head of sth.json")
    previous = 0
    for n, head in enumerate(heads, start=1):
        where = f"tree_heads.jsonl:{n}"
        if head.key_id != check.res.log_key_id or not head.verify(public):
            check.bad(f"{where}: the signature does not verify with the log's key")
        elif head.tree_size <= previous or head.tree_size > tree.size:
            check.bad(f"{where}: tree size {head.tree_size} is out of order or beyond the log")
        elif tree.root(head.tree_size).hex() != head.root_hash:
            check.bad(
                f"{where}: the first {head.tree_size} entries do not hash to this head's root"
            )
        else:
            check.res.heads_checked += 1
            previous = head.tree_size


def _check_entry(
    n: int, line: bytes, head_dicts: list[dict[str, object]], keys: dict[str, bytes], check: _Check
) -> None:
    """One entry: canonical JSON with a kind; a logged tree head that is in the history; a
    signed observation whose signature holds."""
    try:
        entry = json.loads(line)
        if canonical(entry) != line:
            raise ValueError("not in RFC 8785 canonical form")
        if not isinstance(entry, dict) or not isinstance(entry.get("kind"), str):
            raise ValueError("not an entry object with a kind")
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        check.bad(f"entries.jsonl:{n}: {exc}")
        return
    if entry["kind"] == "tree_head":
        logged = {k: v for k, v in entry.items() if k != "kind"}
        if logged not in head_dicts:
            check.bad(f"entries.jsonl:{n}: logs a signed tree head that tree_heads.jsonl lacks")
        return
    kid = entry.get("key_id")
    obs = entry.get("observation")
    if entry["kind"] == "observation" and kid is not None and isinstance(obs, dict):
        pub = keys.get(kid)
        sig = obs.get("signature")
        if pub is None or not isinstance(sig, str):
            check.bad(f"entries.jsonl:{n}: signed with key {kid}, which keys.json lacks")
        elif not verify_signature(pub, sig, observation_signed_bytes(obs)):
            check.bad(f"entries.jsonl:{n}: the observation's signature does not verify")
        else:
            check.res.signed_observations += 1
