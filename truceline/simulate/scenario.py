"""The simulated theatre: a wavy line of contact between two parties, withdrawal zones, the
agreement's clauses, and where the sensors, observation posts and disengagement areas stand.

Everything is built in a local metric frame (x east, y north, metres) and written out in
lon/lat. Nothing here is specific to any real front: the centre is a parameter.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import yaml
from numpy.typing import NDArray

from ..agreement import Agreement, load_agreement
from ..geo import LocalFrame

__all__ = ["Scenario", "build_scenario", "demo_agreement", "write_agreement"]

FloatArray = NDArray[np.float64]


@dataclass
class Scenario:
    """Geometry of a simulated front (metres in ``frame``)."""

    frame: LocalFrame
    parties: tuple[str, str]  # (north, south)
    names: tuple[str, str]
    half_length_m: float
    depth_m: float
    line_x: FloatArray
    line_y: FloatArray
    disengagement: list[shapely.Polygon]
    sensors: dict[str, Any] = field(default_factory=dict)
    posts: dict[str, Any] = field(default_factory=dict)

    def line_at(self, x: FloatArray | float) -> FloatArray:
        """y of the line of contact at x (metres)."""
        return np.asarray(np.interp(np.asarray(x, float), self.line_x, self.line_y), float)

    def control_polygons(self) -> dict[str, shapely.Polygon]:
        """Control areas (metres): north party above the line, south party below."""
        line = np.column_stack([self.line_x, self.line_y])
        h, d = self.half_length_m, self.depth_m
        north = shapely.Polygon(np.vstack([line, [[h, d], [-h, d]]]))
        south = shapely.Polygon(np.vstack([line, [[h, -d], [-h, -d]]]))
        return {self.parties[0]: north, self.parties[1]: south}


def build_scenario(
    seed: int = 1,
    lon0: float = 36.0,
    lat0: float = 48.0,
    length_km: float = 300.0,
    depth_km: float = 150.0,
    sensor_spacing_km: float = 6.0,
    posts: int | None = None,
) -> Scenario:
    """A front of ``length_km`` with sensors in rows on both sides and observation posts
    (``posts``; by default one per 30 km of front)."""
    rng = np.random.default_rng([seed, 0])
    half = length_km * 500.0
    x = np.linspace(-half, half, int(length_km * 2) + 1)
    phases = rng.uniform(0, 2 * np.pi, 3)
    y = (
        8_000 * np.sin(2 * np.pi * x / 90_000 + phases[0])
        + 4_000 * np.sin(2 * np.pi * x / 37_000 + phases[1])
        + 1_500 * np.sin(2 * np.pi * x / 13_000 + phases[2])
    )
    y -= y.mean()
    sc = Scenario(
        frame=LocalFrame(lon0, lat0),
        parties=("N", "S"),
        names=("Northern Party", "Southern Party"),
        half_length_m=half,
        depth_m=depth_km * 1000.0,
        line_x=x,
        line_y=np.round(y, 1),
        disengagement=[],
    )
    # Disengagement areas: three on the default 300 km sector, one per 100 km on longer fronts.
    n_zones = max(3, round(length_km / 100.0))
    centres = (-0.6, 0.0, 0.55) if n_zones == 3 else np.linspace(-0.85, 0.85, n_zones)
    for cx in (float(c) * half for c in centres):
        cy = float(sc.line_at(cx))
        sc.disengagement.append(shapely.box(cx - 6_000, cy - 4_000, cx + 6_000, cy + 4_000))

    # Acoustic sensors: three rows on each side of the line, jittered, and a sparser fourth
    # row in depth (28 km) so that launches from behind the heavy-weapon withdrawal lines can
    # be heard too: withdrawal is verified where the weapons would stand, not at the line.
    spacing = sensor_spacing_km * 1000.0
    xs: list[FloatArray] = []
    ys: list[FloatArray] = []
    sides: list[int] = []
    names: list[str] = []
    for side, sign in ((0, 1.0), (1, -1.0)):
        for row, (offset, every) in enumerate(
            ((3_000.0, 1.0), (9_000.0, 1.0), (16_000.0, 1.0), (28_000.0, 1.5))
        ):
            step = spacing * every
            cols = np.arange(-half + step / 2 + (row % 2) * step / 2, half, step)
            jitter = rng.normal(0, 500.0, (2, cols.size))
            sx = cols + jitter[0]
            sy = sc.line_at(sx) + sign * (offset + jitter[1])
            xs.append(sx)
            ys.append(sy)
            sides += [side] * cols.size
            start = len(names)
            names += [f"AS-{sc.parties[side]}{row + 1}-{start + k:04d}" for k in range(cols.size)]
    n = len(names)
    sc.sensors = {
        "id": np.array(names),
        "x": np.concatenate(xs),
        "y": np.concatenate(ys),
        "z": np.round(rng.uniform(80.0, 260.0, n), 1),
        "side": np.array(sides),
        "sigma_s": np.round(rng.choice([0.01, 0.02, 0.03], n, p=[0.3, 0.5, 0.2]), 3),
        "temp_offset": rng.normal(0.0, 1.0, n),
    }
    # Observation posts of the monitoring mission, alternating sides, 2-5 km from the line.
    n_posts = max(1, round(length_km / 30.0)) if posts is None else posts
    px = np.linspace(-0.85 * half, 0.85 * half, n_posts)
    pside = np.arange(n_posts) % 2
    py = sc.line_at(px) + np.where(pside == 0, 1.0, -1.0) * rng.uniform(2_000, 5_000, n_posts)
    sc.posts = {"id": np.array([f"OP-{i + 1:02d}" for i in range(n_posts)]), "x": px, "y": py}
    return sc


def _feature_collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def _rounded(geom: shapely.Geometry) -> dict[str, Any]:
    return dict(json.loads(shapely.to_geojson(shapely.set_precision(geom, 1e-7))))


def write_agreement(sc: Scenario, out: Path, effective_from: str) -> Path:
    """Write ``agreement.yaml``, ``control.geojson`` and ``disengagement.geojson``."""
    out.mkdir(parents=True, exist_ok=True)
    control = [
        {
            "type": "Feature",
            "properties": {"party": party, "name": name},
            "geometry": _rounded(sc.frame.to_lonlat(poly)),
        }
        for (party, poly), name in zip(sc.control_polygons().items(), sc.names, strict=True)
    ]
    (out / "control.geojson").write_text(json.dumps(_feature_collection(control)) + "\n")
    zones = [
        {
            "type": "Feature",
            "properties": {"name": f"Disengagement area {i + 1}"},
            "geometry": _rounded(sc.frame.to_lonlat(p)),
        }
        for i, p in enumerate(sc.disengagement)
    ]
    (out / "disengagement.geojson").write_text(json.dumps(_feature_collection(zones)) + "\n")
    doc = {
        "id": "simulated-front",
        "title": "Ceasefire along the line of contact (simulated)",
        "effective_from": effective_from,
        "parties": [{"id": p, "name": n} for p, n in zip(sc.parties, sc.names, strict=True)],
        "control_areas": "control.geojson",
        "clauses": [
            {"id": "C1", "text": "All firing of weapons ceases.", "rule": {"kind": "fire"}},
            {
                "id": "C2",
                "text": "Artillery of 100 mm and above is withdrawn at least 25 km from the line.",
                "rule": {"kind": "presence", "classes": ["artillery_ge100"], "within_km": 25},
            },
            {
                "id": "C3",
                "text": "MLRS are withdrawn at least 35 km from the line.",
                "rule": {"kind": "presence", "classes": ["mlrs"], "within_km": 35},
            },
            {
                "id": "C4",
                "text": "Heavy MLRS are withdrawn at least 70 km from the line.",
                "rule": {"kind": "presence", "classes": ["mlrs_heavy"], "within_km": 70},
            },
            {
                "id": "C5",
                "text": "No armed presence inside the disengagement areas.",
                "rule": {
                    "kind": "presence",
                    "classes": ["troops", "tank", "apc"],
                    "area": "disengagement.geojson",
                },
            },
            {
                "id": "C6",
                "text": "No armed presence on the far side of the line of contact.",
                "rule": {"kind": "crossing"},
            },
            {
                "id": "C7",
                "text": "No strikes by drones or aircraft.",
                "rule": {"kind": "air"},
            },
            {
                "id": "C8",
                "text": "No drone or aircraft flies over the line of contact.",
                "rule": {"kind": "air", "over_line": True},
            },
        ],
    }
    path = out / "agreement.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    return path


def demo_agreement(seed: int = 1) -> Agreement:
    """The simulated agreement, loaded (for examples and tests)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write_agreement(build_scenario(seed), Path(tmp), "2026-03-01T00:00:00Z")
        return load_agreement(path)
