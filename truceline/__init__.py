"""Truceline: ceasefire monitoring and verification.

Observations from acoustic sensors, drones, satellites and monitoring patrols are fused into
located incidents, attributed to a party with a stated probability, and judged against the
machine-readable terms of a ceasefire.

The public API:

- :func:`load_agreement` — the ceasefire as code (:mod:`truceline.agreement`)
- :func:`read_observations` — validated observations (:mod:`truceline.sources`)
- :func:`analyze` — localise, fuse, attribute and judge (:mod:`truceline.analysis`)
- :func:`simulate` — a seeded simulated front with ground truth (:mod:`truceline.simulate`)
- :func:`evaluate` — score incidents against ground truth (:mod:`truceline.evaluate`)

The layers (``docs/architecture.md``): the core is this package's modules and its
``sources``, ``localize``, ``fusion``, ``publish`` and ``simulate`` packages, pure functions
over arrays and tables; ``store``, ``api``, ``cli`` and ``web`` wrap it, and the core never
imports them.
"""

from __future__ import annotations

from ._version import __version__
from .agreement import Agreement, load_agreement
from .analysis import analyze
from .errors import InputError, TrucelineError
from .evaluate import evaluate
from .simulate import simulate
from .sources import read_observations

__all__ = [
    "Agreement",
    "InputError",
    "TrucelineError",
    "__version__",
    "analyze",
    "evaluate",
    "load_agreement",
    "read_observations",
    "simulate",
]
