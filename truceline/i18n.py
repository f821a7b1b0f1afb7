"""The languages Truceline writes in: English, Ukrainian and Russian, as earlier missions
published their reports.

Texts are written in English in the code and translated by gettext catalogues shipped in the
package (``truceline/locale/<lang>/LC_MESSAGES/truceline.po``), compiled in memory when first
used (Babel; a few milliseconds), so there is no build step and no compiled file to fall out
of date. Dates and numbers follow each language's conventions (Unicode CLDR, through Babel):

>>> en, uk, ru = language("en"), language("uk"), language("ru")
>>> en.date("2026-03-08")
'8 March 2026'
>>> uk.date("2026-03-08") == "8 березня 2026\u202fр.", ru.date("2026-03-08") == "8 марта 2026\u202fг."
(True, True)
>>> en.number(12345.678, 1), uk.number(3.25, 2) == "3,25"
('12,345.7', True)
>>> one, many = "{n} acoustic sensor reported.", "{n} acoustic sensors reported."
>>> [uk.ngettext(one, many, n).format(n=n)[-20:] for n in (1, 2, 5)]
['1 акустичний датчик.', '2 акустичні датчики.', 'акустичних датчиків.']

Adding a text: write it in the code as ``lang.gettext("...")`` (or ``N_("...")`` in a table),
run ``python tools/i18n.py`` (extracts the catalogue template and updates each language's
catalogue), and translate the new entries; a test fails while any entry is untranslated.
"""

from __future__ import annotations

import gettext
import io
from dataclasses import dataclass
from datetime import date as _date
from functools import cache
from importlib import resources

__all__ = ["DOMAIN", "LANGUAGES", "N_", "Language", "language"]

LANGUAGES = ("en", "uk", "ru")
DOMAIN = "truceline"
#: the CLDR locale each language's dates and numbers follow (British English, as the OSCE
#: wrote: "8 March 2026")
_LOCALES = {"en": "en_GB", "uk": "uk", "ru": "ru"}


def N_(message: str) -> str:
    """Mark a text for translation where it is defined (a table); translate it where used."""
    return message


@cache
def _translations(code: str) -> gettext.NullTranslations:
    """The language's catalogue, compiled from its ``.po`` file (fuzzy entries left out, as
    ``msgfmt`` does); English is the code's own text."""
    if code == "en":
        return gettext.NullTranslations()
    from babel.messages import mofile, pofile

    po = resources.files("truceline") / "locale" / code / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po.open("rb") as fh:
        catalog = pofile.read_po(fh, locale=code, domain=DOMAIN)
    buf = io.BytesIO()
    mofile.write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


@dataclass(frozen=True)
class Language:
    """One language: its translations and its ways of writing dates and numbers."""

    code: str

    @property
    def locale(self) -> str:
        return _LOCALES[self.code]

    def gettext(self, message: str) -> str:
        return _translations(self.code).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return _translations(self.code).ngettext(singular, plural, n)

    def pgettext(self, context: str, message: str) -> str:
        return _translations(self.code).pgettext(context, message)

    def date(self, day: str) -> str:
        """A YYYY-MM-DD day written out ("8 March 2026")."""
        from babel.dates import format_date

        return str(format_date(_date.fromisoformat(day), "long", locale=self.locale))

    def short_date(self, day: str) -> str:
        """A YYYY-MM-DD day as a chart's axis shows it ("8 Mar")."""
        from babel.dates import format_date

        pattern = "d MMM" if self.code == "en" else "d.MM"
        return str(format_date(_date.fromisoformat(day), pattern, locale=self.locale))

    def number(self, value: float, digits: int = 0) -> str:
        """A number with ``digits`` decimals, grouped and pointed as the language does."""
        from babel.numbers import format_decimal

        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return str(format_decimal(value, pattern, locale=self.locale))

    def percent(self, share: float) -> str:
        """A share as a whole percentage ("12 %" in Ukrainian and Russian, "12%" in English)."""
        from babel.numbers import format_percent

        return str(format_percent(share, locale=self.locale))


def language(code: str) -> Language:
    """The language of a code (``en``, ``uk``, ``ru``); ValueError for any other."""
    if code not in LANGUAGES:
        raise ValueError(f"{code!r} is not one of {', '.join(LANGUAGES)}")
    return Language(code)
