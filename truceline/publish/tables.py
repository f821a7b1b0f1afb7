"""The report's tables in a language: headers and cells as text, which the HTML and the
Markdown renderers only lay out (so the two always say the same)."""

from __future__ import annotations

from dataclasses import dataclass

from ..i18n import Language
from ..labels import label, place_label
from ..places import Place, describe
from .report import DailyReport
from .summary import party_name, region_name, sector_name

__all__ = [
    "Table",
    "calibration_table",
    "clause_table",
    "coverage_table",
    "flight_table",
    "gap_table",
    "incident_table",
    "key_table",
    "party_table",
    "region_table",
    "undetected_table",
    "weapon_table",
]


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]
    widths: tuple[int, ...] = ()  # percent per column, for a fixed layout
    css: str = ""
    numeric: tuple[int, ...] = ()  # columns aligned right


def _counted(lang: Language, first: str) -> list[str]:
    return [first, lang.gettext("violations"), lang.gettext("of which verified")]


def clause_table(rep: DailyReport, lang: Language) -> Table:
    rows = [
        [c.id, c.text_in(lang.code), lang.number(rep.by_clause[c.id]["all"]),
         lang.number(rep.by_clause[c.id]["verified"])]
        for c in rep.ag.clauses
    ]  # fmt: skip
    headers = [lang.gettext("clause"), lang.gettext("text of the agreement")]
    headers += _counted(lang, "")[1:]
    return Table(headers, rows, (11, 59, 13, 17), "counts", (2, 3))


def party_table(rep: DailyReport, lang: Language) -> Table:
    rows = [
        [party_name(rep, pid, lang), lang.number(c["all"]), lang.number(c["verified"])]
        for pid, c in rep.by_party.items()
    ]
    return Table(
        _counted(lang, lang.gettext("attributed to")), rows, (46, 27, 27), "counts", (1, 2)
    )


def key_table(rep: DailyReport, lang: Language) -> Table:
    """The day in figures: what was counted, and what was watched."""
    rows = [
        [lang.gettext("violations"), lang.number(rep.total)],
        [lang.gettext("of which verified"), lang.number(rep.verified)],
        [lang.gettext("rejected by an analyst (not counted)"), lang.number(rep.rejected)],
        [lang.gettext("incidents of every kind"), lang.number(len(rep.incidents))],
        [lang.gettext("sectors observed"), lang.gettext("{k} of {n}").format(
            k=len(rep.coverage.rows) - len(rep.coverage.blind), n=len(rep.coverage.rows))],
        [lang.gettext("acoustic sensors reporting"), lang.number(rep.sensors_reporting)],
        [lang.gettext("sensor gaps found"), lang.number(len(rep.coverage.gaps))],
    ]  # fmt: skip
    return Table([lang.gettext("the day in figures"), ""], rows, (70, 30), "counts", (1,))


def weapon_table(rep: DailyReport, lang: Language) -> Table:
    rows = [
        [label("weapon", w, lang), lang.number(c["all"]), lang.number(c["verified"])]
        for w, c in rep.by_weapon.items()
    ]
    return Table(_counted(lang, lang.gettext("weapon class")), rows, (52, 24, 24), "counts", (1, 2))


def region_table(rep: DailyReport, lang: Language) -> Table:
    first = lang.gettext("region") if rep.regions_given else lang.gettext("sector of the line")
    rows = [
        [region_name(r, rep, lang), lang.number(r["all"]), lang.number(r["verified"])]
        for r in rep.by_region
    ]
    return Table(_counted(lang, first), rows, (50, 25, 25), "counts", (1, 2))


def coverage_table(rep: DailyReport, lang: Language) -> Table:
    headers = [
        lang.gettext("sector of the line"),
        lang.gettext("sensors reporting"),
        lang.gettext("gaps"),
        lang.gettext("sensor uptime"),
        lang.gettext("hours able to locate, any part"),
        lang.gettext("hours able to locate, half or more"),
        lang.gettext("locatable area, km²"),
        lang.gettext("share of the band"),
        lang.gettext("observed"),
    ]
    rows = [
        [
            sector_name(int(r["number"]), rep.sector_km, lang),
            lang.number(r["sensors_reporting"]),
            lang.number(r["gaps"]),
            "–" if r["sensor_uptime"] is None else lang.percent(r["sensor_uptime"]),
            lang.number(r["hours_able_to_locate"]),
            lang.number(r["hours_observed"]),
            lang.number(r["locatable_km2"]),
            lang.percent(r["locatable_share"]),
            lang.gettext("yes") if r["observed"] else lang.gettext("no"),
        ]
        for r in rep.coverage.rows
    ]
    return Table(
        headers, rows, (20, 10, 7, 10, 11, 11, 11, 10, 10), "coverage", (1, 2, 3, 4, 5, 6, 7)
    )


def gap_table(rep: DailyReport, lang: Language) -> Table:
    headers = [
        lang.gettext("sensor"),
        lang.gettext("sector"),
        lang.gettext("silent from"),
        lang.gettext("silent to"),
        lang.gettext("sounds missed"),
        lang.gettext("hit rate"),
    ]
    rows = [
        [g["sensor"], str(g["sector"]), g["silent_from"], g["silent_to"],
         lang.number(g["sounds_missed"]), lang.number(g["hit_rate"], 2)]
        for g in rep.coverage.gaps
    ]  # fmt: skip
    return Table(headers, rows, (22, 10, 18, 18, 16, 16), "gaps", (4, 5))


def calibration_table(rep: DailyReport, lang: Language) -> Table:
    """The sensors the run re-timed or re-surveyed: the correction and what is left unknown
    of it (1 σ), and how many located sounds measured it."""
    headers = [
        lang.gettext("sensor"),
        lang.gettext("clock correction (ms)"),
        lang.gettext("± (ms)"),
        lang.gettext("position correction (m)"),
        lang.gettext("± (m)"),
        lang.gettext("sounds"),
    ]
    cal = rep.calibration
    rows = [
        [r["sensor"], lang.number(round(1000 * r["clock_offset_s"]) or 0, 0),
         lang.number(1000 * r["clock_sd_s"], 0),
         lang.number(float(r["position_error_m"][0] ** 2 + r["position_error_m"][1] ** 2) ** 0.5, 1),
         lang.number(r["position_sd_m"], 1), lang.number(r["residuals"])]
        for r in (cal.corrected if cal is not None else [])
    ]  # fmt: skip
    return Table(headers, rows, (24, 18, 12, 20, 12, 14), "gaps", (1, 2, 3, 4, 5))


def chance(p: float, lang: Language) -> str:
    """A probability as a percentage that never reads as certain when it is not."""
    if p < 1.0 and round(p, 2) >= 1.0:
        return lang.gettext("over {share}").format(share=lang.percent(0.99))
    return lang.percent(p)


def undetected_table(rep: DailyReport, lang: Language) -> Table:
    """Per sector: the firings counted, the chance a firing of the least audible class the
    network covers would have been, and the 95 % bound on the firings missed."""
    headers = [
        lang.gettext("sector of the line"),
        lang.gettext("firings counted"),
        lang.gettext("least audible class"),
        lang.gettext("chance it would have been counted"),
        lang.gettext("firings missed, at most (95 %)"),
    ]
    rows = []
    for k, r in enumerate(rep.undetected):
        covered = {c: v for c, v in r["p_counted"].items() if c not in rep.not_covered}
        least = min(covered, key=lambda c: covered[c]) if covered else None
        bound = r["undetected_at_most"]
        rows.append([
            sector_name(k + 1, rep.sector_km, lang), lang.number(r["counted"]),
            label("weapon", least, lang) if least else "–", chance(r["p_counted_least"], lang),
            lang.gettext("no bound") if bound is None else lang.number(bound),
        ])  # fmt: skip
    return Table(headers, rows, (24, 14, 22, 20, 20), "coverage", (1, 3, 4))


def _sigma(p: dict[str, object]) -> float | None:
    value = p.get("impact_sigma_m") if p.get("impact") else p.get("origin_sigma_m")
    return float(value) if isinstance(value, int | float) else None


def _place_cell(place: Place | None, lang: Language, sigma_m: float | None) -> str:
    """Where, from the nearest settlement, and the MGRS grid reference on a second line."""
    if place is None:
        return lang.gettext("not located")
    return f"{place_label(place, lang, sigma_m)}\n{place.mgrs}".strip()


def incident_table(rep: DailyReport, lang: Language) -> Table:
    headers = [
        lang.gettext("time (UTC)"),
        lang.gettext("what"),
        lang.gettext("where"),
        lang.gettext("confidence"),
        lang.gettext("attribution"),
        lang.gettext("clauses"),
        lang.gettext("status"),
        lang.gettext("evidence"),
        lang.gettext("incident"),
    ]
    rows = []
    for p in rep.incidents:
        probs = lang.gettext(", ").join(
            f"{party_name(rep, k, lang)} {lang.number(v, 2)}"
            for k, v in sorted((p.get("attribution") or {}).items())
            if v >= 0.005
        )
        rows.append(
            [
                p["time_start"][11:19],
                f"{label('kind', p['kind'], lang)}\n{label('weapon', p.get('weapon', 'unknown'), lang)}",
                _place_cell(p.get("_place"), lang, _sigma(p)),
                lang.number(p["confidence"], 2),
                probs or lang.gettext("side not determined"),
                ", ".join(p["violations"]) or "–",
                label("status", p.get("status", "automatic"), lang),
                lang.gettext(", ").join(
                    f"{label('source', k, lang)} {v}"
                    for k, v in sorted((p.get("sources") or {}).items())
                ),
                p["id"],
            ]
        )
    return Table(headers, rows, (6, 14, 18, 6, 12, 6, 8, 16, 14), "incidents", (3,))


def _types_text(types: dict[str, float], lang: Language) -> str:
    """The most probable type with its probability, then the others at 0.1 or more."""
    ranked = sorted(types.items(), key=lambda kv: -kv[1])
    shown = [kv for k, kv in enumerate(ranked) if k == 0 or kv[1] >= 0.1]
    return lang.gettext(", ").join(
        f"{label('air_type', t, lang)} {lang.number(p, 2)}" for t, p in shown
    )


def flight_table(rep: DailyReport, lang: Language) -> Table:
    """Every tracked flight of the day: what it most probably was, where it was launched
    from, where and when it crossed the line, P(it ended in a strike), its clauses."""
    flights = [p for p in rep.incidents if isinstance(p.get("flight"), dict)]
    launch = [p.get("origin") or [float("nan")] * 2 for p in flights]
    cross = [p.get("crossing") or [float("nan")] * 2 for p in flights]
    sig = [p.get("origin_sigma_m") or 0.0 for p in flights]
    csig = [p["flight"].get("crossing_sigma_m") or 0.0 for p in flights]
    at = describe([c[0] for c in launch], [c[1] for c in launch], sig) if flights else []
    over = describe([c[0] for c in cross], [c[1] for c in cross], csig) if flights else []
    rows = []
    for p, place, where, s, cs in zip(flights, at, over, sig, csig, strict=True):
        f = p["flight"]
        when = f.get("crossing_time")
        crossed = (
            f"{place_label(where, lang, cs) or lang.gettext('not located')}\n{when[11:19]}"
            if when
            else lang.gettext("did not cross")
        )
        rows.append([
            p["time_start"][11:19],
            _types_text(f.get("types") or {}, lang) or label("weapon", p["weapon"], lang),
            _place_cell(place, lang, s),
            crossed,
            lang.number(f.get("p_strike", 0.0), 2),
            ", ".join(p["violations"]) or "–",
            p["id"],
        ])  # fmt: skip
    headers = [
        lang.gettext("time (UTC)"),
        lang.gettext("what"),
        lang.gettext("launched from"),
        lang.gettext("crossed the line"),
        lang.gettext("ended in a strike"),
        lang.gettext("clauses"),
        lang.gettext("incident"),
    ]
    return Table(headers, rows, (7, 22, 20, 18, 8, 9, 16), "incidents", (4,))
