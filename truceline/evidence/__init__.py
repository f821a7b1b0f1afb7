"""The evidence log: an append-only Merkle tree (RFC 9162, Certificate Transparency v2) that
anyone holding the published entries can check without trusting the operator.

- Every entry is a JSON object canonicalised with RFC 8785 (JCS) before hashing, so the same
  entry gives the same bytes in any language.
- Leaf hash: SHA-256(0x00 ‖ entry); node hash: SHA-256(0x01 ‖ left ‖ right); a tree of n
  leaves splits at the largest power of two smaller than n (RFC 9162 §2.1.1).
- A *signed tree head* (STH) is the mechanism's Ed25519 signature over the canonical JSON of
  ``{"root_hash", "timestamp", "tree_size"}`` (FORMATS §5).
- Entries that are not public carry a random ``salt`` (:mod:`.salt`), so a sibling hash in
  a public proof reveals nothing about them.
- Tree heads are also C2SP checkpoints signed by the log and cosigned by witnesses
  (:mod:`.checkpoint`, :mod:`.witness`).
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

from .canonical import canonical
from .checkpoint import (
    Checkpoint,
    NoteError,
    checkpoint_note,
    log_origin,
    log_vkey,
    parse_vkey,
    split_note,
    verify_note,
)
from .export import EXPORT_FILES, Verification, export_files, verify_files
from .heads import (
    TreeHead,
    b64,
    check_inclusion_bundle,
    entry_json,
    inclusion_bundle,
    key_id,
    observation_signed_bytes,
    proof_names,
    public_bytes,
    sign_tree_head,
    signed_part,
    unb64,
    verify_signature,
)
from .merkle import (
    EMPTY_ROOT,
    MerkleTree,
    leaf_hash,
    node_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)
from .salt import salted
from .witness import CosignedHead, WitnessState, newest_cosigned, witness_cosign, witness_vkey

__all__ = [
    "EMPTY_ROOT",
    "EXPORT_FILES",
    "Checkpoint",
    "CosignedHead",
    "MerkleTree",
    "NoteError",
    "TreeHead",
    "Verification",
    "WitnessState",
    "b64",
    "canonical",
    "check_inclusion_bundle",
    "checkpoint_note",
    "entry_json",
    "export_files",
    "inclusion_bundle",
    "key_id",
    "leaf_hash",
    "log_origin",
    "log_vkey",
    "newest_cosigned",
    "node_hash",
    "observation_signed_bytes",
    "parse_vkey",
    "proof_names",
    "public_bytes",
    "root_of",
    "salted",
    "sign_tree_head",
    "signed_part",
    "split_note",
    "unb64",
    "verify_consistency",
    "verify_files",
    "verify_inclusion",
    "verify_note",
    "verify_signature",
    "witness_cosign",
    "witness_vkey",
]
