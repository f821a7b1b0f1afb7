"""Simulated days for scoring: the step every benchmark and fitting tool shares.

The seeds a command line names (``"1-10"`` or ``"1,4,7"``), one day simulated into a
directory and read back (its agreement and observations), and one figure of an
:func:`truceline.evaluate.evaluate` report by its dotted path.

>>> seed_list("3-5"), seed_list("1,4")
([3, 4, 5], [1, 4])
>>> figure({"kinds": {"fire": {"recall": 0.9}}}, "kinds.fire.recall")
0.9
>>> figure({"kinds": {}}, "kinds.fire.recall") is None
True
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..agreement import Agreement, load_agreement

if TYPE_CHECKING:
    from ..simulate.world import World
from ..observations import Observation

__all__ = ["figure", "seed_list", "simulated_day"]


def seed_list(text: str) -> list[int]:
    """The seeds of ``"A-B"`` (both included) or of a comma-separated list."""
    if "-" in text:
        a, b = text.split("-")
        return list(range(int(a), int(b) + 1))
    return [int(s) for s in text.split(",")]


def figure(report: dict[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` of a report, or None where any step is missing."""
    v: Any = report
    for k in path.split("."):
        if not isinstance(v, dict) or k not in v:
            return None
        v = v[k]
    return v


def simulated_day(
    root: Path, world: str | World, seed: int, hours: float, **options: Any
) -> tuple[Agreement, list[Observation]]:
    """Simulate one day of ``world`` into ``root / "sc"`` (``options`` go to the
    simulator) and read back its agreement and observations, as a user's run would."""
    from ..simulate import simulate
    from ..sources import read_observations

    simulate(root / "sc", seed=seed, hours=hours, world=world, **options)
    ag = load_agreement(root / "sc" / "agreement.yaml")
    return ag, read_observations([root / "sc" / "observations.jsonl"]).observations
