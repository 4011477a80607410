"""Reads for schedules, layers, overrides, swaps, feeds and calendar connections."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, col, select

from backend.identity.models import User
from backend.schedules.models import (
    CalendarConnection,
    CalendarFeed,
    ConnectionStatus,
    Schedule,
    ScheduleLayer,
    ScheduleOverride,
    ShiftSwap,
    SwapStatus,
)

IN_FORCE = (SwapStatus.ACCEPTED, SwapStatus.FORCED)


def schedule_by_id(session: Session, schedule_id: int) -> Schedule | None:
    return session.get(Schedule, schedule_id)


def schedules(session: Session, *, team_id: int | None = None) -> list[Schedule]:
    stmt = select(Schedule).order_by(col(Schedule.name), col(Schedule.id))
    if team_id is not None:
        stmt = stmt.where(Schedule.team_id == team_id)
    return list(session.exec(stmt))


def schedule_named(session: Session, team_id: int, name: str) -> Schedule | None:
    stmt = select(Schedule).where(Schedule.team_id == team_id, Schedule.name == name)
    return session.exec(stmt).first()


def layers(session: Session, schedule_id: int) -> list[ScheduleLayer]:
    stmt = (
        select(ScheduleLayer)
        .where(ScheduleLayer.schedule_id == schedule_id)
        .order_by(col(ScheduleLayer.priority).desc(), col(ScheduleLayer.id))
    )
    return list(session.exec(stmt))


def overrides(
    session: Session, schedule_id: int, start: datetime, end: datetime
) -> list[ScheduleOverride]:
    """Overrides overlapping ``[start, end)``, oldest first (the newest wins an overlap)."""
    stmt = (
        select(ScheduleOverride)
        .where(
            ScheduleOverride.schedule_id == schedule_id,
            col(ScheduleOverride.start_at) < end,
            col(ScheduleOverride.end_at) > start,
        )
        .order_by(col(ScheduleOverride.id))
    )
    return list(session.exec(stmt))


def swaps(
    session: Session,
    schedule_id: int,
    start: datetime,
    end: datetime,
    statuses: Iterable[SwapStatus] = IN_FORCE,
) -> list[ShiftSwap]:
    stmt = (
        select(ShiftSwap)
        .where(
            ShiftSwap.schedule_id == schedule_id,
            col(ShiftSwap.status).in_([s.value for s in statuses]),
            col(ShiftSwap.start_at) < end,
            col(ShiftSwap.end_at) > start,
        )
        .order_by(col(ShiftSwap.id))
    )
    return list(session.exec(stmt))


def swaps_of_schedule(session: Session, schedule_id: int) -> list[ShiftSwap]:
    stmt = (
        select(ShiftSwap)
        .where(ShiftSwap.schedule_id == schedule_id)
        .order_by(col(ShiftSwap.start_at), col(ShiftSwap.id))
    )
    return list(session.exec(stmt))


def user_names(session: Session, user_ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    stmt = select(User.id, User.name).where(col(User.id).in_(ids))
    return {uid: name for uid, name in session.exec(stmt) if uid is not None}


def feed_by_hash(session: Session, token_hash: str) -> CalendarFeed | None:
    return session.exec(select(CalendarFeed).where(CalendarFeed.token_hash == token_hash)).first()


def feeds_of(session: Session, user_id: int) -> list[CalendarFeed]:
    stmt = (
        select(CalendarFeed).where(CalendarFeed.user_id == user_id).order_by(col(CalendarFeed.id))
    )
    return list(session.exec(stmt))


def connections_of(session: Session, user_id: int) -> list[CalendarConnection]:
    stmt = (
        select(CalendarConnection)
        .where(CalendarConnection.user_id == user_id)
        .order_by(col(CalendarConnection.id))
    )
    return list(session.exec(stmt))


def connection_by_state(session: Session, state_hash: str) -> CalendarConnection | None:
    stmt = select(CalendarConnection).where(CalendarConnection.state_hash == state_hash)
    return session.exec(stmt).first()


def connected(session: Session) -> list[CalendarConnection]:
    stmt = (
        select(CalendarConnection)
        .where(CalendarConnection.status == ConnectionStatus.CONNECTED)
        .order_by(col(CalendarConnection.id))
    )
    return list(session.exec(stmt))
