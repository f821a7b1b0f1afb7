"""The tables of docs/backtest-minsk.md, from a run of `truceline analyze` on UCDP GED
against the Minsk agreement.

    python examples/minsk-2015/tables.py --incidents RUN/incidents.geojson \
        --agreement examples/minsk-2015/agreement.yaml --ged GED.csv [--through 2019-12-31]

Every figure is computed from the run's incidents (what Truceline judged) and the GED rows
they come from (for GED's own oblast, precision and deaths); printed as Markdown.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from truceline._time import format_time, parse_time
from truceline.agreement import Agreement, load_agreement
from truceline.incidents import read_incidents
from truceline.sources import read_source

BANDS = ((0, 5), (5, 10), (10, 25), (25, 50), (50, 100), (100, 10_000))
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _cell(v: Any) -> str:
    return f"{v:,}" if isinstance(v, int) and not 1900 < v < 2100 else str(v)


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def judged(incidents: Path, ged: Path, ag: Agreement, through: str) -> list[dict[str, Any]]:
    """The incidents of the agreement's period, each with its GED row's fields."""
    rows = {o.ref: o.raw for o in read_source(ged).observations}
    end = parse_time(f"{through}T23:59:59Z")
    out = []
    for props in read_incidents(incidents):
        t = parse_time(props["time_start"])
        if not ag.effective_from_us <= t <= end:
            continue
        [ref] = props["observations"]
        out.append(props | {"ged": rows[ref], "t": t})
    return out


def by_month(events: list[dict[str, Any]], clause: str) -> str:
    counts: Counter[tuple[int, int]] = Counter()
    deaths: Counter[tuple[int, int]] = Counter()
    for e in events:
        if clause in e["violations"]:
            day = format_time(e["t"])
            key = (int(day[:4]), int(day[5:7]))
            counts[key] += 1
            deaths[key] += int(e["ged"].get("fatalities", 0))
    years = sorted({y for y, _ in counts} | {y for y, _ in deaths})
    rows = [
        [
            y,
            *(
                f"{counts[(y, m)]} ({deaths[(y, m)]})" if counts[(y, m)] else "0"
                for m in range(1, 13)
            ),
            sum(counts[(y, m)] for m in range(1, 13)),
        ]
        for y in years
    ]
    return _table(["year", *MONTHS, "events"], rows)


def by_oblast(events: list[dict[str, Any]], clause: str) -> str:
    counts: Counter[str] = Counter()
    deaths: Counter[str] = Counter()
    for e in events:
        if clause in e["violations"]:
            name = e["ged"].get("adm_1") or "(none given: a wider area)"
            counts[name] += 1
            deaths[name] += int(e["ged"].get("fatalities", 0))
    rows = [[n, c, deaths[n]] for n, c in counts.most_common()]
    return _table(["oblast (GED adm_1)", "events", "deaths (GED best)"], rows)


def by_distance(events: list[dict[str, Any]], clause: str, ag: Agreement) -> str:
    placed = [
        e for e in events if clause in e["violations"] and e["ged"]["where_prec"] in ("1", "2")
    ]
    lon = np.array([e["impact"][0] for e in placed])
    lat = np.array([e["impact"][1] for e in placed])
    x, y = ag.to_local(lon, lat)
    km = ag.distance_to_line_m(x, y) / 1000.0
    owner = ag.owner_index(x, y)
    names = [*ag.party_ids, "neither (Crimea, Russia, sea)"]
    rows = []
    for lo, hi in BANDS:
        sel = (km >= lo) & (km < hi)
        label = f"{lo}-{hi} km" if hi < 10_000 else f"≥ {lo} km"
        rows.append(
            [
                label,
                *(int((sel & (owner == k)).sum()) for k in range(len(ag.parties))),
                int((sel & (owner < 0)).sum()),
                int(sel.sum()),
            ]
        )
    vague = sum(
        1 for e in events if clause in e["violations"] and e["ged"]["where_prec"] not in ("1", "2")
    )
    table = _table(
        ["distance from the line", *(f"in {n}'s area" for n in names[:-1]), names[-1], "events"],
        rows,
    )
    return (
        table
        + f"\n\nNot placed (GED where_prec 3-7: a raion, an oblast or wider): {vague:,} events."
    )


def precision(events: list[dict[str, Any]]) -> str:
    where = Counter(e["ged"]["where_prec"] for e in events)
    when = Counter(e["ged"]["date_prec"] for e in events)
    radius = {e["ged"]["where_prec"]: e["ged"]["radius_km"] for e in events}
    rows = [[f"where_prec {k}", where[k], f"{radius[k]:g} km"] for k in sorted(where)]
    rows += [[f"date_prec {k}", when[k], ""] for k in sorted(when)]
    return _table(["GED precision", "events", "radius"], rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--incidents", type=Path, required=True)
    ap.add_argument("--agreement", type=Path, required=True)
    ap.add_argument("--ged", type=Path, required=True)
    ap.add_argument("--through", default="2019-12-31")
    args = ap.parse_args()
    ag = load_agreement(args.agreement)
    events = judged(args.incidents, args.ged, ag, args.through)
    clause = ag.clauses[0].id
    firm = sum(1 for e in events if e["violations"] and e["confidence"] >= 0.5)
    conf = Counter(round(e["confidence"], 4) for e in events)
    print(
        f"## {len(events):,} GED events from {format_time(ag.effective_from_us)} to {args.through}\n"
    )
    print(f"- kinds: {dict(Counter(e['kind'] for e in events))}")
    print(
        f"- breaching {clause}: {sum(1 for e in events if clause in e['violations']):,}; "
        f"counted as violations (confidence ≥ 0.5): {firm}"
    )
    print(f"- confidence: {dict(sorted(conf.items(), reverse=True))}")
    print(
        f"- attributed: {sum(1 for e in events if e['attributed_to'])}; deaths (GED best): "
        f"{sum(int(e['ged'].get('fatalities', 0)) for e in events):,}\n"
    )
    print(f"### By month ({clause}; events, deaths in brackets)\n\n{by_month(events, clause)}\n")
    print(f"### By oblast ({clause})\n\n{by_oblast(events, clause)}\n")
    print(
        f"### By distance from the line ({clause}; events placed within 25 km)\n\n"
        f"{by_distance(events, clause, ag)}\n"
    )
    print(f"### Location and date precision\n\n{precision(events)}")


if __name__ == "__main__":
    main()
