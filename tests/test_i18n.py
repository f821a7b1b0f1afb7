"""The three languages: every text of the code is translated, with the same slots, and the
vocabulary tables have a word for every code."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from truceline import vocabulary
from truceline.i18n import LANGUAGES, language
from truceline.labels import TABLES, label
from truceline.labels import vocabulary as vocabulary_of

REPO = Path(__file__).resolve().parents[1]
LOCALE = REPO / "truceline" / "locale"
SLOT = re.compile(r"\{(\w+)\}")


def _catalog(lang: str):  # type: ignore[no-untyped-def]
    with (LOCALE / lang / "LC_MESSAGES" / "truceline.po").open("rb") as fh:
        return read_po(fh, locale=lang)


def test_the_template_is_up_to_date_with_the_code() -> None:
    res = subprocess.run(
        [sys.executable, str(REPO / "tools" / "i18n.py"), "--check"], capture_output=True, text=True
    )
    assert res.returncode == 0, "run `python tools/i18n.py` and translate the new texts"


@pytest.mark.parametrize("lang", ["uk", "ru"])
def test_every_text_is_translated_with_the_same_slots(lang: str) -> None:
    with (LOCALE / "truceline.pot").open("rb") as fh:
        template = read_po(fh)
    cat = _catalog(lang)
    for msg in template:
        if not msg.id:
            continue
        got = cat.get(msg.id, context=msg.context)
        assert got is not None and not got.fuzzy, msg.id
        ids = msg.id if isinstance(msg.id, tuple) else (msg.id,)
        strings = got.string if isinstance(got.string, tuple) else (got.string,)
        assert all(strings), f"{lang}: {ids[0]!r} is not translated"
        want = set(SLOT.findall(ids[-1]))
        for s in strings:
            assert set(SLOT.findall(s)) == want, (lang, ids[0], s)
        if isinstance(msg.id, tuple):
            assert len(strings) == 3  # Ukrainian and Russian have three plural forms


def test_plurals_dates_and_numbers_follow_each_language() -> None:
    uk, ru = language("uk"), language("ru")
    one, many = "{n} acoustic sensor reported.", "{n} acoustic sensors reported."
    assert [uk.ngettext(one, many, n).format(n=n) for n in (1, 3, 5, 11, 21)] == [
        "Дані надіслав 1 акустичний датчик.",
        "Дані надіслали 3 акустичні датчики.",
        "Дані надіслали 5 акустичних датчиків.",
        "Дані надіслали 11 акустичних датчиків.",
        "Дані надіслав 21 акустичний датчик.",
    ]
    assert ru.ngettext(one, many, 2).format(n=2) == "Данные передали 2 акустических датчика."
    # a narrow no-break space before the abbreviation of "year", as CLDR has it
    assert (uk.date("2026-03-01"), ru.date("2026-03-01")) == (
        "1 березня 2026\u202fр.",
        "1 марта 2026\u202fг.",
    )
    assert language("en").number(1234.5, 1) == "1,234.5"
    assert ru.number(1234.5, 1) == "1\u00a0234,5"  # a no-break space groups the thousands
    with pytest.raises(ValueError):
        language("de")


def test_every_code_of_every_vocabulary_has_a_word_in_every_language() -> None:
    closed = {
        "weapon": vocabulary.WEAPON_CLASSES,
        "kind": vocabulary.INCIDENT_KINDS,
        "status": vocabulary.INCIDENT_STATUSES,
        "source": vocabulary.OBSERVATION_TYPES,
        "air_type": vocabulary.AIR_TYPES,
    }
    for table, codes in closed.items():
        assert set(codes) <= set(TABLES[table]), table
    en, uk = language("en"), language("uk")
    for code in LANGUAGES:
        words = vocabulary_of(language(code))
        assert set(words) == set(TABLES)
        assert all(w and "_" not in w for t in words.values() for w in t.values())
    assert label("weapon", "mlrs_heavy", en) == "heavy multiple rocket launcher"
    assert label("weapon", "mlrs_heavy", uk) == "важка РСЗВ"
    assert (
        label("compass", "SSW", uk) == "ПдПдЗх" and label("compass", "SSW", language("ru")) == "ЮЮЗ"
    )
