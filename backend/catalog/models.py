"""The service catalogue: services owned by teams, and the dependencies between them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Index, String, text
from sqlmodel import Field, SQLModel

from backend.core import clock
from backend.core.db import UTCDateTime


class Service(SQLModel, table=True):
    __tablename__ = "service"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(120), unique=True, nullable=False))
    slug: str = Field(sa_column=Column(String(120), unique=True, nullable=False))
    description: str = Field(default="", max_length=2000)
    # Nullable: the platform triage service may have no owning team.
    team_id: int | None = Field(
        default=None, foreign_key="team.id", index=True, ondelete="RESTRICT"
    )
    # SET NULL: deleting a policy leaves the service on its team's default policy.
    escalation_policy_id: int | None = Field(
        default=None, foreign_key="escalation_policy.id", index=True, ondelete="SET NULL"
    )
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # [{"title": "Runbook", "url": "https://…"}]
    links: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    # Exactly one service is the platform triage service: where unroutable alerts go.
    is_triage: bool = Field(default=False)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)

    __table_args__ = (
        # At most one triage service (a partial unique index works on SQLite and PostgreSQL).
        Index(
            "uq_service_one_triage",
            "is_triage",
            unique=True,
            sqlite_where=text("is_triage"),
            postgresql_where=text("is_triage"),
        ),
    )


class ServiceDependency(SQLModel, table=True):
    """``service_id`` depends on ``depends_on_id``: when the latter breaks, the former suffers."""

    __tablename__ = "service_dependency"

    service_id: int = Field(foreign_key="service.id", primary_key=True, ondelete="CASCADE")
    depends_on_id: int = Field(foreign_key="service.id", primary_key=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)

    __table_args__ = (CheckConstraint("service_id <> depends_on_id", name="no_self_dependency"),)
