"""Schedule tables: schedules, layers, overrides, swaps, calendar feeds and connections.

Rotations are stored as their definition (participants, RRULE, handoff time, start date) and
computed on demand by :mod:`backend.schedules.rotation`; no shift is ever materialised.

Layer participants are an ordered JSON list of user ids rather than a child table: the order
*is* the rotation, the list is always read and replaced whole, it is never queried by member
in SQL, and the service checks every id against the team's members on each write. A child
table would add an ordering column, renumbering on every edit, and a join on every read of
the hot who-is-on-call path, for a foreign key we would still have to back with the team
membership check (users are deactivated, not deleted).
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.core import clock
from backend.core.db import StrEnumType, UTCDateTime


class SwapStatus(StrEnum):
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    FORCED = "forced"


class CalendarProvider(StrEnum):
    GOOGLE = "google"
    OUTLOOK = "outlook"


class ConnectionStatus(StrEnum):
    PENDING = "pending"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


class Schedule(SQLModel, table=True):
    __tablename__ = "schedule"
    __table_args__ = (UniqueConstraint("team_id", "name", name="uq_schedule_team_id_name"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=120)
    time_zone: str = Field(max_length=64)
    description: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class ScheduleLayer(SQLModel, table=True):
    __tablename__ = "schedule_layer"

    id: int | None = Field(default=None, primary_key=True)
    schedule_id: int = Field(foreign_key="schedule.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=120)
    priority: int = Field(default=0)
    participants: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    rrule: str = Field(max_length=200)
    handoff_time: time
    starts_on: date
    # [{"days": [0..6], "start": "HH:MM", "end": "HH:MM"}], in the schedule's zone.
    restrictions: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class ScheduleOverride(SQLModel, table=True):
    __tablename__ = "schedule_override"
    __table_args__ = (Index("ix_schedule_override_schedule_id_start", "schedule_id", "start_at"),)

    id: int | None = Field(default=None, primary_key=True)
    schedule_id: int = Field(foreign_key="schedule.id", ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    start_at: datetime = Field(sa_type=UTCDateTime)
    end_at: datetime = Field(sa_type=UTCDateTime)
    reason: str = Field(default="", max_length=500)
    created_by_label: str = Field(max_length=320)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class ShiftSwap(SQLModel, table=True):
    """``requester`` hands ``[start_at, end_at)`` of their layer time to ``counterpart``."""

    __tablename__ = "shift_swap"
    __table_args__ = (Index("ix_shift_swap_schedule_id_start", "schedule_id", "start_at"),)

    id: int | None = Field(default=None, primary_key=True)
    schedule_id: int = Field(foreign_key="schedule.id", ondelete="CASCADE")
    requester_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE")
    counterpart_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    start_at: datetime = Field(sa_type=UTCDateTime)
    end_at: datetime = Field(sa_type=UTCDateTime)
    status: SwapStatus = Field(sa_column=Column(StrEnumType(SwapStatus, 16), nullable=False))
    reason: str = Field(default="", max_length=500)
    decided_by_label: str | None = Field(default=None, max_length=320)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class CalendarFeed(SQLModel, table=True):
    """A secret iCalendar URL: one user's shifts (``schedule_id`` null) or one schedule's.

    Only the SHA-256 of the token is stored; revoking sets ``revoked_at``.
    """

    __tablename__ = "calendar_feed"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    schedule_id: int | None = Field(
        default=None, foreign_key="schedule.id", index=True, ondelete="CASCADE"
    )
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CalendarConnection(SQLModel, table=True):
    """One user's one-way sync into their Google or Outlook calendar.

    OAuth tokens are encrypted at rest (``backend.core.secretbox``): we must send them back to
    the provider, so a hash will not do. The pending OAuth ``state`` is stored as SHA-256.
    """

    __tablename__ = "calendar_connection"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    provider: CalendarProvider = Field(
        sa_column=Column(StrEnumType(CalendarProvider, 16), nullable=False)
    )
    status: ConnectionStatus = Field(
        sa_column=Column(StrEnumType(ConnectionStatus, 16), nullable=False)
    )
    state_hash: str | None = Field(default=None, max_length=64, index=True)
    access_token_enc: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    refresh_token_enc: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    token_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    calendar_id: str = Field(default="primary", max_length=320)
    # Provider event ids we created, so the next sync can delete them before recreating.
    event_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    last_synced_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
