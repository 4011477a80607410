"""A minimal incident record: what alert grouping needs. The incidents issue grows it.

At most one OPEN/ACKNOWLEDGED incident per (service, dedup key), enforced by a unique partial
index, so concurrent alert storms cannot open duplicates (DESIGN.md: dedup by the database).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, String, text
from sqlmodel import Field, SQLModel

from backend.core import clock
from backend.core.db import StrEnumType, UTCDateTime


class Severity(StrEnum):
    CRITICAL = "CRITICAL"
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"
    INFO = "INFO"


SEVERITY_RANK: dict[Severity, int] = {
    Severity.CRITICAL: 5,
    Severity.HIGH: 4,
    Severity.MEDIUM: 3,
    Severity.LOW: 2,
    Severity.INFO: 1,
}


class IncidentStatus(StrEnum):
    OPEN = "OPEN"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"


ACTIVE_STATUSES = (IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED)
# The partial index's predicate, shared with INSERT … ON CONFLICT so both engines infer it.
ACTIVE_PREDICATE = "status IN ('OPEN', 'ACKNOWLEDGED')"


class Incident(SQLModel, table=True):
    __tablename__ = "incident"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(sa_column=Column(String(500), nullable=False))
    severity: Severity = Field(sa_column=Column(StrEnumType(Severity), nullable=False))
    status: IncidentStatus = Field(
        sa_column=Column(StrEnumType(IncidentStatus), nullable=False, index=True)
    )
    # RESTRICT: an incident is history; a service with incidents is not deleted under it.
    service_id: int = Field(foreign_key="service.id", index=True, ondelete="RESTRICT")
    dedup_key: str = Field(sa_column=Column(String(255), nullable=False))
    alert_count: int = Field(default=0)
    # Opened while the service was in a maintenance window: recorded, never paged.
    in_maintenance: bool = Field(default=False)
    opened_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, index=True)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_alert_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)

    __table_args__ = (
        Index(
            "uq_incident_active_dedup",
            "service_id",
            "dedup_key",
            unique=True,
            sqlite_where=text(ACTIVE_PREDICATE),
            postgresql_where=text(ACTIVE_PREDICATE),
        ),
    )
