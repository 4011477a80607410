"""Teams and memberships. Teams are flat; tags group them organisationally and technically."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, String
from sqlmodel import Field, SQLModel

from backend.core import clock
from backend.core.db import StrEnumType, UTCDateTime


class TeamRole(StrEnum):
    OBSERVER = "OBSERVER"
    RESPONDER = "RESPONDER"
    TEAM_ADMIN = "TEAM_ADMIN"


class Team(SQLModel, table=True):
    __tablename__ = "team"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(120), unique=True, nullable=False))
    slug: str = Field(sa_column=Column(String(120), unique=True, nullable=False))
    description: str = Field(default="", max_length=2000)
    org_tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    tech_tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # USER-03: the contact-method kinds ("sms", "voice" …) a member needs verified to count
    # as "can be on call"; the paging preview and /notifications warn about the gaps.
    required_channels: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class TeamMembership(SQLModel, table=True):
    __tablename__ = "team_membership"

    team_id: int = Field(foreign_key="team.id", primary_key=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", primary_key=True, ondelete="CASCADE")
    role: TeamRole = Field(sa_column=Column(StrEnumType(TeamRole), nullable=False))
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
