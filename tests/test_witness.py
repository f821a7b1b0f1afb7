"""Checkpoints, signed notes and cosignatures (C2SP), and the witnesses: known-answer tests
from golang.org/x/mod/sumdb/note and transparency-dev/formats, the witness's refusals, and
the fork test: the operator shows two histories from one prefix, and each witness catches
it."""

from __future__ import annotations

import base64
import json
import shutil
import struct
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from truceline.cli import app as cli
from truceline.errors import WitnessError
from truceline.evidence import (
    Checkpoint,
    MerkleTree,
    NoteError,
    WitnessState,
    checkpoint_note,
    log_vkey,
    newest_cosigned,
    public_bytes,
    split_note,
    verify_note,
    witness_cosign,
    witness_vkey,
)
from truceline.evidence.checkpoint import ED25519, parse_vkey, sign_note
from truceline.observations import parse_lines
from truceline.store.sqlite import SqliteStore

# golang.org/x/mod/sumdb/note note_test.go
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfq"
    "dngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGw"
    "nWLox33WWd1RvMc+QQ=\n"
)


def test_signed_notes_match_the_go_known_answers() -> None:
    raw = base64.b64decode(GO_SKEY.split("+", 4)[4])
    key = Ed25519PrivateKey.from_private_bytes(raw[1:])
    assert str(parse_vkey(GO_VKEY)) == GO_VKEY
    line = sign_note(GO_TEXT, "PeterNeumann", key)
    assert line.key_id.hex() == "c74f20a3" and line.render() == PETER_SIG  # byte for byte
    note = GO_TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert verify_note(note, [GO_VKEY]).signers == {"PeterNeumann": None}  # Enoch unknown
    assert verify_note(note, [GO_VKEY, ENOCH_VKEY]).signers == {
        "PeterNeumann": None,
        "EnochRoot": None,
    }
    with pytest.raises(NoteError):
        verify_note(note, [])
    bad = GO_TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(NoteError, match="does not verify"):
        verify_note(bad, [GO_VKEY])
    for malformed in (GO_TEXT, GO_TEXT + "\n", "\x01" + GO_TEXT + "\n" + PETER_SIG):
        with pytest.raises(NoteError):
            verify_note(malformed, [GO_VKEY])


def test_vkeys_and_cosignature_layout_of_the_specifications() -> None:
    # transparency-dev/formats: a native cosignature/v1 (0x04) vkey and an Ed25519 one
    assert (
        parse_vkey("remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2").sig_type
        == 4
    )
    assert (
        parse_vkey("TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6").sig_type == ED25519
    )
    with pytest.raises(NoteError):
        parse_vkey("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
    # C2SP tlog-cosignature's example: key ID, u64 time 1679315147, 64-byte signature
    raw = base64.b64decode(
        "jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA=="
    )
    assert len(raw) == 76 and struct.unpack(">Q", raw[4:12])[0] == 1679315147
    body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    cp = Checkpoint.parse(body)
    assert (cp.origin, cp.size, cp.body()) == ("example.com/behind-the-sofa", 20852163, body)
    for bad in ("o\n01\n" + body.split("\n")[2] + "\n", "o\n1\nAAAA\n", "o\n\n"):
        with pytest.raises(NoteError):
            Checkpoint.parse(bad)


def _tree(prefix: str, n: int) -> MerkleTree:
    return MerkleTree.from_leaves(bytes([hash((prefix, i)) % 256]) * 32 for i in range(n))


def test_a_witness_refuses_rollbacks_forks_and_strangers() -> None:
    log, wkey = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    tree = MerkleTree.from_leaves(bytes([i]) * 32 for i in range(20))
    state = WitnessState.new(public_bytes(log.public_key()))
    state, line = witness_cosign(state, checkpoint_note(log, 5, tree.root(5)), [], "w", wkey, 100)
    note = checkpoint_note(log, 5, tree.root(5)) + line
    assert verify_note(note, [witness_vkey("w", wkey)], now_s=100).signers == {"w": 100}
    state, _ = witness_cosign(
        state,
        checkpoint_note(log, 12, tree.root(12)),
        tree.consistency_proof(5, 12),
        "w",
        wkey,
        101,
    )
    assert (state.size, state.root) == (12, tree.root(12))
    refusals = {
        "older": (checkpoint_note(log, 9, tree.root(9)), []),
        "same size, other root": (checkpoint_note(log, 12, tree.root(11)), []),
        "no proof": (checkpoint_note(log, 15, tree.root(15)), []),
        "another key": (checkpoint_note(Ed25519PrivateKey.generate(), 15, tree.root(15)), []),
    }
    for what, (cp, proof) in refusals.items():
        with pytest.raises(WitnessError):
            witness_cosign(state, cp, proof, "w", wkey, 102)
        assert what  # the state is unchanged by a refusal (it is a value)
    assert WitnessState.from_dict(json.loads(json.dumps(state.as_dict()))) == state


def _store_with(path: Path, key: Path, records: list[dict[str, Any]]) -> SqliteStore:
    store = SqliteStore(path, key)
    store.add_observations(parse_lines([json.dumps(r) for r in records], "x.jsonl"))
    return store


def _thermal(n: int, tag: str) -> dict[str, Any]:
    return {
        "id": f"{tag}{n}",
        "type": "thermal",
        "source": "firms",
        "time": "2026-03-01T00:00:00Z",
        "position": [36.0 + n / 1000, 48.0],
    }


def test_the_operator_forks_the_log_and_each_witness_catches_it(tmp_path: Path) -> None:
    """One prefix, then two histories under the same key: the operator shows history A to
    witness N and history B to witness S (a split view), then tries to show each the other
    one, and to roll one back. Each witness refuses, no head past the prefix gets a quorum,
    and the two cosigned heads together prove the fork."""
    key = tmp_path / "log.key"
    prefix = _store_with(tmp_path / "a.db", key, [_thermal(k, "p") for k in range(5)])
    prefix.close()
    shutil.copy(tmp_path / "a.db", tmp_path / "b.db")
    a = _store_with(tmp_path / "a.db", key, [_thermal(k, "a") for k in range(3)])
    b = _store_with(tmp_path / "b.db", key, [_thermal(k, "b") for k in range(3)])
    assert a.log_size() == b.log_size() and a.tree().root() != b.tree().root()
    log_key = a.log_public_key()
    assert log_key == b.log_public_key()
    first = min(h.tree_size for h in a.tree_heads())
    witnesses = {n: Ed25519PrivateKey.generate() for n in ("party-N", "party-S", "FR")}
    states = {n: WitnessState.new(log_key) for n in witnesses}
    notes: list[str] = []

    def cosign(name: str, store: SqliteStore, size: int) -> str:
        note = store.checkpoint(size)
        proof = store.tree().consistency_proof(states[name].size, size) if states[name].size else []
        states[name], line = witness_cosign(states[name], note, proof, name, witnesses[name], 1000)
        notes.append(note + line)
        return line

    for name in witnesses:  # everybody cosigns the common prefix
        cosign(name, a, first)
    size = a.log_size()
    cosign("party-N", a, size)  # N is shown history A,
    cosign("party-S", b, size)  # S is shown history B
    # each witness catches the other history: the same size with another root ...
    with pytest.raises(WitnessError, match="FORK"):
        cosign("party-N", b, size)
    with pytest.raises(WitnessError, match="FORK"):
        cosign("party-S", a, size)
    # ... a rollback to the prefix ...
    with pytest.raises(WitnessError, match="older"):
        witness_cosign(
            states["party-N"], a.checkpoint(first), [], "party-N", witnesses["party-N"], 1
        )
    # ... and a longer history B that does not extend what N cosigned
    b.add_observations(parse_lines([json.dumps(_thermal(9, "b"))], "y.jsonl"))
    longer = b.log_size()
    with pytest.raises(WitnessError, match="FORK"):
        proof = b.tree().consistency_proof(size, longer)
        witness_cosign(
            states["party-N"], b.checkpoint(longer), proof, "party-N", witnesses["party-N"], 2
        )
    # FR, shown history A later, cosigns it: A has a quorum of two, B never does
    cosign("FR", a, size)
    vkeys = [witness_vkey(n, k) for n, k in witnesses.items()]
    only_b = [n for n in notes if Checkpoint.parse(split_note(n)[0]).root == b.tree().root(size)]
    assert newest_cosigned(only_b, log_key, vkeys, quorum=2) is None
    # the cosigned heads of both histories, put side by side, are a proof of the fork
    with pytest.raises(WitnessError, match="FORK"):
        newest_cosigned(notes, log_key, vkeys, quorum=1)
    a.close()
    b.close()


def test_the_service_keeps_cosignatures_and_cites_the_quorum(tmp_path: Path) -> None:
    """Witnesses run `truceline witness` against the checkpoint files; the store keeps
    their cosignatures, and the newest head two registered witnesses cosigned is cited."""
    runner = CliRunner()
    key = tmp_path / "log.key"
    store = _store_with(tmp_path / "t.db", key, [_thermal(k, "t") for k in range(4)])
    log_b64 = base64.b64encode(store.log_public_key()).decode()
    vkeys = {}
    for name in ("party-N", "FR"):
        res = runner.invoke(
            cli,
            [
                "witness",
                "init",
                "--dir",
                str(tmp_path / name),
                "--name",
                name,
                "--log-key",
                log_b64,
            ],
        )
        assert res.exit_code == 0, res.output
        vkeys[name] = res.output.strip().split()[-1]
        store.register_witness(vkeys[name])
    cp = tmp_path / "cp.txt"
    cp.write_text(store.checkpoint())
    for name in vkeys:
        res = runner.invoke(
            cli, ["witness", "cosign", "--dir", str(tmp_path / name), "--checkpoint", str(cp)]
        )
        assert res.exit_code == 0, res.output
        assert store.add_cosignatures(res.stdout, now_s=2e9) == [name]
    head = store.cosigned_heads(quorum=2, now_s=2e9)
    assert head is not None and sorted(head.cosigners) == ["FR", "party-N"]
    assert head.size == store.latest_head().tree_size  # type: ignore[union-attr]
    (tmp_path / "cosigned.txt").write_text(head.note)
    args = ["witness", "verify", str(tmp_path / "cosigned.txt"), "--log-key", log_b64]
    res = runner.invoke(cli, [*args, *[f"--witness={v}" for v in vkeys.values()]])
    assert res.exit_code == 0 and "cosigned by FR, party-N" in " ".join(res.output.split())
    # an unknown witness's or a forged cosignature is not kept
    stranger = Ed25519PrivateKey.generate()
    with pytest.raises(WitnessError):
        store.add_cosignatures(checkpoint_note(stranger, 3, bytes(32)), now_s=2e9)
    assert log_vkey(store.log_public_key()).startswith("truceline/")
    store.close()
