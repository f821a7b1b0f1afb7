"""The legend of a front map: which side each polygon is, by its label first and its colour
only where the label names no side (the format is documented in ``legend.yaml``, the
default legend shipped with the package).

>>> legend = default_legend()
>>> legend.classify({"name": "Окупований Крим /// Occupied Crimea", "fill": "#880e4f"}, "2022-08-08")
Match(cls='occupied', tag='crimea', how='label')
>>> legend.classify({"name": "Contensed", "fill": "#123456"}, "2022-08-08").cls
'contested'
>>> legend.classify({"name": "Багатокутник 47", "fill": "#0288d1"}, "2022-04-17").how
'colour'
>>> legend.classify({"name": "", "fill": "#880e4f"}, "2022-05-01")
Match(cls='outside', tag='transnistria', how='colour override 2022-02-24..2022-07-31')
>>> legend.classify({"name": "Нова мітка", "fill": "#ff00ff"}, "2022-08-08") is None
True
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ..errors import InputError

__all__ = ["CLASSES", "Legend", "Match", "default_legend", "load_legend", "normalise"]

CLASSES = ("occupied", "contested", "held", "outside")
ENCLAVE_CLASSES = ("contested", "occupied", "held")
_COLOUR = re.compile(r"^#[0-9a-f]{6}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def normalise(label: object) -> str:
    """A label as the rules see it: NFKC, no-break spaces as spaces, white space collapsed.

    >>> normalise("Звільнено\\xa016.03 ///\\nLiberated ")
    'Звільнено 16.03 /// Liberated'
    """
    text = unicodedata.normalize("NFKC", str(label or "")).replace("\xa0", " ")
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class Match:
    """The side a polygon is given: its class, the rule's tag, and how it was decided."""

    cls: str
    tag: str
    how: str


@dataclass(frozen=True)
class _Rule:
    tag: str
    cls: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class _Override:
    cls: str
    tag: str
    colours: frozenset[str]
    start: str
    end: str


@dataclass(frozen=True)
class Legend:
    """A loaded, checked legend (see ``legend.yaml`` for the meaning of each field)."""

    label_property: str
    colour_property: str
    rules: tuple[_Rule, ...]
    colours: dict[str, str]  # colour -> class
    overrides: tuple[_Override, ...]
    without_properties: str | None
    unmatched: str
    enclaves: str
    ignore_geometry: frozenset[str]
    source: str = ""

    def colour_of(self, props: dict[str, Any]) -> str:
        """The fill colour (lower case), from the colour property or else the style URL."""
        value = str(props.get(self.colour_property) or "").strip().lower()
        if not value:
            style = str(props.get("styleUrl") or "")
            m = re.match(r"#poly-([0-9A-Fa-f]{6})", style)
            value = f"#{m.group(1).lower()}" if m else ""
        return value

    def classify(self, props: dict[str, Any] | None, date: str) -> Match | None:
        """The side of a polygon with these properties on ``date`` (YYYY-MM-DD), or None
        when no rule matches."""
        if not props:
            if self.without_properties is None:
                return None
            return Match(self.without_properties, self.without_properties, "no properties")
        label = normalise(props.get(self.label_property)).casefold()
        for rule in self.rules:
            if rule.pattern.search(label):
                return Match(rule.cls, rule.tag, "label")
        colour = self.colour_of(props)
        for ov in self.overrides:
            if colour in ov.colours and ov.start <= date <= ov.end:
                return Match(ov.cls, ov.tag, f"colour override {ov.start}..{ov.end}")
        if any(colour in ov.colours for ov in self.overrides):
            return None  # a colour whose meaning is known only for other periods
        cls = self.colours.get(colour)
        return Match(cls, cls, "colour") if cls else None


class _Lines:
    """Field paths of the YAML and their lines, for errors naming file, line and field."""

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.lines: dict[str, int] = {}
        try:
            node = yaml.compose(text)
        except yaml.YAMLError:
            node = None
        if node is not None:
            self._walk(node, "")

    def _walk(self, node: yaml.Node, path: str) -> None:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                self._walk(value, f"{path}.{key.value}" if path else str(key.value))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._walk(item, f"{path}[{i}]")

    def error(self, path: str, message: str) -> InputError:
        probe = path
        while probe and probe not in self.lines:
            probe = probe.rsplit(".", 1)[0] if "." in probe else ""
        return InputError(self.file, self.lines.get(probe), path or None, message)


def _choice(doc: dict[str, Any], key: str, allowed: tuple[str, ...], r: _Lines) -> str:
    value = doc.get(key)
    if value not in allowed:
        raise r.error(key, f"{value!r} is not one of {', '.join(allowed)}")
    return str(value)


def _rules(doc: dict[str, Any], r: _Lines) -> tuple[_Rule, ...]:
    rules = []
    for i, raw in enumerate(doc.get("labels") or []):
        where = f"labels[{i}]"
        if not isinstance(raw, dict):
            raise r.error(where, "expected a mapping {tag, class, pattern}")
        cls = raw.get("class")
        if cls not in CLASSES:
            raise r.error(f"{where}.class", f"{cls!r} is not one of {', '.join(CLASSES)}")
        try:
            pattern = re.compile(str(raw.get("pattern") or ""), re.IGNORECASE)
        except re.error as exc:
            raise r.error(f"{where}.pattern", f"not a regular expression: {exc}") from None
        if not pattern.pattern:
            raise r.error(f"{where}.pattern", "required field is missing")
        rules.append(_Rule(str(raw.get("tag") or cls), str(cls), pattern))
    return tuple(rules)


def _colour_list(value: Any, where: str, r: _Lines) -> list[str]:
    if not isinstance(value, list) or not value:
        raise r.error(where, "expected a list of colours such as ['#a52714']")
    out = []
    for j, c in enumerate(value):
        colour = str(c).strip().lower()
        if not _COLOUR.match(colour):
            raise r.error(f"{where}[{j}]", f"{c!r} is not a colour #rrggbb")
        out.append(colour)
    return out


def _colours(doc: dict[str, Any], r: _Lines) -> dict[str, str]:
    colours: dict[str, str] = {}
    raw = doc.get("colours") or {}
    if not isinstance(raw, dict):
        raise r.error("colours", "expected a mapping class -> list of colours")
    for cls, values in raw.items():
        if cls not in CLASSES:
            raise r.error(f"colours.{cls}", f"{cls!r} is not one of {', '.join(CLASSES)}")
        for colour in _colour_list(values, f"colours.{cls}", r):
            if colours.get(colour, cls) != cls:
                raise r.error(f"colours.{cls}", f"{colour} is also {colours[colour]}")
            colours[colour] = str(cls)
    return colours


def _overrides(doc: dict[str, Any], r: _Lines) -> tuple[_Override, ...]:
    out = []
    for i, raw in enumerate(doc.get("colour_overrides") or []):
        where = f"colour_overrides[{i}]"
        if not isinstance(raw, dict) or raw.get("class") not in CLASSES:
            raise r.error(f"{where}.class", f"expected one of {', '.join(CLASSES)}")
        dates = [str(raw.get(k, "")) for k in ("from", "to")]
        for key, value in zip(("from", "to"), dates, strict=True):
            if not _DATE.match(value):
                raise r.error(f"{where}.{key}", f"{value!r} is not a date YYYY-MM-DD")
        if dates[1] < dates[0]:
            raise r.error(f"{where}.to", "is before from")
        cls = str(raw["class"])
        colours = frozenset(_colour_list(raw.get("colours"), f"{where}.colours", r))
        out.append(_Override(cls, str(raw.get("tag") or cls), colours, dates[0], dates[1]))
    return tuple(out)


def load_legend(path: str | Path) -> Legend:
    """Read and check a legend YAML (errors name the file, line and field)."""
    path = Path(path)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
        doc = yaml.safe_load(text)
    except OSError as exc:
        raise InputError(file, None, None, f"cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InputError(file, line, None, f"not valid YAML: {exc}") from None
    r = _Lines(file, text)
    if not isinstance(doc, dict) or doc.get("version") != 1:
        raise r.error("version", "expected a mapping with version: 1")
    without = doc.get("without_properties")
    if without is not None and without not in CLASSES:
        raise r.error("without_properties", f"{without!r} is not one of {', '.join(CLASSES)}")
    return Legend(
        label_property=str(doc.get("label_property") or "name"),
        colour_property=str(doc.get("colour_property") or "fill"),
        rules=_rules(doc, r),
        colours=_colours(doc, r),
        overrides=_overrides(doc, r),
        without_properties=without,
        unmatched=_choice(doc, "unmatched", ("error", "unknown"), r),
        enclaves=_choice(doc, "enclaves", ENCLAVE_CLASSES, r),
        ignore_geometry=frozenset(str(g) for g in doc.get("ignore_geometry") or ()),
        source=file,
    )


def default_legend() -> Legend:
    """The legend shipped with the package (``truceline/frontmap/legend.yaml``)."""
    with resources.as_file(resources.files(__package__) / "legend.yaml") as path:
        return load_legend(path)
