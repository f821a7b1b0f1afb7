"""Words for codes: what the report, the exports and the dashboard write for a weapon class,
an incident's kind and status, an observation type and a compass point, in each language.

One table per closed vocabulary of :mod:`truceline.vocabulary` (a test checks that every code
has a label and every label a translation); :func:`vocabulary` gives them all for one
language, as the dashboard loads them.

>>> from truceline.i18n import language
>>> en, uk, ru = (language(c) for c in ("en", "uk", "ru"))
>>> label("weapon", "artillery_ge100", en), label("weapon", "artillery_ge100", ru)
('artillery of 100 mm and above', 'артиллерия калибра 100 мм и более')
>>> label("weapon", "no_such_class", en)
'no such class'
>>> distance_label(3.24, "SSW", "Pokrovsk", uk)
'3,2 км на ПдПдЗх від н. п. Pokrovsk'
"""

from __future__ import annotations

from typing import Any

from .i18n import N_, Language
from .places import COMPASS, Place

__all__ = [
    "AIR_TYPE_WORDS",
    "COMPASS_WORDS",
    "KINDS",
    "NP_",
    "SOURCES",
    "STATUSES",
    "TABLES",
    "WEAPONS",
    "distance_label",
    "label",
    "place_label",
    "vocabulary",
]

WEAPONS = {
    "small_arms": N_("small arms"),
    "mortar_lt120": N_("mortar under 120 mm"),
    "mortar_ge120": N_("mortar of 120 mm and above"),
    "artillery_lt100": N_("artillery under 100 mm"),
    "artillery_ge100": N_("artillery of 100 mm and above"),
    "tank": N_("tank"),
    "mlrs": N_("multiple rocket launcher"),
    "mlrs_heavy": N_("heavy multiple rocket launcher"),
    "apc": N_("armoured vehicle"),
    "air_defence": N_("air defence"),
    "drone": N_("drone"),
    "aircraft": N_("aircraft"),
    "troops": N_("troops"),
    "unknown": N_("not determined"),
}
AIR_TYPE_WORDS = {
    "fpv": N_("FPV drone"),
    "loitering_munition": N_("loitering munition"),
    "one_way_drone": N_("one-way long-range drone"),
    "reconnaissance_drone": N_("reconnaissance drone"),
    "aircraft": N_("aircraft"),
}
KINDS = {
    "fire": N_("firing"),
    "presence": N_("weapons present"),
    "crossing": N_("crossing of the line"),
    "air": N_("air strike"),
    "unlocated": N_("not located"),
}
STATUSES = {
    "automatic": N_("automatic"),
    "corroborated": N_("corroborated"),
    "verified": N_("verified"),
    "disputed": N_("disputed"),
    "rejected": N_("rejected"),
}
SOURCES = {
    "acoustic": N_("acoustic sensors"),
    "drone_acoustic": N_("drone sound"),
    "patrol": N_("patrols"),
    "radar": N_("radar"),
    "rf": N_("radio detection"),
    "thermal": N_("satellite heat"),
    "uav": N_("UAV imagery"),
    "allegation": N_("allegations"),
    "event_report": N_("event datasets"),
    "met": N_("weather"),
    "status": N_("sensor heartbeats"),
}


def NP_(context: str, message: str) -> str:
    """Mark a text with a context for translation where it is defined."""
    return message


#: the 16 compass points, for "3.2 km SSW of ..." (their translations are each language's
#: own abbreviations: ПдПдЗх, ЮЮЗ)
COMPASS_WORDS = {
    "N": NP_("compass", "N"),
    "NNE": NP_("compass", "NNE"),
    "NE": NP_("compass", "NE"),
    "ENE": NP_("compass", "ENE"),
    "E": NP_("compass", "E"),
    "ESE": NP_("compass", "ESE"),
    "SE": NP_("compass", "SE"),
    "SSE": NP_("compass", "SSE"),
    "S": NP_("compass", "S"),
    "SSW": NP_("compass", "SSW"),
    "SW": NP_("compass", "SW"),
    "WSW": NP_("compass", "WSW"),
    "W": NP_("compass", "W"),
    "WNW": NP_("compass", "WNW"),
    "NW": NP_("compass", "NW"),
    "NNW": NP_("compass", "NNW"),
}
assert tuple(COMPASS_WORDS) == COMPASS
TABLES: dict[str, dict[str, str]] = {
    "weapon": WEAPONS,
    "kind": KINDS,
    "status": STATUSES,
    "source": SOURCES,
    "compass": COMPASS_WORDS,
    "air_type": AIR_TYPE_WORDS,
}


def label(table: str, code: str, lang: Language) -> str:
    """The word for ``code`` in ``table`` (``weapon``, ``kind``, ``status``, ``source``,
    ``compass``, ``air_type``), in ``lang``; an unknown code is shown as itself, in words."""
    words = TABLES[table].get(code)
    if words is None:
        return code.replace("_", " ")
    return lang.pgettext("compass", words) if table == "compass" else lang.gettext(words)


def vocabulary(lang: Language) -> dict[str, Any]:
    """Every table in ``lang``, as ``{table: {code: words}}`` (what the dashboard loads)."""
    return {t: {code: label(t, code, lang) for code in words} for t, words in TABLES.items()}


def distance_label(km: float, compass: str, name: str, lang: Language, digits: int = 1) -> str:
    """ "3.2 km SSW of Pokrovsk", in ``lang`` (in Ukrainian and Russian the name follows
    "н. п.", a populated place, and keeps its own form)."""
    return lang.gettext("{km} km {direction} of {place}").format(
        km=lang.number(km, digits), direction=label("compass", compass, lang), place=name
    )


def place_label(place: Place | None, lang: Language, sigma_m: float | None = None) -> str:
    """Where a located incident is, from its nearest settlement; the distance to 0.1 km for
    a location known to 500 m, to the kilometre up to 5 km, else only "near" (and "near"
    where the distance rounds to nothing)."""
    if place is None:
        return ""
    name = place.name(lang.code)
    if sigma_m is not None and sigma_m > 5_000:
        return lang.gettext("near {place}").format(place=name)
    digits = 0 if sigma_m is not None and sigma_m > 500 else 1
    if round(place.km, digits) == 0:  # never "0 km NNW of X": a bearing at no distance
        return lang.gettext("near {place}").format(place=name)
    return distance_label(place.km, place.compass, name, lang, digits)
