"""Incident tables: the incident itself, its timeline and users' saved list filters.

At most one OPEN/ACKNOWLEDGED incident per (service, dedup key), enforced by a unique partial
index, so concurrent alert storms cannot open duplicates (DESIGN.md: dedup by the database).

Escalation state lives on the incident row (DESIGN.md: due work lives in the database): the
policy snapshot taken when it opened, the token that in-flight step messages must match, the
index of the next step and when it is due. Redis only carries the step messages; the sweeper
re-sends any step that is past due (``backend/escalation/engine.py``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Integer, String, Text, UniqueConstraint, text
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


class Priority(StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"
    P5 = "P5"


class IncidentStatus(StrEnum):
    OPEN = "OPEN"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"


class EscalationState(StrEnum):
    NONE = "none"  # never escalated: opened in maintenance, or no policy anywhere
    ACTIVE = "active"  # a step is due at next_escalation_at
    STOPPED = "stopped"  # acknowledged or resolved
    EXHAUSTED = "exhausted"  # every level fired the configured number of times


ACTIVE_STATUSES = (IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED)
# Advisory-lock namespace of "an alert is joining / the incident is leaving the active
# statuses" (ADR 0011): joiners take it shared, a resolve exclusively. The ingest function
# (migration 0012) has the same literal.
INCIDENT_LOCK_NAMESPACE = 41_001
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
    # No alert count or last alert time here: both are derived from the incident's alerts
    # (queries.alert_tallies), so grouping never writes this row (ADR 0011).
    # Opened while the service was in a maintenance window: recorded, never paged.
    in_maintenance: bool = Field(default=False)
    opened_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, index=True)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    priority: Priority | None = Field(
        default=None, sa_column=Column(StrEnumType(Priority, 8), nullable=True)
    )
    # Free-form key/value details a responder adds ("customer": "acme", "region": "eu-1").
    details: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, default=dict)
    )
    # SET NULL: users are deactivated, not deleted; if one ever is, history keeps the labels.
    assignee_id: int | None = Field(
        default=None, foreign_key="user_account.id", index=True, ondelete="SET NULL"
    )
    acknowledged_by: str = Field(
        default="", sa_column=Column(String(320), nullable=False, default="")
    )
    resolved_by: str = Field(default="", sa_column=Column(String(320), nullable=False, default=""))
    resolution_note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # Columns added after ingestion existed carry Column defaults: grouping inserts rows with
    # core INSERTs, which skip the pydantic defaults.
    # --- escalation (written only by backend.escalation.engine) ---------------------------
    escalation_policy_id: int | None = Field(
        default=None, foreign_key="escalation_policy.id", ondelete="SET NULL"
    )
    escalation_snapshot: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )
    escalation_state: EscalationState = Field(
        default=EscalationState.NONE,
        sa_column=Column(
            StrEnumType(EscalationState, 16), nullable=False, default=EscalationState.NONE
        ),
    )
    # Step messages carry this token; a step whose token differs does nothing. Cleared on
    # acknowledge/resolve, replaced on "escalate now".
    escalation_token: str | None = Field(default=None, sa_column=Column(String(32)))
    escalation_step: int = Field(default=0, sa_column=Column(Integer, nullable=False, default=0))
    next_escalation_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    # Set by the sweeper when it re-sends the due step: it does not re-send it again before this
    # (a step merely queued behind a backlog would otherwise be duplicated every sweep).
    # Cleared whenever the step moves on or is re-armed.
    escalation_resend_after: datetime | None = Field(default=None, sa_type=UTCDateTime)

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


class IncidentEventKind(StrEnum):
    OPENED = "opened"
    ALERT = "alert"
    ESCALATION_STARTED = "escalation_started"
    NOT_ESCALATED = "not_escalated"
    PAGE_REQUESTED = "page_requested"
    NOBODY_TO_PAGE = "nobody_to_page"
    ESCALATED = "escalated"
    ESCALATION_EXHAUSTED = "escalation_exhausted"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    REASSIGNED = "reassigned"
    NOTE = "note"
    EDITED = "edited"
    # Written by backend.notifications: one line per delivered, failed or skipped page.
    NOTIFIED = "notified"
    NOTIFICATION_FAILED = "notification_failed"
    NOTIFICATION_SKIPPED = "notification_skipped"


class IncidentEvent(SQLModel, table=True):
    """One line of an incident's timeline, written by the service that made it happen."""

    __tablename__ = "incident_event"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", ondelete="CASCADE")
    at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    kind: IncidentEventKind = Field(
        sa_column=Column(StrEnumType(IncidentEventKind), nullable=False)
    )
    actor_label: str = Field(default="", sa_column=Column(String(320), nullable=False))
    actor_user_id: int | None = Field(default=None)
    summary: str = Field(default="", sa_column=Column(String(500), nullable=False))
    # Kind-specific data: {"alert_id": …}, {"user_id": …, "level": …}, note source and HTML.
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))

    __table_args__ = (Index("ix_incident_event_incident_id_id", "incident_id", "id"),)


class IncidentFilterPreset(SQLModel, table=True):
    """A user's named incident-list filter (the dashboard's saved presets)."""

    __tablename__ = "incident_filter_preset"
    __table_args__ = (
        UniqueConstraint("user_id", "name", name="uq_incident_filter_preset_user_id_name"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE")
    name: str = Field(max_length=80)
    filters: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
