"""Shift swaps: request, accept, decline, cancel, force; refusals change nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlmodel import select

from backend.audit.models import AuditEntry
from backend.core.db import unit_of_work
from backend.core.errors import ErrorCode, PermissionDenied, ValidationFailed
from backend.schedules import oncall, overrides
from backend.schedules.errors import SwapNotPending
from backend.schedules.models import ShiftSwap, SwapStatus
from backend.schedules.overrides import SwapDecision
from backend.schedules.schemas import SwapCreate
from tests.factories.identity import actor_of
from tests.factories.schedules import Crew, make_crew, make_schedule

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
# Daily 09:00 Berlin (08:00Z) from Monday 2026-03-02: ann, ben, cat, ann, ...
BEN_SHIFT = (datetime(2026, 3, 3, 8, tzinfo=UTC), datetime(2026, 3, 4, 8, tzinfo=UTC))


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def crew() -> Crew:
    return make_crew()


@pytest.fixture
def schedule_id(crew: Crew) -> int:
    return make_schedule(crew, starts_on=date(2026, 3, 2))


def swaps_and_audit() -> tuple[list[tuple[int, str]], int]:
    with unit_of_work() as uow:
        swaps = [
            (s.id or 0, SwapStatus(s.status).value) for s in uow.session.exec(select(ShiftSwap))
        ]
        return swaps, len(list(uow.session.exec(select(AuditEntry))))


def request(crew: Crew, schedule_id: int, who: str = "ben", to: str = "cat") -> int:
    body = SwapCreate(start=BEN_SHIFT[0], end=BEN_SHIFT[1], counterpart_id=crew.id(to))
    return overrides.request_swap(actor_of(getattr(crew, who)), schedule_id, body).id


def oncall_user(crew: Crew, schedule_id: int, at: datetime) -> int | None:
    answer = oncall.oncall(actor_of(crew.outsider), schedule_id, at)
    return answer.shift.user_id if answer.shift else None


@pytest.mark.parametrize(
    ("_case", "decider", "decision", "status", "on_call"),
    [
        ("counterpart accepts", "cat", SwapDecision.ACCEPT, SwapStatus.ACCEPTED, "cat"),
        ("counterpart declines", "cat", SwapDecision.DECLINE, SwapStatus.DECLINED, "ben"),
        ("requester cancels", "ben", SwapDecision.CANCEL, SwapStatus.CANCELLED, "ben"),
        ("admin forces", "admin", SwapDecision.FORCE, SwapStatus.FORCED, "cat"),
    ],
)
def test_swap_decisions(
    crew: Crew,
    schedule_id: int,
    _case: str,
    decider: str,
    decision: SwapDecision,
    status: SwapStatus,
    on_call: str,
) -> None:
    swap_id = request(crew, schedule_id)
    assert oncall_user(crew, schedule_id, BEN_SHIFT[0]) == crew.id("ben")
    decided = overrides.decide_swap(
        actor_of(getattr(crew, decider)), schedule_id, swap_id, decision
    )
    assert decided.status is status
    middle = BEN_SHIFT[0] + (BEN_SHIFT[1] - BEN_SHIFT[0]) / 2
    assert oncall_user(crew, schedule_id, middle) == crew.id(on_call)
    with unit_of_work() as uow:
        actions = [e.action for e in uow.session.exec(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions[-2:] == ["schedules.swap.requested", f"schedules.swap.{status.value}"]


@pytest.mark.parametrize(
    ("_case", "decider", "decision"),
    [
        ("requester cannot accept for the counterpart", "ben", SwapDecision.ACCEPT),
        ("a bystander cannot accept", "ann", SwapDecision.ACCEPT),
        ("a responder cannot force", "cat", SwapDecision.FORCE),
        ("a bystander cannot cancel", "ann", SwapDecision.CANCEL),
        ("an observer cannot decline", "observer", SwapDecision.DECLINE),
    ],
)
def test_swap_decisions_refused(
    crew: Crew, schedule_id: int, _case: str, decider: str, decision: SwapDecision
) -> None:
    swap_id = request(crew, schedule_id)
    before = swaps_and_audit()
    with pytest.raises(PermissionDenied):
        overrides.decide_swap(actor_of(getattr(crew, decider)), schedule_id, swap_id, decision)
    assert swaps_and_audit() == before


def test_a_decided_swap_cannot_be_decided_again(crew: Crew, schedule_id: int) -> None:
    swap_id = request(crew, schedule_id)
    overrides.decide_swap(actor_of(crew.cat), schedule_id, swap_id, SwapDecision.DECLINE)
    before = swaps_and_audit()
    with pytest.raises(SwapNotPending) as info:
        overrides.decide_swap(actor_of(crew.cat), schedule_id, swap_id, SwapDecision.ACCEPT)
    assert info.value.code is ErrorCode.INVALID_TRANSITION
    assert swaps_and_audit() == before


@pytest.mark.parametrize(
    ("_case", "start", "end", "who", "to", "loc"),
    [
        (
            "past shift",
            datetime(2026, 3, 1, 8, tzinfo=UTC),
            datetime(2026, 3, 2, 8, tzinfo=UTC),
            "ben",
            "cat",
            ("body", "start"),
        ),
        ("not the requester's time", *BEN_SHIFT, "ann", "cat", ("body", "start")),
        ("counterpart not a responder", *BEN_SHIFT, "ben", "observer", ("body", "counterpart_id")),
        ("swap with yourself", *BEN_SHIFT, "ben", "ben", ("body", "counterpart_id")),
    ],
)
def test_bad_swap_requests_change_nothing(
    crew: Crew,
    schedule_id: int,
    _case: str,
    start: datetime,
    end: datetime,
    who: str,
    to: str,
    loc: tuple[str, ...],
) -> None:
    before = swaps_and_audit()
    body = SwapCreate(start=start, end=end, counterpart_id=crew.id(to))
    with pytest.raises(ValidationFailed) as info:
        overrides.request_swap(actor_of(getattr(crew, who)), schedule_id, body)
    assert [e.loc for e in info.value.errors] == [loc]
    assert swaps_and_audit() == before


def test_accepting_after_the_shift_started_is_refused(crew: Crew, schedule_id: int) -> None:
    swap_id = request(crew, schedule_id)
    with time_machine.travel(BEN_SHIFT[0], tick=False):
        before = swaps_and_audit()
        with pytest.raises(ValidationFailed):
            overrides.decide_swap(actor_of(crew.cat), schedule_id, swap_id, SwapDecision.ACCEPT)
        assert swaps_and_audit() == before
    assert [s.status for s in overrides.list_swaps(actor_of(crew.ann), schedule_id)] == [
        SwapStatus.REQUESTED
    ]
