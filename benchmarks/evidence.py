"""The evidence log at a million entries: append rate, proof time and size, against pymerkle.

    python benchmarks/evidence.py [--entries 1000000] [--out benchmarks/results/evidence.json]

Entries are canonical observation entries (~260 bytes, like a day of acoustic detections).
Measured in one sitting, side by side with pymerkle 7 (an independent implementation of the
same RFC 9162 tree, in memory and on SQLite):

- append: leaf hashing and tree update in memory, then through the store (SQLite, WAL, in
  batches of 10,000 entries, each batch one transaction under a newly signed tree head);
  RFC 8785 canonicalisation is timed apart (it is paid once, at ingest);
- inclusion and consistency proofs for 1,000 random entries / earlier sizes of the full
  tree: median and 99th percentile; proof size in hashes;
- loading the tree of a store of that size (what `truceline log prove` does first).
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

import pymerkle

from truceline.evidence import MerkleTree, canonical, leaf_hash, root_of, verify_inclusion
from truceline.store.sqlite import SqliteStore


def entries(n: int) -> list[bytes]:
    out = []
    for i in range(n):
        obs = {
            "class": "impact",
            "id": f"AS-N1-{i % 9973:04d}-{i:07d}",
            "position": [36.0 + (i % 1000) * 1e-4, 48.0 + (i % 997) * 1e-4, 120.5],
            "sensor": f"AS-N1-{i % 9973:04d}",
            "sigma_s": 0.02,
            "source": f"AS-N1-{i % 9973:04d}",
            "time": f"2026-03-01T{(i // 3600000) % 24:02d}:{(i // 60000) % 60:02d}:{(i // 1000) % 60:02d}.{i % 1000:03d}000Z",
            "type": "acoustic",
        }
        out.append(canonical({"kind": "observation", "observation": obs}))
    return out


def timed(fn, *args):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    res = fn(*args)
    return time.perf_counter() - t, res


def percentiles(xs: list[float]) -> dict[str, float]:
    xs = sorted(xs)
    return {"median_us": statistics.median(xs) * 1e6, "p99_us": xs[int(len(xs) * 0.99)] * 1e6}


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "evidence.json")
    args = ap.parse_args()
    n = args.entries
    res: dict[str, object] = {"entries": n, "python": platform.python_version()}

    sample = [json.loads(e)["observation"] for e in entries(20_000)]
    dt, _ = timed(lambda: [canonical({"kind": "observation", "observation": o}) for o in sample])
    res["canonicalise_per_s"] = len(sample) / dt
    import rfc8785  # the reference implementation, side by side

    dt_ref, _ = timed(
        lambda: [rfc8785.dumps({"kind": "observation", "observation": o}) for o in sample]
    )
    res["canonicalise_rfc8785_package_per_s"] = len(sample) / dt_ref
    data = entries(n)
    res["entry_bytes_median"] = statistics.median(len(e) for e in data[:10_000])

    def ours() -> MerkleTree:
        tree = MerkleTree()
        for e in data:
            tree.append(leaf_hash(e))
        return tree

    def theirs() -> pymerkle.InmemoryTree:
        tree = pymerkle.InmemoryTree(algorithm="sha256")
        for e in data:
            tree.append_entry(e)
        return tree

    dt_ours, tree = timed(ours)
    dt_theirs, ptree = timed(theirs)
    assert ptree.get_root(n) == tree.root()
    res["append_memory_per_s"] = {"truceline": n / dt_ours, "pymerkle": n / dt_theirs}

    rng = random.Random(1)
    idx = [rng.randrange(n) for _ in range(1000)]
    firsts = [rng.randrange(1, n) for _ in range(1000)]
    t_inc, t_inc_p, t_con, t_con_p, sizes = [], [], [], [], []
    root = tree.root()
    for i in idx:
        dt, proof = timed(tree.inclusion_proof, i, n)
        t_inc.append(dt)
        sizes.append(len(proof))
        assert verify_inclusion(i, n, leaf_hash(data[i]), proof, root)
        dt, _ = timed(ptree.prove_inclusion, i + 1, n)
        t_inc_p.append(dt)
    for m in firsts:
        t_con.append(timed(tree.consistency_proof, m, n)[0])
        t_con_p.append(timed(ptree.prove_consistency, m, n)[0])
    res["inclusion_proof"] = {"truceline": percentiles(t_inc), "pymerkle": percentiles(t_inc_p)}
    res["consistency_proof"] = {"truceline": percentiles(t_con), "pymerkle": percentiles(t_con_p)}
    res["proof_hashes"] = {"min": min(sizes), "max": max(sizes), "bytes_max": 32 * max(sizes)}

    with tempfile.TemporaryDirectory() as tmp:
        batch = 10_000
        with SqliteStore(Path(tmp) / "log.db") as store:
            t = time.perf_counter()
            for k in range(0, n, batch):
                store.append("observation", data[k : k + batch])
            dt_store = time.perf_counter() - t
            # (the store also logs each batch's previous tree head: n + batches - 1 entries)
            size = store.log_size()
            store_root = store.tree().root()
        with SqliteStore(Path(tmp) / "log.db") as store:
            dt_load, loaded = timed(store.tree)
            assert loaded.root() == store_root == root_of(store.entries())
            dt_proof, _ = timed(loaded.inclusion_proof, size // 3, size)
        ptree_sql = pymerkle.SqliteTree(str(Path(tmp) / "pymerkle.db"), algorithm="sha256")
        t = time.perf_counter()
        for k in range(0, n, batch):
            ptree_sql.append_entries(data[k : k + batch])
        dt_store_p = time.perf_counter() - t
        assert ptree_sql.get_root(n) == root
        t_sql_p = [timed(ptree_sql.prove_inclusion, i + 1, n)[0] for i in idx[:100]]
    res["append_store_per_s"] = {"truceline": n / dt_store, "pymerkle_sqlite": n / dt_store_p}
    res["store_tree_load_s"] = dt_load
    res["store_first_proof_after_load_us"] = dt_proof * 1e6
    res["pymerkle_sqlite_inclusion_proof"] = percentiles(t_sql_p)
    print(json.dumps(res, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()
