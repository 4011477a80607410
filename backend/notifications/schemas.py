"""Notification DTOs: contact methods, rules, the delivery log and the outbox."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from backend.notifications.models import ChannelKind, NotificationStatus, Urgency


class ContactMethodIn(BaseModel):
    kind: ChannelKind
    # ≤ 320 except a browser subscription's JSON (checked by the service).
    address: str = Field(min_length=1, max_length=1024)
    label: str = Field(default="", max_length=80)


class ContactMethodOut(BaseModel):
    id: int
    user_id: int
    kind: ChannelKind
    address: str
    label: str
    verified: bool
    verified_at: datetime | None
    verification_pending: bool


class RuleIn(BaseModel):
    urgency: Urgency
    channel: ChannelKind | None = None
    contact_method_id: int | None = None
    delay_minutes: int = Field(default=0, ge=0, le=1440)


class RuleStepIn(BaseModel):
    """One step of ``PUT /api/v1/users/{id}/notification-rules/{urgency}`` (the urgency is in
    the path)."""

    channel: ChannelKind | None = None
    contact_method_id: int | None = None
    delay_minutes: int = Field(default=0, ge=0, le=1440)

    def for_urgency(self, urgency: Urgency) -> RuleIn:
        return RuleIn(urgency=urgency, **self.model_dump())


class VerificationCodeIn(BaseModel):
    code: str = Field(min_length=1, max_length=16)


class RuleOut(BaseModel):
    id: int | None  # None: a default (the user has no rules for this urgency)
    urgency: Urgency
    channel: ChannelKind | None
    contact_method_id: int | None
    delay_minutes: int
    position: int


class QuietHoursIn(BaseModel):
    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")  # "22:00", user's local time
    end: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")


class AttemptOut(BaseModel):
    attempt: int
    provider: str
    status: NotificationStatus
    duration_ms: int
    response: str
    at: datetime


class NotificationOut(BaseModel):
    id: int
    purpose: str
    incident_id: int | None
    page_request_id: int | None
    user_id: int
    user_name: str
    channel: ChannelKind
    address: str
    provider: str
    status: NotificationStatus
    attempts: int
    next_attempt_at: datetime | None
    last_error: str
    created_at: datetime
    finished_at: datetime | None
    attempt_log: list[AttemptOut]


class OutboxMessageOut(BaseModel):
    id: int
    channel: ChannelKind
    to: str
    subject: str
    body: str
    notification_id: int | None
    created_at: datetime


class ProviderHealthOut(BaseModel):
    name: str
    state: str  # closed | open | half_open
    consecutive_failures: int
    opened_at: datetime | None
    last_error: str
    last_success_at: datetime | None


class VapidPublicKeyOut(BaseModel):
    # urlsafe base64 (no padding) of the uncompressed P-256 point: PushManager.subscribe's
    # applicationServerKey.
    public_key: str
