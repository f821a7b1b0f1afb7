"""Alerts on the live stream: the alert rules and the escalation detector
(:func:`truceline.publish.alerts.find_alerts`) over every run the live analyser publishes,
each alert not sent before delivered to a webhook, signed (HMAC-SHA256, with retries), and
logged as an ``alert`` entry of the evidence log.

An alert is sent once: by its kind, sector and time (:attr:`~truceline.publish.alerts.Alert.key`),
against what this process sent and what the log says was sent before it started, so a
restarted analyser does not send again. One raised from a provisional run says so
(``provisional: true``): the duty officer hears of a barrage as it falls, and the final run
that may revise it comes later. An alert whose delivery failed after its retries is logged
as failed and not sent again (a dead receiver would otherwise hold up every step).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from ..agreement import Agreement
from ..evidence import canonical
from ..publish.alerts import Alert, alert_key, deliver_all, find_alerts, log_records
from .live import Step
from .records import Store

__all__ = ["LiveAlerts"]


@dataclass
class LiveAlerts:
    """Alerts over each step's run of a :class:`~truceline.store.live.LiveAnalyser`."""

    store: Store
    ag: Agreement
    webhook: str | None
    secret: bytes
    options: dict[str, Any] = field(default_factory=dict)  # find_alerts' keywords
    sent: set[tuple[str, int, str]] = field(default_factory=set)

    def __post_init__(self) -> None:
        for entry in self.store.entries_of_kind("alert"):
            self.sent.add(alert_key(json.loads(entry)["alert"]))

    def after(self, step: Step) -> list[tuple[Alert, dict[str, Any] | None]]:
        """Deliver and log the alerts of ``step``'s run that were not sent before."""
        if step.run_id is None or step.action == "idle":
            return []
        found = find_alerts(self.store.incidents(step.run_id), self.ag, **self.options)
        provisional = step.action == "provisional"
        new = [replace(a, provisional=provisional) for a in found if a.key not in self.sent]
        if not new:
            return []
        results = deliver_all(new, self.webhook, self.secret)
        if self.webhook:
            records = log_records(results, self.webhook)
            self.store.append("alert", [canonical(r) for r in records])
        self.sent |= {a.key for a in new}
        return results
