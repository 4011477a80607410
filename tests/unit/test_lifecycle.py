"""The incident state machine (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.core.errors import ErrorCode, InvalidTransition
from backend.incidents import lifecycle
from backend.incidents.lifecycle import Transition
from backend.incidents.models import IncidentStatus

S = IncidentStatus
T = Transition

ALLOWED = {
    (S.OPEN, T.ACKNOWLEDGE): S.ACKNOWLEDGED,
    (S.OPEN, T.RESOLVE): S.RESOLVED,
    (S.ACKNOWLEDGED, T.RESOLVE): S.RESOLVED,
    (S.RESOLVED, T.CLOSE): S.CLOSED,
    (S.RESOLVED, T.REOPEN): S.OPEN,
}


@pytest.mark.parametrize("status", list(S), ids=str)
@pytest.mark.parametrize("transition", list(T), ids=str)
def test_every_pair_is_allowed_exactly_as_the_table_says(status: S, transition: T) -> None:
    expected = ALLOWED.get((status, transition))
    assert lifecycle.can(status, transition) is (expected is not None)
    if expected is not None:
        assert lifecycle.apply(status, transition) is expected
        return
    with pytest.raises(InvalidTransition) as caught:
        lifecycle.apply(status, transition)
    assert caught.value.code is ErrorCode.INVALID_TRANSITION
    assert caught.value.extra == {"status": status.value, "transition": transition.value}


def test_only_open_incidents_page_and_closed_ones_are_not_edited() -> None:
    assert [s for s in S if not lifecycle.stops_escalation(s)] == [S.OPEN]
    lifecycle.ensure_editable(S.RESOLVED, "edit")
    with pytest.raises(InvalidTransition):
        lifecycle.ensure_editable(S.CLOSED, "edit")


@given(st.lists(st.sampled_from(list(T)), max_size=30))
def test_any_sequence_stays_in_the_machine_and_closed_is_final(steps: list[T]) -> None:
    status = S.OPEN
    for transition in steps:
        if lifecycle.can(status, transition):
            status = lifecycle.apply(status, transition)
        if status is S.CLOSED:
            assert not any(lifecycle.can(status, t) for t in T)
    assert status in set(S)
