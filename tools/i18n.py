"""Extract the texts to translate and update each language's catalogue.

    python tools/i18n.py           # writes truceline/locale/truceline.pot, updates uk and ru
    python tools/i18n.py --check   # exits 1 if the template is not up to date with the code

Texts are found in ``gettext``, ``ngettext`` and ``pgettext`` calls (``lang.gettext(...)``) and
in ``N_``/``NP_`` marks (tables of words); a new text appears in each ``.po`` with an empty
translation, which a translator fills (a test fails while one is empty or marked fuzzy).
"""

from __future__ import annotations

import argparse
import io
import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "truceline" / "locale"
DOMAIN = "truceline"
LANGUAGES = ("uk", "ru")
CREATED = datetime(2026, 12, 1, tzinfo=UTC)  # fixed, so that updating changes only the texts
HEADER = """# Truceline's texts in {language}: the report, the exports' words, the dashboard's vocabulary.
# Edit the msgstr lines; `python tools/i18n.py` adds new texts (with empty translations).
"""
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "NP_": ((1, "c"), 2)}


def template() -> Catalog:
    """Every translatable text of the package, with where it is used."""
    cat = Catalog(
        project="Truceline",
        domain=DOMAIN,
        charset="utf-8",
        version="1",
        msgid_bugs_address="",
        creation_date=CREATED,
    )
    for file, line, message, comments, context in extract_from_dir(
        ROOT / "truceline", [("**.py", "python")], keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)
    ):
        path = f"truceline/{file}"
        cat.add(message, locations=[(path, line)], auto_comments=comments, context=context)
    return cat


def _po_bytes(cat: Catalog) -> bytes:
    buf = io.BytesIO()
    write_po(buf, cat, width=100, omit_header=False, sort_output=False, include_lineno=False)
    return buf.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    pot = template()
    text = _po_bytes(pot)
    target = LOCALE / f"{DOMAIN}.pot"
    if args.check:
        current = target.read_bytes() if target.exists() else b""
        return 0 if current == text else 1
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(text)
    for lang in LANGUAGES:
        po = LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        if po.exists():
            with po.open("rb") as fh:
                cat = read_po(fh, locale=lang, domain=DOMAIN)
            cat.update(pot, no_fuzzy_matching=True, update_header_comment=False)
            cat.obsolete.clear()
        else:
            po.parent.mkdir(parents=True, exist_ok=True)
            cat = Catalog(
                locale=lang,
                domain=DOMAIN,
                project="Truceline",
                charset="utf-8",
                version="1",
                msgid_bugs_address="",
                creation_date=CREATED,
            )
            cat.update(pot, no_fuzzy_matching=True)
        cat.fuzzy = False
        cat.header_comment = HEADER.format(language=lang)
        cat.last_translator = "Truceline translators"
        cat.language_team = f"Truceline ({lang})"
        po.write_bytes(_po_bytes(cat))
        untranslated = sum(
            1
            for m in cat
            if m.id and not (all(m.string) if isinstance(m.string, tuple) else m.string)
        )
        print(f"{po.relative_to(ROOT)}: {len(cat)} texts, {untranslated} to translate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
