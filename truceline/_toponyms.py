"""Ukrainian and Russian names of places, from GeoNames' untagged alternate names.

GeoNames' ``cities500`` dump gives each place its English name and a list of alternate
names with no language: Pokrovsk has ``Красноармейск, Красноармійськ, Покровск, Покровськ``
(former and current, Russian and Ukrainian). :func:`pick_names` chooses:

1. the place's *own* language among Ukrainian and Russian: the first of them in its
   country's language list (GeoNames' ``languages``), else the one whose spelling rules
   reproduce the English name best;
2. in that language, the Cyrillic name whose romanisation is closest to the English name
   (GeoNames' English names are romanisations of the current official name), preferring
   spellings only that language has (``ськ``, ``і``, ``є`` for Ukrainian; ``ы``, ``э``,
   ``ё`` for Russian);
3. in the other language, the name closest to that one with the other's spelling, or the
   same name where GeoNames gives no other.

A heuristic: it is right for most places and wrong for some (Kharkiv's list holds the
Bulgarian ``Харков`` beside the Russian ``Харьков``). A reviewed table,
``truceline/data/toponyms.csv`` (``geonameid,en,uk,ru``), overrides it; add a row when a
report names a place wrongly.

>>> pick_names(0, "Pokrovsk", ["Красноармейск", "Красноармійськ", "Покровск", "Покровськ"],
...            ["uk", "ru-UA"])
{'en': 'Pokrovsk', 'uk': 'Покровськ', 'ru': 'Покровск'}
>>> pick_names(0, "Belgorod", ["Белгород", "Бєлгород"], ["ru", "tt"])
{'en': 'Belgorod', 'uk': 'Бєлгород', 'ru': 'Белгород'}
>>> pick_names(0, "Paris", [], ["fr"])
{'en': 'Paris', 'uk': 'Paris', 'ru': 'Paris'}
"""

from __future__ import annotations

import csv
import difflib
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from importlib import resources

__all__ = ["corrections", "is_cyrillic", "pick_names"]

_CYRILLIC = re.compile(r"^[\u0400-\u04FF\u02BC'’ .\-]+$")
_HAS_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
_COMMON = set("абвгдежзийклмнопрстуфхцчшщьюя -.")
ALPHABET = {"uk": _COMMON | set("іїєґʼ’'"), "ru": _COMMON | set("ыэъё")}
MARKS = {"uk": re.compile(r"[іїєґʼ’']|[сцз]ьк"), "ru": re.compile(r"[ыэъё]|ое$|ый$")}
_ROMAN = {
    "uk": dict(
        zip(
            "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя'’ʼ",
            [
                "a",
                "b",
                "v",
                "h",
                "g",
                "d",
                "e",
                "ie",
                "zh",
                "z",
                "y",
                "i",
                "i",
                "i",
                "k",
                "l",
                "m",
                "n",
                "o",
                "p",
                "r",
                "s",
                "t",
                "u",
                "f",
                "kh",
                "ts",
                "ch",
                "sh",
                "shch",
                "_",
                "iu",
                "ia",
                "_",
                "_",
                "_",
            ],
            strict=True,
        )
    ),
    "ru": dict(
        zip(
            "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
            [
                "a",
                "b",
                "v",
                "g",
                "d",
                "e",
                "e",
                "zh",
                "z",
                "i",
                "y",
                "k",
                "l",
                "m",
                "n",
                "o",
                "p",
                "r",
                "s",
                "t",
                "u",
                "f",
                "kh",
                "ts",
                "ch",
                "sh",
                "shch",
                "_",
                "y",
                "_",
                "e",
                "yu",
                "ya",
            ],
            strict=True,
        )
    ),
}
ADMIN_WORDS = (
    "район",
    "област",
    "округ",
)  # "Вознесенський район" names the district, not the place
FLOOR = 0.6  # below this similarity a name is not taken for the place's
SAME = 0.25  # the other language's name is taken the same only if no other is nearly as like


def is_cyrillic(name: str) -> bool:
    """Whether a name is written in Cyrillic (letters, spaces, hyphens, apostrophes).

    >>> is_cyrillic("Покровськ"), is_cyrillic("Pokrovsk"), is_cyrillic("Нью-Йорк")
    (True, False, True)
    """
    return bool(_CYRILLIC.match(name) and _HAS_CYRILLIC.search(name))


def _romanise(name: str, lang: str) -> str:
    table = _ROMAN[lang]
    return "".join(table.get(ch, ch) for ch in name.lower()).replace("_", "")


def _similar(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


def _best(candidates: Sequence[str], score: Callable[[str], float], lang: str) -> str | None:
    """The best-scoring candidate at or above FLOOR; ties go to the language's own spelling."""
    ranked = sorted(
        ((score(c), bool(MARKS[lang].search(c.lower())), c) for c in candidates), reverse=True
    )
    return ranked[0][2] if ranked and ranked[0][0] >= FLOOR else None


def _spelled(names: Sequence[str], lang: str) -> list[str]:
    """The names written in the language's alphabet (not Belarusian ў or Serbian ј, ...)."""
    return [
        n
        for n in names
        if set(n.lower()) <= ALPHABET[lang] and not any(w in n.lower() for w in ADMIN_WORDS)
    ]


@lru_cache(maxsize=1)
def corrections() -> dict[int, dict[str, str]]:
    """The reviewed names (geonameid → {en, uk, ru}) of ``truceline/data/toponyms.csv``."""
    text = (resources.files("truceline") / "data" / "toponyms.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return {int(r["geonameid"]): {k: r[k] for k in ("en", "uk", "ru") if r.get(k)} for r in rows}


_TOWARDS = {
    # rough spelling correspondences, only to rank the other language's names by likeness
    "ru": (("ськ", "ск"), ("цьк", "цк"), ("зьк", "зк"), ("і", "и"), ("ї", "и"), ("є", "е"),
           ("'", ""), ("’", ""), ("ʼ", "")),
    "uk": (("ы", "и"), ("э", "е"), ("ё", "е"), ("ъ", ""), ("ск", "ськ"), ("цк", "цьк")),
}  # fmt: skip
_ENDINGS = {
    "ru": ((re.compile(r"(ов|ев|ин)е$"), r"\1о"), (re.compile(r"([бвгджзклмнпрстфхцчшщ])е$"), r"\1ое")),
    "uk": ((re.compile(r"(ов|ев|ин)о$"), r"\1е"), (re.compile(r"([бвгджзклмнпрстфхцчшщ])ое$"), r"\1е")),
}  # fmt: skip


def _towards(name: str, lang: str) -> str:
    """``name`` spelled roughly as ``lang`` would (Покровськ → покровск, Курахове → курахово)."""
    out = name.lower()
    for a, b in _TOWARDS[lang]:
        out = out.replace(a, b)
    for pattern, repl in _ENDINGS[lang]:
        out = " ".join(pattern.sub(repl, word) for word in out.split(" "))
    return out


def pick_names(
    geonameid: int, en: str, alternates: Sequence[str], country_languages: Sequence[str]
) -> dict[str, str]:
    """The place's name in English, Ukrainian and Russian (see the module's notes)."""
    cyrillic = [a for a in alternates if is_cyrillic(a)]
    key = en.lower().replace("'", "").replace("’", "")
    best: dict[str, str | None] = {}
    for lang in ("uk", "ru"):

        def like(c: str, g: str = lang) -> float:
            return _similar(key, _romanise(c, g))

        best[lang] = _best(_spelled(cyrillic, lang), like, lang)
    spoken = [lang.split("-")[0] for lang in country_languages]
    own = next((g for g in spoken if g in ("uk", "ru")), None)
    if own is None:
        scores = {g: _similar(key, _romanise(best[g] or "", g)) if best[g] else 0.0 for g in best}
        own = max(scores, key=lambda g: scores[g])
    other = "ru" if own == "uk" else "uk"
    mine, theirs = best[own], None
    if mine is not None:
        spelled = _towards(mine, other)
        theirs = _best(
            _spelled(cyrillic, other),
            lambda c: _similar(spelled, c.lower()) - (SAME if c == mine else 0.0),
            other,
        )
    names = {own: mine or en, other: theirs or mine or en}
    return {"en": en, "uk": names["uk"], "ru": names["ru"]} | corrections().get(geonameid, {})
