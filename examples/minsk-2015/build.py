"""Write the Minsk agreement's control areas and line of contact (control.geojson,
line.geojson) beside agreement.yaml, from the real data beside the repository.

    python examples/minsk-2015/build.py [--data ../shared/data] [--export FILE] [--out DIR]

The area held since 2014 is the "ОРДЛО" polygon of a DeepState export of 2022 (the first,
3 April 2022, by default), read by Truceline's legend (truceline/frontmap/legend.yaml);
Ukraine's territory is the union of the 27 oblasts. ORDLO's control area is that polygon,
closed and clipped to Ukraine; Ukraine's is the rest of Ukraine less Crimea (and less islets under 1 km²); the line of
contact is ORDLO's edge against the rest of Ukraine, less the state border
(truceline.frontmap.held_since_2014). Nothing here is copied: the files are derived each time.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

import shapely

from truceline.frontmap import Territory, held_since_2014, read_border, read_snapshot

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("TRUCELINE_DATA", HERE.parents[1].parent / "shared" / "data"))


def _geometry(geom: shapely.Geometry) -> dict[str, Any]:
    """GeoJSON of a geometry rounded to 1e-6 degree (0.1 m) and made valid again."""
    rounded = shapely.make_valid(shapely.set_precision(geom, 1e-6))
    parts = [p for p in shapely.get_parts(rounded) if p.geom_type in ("Polygon", "LineString")]
    return dict(json.loads(shapely.to_geojson(shapely.union_all(parts))))


def build(data: Path, export: Path | None, out: Path) -> dict[str, float]:
    exports = sorted((data / "deepstate_raw_2022").glob("*.geojson"))
    source = export or exports[0]
    terr = Territory.of(
        read_border(data / "ukraine_oblasts/ukraine_oblasts_minregion_2020.geojson")
    )
    held = held_since_2014(read_snapshot(source), terr)
    ordlo, crimea, line = held["ordlo"], held["crimea"], held["line"]
    ukraine = shapely.difference(shapely.difference(terr.area, ordlo), shapely.buffer(crimea, 1.0))
    # islets under 1 km² (hundreds, in the deltas and lagoons) are no part of the backtest
    ukraine = shapely.union_all([p for p in shapely.get_parts(ukraine) if p.area >= 1e6])
    lonlat = terr.frame.to_lonlat
    note = f"derived from {source.name} and the oblasts of Ukraine by examples/minsk-2015/build.py"
    control = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "party": "UA",
                    "name": "Ukraine, less ORDLO and Crimea",
                    "note": note,
                },
                "geometry": _geometry(lonlat(ukraine)),
            },
            {
                "type": "Feature",
                "properties": {
                    "party": "ORDLO",
                    "name": "Certain areas of Donetsk and Luhansk regions",
                    "note": note,
                },
                "geometry": _geometry(lonlat(ordlo)),
            },
        ],
    }
    contact = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "name": "line of contact 2015-2022 (the edge of ORDLO)",
                    "note": note,
                },
                "geometry": _geometry(shapely.line_merge(lonlat(line))),
            }
        ],
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "control.geojson").write_text(json.dumps(control) + "\n", encoding="utf-8")
    (out / "line.geojson").write_text(json.dumps(contact) + "\n", encoding="utf-8")
    return {
        "ordlo_km2": terr.km2(ordlo),
        "ukraine_km2": terr.km2(ukraine),
        "line_km": terr.km(line),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--export", type=Path, default=None, help="the DeepState export to read")
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args()
    figures = build(args.data, args.export, args.out)
    print(
        f"wrote {args.out / 'control.geojson'} and {args.out / 'line.geojson'}: ORDLO "
        f"{figures['ordlo_km2']:,.0f} km², Ukraine's control area {figures['ukraine_km2']:,.0f} km², "
        f"line of contact {figures['line_km']:,.0f} km"
    )


if __name__ == "__main__":
    main()
