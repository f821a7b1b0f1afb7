from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np

from truceline.agreement import Agreement
from truceline.localize.association import Partitioning, associate, picks_from
from truceline.observations import ObservationBatch, parse_lines


def test_association_finds_the_simulated_events(
    batch: ObservationBatch, agreement: Agreement, scenario: Path
) -> None:
    """Every sound the world made (each round of a salvo) that five sensors or more heard is
    found, close to where it was; few events are found that are no sound."""
    picks = picks_from(batch.observations, agreement.frame)
    ev = associate(picks)
    truth = {
        json.loads(line)["id"]: json.loads(line)
        for line in (scenario / "truth.jsonl").read_text().splitlines()
    }
    sounds = [json.loads(line) for line in (scenario / "sounds.jsonl").read_text().splitlines()]
    heard = []
    for s in sounds:
        t = truth[s["event"]]
        for phase in ("launch", "impact"):
            if t["detections"][phase] >= 5:  # the event's first round: a proxy for its rounds
                heard.append(agreement.frame.forward(*s[phase]))
    pts = np.array([[float(x), float(y)] for x, y in heard])
    found = np.column_stack([ev.fit.x, ev.fit.y])
    d = np.hypot(pts[:, None, 0] - found[None, :, 0], pts[:, None, 1] - found[None, :, 1]).min(
        axis=1
    )
    assert (d < 200).mean() >= 0.9  # recall of sounds whose firing five or more sensors heard
    assert np.median(d[d < 200]) < 20.0
    every = np.array(
        [
            [float(v) for v in agreement.frame.forward(*s[p])]
            for s in sounds
            for p in ("launch", "impact")
        ]
    )
    off = np.hypot(
        found[:, None, 0] - every[None, :, 0], found[:, None, 1] - every[None, :, 1]
    ).min(axis=1)
    assert (off > 1_000).mean() <= 0.1  # events more than a kilometre from any sound


def test_input_order_does_not_change_association(
    batch: ObservationBatch, agreement: Agreement
) -> None:
    acoustic = [o for o in batch.observations if o.type == "acoustic"][:1500]
    lines = [json.dumps(o.raw) for o in acoustic]
    random.Random(5).shuffle(lines)
    shuffled = parse_lines(lines, "s.jsonl").observations
    a = associate(picks_from(acoustic, agreement.frame))
    b = associate(picks_from(shuffled, agreement.frame))
    assert len(a) >= 20  # the slice holds events: equality of two empty results proves nothing
    assert np.array_equal(a.fit.x, b.fit.x) and np.array_equal(a.fit.y, b.fit.y)
    assert [g.tolist() for g in a.picks] == [g.tolist() for g in b.picks]


def test_windows_of_time_find_what_one_pass_finds(
    batch: ObservationBatch, agreement: Agreement
) -> None:
    """Association by 15-minute windows with halos (events across every boundary) finds the
    very events of one pass over the day: the same picks, the same places."""
    picks = picks_from(batch.observations, agreement.frame)
    one = associate(picks, wind_sigma_ms=5.0)
    windows = associate(picks, wind_sigma_ms=5.0, partitions=Partitioning(core_s=900.0))
    assert len(one) > 100
    edges = np.arange(float(picks.t[0]) + 900.0, float(picks.t[-1]), 900.0)
    across = sum(
        bool(np.any((picks.t[g].min() < edges) & (picks.t[g].max() >= edges))) for g in one.picks
    )
    assert across >= 10  # events whose picks straddle a window's edge
    assert [g.tolist() for g in one.picks] == [g.tolist() for g in windows.picks]
    assert np.array_equal(one.fit.x, windows.fit.x) and np.array_equal(one.fit.y, windows.fit.y)
    assert np.array_equal(one.fit.t0, windows.fit.t0)


def test_busy_night() -> None:
    """2,000 events an hour on a 100 km sector, 200 sensors, 5 % false picks (a 15-minute slice)."""
    from truceline.simulate.acoustic_field import acoustic_field

    field = acoustic_field(seed=11, n_events=500, duration_s=900.0)
    ev = associate(field.picks, max_range_m=20_000.0)
    recall, false = field.score(ev.picks)
    assert recall >= 0.98
    assert false <= 0.02
    err = [
        np.hypot(ev.fit.x[i] - field.ex[k], ev.fit.y[i] - field.ey[k])
        for i, g in enumerate(ev.picks)
        for k in [int(np.bincount(field.event_of[g][field.event_of[g] >= 0]).argmax())]
        if (field.event_of[g] >= 0).any()
    ]
    assert np.median(err) < 10.0
