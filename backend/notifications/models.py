"""Notification tables: contact methods, rules, planned deliveries, attempts, the outbox.

A page request (``backend/escalation``) becomes one ``Notification`` per (rule step, verified
contact method); each is delivered by its own job and every try is a ``DeliveryAttempt``.
Due work lives here (``status`` + ``next_attempt_at``), so the sweeper can re-send what a
lost message or a crashed worker left behind (DESIGN.md: due work lives in the database).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.core import clock
from backend.core.db import StrEnumType, UTCDateTime

# Room for a browser's PushSubscription JSON (web push); other addresses stay ≤ 320 (service).
ADDRESS_LENGTH = 1024


class ChannelKind(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    VOICE = "voice"
    PUSH = "push"
    SLACK = "slack"
    TEAMS = "teams"  # a Microsoft Teams Workflows webhook URL (ADR 0008)
    WEB_PUSH = "web_push"  # a browser PushSubscription (JSON), sent with VAPID


# How people name each channel in sentences ("e-mail and Slack to Ann failed").
CHANNEL_LABELS = {
    "email": "e-mail",
    "sms": "SMS",
    "voice": "voice",
    "push": "push",
    "slack": "Slack",
    "teams": "Microsoft Teams",
    "web_push": "browser push",
}


class Urgency(StrEnum):
    HIGH = "high"
    LOW = "low"


class NotificationStatus(StrEnum):
    QUEUED = "queued"  # due at next_attempt_at (first try or a retry)
    SENDING = "sending"  # claimed by a worker until next_attempt_at (a lease)
    SENT = "sent"  # the provider accepted it
    DELIVERED = "delivered"  # the provider confirmed delivery (the outbox stores it at once)
    FAILED = "failed"  # every attempt failed, or a permanent error
    SKIPPED = "skipped"  # the incident was acknowledged or resolved before it went out


class NotificationPurpose(StrEnum):
    PAGE = "page"
    VERIFICATION = "verification"
    CRITICAL = "critical"  # to the platform admins: a page's e-mail and SMS both failed


class ContactMethod(SQLModel, table=True):
    __tablename__ = "contact_method"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "address", name="uq_contact_method_user_id_kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    kind: ChannelKind = Field(sa_column=Column(StrEnumType(ChannelKind, 16), nullable=False))
    address: str = Field(sa_column=Column(String(ADDRESS_LENGTH), nullable=False))
    label: str = Field(default="", max_length=80)
    verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # HMAC-SHA256 of the 6-digit code under the secret key; never the code itself.
    verification_hash: str | None = Field(default=None, sa_column=Column(String(64)))
    verification_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    verification_tries: int = Field(default=0)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class NotificationRule(SQLModel, table=True):
    """One step of a user's rules: notify by ``channel`` (or one contact method) after
    ``delay_minutes`` for pages of ``urgency``. A user without rules for an urgency gets the
    defaults of ``backend.notifications.rules.DEFAULT_RULES``."""

    __tablename__ = "notification_rule"
    __table_args__ = (Index("ix_notification_rule_user_id_urgency", "user_id", "urgency"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE")
    urgency: Urgency = Field(sa_column=Column(StrEnumType(Urgency, 8), nullable=False))
    # Either a channel (every verified method of that kind) or one contact method.
    channel: ChannelKind | None = Field(
        default=None, sa_column=Column(StrEnumType(ChannelKind, 16), nullable=True)
    )
    contact_method_id: int | None = Field(
        default=None, foreign_key="contact_method.id", ondelete="CASCADE"
    )
    delay_minutes: int = Field(default=0)
    position: int = Field(default=0)


class QuietHours(SQLModel, table=True):
    """A user's quiet hours (local time of ``user_account.time_zone``): low-urgency
    notifications due inside them wait until they end. High urgency ignores them."""

    __tablename__ = "notification_quiet_hours"

    user_id: int = Field(foreign_key="user_account.id", primary_key=True, ondelete="CASCADE")
    start_minute: int  # minutes after local midnight, e.g. 22:00 → 1320
    end_minute: int  # may be before start (overnight)


class Notification(SQLModel, table=True):
    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint(
            "page_request_id",
            "contact_method_id",
            "step",
            name="uq_notification_page_request_id_contact_method_id_step",
        ),
        Index("ix_notification_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    purpose: NotificationPurpose = Field(
        sa_column=Column(StrEnumType(NotificationPurpose, 16), nullable=False)
    )
    page_request_id: int | None = Field(
        default=None, foreign_key="page_request.id", ondelete="CASCADE"
    )
    incident_id: int | None = Field(
        default=None, foreign_key="incident.id", index=True, ondelete="CASCADE"
    )
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    contact_method_id: int | None = Field(
        default=None, foreign_key="contact_method.id", ondelete="SET NULL"
    )
    channel: ChannelKind = Field(sa_column=Column(StrEnumType(ChannelKind, 16), nullable=False))
    # The address as planned (a removed method leaves its history readable).
    address: str = Field(sa_column=Column(String(ADDRESS_LENGTH), nullable=False))
    step: int = Field(default=0)  # position of the rule step that planned it
    provider: str = Field(default="", max_length=32)
    status: NotificationStatus = Field(
        default=NotificationStatus.QUEUED,
        sa_column=Column(StrEnumType(NotificationStatus, 16), nullable=False),
    )
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Set by the sweeper when it re-sends the row: not re-sent again before this (a delivery
    # merely queued behind a backlog would otherwise be duplicated every sweep). Cleared by a
    # claim.
    resend_after: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str = Field(default="", sa_column=Column(String(500), nullable=False))
    # Verification messages only: the text, Fernet-encrypted (it holds the code).
    sealed_body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DeliveryAttempt(SQLModel, table=True):
    """One try at one notification: what the provider answered (never credentials)."""

    __tablename__ = "delivery_attempt"
    __table_args__ = (
        UniqueConstraint(
            "notification_id", "attempt", name="uq_delivery_attempt_notification_id_attempt"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    notification_id: int = Field(foreign_key="notification.id", ondelete="CASCADE")
    attempt: int
    provider: str = Field(max_length=32)
    status: NotificationStatus = Field(
        sa_column=Column(StrEnumType(NotificationStatus, 16), nullable=False)
    )
    duration_ms: int = Field(default=0)
    response: str = Field(default="", sa_column=Column(String(500), nullable=False))
    at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class OutboxMessage(SQLModel, table=True):
    """What the embedded default provider "sent": every channel lands here and on a page."""

    __tablename__ = "outbox_message"

    id: int | None = Field(default=None, primary_key=True)
    channel: ChannelKind = Field(sa_column=Column(StrEnumType(ChannelKind, 16), nullable=False))
    to: str = Field(sa_column=Column(String(ADDRESS_LENGTH), nullable=False, index=True))
    subject: str = Field(default="", sa_column=Column(String(300), nullable=False))
    body: str = Field(default="", sa_column=Column(Text, nullable=False))
    notification_id: int | None = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, index=True)


class ProviderHealth(SQLModel, table=True):
    """The circuit breaker of one provider (NOTIF-04), shared by every worker: open after
    ``breaker_failures`` consecutive retryable failures, half-open ``breaker_open_seconds``
    later (the next call is the trial: success closes it, failure opens it again)."""

    __tablename__ = "provider_health"

    name: str = Field(primary_key=True, max_length=32)
    consecutive_failures: int = Field(default=0)
    opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str = Field(default="", sa_column=Column(String(500), nullable=False))
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
