"""The live analyser over a store: it follows the evidence log for new observations,
analyses again the stretch of time they can change (:mod:`truceline.live`), publishes the
result as a run whose incidents there are marked provisional, and finalises with the batch
analysis itself (:func:`~truceline.store.runs.analyze_logged`) once the window has passed or
the stream has settled. ``GET /v1/incidents`` shows the latest run: the live one.

Every version is a logged run (an entry of the evidence log, with the tree head it read);
a final run that revises an earlier final run is followed by a ``live_revision`` entry
naming the incidents that appeared and disappeared.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..agreement import Agreement
from ..analysis import analyze
from ..attribution import DEFAULT_THRESHOLD
from ..fusion import FusionParams
from ..incidents import dumps, feature_collection
from ..live import LiveWindow, affected_span, merge, revision, settled
from ..observations import Observation, parse_record
from ..weapons import WeaponModel
from .records import Store
from .runs import analyze_logged

__all__ = ["LiveAnalyser", "Step"]

S = 1_000_000


@dataclass(frozen=True)
class Step:
    """What one step of the analyser did: ``provisional`` (a stretch analysed again),
    ``final`` (the batch run), or ``idle``; the run it published, if any."""

    action: str
    run_id: int | None = None
    observations: int = 0  # new observations read
    span: tuple[int, int] | None = None
    revision: dict[str, Any] | None = None


@dataclass
class LiveAnalyser:
    """Follows ``store``'s log from where its latest run read it (the start, if none)."""

    store: Store
    ag: Agreement
    agreement_files: dict[str, str]
    out: Path
    params: FusionParams = field(default_factory=FusionParams)
    threshold: float = DEFAULT_THRESHOLD
    model: WeaponModel | None = None
    settle_s: float = 30.0  # finalise when nothing new came for this long (wall clock)
    clock: Callable[[], float] = time.monotonic
    window: LiveWindow = field(init=False)
    seen: int = field(init=False, default=0)  # log entries read
    shown: list[dict[str, Any]] = field(init=False, default_factory=list)
    lone: list[dict[str, Any]] = field(init=False, default_factory=list)  # joined allegations
    final: list[dict[str, Any]] | None = field(init=False, default=None)
    clock_us: int = field(init=False, default=0)  # the latest observation's time
    pending: bool = field(init=False, default=False)  # provisional incidents are shown
    last_new: float = field(init=False, default=0.0)
    backlog: list[Observation] = field(init=False, default_factory=list)  # long reaches

    def __post_init__(self) -> None:
        self.window = LiveWindow.of(self.params)
        run = self.store.latest_run()
        if run is not None:
            entry = self.store.run_entry(run)
            self.seen = int(entry["tree_size"])
            self.shown = self.store.incidents(run)
            self.lone = [f for f, _ in self.store.allegation_views(run=run)]
            summary = self._summary(run)
            self.pending = bool(summary.get("live", {}).get("provisional"))
            if not self.pending:
                self.final = self.shown
        self.last_new = self.clock()

    def _summary(self, run: int) -> dict[str, Any]:
        row = self.store._x("SELECT summary FROM runs WHERE id = ?", (run,)).fetchone()
        return dict(json.loads(row[0])) if row else {}

    def step(self) -> Step:
        """Read what is new; analyse its stretch, or finalise if due; else nothing."""
        size = self.store.log_size()
        new = list(_logged(self.store, self.seen, size)) if size > self.seen else []
        self.seen = size
        if new:
            self.last_new = self.clock()
        # what reaches hours back (a thermal pass, a UAV sighting: a day's stretch to analyse
        # again) waits until no pick is waiting, so the picks' incidents come first
        short = [o for o in new if self.window.reach_s(o.type) <= self.window.acoustic_s]
        self.backlog += [o for o in new if self.window.reach_s(o.type) > self.window.acoustic_s]
        if short:
            return self.provisional(short, size)
        if self.backlog:
            held, self.backlog = self.backlog, []
            return self.provisional(held, size)
        if self.pending and (
            settled(self.shown, self.clock_us, self.window)
            or self.clock() - self.last_new >= self.settle_s
        ):
            return self.finalise()
        return Step("idle")

    def provisional(self, new: list[Observation], size: int) -> Step:
        """Analyse again the stretch ``new`` can change and publish it merged into what is
        shown. The observations read reach ``acoustic_s`` past the stretch (an incident that
        began in it is heard, and its partner lands, within that) and ``travel_s`` +
        ``salvo_gap_s`` before it (the events just before it, that may hold picks inside
        it, and the rounds of a salvo begun earlier)."""
        self.clock_us = max(self.clock_us, *(o.time_us for o in new))
        span = affected_span(new, self.window)
        assert span is not None
        before = round((self.window.travel_s + self.window.salvo_gap_s) * S)
        after = round(self.window.acoustic_s * S)
        obs = _in_time(self.store, span[0] - before, span[1] + after, size)
        evidence = {"tree_size": size, "root_hash": self.store.tree().root(size).hex()}
        result = analyze(
            obs, self.ag, self.params, self.threshold, evidence=evidence, model=self.model
        )
        fresh = json.loads(dumps(feature_collection(result.incidents, self.ag.frame)))["features"]
        self.shown = merge(self.shown, fresh, span)
        lone = json.loads(dumps(feature_collection(result.lone, self.ag.frame)))["features"]
        self.lone = merge(self.lone, lone, span)  # as an unplaced allegation would be
        text = dumps({"features": self.shown})
        summary = {
            **result.summary,
            "live": {
                "provisional": True,
                "span": list(span),
                "new_observations": len(new),
                "window": self.window.as_dict(),
            },
            "outputs": {"incidents_sha256": hashlib.sha256(text.encode()).hexdigest()},
        }
        run_id = self.store.add_run(summary, self.shown, tree_size=size, lone=self.lone)
        self.pending = True
        return Step("provisional", run_id, len(new), span)

    def finalise(self) -> Step:
        """The batch analysis of the whole log (``truceline analyze --db``), logged; a
        revision of an earlier final run is logged too."""
        outputs, run_id = analyze_logged(
            self.store,
            self.ag,
            self.agreement_files,
            self.out,
            threshold=self.threshold,
            model=self.model,
        )
        features = json.loads(outputs.text)["features"]
        rev = None
        if self.final is not None:
            rev = revision(self.final, features)
            if rev["added"] or rev["removed"]:
                rev = {**rev, "run": run_id}
                self.store.append("live_revision", [json.dumps(rev).encode()])
            else:
                rev = None
        self.shown = self.final = features
        self.lone = [f for f, _ in self.store.allegation_views(run=run_id)]
        self.pending = False
        self.backlog = []  # the batch run read them
        self.seen = max(self.seen, int(outputs.summary["evidence"]["tree_size"]))
        return Step("final", run_id, revision=rev)

    def run(self, poll_s: float = 0.2, stop: Callable[[], bool] = lambda: False) -> None:
        """Step until ``stop()``, sleeping ``poll_s`` whenever there was nothing to do."""
        while not stop():
            if self.step().action == "idle":
                time.sleep(poll_s)


def _logged(store: Store, start: int, end: int) -> list[Observation]:
    """The observations of log entries ``[start, end)``, as read back from the log."""
    where = f"{store.where}#log"
    cur = store._x(
        "SELECT idx, entry, leaf FROM log_entries WHERE kind = 'observation' AND idx >= ? "
        "AND idx < ? ORDER BY idx",
        (start, end),
    )
    return [
        replace(parse_record(json.loads(entry)["observation"], where, int(idx)), leaf=bytes(leaf))
        for idx, entry, leaf in cur
    ]


def _in_time(store: Store, start_us: int, end_us: int, size: int) -> list[Observation]:
    """The logged observations (of the first ``size`` entries) with ``start <= time <= end``,
    as read back from the log (with their leaf hashes: incident ids are over them)."""
    where = f"{store.where}#log"
    cur = store._x(
        "SELECT l.idx, l.entry, l.leaf FROM observations o JOIN log_entries l "
        "ON l.idx = o.log_index WHERE o.time_us >= ? AND o.time_us <= ? AND l.idx < ? "
        "ORDER BY l.idx",
        (start_us, end_us, size),
    )
    return [
        replace(parse_record(json.loads(entry)["observation"], where, int(idx)), leaf=bytes(leaf))
        for idx, entry, leaf in cur
    ]
