"""The Merkle log against RFC 6962/9162 test vectors and an independent reference.

The vectors are those of google/certificate-transparency (cpp/merkletree/merkle_tree_test.cc)
and transparency-dev/merkle (testonly/constants.go, proof/verify_test.go): the same leaves,
roots and proofs every Certificate Transparency implementation is checked against.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from truceline.evidence import (
    MerkleTree,
    canonical,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)

LEAF_INPUTS = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (leaf index, 1-based as in the vectors; tree size; proof)
INCLUSION = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (3, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        2,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]


def _vector_tree() -> MerkleTree:
    return MerkleTree.from_leaves(leaf_hash(bytes.fromhex(x)) for x in LEAF_INPUTS)


def _reference_root(entries: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1 MTH, written straight from the definition (recursive, no caching)."""
    if not entries:
        return hashlib.sha256(b"").digest()
    if len(entries) == 1:
        return hashlib.sha256(b"\x00" + entries[0]).digest()
    k = 1
    while k * 2 < len(entries):
        k *= 2
    return hashlib.sha256(
        b"\x01" + _reference_root(entries[:k]) + _reference_root(entries[k:])
    ).digest()


def test_roots_of_every_size_match_the_vectors() -> None:
    tree = _vector_tree()
    assert [tree.root(n).hex() for n in range(9)] == ROOTS


@pytest.mark.parametrize(("leaf", "size", "proof"), INCLUSION)
def test_inclusion_proofs_match_the_vectors(leaf: int, size: int, proof: list[str]) -> None:
    tree = _vector_tree()
    assert [h.hex() for h in tree.inclusion_proof(leaf - 1, size)] == proof
    h = leaf_hash(bytes.fromhex(LEAF_INPUTS[leaf - 1]))
    root = bytes.fromhex(ROOTS[size])
    assert verify_inclusion(leaf - 1, size, h, [bytes.fromhex(p) for p in proof], root)
    if proof:
        bad = [bytes.fromhex(p) for p in proof]
        bad[0] = bytes(32)
        assert not verify_inclusion(leaf - 1, size, h, bad, root)
        assert not verify_inclusion(leaf - 1, size, leaf_hash(b"forged"), bad[:0] + bad[1:], root)


@pytest.mark.parametrize(("first", "second", "proof"), CONSISTENCY)
def test_consistency_proofs_match_the_vectors(first: int, second: int, proof: list[str]) -> None:
    tree = _vector_tree()
    assert [h.hex() for h in tree.consistency_proof(first, second)] == proof
    r1, r2 = bytes.fromhex(ROOTS[first]), bytes.fromhex(ROOTS[second])
    raw = [bytes.fromhex(p) for p in proof]
    assert verify_consistency(first, second, r1, r2, raw)
    if proof:
        assert not verify_consistency(first, second, r2, r1, raw)
        assert not verify_consistency(first, second, r1, r2, raw[:-1])


def test_edge_cases_of_the_vectors() -> None:
    empty, one = bytes.fromhex(ROOTS[0]), bytes.fromhex(ROOTS[1])
    assert verify_consistency(0, 0, empty, empty, [])
    assert verify_consistency(1, 1, one, one, [])
    for first, second in ((1, 0), (2, 1), (1, 2)):
        assert not verify_consistency(first, second, one, one, [])
    for first, second in ((0, 0), (1, 1)):
        assert not verify_consistency(first, second, empty, empty, [empty])
    for index, size in ((0, 0), (1, 0), (2, 1)):
        assert not verify_inclusion(index, size, one, [], one)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=12), min_size=1, max_size=70), st.data())
def test_any_tree_agrees_with_the_reference(entries: list[bytes], data: st.DataObject) -> None:
    tree = MerkleTree.from_leaves(leaf_hash(e) for e in entries)
    size = data.draw(st.integers(1, len(entries)))
    root = _reference_root(entries[:size])
    assert tree.root(size) == root
    index = data.draw(st.integers(0, size - 1))
    proof = tree.inclusion_proof(index, size)
    assert verify_inclusion(index, size, leaf_hash(entries[index]), proof, root)
    assert len(proof) <= (size - 1).bit_length()
    first = data.draw(st.integers(1, size))
    assert verify_consistency(
        first, size, _reference_root(entries[:first]), root, tree.consistency_proof(first, size)
    )


def test_entries_are_rfc8785_canonical() -> None:
    # RFC 8785 §3.2.3 sorts by UTF-16 code units and writes numbers as ECMAScript does
    assert canonical({"€": 1, "\r": 2, "1": 3.0, "ö": [1e21, 1e-7, -0.0]}) == (
        '{"\\r":2,"1":3,"ö":[1e+21,1e-7,0],"€":1}'.encode()
    )


@settings(max_examples=40, deadline=None)
@given(st.lists(st.binary(max_size=12), min_size=1, max_size=40), st.data())
def test_roots_and_proofs_agree_with_pymerkle(entries: list[bytes], data: st.DataObject) -> None:
    """pymerkle is an independent implementation of the same tree (RFC 9162 hashing with
    domain separation): it computes the same roots, builds the same inclusion paths (it puts
    the leaf hash first and counts leaves from 1) and verifies its proofs against our roots."""
    import pymerkle

    theirs = pymerkle.InmemoryTree(algorithm="sha256")
    for e in entries:
        theirs.append_entry(e)
    ours = MerkleTree.from_leaves(leaf_hash(e) for e in entries)
    size = len(entries)
    assert theirs.get_root(size) == ours.root()
    index = data.draw(st.integers(0, size - 1))
    proof = theirs.prove_inclusion(index + 1, size)
    path = [bytes.fromhex(h) for h in proof.serialize()["path"]]
    assert path[0] == leaf_hash(entries[index]) and path[1:] == ours.inclusion_proof(index, size)
    pymerkle.verify_inclusion(leaf_hash(entries[index]), ours.root(), proof)
    first = data.draw(st.integers(1, size))
    pymerkle.verify_consistency(
        ours.root(first), ours.root(), theirs.prove_consistency(first, size)
    )


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5)
    ),
    max_leaves=25,
)


@settings(max_examples=600, deadline=None)
@given(_json)
def test_canonical_form_agrees_with_the_rfc8785_package(value: object) -> None:
    """Our RFC 8785 serialiser (written for speed) against the reference package, on any
    JSON value: the same bytes, or both refuse (lone surrogates)."""
    import rfc8785

    try:
        expected = bytes(rfc8785.dumps(value))
    except (UnicodeEncodeError, rfc8785.CanonicalizationError):
        with pytest.raises((UnicodeEncodeError, ValueError)):
            canonical(value)
        return
    assert canonical(value) == expected


@pytest.mark.parametrize(
    "number",
    [
        0.1,
        1 / 3,
        5e-324,
        1.7976931348623157e308,
        1e-6,
        1e-7,
        123456789012345680000.0,
        2.0**53,
        4.35,
    ],
)
def test_canonical_numbers_at_the_edges(number: float) -> None:
    import rfc8785

    assert canonical([number, -number]) == bytes(rfc8785.dumps([number, -number]))
