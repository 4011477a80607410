"""The audit log: one row per state-changing action, written in the action's transaction."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from backend.core import clock
from backend.core.db import StrEnumType, UTCDateTime


class Severity(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, index=True)
    actor_type: str = Field(max_length=32)
    actor_id: int | None = Field(default=None, index=True)
    actor_label: str = Field(default="", max_length=320)
    action: str = Field(max_length=120, index=True)
    target_type: str = Field(default="", max_length=64)
    target_id: str | None = Field(default=None, max_length=64)
    target_label: str = Field(default="", max_length=320)
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=500)
    severity: Severity = Field(sa_column=Column(StrEnumType(Severity, 16), nullable=False))
    diff: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
