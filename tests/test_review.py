"""The commission's case workflow as pure functions over a case's history."""

from __future__ import annotations

import pytest

from truceline import review
from truceline._time import format_time
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
        (review.reopen(T0 + DAY, "c", "FR", "new evidence"), T0 + 9 * DAY, "only a ruled case"),
        # the old one-commissioner reopening is read from a log, never accepted now
        (review.reopened(T0 + DAY, "c", "new evidence"), T0 + 9 * DAY, "unknown event"),
        # a look-alike member state signs nothing
        (
            review.ruling(T0 + DAY, "c", "FR\u200b", "violation", "S", "C1", ""),
            T0 + 9 * DAY,
            "ISO 3166-1",
        ),
    ],
)
def test_events_the_state_does_not_allow_are_refused(
    event: dict[str, object], now: int, reason: str
) -> None:
    with pytest.raises(ReviewError, match=reason):
        review.check_event([_opened()], event, now, 2)


def _ruled() -> list[dict[str, object]]:
    return [
        _opened(reply_days=0.5),
        review.ruling(T0 + DAY, "com-fr", "FR", "violation", "S", "C1", "Stop."),
        review.ruling(T0 + DAY, "com-de", "DE", "violation", "S", "C1", "Stop."),
    ]


def test_reopening_keeps_the_earlier_ruling_in_the_history() -> None:
    events = [
        *_ruled(),
        review.reopen(T0 + 2 * DAY, "com-fr", "FR", "new evidence", reply_days=1),
        review.reopen(T0 + 2 * DAY + 5, "com-de", "DE", "new evidence", reply_days=1),
    ]
    state = review.case_state(events, T0 + 2 * DAY + 6, 2)
    assert state["status"] == "awaiting_reply" and state["ruling"] is None
    assert state["earlier_rulings"][0]["clause"] == "C1"
    assert "superseded" in state["earlier_rulings"][0]
    assert state["reply_by"] == format_time(T0 + 3 * DAY + 5)
    # a log written before reopening needed a quorum reads as it was
    old = [*_ruled(), review.reopened(T0 + 2 * DAY, "com-fr", "new evidence", reply_days=1)]
    assert review.case_state(old, T0 + 2 * DAY, 2)["status"] == "awaiting_reply"


def test_hole_5_one_commissioner_cannot_void_a_ruling_two_states_signed() -> None:
    events = _ruled()
    one = review.reopen(T0 + 2 * DAY, "com-fr", "FR", "new evidence")
    review.check_event(events, one, T0 + 2 * DAY, 2)
    events.append(one)
    state = review.case_state(events, T0 + 2 * DAY, 2)
    assert state["status"] == "ruled" and state["ruling"]["clause"] == "C1"
    # nor twice, nor with a second commissioner of the same state, nor a look-alike state
    with pytest.raises(ReviewError, match="already signed"):
        review.check_event(events, one, T0 + 2 * DAY, 2)
    for extra in (
        review.reopen(T0 + 2 * DAY, "com-fr-2", "FR", "new evidence"),
        review.reopen(T0 + 2 * DAY, "com-x", "FR\u200b", "new evidence"),
    ):
        assert review.case_state([*events, extra], T0 + 2 * DAY, 2)["status"] == "ruled"
    # a different reason is a different reopening: signatures are on the exact content
    other = review.reopen(T0 + 2 * DAY, "com-de", "DE", "other evidence")
    assert review.case_state([*events, other], T0 + 2 * DAY, 2)["status"] == "ruled"


def test_hole_7_a_look_alike_member_state_does_not_make_a_quorum() -> None:
    events = [
        _opened(reply_days=0.5),
        review.ruling(T0 + DAY, "com-fr", "FR", "violation", "S", "C1", "Stop."),
        review.ruling(T0 + DAY, "com-fr-x", "FR\u200b", "violation", "S", "C1", "Stop."),
        review.ruling(T0 + DAY, "com-fr-y", "fr", "violation", "S", "C1", "Stop."),
    ]
    state = review.case_state(events, T0 + DAY, 2)
    assert state["ruling"] is None and state["status"] == "under_review"


def test_reply_windows_have_a_minimum() -> None:
    review.check_reply_days(2.0, 2.0)
    for bad in (0.00001, 1.9, float("nan"), 91.0):
        with pytest.raises(ReviewError, match="at least 2 days"):
            review.check_reply_days(bad, 2.0)


def test_a_commissioner_takes_one_position_a_round() -> None:
    events = [
        _opened(reply_days=0.5),
        review.ruling(T0 + DAY, "com-fr", "FR", "violation", "S", "C1", ""),
    ]
    again = review.ruling(T0 + DAY, "com-fr", "FR", "no_violation", None, None, "")
    with pytest.raises(ReviewError, match="already taken a position"):
        review.check_event(events, again, T0 + DAY, 2)


def test_a_party_not_in_the_case_is_refused_before_anything_about_its_state() -> None:
    """The refusal of a third party's reply says nothing of when the window closed."""
    t0 = 1_772_323_200_000_000
    events = [review.opened(t0, "a", incident="i", accused="S", reply_days=7)]
    events.append(review.close_replies(t0 + 1, "com-fr"))  # (as logged: closed early)
    with pytest.raises(ReviewError, match="only the accused party or the filer") as err:
        review.check_event(events, review.reply(t0 + 2, "p-n", "N", "x"), t0 + 2, 2)
    assert "closed at" not in str(err.value)
