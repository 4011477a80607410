"""Tables of acting from anywhere (NOTIF-05): e-mail magic links and posted Slack messages."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel

from backend.core import clock
from backend.core.db import UTCDateTime


class Action(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


class ActionLink(SQLModel, table=True):
    """A single-use link that acknowledges or resolves one incident as one user.

    Only the SHA-256 of the token is stored; ``used_at`` is set by a compare-and-set, so two
    clicks racing each other act once."""

    __tablename__ = "action_link"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    incident_id: int = Field(foreign_key="incident.id", index=True, ondelete="CASCADE")
    action: str = Field(max_length=16)  # acknowledge | resolve
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class SlackMessage(SQLModel, table=True):
    """Where a page was posted in Slack (channel + ts), so it can be updated (``chat.update``)
    when the incident is acknowledged or resolved."""

    __tablename__ = "slack_message"

    id: int | None = Field(default=None, primary_key=True)
    notification_id: int | None = Field(
        default=None, foreign_key="notification.id", unique=True, ondelete="SET NULL"
    )
    incident_id: int = Field(foreign_key="incident.id", index=True, ondelete="CASCADE")
    channel: str = Field(max_length=64)
    ts: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
