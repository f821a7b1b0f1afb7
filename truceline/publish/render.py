"""The daily report rendered: HTML, Markdown and PDF (WeasyPrint, the ``[pdf]`` extra) in
English, Ukrainian or Russian, with the figures and the machine-readable JSON beside them.

Files: ``report-DATE.html`` (``.md``, ``.pdf``) in English and ``report-DATE.uk.html`` and so
on in the other languages; ``report-DATE.json`` holds the figures, whatever the language.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .._extras import require
from ..i18n import Language, language
from .document import Block, document
from .report import DailyReport
from .tables import Table

__all__ = [
    "render_html",
    "render_markdown",
    "render_pdf",
    "report_name",
    "write_report",
    "write_reports",
]

CSS = """
body { font-family: "DejaVu Sans", sans-serif; font-size: 9.5pt; color: #111; margin: 0; }
h1 { font-size: 15pt; margin: 0 0 0.2em; } h2 { font-size: 11.5pt; border-bottom: 1px solid #999;
  margin: 0.8em 0 0.3em; } h3 { font-size: 10pt; margin: 0.6em 0 0.2em; }
p { margin: 0.3em 0; } .lead { background: #f1f5f9; border-left: 3px solid #334155;
  padding: 0.4em 0.6em; margin: 0.5em 0; }
table { border-collapse: collapse; margin: 0.3em 0 0.6em; } td, th { border: 1px solid #bbb;
  padding: 1.5px 5px; text-align: left; vertical-align: top; }
th { background: #eef; font-weight: normal; font-size: 7.5pt; } td.n { text-align: right; }
td, th { hyphens: auto; overflow-wrap: break-word; } img { max-width: 100%; }
table.coverage th, table.incidents th, table.gaps th { font-size: 6.5pt; }
.small { font-size: 7.5pt; color: #444; } table.incidents, table.coverage, table.gaps { font-size: 7pt; }
table.counts { font-size: 8pt; }
table.grid { width: 100%; table-layout: fixed; margin: 0; } table.grid > tbody > tr > td,
  table.grid > tr > td { border: none; padding: 0 0.6em 0 0; }
.page { break-before: page; } .wide { page: wide; }
@page wide { size: A4 landscape; }
@page { size: A4; margin: 1.3cm 1.3cm 1.5cm; @bottom-right { content: counter(page) " / " counter(pages);
  font-size: 7pt; color: #666; } }
"""


def report_name(date: str, lang: str, ext: str) -> str:
    """``report-2026-03-01.html`` in English, ``report-2026-03-01.uk.html`` otherwise."""
    return f"report-{date}{'' if lang == 'en' else '.' + lang}.{ext}"


def _html_table(t: Table) -> str:
    def cell(text: str, j: int) -> str:
        klass = ' class="n"' if j in t.numeric else ""
        body = "<br>".join(html.escape(line) for line in text.split("\n"))
        return f"<td{klass}>{body}</td>"

    head = "".join(f"<th>{html.escape(h)}</th>" for h in t.headers)
    body = "".join("<tr>" + "".join(cell(c, j) for j, c in enumerate(r)) + "</tr>" for r in t.rows)
    cols = "".join(f'<col style="width: {w}%">' for w in t.widths)
    style = ' style="table-layout: fixed; width: 100%"' if t.widths else ""
    return (
        f'<table class="{t.css}"{style}><colgroup>{cols}</colgroup>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def _png_tag(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _html_block(b: Block) -> str:
    if b.kind == "title":
        return f"<h1>{html.escape(b.content)}</h1>"
    if b.kind in ("h2", "h3"):
        return f"<{b.kind}>{html.escape(b.content)}</{b.kind}>"
    if b.kind in ("p", "lead", "small"):
        klass = f' class="{b.kind}"' if b.kind != "p" else ""
        return f"<p{klass}>{html.escape(b.content)}</p>"
    if b.kind == "table":
        return _html_table(b.content)
    if b.kind == "grid":
        cells = "".join(f"<td>{_html_table(t)}</td>" for t in b.content)
        share = [45, 55] if len(b.content) == 2 else [100 // len(b.content)] * len(b.content)
        cols = "".join(f'<col style="width: {w}%">' for w in share)
        return f'<table class="grid"><colgroup>{cols}</colgroup><tr>{cells}</tr></table>'
    if b.kind == "figure":
        return _png_tag(b.content(), b.name)
    if b.kind == "page":
        return '<div class="page"></div>'
    if b.kind == "open":
        return f'<div class="{b.content}">'
    if b.kind == "close":
        return "</div>"
    raise ValueError(f"unknown block {b.kind!r}")


def render_html(rep: DailyReport, lang: Language | None = None) -> str:
    lang = lang or language("en")
    blocks = document(rep, lang)
    body = "\n".join(_html_block(b) for b in blocks)
    title = html.escape(blocks[0].content)
    return (
        f'<!doctype html>\n<html lang="{lang.code}"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{CSS}</style></head><body>\n{body}\n</body></html>\n"
    )


def _md_table(t: Table) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", "<br>")

    lines = ["| " + " | ".join(t.headers) + " |", "|" + "---|" * len(t.headers)]
    lines += ["| " + " | ".join(cell(c) for c in r) + " |" for r in t.rows]
    return "\n".join(lines)


def render_markdown(
    rep: DailyReport, lang: Language | None = None, figures: dict[str, str] | None = None
) -> str:
    """The report as Markdown; ``figures`` maps a figure's name to the file it was written
    to (figures without a file are left out)."""
    lang = lang or language("en")
    out = []
    for b in document(rep, lang):
        if b.kind == "title":
            out.append(f"# {b.content}")
        elif b.kind in ("h2", "h3"):
            out.append(("## " if b.kind == "h2" else "### ") + b.content)
        elif b.kind in ("p", "small"):
            out.append(b.content)
        elif b.kind == "lead":
            out.append("> " + b.content)
        elif b.kind == "table":
            out.append(_md_table(b.content))
        elif b.kind == "grid":
            out += [_md_table(t) for t in b.content]
        elif b.kind == "figure" and figures and b.name in figures:
            out.append(f"![{b.name}]({figures[b.name]})")
    return "\n\n".join(out) + "\n"


def render_pdf(page: str, path: Path) -> Path:
    """Render a report's HTML to PDF with WeasyPrint (the slow part of a report)."""
    HTML = require("weasyprint", "pdf", "PDF reports").HTML

    HTML(string=page).write_pdf(path)
    return path


def write_report(
    rep: DailyReport, out: Path, formats: tuple[str, ...], langs: tuple[str, ...] = ("en",)
) -> list[Path]:
    """Write ``report-DATE[.LANG].{html,md,pdf}`` (and the figures) into ``out``."""
    written = _write_text_formats(rep, out, formats, langs)
    if "pdf" in formats:
        for code in langs:
            path = out / report_name(rep.date, code, "pdf")
            written.append(render_pdf(render_html(rep, language(code)), path))
    return written


def write_reports(
    reps: Iterable[DailyReport],
    out: Path,
    formats: tuple[str, ...],
    workers: int = 1,
    langs: tuple[str, ...] = ("en",),
) -> Iterator[list[Path]]:
    """Write several reports, rendering their PDFs in ``workers`` processes alongside;
    yields each report's files as it is done, in order."""
    if "pdf" not in formats or workers <= 1:
        for rep in reps:
            yield write_report(rep, out, formats, langs)
        return
    from concurrent.futures import ProcessPoolExecutor

    pending: list[tuple[list[Path], list[Any]]] = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for rep in reps:
            files = _write_text_formats(rep, out, formats, langs)
            jobs = [
                pool.submit(
                    render_pdf,
                    render_html(rep, language(code)),
                    out / report_name(rep.date, code, "pdf"),
                )
                for code in langs
            ]
            pending.append((files, jobs))
            while pending and (all(j.done() for j in pending[0][1]) or len(pending) > 2 * workers):
                files, done = pending.pop(0)
                yield [*files, *(j.result() for j in done)]
        for files, done in pending:
            yield [*files, *(j.result() for j in done)]


def _write_text_formats(
    rep: DailyReport, out: Path, formats: tuple[str, ...], langs: tuple[str, ...]
) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for code in langs:
        lang = language(code)
        if "html" in formats:
            path = out / report_name(rep.date, code, "html")
            path.write_text(render_html(rep, lang), encoding="utf-8")
            written.append(path)
        if "md" in formats:
            figures = {}
            for b in document(rep, lang):
                if b.kind == "figure":
                    name = f"{b.name}-{rep.date}{'' if code == 'en' else '.' + code}.png"
                    (out / name).write_bytes(b.content())
                    figures[b.name] = name
            path = out / report_name(rep.date, code, "md")
            path.write_text(render_markdown(rep, lang, figures), encoding="utf-8")
            written.append(path)
    (out / f"report-{rep.date}.json").write_text(
        json.dumps(rep.as_json(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return written
