"""The tables `truceline evaluate` prints: figures by kind of incident (with the sides stated
as a caption) and violations by clause."""

from __future__ import annotations

from typing import Any

from rich.table import Table

__all__ = ["clause_table", "kind_table"]


def _fmt(v: Any) -> str:
    return "-" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))


def _m(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"


KIND_ROWS = (
    ("true events", "truth"),
    ("locatable true events", "truth_locatable"),
    ("incidents", "incidents"),
    ("matched", "matched"),
    ("recall", "recall"),
    ("recall (locatable)", "recall_locatable"),
    ("precision", "precision"),
    ("duplicates", "duplicates"),
    ("launch paired with another's impact", "wrong_pairs"),
    ("nothing true within the gate", "nothing_true_near"),
    ("attributed", "attributed"),
    ("attribution accuracy", "attribution_accuracy"),
    ("coverage (attributed / true)", "coverage"),
    ("Brier score", "brier"),
    ("weapon class accuracy", "weapon_accuracy"),
    ("weapon class named (share)", "weapon_named_share"),
    ("weapon class accuracy when named", "weapon_named_accuracy"),
)


def kind_table(report: dict[str, Any]) -> Table:
    t = Table(title=f"Evaluation (incidents with confidence ≥ {report['min_confidence']})")
    t.add_column("figure")
    kinds = report["kinds"]
    for k in kinds:
        t.add_column(k, justify="right")
    for label, key in KIND_ROWS:
        t.add_row(label, *(_fmt(kinds[k].get(key)) for k in kinds))
    for label, key in (("origin error m", "origin_error_m"), ("impact error m", "impact_error_m")):
        cells = []
        for k in kinds:
            e = kinds[k].get(key) or {}
            cells.append(f"{_m(e.get('median'))} / {_m(e.get('p90'))} / {_m(e.get('max'))}")
        t.add_row(f"{label} (median / p90 / max)", *cells)
    by = report["by_confidence"]
    real = by["below_threshold_real"]
    t.caption = (
        f"{by['incidents']} incidents published; {by['below_threshold']} below the threshold"
        + (f", of which {real:.0%} real" if real is not None else "")
        + f"; gates {report['gates_m']['origin']:.0f} m (origin, impact), "
        f"{report['gates_m']['presence']:.0f} m (presence), one incident per true event"
        + _sides_caption(report.get("sides") or {})
    )
    return t


def _sides_caption(sides: dict[str, Any]) -> str:
    """The sides stated, scored over every published origin and those near the line."""
    pub = sides.get("published") or {}
    if not pub.get("incidents"):
        return ""
    text = (
        f"\nside stated by {pub['incidents']} published origins: Brier {_fmt(pub['brier'])}, "
        f"reliability max gap {_fmt(pub['reliability_max_gap'])} (bins of ≥ 100)"
    )
    near = sides.get("near_line")
    if near and near["true_firings"]:
        text += (
            f"; {near['true_firings']} true firings ≤ {near['within_m']:.0f} m from the line, "
            f"{near['located']} located, P(true side) {_fmt(near['mean_p_true_side'])}, "
            f"side right when named {_fmt(near['named_accuracy'])}"
        )
    return text


def clause_table(report: dict[str, Any]) -> Table:
    t = Table(title="Violations by clause")
    for col in ("clause", "TP", "FP", "FN", "precision", "recall", "F1", "F1 locatable"):
        t.add_column(col, justify="right" if col != "clause" else "left")
    for clause, c in report["clauses"].items():
        t.add_row(
            clause,
            *(str(c[k]) for k in ("tp", "fp", "fn")),
            *(_fmt(c[k]) for k in ("precision", "recall", "f1", "f1_locatable")),
        )
    return t
