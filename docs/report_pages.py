"""Retake the pictures of the daily report in docs/img/ (English, Ukrainian and Russian).

    python docs/report_pages.py            # needs the [pdf], [plot] and [places] extras and
                                           # pdftoppm (Debian: apt-get install poppler-utils)

Three simulated days (seed 1) are stored and analysed, the agreement carrying its parties'
names and its clauses' texts in Ukrainian and Russian (as an agreement signed in three
languages would); an analyst verifies a few incidents and rejects one; the report of the
third day is rendered as PDF in each language and its first two pages are turned into PNG.
Everything is written to a temporary folder but the pictures.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from typer.testing import CliRunner

from truceline.cli import app
from truceline.store.sqlite import SqliteStore

IMG = Path(__file__).resolve().parent / "img"
NAMES = {
    "N": {"uk": "Північна сторона", "ru": "Северная сторона"},
    "S": {"uk": "Південна сторона", "ru": "Южная сторона"},
}
TEXTS = {
    "C1": ("Будь-яке ведення вогню припиняється.", "Любое ведение огня прекращается."),
    "C2": (
        "Артилерію калібру 100 мм і більше відводять щонайменше на 25 км від лінії.",
        "Артиллерия калибра 100 мм и более отводится не менее чем на 25 км от линии.",
    ),
    "C3": (
        "РСЗВ відводять щонайменше на 35 км від лінії.",
        "РСЗО отводятся не менее чем на 35 км от линии.",
    ),
    "C4": (
        "Важкі РСЗВ відводять щонайменше на 70 км від лінії.",
        "Тяжёлые РСЗО отводятся не менее чем на 70 км от линии.",
    ),
    "C5": (
        "У районах розведення не допускається озброєна присутність.",
        "В районах разведения не допускается вооружённое присутствие.",
    ),
    "C6": (
        "Не допускається озброєна присутність по інший бік лінії зіткнення.",
        "Не допускается вооружённое присутствие по другую сторону линии соприкосновения.",
    ),
    "C7": (
        "Не допускаються удари безпілотниками чи авіацією.",
        "Не допускаются удары беспилотниками или авиацией.",
    ),
}


def _run(*args: str) -> None:
    res = CliRunner().invoke(app, list(args))
    if res.exit_code != 0:
        sys.exit(res.output)


def _translate(agreement: Path) -> None:
    doc = yaml.safe_load(agreement.read_text(encoding="utf-8"))
    for p in doc["parties"]:
        p["names"] = NAMES[p["id"]]
    for c in doc["clauses"]:
        uk, ru = TEXTS[c["id"]]
        c["texts"] = {"uk": uk, "ru": ru}
    agreement.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")


def main() -> None:
    if shutil.which("pdftoppm") is None:
        sys.exit("pdftoppm is needed (Debian: apt-get install poppler-utils)")
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        db = str(t / "t.db")
        _run("simulate", "--out", str(t / "sc"), "--seed", "1", "--hours", "72")
        _translate(t / "sc" / "agreement.yaml")
        _run("ingest", "--db", db, str(t / "sc" / "observations.jsonl"))
        _run(
            "analyze",
            "--db",
            db,
            "--agreement",
            str(t / "sc" / "agreement.yaml"),
            "--out",
            str(t / "an"),
        )
        with SqliteStore(Path(db)) as store:
            day3 = [
                f["properties"]
                for f in store.incidents()
                if f["properties"]["time_start"] >= "2026-03-03"
            ]
            fire = [p for p in day3 if p["kind"] == "fire" and p["violations"]]
            for p in fire[:12]:
                store.set_review(p["id"], "verified", True, "demo-analyst")
            store.set_review(fire[12]["id"], "rejected", False, "demo-analyst")
        _run("report", "--db", db, "--date", "2026-03-03", "--out", str(t / "rep"), "--lang",
             "en,uk,ru", "--format", "pdf")  # fmt: skip
        for lang in ("en", "uk", "ru"):
            name = "report-2026-03-03" + ("" if lang == "en" else f".{lang}") + ".pdf"
            for k in (1, 2):
                stem = IMG / f"report-{lang}-page-{k}"
                subprocess.run(["pdftoppm", "-r", "80", "-png", "-singlefile", "-f", str(k), "-l", str(k),
                                str(t / "rep" / name), str(stem)], check=True)  # fmt: skip
            print(f"wrote {IMG}/report-{lang}-page-1.png and -2.png")


if __name__ == "__main__":
    main()
