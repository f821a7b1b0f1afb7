"""The commission's case workflow as pure functions over a case's history."""

from __future__ import annotations

import pytest

from truceline import review
from truceline.errors import ReviewError

T0 = 1_772_323_200_000_000
DAY = 86_400_000_000


def _opened(reply_days: float = 7.0) -> dict[str, object]:
    return review.opened(
        T0, "an-1", incident="inc-1", accused="S", filed_by="N", reply_days=reply_days
    )


def test_a_case_awaits_replies_then_is_under_review_then_ruled() -> None:
    events = [_opened(reply_days=2)]
    assert review.case_state(events, T0 + DAY, 2)["status"] == "awaiting_reply"
    assert review.case_state(events, T0 + 3 * DAY, 2)["status"] == "under_review"
    events.append(review.ruling(T0 + 3 * DAY, "com-fr", "FR", "violation", "S", "C1", "Stop."))
    state = review.case_state(events, T0 + 3 * DAY, 2)
    assert state["status"] == "under_review" and state["proposals"][0]["signed_by_states"] == ["FR"]
    events.append(review.ruling(T0 + 3 * DAY, "com-de", "DE", "violation", "S", "C1", "Stop."))
    state = review.case_state(events, T0 + 3 * DAY, 2)
    assert state["status"] == "ruled" and state["ruling"]["signed_by_states"] == ["DE", "FR"]


def test_two_signatures_of_one_state_are_not_a_quorum() -> None:
    events = [
        _opened(reply_days=0.5),
        review.ruling(T0 + DAY, "com-fr-1", "FR", "no_violation", None, None, ""),
        review.ruling(T0 + DAY, "com-fr-2", "FR", "no_violation", None, None, ""),
    ]
    assert review.case_state(events, T0 + DAY, 2)["status"] == "under_review"


def test_signatures_on_different_content_do_not_add_up() -> None:
    events = [
        _opened(reply_days=0.5),
        review.ruling(T0 + DAY, "com-fr", "FR", "violation", "S", "C1", "Stop."),
        review.ruling(T0 + DAY, "com-de", "DE", "violation", "S", "C2", "Stop."),
    ]
    state = review.case_state(events, T0 + DAY, 2)
    assert state["status"] == "under_review" and len(state["proposals"]) == 2


@pytest.mark.parametrize(
    ("event", "now", "reason"),
    [
        (review.reply(T0 + DAY, "party-S", "S", "no"), T0 + 9 * DAY, "reply window closed"),
        (
            review.reply(T0 + DAY, "party-X", "X", "no"),
            T0 + DAY,
            "only the accused party or the filer",
        ),
        (
            review.ruling(T0 + DAY, "c", "FR", "violation", None, "C1", ""),
            T0 + 9 * DAY,
            "names the responsible",
        ),
        (
            review.ruling(T0 + DAY, "c", "FR", "violation", "S", "C1", ""),
            T0 + DAY,
            "may reply until",
        ),
        (review.reopened(T0 + DAY, "c", "new evidence"), T0 + 9 * DAY, "only a ruled case"),
    ],
)
def test_events_the_state_does_not_allow_are_refused(
    event: dict[str, object], now: int, reason: str
) -> None:
    with pytest.raises(ReviewError, match=reason):
        review.check_event([_opened()], event, now, 2)


def test_reopening_keeps_the_earlier_ruling_in_the_history() -> None:
    events = [
        _opened(reply_days=0.5),
        review.ruling(T0 + DAY, "com-fr", "FR", "violation", "S", "C1", "Stop."),
        review.ruling(T0 + DAY, "com-de", "DE", "violation", "S", "C1", "Stop."),
        review.reopened(T0 + 2 * DAY, "com-fr", "new evidence", reply_days=1),
    ]
    state = review.case_state(events, T0 + 2 * DAY, 2)
    assert state["status"] == "awaiting_reply" and state["ruling"] is None
    assert state["earlier_rulings"][0]["clause"] == "C1"
    assert "superseded" in state["earlier_rulings"][0]


def test_a_commissioner_takes_one_position_a_round() -> None:
    events = [
        _opened(reply_days=0.5),
        review.ruling(T0 + DAY, "com-fr", "FR", "violation", "S", "C1", ""),
    ]
    again = review.ruling(T0 + DAY, "com-fr", "FR", "no_violation", None, None, "")
    with pytest.raises(ReviewError, match="already taken a position"):
        review.check_event(events, again, T0 + DAY, 2)
