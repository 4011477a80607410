"""Reads that compute: timelines, final shifts and who is on call (schedule, team, user).

Rows are loaded for the range asked about, turned into the pure model of
:mod:`backend.schedules.rotation`, and the answer shaped as plain DTOs for the API and the UI.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta

from sqlmodel import Session

from backend.core import clock
from backend.core.actor import Actor, require_authenticated
from backend.core.db import unit_of_work
from backend.core.errors import FieldError, ValidationFailed
from backend.schedules import queries
from backend.schedules.errors import ScheduleNotFound
from backend.schedules.models import Schedule, ScheduleLayer, ScheduleOverride, ShiftSwap
from backend.schedules.rotation import (
    LayerSpec,
    Override,
    Shift,
    Source,
    Swap,
    Window,
    complement,
)
from backend.schedules.rotation import Schedule as Engine
from backend.schedules.schemas import GapOut, LayerRow, OnCallOut, ShiftOut, Timeline
from backend.teams import queries as team_queries
from backend.teams.errors import TeamNotFound

MAX_RANGE = timedelta(days=93)
# How far around "now" the current shift's start and end are looked for.
SHIFT_CONTEXT = timedelta(days=31)


def window_of(raw: dict[str, object]) -> Window:
    days = raw.get("days", [])
    assert isinstance(days, list)
    return Window(
        frozenset(int(d) for d in days),
        time.fromisoformat(str(raw["start"])),
        time.fromisoformat(str(raw["end"])),
    )


def spec_of(layer: ScheduleLayer) -> LayerSpec:
    assert layer.id is not None
    return LayerSpec(
        key=layer.id,
        name=layer.name,
        priority=layer.priority,
        participants=tuple(layer.participants),
        rrule=layer.rrule,
        handoff=layer.handoff_time,
        starts_on=layer.starts_on,
        restrictions=tuple(window_of(r) for r in layer.restrictions),
    )


def override_of(row: ScheduleOverride) -> Override:
    return Override(row.start_at, row.end_at, row.user_id, row.id)


def swap_of(row: ShiftSwap) -> Swap:
    return Swap(row.start_at, row.end_at, row.requester_id, row.counterpart_id, row.id)


def engine(session: Session, schedule: Schedule, start: datetime, end: datetime) -> Engine:
    """The pure model of ``schedule`` with the overrides and swaps touching ``[start, end)``."""
    assert schedule.id is not None
    return Engine(
        schedule.time_zone,
        [spec_of(layer) for layer in queries.layers(session, schedule.id)],
        [override_of(o) for o in queries.overrides(session, schedule.id, start, end)],
        [swap_of(s) for s in queries.swaps(session, schedule.id, start, end)],
    )


def check_range(start: datetime, end: datetime, *, where: str = "query") -> None:
    """Raises ValidationFailed unless ``[start, end)`` is aware, ordered and at most 93 days."""
    errors: list[FieldError] = []
    for name, value in (("start", start), ("end", end)):
        if value.tzinfo is None:
            errors.append(FieldError((where, name), "give a time zone offset (e.g. Z)"))
    if not errors and end <= start:
        errors.append(FieldError((where, "end"), "end must be after start"))
    if not errors and end - start > MAX_RANGE:
        errors.append(FieldError((where, "end"), f"at most {MAX_RANGE.days} days at a time"))
    if errors:
        raise ValidationFailed("; ".join(e.msg for e in errors), errors=errors)


def shift_out(shift: Shift, names: dict[int, str]) -> ShiftOut:
    ref = shift.ref
    return ShiftOut(
        start=shift.start,
        end=shift.end,
        user_id=shift.user_id,
        user_name=names.get(shift.user_id, f"user {shift.user_id}"),
        source=shift.source,
        layer_id=shift.layer,
        override_id=ref if shift.source is Source.OVERRIDE else None,
        swap_id=ref if shift.source is Source.SWAP else None,
    )


def _names(session: Session, shifts: Iterable[Shift]) -> dict[int, str]:
    return queries.user_names(session, (s.user_id for s in shifts))


def _load(session: Session, schedule_id: int) -> Schedule:
    schedule = queries.schedule_by_id(session, schedule_id)
    if schedule is None:
        raise ScheduleNotFound(f"Schedule {schedule_id} does not exist.")
    return schedule


def timeline(actor: Actor, schedule_id: int, start: datetime, end: datetime) -> Timeline:
    """Each layer's shifts, the final schedule and its gaps in ``[start, end)``.

    Raises:
        Unauthenticated, ScheduleNotFound, ValidationFailed (bad or too long range).
    """
    require_authenticated(actor)
    check_range(start, end)
    with unit_of_work() as uow:
        schedule = _load(uow.session, schedule_id)
        model = engine(uow.session, schedule, start, end)
        final = model.final(start, end)
        per_layer = model.layer_shifts(start, end)
        names = _names(uow.session, [*final, *(s for v in per_layer.values() for s in v)])
        return Timeline(
            schedule_id=schedule_id,
            time_zone=schedule.time_zone,
            start=start,
            end=end,
            layers=[
                LayerRow(
                    layer_id=layer.spec.key,
                    name=layer.spec.name,
                    priority=layer.spec.priority,
                    shifts=[shift_out(s, names) for s in per_layer[layer.spec.key]],
                )
                for layer in model.layers
            ],
            final=[shift_out(s, names) for s in final],
            gaps=[GapOut(start=g.start, end=g.end) for g in complement(final, start, end)],
        )


def final_shifts(actor: Actor, schedule_id: int, start: datetime, end: datetime) -> list[ShiftOut]:
    """The final schedule in ``[start, end)`` (at most 93 days).

    Raises:
        Unauthenticated, ScheduleNotFound, ValidationFailed.
    """
    require_authenticated(actor)
    check_range(start, end)
    with unit_of_work() as uow:
        schedule = _load(uow.session, schedule_id)
        final = engine(uow.session, schedule, start, end).final(start, end)
        names = _names(uow.session, final)
        return [shift_out(s, names) for s in final]


def _oncall(session: Session, schedule: Schedule, at: datetime) -> OnCallOut:
    assert schedule.id is not None
    lo, hi = at - SHIFT_CONTEXT, at + SHIFT_CONTEXT
    final = engine(session, schedule, lo, hi).final(lo, hi)
    current = next((s for s in final if s.start <= at < s.end), None)
    names = _names(session, [current] if current else [])
    return OnCallOut(
        schedule_id=schedule.id,
        schedule_name=schedule.name,
        team_id=schedule.team_id,
        at=at,
        shift=shift_out(current, names) if current else None,
    )


def oncall(actor: Actor, schedule_id: int, at: datetime | None = None) -> OnCallOut:
    """Who is on call in a schedule at ``at`` (default now), with that shift's bounds (looked
    for within 31 days either side).

    Raises:
        Unauthenticated, ScheduleNotFound, ValidationFailed (naive ``at``).
    """
    require_authenticated(actor)
    at = _instant(at)
    with unit_of_work() as uow:
        return _oncall(uow.session, _load(uow.session, schedule_id), at)


def oncall_for_team(actor: Actor, team_id: int, at: datetime | None = None) -> list[OnCallOut]:
    """Who is on call in each of a team's schedules.

    Raises:
        Unauthenticated, TeamNotFound, ValidationFailed (naive ``at``).
    """
    require_authenticated(actor)
    at = _instant(at)
    with unit_of_work() as uow:
        if team_queries.team_by_id(uow.session, team_id) is None:
            raise TeamNotFound(f"Team {team_id} does not exist.")
        team_schedules = queries.schedules(uow.session, team_id=team_id)
        return [_oncall(uow.session, s, at) for s in team_schedules]


def oncall_for_user(actor: Actor, user_id: int, at: datetime | None = None) -> list[OnCallOut]:
    """The schedules in which ``user_id`` is on call at ``at`` (default now).

    Raises:
        Unauthenticated, ValidationFailed (naive ``at``).
    """
    require_authenticated(actor)
    at = _instant(at)
    with unit_of_work() as uow:
        answers = [_oncall(uow.session, s, at) for s in queries.schedules(uow.session)]
        return [a for a in answers if a.shift is not None and a.shift.user_id == user_id]


def oncall_everywhere(actor: Actor, at: datetime | None = None) -> list[OnCallOut]:
    """Who is on call in every schedule at ``at`` (default now).

    Raises:
        Unauthenticated, ValidationFailed (naive ``at``).
    """
    require_authenticated(actor)
    at = _instant(at)
    with unit_of_work() as uow:
        return [_oncall(uow.session, s, at) for s in queries.schedules(uow.session)]


def _instant(at: datetime | None) -> datetime:
    if at is None:
        return clock.now()
    if at.tzinfo is None:
        raise ValidationFailed.field("at", "give a time zone offset (e.g. Z)", loc_prefix="query")
    return clock.as_utc(at)
