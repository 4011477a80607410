"""Tables of alert ingestion: integrations, the delivery log, alerts, routing, monitors.

Deliveries and alerts use 64-bit ids on PostgreSQL (they grow fastest); SQLite keeps INTEGER
so the id stays its auto-incrementing rowid.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from backend.core import clock
from backend.core.db import StrEnumType, UTCDateTime
from backend.incidents.models import Severity

BigId = BigInteger().with_variant(Integer(), "sqlite")


class IntegrationType(StrEnum):
    GENERIC = "generic"
    ALERTMANAGER = "alertmanager"
    GRAFANA = "grafana"
    DATADOG = "datadog"
    NEWRELIC = "newrelic"
    CLOUDWATCH = "cloudwatch"
    PAGERDUTY = "pagerduty"


class DeliveryOutcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    REJECTED = "rejected"


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class AlertKind(StrEnum):
    # A resolve event is stored too (its raw payload is evidence), as kind RESOLVE.
    TRIGGER = "trigger"
    RESOLVE = "resolve"


class Integration(SQLModel, table=True):
    __tablename__ = "integration"

    id: int | None = Field(default=None, primary_key=True)
    # Public, non-secret: it names the integration in its URL.
    key: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    name: str = Field(sa_column=Column(String(120), nullable=False))
    type: IntegrationType = Field(sa_column=Column(StrEnumType(IntegrationType), nullable=False))
    # SET NULL: deleting a service must not delete its integrations; their alerts go to triage.
    service_id: int | None = Field(
        default=None, foreign_key="service.id", index=True, ondelete="SET NULL"
    )
    # SHA-256 for bearer/routing-key lookups; Fernet ciphertext because HMAC needs the secret.
    secret_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    secret_encrypted: str = Field(sa_column=Column(Text, nullable=False))
    previous_secret_hash: str | None = Field(
        default=None, sa_column=Column(String(64), index=True, nullable=True)
    )
    previous_secret_encrypted: str | None = Field(default=None, sa_column=Column(Text))
    previous_secret_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    dedup_window_seconds: int = Field(default=900)
    auto_resolve: bool = Field(default=True)
    enabled: bool = Field(default=True)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class InboundDelivery(SQLModel, table=True):
    """The delivery log: every request to a known integration, accepted or not (INT-03)."""

    __tablename__ = "ingest_delivery"

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    integration_id: int = Field(foreign_key="integration.id", ondelete="CASCADE")
    received_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    outcome: DeliveryOutcome = Field(sa_column=Column(StrEnumType(DeliveryOutcome), nullable=False))
    # An ErrorCode for rejections; "subscription_confirmation", "repeated", … otherwise.
    reason: str = Field(default="", sa_column=Column(String(64), nullable=False))
    detail: str = Field(default="", sa_column=Column(String(1000), nullable=False))
    http_status: int = Field(default=202)
    # Sanitised: no Authorization, signature, token or cookie header is ever stored.
    headers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    remote_ip: str = Field(default="", sa_column=Column(String(64), nullable=False))
    idempotency_key: str | None = Field(default=None, sa_column=Column(String(255)))
    fingerprint: str = Field(default="", sa_column=Column(String(64), nullable=False))
    body: str = Field(default="", sa_column=Column(Text, nullable=False))
    body_truncated: bool = Field(default=False)
    alert_count: int = Field(default=0)

    __table_args__ = (Index("ix_ingest_delivery_integration_id_id", "integration_id", "id"),)


class IdempotencyRecord(SQLModel, table=True):
    """One row per (integration, idempotency key): the primary key makes the claim atomic.

    ``key`` is ``"id:<sha256 of the caller's or provider's key>"`` or ``"fp:<body sha256>"``.
    An expired row is taken over in place (compare-and-set on ``expires_at``).
    """

    __tablename__ = "ingest_idempotency"

    integration_id: int = Field(foreign_key="integration.id", primary_key=True, ondelete="CASCADE")
    key: str = Field(sa_column=Column(String(80), primary_key=True))
    delivery_id: int = Field(
        sa_column=Column(BigId, ForeignKey("ingest_delivery.id", ondelete="CASCADE"))
    )
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


class Alert(SQLModel, table=True):
    __tablename__ = "alert"

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    integration_id: int | None = Field(
        default=None, foreign_key="integration.id", index=True, ondelete="SET NULL"
    )
    delivery_id: int | None = Field(
        default=None,
        sa_column=Column(BigId, ForeignKey("ingest_delivery.id", ondelete="SET NULL")),
    )
    service_id: int = Field(foreign_key="service.id", ondelete="RESTRICT")
    incident_id: int | None = Field(
        default=None, foreign_key="incident.id", index=True, ondelete="SET NULL"
    )
    kind: AlertKind = Field(sa_column=Column(StrEnumType(AlertKind), nullable=False))
    status: AlertStatus = Field(sa_column=Column(StrEnumType(AlertStatus), nullable=False))
    severity: Severity = Field(sa_column=Column(StrEnumType(Severity), nullable=False))
    dedup_key: str = Field(sa_column=Column(String(255), nullable=False))
    title: str = Field(sa_column=Column(String(500), nullable=False))
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    source: str = Field(default="", sa_column=Column(String(255), nullable=False))
    labels: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    links: list[dict[str, str]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    raw: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    received_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, index=True)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    __table_args__ = (
        Index("ix_alert_service_id_dedup_key_status", "service_id", "dedup_key", "status"),
    )


class RoutingRule(SQLModel, table=True):
    __tablename__ = "routing_rule"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(120), nullable=False))
    position: int = Field(default=100)
    # None: the rule applies to every integration.
    integration_id: int | None = Field(
        default=None, foreign_key="integration.id", index=True, ondelete="CASCADE"
    )
    # [{"label": "team", "op": "=", "value": "payments"}]; all must match.
    matchers: list[dict[str, str]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    target_service_id: int = Field(foreign_key="service.id", ondelete="CASCADE")
    enabled: bool = Field(default=True)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class HeartbeatStatus(StrEnum):
    PENDING = "pending"  # never checked in yet
    UP = "up"
    DOWN = "down"


class HeartbeatMonitor(SQLModel, table=True):
    __tablename__ = "heartbeat_monitor"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(120), nullable=False))
    service_id: int = Field(foreign_key="service.id", index=True, ondelete="CASCADE")
    # The check-in URL carries a secret token; only its SHA-256 is stored.
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    interval_seconds: int = Field(default=300)
    grace_seconds: int = Field(default=60)
    status: HeartbeatStatus = Field(
        default=HeartbeatStatus.PENDING,
        sa_column=Column(StrEnumType(HeartbeatStatus), nullable=False),
    )
    last_check_in_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The next moment a missing check-in counts as missed: last check-in + interval + grace.
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    enabled: bool = Field(default=True)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class MaintenanceWindow(SQLModel, table=True):
    __tablename__ = "maintenance_window"

    id: int | None = Field(default=None, primary_key=True)
    service_id: int = Field(foreign_key="service.id", ondelete="CASCADE")
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    reason: str = Field(default="", sa_column=Column(String(500), nullable=False))
    created_by: str = Field(default="", sa_column=Column(String(200), nullable=False))
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)

    __table_args__ = (Index("ix_maintenance_window_service_id_ends_at", "service_id", "ends_at"),)
