"""The ceasefire agreement as code: parties, control areas, the line of contact, clause rules.

An :class:`Agreement` is read from ``agreement.yaml`` (FORMATS.md §1) and the GeoJSON layers
it names. Every geometric question (who holds this point? how far from the line is it?) is
answered in the agreement's :class:`~truceline.geo.LocalFrame`, in metres.

Errors name the file, the line and the field (``agreement.yaml:14: clauses[1].rule.within_km:
...``) or, for GeoJSON, the feature index (``control.geojson:feature 3: geometry: ...``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import yaml
from numpy.typing import ArrayLike, NDArray

from ._geojson import read_lines, read_polygons
from ._time import parse_time
from .errors import AgreementError
from .geo import LocalFrame, frame_for_bounds
from .vocabulary import AIR_TYPES, WEAPON_CLASSES
from .yamltext import YamlLoader, YamlReader, lines_of

__all__ = ["Agreement", "Clause", "Party", "Rule", "agreement_geojson", "load_agreement"]

RULE_KINDS = ("fire", "presence", "crossing", "air")
SHARED_BORDER_TOLERANCE_M = 50.0


@dataclass(frozen=True)
class Party:
    id: str
    name: str
    names: dict[str, str] = field(default_factory=dict)  # the name in other languages

    def name_in(self, lang: str) -> str:
        """The party's name in ``lang`` where the agreement gives one, else its ``name``."""
        return self.names.get(lang, self.name)


@dataclass(frozen=True)
class Rule:
    """A clause's machine-readable rule.

    - ``fire``: any fire incident (of ``classes`` if given) is a violation.
    - ``presence``: equipment of ``classes`` on its owner's side within ``within_km`` of the
      line, or inside ``area``.
    - ``crossing``: armed presence (of ``classes`` if given) on the far side of the line.
    - ``air``: strikes by ``drone`` or ``aircraft`` (or ``classes`` if given); with
      ``over_line: true``, any flight of one over the line of contact from its own side;
      with ``air_types``, only by air objects of those types (e.g. reconnaissance
      overflights: ``air_types: [reconnaissance_drone]``).
    """

    kind: str
    classes: tuple[str, ...] | None = None
    within_km: float | None = None
    area: shapely.Geometry | None = None  # lon/lat
    area_local: shapely.Geometry | None = None  # metres, in the agreement's frame
    over_line: bool = False  # an ``air`` rule: crossing the line is the violation
    air_types: tuple[str, ...] | None = None  # an ``air`` rule: only these types

    def applies_to_weapon(self, weapon: str) -> bool:
        if self.classes is None:
            return self.kind != "air" or weapon in ("drone", "aircraft")
        return weapon in self.classes


@dataclass(frozen=True)
class Clause:
    id: str
    text: str
    rule: Rule
    texts: dict[str, str] = field(default_factory=dict)  # the text in other languages

    def text_in(self, lang: str) -> str:
        """The clause's text in ``lang`` where the agreement gives one, else its ``text``."""
        return self.texts.get(lang, self.text)


@dataclass(frozen=True)
class Agreement:
    """A loaded, validated agreement. Geometry is kept both in lon/lat and in the local frame."""

    id: str
    title: str
    effective_from_us: int
    parties: tuple[Party, ...]
    control: dict[str, shapely.Geometry]  # party id -> (Multi)Polygon, lon/lat
    line: shapely.Geometry  # (Multi)LineString, lon/lat
    clauses: tuple[Clause, ...]
    frame: LocalFrame
    path: str = ""
    control_local: dict[str, shapely.Geometry] = field(default_factory=dict, repr=False)
    #: the evidence log's Ed25519 public key as the mission publishes it (base64 of the raw
    #: 32 bytes; optional ``log_key``): what `truceline log verify` and the witnesses pin
    log_key: str | None = None
    line_local: shapely.Geometry = field(default=None, repr=False)
    #: how well the line of contact is known, 1 sigma across it in metres (optional
    #: ``line_of_contact_sigma_m``: a front map's age and resolution; 0, the line as signed)
    line_sigma_m: float = 0.0

    @property
    def party_ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.parties)

    def owner_index(self, x: ArrayLike, y: ArrayLike) -> NDArray[np.int64]:
        """Index into :attr:`parties` of the control area holding each point (metres); -1 if none.

        >>> from truceline.simulate.scenario import demo_agreement
        >>> ag = demo_agreement()
        >>> ag.owner_index([0.0, 0.0, 0.0], [40_000.0, -40_000.0, 900_000.0]).tolist()
        [0, 1, -1]
        """
        xa, ya = np.asarray(x, float), np.asarray(y, float)
        out = np.full(xa.shape, -1, dtype=np.int64)
        for i, party in enumerate(self.parties):
            inside = shapely.contains_xy(self.control_local[party.id], xa, ya)
            out[(out < 0) & inside] = i
        return out

    def distance_to_line_m(self, x: ArrayLike, y: ArrayLike) -> NDArray[np.float64]:
        """Distance in metres from each point (local frame) to the line of contact."""
        pts = shapely.points(np.asarray(x, float), np.asarray(y, float))
        return np.asarray(shapely.distance(pts, self.line_local), dtype=float)

    def signed_distance_m(self, x: ArrayLike, y: ArrayLike, party: str) -> NDArray[np.float64]:
        """Distance to the line, positive on ``party``'s side and negative elsewhere."""
        xa, ya = np.asarray(x, float), np.asarray(y, float)
        d = self.distance_to_line_m(xa, ya)
        inside = shapely.contains_xy(self.control_local[party], xa, ya)
        return np.where(inside, d, -d)

    def to_local(
        self, lon: ArrayLike, lat: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        return self.frame.forward(lon, lat)

    def to_lonlat(
        self, x: ArrayLike, y: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        return self.frame.inverse(x, y)


def load_agreement(path: str | Path) -> Agreement:
    """Read and validate ``agreement.yaml`` and the GeoJSON files it refers to."""
    path = Path(path)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AgreementError(file, None, None, f"cannot read: {exc.strerror}") from None
    try:
        node = yaml.compose(text, Loader=YamlLoader)
        doc = yaml.load(text, Loader=YamlLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise AgreementError(
            file, line, None, f"not valid YAML: {getattr(exc, 'problem', exc)}"
        ) from None
    if not isinstance(doc, dict) or node is None:
        raise AgreementError(file, 1, None, "expected a YAML mapping at the top level")
    r = YamlReader(file, lines_of(node))

    ident = r.get(doc, "", "id", str)
    title = r.get(doc, "", "title", str, required=False) or ident
    log_key = r.get(doc, "", "log_key", str, required=False)
    if log_key is not None and not _is_public_key(log_key):
        raise r.error("log_key", "expected the base64 of a raw 32-byte Ed25519 public key")
    eff = r.get(doc, "", "effective_from", str)
    try:
        effective = parse_time(eff)
    except ValueError as exc:
        raise r.error("effective_from", str(exc)) from None

    parties = _parties(r, doc)
    ids = tuple(p.id for p in parties)

    base = path.parent
    control_file = base / r.get(doc, "", "control_areas", str)
    control = _control_areas(control_file, ids)
    lons, lats = [], []
    for geom in control.values():
        minx, miny, maxx, maxy = shapely.bounds(geom)
        lons += [minx, maxx]
        lats += [miny, maxy]
    frame = frame_for_bounds(min(lons), min(lats), max(lons), max(lats))
    control_local = {k: frame.to_local(g) for k, g in control.items()}
    _check_overlap(str(control_file), control_local)

    line_name = r.get(doc, "", "line_of_contact", str, required=False)
    if line_name:
        line = read_lines(base / line_name)
        line_local = frame.to_local(line)
    else:
        line_local = _shared_border(control_local, str(control_file))
        line = frame.to_lonlat(line_local)

    line_sigma = r.get(doc, "", "line_of_contact_sigma_m", (int, float), required=False)
    if line_sigma is not None and not 0 <= line_sigma <= 10_000:
        raise r.error("line_of_contact_sigma_m", f"{line_sigma} is not in [0, 10000] metres")

    clauses = _clauses(r, doc, base, frame)

    return Agreement(
        id=ident,
        title=title,
        effective_from_us=effective,
        parties=parties,
        control=control,
        line=line,
        clauses=clauses,
        frame=frame,
        path=file,
        control_local=control_local,
        line_local=line_local,
        log_key=log_key,
        line_sigma_m=float(line_sigma or 0.0),
    )


def _is_public_key(text: str) -> bool:
    import base64
    import binascii

    try:
        return len(base64.b64decode(text.encode("ascii"), validate=True)) == 32
    except (binascii.Error, UnicodeEncodeError):
        return False


def _parties(r: YamlReader, doc: dict[str, Any]) -> tuple[Party, ...]:
    parties: list[Party] = []
    for i, p in enumerate(r.get(doc, "", "parties", list)):
        if not isinstance(p, dict):
            raise r.error(f"parties[{i}]", "expected a mapping {id, name}")
        pid = r.get(p, f"parties[{i}]", "id", str)
        if pid in {q.id for q in parties}:
            raise r.error(f"parties[{i}].id", f"party {pid!r} is declared twice")
        name = r.get(p, f"parties[{i}]", "name", str, required=False) or pid
        parties.append(Party(pid, name, _languages(r, p, f"parties[{i}]", "names")))
    if len(parties) < 2:
        raise r.error("parties", "an agreement needs at least two parties")
    return tuple(parties)


def _languages(r: YamlReader, obj: dict[str, Any], where: str, key: str) -> dict[str, str]:
    """An optional ``{language: text}`` mapping (a party's ``names``, a clause's ``texts``):
    the agreement as signed in other languages."""
    raw = r.get(obj, where, key, dict, required=False) or {}
    for lang, text in raw.items():
        if not isinstance(lang, str) or not isinstance(text, str) or not text.strip():
            raise r.error(f"{where}.{key}.{lang}", "expected a language code and its text")
    return dict(raw)


def _clauses(
    r: YamlReader, doc: dict[str, Any], base: Path, frame: LocalFrame
) -> tuple[Clause, ...]:
    clauses: list[Clause] = []
    for i, c in enumerate(r.get(doc, "", "clauses", list)):
        where = f"clauses[{i}]"
        if not isinstance(c, dict):
            raise r.error(where, "expected a mapping {id, text, rule}")
        cid = str(r.get(c, where, "id", (str, int)))
        if cid in {k.id for k in clauses}:
            raise r.error(f"{where}.id", f"clause {cid!r} is declared twice")
        ctext = r.get(c, where, "text", str, required=False) or ""
        rule = _rule(r, r.get(c, where, "rule", dict), f"{where}.rule", base, frame)
        clauses.append(Clause(cid, ctext, rule, _languages(r, c, where, "texts")))
    if not clauses:
        raise r.error("clauses", "an agreement needs at least one clause")
    return tuple(clauses)


def _rule(r: YamlReader, raw: dict[str, Any], where: str, base: Path, frame: LocalFrame) -> Rule:
    kind = r.get(raw, where, "kind", str)
    if kind not in RULE_KINDS:
        raise r.error(f"{where}.kind", f"{kind!r} is not one of {', '.join(RULE_KINDS)}")
    classes_raw = r.get(raw, where, "classes", list, required=False)
    classes: tuple[str, ...] | None = None
    if classes_raw is not None:
        for j, c in enumerate(classes_raw):
            if c not in WEAPON_CLASSES:
                raise r.error(f"{where}.classes[{j}]", f"{c!r} is not a weapon class of FORMATS.md")
        classes = tuple(classes_raw)
    within = r.get(raw, where, "within_km", (int, float), required=False)
    if within is not None and not 0 < within <= 1000:
        raise r.error(f"{where}.within_km", f"{within} is not in (0, 1000]")
    area_name = r.get(raw, where, "area", str, required=False)
    area = area_local = None
    if area_name:
        area = shapely.union_all(list(read_polygons(base / area_name).values()))
        area_local = frame.to_local(area)
    over_line = r.get(raw, where, "over_line", bool, required=False)
    if over_line and kind != "air":
        raise r.error(f"{where}.over_line", "only an air rule forbids crossing the line")
    if kind == "presence":
        if classes is None:
            raise r.error(f"{where}.classes", "a presence rule needs the classes it restricts")
        if within is None and area is None:
            raise r.error(where, "a presence rule needs within_km or area")
    air_types = _air_types(r, raw, where, kind)
    within_f = float(within) if within is not None else None
    return Rule(kind, classes, within_f, area, area_local, bool(over_line), air_types)


def _air_types(r: YamlReader, raw: dict[str, Any], where: str, kind: str) -> tuple[str, ...] | None:
    listed = r.get(raw, where, "air_types", list, required=False)
    if listed is None:
        return None
    if kind != "air":
        raise r.error(f"{where}.air_types", "only an air rule names the types of air objects")
    if not listed:
        raise r.error(f"{where}.air_types", "an empty list forbids nothing: leave it out")
    for j, t in enumerate(listed):
        if t not in AIR_TYPES:
            raise r.error(f"{where}.air_types[{j}]", f"{t!r} is not one of {', '.join(AIR_TYPES)}")
    return tuple(listed)


def _control_areas(path: Path, parties: Sequence[str]) -> dict[str, shapely.Geometry]:
    features = read_polygons(path, key="party")
    for party in features:
        if party not in parties:
            raise AgreementError(
                str(path),
                None,
                "properties.party",
                f"unknown party {party!r} (the agreement declares {', '.join(parties)})",
            )
    missing = [p for p in parties if p not in features]
    if missing:
        raise AgreementError(
            str(path), None, "properties.party", f"no control area for {missing[0]!r}"
        )
    return {p: features[p] for p in parties}


def _check_overlap(file: str, areas: dict[str, shapely.Geometry]) -> None:
    names = list(areas)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            overlap = shapely.area(shapely.intersection(areas[a], areas[b]))
            small = min(shapely.area(areas[a]), shapely.area(areas[b]))
            if overlap > 1e-4 * small:
                raise AgreementError(
                    file,
                    None,
                    "geometry",
                    f"control areas of {a} and {b} overlap by {overlap / 1e6:.1f} km²",
                )


def _shared_border(areas: dict[str, shapely.Geometry], file: str) -> shapely.Geometry:
    """The line of contact as the shared border of the control areas (metres).

    Where the areas share vertices exactly, the intersection of their boundaries is the
    border; otherwise the part of one boundary within ``SHARED_BORDER_TOLERANCE_M`` of the
    other area is taken.
    """
    names = list(areas)
    parts = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            ba, bb = shapely.boundary(areas[a]), shapely.boundary(areas[b])
            exact = shapely.line_merge(shapely.intersection(ba, bb))
            if shapely.length(exact) > 0:
                parts.append(exact)
            else:
                parts.append(
                    shapely.intersection(ba, shapely.buffer(areas[b], SHARED_BORDER_TOLERANCE_M))
                )
    border = shapely.line_merge(shapely.union_all(parts))
    if shapely.is_empty(border) or shapely.length(border) == 0:
        raise AgreementError(
            file,
            None,
            "geometry",
            "the control areas share no border: give line_of_contact in the agreement",
        )
    return border


def agreement_files(path: Path) -> dict[str, str]:
    """The agreement YAML and every file it refers to, as name → text (names relative to the
    YAML's folder): what the evidence log keeps so a run can be reproduced from the log.

    >>> import tempfile
    >>> from truceline.simulate import build_scenario
    >>> from truceline.simulate.scenario import write_agreement
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     files = agreement_files(write_agreement(build_scenario(1), Path(tmp), "2026-03-01T00:00:00Z"))
    >>> sorted(files)
    ['agreement.yaml', 'control.geojson', 'disengagement.geojson']
    """
    text = path.read_text(encoding="utf-8")
    doc = yaml.safe_load(text) or {}
    names = [doc.get("control_areas"), doc.get("line_of_contact")]
    names += [
        (c.get("rule") or {}).get("area") for c in doc.get("clauses") or [] if isinstance(c, dict)
    ]
    files = {path.name: text}
    for name in names:
        if isinstance(name, str) and name not in files:
            files[name] = (path.parent / name).read_text(encoding="utf-8")
    return files


def agreement_yaml_name(files: dict[str, str]) -> str:
    """Which of an agreement's files (as :func:`agreement_files` gives them) is the YAML."""
    return next(n for n in sorted(files) if n.endswith((".yaml", ".yml")))


def agreement_from_files(files: dict[str, str]) -> Agreement:
    """Load an agreement kept as name → text (as the evidence log keeps it): the files are
    written to a temporary folder, in their relative layout, and loaded from there."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for name, text in files.items():
            target = Path(tmp) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        return load_agreement(Path(tmp) / agreement_yaml_name(files))


def agreement_geojson(ag: Agreement) -> dict[str, Any]:
    """The agreement as a map draws it: parties, clauses, and GeoJSON FeatureCollections of
    the control areas, the line of contact and the clauses' zones, in lon/lat.

    >>> from truceline.simulate.scenario import demo_agreement
    >>> doc = agreement_geojson(demo_agreement())
    >>> [f["properties"]["party"] for f in doc["control"]["features"]]
    ['N', 'S']
    >>> doc["line"]["features"][0]["geometry"]["type"] in ("LineString", "MultiLineString")
    True
    >>> sorted({f["properties"]["clause"] for f in doc["zones"]["features"]})
    ['C5']
    """
    import shapely.geometry

    from ._time import format_time

    def feature(geom: Any, **props: Any) -> dict[str, Any]:
        return {"type": "Feature", "geometry": shapely.geometry.mapping(geom), "properties": props}

    def collection(features: list[dict[str, Any]]) -> dict[str, Any]:
        return {"type": "FeatureCollection", "features": features}

    names = {p.id: p.name for p in ag.parties}
    return {
        "id": ag.id,
        "title": ag.title,
        "log_key": ag.log_key,
        "effective_from": format_time(ag.effective_from_us),
        "parties": [{"id": p.id, "name": p.name} for p in ag.parties],
        "clauses": [
            {
                "id": c.id,
                "text": c.text,
                "kind": c.rule.kind,
                "classes": list(c.rule.classes) if c.rule.classes else None,
                "within_km": c.rule.within_km,
                "area": c.rule.area is not None,
            }
            for c in ag.clauses
        ],
        "control": collection(
            [feature(g, party=pid, name=names.get(pid, pid)) for pid, g in ag.control.items()]
        ),
        "line": collection([feature(ag.line, name="line of contact")]),
        "zones": collection(
            [
                feature(c.rule.area, clause=c.id, text=c.text)
                for c in ag.clauses
                if c.rule.area is not None
            ]
        ),
    }
