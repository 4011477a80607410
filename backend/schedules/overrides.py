"""Override and shift-swap commands. The only writer of overrides and swaps.

Who may do what:

* an override for yourself: RESPONDER+ of the schedule's team; for someone else: TEAM_ADMIN;
* a swap: requested by the shift owner (RESPONDER+) or a TEAM_ADMIN on their behalf; accepted
  or declined by the counterpart; cancelled by the requester or a TEAM_ADMIN; forced (accepted
  without the counterpart) by a TEAM_ADMIN.

Every command audits and publishes like :mod:`backend.schedules.service`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session

from backend.audit.models import Severity
from backend.core import clock
from backend.core.actor import Actor, require_authenticated
from backend.core.db import unit_of_work
from backend.core.errors import FieldError, PermissionDenied, ValidationFailed
from backend.schedules import queries
from backend.schedules.errors import (
    OverrideNotFound,
    OverrideOverlaps,
    SwapNotFound,
    SwapNotPending,
)
from backend.schedules.models import Schedule, ScheduleOverride, ShiftSwap, SwapStatus
from backend.schedules.oncall import MAX_RANGE, check_range, engine
from backend.schedules.schemas import OverrideCreate, OverrideOut, SwapCreate, SwapOut
from backend.schedules.service import load, load_for, record, require_rotating_members
from backend.teams.policy import TeamAction
from backend.teams.service import authorize


class SwapDecision(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    CANCEL = "cancel"
    FORCE = "force"


def _subject(actor: Actor, given: int | None, field: str) -> int:
    user_id = given if given is not None else actor.user_id
    if user_id is None:
        raise ValidationFailed.field(field, "required when not acting as a user")
    return user_id


def _authorize_for(session: Session, actor: Actor, schedule: Schedule, user_id: int) -> None:
    """Acting for yourself needs RESPONDER+; for someone else TEAM_ADMIN."""
    action = TeamAction.RESPOND if user_id == actor.user_id else TeamAction.EDIT
    authorize(session, actor, schedule.team_id, action)


def _require_future(end: datetime, field: str, what: str) -> None:
    if end <= clock.now():
        raise ValidationFailed(
            f"{what} is in the past", errors=[FieldError(("body", field), f"{what} is in the past")]
        )


def create_override(actor: Actor, schedule_id: int, data: OverrideCreate) -> OverrideOut:
    """Put someone on call for ``[start, end)`` above every layer.

    Raises:
        ScheduleNotFound, PermissionDenied, ValidationFailed (not a responder of the team,
        already over, longer than 93 days), OverrideOverlaps.
    """
    require_authenticated(actor)
    user_id = _subject(actor, data.user_id, "user_id")
    with unit_of_work() as uow:
        schedule = load(uow.session, schedule_id)
        _authorize_for(uow.session, actor, schedule, user_id)
        require_rotating_members(uow.session, schedule.team_id, [user_id], "user_id", indexed=False)
        _require_future(data.end, "end", "the override")
        if data.end - data.start > MAX_RANGE:
            raise ValidationFailed.field("end", f"at most {MAX_RANGE.days} days")
        clashes = queries.overrides(uow.session, schedule_id, data.start, data.end)
        if clashes:
            ids = ", ".join(str(o.id) for o in clashes)
            raise OverrideOverlaps(f"The range overlaps override(s) {ids} of this schedule.")
        row = ScheduleOverride(
            schedule_id=schedule_id,
            user_id=user_id,
            start_at=data.start,
            end_at=data.end,
            reason=data.reason,
            created_by_label=actor.label,
        )
        uow.session.add(row)
        uow.session.flush()
        diff = {"override_id": row.id, "after": _override_snapshot(row)}
        record(uow, actor, "schedules.override.created", schedule, diff)
        return override_out(row)


def delete_override(actor: Actor, schedule_id: int, override_id: int) -> None:
    """Remove an override: your own (RESPONDER+) or anyone's (TEAM_ADMIN).

    Raises:
        ScheduleNotFound, OverrideNotFound, PermissionDenied.
    """
    require_authenticated(actor)
    with unit_of_work() as uow:
        schedule = load(uow.session, schedule_id)
        row = uow.session.get(ScheduleOverride, override_id)
        if row is None or row.schedule_id != schedule_id:
            raise OverrideNotFound(f"Override {override_id} is not in schedule {schedule_id}.")
        _authorize_for(uow.session, actor, schedule, row.user_id)
        diff = {"override_id": override_id, "before": _override_snapshot(row)}
        uow.session.delete(row)
        record(uow, actor, "schedules.override.deleted", schedule, diff)


def list_overrides(
    actor: Actor, schedule_id: int, start: datetime, end: datetime
) -> list[OverrideOut]:
    """Overrides overlapping ``[start, end)``.

    Raises:
        Unauthenticated, ScheduleNotFound, ValidationFailed (bad or too long range).
    """
    require_authenticated(actor)
    check_range(start, end)
    with unit_of_work() as uow:
        load(uow.session, schedule_id)
        return [override_out(o) for o in queries.overrides(uow.session, schedule_id, start, end)]


def request_swap(actor: Actor, schedule_id: int, data: SwapCreate) -> SwapOut:
    """Ask ``counterpart_id`` to take ``[start, end)`` of the requester's on-call time.

    Raises:
        ScheduleNotFound, PermissionDenied, ValidationFailed (past shift, not the requester's
        time, counterpart not a responder of the team, same person).
    """
    require_authenticated(actor)
    requester = _subject(actor, data.requester_id, "requester_id")
    with unit_of_work() as uow:
        schedule = load(uow.session, schedule_id)
        _authorize_for(uow.session, actor, schedule, requester)
        if data.counterpart_id == requester:
            raise ValidationFailed.field("counterpart_id", "pick someone other than the requester")
        require_rotating_members(
            uow.session, schedule.team_id, [data.counterpart_id], "counterpart_id", indexed=False
        )
        _require_swappable(uow.session, schedule, requester, data.start, data.end)
        row = ShiftSwap(
            schedule_id=schedule_id,
            requester_id=requester,
            counterpart_id=data.counterpart_id,
            start_at=data.start,
            end_at=data.end,
            status=SwapStatus.REQUESTED,
            reason=data.reason,
        )
        uow.session.add(row)
        uow.session.flush()
        record(uow, actor, "schedules.swap.requested", schedule, _swap_diff(row))
        return swap_out(row)


def _require_swappable(
    session: Session, schedule: Schedule, requester: int, start: datetime, end: datetime
) -> None:
    if start <= clock.now():
        raise ValidationFailed.field("start", "the shift has already started: it cannot be swapped")
    if end - start > MAX_RANGE:
        raise ValidationFailed.field("end", f"at most {MAX_RANGE.days} days")
    final = engine(session, schedule, start, end).final(start, end)
    covered = (
        bool(final)
        and final[0].start == start
        and final[-1].end == end
        and all(a.end == b.start for a, b in itertools.pairwise(final))
        and all(s.user_id == requester for s in final)
    )
    if not covered:
        raise ValidationFailed.field("start", "the requester is not on call for the whole range")


def _accept(actor: Actor, session: Session, row: ShiftSwap, schedule: Schedule) -> SwapStatus:
    if actor.user_id != row.counterpart_id:
        raise PermissionDenied("Only the counterpart can accept a swap; an admin can force it.")
    if row.start_at <= clock.now():
        raise ValidationFailed.field("start", "this shift has already started")
    return SwapStatus.ACCEPTED


def _decline(actor: Actor, session: Session, row: ShiftSwap, schedule: Schedule) -> SwapStatus:
    if actor.user_id != row.counterpart_id:
        raise PermissionDenied("Only the counterpart can decline a swap.")
    return SwapStatus.DECLINED


def _cancel(actor: Actor, session: Session, row: ShiftSwap, schedule: Schedule) -> SwapStatus:
    if actor.user_id != row.requester_id:
        authorize(session, actor, schedule.team_id, TeamAction.EDIT)
    if row.start_at <= clock.now():
        raise ValidationFailed.field("start", "this shift has already started")
    return SwapStatus.CANCELLED


def _force(actor: Actor, session: Session, row: ShiftSwap, schedule: Schedule) -> SwapStatus:
    authorize(session, actor, schedule.team_id, TeamAction.EDIT)
    if row.start_at <= clock.now():
        raise ValidationFailed.field("start", "this shift has already started")
    return SwapStatus.FORCED


Decide = Callable[[Actor, Session, ShiftSwap, Schedule], SwapStatus]
# What each decision checks, and the states it may leave.
_DECISIONS: dict[SwapDecision, tuple[Decide, set[SwapStatus]]] = {
    SwapDecision.ACCEPT: (_accept, {SwapStatus.REQUESTED}),
    SwapDecision.DECLINE: (_decline, {SwapStatus.REQUESTED}),
    SwapDecision.CANCEL: (_cancel, {SwapStatus.REQUESTED, SwapStatus.ACCEPTED, SwapStatus.FORCED}),
    SwapDecision.FORCE: (_force, {SwapStatus.REQUESTED}),
}


def decide_swap(actor: Actor, schedule_id: int, swap_id: int, decision: SwapDecision) -> SwapOut:
    """Accept, decline, cancel or force a swap.

    Raises:
        ScheduleNotFound, SwapNotFound, PermissionDenied, SwapNotPending (already decided),
        ValidationFailed (the shift has started).
    """
    with unit_of_work() as uow:
        schedule = load_for(uow.session, actor, schedule_id, TeamAction.VIEW)
        row = uow.session.get(ShiftSwap, swap_id)
        if row is None or row.schedule_id != schedule_id:
            raise SwapNotFound(f"Swap {swap_id} is not in schedule {schedule_id}.")
        decide, allowed_from = _DECISIONS[decision]
        if SwapStatus(row.status) not in allowed_from:
            raise SwapNotPending(f"The swap is {SwapStatus(row.status).value}; cannot {decision}.")
        new_status = decide(actor, uow.session, row, schedule)
        old_status = SwapStatus(row.status)
        row.status = new_status
        row.decided_by_label = actor.label
        row.decided_at = clock.now()
        uow.session.add(row)
        severity = Severity.HIGH if new_status is SwapStatus.FORCED else Severity.MEDIUM
        diff = {**_swap_diff(row), "status": [old_status.value, new_status.value]}
        record(uow, actor, f"schedules.swap.{new_status.value}", schedule, diff, severity)
        return swap_out(row)


def list_swaps(actor: Actor, schedule_id: int) -> list[SwapOut]:
    """Every swap of a schedule, by shift start.

    Raises:
        Unauthenticated, ScheduleNotFound.
    """
    require_authenticated(actor)
    with unit_of_work() as uow:
        load(uow.session, schedule_id)
        return [swap_out(s) for s in queries.swaps_of_schedule(uow.session, schedule_id)]


def _override_snapshot(row: ScheduleOverride) -> dict[str, object]:
    return {
        "user_id": row.user_id,
        "start": row.start_at.isoformat(),
        "end": row.end_at.isoformat(),
        "reason": row.reason,
    }


def _swap_diff(row: ShiftSwap) -> dict[str, object]:
    return {
        "swap_id": row.id,
        "requester_id": row.requester_id,
        "counterpart_id": row.counterpart_id,
        "start": row.start_at.isoformat(),
        "end": row.end_at.isoformat(),
    }


def override_out(row: ScheduleOverride) -> OverrideOut:
    assert row.id is not None
    return OverrideOut(
        id=row.id,
        schedule_id=row.schedule_id,
        user_id=row.user_id,
        start=row.start_at,
        end=row.end_at,
        reason=row.reason,
        created_by_label=row.created_by_label,
    )


def swap_out(row: ShiftSwap) -> SwapOut:
    assert row.id is not None
    return SwapOut(
        id=row.id,
        schedule_id=row.schedule_id,
        requester_id=row.requester_id,
        counterpart_id=row.counterpart_id,
        start=row.start_at,
        end=row.end_at,
        status=SwapStatus(row.status),
        reason=row.reason,
        decided_by_label=row.decided_by_label,
    )
