"""Reading a day's observations from a Parquet set against reading them from the store.

    python benchmarks/parquet_set.py prepare --dir D [--size 1e5]   # the day, its store, its set
    python benchmarks/parquet_set.py read --dir D --source store|set|set-dask

``prepare`` makes the day of ``benchmarks/scale.py`` (its ``make_day``: a 1,400 km front of
10,000 sensors, other observations at about 10 % of the acoustic count), ingests it into the
SQLite store ``D/store.db`` and writes its Parquet set ``D/set`` (``truceline ingest
--parquet``), timing each step and printing the sizes on disk. ``read`` is one reading, in
this process, of every observation as an analysis run reads them: from the store's evidence
log (``Store.logged_observations``), or from the set after it was checked against the log
(``truceline.store.parquet_set.read_observations``), in this process or by a local Dask
cluster of two workers. Time ``read`` pairwise with ``farm-bench``::

    farm-bench -n 5 --vs "python benchmarks/parquet_set.py read --dir D --source store" -- \\
        python benchmarks/parquet_set.py read --dir D --source set

(The figures and the command lines used are in ``benchmarks/README.md``, *Parquet set*.)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from scale import make_day  # the same day as the scale benchmark


def _size_mb(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6


def prepare(root: Path, size: float) -> None:
    root.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    counts = make_day(root / "day", size, seed=1)
    t1 = time.monotonic()
    day = root / "day"
    cli = [sys.executable, "-m", "truceline"]
    subprocess.run([*cli, "ingest", "--db", str(root / "store.db"), str(day / "observations.jsonl")],
                   check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    t2 = time.monotonic()
    subprocess.run(
        [*cli, "ingest", "--db", str(root / "store.db"), "--agreement", str(day / "agreement.yaml"),
         "--parquet", str(root / "set"), str(day / "observations.jsonl")],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    t3 = time.monotonic()
    files = len(list((root / "set" / "observations").rglob("*.parquet")))
    print(f"observations {sum(counts.values())} ({counts}); simulated in {t1 - t0:.0f} s")
    print(f"ingest into the store: {t2 - t1:.1f} s; the set written (a re-ingest, all "
          f"duplicates, then the append): {t3 - t2:.1f} s, {files} files")  # fmt: skip
    print(f"on disk: store {_size_mb(root / 'store.db'):.1f} MB (with the log), "
          f"set {_size_mb(root / 'set'):.1f} MB, the day's JSONL "
          f"{_size_mb(day / 'observations.jsonl'):.1f} MB")  # fmt: skip


def read(root: Path, source: str) -> None:
    from truceline.store.sqlite import SqliteStore

    db = root / "store.db"
    with SqliteStore(db, Path(f"{db}.key")) as store:
        if source == "store":
            n = len(list(store.logged_observations()))
        elif source == "set":
            from truceline.store.parquet_set import read_observations

            n = len(read_observations(store, root / "set")[0])
        else:
            from truceline.cluster import dask_map
            from truceline.store.parquet_set import read_observations

            with dask_map(workers=2) as run:
                n = len(read_observations(store, root / "set", run)[0])
    print(f"{source}: {n} observations")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("step", choices=["prepare", "read"])
    ap.add_argument("--dir", type=Path, required=True)
    ap.add_argument("--size", type=float, default=1e5, help="acoustic detections of the day")
    ap.add_argument("--source", choices=["store", "set", "set-dask"], default="store")
    a = ap.parse_args()
    if a.step == "prepare":
        prepare(a.dir, a.size)
    else:
        read(a.dir, a.source)


if __name__ == "__main__":
    main()
