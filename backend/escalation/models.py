"""Escalation tables: policies, their levels, and the page requests steps produce.

A level's targets are a JSON list (``[{"type": "user", "id": 3}, {"type": "schedule",
"id": 7}]``) rather than a child table, for the reason layer participants are
(``backend/schedules/models.py``): the list is always read and replaced whole with its level,
and the service checks every id against the team on each write.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Index, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from backend.core import clock
from backend.core.db import StrEnumType, UTCDateTime


class EscalationPolicy(SQLModel, table=True):
    __tablename__ = "escalation_policy"
    __table_args__ = (
        UniqueConstraint("team_id", "name", name="uq_escalation_policy_team_id_name"),
        CheckConstraint("repeat >= 0 AND repeat <= 9", name="repeat_range"),
        # Exactly one default per team is enforced here as "at most one"; the service makes
        # a team's first policy its default and refuses to unset the only default.
        Index(
            "uq_escalation_policy_one_default",
            "team_id",
            unique=True,
            sqlite_where=text("is_default"),
            postgresql_where=text("is_default"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=120)
    description: str = Field(default="", max_length=2000)
    repeat: int = Field(default=0)
    is_default: bool = Field(default=False)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class EscalationLevel(SQLModel, table=True):
    __tablename__ = "escalation_level"
    __table_args__ = (
        UniqueConstraint("policy_id", "position", name="uq_escalation_level_policy_id_position"),
        CheckConstraint("timeout_minutes >= 1 AND timeout_minutes <= 1440", name="timeout_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    policy_id: int = Field(foreign_key="escalation_policy.id", ondelete="CASCADE")
    position: int
    timeout_minutes: int = Field(default=30)
    targets: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )


class PageStatus(StrEnum):
    # Delivery (channels, attempts, "delivered"/"failed") arrives with the notifications issue.
    REQUESTED = "requested"


class PageRequest(SQLModel, table=True):
    """ "Page this user now": one per user per level firing. The notifications issue delivers
    them; until then they are the outbox. The unique key makes a step that runs twice (a
    duplicate message, a sweeper re-send) page nobody twice."""

    __tablename__ = "page_request"
    __table_args__ = (
        UniqueConstraint(
            "incident_id",
            "level",
            "repeat",
            "user_id",
            name="uq_page_request_incident_id_level_repeat_user_id",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    level: int  # 0-based position in the policy snapshot
    repeat: int  # 0 for the first pass through the chain
    # The schedule that put the user on call, when the target was a schedule.
    schedule_id: int | None = Field(default=None)
    status: PageStatus = Field(
        default=PageStatus.REQUESTED,
        sa_column=Column(StrEnumType(PageStatus, 16), nullable=False, index=True),
    )
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, index=True)
    reason: str = Field(default="", sa_column=Column(String(200), nullable=False))
