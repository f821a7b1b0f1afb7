"""The daily report as a sequence of blocks (headings, paragraphs, tables, figures) in one
language; :mod:`truceline.publish.render` lays them out as HTML (and PDF) or Markdown.

Each section is a function returning its blocks, and :data:`SECTIONS` lists them in order.
The coverage section is a list of findings (:func:`coverage_section`): a new finding about
what was watched is one more block there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..i18n import Language
from ..labels import label
from ..places import ATTRIBUTION
from .report import DailyReport, trend_means, witness_statement
from .summary import coverage_headline, headline, summary
from .tables import (
    Table,
    calibration_table,
    clause_table,
    coverage_table,
    flight_table,
    gap_table,
    incident_table,
    key_table,
    party_table,
    region_table,
    undetected_table,
    weapon_table,
)

__all__ = ["SECTIONS", "Block", "coverage_section", "document", "method_text"]


@dataclass(frozen=True)
class Block:
    """One piece of the report: ``kind`` is ``title``, ``h2``, ``h3``, ``p``, ``lead``
    (the summary), ``small``, ``table``, ``grid`` (tables side by side), ``figure`` (a PNG
    made on demand: ``content`` is a function returning its bytes, ``name`` its file stem)
    ``page`` (a page break in print), or ``open``/``close`` around blocks printed on
    landscape pages (``content``: ``wide``)."""

    kind: str
    content: Any = None
    name: str = ""


def method_text(lang: Language) -> str:
    return lang.gettext(
        "Incidents are fused from acoustic detections (located by the differences in the "
        "times at which sensors heard them), patrol reports, satellite heat detections, UAV "
        "sightings and the parties' allegations. A violation is counted when an incident "
        "with a confidence of at least 0.5 breaks a clause and no analyst has rejected it; "
        "\u201cverified\u201d counts those an analyst has confirmed. Attribution is the "
        "probability that the firing position lies in each party's control area: the share "
        "of the origin's uncertainty (and the line's, where the agreement states it) inside "
        "the area, times the probability that the firing happened and that the located "
        "point is where it was fired from, not where a round landed; a party is named only "
        "at 0.95 or above. Counts cover "
        "only what the network could observe: see the coverage section. Every figure can "
        "be checked against the published evidence log at the tree head printed at the top "
        "(docs/methods.md, docs/checking-a-published-figure.md)."
    )


def _tree_head(rep: DailyReport, lang: Language) -> str:
    head = rep.tree_head or {}
    return (
        lang.gettext(
            "Computed from the evidence log at tree size {size}, root hash {root}, signed {time} "
            "by key {key}."
        ).format(
            size=head.get("tree_size", "–"),
            root=head.get("root_hash", "–"),
            time=head.get("timestamp", "–"),
            key=head.get("key_id", "–"),
        )
        + " "
        + witness_statement(head, lang)
    )


def front_page(rep: DailyReport, lang: Language) -> list[Block]:
    from .figures import map_png

    title = rep.ag.title
    return [
        Block("title", lang.gettext("Ceasefire monitoring: daily report for {date}").format(
            date=lang.date(rep.date))),
        Block("small", lang.gettext("Agreement: {title} ({id}).").format(title=title, id=rep.agreement)),
        Block("p", headline(rep, lang) + " " + coverage_headline(rep, lang)),
        Block("lead", summary(rep, lang)),
        Block("h2", lang.gettext("Violations by clause")),
        Block("table", clause_table(rep, lang)),
        Block("grid", [party_table(rep, lang), key_table(rep, lang)]),
        Block("figure", lambda: rep.figure("map", lang.code, lambda: map_png(rep, lang)), "map"),
        Block("small", _tree_head(rep, lang)),
    ]  # fmt: skip


def _trend_text(rep: DailyReport, lang: Language) -> str:
    today = rep.trend[-1][1]
    parts = [
        lang.gettext("This day: {n}.").format(n=lang.number(today))
        if today is not None
        else lang.gettext("This day: not observed.")
    ]
    for days in (7, 30):
        mean, seen = trend_means(rep.trend, days)
        if mean is None:
            parts.append(
                lang.gettext("None of the previous {days} days was observed.").format(days=days)
            )
        else:
            parts.append(
                lang.ngettext(
                    "Mean of the previous {days} days: {mean} (over {k} observed day).",
                    "Mean of the previous {days} days: {mean} (over {k} observed days).",
                    seen,
                ).format(days=days, mean=lang.number(mean, 1), k=seen)
            )
    return " ".join(parts)


def trend_section(rep: DailyReport, lang: Language) -> list[Block]:
    from .figures import trend_png

    return [
        Block("page"),
        Block("h2", lang.gettext("By weapon and sector")),
        Block("grid", [weapon_table(rep, lang), region_table(rep, lang)]),
        Block("h2", lang.gettext("Trend")),
        Block(
            "figure",
            lambda: rep.figure("trend", lang.code, lambda: trend_png(rep.trend, lang)),
            "trend",
        ),
        Block("p", _trend_text(rep, lang)),
    ]


def coverage_section(rep: DailyReport, lang: Language) -> list[Block]:
    """What was watched: the headline of exceptions, how it is measured, the table of
    sectors and the sensors' gaps. (Add a finding here as one more block.)"""
    gaps: list[Block] = (
        [Block("table", gap_table(rep, lang))]
        if rep.coverage.gaps
        else [Block("p", lang.gettext(
            "None found. Short outages in quiet stretches cannot be told from quiet "
            "(docs/methods.md)."))]
    )  # fmt: skip
    reporting = (
        lang.ngettext(
            "{n} acoustic sensor reported.", "{n} acoustic sensors reported.", rep.sensors_reporting
        ).format(n=lang.number(rep.sensors_reporting))
        + " "
        + lang.ngettext(
            "{g} gap was found (a sensor silent while its neighbours heard sounds it would have "
            "heard).",
            "{g} gaps were found (a sensor silent while its neighbours heard sounds it would have "
            "heard).",
            len(rep.coverage.gaps),
        ).format(g=lang.number(len(rep.coverage.gaps)))
    )
    if rep.coverage.heartbeating:
        reporting += " " + lang.ngettext(
            "{n} sensor sent heartbeats: its uptime is what they said, less its gaps.",
            "{n} sensors sent heartbeats: their uptime is what they said, less their gaps.",
            rep.coverage.heartbeating,
        ).format(n=lang.number(rep.coverage.heartbeating))
    return [
        Block("h2", lang.gettext("Coverage")),
        Block("p", coverage_headline(rep, lang)),
        Block("p", reporting + " " + lang.gettext(
            "Sensor uptime is the share of the day's sensor-hours in which a sector's sensors "
            "were working: from an hour before each sensor's first detection to an hour after "
            "its last, less its gaps. Locating a sound takes four sensors that hear it: the "
            "locatable area is the part of the band within 10 km of the line that had four "
            "working sensors within 7.5 km (where the impact of a 120 mm mortar is heard nine "
            "times in ten), as a mean over the hours; an hour counts as able to locate when "
            "any part of the sector could. A sector is observed when at least half of its band "
            "could locate in at least {share} of the day's hours.").format(share=lang.percent(rep.observed_share))),
        Block("table", coverage_table(rep, lang)),
        Block("h3", lang.gettext("Sensor gaps")),
        *gaps,
        *undetected_blocks(rep, lang),
        *calibration_blocks(rep, lang),
    ]  # fmt: skip


def undetected_blocks(rep: DailyReport, lang: Language) -> list[Block]:
    """What may have gone undetected: per sector, the bound the network's coverage puts on
    the firings missed, and the classes it cannot count."""
    if not rep.undetected:
        return []
    names = lang.gettext(", ").join(label("weapon", c, lang) for c in rep.not_covered)
    text = lang.gettext(
        "A zero is worth what the sector could have seen. For each sector, the chance that a "
        "firing of each class would have been located and counted follows from the sensors "
        "that were working hour by hour, how far each class is heard, and how many sensors "
        "the confidence model needs to count a firing ({alone} at one point, or both its "
        "launch and its impact located). The table gives the least audible class the "
        "network covers and, from that chance and the firings counted, how many more may "
        'have been missed at most, with 95 % confidence ("none detected; at most N missed"). '
        "Not covered, and never bounded: {names}."
    ).format(alone=rep.undetected_rule_alone, names=names)
    return [
        Block("h3", lang.gettext("What may have gone undetected")),
        Block("p", text),
        Block("table", undetected_table(rep, lang)),
    ]


def calibration_blocks(rep: DailyReport, lang: Language) -> list[Block]:
    """The sensors' clocks and surveys as the network measured them (none without a run)."""
    cal = rep.calibration
    if cal is None:
        return []
    head = Block("h3", lang.gettext("Sensor calibration"))
    if cal.measured == 0:
        return [head, Block("p", lang.gettext(
            "No sensor's clock or position could be measured on this day (too few sounds "
            "heard by many sensors); the located sounds' uncertainty includes the usual "
            "errors of clocks and surveys."))]  # fmt: skip
    where = lang.gettext("analysis run {run}, log entry {entry}").format(
        run=cal.run, entry="-" if cal.log_index is None else cal.log_index
    )
    text = lang.ngettext(
        "The clock and position of {n} sensor that reported were measured from the sounds "
        "the other sensors located ({where}: the entry holds the hash of every sensor's "
        "record).",
        "The clocks and positions of {n} sensors that reported were measured from the sounds "
        "the other sensors located ({where}: the entry holds the hash of every sensor's "
        "record).",
        cal.measured,
    ).format(n=lang.number(cal.measured), where=where)
    text += " " + lang.gettext("The median clock correction was {ms} ms.").format(
        ms=lang.number(1000 * (cal.median_clock_s or 0.0), 1)
    )
    if not cal.corrected:
        text += " " + lang.gettext(
            "None was off by more than its uncertainty allows: none was re-timed or re-surveyed."
        )
        return [head, Block("p", text)]
    text += " " + lang.ngettext(
        "{k} sensor was off by more than its uncertainty allows, and was re-timed or "
        "re-surveyed before the sounds were located:",
        "{k} sensors were off by more than their uncertainty allows, and were re-timed or "
        "re-surveyed before the sounds were located:",
        len(cal.corrected),
    ).format(k=lang.number(len(cal.corrected)))
    return [head, Block("p", text), Block("table", calibration_table(rep, lang))]


def incidents_section(rep: DailyReport, lang: Language) -> list[Block]:
    table: Table = incident_table(rep, lang)
    body = Block("table", table) if table.rows else Block("p", lang.gettext("None."))
    return [
        Block("open", "wide"),
        Block("h2", lang.gettext("Incidents")),
        Block("small", lang.gettext(
            "Every incident of the day, violation or not. Where: from the nearest settlement "
            "of 500 inhabitants or more, and the MGRS grid reference.")),
        body,
        Block("close"),
    ]  # fmt: skip


def flights_section(rep: DailyReport, lang: Language) -> list[Block]:
    """The tracked flights (none in the public report: a path is not published)."""
    table: Table = flight_table(rep, lang)
    if not table.rows:
        return []
    return [
        Block("open", "wide"),
        Block("h2", lang.gettext("Flights")),
        Block("small", lang.gettext(
            "Every tracked flight of the day: what it most probably was (and the other types "
            "it may have been, with their probabilities), where it was launched from, where "
            "and when it crossed the line of contact, and the probability that it ended in a "
            "strike.")),
        Block("table", table),
        Block("close"),
    ]  # fmt: skip


def method_section(rep: DailyReport, lang: Language) -> list[Block]:
    credit = lang.gettext(ATTRIBUTION) + "."
    return [
        Block("h2", lang.gettext("Method")),
        Block("p", method_text(lang)),
        Block("small", credit),
    ]


SECTIONS: list[Callable[[DailyReport, Language], list[Block]]] = [
    front_page,
    trend_section,
    coverage_section,
    incidents_section,
    flights_section,
    method_section,
]


def document(rep: DailyReport, lang: Language) -> list[Block]:
    """The whole report in ``lang``."""
    return [block for section in SECTIONS for block in section(rep, lang)]
