"""The report's words: its headline, the one-paragraph summary written from the figures (in
the manner of a mission's daily report: how many violations, the change against the
previous day, the most active sectors, attribution, and what was not observed), and the
names of sectors, regions, parties and clauses, in the report's language.

Every sentence is built from whole translatable sentences with named slots, so that each
language orders and inflects it its own way; names (of parties, places, regions) stand
after a colon or a dash, where they keep their dictionary form in Ukrainian and Russian.
"""

from __future__ import annotations

from typing import Any

from ..i18n import Language
from .report import NOT_LOCATED, OUTSIDE, DailyReport, trend_means

__all__ = [
    "change_sentence",
    "coverage_headline",
    "headline",
    "party_name",
    "region_name",
    "sector_name",
    "summary",
]


def sector_name(number: int, sector_km: float, lang: Language) -> str:
    """ "sector 3 (km 50–75)" (1-based number)."""
    return lang.gettext("sector {n} (km {start}–{end})").format(
        n=number,
        start=lang.number((number - 1) * sector_km),
        end=lang.number(number * sector_km),
    )


def region_name(row: dict[str, Any], rep: DailyReport, lang: Language) -> str:
    """A row of the region table: a sector in words, a region of the layer as named."""
    name = str(row["region"])
    if name == NOT_LOCATED:
        return lang.gettext("not located")
    if name == OUTSIDE:
        return lang.gettext("outside the regions")
    if rep.regions_given:
        return name
    return sector_name(int(name.split()[1]), rep.sector_km, lang)


def party_name(rep: DailyReport, pid: str | None, lang: Language) -> str:
    if pid is None or pid == "undetermined":
        return lang.gettext("side not determined")
    party = next((p for p in rep.ag.parties if p.id == pid), None)
    return party.name_in(lang.code) if party is not None else pid


def _sectors(rows: list[dict[str, Any]], rep: DailyReport, lang: Language) -> str:
    return lang.gettext(", ").join(sector_name(int(r["number"]), rep.sector_km, lang) for r in rows)


def headline(rep: DailyReport, lang: Language) -> str:
    """How many violations, and how many of them an analyst verified."""
    if rep.trend[-1][1] is None:
        return lang.gettext("Nothing was received from the monitoring network on this day.")
    n, v = rep.total, rep.verified
    text = lang.ngettext(
        "{n} violation was recorded (an incident of confidence 0.5 or more that breaks a "
        "clause of the agreement).",
        "{n} violations were recorded (incidents of confidence 0.5 or more that break a "
        "clause of the agreement).",
        n,
    ).format(n=lang.number(n))
    if n and v == 0:
        text += " " + lang.gettext(
            "None has been verified by an analyst yet: all were found by the automatic analysis."
        )
    elif n and v == n:
        text += " " + lang.gettext("All were verified by an analyst.")
    elif n:
        text += " " + lang.ngettext(
            "{v} of them was verified by an analyst; the rest were found by the automatic "
            "analysis and have not been reviewed.",
            "{v} of them were verified by an analyst; the rest were found by the automatic "
            "analysis and have not been reviewed.",
            v,
        ).format(v=lang.number(v))
    if rep.rejected:
        text += " " + lang.ngettext(
            "{r} that an analyst rejected is not counted.",
            "{r} that an analyst rejected are not counted.",
            rep.rejected,
        ).format(r=lang.number(rep.rejected))
    return text


NAMED = 3  # at most this many sectors not observed are described in the headline


def coverage_headline(rep: DailyReport, lang: Language) -> str:
    """Which sectors were observed, naming every exception with its hours and uptime (or,
    beyond ``NAMED`` of them, their numbers)."""
    rows, blind = rep.coverage.rows, rep.coverage.blind
    share = lang.percent(rep.observed_share)
    if not blind:
        return lang.gettext(
            "Every sector of the line ({n} in all) was observed (at least half of it able to "
            "locate sounds for {share} of the day's hours or more)."
        ).format(n=len(rows), share=share)
    if len(blind) == len(rows):
        best = max(int(r["hours_observed"]) for r in rows)
        return lang.gettext(
            "No sector of the line was observed (at least half of it able to locate sounds for "
            "{share} of the day's hours or more): at best, half of a sector could locate for "
            "{hours} of 24 hours (see the coverage section)."
        ).format(share=share, hours=best)
    if len(blind) > NAMED:
        exceptions = lang.gettext("sectors {numbers} (see the coverage section)").format(
            numbers=lang.gettext(", ").join(str(r["number"]) for r in blind)
        )
    else:
        exceptions = lang.gettext("; ").join(_exception(r, rep, lang) for r in blind)
    return lang.ngettext(
        "{k} of the {n} sectors of the line was observed (at least half of it able to locate "
        "sounds for {share} of the day's hours or more). Not observed: {exceptions}.",
        "{k} of the {n} sectors of the line were observed (at least half of each able to "
        "locate sounds for {share} of the day's hours or more). Not observed: {exceptions}.",
        len(rows) - len(blind),
    ).format(k=len(rows) - len(blind), n=len(rows), share=share, exceptions=exceptions)


def _exception(row: dict[str, Any], rep: DailyReport, lang: Language) -> str:
    name = sector_name(int(row["number"]), rep.sector_km, lang)
    if row["sensor_uptime"] is None:
        return lang.gettext("{sector}, with no sensor").format(sector=name)
    return lang.gettext(
        "{sector}, half of it able to locate for {hours} of 24 hours (sensor uptime {uptime})"
    ).format(sector=name, hours=row["hours_observed"], uptime=lang.percent(row["sensor_uptime"]))


def change_sentence(rep: DailyReport, lang: Language) -> str:
    """The change against the previous day, or why there is none to give."""
    today, before = rep.trend[-1][1], rep.trend[-2][1]
    if today is None:
        return ""
    if before is None:
        return lang.gettext("The previous day was not observed, so there is no change to give.")
    d = today - before
    if d == 0:
        return lang.gettext("That is as many as on the previous day.")
    words = (
        lang.ngettext("That is {d} more than on the previous day ({before}).",
                      "That is {d} more than on the previous day ({before}).", d)
        if d > 0
        else lang.ngettext("That is {d} fewer than on the previous day ({before}).",
                           "That is {d} fewer than on the previous day ({before}).", -d)
    )  # fmt: skip
    return words.format(d=lang.number(abs(d)), before=lang.number(before))


def _busiest(rep: DailyReport, lang: Language) -> str:
    rows = [r for r in rep.by_region if r["all"] and r["region"] not in (NOT_LOCATED, OUTSIDE)]
    rows.sort(key=lambda r: -int(r["all"]))
    if not rows:
        return ""
    top = lang.gettext(", ").join(
        lang.gettext("{region} — {n}").format(
            region=region_name(r, rep, lang), n=lang.number(r["all"])
        )
        for r in rows[:3]
    )
    return lang.gettext("Most active: {list}.").format(list=top)


def _attribution(rep: DailyReport, lang: Language) -> str:
    named = [
        (pid, c["all"]) for pid, c in rep.by_party.items() if pid != "undetermined" and c["all"]
    ]
    open_ = rep.by_party.get("undetermined", {"all": 0})["all"]
    if not named and not open_:
        return ""
    if not named:
        return lang.gettext("For none of them could the side that fired be determined.")
    parts = lang.gettext(", ").join(
        lang.gettext("{party} — {n}").format(party=party_name(rep, pid, lang), n=lang.number(n))
        for pid, n in named
    )
    text = lang.gettext("Attributed: {list}.").format(list=parts)
    if open_:
        text += " " + lang.gettext("Side not determined: {n}.").format(n=lang.number(open_))
    return text


def summary(rep: DailyReport, lang: Language) -> str:
    """The day in one paragraph, written from the figures."""
    if rep.trend[-1][1] is None:
        return lang.gettext(
            "No observation was received for {date}: the day was not observed, and no count "
            "of violations can be given for it."
        ).format(date=lang.date(rep.date))
    opening = lang.ngettext(
        "On {date} the mechanism recorded {n} ceasefire violation.",
        "On {date} the mechanism recorded {n} ceasefire violations.",
        rep.total,
    ).format(date=lang.date(rep.date), n=lang.number(rep.total))
    week, seen = trend_means(rep.trend, 7)
    mean = (
        lang.ngettext(
            "The mean of the previous seven days is {mean} (over {k} observed day).",
            "The mean of the previous seven days is {mean} (over {k} observed days).",
            seen,
        ).format(mean=lang.number(week, 1), k=seen)
        if week is not None
        else ""
    )
    blind = rep.coverage.blind
    unobserved = (
        lang.gettext(
            "Not observed: {sectors}; a zero there does not mean that nothing happened."
        ).format(sectors=_sectors(blind, rep, lang))
        if blind and len(blind) < len(rep.coverage.rows)
        else lang.gettext("No sector was observed for the required share of the day.")
        if blind
        else ""
    )
    parts = [opening, change_sentence(rep, lang), mean]
    parts += [_busiest(rep, lang), _attribution(rep, lang), unobserved]
    return " ".join(p for p in parts if p)
